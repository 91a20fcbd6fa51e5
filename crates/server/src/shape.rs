//! The API a reply is shaped for: chat completions as they are, or the completions
//! API's `text_completion` objects (a raw prompt ran as a chat request).

use serde_json::Value;
use tandem_core::protocol::TextCompletion;
use tandem_core::{ChatCompletion, ChatCompletionChunk};

/// Which API's objects a reply goes out as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `POST /v1/chat/completions`.
    Chat,
    /// `POST /v1/completions`.
    Text,
}

impl Shape {
    /// A chunk as this API sends it (`None`: it has no counterpart, as the chat role
    /// chunk in the completions API).
    pub fn chunk(self, chunk: ChatCompletionChunk) -> Option<Value> {
        let value = match self {
            Shape::Chat => serde_json::to_value(chunk),
            Shape::Text => serde_json::to_value(TextCompletion::from_chunk(chunk)?),
        };
        Some(value.expect("protocol types serialise"))
    }

    /// A whole reply as this API sends it.
    pub fn whole(self, completion: ChatCompletion) -> Value {
        match self {
            Shape::Chat => serde_json::to_value(completion),
            Shape::Text => serde_json::to_value(TextCompletion::from_completion(completion)),
        }
        .expect("protocol types serialise")
    }
}
