//! The OpenAI chat-completion response and stream chunk, plus tandem's extension.

use serde::{Deserialize, Serialize};

use super::{FinishReason, Role, TandemInfo, ToolCall, ToolCallDelta, Usage};

/// `object` of a whole response.
pub const COMPLETION_OBJECT: &str = "chat.completion";
/// `object` of a stream chunk.
pub const CHUNK_OBJECT: &str = "chat.completion.chunk";

/// A whole reply (`stream: false`).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatCompletion {
    /// `chatcmpl-…`, the same as the chunks' id when assembled from a stream.
    pub id: String,
    /// Always `chat.completion`.
    #[cfg_attr(feature = "ts", ts(type = r#""chat.completion""#))]
    pub object: String,
    /// Unix seconds.
    pub created: u64,
    /// The model that answered.
    pub model: String,
    /// The reply (one choice).
    pub choices: Vec<Choice>,
    /// Token counts.
    #[serde(default)]
    pub usage: Option<Usage>,
    /// Where and how fast it ran; absent from providers that are not tandem.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tandem: Option<TandemInfo>,
}

/// One choice of a whole reply.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    /// Always 0 (tandem makes one choice).
    pub index: usize,
    /// The assistant's message.
    pub message: AssistantMessage,
    /// Per-token log-probabilities when asked for.
    #[serde(default)]
    pub logprobs: Option<Logprobs>,
    /// Why the reply ended.
    pub finish_reason: Option<FinishReason>,
}

/// The reply's message.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssistantMessage {
    /// Always `assistant`.
    #[cfg_attr(feature = "ts", ts(type = r#""assistant""#))]
    pub role: Role,
    /// The text; `null` when the reply only calls tools.
    pub content: Option<String>,
    /// The tools the reply calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ToolCall>>,
}

/// A piece of a streamed reply (`stream: true`); the last one has no choices.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatCompletionChunk {
    /// The same for every chunk of one reply.
    pub id: String,
    /// Always `chat.completion.chunk`.
    #[cfg_attr(feature = "ts", ts(type = r#""chat.completion.chunk""#))]
    pub object: String,
    /// Unix seconds, the same for every chunk.
    pub created: u64,
    /// The model that answers.
    pub model: String,
    /// One choice delta, or none in the final usage chunk.
    pub choices: Vec<ChunkChoice>,
    /// Token counts, in the final chunk only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    /// Where and how fast it ran, in the final chunk only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tandem: Option<TandemInfo>,
}

/// The change one chunk brings to the choice.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChunkChoice {
    /// Always 0.
    pub index: usize,
    /// New text (and the role, in the first chunk).
    pub delta: Delta,
    /// Log-probabilities of this chunk's tokens when asked for.
    #[serde(default)]
    pub logprobs: Option<Logprobs>,
    /// Set in the last choice chunk.
    pub finish_reason: Option<FinishReason>,
}

/// New parts of the assistant's message.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Delta {
    /// `assistant`, in the first chunk only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(type = r#""assistant""#))]
    pub role: Option<Role>,
    /// Text added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// Pieces of tool calls added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ToolCallDelta>>,
}

/// OpenAI's `logprobs` object of a choice.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Logprobs {
    /// One entry per generated token.
    pub content: Vec<TokenLogprob>,
}

/// The log-probability of one token, with its most likely alternatives.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenLogprob {
    /// The token's text (lossy when the token is part of a character).
    pub token: String,
    /// Natural-log probability.
    pub logprob: f32,
    /// The token's raw bytes.
    pub bytes: Vec<u8>,
    /// The most likely tokens at this step (as many as `top_logprobs` asked).
    #[serde(default)]
    pub top_logprobs: Vec<TopLogprob>,
}

/// One alternative at a step.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopLogprob {
    /// The token's text.
    pub token: String,
    /// Natural-log probability.
    pub logprob: f32,
    /// The token's raw bytes.
    pub bytes: Vec<u8>,
}

/// OpenAI's error body: `{"error": {message, type, param, code}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorObject,
}

/// The error object inside [`ErrorBody`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorObject {
    /// Human-readable.
    pub message: String,
    /// OpenAI's class, e.g. `invalid_request_error`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The request field at fault, if known.
    #[serde(default)]
    pub param: Option<String>,
    /// Stable code, e.g. `context_length_exceeded`.
    #[serde(default)]
    pub code: Option<String>,
}
