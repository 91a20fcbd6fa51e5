//! `ai.embeddings.create`: OpenAI's embeddings API on the worker's sentence encoder,
//! with tandem's `route` object (where, why, how long) on the response.

use std::rc::Rc;

use js_sys::{Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::code::Code;
use crate::dispatch::Engines;
use crate::error::js_error;
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

/// What the `tandem` object of an embeddings response says.
#[derive(serde::Serialize)]
#[serde(rename_all = "snake_case")]
struct Route {
    route: &'static str,
    model: String,
    reason: &'static str,
    duration_ms: f64,
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
            let local = engines
                .local()
                .filter(|local| local.info().is_some_and(|i| i.embeddings.is_some()))
                .ok_or_else(|| {
                    js_error(
                        Code::NoRoute,
                        "no sentence encoder is loaded: give options.local.embeddings \
                         ({modelUrl}) to Tandem.create",
                    )
                })?
                .clone();
            let started = js_sys::Date::now();
            let response = local.embed(call.request, call.signal.as_ref()).await?;
            let route = Route {
                route: "local",
                model: Reflect::get(&response, &"model".into())?
                    .as_string()
                    .unwrap_or_default(),
                reason: "embeddings run on the local encoder",
                duration_ms: js_sys::Date::now() - started,
            };
            Reflect::set(&response, &"tandem".into(), &to_js(&route))?;
            Ok(response)
        })
    }
}
