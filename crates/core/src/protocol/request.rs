//! The OpenAI chat-completion request, as every layer of tandem receives it.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::{tools, ChatMessage, ResponseFormat, Tool, ToolChoice};
use crate::error::{Error, Result};

/// Most alternatives `top_logprobs` may ask for (OpenAI's limit).
pub const MAX_TOP_LOGPROBS: usize = 20;

/// An OpenAI chat-completion request (`POST /v1/chat/completions`). Unknown fields are
/// an error (`invalid_request`), never ignored.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatCompletionRequest {
    /// Model id; the local engine answers with its own model whatever this says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The conversation so far.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional, as = "Option<Vec<ChatMessage>>"))]
    pub messages: Vec<ChatMessage>,
    /// Instead of `messages`: a raw prompt, continued as it is, no chat template (what
    /// the completions API sends; a base model takes only this). A tandem extension.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    /// Most tokens to generate (legacy name of `max_completion_tokens`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<usize>,
    /// Most tokens to generate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_completion_tokens: Option<usize>,
    /// 0 is greedy, up to 2; default 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    /// Nucleus sampling mass, (0, 1]; default 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f32>,
    /// Keep the k most likely tokens (0 = all); not in OpenAI, common elsewhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_k: Option<usize>,
    /// Same seed, same output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// One string or up to four that end the reply (never part of it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<Stop>,
    /// -2..=2, per earlier occurrence of a token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency_penalty: Option<f32>,
    /// -2..=2, once a token occurred.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence_penalty: Option<f32>,
    /// llama.cpp-style repetition penalty (1 = off); a tandem extension.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repetition_penalty: Option<f32>,
    /// Token id (as a string) → bias in -100..=100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(type = "Record<string, number>"))]
    pub logit_bias: Option<HashMap<String, f32>>,
    /// Return the log-probability of each generated token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logprobs: Option<bool>,
    /// With `logprobs`, also the 0..=20 most likely tokens at each step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_logprobs: Option<usize>,
    /// Stream chunks instead of one response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    /// Streaming options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_options: Option<StreamOptions>,
    /// Number of choices; only 1 is supported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(type = "1"))]
    pub n: Option<usize>,
    /// The app's id for its end user (passed upstream, otherwise unused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Keep generating past end-of-turn tokens; a tandem extension for benchmarks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_eos: Option<bool>,
    /// The shape of the reply: text, any JSON object, or JSON matching a schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_format: Option<ResponseFormat>,
    /// Functions the model may call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<Tool>>,
    /// Whether and which function the model must call (with `tools`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ToolChoice>,
    /// Whether the model may call several tools in one reply (passed upstream; the
    /// local engine makes one call).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallel_tool_calls: Option<bool>,
    /// Extra variables for the model's chat template (vLLM's field), e.g.
    /// `{"enable_thinking": false}` for Qwen3; passed on to OpenAI-compatible servers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(type = "Record<string, unknown>"))]
    pub chat_template_kwargs: Option<serde_json::Map<String, serde_json::Value>>,
}

/// OpenAI accepts one stop string or a list.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Stop {
    /// A single stop string.
    One(String),
    /// Several stop strings.
    Many(Vec<String>),
}

impl Stop {
    /// The stop strings, one or several.
    pub fn strings(&self) -> &[String] {
        match self {
            Stop::One(s) => std::slice::from_ref(s),
            Stop::Many(v) => v,
        }
    }
}

/// `stream_options` of a streaming request.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamOptions {
    /// Send a last chunk with `usage` and no choices.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional, as = "Option<bool>"))]
    pub include_usage: bool,
}

impl ChatCompletionRequest {
    /// A request for a reply to `messages` with default options.
    pub fn new(messages: Vec<ChatMessage>) -> Self {
        ChatCompletionRequest {
            messages,
            ..Self::default()
        }
    }

    /// Parse a request from JSON, with a message that names the bad field.
    pub fn from_json(json: &str) -> Result<Self> {
        serde_json::from_str(json).map_err(|e| Error::InvalidRequest(e.to_string()))
    }

    /// The most tokens to generate: `max_completion_tokens`, or its legacy name
    /// `max_tokens` (the two must agree when both are given: [`Self::validate`]).
    pub fn token_limit(&self) -> Option<usize> {
        self.max_completion_tokens.or(self.max_tokens)
    }

    /// Bytes of the prompt's text (its messages' contents, or the raw prompt).
    pub fn prompt_bytes(&self) -> usize {
        match &self.prompt {
            Some(prompt) => prompt.len(),
            None => self.messages.iter().map(|m| m.content.len()).sum(),
        }
    }

    /// The field that holds the prompt: `prompt` or `messages` (for errors).
    pub fn prompt_field(&self) -> &'static str {
        match self.prompt {
            Some(_) => "prompt",
            None => "messages",
        }
    }

    /// Whether chunks were asked for.
    pub fn is_stream(&self) -> bool {
        self.stream.unwrap_or(false)
    }

    /// Whether a last usage chunk was asked for.
    pub fn include_usage(&self) -> bool {
        self.stream_options.is_some_and(|o| o.include_usage)
    }

    /// How many alternatives per token `logprobs` asked for: `None` when logprobs are off.
    pub fn top_logprobs_wanted(&self) -> Option<usize> {
        self.logprobs
            .unwrap_or(false)
            .then(|| self.top_logprobs.unwrap_or(0))
    }

    /// Check the fields that do not depend on a model.
    pub fn validate(&self) -> Result<()> {
        let invalid = |m: String| Err(Error::InvalidRequest(m));
        match (&self.prompt, self.messages.is_empty()) {
            (None, true) => return invalid("messages must not be empty".into()),
            (Some(_), false) => {
                return invalid("give messages or a raw prompt, not both".into());
            }
            _ => {}
        }
        if let Some(n) = self.n.filter(|&n| n != 1) {
            return invalid(format!("n = {n} is not supported: only one choice (n = 1)"));
        }
        if let (Some(a), Some(b)) = (self.max_tokens, self.max_completion_tokens) {
            if a != b {
                return invalid(format!(
                    "max_tokens ({a}) and max_completion_tokens ({b}) disagree; give one"
                ));
            }
        }
        if let Some(top) = self.top_logprobs {
            if top > MAX_TOP_LOGPROBS {
                return invalid(format!(
                    "top_logprobs = {top} is over the limit of {MAX_TOP_LOGPROBS}"
                ));
            }
            if !self.logprobs.unwrap_or(false) {
                return invalid("top_logprobs needs logprobs: true".into());
            }
        }
        if self.stream_options.is_some() && !self.is_stream() {
            return invalid("stream_options needs stream: true".into());
        }
        tools::check(self.tools.as_deref(), self.tool_choice.as_ref())?;
        tools::check_messages(&self.messages)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;
    use crate::protocol::Role;

    fn request(json: Value) -> Result<ChatCompletionRequest> {
        let r = ChatCompletionRequest::from_json(&json.to_string())?;
        r.validate().map(|_| r)
    }

    #[test]
    fn a_tool_conversation_round_trips_in_openais_shape() {
        let wire = json!({
            "messages": [
                {"role": "user", "content": "Weather in Paris?"},
                {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1",
                    "type": "function",
                    "function": {"name": "weather", "arguments": "{\"city\":\"Paris\"}"}}]},
                {"role": "tool", "tool_call_id": "call_1", "content": "18 C"}
            ],
            "tools": [{"type": "function", "function": {"name": "weather",
                "description": "Today's weather",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}],
            "tool_choice": {"type": "function", "function": {"name": "weather"}},
            "parallel_tool_calls": false
        });
        let r = request(wire.clone()).unwrap();
        assert_eq!(r.messages[2].role, Role::Tool);
        assert_eq!(r.tool_choice, Some(ToolChoice::Function("weather".into())));
        let back = serde_json::to_value(&r).unwrap();
        assert_eq!(back["tools"], wire["tools"]);
        assert_eq!(back["tool_choice"], wire["tool_choice"]);
        assert_eq!(
            back["messages"][1]["tool_calls"],
            wire["messages"][1]["tool_calls"]
        );
        assert_eq!(back["messages"][2]["tool_call_id"], "call_1");
        for mode in ["none", "auto", "required"] {
            let r = request(json!({"messages": [{"role": "user", "content": "x"}],
                "tools": wire["tools"], "tool_choice": mode}))
            .unwrap();
            assert_eq!(serde_json::to_value(&r).unwrap()["tool_choice"], mode);
        }
    }

    #[test]
    fn malformed_tools_are_invalid_requests_that_say_what_is_wrong() {
        let user = json!([{"role": "user", "content": "x"}]);
        let tool = |name: &str| json!({"type": "function", "function": {"name": name}});
        for (body, says) in [
            (json!({"tools": [tool("a b")]}), "a-z"),
            (json!({"tools": [tool("f"), tool("f")]}), "twice"),
            (json!({"tools": []}), "must not be empty"),
            (json!({"tool_choice": "auto"}), "needs tools"),
            (
                json!({"tools": [tool("f")], "tool_choice": "sometimes"}),
                "tool_choice",
            ),
            (
                json!({"tools": [tool("f")], "tool_choice": {"type": "function", "function": {"name": "g"}}}),
                "\"g\"",
            ),
            (
                json!({"tools": [{"type": "retrieval", "function": {"name": "f"}}]}),
                "retrieval",
            ),
            (
                json!({"tools": [{"type": "function", "function": {"name": "f", "parameters": []}}]}),
                "parameters",
            ),
            (
                json!({"messages": [{"role": "tool", "content": "18 C"}]}),
                "tool_call_id",
            ),
            (
                json!({"messages": [{"role": "user", "content": "x", "tool_call_id": "c"}]}),
                "only tool messages",
            ),
            (
                json!({"messages": [{"role": "assistant", "content": "", "tool_calls": [
                    {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{"}}]}]}),
                "not JSON",
            ),
        ] {
            let mut body = body;
            if body.get("messages").is_none() {
                body["messages"] = user.clone();
            }
            let e = request(body.clone()).unwrap_err();
            assert_eq!(e.code(), "invalid_request", "{body}");
            assert!(e.to_string().contains(says), "{body}: {e}");
        }
    }

    #[test]
    fn unknown_fields_are_rejected_by_name() {
        let e = ChatCompletionRequest::from_json(r#"{"messages":[],"tempreature":0}"#).unwrap_err();
        assert_eq!(e.code(), "invalid_request");
        assert!(e.to_string().contains("tempreature"), "{e}");
    }
}
