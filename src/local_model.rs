//! `LocalModel`: a model running in the current JS thread, and `ReplyStream`, one
//! reply made a step at a time so the caller stays in control. The worker runs its
//! model through these; pages and tests may use them directly too.

use std::cell::RefCell;
use std::rc::Rc;

use tandem_core::{
    CancelFlag, ChatCompletionChunk, ChatCompletionRequest, ChatMessage, Engine, ModelDescription,
    Reply, ReplyStep,
};
use wasm_bindgen::prelude::*;

use crate::code::Code;
use crate::error::{js_error, Failure};
use crate::messages::{from_js, to_js, LabelScore};

/// A GGUF model loaded from bytes, running in this thread.
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
        Self::load(bytes).map_err(Failure::into_js)
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

    /// Prompt tokens of `messages` after the model's chat template.
    #[wasm_bindgen(js_name = countTokens)]
    pub fn count_tokens(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ChatMessage[]")] messages: JsValue,
    ) -> Result<usize, JsValue> {
        let messages: Vec<ChatMessage> = from_js(messages)
            .map_err(|e| js_error(Code::InvalidRequest, &format!("invalid messages: {e}")))?;
        self.count(&messages).map_err(Failure::into_js)
    }

    /// Start a reply to an OpenAI chat request (`stream` is ignored: call `next()`).
    /// Nothing runs until the first `next()`.
    pub fn reply(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ChatCompletionRequest")] request: JsValue,
    ) -> Result<ReplyStream, JsValue> {
        let request: ChatCompletionRequest = from_js(request)
            .map_err(|e| js_error(Code::InvalidRequest, &format!("invalid request: {e}")))?;
        self.start(&request, CancelFlag::default())
            .map_err(Failure::into_js)
    }
}

impl LocalModel {
    /// Load a model from the bytes of a GGUF file.
    pub fn load(bytes: &[u8]) -> Result<Self, Failure> {
        Ok(Self::from_engine(Engine::load(bytes)?))
    }

    /// The model of a loaded engine.
    pub fn from_engine(engine: Engine) -> Self {
        LocalModel {
            engine: Rc::new(RefCell::new(engine)),
        }
    }

    /// The model's family, size and quantisation mix.
    pub fn description(&self) -> ModelDescription {
        self.engine.borrow().description().clone()
    }

    /// Prompt tokens of `messages`.
    pub fn count(&self, messages: &[ChatMessage]) -> Result<usize, Failure> {
        Ok(self.engine.borrow().chat_prompt(messages)?.len())
    }

    /// `labels` ranked for `text`, best first (calibrated label scoring).
    pub fn classify(&self, text: &str, labels: &[String]) -> Result<Vec<LabelScore>, Failure> {
        let ranked = self.engine.borrow_mut().classify_text(text, labels)?;
        Ok(ranked
            .into_iter()
            .map(|(label, probability)| LabelScore { label, probability })
            .collect())
    }

    /// Start a reply that stops at its next step once `cancel` is set.
    pub fn start(
        &self,
        request: &ChatCompletionRequest,
        cancel: CancelFlag,
    ) -> Result<ReplyStream, Failure> {
        let id = format!(
            "chatcmpl-{:012x}",
            (js_sys::Math::random() * 2f64.powi(48)) as u64
        );
        let created = (js_sys::Date::now() / 1000.0) as u64;
        let clock = Box::new(js_sys::Date::now);
        let reply = Reply::new(
            &self.engine.borrow(),
            request,
            id,
            created,
            "local",
            cancel.clone(),
            clock,
        )?;
        Ok(ReplyStream {
            engine: self.engine.clone(),
            reply,
            cancel,
        })
    }
}

/// One reply being made.
#[wasm_bindgen]
pub struct ReplyStream {
    engine: Rc<RefCell<Engine>>,
    reply: Reply,
    cancel: CancelFlag,
}

#[wasm_bindgen]
impl ReplyStream {
    /// The next chunk (`ChatCompletionChunk`), or `undefined` after the last one.
    /// Throws an `Error` with `code` `aborted` after `cancel()`.
    #[allow(clippy::should_implement_trait)]
    #[wasm_bindgen(unchecked_return_type = "ChatCompletionChunk | undefined")]
    pub fn next(&mut self) -> Result<JsValue, JsValue> {
        match self.next_chunk() {
            Ok(chunk) => Ok(chunk.map_or(JsValue::UNDEFINED, |c| to_js(&c))),
            Err(e) => Err(e.into_js()),
        }
    }

    /// Stop before the next step; the next `next()` throws `aborted`.
    pub fn cancel(&self) {
        self.cancel.cancel();
    }
}

impl ReplyStream {
    /// One step: a chunk, some work with nothing to send, or `None` at the end.
    pub fn step(&mut self) -> Result<Option<ReplyStep>, Failure> {
        match self.reply.next_step(&mut self.engine.borrow_mut()) {
            None => Ok(None),
            Some(Ok(step)) => Ok(Some(step)),
            Some(Err(e)) => Err(e.into()),
        }
    }

    /// The next chunk, skipping steps with nothing to send.
    fn next_chunk(&mut self) -> Result<Option<ChatCompletionChunk>, Failure> {
        loop {
            match self.step()? {
                Some(ReplyStep::Chunk(chunk)) => return Ok(Some(chunk)),
                Some(ReplyStep::Working) => continue,
                None => return Ok(None),
            }
        }
    }
}
