//! Embeddings where the router says ([`decide_embeddings`]: the local encoder by
//! default, the server when asked or without one), falling back to the other side
//! when the first is unreachable or its worker is gone, and saying all of it in a
//! `route` event and the answer's `tandem` object.

use js_sys::Reflect;
use tandem_core::protocol::EmbeddingRequest;
use tandem_core::router::{
    decide_embeddings, embedding_fallback, EmbeddingEnv, EmbeddingRoute, Target,
};
use wasm_bindgen::JsValue;
use web_sys::AbortSignal;

use super::report::announce;
use super::Engines;
use crate::code::Code;
use crate::error::{code, core_error, describe, js_error};
use crate::messages::to_js;
use crate::options::RouteFields;

impl Engines {
    /// The embeddings of `request` (OpenAI's response) with `tandem: {route, model,
    /// reason, fallback?, duration_ms}`.
    pub async fn embed(
        &self,
        request: &EmbeddingRequest,
        routing: RouteFields,
        signal: Option<&AbortSignal>,
    ) -> Result<JsValue, JsValue> {
        let started = js_sys::Date::now();
        let policy = self.options(routing).policy;
        let encoder = self.local().and_then(|l| l.encoder());
        let env = EmbeddingEnv {
            local: encoder.as_ref().map(|e| e.model.as_str()),
            remote: self.remote.as_ref().map(|_| self.remote_reachable(&policy)),
            model: request.model.as_deref(),
        };
        let route = decide_embeddings(&env, &policy).map_err(|e| core_error(&e))?;
        announce(&self.events, &route, None);
        let (route, fallback, answer) = match self.embed_on(route.target, request, signal).await {
            Ok(answer) => (route, None, answer),
            Err(error) => {
                let why = describe(&error);
                let next = (may_fall_back(&error))
                    .then(|| embedding_fallback(&route, &env, &policy, &why))
                    .flatten()
                    .ok_or(error)?;
                announce(&self.events, &next, Some(&why));
                let answer = self.embed_on(next.target, request, signal).await?;
                (next, Some(why), answer)
            }
        };
        Reflect::set(
            &answer,
            &"tandem".into(),
            &report(&answer, &route, fallback, started),
        )?;
        Ok(answer)
    }

    /// The embeddings of `request` on `target` alone.
    async fn embed_on(
        &self,
        target: Target,
        request: &EmbeddingRequest,
        signal: Option<&AbortSignal>,
    ) -> Result<JsValue, JsValue> {
        let missing = || js_error(Code::NoRoute, &format!("no {target} engine is configured"));
        match target {
            Target::Local => {
                let local = self.local().ok_or_else(missing)?;
                local.embed(request.clone(), signal).await
            }
            Target::Remote => {
                let remote = self.remote.as_ref().ok_or_else(missing)?;
                (remote.embed(request, signal).await).map_err(|e| self.remote_failed(e))
            }
        }
    }
}

/// Whether the other side may try after `error`: when this side could not be
/// reached or run, not when the request itself is wrong or was aborted.
fn may_fall_back(error: &JsValue) -> bool {
    matches!(
        code(error),
        Some(Code::RemoteUnavailable | Code::WorkerCrashed | Code::OutOfMemory)
    )
}

/// The `tandem` object of `answer`, made on `route` since `started` (ms).
fn report(
    answer: &JsValue,
    route: &EmbeddingRoute,
    fallback: Option<String>,
    started: f64,
) -> JsValue {
    let model = Reflect::get(answer, &"model".into()).unwrap_or_default();
    let mut report = serde_json::json!({
        "route": route.target,
        "model": model.as_string().unwrap_or_default(),
        "reason": route.reason,
        "duration_ms": js_sys::Date::now() - started,
    });
    if let Some(why) = fallback {
        report["fallback"] = why.into();
    }
    to_js(&report)
}
