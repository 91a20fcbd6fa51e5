//! A provider's server-sent events, read as they arrive and turned into OpenAI
//! chunks by the provider's [`Translate`].

use std::collections::VecDeque;

use axum::body::Bytes;
use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use tandem_core::protocol::SseDecoder;
use tandem_core::ChatCompletionChunk;

use crate::call::ChunkStream;
use crate::error::ApiError;

use super::pool::Lease;
use super::provider_code::provider_code;

/// Turns one provider's server-sent events into OpenAI chunks.
pub(super) trait Translate: Send + 'static {
    /// The chunks for one event (`event` is the SSE event name, often empty); an
    /// error ends the stream.
    fn event(&mut self, event: &str, data: &str) -> Result<Vec<ChatCompletionChunk>, ApiError>;
    /// Whether the reply is complete: reading stops, and an end of the stream
    /// before this is a truncation error.
    fn done(&self) -> bool;
}

/// The chunks of an upstream `response` read by `translate`, holding the base URL's
/// `lease` until the reply ends. Dropping the stream drops the upstream request.
pub(super) fn translate(
    response: reqwest::Response,
    lease: Lease,
    translate: impl Translate,
) -> ChunkStream {
    let reading = Reading {
        _lease: lease,
        bytes: response.bytes_stream().boxed(),
        decoder: SseDecoder::default(),
        translate,
        pending: VecDeque::new(),
        ended: false,
    };
    futures_util::stream::unfold(reading, |mut r| async move {
        loop {
            if let Some(item) = r.pending.pop_front() {
                return Some((item, r));
            }
            if r.ended {
                return None;
            }
            match r.bytes.next().await {
                Some(Ok(bytes)) => r.read(&bytes),
                Some(Err(e)) => {
                    tracing::warn!("an upstream stream broke: {e}");
                    r.end(ApiError::upstream(
                        "upstream_stream_error",
                        "the upstream stream broke",
                    ))
                }
                None => r.end(ApiError::upstream(
                    "upstream_truncated",
                    "the upstream stream ended before the reply was complete",
                )),
            }
        }
    })
    .boxed()
}

/// One upstream reply being read: its bytes, the events not complete yet, and the
/// chunks not handed on yet.
struct Reading<T> {
    _lease: Lease,
    bytes: BoxStream<'static, reqwest::Result<Bytes>>,
    decoder: SseDecoder,
    translate: T,
    pending: VecDeque<Result<ChatCompletionChunk, ApiError>>,
    ended: bool,
}

impl<T: Translate> Reading<T> {
    /// Translate the events `bytes` completes, up to the end of the reply.
    fn read(&mut self, bytes: &[u8]) {
        for event in self.decoder.push_events(bytes) {
            if self.ended {
                return;
            }
            match self.translate.event(&event.event, &event.data) {
                Ok(chunks) => {
                    self.pending.extend(chunks.into_iter().map(Ok));
                    self.ended = self.translate.done();
                }
                Err(e) => self.end(e),
            }
        }
    }

    /// The reply ends with `error`.
    fn end(&mut self, error: ApiError) {
        self.pending.push_back(Err(error));
        self.ended = true;
    }
}

/// An error event inside a provider's stream, summarised as a refusal is: the
/// provider's code when it is plain, never its message.
pub(super) fn stream_error(data: &serde_json::Value) -> ApiError {
    let code = provider_code(data).map_or(String::new(), |c| format!(" (code {c})"));
    ApiError::upstream(
        "upstream_error",
        format!("the upstream provider failed mid-stream{code}"),
    )
}

/// An event the provider sent that does not have the documented shape. What was
/// wrong goes to the log only: a parser's message can quote the provider's data.
pub(super) fn malformed(provider: &str, e: impl std::fmt::Display) -> ApiError {
    tracing::warn!("{provider} sent an unreadable event: {e}");
    ApiError::upstream(
        "upstream_malformed",
        format!("{provider} sent an event tandem cannot read"),
    )
}
