//! The model's own chat template (`tokenizer.chat_template`, Jinja) rendered with minijinja.

use minijinja::value::Serde;
use minijinja::{Environment, Error as JinjaError, ErrorKind, Value};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::gguf::Gguf;
use crate::protocol::ChatMessage;

const TEMPLATE_NAME: &str = "chat";

/// A compiled chat template.
pub struct ChatTemplate {
    env: Environment<'static>,
    bos_token: String,
    eos_token: String,
}

#[derive(Serialize)]
struct Context<'a> {
    messages: &'a [ChatMessage],
    add_generation_prompt: bool,
    bos_token: &'a str,
    eos_token: &'a str,
}

impl ChatTemplate {
    /// Compile the template in the GGUF metadata.
    pub fn from_gguf(gguf: &Gguf) -> Result<Self> {
        let source = gguf.str("tokenizer.chat_template")?.to_string();
        let tokens = gguf.strings("tokenizer.ggml.tokens")?;
        let token = |key: &str| -> Result<String> {
            if !gguf.has(key) {
                return Ok(String::new());
            }
            Ok(tokens
                .get(gguf.usize(key)?)
                .map(|t| t.to_string())
                .unwrap_or_default())
        };
        Self::new(
            source,
            token("tokenizer.ggml.bos_token_id")?,
            token("tokenizer.ggml.eos_token_id")?,
        )
    }

    /// Compile `source` with the given BOS and EOS token strings.
    pub fn new(source: String, bos_token: String, eos_token: String) -> Result<Self> {
        let mut env = Environment::new();
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        env.add_function(
            "raise_exception",
            |msg: String| -> std::result::Result<String, JinjaError> {
                Err(JinjaError::new(ErrorKind::InvalidOperation, msg))
            },
        );
        env.add_template_owned(TEMPLATE_NAME, source)
            .map_err(|e| Error::Template(e.to_string()))?;
        Ok(ChatTemplate {
            env,
            bos_token,
            eos_token,
        })
    }

    /// Render `messages`; with `add_generation_prompt` the text ends where the
    /// assistant's reply begins.
    pub fn render(&self, messages: &[ChatMessage], add_generation_prompt: bool) -> Result<String> {
        if messages.is_empty() {
            return Err(Error::InvalidRequest("messages must not be empty".into()));
        }
        let template = self
            .env
            .get_template(TEMPLATE_NAME)
            .map_err(|e| Error::Template(e.to_string()))?;
        template
            .render(Value::from(Serde(Context {
                messages,
                add_generation_prompt,
                bos_token: &self.bos_token,
                eos_token: &self.eos_token,
            })))
            .map_err(|e| Error::Template(e.to_string()))
    }
}
