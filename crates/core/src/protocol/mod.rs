//! Protocol types shared by every layer of tandem: the OpenAI chat-completion
//! request, response and chunk, and the pieces they are made of; the completions
//! API's shapes (completion.rs), which run as chat requests carrying a raw prompt;
//! function tools and calls (tools.rs); and the embeddings API's (embedding.rs).

mod chunks;
mod completion;
mod content;
mod embedding;
mod format;
mod request;
mod response;
mod sse;
mod tandem_info;
mod tools;

pub use chunks::{ChunkWriter, CompletionBuilder};
pub use completion::{
    CompletionRequest, Prompt, TextChoice, TextCompletion, TextLogprobs, MAX_COMPLETION_LOGPROBS,
};
pub use embedding::{
    base64, EmbeddingData, EmbeddingInput, EmbeddingRequest, EmbeddingResponse, EmbeddingUsage,
    EmbeddingVector, EncodingFormat, MAX_EMBEDDING_INPUTS,
};
pub use format::{JsonSchemaFormat, ResponseFormat};
pub use request::{ChatCompletionRequest, Stop, StreamOptions, MAX_TOP_LOGPROBS};
pub use response::{
    AssistantMessage, ChatCompletion, ChatCompletionChunk, Choice, ChunkChoice, Delta, ErrorBody,
    ErrorObject, Logprobs, TokenLogprob, TopLogprob, CHUNK_OBJECT, COMPLETION_OBJECT,
};
pub use sse::{SseDecoder, SseEvent, DONE};
pub use tandem_info::{Scores, Sensitive, TandemInfo};
pub use tools::{
    FunctionCall, FunctionCallDelta, FunctionDef, Tool, ToolCall, ToolCallDelta, ToolChoice,
    ToolKind,
};

use serde::{Deserialize, Serialize};

/// Who wrote a chat message (`tool`: a tool's result).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Instructions for the assistant (OpenAI's newer name `developer` means the same).
    #[serde(alias = "developer")]
    System,
    /// The person.
    User,
    /// The model.
    Assistant,
    /// The result of a tool call (`tool_call_id` names the call).
    Tool,
}

/// One message of a chat. `content` may also arrive as OpenAI's list of text parts,
/// or as `null` (an assistant message that only calls tools).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatMessage {
    /// Author of the message (`developer`, OpenAI's newer name, is read as `system`).
    #[cfg_attr(feature = "ts", ts(type = r#"Role | "developer""#))]
    pub role: Role,
    /// Text of the message: a string, OpenAI's list of text parts, or `null`.
    #[serde(default, deserialize_with = "content::text")]
    #[cfg_attr(
        feature = "ts",
        ts(type = r#"string | { type: "text"; text: string }[] | null"#)
    )]
    pub content: String,
    /// The tools an assistant message called.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ToolCall>>,
    /// Which call a `tool` message answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
}

impl ChatMessage {
    /// A message from `role` with `content`.
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        ChatMessage {
            role,
            content: content.into(),
            tool_calls: None,
            tool_call_id: None,
        }
    }
}

/// Why generation ended.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// End of turn or a stop string.
    Stop,
    /// `max_tokens` reached.
    Length,
    /// The model called tools.
    ToolCalls,
    /// A provider's content filter cut the reply (remote engines only).
    ContentFilter,
}

/// Token counts of one generation.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Tokens in the prompt.
    pub prompt_tokens: usize,
    /// Tokens generated.
    pub completion_tokens: usize,
    /// Sum of both.
    pub total_tokens: usize,
}
