//! The OpenAI chat-completion request, as every layer of tandem receives it.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::{ChatMessage, ResponseFormat};
use crate::error::{Error, Result};
use crate::generate::GenerateParams;
use crate::sampling::SamplingParams;

/// Most alternatives `top_logprobs` may ask for (OpenAI's limit).
pub const MAX_TOP_LOGPROBS: usize = 20;

/// `POST /v1/chat/completions` body. Unknown fields are an error, never ignored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatCompletionRequest {
    /// Model id; the local engine answers with its own model whatever this says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The conversation so far.
    pub messages: Vec<ChatMessage>,
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
    /// OpenAI's tool definitions, passed to remote engines as they are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<serde_json::Value>,
    /// OpenAI's tool choice, passed to remote engines as it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<serde_json::Value>,
}

/// OpenAI accepts one stop string or a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Stop {
    /// A single stop string.
    One(String),
    /// Several stop strings.
    Many(Vec<String>),
}

/// `stream_options` of a streaming request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamOptions {
    /// Send a last chunk with `usage` and no choices.
    #[serde(default)]
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

    /// Whether chunks were asked for.
    pub fn is_stream(&self) -> bool {
        self.stream.unwrap_or(false)
    }

    /// Whether the request uses tools, which only remote engines run.
    pub fn uses_tools(&self) -> bool {
        self.tools.is_some() || self.tool_choice.is_some()
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
        if self.messages.is_empty() {
            return invalid("messages must not be empty".into());
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
        Ok(())
    }

    /// The generation parameters this request asks for (after [`Self::validate`]) on
    /// the local engine: tools are an `invalid_request` here.
    pub fn generate_params(&self) -> Result<GenerateParams> {
        self.validate()?;
        if self.uses_tools() {
            return Err(Error::InvalidRequest("tools need the remote engine".into()));
        }
        let schema = match &self.response_format {
            Some(format) => format.schema()?.map(std::sync::Arc::new),
            None => None,
        };
        let defaults = SamplingParams::default();
        let logit_bias = self
            .logit_bias
            .iter()
            .flatten()
            .map(|(id, &bias)| {
                id.parse::<u32>().map(|id| (id, bias)).map_err(|_| {
                    Error::InvalidRequest(format!("logit_bias key {id:?} is not a token id"))
                })
            })
            .collect::<Result<_>>()?;
        Ok(GenerateParams {
            max_tokens: self.max_completion_tokens.or(self.max_tokens),
            stop: match &self.stop {
                None => vec![],
                Some(Stop::One(s)) => vec![s.clone()],
                Some(Stop::Many(v)) => v.clone(),
            },
            sampling: SamplingParams {
                temperature: self.temperature.unwrap_or(defaults.temperature),
                top_p: self.top_p.unwrap_or(defaults.top_p),
                top_k: self.top_k.unwrap_or(defaults.top_k),
                seed: self.seed,
                repetition_penalty: self.repetition_penalty.unwrap_or(1.0),
                frequency_penalty: self.frequency_penalty.unwrap_or(0.0),
                presence_penalty: self.presence_penalty.unwrap_or(0.0),
                logit_bias,
            },
            ignore_eos: self.ignore_eos.unwrap_or(false),
            top_logprobs: self.top_logprobs_wanted(),
            schema,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_are_rejected_by_name() {
        let e = ChatCompletionRequest::from_json(r#"{"messages":[],"tempreature":0}"#).unwrap_err();
        assert_eq!(e.code(), "invalid_request");
        assert!(e.to_string().contains("tempreature"), "{e}");
    }

    #[test]
    fn openai_fields_become_params() {
        let r = ChatCompletionRequest::from_json(
            r#"{"model":"m","messages":[{"role":"user","content":"hi"}],
                "max_completion_tokens":5,"temperature":0,"stop":"x",
                "logit_bias":{"42":-100},"logprobs":true,"top_logprobs":3,
                "stream":true,"stream_options":{"include_usage":true}}"#,
        )
        .unwrap();
        let p = r.generate_params().unwrap();
        assert_eq!(p.max_tokens, Some(5));
        assert_eq!(p.stop, vec!["x".to_string()]);
        assert_eq!(p.sampling.logit_bias, vec![(42, -100.0)]);
        assert_eq!(p.top_logprobs, Some(3));
        assert!(r.is_stream() && r.include_usage());
    }

    #[test]
    fn response_format_and_tools() {
        let user = r#"[{"role":"user","content":"hi"}]"#;
        let with = |extra: &str| {
            ChatCompletionRequest::from_json(&format!(r#"{{"messages":{user},{extra}}}"#))
        };
        let text = with(r#""response_format":{"type":"text"}"#).unwrap();
        assert!(text.generate_params().unwrap().schema.is_none());
        let object = with(r#""response_format":{"type":"json_object"}"#).unwrap();
        assert!(object.generate_params().unwrap().schema.is_some());
        let schema = with(
            r#""response_format":{"type":"json_schema","json_schema":{"name":"x","strict":true,
                "schema":{"type":"object","properties":{"a":{"type":"string"}}}}}"#,
        )
        .unwrap();
        assert!(schema.generate_params().unwrap().schema.is_some());
        let round = serde_json::to_string(&schema).unwrap();
        assert_eq!(ChatCompletionRequest::from_json(&round).unwrap(), schema);
        let bad = with(
            r#""response_format":{"type":"json_schema","json_schema":{"name":"x",
                "schema":{"type":"string","pattern":"a+"}}}"#,
        )
        .unwrap();
        let e = bad.generate_params().unwrap_err();
        assert!(e.to_string().contains("\"pattern\""), "{e}");
        assert!(with(r#""response_format":{"type":"yaml"}"#).is_err());
        let tools = with(r#""tools":[{"type":"function","function":{"name":"f"}}]"#).unwrap();
        assert!(tools.uses_tools());
        let e = tools.generate_params().unwrap_err();
        assert_eq!(e.code(), "invalid_request");
        assert!(e.to_string().contains("remote engine"), "{e}");
    }

    #[test]
    fn inconsistent_requests_are_rejected() {
        let user = r#"[{"role":"user","content":"hi"}]"#;
        for body in [
            r#"{"messages":[]}"#.to_string(),
            format!(r#"{{"messages":{user},"n":2}}"#),
            format!(r#"{{"messages":{user},"max_tokens":3,"max_completion_tokens":4}}"#),
            format!(r#"{{"messages":{user},"top_logprobs":2}}"#),
            format!(r#"{{"messages":{user},"logprobs":true,"top_logprobs":21}}"#),
            format!(r#"{{"messages":{user},"stream_options":{{"include_usage":true}}}}"#),
            format!(r#"{{"messages":{user},"logit_bias":{{"x":1}}}}"#),
        ] {
            let r = ChatCompletionRequest::from_json(&body).unwrap();
            let e = r.generate_params().unwrap_err();
            assert_eq!(e.code(), "invalid_request", "{body}");
        }
    }
}
