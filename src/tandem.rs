//! `Tandem`: the one object an app talks to, with OpenAI's
//! `chat.completions.create` (and `completions.create`, raw prompts) on top of the
//! engines.

use std::rc::Rc;

use js_sys::{Function, Promise};
use tandem_core::protocol::TextCompletion;
use tandem_core::ChatMessage;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::chunks;
use crate::code::Code;
use crate::dispatch::Engines;
use crate::embeddings::Embeddings;
use crate::error::{code, describe, js_error};
use crate::local::{call_hook, Local};
use crate::messages::{from_js, to_js, Warning};
use crate::model_cache;
use crate::options::{absolute, chat_request, completion_request, ChatCall, CreateOptions};
use crate::remote::Remote;
use crate::stream::ChunkStream;
use crate::tasks::Tasks;
use crate::text_stream::TextStream;

/// tandem: one OpenAI-shaped chat API over a model running in a worker and a server,
/// with a router choosing between them per request.
#[wasm_bindgen]
pub struct Tandem {
    engines: Rc<Engines>,
}

#[wasm_bindgen]
impl Tandem {
    /// Download (or read from cache), verify and load the local model in a worker,
    /// and set up the remote engine. Rejects with `model_download_failed`,
    /// `integrity_mismatch`, `model_invalid`, `out_of_memory`, `worker_crashed`,
    /// `aborted` or `invalid_request`; when a remote engine is configured, a failed
    /// local load is a warning (`local_unavailable`) and requests go to the server.
    pub async fn create(
        #[wasm_bindgen(unchecked_param_type = "TandemOptions")] options: JsValue,
    ) -> Result<Tandem, JsValue> {
        let options = CreateOptions::from_js(&options)?;
        let remote = options.remote.map(Remote::new);
        let on_warning = options.hooks.on_warning.clone();
        let local = match options.local {
            None => None,
            Some(spec) => {
                let local = Local::new(spec, options.hooks);
                match local.start(options.signal.as_ref()).await {
                    Ok(_) => {
                        local.warm_up_encoder().await;
                        Some(local)
                    }
                    Err(e) if remote.is_some() && code(&e) != Some(Code::Aborted) => {
                        local.unload();
                        let warning = Warning {
                            cause: code(&e),
                            ..Warning::new(
                                "local_unavailable",
                                format!(
                                    "the local model did not load ({}); requests go to the server",
                                    describe(&e)
                                ),
                            )
                        };
                        web_sys::console::warn_1(&format!("tandem: {}", warning.message).into());
                        call_hook(&on_warning, &to_js(&warning));
                        None
                    }
                    Err(e) => return Err(e),
                }
            }
        };
        Ok(Tandem {
            engines: Engines::new(local, remote, options.routing)?,
        })
    }

    /// OpenAI's `chat` namespace: `ai.chat.completions.create(request)`.
    #[wasm_bindgen(getter)]
    pub fn chat(&self) -> Chat {
        Chat {
            engines: self.engines.clone(),
        }
    }

    /// OpenAI's completions API: `ai.completions.create({prompt, …})` continues a raw
    /// prompt, no chat template (what a base model takes).
    #[wasm_bindgen(getter)]
    pub fn completions(&self) -> TextCompletions {
        TextCompletions {
            engines: self.engines.clone(),
        }
    }

    /// OpenAI's embeddings API: `ai.embeddings.create({input, …})` on the sentence
    /// encoder loaded with `options.local.embeddings`.
    #[wasm_bindgen(getter)]
    pub fn embeddings(&self) -> Embeddings {
        Embeddings::new(self.engines.clone())
    }

    /// Quick tasks: `ai.tasks.classify`, `summarize`, `rewrite`, `smartReplies`,
    /// `extract`.
    #[wasm_bindgen(getter)]
    pub fn tasks(&self) -> Tasks {
        Tasks::new(self.engines.clone())
    }

    /// Where `request` would run and why, without running it:
    /// `{target, reason, scores}`. Rejects with `no_route` when no engine may take it.
    #[wasm_bindgen(unchecked_return_type = "Promise<RouteDecision>")]
    pub fn route(
        &self,
        #[wasm_bindgen(unchecked_param_type = "TandemRequest")] request: JsValue,
    ) -> Promise {
        let engines = self.engines.clone();
        future_to_promise(async move {
            let call = chat_request(request)?;
            let options = engines.options(call.routing);
            Ok(to_js(&engines.decide(&call.request, &options).await?))
        })
    }

    /// Listen to tandem's events: `route` (detail: `{target, reason, scores,
    /// fallback?}`), sent before a request's first chunk and again on a fallback or
    /// an escalation.
    #[wasm_bindgen(js_name = addEventListener)]
    pub fn add_event_listener(&self, kind: &str, listener: &Function) -> Result<(), JsValue> {
        self.engines
            .events()
            .add_event_listener_with_callback(kind, listener)
    }

    /// Stop listening.
    #[wasm_bindgen(js_name = removeEventListener)]
    pub fn remove_event_listener(&self, kind: &str, listener: &Function) -> Result<(), JsValue> {
        self.engines
            .events()
            .remove_event_listener_with_callback(kind, listener)
    }

    /// Most tokens a conversation (prompt and reply) can hold on the local model
    /// (0 without one).
    #[wasm_bindgen(getter, js_name = contextWindow)]
    pub fn context_window(&self) -> usize {
        self.local()
            .and_then(|l| l.info())
            .map_or(0, |i| i.context_window)
    }

    /// The local model: `{model, contextWindow, fromCache, bytes, loadMs}`, or `null`.
    #[wasm_bindgen(getter, unchecked_return_type = "ModelInfo | null")]
    pub fn model(&self) -> JsValue {
        to_js(&self.local().and_then(|l| l.info()))
    }

    /// Prompt tokens of `messages` after the local model's chat template.
    #[wasm_bindgen(js_name = countTokens, unchecked_return_type = "Promise<number>")]
    pub fn count_tokens(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ChatMessage[]")] messages: JsValue,
    ) -> Promise {
        let local = self.local().filter(|l| l.info().is_some()).cloned();
        future_to_promise(async move {
            let local = local.ok_or_else(|| {
                js_error(
                    Code::NoRoute,
                    "there is no local chat model to count tokens with",
                )
            })?;
            let messages: Vec<ChatMessage> = from_js(messages)
                .map_err(|e| js_error(Code::InvalidRequest, &format!("invalid messages: {e}")))?;
            local.count_tokens(messages).await
        })
    }

    /// Stop the worker and free the model's memory. Local requests in flight reject
    /// with `aborted`; later ones with `invalid_request`.
    pub fn unload(&self) {
        if let Some(local) = self.local() {
            local.unload();
        }
    }

    /// The models in the browser's cache: `[{url, sha256, bytes}]`.
    #[wasm_bindgen(unchecked_return_type = "CachedModel[]")]
    pub async fn cached() -> Result<JsValue, JsValue> {
        Ok(to_js(&model_cache::cached().await?))
    }

    /// Remove the model downloaded from `url` from the cache; whether it was there.
    pub async fn evict(url: String) -> Result<bool, JsValue> {
        model_cache::evict(&absolute(&url)?).await
    }
}

impl Tandem {
    fn local(&self) -> Option<&Rc<Local>> {
        self.engines.local()
    }
}

/// `ai.chat`.
#[wasm_bindgen]
pub struct Chat {
    engines: Rc<Engines>,
}

#[wasm_bindgen]
impl Chat {
    /// `ai.chat.completions`.
    #[wasm_bindgen(getter)]
    pub fn completions(&self) -> Completions {
        Completions {
            engines: self.engines.clone(),
        }
    }
}

/// `ai.chat.completions`.
#[wasm_bindgen]
pub struct Completions {
    engines: Rc<Engines>,
}

#[wasm_bindgen]
impl Completions {
    /// Answer an OpenAI chat request where the router says. With `stream: true`,
    /// resolves to an async iterator of chunks; otherwise to the whole
    /// `ChatCompletion`. `signal` (an `AbortSignal`) aborts it: the promise or the
    /// iterator rejects with `aborted`. `route`, `privacy`, `escalate` and `task`
    /// steer the router for this request.
    #[wasm_bindgen(unchecked_return_type = "Promise<ChatCompletion | ChunkStream>")]
    pub fn create(
        &self,
        #[wasm_bindgen(unchecked_param_type = "TandemRequest")] request: JsValue,
    ) -> Promise {
        let engines = self.engines.clone();
        future_to_promise(async move {
            let call = chat_request(request)?;
            let stream = call.request.is_stream();
            let channel = run(&engines, call).await?;
            if stream {
                return Ok(ChunkStream::iterable(channel));
            }
            Ok(to_js(&chunks::completion(&channel).await?))
        })
    }
}

/// `ai.completions`.
#[wasm_bindgen]
pub struct TextCompletions {
    engines: Rc<Engines>,
}

#[wasm_bindgen]
impl TextCompletions {
    /// Continue a raw prompt (OpenAI's completions API: `prompt`, `max_tokens`
    /// (default 16), `temperature`, `stop`, `logprobs`…) where the router says. With
    /// `stream: true`, resolves to an async iterator of `TextCompletion` chunks;
    /// otherwise to the whole `TextCompletion`. `signal`, `route` and `privacy` as in
    /// `chat.completions.create`. The server must be tandem-server (it takes the raw
    /// prompt as an extension of its chat endpoint).
    #[wasm_bindgen(unchecked_return_type = "Promise<TextCompletion | TextStream>")]
    pub fn create(
        &self,
        #[wasm_bindgen(unchecked_param_type = "TandemCompletionRequest")] request: JsValue,
    ) -> Promise {
        let engines = self.engines.clone();
        future_to_promise(async move {
            let call = completion_request(request)?;
            let stream = call.request.is_stream();
            let channel = run(&engines, call).await?;
            if stream {
                return Ok(TextStream::iterable(channel));
            }
            let whole = chunks::completion(&channel).await?;
            Ok(to_js(&TextCompletion::from_completion(whole)))
        })
    }
}

/// Run a parsed request where the router says: its chunks.
async fn run(engines: &Rc<Engines>, call: ChatCall) -> Result<Rc<crate::stream::Channel>, JsValue> {
    let options = engines.options(call.routing);
    engines.chat(call.request, options, call.signal).await
}
