//! OpenAI's embeddings API (`POST /v1/embeddings`, `ai.embeddings.create`): the
//! request, checked, and the response built from an encoder's vectors (OpenAI's
//! `dimensions` shortening and base64 encoding included).

use serde::{Deserialize, Serialize};

use crate::embed::Embeddings;
use crate::error::{Error, Result};

/// Most inputs in one request (OpenAI's limit).
pub const MAX_EMBEDDING_INPUTS: usize = 2048;

/// `input`: one text or several (up to 2048).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum EmbeddingInput {
    /// One text.
    One(String),
    /// Several texts.
    Many(Vec<String>),
}

/// How the vectors are written.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EncodingFormat {
    /// Arrays of numbers.
    #[default]
    Float,
    /// The little-endian f32 bytes, base64.
    Base64,
}

/// An embeddings request, as OpenAI's API takes it, and tandem's `truncate`.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmbeddingRequest {
    /// The text or texts.
    pub input: EmbeddingInput,
    /// Which model (a server's model id; locally, the loaded encoder).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Shorten the vectors to this many values (and make them unit length again).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dimensions: Option<usize>,
    /// `float` (the default) or `base64`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding_format: Option<EncodingFormat>,
    /// The end user, for the provider's abuse monitoring; passed on, unused here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// tandem's extension: cut inputs longer than the model's window instead of
    /// refusing them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truncate: Option<bool>,
}

impl EmbeddingRequest {
    /// A request for `input` with every option at its default.
    pub fn of(input: EmbeddingInput) -> Self {
        EmbeddingRequest {
            input,
            model: None,
            dimensions: None,
            encoding_format: None,
            user: None,
            truncate: None,
        }
    }

    /// The inputs, in order.
    pub fn texts(&self) -> Vec<&str> {
        match &self.input {
            EmbeddingInput::One(text) => vec![text.as_str()],
            EmbeddingInput::Many(texts) => texts.iter().map(String::as_str).collect(),
        }
    }

    /// An `invalid_request` for no inputs, too many, or `dimensions` of 0.
    pub fn validate(&self) -> Result<()> {
        let n = self.texts().len();
        if n == 0 {
            return Err(Error::InvalidRequest(
                "input is an empty array: give at least one text".into(),
            ));
        }
        if n > MAX_EMBEDDING_INPUTS {
            return Err(Error::InvalidRequest(format!(
                "input has {n} texts; at most {MAX_EMBEDDING_INPUTS} go in one request"
            )));
        }
        if self.dimensions == Some(0) {
            return Err(Error::InvalidRequest(
                "dimensions must be at least 1".into(),
            ));
        }
        Ok(())
    }
}

/// One vector as written.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum EmbeddingVector {
    /// Numbers.
    Float(Vec<f32>),
    /// Base64 of the little-endian f32 bytes.
    Base64(String),
}

/// One input's vector.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmbeddingData {
    /// Always `embedding`.
    #[cfg_attr(feature = "ts", ts(type = r#""embedding""#))]
    pub object: String,
    /// The input's place in the request.
    pub index: usize,
    /// The vector.
    pub embedding: EmbeddingVector,
}

/// Tokens read.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmbeddingUsage {
    /// Tokens of all inputs.
    pub prompt_tokens: usize,
    /// The same.
    pub total_tokens: usize,
}

/// An embeddings response, as OpenAI's API gives it.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmbeddingResponse {
    /// Always `list`.
    #[cfg_attr(feature = "ts", ts(type = r#""list""#))]
    pub object: String,
    /// One per input, in input order.
    pub data: Vec<EmbeddingData>,
    /// The model that made them.
    pub model: String,
    /// Tokens read.
    pub usage: EmbeddingUsage,
}

impl EmbeddingResponse {
    /// The response to `request` from an encoder's `embeddings` by `model`:
    /// shortened to `dimensions` (and unit length again) when asked,
    /// `invalid_request` when that is more than the model gives.
    pub fn new(request: &EmbeddingRequest, embeddings: &Embeddings, model: &str) -> Result<Self> {
        let format = request.encoding_format.unwrap_or_default();
        let data = (embeddings.data.iter().enumerate())
            .map(|(index, e)| {
                let vector = shortened(&e.vector, request.dimensions)?;
                Ok(EmbeddingData {
                    object: "embedding".into(),
                    index,
                    embedding: match format {
                        EncodingFormat::Float => EmbeddingVector::Float(vector),
                        EncodingFormat::Base64 => EmbeddingVector::Base64(base64(&vector)),
                    },
                })
            })
            .collect::<Result<_>>()?;
        let tokens = embeddings.tokens();
        Ok(EmbeddingResponse {
            object: "list".into(),
            data,
            model: model.into(),
            usage: EmbeddingUsage {
                prompt_tokens: tokens,
                total_tokens: tokens,
            },
        })
    }
}

/// `vector`'s first `dimensions` values made unit length again (the whole vector
/// when not asked).
fn shortened(vector: &[f32], dimensions: Option<usize>) -> Result<Vec<f32>> {
    let Some(n) = dimensions else {
        return Ok(vector.to_vec());
    };
    if n > vector.len() {
        return Err(Error::InvalidRequest(format!(
            "dimensions is {n}, but the model's vectors have {}",
            vector.len()
        )));
    }
    let head = &vector[..n];
    let norm = head.iter().map(|x| x * x).sum::<f32>().sqrt();
    Ok(match norm > 0.0 {
        true => head.iter().map(|x| x / norm).collect(),
        false => head.to_vec(),
    })
}

/// Standard base64 (with padding) of the little-endian bytes of `values`.
pub fn base64(values: &[f32]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            match i <= chunk.len() {
                true => out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char),
                false => out.push('='),
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embed::Embedding;

    fn request(json: &str) -> Result<EmbeddingRequest> {
        let request: EmbeddingRequest =
            serde_json::from_str(json).map_err(|e| Error::InvalidRequest(e.to_string()))?;
        request.validate()?;
        Ok(request)
    }

    #[test]
    fn inputs_are_one_text_or_several_and_bad_ones_are_refused() {
        assert_eq!(request(r#"{"input": "a"}"#).unwrap().texts(), ["a"]);
        let two = request(r#"{"input": ["a", "b"], "model": "m"}"#).unwrap();
        assert_eq!(two.texts(), ["a", "b"]);
        for bad in [
            r#"{"input": []}"#,
            r#"{"input": [1, 2]}"#,
            r#"{"input": "a", "dimensions": 0}"#,
            r#"{"input": "a", "temperature": 1}"#,
            r#"{}"#,
        ] {
            assert_eq!(request(bad).unwrap_err().code(), "invalid_request", "{bad}");
        }
        let many = format!(
            r#"{{"input": [{}"x"]}}"#,
            r#""x","#.repeat(MAX_EMBEDDING_INPUTS)
        );
        assert!(request(&many).is_err());
    }

    #[test]
    fn vectors_are_shortened_to_unit_length_and_written_in_base64() {
        let embeddings = Embeddings {
            data: vec![Embedding {
                ids: vec![1, 2, 3],
                vector: vec![0.6, 0.0, 0.8],
                truncated: false,
            }],
        };
        let asked = request(r#"{"input": "a", "dimensions": 1}"#).unwrap();
        let response = EmbeddingResponse::new(&asked, &embeddings, "m").unwrap();
        assert_eq!(
            response.data[0].embedding,
            EmbeddingVector::Float(vec![1.0])
        );
        assert_eq!(response.usage.prompt_tokens, 3);
        let too_many = request(r#"{"input": "a", "dimensions": 4}"#).unwrap();
        assert!(EmbeddingResponse::new(&too_many, &embeddings, "m").is_err());
        let b64 = request(r#"{"input": "a", "encoding_format": "base64"}"#).unwrap();
        let response = EmbeddingResponse::new(&b64, &embeddings, "m").unwrap();
        // 0.6, 0.0, 0.8 as little-endian f32: 9a 99 19 3f, 00 00 00 00, cd cc 4c 3f.
        assert_eq!(
            response.data[0].embedding,
            EmbeddingVector::Base64("mpkZPwAAAADNzEw/".into())
        );
        assert_eq!(base64(&[1.0]), "AACAPw==");
    }
}
