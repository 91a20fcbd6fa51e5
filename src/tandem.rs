//! `Tandem`: the one object an app talks to, with OpenAI's
//! `chat.completions.create` on top of the local engine.

use std::rc::Rc;

use js_sys::Promise;
use tandem_core::protocol::CompletionBuilder;
use tandem_core::{ChatCompletionChunk, ChatMessage};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::error::js_error;
use crate::loader;
use crate::local::Local;
use crate::messages::{from_js, to_js};
use crate::options::{absolute, chat_request, CreateOptions};
use crate::stream::ChunkStream;

/// tandem: one OpenAI-shaped chat API over a model running in a worker.
#[wasm_bindgen]
pub struct Tandem {
    local: Rc<Local>,
}

#[wasm_bindgen]
impl Tandem {
    /// Download (or read from cache), verify and load the model in a worker.
    /// Rejects with `model_download_failed`, `integrity_mismatch`, `model_invalid`,
    /// `out_of_memory`, `worker_crashed`, `aborted` or `invalid_request`.
    pub async fn create(
        #[wasm_bindgen(unchecked_param_type = "TandemOptions")] options: JsValue,
    ) -> Result<Tandem, JsValue> {
        let options = CreateOptions::from_js(&options)?;
        let local = Local::new(options.local, options.hooks);
        local.start(options.signal.as_ref()).await?;
        Ok(Tandem { local })
    }

    /// OpenAI's `chat` namespace: `ai.chat.completions.create(request)`.
    #[wasm_bindgen(getter)]
    pub fn chat(&self) -> Chat {
        Chat {
            local: self.local.clone(),
        }
    }

    /// Most tokens a conversation (prompt and reply) can hold.
    #[wasm_bindgen(getter, js_name = contextWindow)]
    pub fn context_window(&self) -> usize {
        self.local.info().map_or(0, |i| i.context_window)
    }

    /// The local model: `{model, contextWindow, fromCache, bytes, loadMs}`.
    #[wasm_bindgen(getter, unchecked_return_type = "ModelInfo")]
    pub fn model(&self) -> JsValue {
        to_js(&self.local.info())
    }

    /// Prompt tokens of `messages` after the model's chat template.
    #[wasm_bindgen(js_name = countTokens, unchecked_return_type = "Promise<number>")]
    pub fn count_tokens(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ChatMessage[]")] messages: JsValue,
    ) -> Promise {
        let local = self.local.clone();
        future_to_promise(async move {
            let messages: Vec<ChatMessage> = from_js(messages)
                .map_err(|e| js_error("invalid_request", &format!("invalid messages: {e}")))?;
            local.count_tokens(messages).await
        })
    }

    /// Stop the worker and free the model's memory. Requests in flight reject with
    /// `aborted`; later ones with `invalid_request`.
    pub fn unload(&self) {
        self.local.unload();
    }

    /// The models in the browser's cache: `[{url, sha256, bytes}]`.
    #[wasm_bindgen(unchecked_return_type = "CachedModel[]")]
    pub async fn cached() -> Result<JsValue, JsValue> {
        Ok(to_js(&loader::cached().await?))
    }

    /// Remove the model downloaded from `url` from the cache; whether it was there.
    pub async fn evict(url: String) -> Result<bool, JsValue> {
        loader::evict(&absolute(&url)?).await
    }
}

/// `ai.chat`.
#[wasm_bindgen]
pub struct Chat {
    local: Rc<Local>,
}

#[wasm_bindgen]
impl Chat {
    /// `ai.chat.completions`.
    #[wasm_bindgen(getter)]
    pub fn completions(&self) -> Completions {
        Completions {
            local: self.local.clone(),
        }
    }
}

/// `ai.chat.completions`.
#[wasm_bindgen]
pub struct Completions {
    local: Rc<Local>,
}

#[wasm_bindgen]
impl Completions {
    /// Answer an OpenAI chat request. With `stream: true`, resolves to an async
    /// iterator of chunks; otherwise to the whole `ChatCompletion`. `signal` (an
    /// `AbortSignal`) aborts it: the promise or the iterator rejects with `aborted`.
    #[wasm_bindgen(unchecked_return_type = "Promise<ChatCompletion | ChunkStream>")]
    pub fn create(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ChatCompletionRequest & { signal?: AbortSignal }")]
        request: JsValue,
    ) -> Promise {
        let local = self.local.clone();
        future_to_promise(async move {
            let (request, signal) = chat_request(request)?;
            let stream = request.is_stream();
            let channel = local.chat(request, signal).await?;
            if stream {
                return Ok(ChunkStream::iterable(channel));
            }
            let mut completion = CompletionBuilder::default();
            while let Some(chunk) = channel.next_chunk().await? {
                let chunk: ChatCompletionChunk = from_js(chunk)
                    .map_err(|e| js_error("internal", &format!("unreadable chunk: {e}")))?;
                completion.push(chunk);
            }
            let completion = completion
                .finish()
                .ok_or_else(|| js_error("internal", "the reply had no chunks"))?;
            Ok(to_js(&completion))
        })
    }
}
