//! `LocalModel`: the model running in this JS thread, and `ReplyStream`, one reply
//! generated a token per `next()` call so the caller stays in control (and can stop).

use std::cell::RefCell;
use std::rc::Rc;

use serde::Serialize;
use tandem_core::{CancelFlag, ChatMessage, Engine, Event, Generation, Usage};
use wasm_bindgen::prelude::*;

use crate::error::{from_core, js_error};
use crate::options::Options;

/// A GGUF model loaded from bytes.
#[wasm_bindgen]
pub struct LocalModel {
    engine: Rc<RefCell<Engine>>,
}

#[wasm_bindgen]
impl LocalModel {
    /// Load a model from the bytes of a GGUF file. Throws an `Error` with `code`
    /// `model_invalid` or `unsupported_model` for a bad file.
    #[wasm_bindgen(constructor)]
    pub fn new(bytes: &[u8]) -> Result<LocalModel, JsValue> {
        let engine = Engine::load(bytes).map_err(from_core)?;
        Ok(LocalModel {
            engine: Rc::new(RefCell::new(engine)),
        })
    }

    /// The model's name from its metadata.
    #[wasm_bindgen(getter)]
    pub fn name(&self) -> String {
        self.engine.borrow().name().to_string()
    }

    /// Most tokens a conversation (prompt and reply) can hold.
    #[wasm_bindgen(getter, js_name = contextWindow)]
    pub fn context_window(&self) -> usize {
        self.engine.borrow().context_window()
    }

    /// Token ids of `messages` after the model's chat template.
    #[wasm_bindgen(js_name = promptIds)]
    pub fn prompt_ids(&self, messages: JsValue) -> Result<Vec<u32>, JsValue> {
        let messages = parse_messages(messages)?;
        self.engine
            .borrow()
            .chat_prompt(&messages)
            .map_err(from_core)
    }

    /// Start a reply to `messages` (`[{role, content}]`) with OpenAI-style `options`.
    /// Nothing runs until the first `next()`.
    pub fn stream(&self, messages: JsValue, options: JsValue) -> Result<ReplyStream, JsValue> {
        let messages = parse_messages(messages)?;
        let options: Options = if options.is_undefined() || options.is_null() {
            Options::default()
        } else {
            // Through a JSON value, so that unknown fields are seen and rejected.
            serde_wasm_bindgen::from_value::<serde_json::Value>(options)
                .map_err(|e| e.to_string())
                .and_then(|v| serde_json::from_value(v).map_err(|e| e.to_string()))
                .map_err(|e| js_error("invalid_request", &format!("invalid options: {e}")))?
        };
        let params = options
            .into_params()
            .map_err(|m| js_error("invalid_request", &m))?;
        let engine = self.engine.borrow();
        let prompt = engine.chat_prompt(&messages).map_err(from_core)?;
        let prompt_tokens = prompt.len();
        let cancel = CancelFlag::default();
        let generation = engine
            .generate(prompt, params, cancel.clone())
            .map_err(from_core)?;
        Ok(ReplyStream {
            engine: self.engine.clone(),
            generation,
            cancel,
            clock: Clock::start(prompt_tokens),
        })
    }
}

fn parse_messages(messages: JsValue) -> Result<Vec<ChatMessage>, JsValue> {
    serde_wasm_bindgen::from_value(messages).map_err(|e| {
        js_error(
            "invalid_request",
            &format!("messages must be [{{role, content}}] with role system|user|assistant: {e}"),
        )
    })
}

/// One reply being generated.
#[wasm_bindgen]
pub struct ReplyStream {
    engine: Rc<RefCell<Engine>>,
    generation: Generation,
    cancel: CancelFlag,
    clock: Clock,
}

/// What `ReplyStream.next()` returns.
#[derive(Serialize)]
#[serde(untagged)]
enum Step {
    Token {
        done: bool,
        token: u32,
        logprob: f32,
        text: String,
    },
    Done {
        done: bool,
        text: String,
        finish_reason: tandem_core::FinishReason,
        usage: Usage,
        timings: Timings,
    },
}

#[wasm_bindgen]
impl ReplyStream {
    /// Generate one token (the first call also reads the prompt). Returns
    /// `{done: false, token, logprob, text}` per token, then once
    /// `{done: true, text, finish_reason, usage, timings}`, then `undefined`.
    /// Throws an `Error` with `code` `aborted` after `cancel()`.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<JsValue, JsValue> {
        let mut engine = self.engine.borrow_mut();
        let step = match self.generation.next_event(&mut engine) {
            None => return Ok(JsValue::UNDEFINED),
            Some(Err(e)) => return Err(from_core(e)),
            Some(Ok(Event::Prefill { .. })) => return Ok(JsValue::NULL),
            Some(Ok(Event::Token {
                id, logprob, text, ..
            })) => {
                self.clock.token();
                Step::Token {
                    done: false,
                    token: id,
                    logprob,
                    text,
                }
            }
            Some(Ok(Event::Done {
                text,
                finish_reason,
                usage,
            })) => Step::Done {
                done: true,
                text,
                finish_reason,
                usage,
                timings: self.clock.timings(usage.completion_tokens),
            },
        };
        step.serialize(&serde_wasm_bindgen::Serializer::json_compatible())
            .map_err(|e| js_error("internal", &e.to_string()))
    }

    /// Stop before the next token; the next `next()` throws `aborted`.
    pub fn cancel(&self) {
        self.cancel.cancel();
    }
}

/// Speeds of one reply, measured here with the JS clock.
#[derive(Serialize, Clone, Copy)]
struct Timings {
    time_to_first_token_ms: f64,
    prefill_tokens_per_s: f64,
    decode_tokens_per_s: f64,
}

struct Clock {
    prompt_tokens: usize,
    started: f64,
    first_token: Option<f64>,
    last_token: f64,
}

impl Clock {
    fn start(prompt_tokens: usize) -> Self {
        let now = js_sys::Date::now();
        Clock {
            prompt_tokens,
            started: now,
            first_token: None,
            last_token: now,
        }
    }

    fn token(&mut self) {
        let now = js_sys::Date::now();
        self.first_token.get_or_insert(now);
        self.last_token = now;
    }

    fn timings(&self, completion_tokens: usize) -> Timings {
        let first = self.first_token.unwrap_or(self.last_token);
        let ttft = first - self.started;
        let decode_ms = self.last_token - first;
        let per_s = |n: usize, ms: f64| {
            if ms > 0.0 {
                n as f64 * 1000.0 / ms
            } else {
                0.0
            }
        };
        Timings {
            time_to_first_token_ms: ttft,
            prefill_tokens_per_s: per_s(self.prompt_tokens, ttft),
            decode_tokens_per_s: per_s(completion_tokens.saturating_sub(1), decode_ms),
        }
    }
}
