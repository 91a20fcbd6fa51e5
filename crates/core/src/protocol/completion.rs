//! OpenAI's completions API (`POST /v1/completions`): a raw prompt continued as it
//! is. tandem runs it as a chat request carrying `prompt` instead of messages, and
//! gives its chunks and its whole reply back in the completions API's shape.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::{
    ChatCompletion, ChatCompletionChunk, ChatCompletionRequest, FinishReason, Logprobs, Stop,
    StreamOptions, TandemInfo, Usage,
};
use crate::error::{Error, Result};

/// Most alternatives the completions API's `logprobs` may ask for (OpenAI's limit).
pub const MAX_COMPLETION_LOGPROBS: usize = 5;

/// OpenAI's completions API request (`POST /v1/completions`): a raw prompt continued
/// as it is. Unknown fields are an error, never ignored.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompletionRequest {
    /// Model id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The text to continue: a string, or a list holding one.
    #[cfg_attr(feature = "ts", ts(type = "string | [string]"))]
    pub prompt: Prompt,
    /// Most tokens to generate (default 16, as OpenAI's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<usize>,
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
    /// One string or up to four that end the text (never part of it).
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
    /// The log-probabilities of each token and of the `logprobs` (0..=5) most likely.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logprobs: Option<usize>,
    /// Whether the prompt is repeated before the text: only `false`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(type = "false"))]
    pub echo: Option<bool>,
    /// Text after the insertion point: not supported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(skip))]
    pub suffix: Option<String>,
    /// Candidates to choose among: only 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(type = "1"))]
    pub best_of: Option<usize>,
    /// Number of choices: only 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(type = "1"))]
    pub n: Option<usize>,
    /// Stream chunks instead of one response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    /// Streaming options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_options: Option<StreamOptions>,
    /// The app's id for its end user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Keep generating past end-of-text tokens; a tandem extension for benchmarks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_eos: Option<bool>,
}

/// The completions API's prompt: a string, or a list of strings (of which tandem takes
/// exactly one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Prompt {
    /// One text.
    One(String),
    /// A batch of texts.
    Many(Vec<String>),
}

impl Default for Prompt {
    fn default() -> Self {
        Prompt::One(String::new())
    }
}

impl CompletionRequest {
    /// Parse a request from JSON, with a message that names the bad field.
    pub fn from_json(json: &str) -> Result<Self> {
        serde_json::from_str(json).map_err(|e| Error::InvalidRequest(e.to_string()))
    }

    /// The chat request tandem runs for it: the same options, `prompt` instead of
    /// messages. What tandem does not do is an `invalid_request` naming it.
    pub fn into_chat(self) -> Result<ChatCompletionRequest> {
        let invalid = |m: &str| Err(Error::InvalidRequest(m.into()));
        let prompt = match self.prompt {
            Prompt::One(text) => text,
            Prompt::Many(mut texts) if texts.len() == 1 => texts.remove(0),
            Prompt::Many(_) => {
                return invalid("prompt must be one string (batches of prompts are not supported)")
            }
        };
        if self.echo.unwrap_or(false) {
            return invalid("echo is not supported");
        }
        if self.suffix.is_some() {
            return invalid("suffix (insertion) is not supported");
        }
        if self.best_of.is_some_and(|n| n != 1) {
            return invalid("best_of is not supported: only one candidate (best_of = 1)");
        }
        let top = self.logprobs;
        if top.is_some_and(|n| n > MAX_COMPLETION_LOGPROBS) {
            return invalid("logprobs is over the limit of 5");
        }
        Ok(ChatCompletionRequest {
            model: self.model,
            prompt: Some(prompt),
            max_tokens: Some(self.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS)),
            temperature: self.temperature,
            top_p: self.top_p,
            top_k: self.top_k,
            seed: self.seed,
            stop: self.stop,
            frequency_penalty: self.frequency_penalty,
            presence_penalty: self.presence_penalty,
            repetition_penalty: self.repetition_penalty,
            logit_bias: self.logit_bias,
            logprobs: top.map(|_| true),
            top_logprobs: top.filter(|&n| n > 0),
            stream: self.stream,
            stream_options: self.stream_options,
            n: self.n,
            user: self.user,
            ignore_eos: self.ignore_eos,
            ..ChatCompletionRequest::default()
        })
    }
}

/// OpenAI's default `max_tokens` for completions.
const DEFAULT_MAX_TOKENS: usize = 16;

/// A completions API object: one streamed chunk or the whole reply
/// (`object: "text_completion"` either way; a streamed reply's last chunk has no
/// choices and carries `usage` and `tandem`).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextCompletion {
    /// `cmpl-…`, the same for every chunk of one reply.
    pub id: String,
    /// Always `text_completion`.
    #[cfg_attr(feature = "ts", ts(type = r#""text_completion""#))]
    pub object: String,
    /// Unix seconds.
    pub created: u64,
    /// The model that answered.
    pub model: String,
    /// One choice, or none in a streamed reply's usage chunk.
    pub choices: Vec<TextChoice>,
    /// Token counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    /// Where and how fast it ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tandem: Option<TandemInfo>,
}

/// The text of one choice (or the part of it a chunk adds).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextChoice {
    /// The text.
    pub text: String,
    /// Always 0.
    #[cfg_attr(feature = "ts", ts(type = "0"))]
    pub index: usize,
    /// The completions API's log-probabilities, when asked for.
    pub logprobs: Option<TextLogprobs>,
    /// Why the text ended (in the last choice chunk).
    pub finish_reason: Option<FinishReason>,
}

/// The completions API's log-probabilities: per token its text, its log-probability,
/// the most likely tokens there, and where it starts in the text.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TextLogprobs {
    /// The tokens' texts.
    pub tokens: Vec<String>,
    /// Their log-probabilities.
    pub token_logprobs: Vec<f32>,
    /// The most likely tokens at each step, text → log-probability.
    #[cfg_attr(feature = "ts", ts(type = "Record<string, number>[]"))]
    pub top_logprobs: Vec<HashMap<String, f32>>,
    /// Where each token starts in the choice's text (bytes), counted in this object.
    pub text_offset: Vec<usize>,
}

impl TextLogprobs {
    fn from_chat(logprobs: Logprobs) -> Self {
        let mut out = TextLogprobs::default();
        let mut offset = 0;
        for token in logprobs.content {
            out.text_offset.push(offset);
            offset += token.token.len();
            out.top_logprobs.push(
                token
                    .top_logprobs
                    .into_iter()
                    .map(|t| (t.token, t.logprob))
                    .collect(),
            );
            out.token_logprobs.push(token.logprob);
            out.tokens.push(token.token);
        }
        out
    }
}

impl TextCompletion {
    /// A chat chunk in the completions API's shape (`None` for the first chunk, which
    /// only names the role).
    pub fn from_chunk(chunk: ChatCompletionChunk) -> Option<Self> {
        let opening = chunk.choices.iter().all(|c| {
            c.delta.role.is_some()
                && c.delta.content.as_deref().unwrap_or("").is_empty()
                && c.finish_reason.is_none()
        });
        if opening && !chunk.choices.is_empty() {
            return None;
        }
        let choices = chunk
            .choices
            .into_iter()
            .map(|c| TextChoice {
                text: c.delta.content.unwrap_or_default(),
                index: c.index,
                logprobs: c.logprobs.map(TextLogprobs::from_chat),
                finish_reason: c.finish_reason,
            })
            .collect();
        Some(TextCompletion {
            id: text_id(chunk.id),
            object: OBJECT.into(),
            created: chunk.created,
            model: chunk.model,
            choices,
            usage: chunk.usage,
            tandem: chunk.tandem,
        })
    }

    /// A whole chat reply in the completions API's shape.
    pub fn from_completion(completion: ChatCompletion) -> Self {
        let choices = completion
            .choices
            .into_iter()
            .map(|c| TextChoice {
                text: c.message.content.unwrap_or_default(),
                index: c.index,
                logprobs: c.logprobs.map(TextLogprobs::from_chat),
                finish_reason: c.finish_reason,
            })
            .collect();
        TextCompletion {
            id: text_id(completion.id),
            object: OBJECT.into(),
            created: completion.created,
            model: completion.model,
            choices,
            usage: completion.usage,
            tandem: completion.tandem,
        }
    }
}

/// The completions API's object name.
const OBJECT: &str = "text_completion";

/// `chatcmpl-x` → `cmpl-x`.
fn text_id(id: String) -> String {
    match id.strip_prefix("chatcmpl-") {
        Some(rest) => format!("cmpl-{rest}"),
        None => id,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{ChunkWriter, CompletionBuilder};

    #[test]
    fn a_request_becomes_a_raw_prompt_chat_request() {
        let r = CompletionRequest::from_json(
            r#"{"prompt":["Once upon"],"temperature":0,"logprobs":2,"stop":"."}"#,
        )
        .unwrap();
        let chat = r.into_chat().unwrap();
        assert_eq!(chat.prompt.as_deref(), Some("Once upon"));
        assert!(chat.messages.is_empty());
        assert_eq!(chat.max_tokens, Some(DEFAULT_MAX_TOKENS));
        assert_eq!((chat.logprobs, chat.top_logprobs), (Some(true), Some(2)));
        assert_eq!(chat.stop, Some(Stop::One(".".into())));
        chat.validate().unwrap();
    }

    #[test]
    fn what_tandem_does_not_do_is_named() {
        for (json, word) in [
            (r#"{"prompt":["a","b"]}"#, "one string"),
            (r#"{"prompt":"a","echo":true}"#, "echo"),
            (r#"{"prompt":"a","suffix":"z"}"#, "suffix"),
            (r#"{"prompt":"a","best_of":2}"#, "best_of"),
            (r#"{"prompt":"a","logprobs":6}"#, "logprobs"),
        ] {
            let e = CompletionRequest::from_json(json)
                .unwrap()
                .into_chat()
                .unwrap_err();
            assert_eq!(e.code(), "invalid_request");
            assert!(e.to_string().contains(word), "{e}");
        }
        let e = CompletionRequest::from_json(r#"{"prompt":"a","messages":[]}"#).unwrap_err();
        assert!(e.to_string().contains("messages"), "{e}");
    }

    #[test]
    fn chunks_and_whole_replies_take_the_completions_shape() {
        let writer = ChunkWriter::new("chatcmpl-7", 9, "m");
        let chunks = [
            writer.role(),
            writer.content("Once".into(), None),
            writer.finish(FinishReason::Length),
        ];
        let mut builder = CompletionBuilder::default();
        let texts: Vec<TextCompletion> = chunks
            .into_iter()
            .inspect(|c| builder.push(c.clone()))
            .filter_map(TextCompletion::from_chunk)
            .collect();
        assert_eq!(texts.len(), 2, "the role chunk has no counterpart");
        assert_eq!(texts[0].id, "cmpl-7");
        assert_eq!(texts[0].object, "text_completion");
        assert_eq!(texts[0].choices[0].text, "Once");
        assert_eq!(
            texts[1].choices[0].finish_reason,
            Some(FinishReason::Length)
        );
        let whole = TextCompletion::from_completion(builder.finish().unwrap());
        assert_eq!(whole.choices[0].text, "Once");
        assert_eq!(whole.id, "cmpl-7");
    }
}
