//! The model's own chat template (`tokenizer.chat_template`, Jinja) rendered with minijinja.

use minijinja::value::Serde;
use minijinja::{Environment, Error as JinjaError, ErrorKind, Value};
use serde_json::Map;

use crate::error::{Error, Result};
use crate::gguf::Gguf;
use crate::protocol::ChatMessage;

const TEMPLATE_NAME: &str = "chat";

/// The tag that opens a tool call in Hermes-style templates (Qwen's).
const HERMES_OPENING: &str = "<tool_call>";

/// A compiled chat template.
pub struct ChatTemplate {
    env: Environment<'static>,
    bos_token: String,
    eos_token: String,
    tool_opening: Option<&'static str>,
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
        let tool_opening =
            (source.contains("tools") && source.contains(HERMES_OPENING)).then_some(HERMES_OPENING);
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
            tool_opening,
        })
    }

    /// The text that opens a tool call, when the template renders `tools` and its
    /// calls in a format tandem knows (Hermes-style: `<tool_call>` then
    /// `{"name": …, "arguments": …}`); `None`: the model cannot call tools here.
    pub fn tool_opening(&self) -> Option<&'static str> {
        self.tool_opening
    }

    /// Render `messages`; with `add_generation_prompt` the text ends where the
    /// assistant's reply begins.
    pub fn render(&self, messages: &[ChatMessage], add_generation_prompt: bool) -> Result<String> {
        self.render_with(messages, add_generation_prompt, &Map::new())
    }

    /// [`ChatTemplate::render`] with extra template variables (`chat_template_kwargs`,
    /// e.g. Qwen3's `enable_thinking`); the messages and special tokens win over a
    /// variable of the same name.
    pub fn render_with(
        &self,
        messages: &[ChatMessage],
        add_generation_prompt: bool,
        kwargs: &Map<String, serde_json::Value>,
    ) -> Result<String> {
        if messages.is_empty() {
            return Err(Error::InvalidRequest("messages must not be empty".into()));
        }
        let template = self
            .env
            .get_template(TEMPLATE_NAME)
            .map_err(|e| Error::Template(e.to_string()))?;
        let mut context = kwargs.clone();
        let messages =
            serde_json::to_value(messages).map_err(|e| Error::Template(e.to_string()))?;
        context.insert("messages".into(), messages);
        context.insert("add_generation_prompt".into(), add_generation_prompt.into());
        context.insert("bos_token".into(), self.bos_token.clone().into());
        context.insert("eos_token".into(), self.eos_token.clone().into());
        template
            .render(Value::from(Serde(context)))
            .map_err(|e| Error::Template(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Role;

    #[test]
    fn kwargs_reach_the_template_and_never_replace_the_messages() {
        let template = ChatTemplate::new(
            "{% if enable_thinking is defined and not enable_thinking %}<no_think>{% endif %}\
             {{ messages[0].content }}"
                .into(),
            String::new(),
            String::new(),
        )
        .unwrap();
        let messages = [ChatMessage::new(Role::User, "hi")];
        assert_eq!(template.render(&messages, true).unwrap(), "hi");
        let kwargs: Map<String, serde_json::Value> =
            serde_json::from_str(r#"{"enable_thinking": false, "messages": []}"#).unwrap();
        assert_eq!(
            template.render_with(&messages, true, &kwargs).unwrap(),
            "<no_think>hi"
        );
    }
}
