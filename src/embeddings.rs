//! `ai.embeddings.create`: OpenAI's embeddings API on the worker's sentence encoder,
//! with tandem's `route` object (where, why, how long) on the response.

use std::rc::Rc;

use js_sys::{Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::code::Code;
use crate::dispatch::Engines;
use crate::error::js_error;
use crate::local::Local;
use crate::messages::to_js;
use crate::options::embedding_request;

/// OpenAI's `embeddings` namespace.
#[wasm_bindgen]
pub struct Embeddings {
    engines: Rc<Engines>,
}

impl Embeddings {
    /// The namespace over `engines`.
    pub fn new(engines: Rc<Engines>) -> Self {
        Embeddings { engines }
    }
}

/// The local engine when it has a sentence encoder; `no_route` otherwise.
pub fn local_encoder(engines: &Engines) -> Result<Rc<Local>, JsValue> {
    engines
        .local()
        .filter(|local| local.info().is_some_and(|i| i.embeddings.is_some()))
        .cloned()
        .ok_or_else(|| {
            js_error(
                Code::NoRoute,
                "no sentence encoder is loaded: give options.local.embeddings \
                 ({modelUrl}) to Tandem.create",
            )
        })
}

/// The `tandem` object of an answer made by the local encoder `model` since
/// `started` (ms).
pub fn route(model: &str, started: f64) -> JsValue {
    to_js(&serde_json::json!({
        "route": "local",
        "model": model,
        "reason": "embeddings run on the local encoder",
        "duration_ms": js_sys::Date::now() - started,
    }))
}

#[wasm_bindgen]
impl Embeddings {
    /// The embeddings of `request.input` (a string or an array of strings):
    /// `{object: "list", data: [{object: "embedding", index, embedding}], model,
    /// usage, tandem}`. `dimensions` shortens the vectors (unit length again),
    /// `encoding_format: "base64"` writes them as base64 of little-endian f32,
    /// `truncate: true` cuts inputs longer than the encoder's window (otherwise
    /// `invalid_request`), `signal` aborts.
    #[wasm_bindgen(unchecked_return_type = "Promise<EmbeddingResponse>")]
    pub fn create(
        &self,
        #[wasm_bindgen(unchecked_param_type = "EmbeddingRequest")] request: JsValue,
    ) -> Promise {
        let engines = self.engines.clone();
        future_to_promise(async move {
            let call = embedding_request(request)?;
            let local = local_encoder(&engines)?;
            let started = js_sys::Date::now();
            let response = local.embed(call.request, call.signal.as_ref()).await?;
            let model = Reflect::get(&response, &"model".into())?;
            let tandem = route(&model.as_string().unwrap_or_default(), started);
            Reflect::set(&response, &"tandem".into(), &tandem)?;
            Ok(response)
        })
    }
}
