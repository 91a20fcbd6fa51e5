//! What a backend is given and gives back: the [`Call`] that goes with a chat
//! request, and the [`ChunkStream`] of the reply (dropping the stream cancels the
//! work); the [`EmbedCall`] that goes with an embeddings request.

use axum::http::HeaderMap;
use futures_util::stream::BoxStream;
use tandem_core::ChatCompletionChunk;

use crate::error::ApiError;

/// The chunks of one reply, each a chunk or the error that ended it.
pub type ChunkStream = BoxStream<'static, Result<ChatCompletionChunk, ApiError>>;

/// What every backend needs to know about one call besides the request.
#[derive(Debug, Clone)]
pub struct Call {
    /// `chatcmpl-…`, the id of every chunk.
    pub id: String,
    /// Unix seconds, the same for every chunk.
    pub created: u64,
    /// The model id the client asked for (the `model` of every chunk).
    pub model: String,
    /// Client headers allowed upstream by `forward_headers`.
    pub forward: HeaderMap,
    /// Most prompt tokens.
    pub max_prompt_tokens: usize,
}

/// What every backend needs to know about one embeddings call besides the request.
#[derive(Debug, Clone)]
pub struct EmbedCall {
    /// The model id the client asked for (the response's `model`).
    pub model: String,
    /// Client headers allowed upstream by `forward_headers`.
    pub forward: HeaderMap,
    /// Most tokens of all inputs together (`limits.max_embedding_tokens`).
    pub max_tokens: usize,
}
