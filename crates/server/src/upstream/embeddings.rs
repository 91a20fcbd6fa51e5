//! Embeddings from an OpenAI-compatible API (OpenAI, vLLM, llama.cpp server,
//! Ollama…): the request goes up as the client sent it, with the backend's model
//! name and key; the response comes back checked for OpenAI's shape (a vector per
//! input, in input order) under the model id the client asked for.

use axum::http::StatusCode;
use futures_util::StreamExt;
use tandem_core::protocol::{EmbeddingRequest, EmbeddingResponse};

use super::http::KeyHeader;
use super::openai::OpenAi;
use crate::call::EmbedCall;
use crate::error::ApiError;

/// The largest embeddings response read from a provider (2,048 vectors of 3,072
/// values as JSON numbers fit).
const MAX_RESPONSE_BYTES: usize = 128 << 20;

impl OpenAi {
    /// `request` answered by `{base_url}/embeddings`; 413 when its texts have more
    /// than `call.max_tokens` tokens by estimate (4 bytes a token). tandem's
    /// `truncate` cannot go up (OpenAI refuses fields it does not know): asked for, it
    /// is a 501, and a fallback chain moves on.
    pub async fn embed(
        &self,
        request: &EmbeddingRequest,
        call: &EmbedCall,
    ) -> Result<EmbeddingResponse, ApiError> {
        if request.truncate == Some(true) {
            return Err(ApiError {
                status: StatusCode::NOT_IMPLEMENTED,
                ..ApiError::upstream(
                    "unsupported_by_upstream",
                    "OpenAI-compatible backends cannot take truncate (tandem's extension): \
                     send inputs within the model's window, or use a native encoder",
                )
            }
            .at("truncate"));
        }
        let estimate = request.texts().iter().map(|t| t.len()).sum::<usize>() / 4;
        if estimate > call.max_tokens {
            return Err(ApiError::too_many_tokens(estimate, true, call.max_tokens));
        }
        let body = EmbeddingRequest {
            model: Some(self.0.model.clone()),
            truncate: None,
            ..request.clone()
        };
        let (_lease, response) = (self.0)
            .send("/embeddings", &call.forward, &body, KeyHeader::Bearer, &[])
            .await?;
        let bytes = read(response).await?;
        let mut answer: EmbeddingResponse = serde_json::from_slice(&bytes).map_err(malformed)?;
        answer.data.sort_by_key(|d| d.index);
        let in_order = answer.data.iter().enumerate().all(|(i, d)| d.index == i);
        if answer.data.len() != request.texts().len() || !in_order {
            return Err(malformed(format!(
                "{} vectors for {} inputs, or indices out of order",
                answer.data.len(),
                request.texts().len()
            )));
        }
        answer.model.clone_from(&call.model);
        Ok(answer)
    }
}

/// The body of `response`, at most [`MAX_RESPONSE_BYTES`].
async fn read(response: reqwest::Response) -> Result<Vec<u8>, ApiError> {
    let mut bytes = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(piece) = stream.next().await {
        let piece = piece.map_err(|e| {
            tracing::warn!("an upstream embeddings response broke: {e}");
            ApiError::upstream("upstream_stream_error", "the upstream response broke off")
        })?;
        if bytes.len() + piece.len() > MAX_RESPONSE_BYTES {
            return Err(malformed("the response is too large"));
        }
        bytes.extend_from_slice(&piece);
    }
    Ok(bytes)
}

/// A response without OpenAI's embeddings shape. What was wrong goes to the log
/// only: a parser's message can quote the provider's data.
fn malformed(e: impl std::fmt::Display) -> ApiError {
    tracing::warn!("openai sent an unreadable embeddings response: {e}");
    ApiError::upstream(
        "upstream_malformed",
        "the upstream provider sent an embeddings response tandem cannot read",
    )
}
