//! A message's `content`: a string, OpenAI's list of parts of which tandem accepts
//! the text ones, or `null` (no text).

use serde::{Deserialize, Deserializer};

#[derive(Deserialize)]
#[serde(untagged)]
enum Content {
    Null(()),
    Text(String),
    Parts(Vec<Part>),
}

#[derive(Deserialize)]
struct Part {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    text: Option<String>,
}

/// Deserialize `content` into its text (`null` is none); non-text parts are an error
/// that names them.
pub fn text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    match Content::deserialize(deserializer)? {
        Content::Null(()) => Ok(String::new()),
        Content::Text(text) => Ok(text),
        Content::Parts(parts) => parts
            .into_iter()
            .map(|part| match (part.kind.as_str(), part.text) {
                ("text", Some(text)) => Ok(text),
                (kind, _) => Err(serde::de::Error::custom(format!(
                    "content part of type {kind:?} is not supported: only text parts"
                ))),
            })
            .collect(),
    }
}
