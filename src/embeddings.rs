//! `ai.embeddings.create`: OpenAI's embeddings API on the worker's sentence encoder
//! or the server, with tandem's `route` object (where, why, how long) on the
//! response.

use std::rc::Rc;

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::dispatch::Engines;
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

#[wasm_bindgen]
impl Embeddings {
    /// The embeddings of `request.input` (a string or an array of strings) where the
    /// router says (the local encoder unless `route`, `privacy` or `model` say
    /// otherwise): `{object: "list", data: [{object: "embedding", index, embedding}],
    /// model, usage, tandem}`. `dimensions` shortens the vectors (unit length again),
    /// `encoding_format: "base64"` writes them as base64 of little-endian f32,
    /// `truncate: true` cuts inputs longer than the encoder's window (otherwise
    /// `invalid_request`), `signal` aborts.
    #[wasm_bindgen(unchecked_return_type = "Promise<TandemEmbeddingResponse>")]
    pub fn create(
        &self,
        #[wasm_bindgen(unchecked_param_type = "TandemEmbeddingRequest")] request: JsValue,
    ) -> Promise {
        let engines = self.engines.clone();
        future_to_promise(async move {
            let call = embedding_request(request)?;
            (engines.embed(&call.request, call.routing, call.signal.as_ref())).await
        })
    }

    /// The local sentence encoder: `{model, dimensions, window, fromCache, bytes,
    /// loadMs}`, or `null` without one.
    #[wasm_bindgen(getter, unchecked_return_type = "EncoderInfo | null")]
    pub fn model(&self) -> JsValue {
        to_js(&self.engines.local().and_then(|l| l.encoder()))
    }
}
