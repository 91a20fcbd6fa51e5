//! Answering a chat request: the router's decision, announced, then the chosen engine
//! with fallback, or the cascade when the request asks to escalate.

use std::rc::Rc;

use tandem_core::router::Target;
use tandem_core::ChatCompletionRequest;
use wasm_bindgen::JsValue;
use web_sys::AbortSignal;

use super::report::{announce, Report};
use super::Engines;
use crate::options::RouteOptions;
use crate::stream::Channel;

impl Engines {
    /// Answer `request` where the router says, with fallback and cascade; the chunks
    /// come in the returned channel. `signal` aborts it wherever it runs.
    pub async fn chat(
        self: &Rc<Self>,
        request: ChatCompletionRequest,
        options: RouteOptions,
        signal: Option<AbortSignal>,
    ) -> Result<Rc<Channel>, JsValue> {
        let report = self.route(&request, &options).await?;
        self.answer(report, request, &options, signal.as_ref())
            .await
    }

    /// The router's decision for `request`, announced in a `route` event, as the
    /// start of its report (timed from now).
    pub(super) async fn route(
        &self,
        request: &ChatCompletionRequest,
        options: &RouteOptions,
    ) -> Result<Report, JsValue> {
        let requested_at = js_sys::Date::now();
        let decision = self.decide(request, options).await?;
        announce(&self.events, &decision, None);
        Ok(Report::new(decision, requested_at))
    }

    /// Run `request` as `report`'s decision says: on its engine, falling back to the
    /// other, or through the cascade.
    pub(super) async fn answer(
        self: &Rc<Self>,
        report: Report,
        request: ChatCompletionRequest,
        options: &RouteOptions,
        signal: Option<&AbortSignal>,
    ) -> Result<Rc<Channel>, JsValue> {
        if options.escalate && report.decision.target == Target::Local {
            return self.cascade(request, report, &options.policy, signal).await;
        }
        let (report, started) = self
            .start_or_fall_back(report, &request, &request, &options.policy, signal)
            .await?;
        Ok(self.relay(started, report, signal, false))
    }
}
