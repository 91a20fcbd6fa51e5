//! The engine: one loaded model with its tokenizer and, for a chat model, its chat
//! template (a base model has none: it takes raw prompts only).

use std::sync::OnceLock;

use serde_json::Map;

use crate::description::ModelDescription;
use crate::error::{Error, Result};
use crate::model::Model;
use crate::protocol::ChatMessage;
use crate::structured::TokenTrie;
use crate::template::ChatTemplate;
use crate::tokenizer::Tokenizer;

/// A GGUF model ready to chat (or, without a chat template, to continue raw
/// prompts).
pub struct Engine {
    model: Model,
    tokenizer: Tokenizer,
    /// The chat template; a base model has none.
    template: Option<ChatTemplate>,
    name: String,
    description: ModelDescription,
    /// The vocabulary as a trie for constrained decoding, built on first use.
    token_trie: OnceLock<TokenTrie>,
}

impl Engine {
    /// The engine of `model`, with what its file's header says.
    pub(crate) fn new(
        model: Model,
        tokenizer: Tokenizer,
        template: Option<ChatTemplate>,
        name: String,
        description: ModelDescription,
    ) -> Self {
        Engine {
            model,
            tokenizer,
            template,
            name,
            description,
            token_trie: OnceLock::new(),
        }
    }

    /// The model's name from its metadata.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The model's family, size and quantisation mix.
    pub fn description(&self) -> &ModelDescription {
        &self.description
    }

    /// The chat template; `invalid_request` for a base model, which has none.
    pub fn template(&self) -> Result<&ChatTemplate> {
        self.template.as_ref().ok_or_else(|| {
            Error::InvalidRequest(format!(
                "{} is a base model without a chat template: send it a raw prompt \
                 (the completions API) instead of chat messages",
                self.name
            ))
        })
    }

    /// The tokenizer.
    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }

    /// The vocabulary ordered for constrained decoding (built on first use).
    pub fn token_trie(&self) -> &TokenTrie {
        self.token_trie
            .get_or_init(|| TokenTrie::new(&self.tokenizer))
    }

    /// The model.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The model, for direct use of its logits.
    pub fn model_mut(&mut self) -> &mut Model {
        &mut self.model
    }

    /// Most tokens one conversation (prompt and reply) can hold.
    pub fn context_window(&self) -> usize {
        self.model.context_window()
    }

    /// Token ids of a raw prompt, as llama.cpp's completions take it: special tokens
    /// written in the text are parsed, BOS is added when the model's metadata asks.
    pub fn raw_prompt(&self, text: &str) -> Vec<u32> {
        self.tokenizer.encode_prompt(text)
    }

    /// Token ids of `messages` rendered by the model's chat template, ready for the
    /// assistant's reply.
    pub fn chat_prompt(&self, messages: &[ChatMessage]) -> Result<Vec<u32>> {
        self.chat_prompt_with(messages, &Map::new())
    }

    /// [`Engine::chat_prompt`] with extra template variables (`chat_template_kwargs`).
    pub fn chat_prompt_with(
        &self,
        messages: &[ChatMessage],
        kwargs: &Map<String, serde_json::Value>,
    ) -> Result<Vec<u32>> {
        let text = self.template()?.render_with(messages, true, kwargs)?;
        Ok(self.tokenizer.encode_prompt(&text))
    }
}
