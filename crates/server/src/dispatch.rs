//! Fallback and timeouts: try a model's backends in order until one answers (a chat
//! reply's first chunk, or an embeddings request's vectors), skipping those cooling
//! down after a failure (unless all are); after that, a chat reply is bound to that
//! backend, under an idle timeout and one overall deadline.

use std::future::Future;
use std::time::Duration;

use futures_util::StreamExt;
use tandem_core::ChatCompletionRequest;
use tokio::time::{timeout_at, Instant};

use crate::backend::Backend;
use crate::call::{Call, ChunkStream};
use crate::error::ApiError;
use crate::health::Health;
use crate::model_backends::NamedBackend;

/// The timeouts of one request.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// The whole request.
    pub deadline: Duration,
    /// Until a backend's first chunk.
    pub first_byte: Duration,
    /// Between two chunks.
    pub idle: Duration,
}

/// Whether another backend may be tried after `e`: connect errors, timeouts before
/// the first byte, 429 and 5xx.
fn retryable(e: &ApiError) -> bool {
    e.status.as_u16() == 429 || e.status.is_server_error()
}

/// Open `request` on the first of `backends` that answers; the name of that backend
/// and its chunks, the first one included. A backend that fails so that the next is
/// tried is sent to cool down in `health`.
pub async fn dispatch(
    backends: &[NamedBackend],
    request: &ChatCompletionRequest,
    call: &Call,
    timeouts: Timeouts,
    health: &Health,
) -> Result<(String, ChunkStream), ApiError> {
    let deadline = Instant::now() + timeouts.deadline;
    let opened = first_answer(backends, timeouts, deadline, health, |backend| async move {
        let mut stream = backend.open(request, call).await?;
        match stream.next().await {
            Some(Ok(first)) => Ok((first, stream)),
            Some(Err(e)) => Err(e),
            None => Err(ApiError::upstream(
                "upstream_truncated",
                "the backend sent nothing",
            )),
        }
    });
    let (name, (first, rest)) = opened.await?;
    let chunks = futures_util::stream::once(async { Ok(first) }).chain(rest);
    Ok((name, bounded(chunks.boxed(), timeouts.idle, deadline)))
}

/// Run `attempt` on the first of `backends` that answers: the name of that backend
/// and its answer. Backends cooling down are skipped (unless all are); each attempt
/// has until the first-byte timeout or the `deadline`, whichever comes first. One
/// that fails so that the next is tried (connect errors, 429, 5xx, no answer in
/// time) is sent to cool down in `health` when the failure says it is in trouble; a
/// refusal of the request itself comes back at once.
pub async fn first_answer<'b, T, F, Fut>(
    backends: &'b [NamedBackend],
    timeouts: Timeouts,
    deadline: Instant,
    health: &Health,
    mut attempt: F,
) -> Result<(String, T), ApiError>
where
    F: FnMut(&'b Backend) -> Fut,
    Fut: Future<Output = Result<T, ApiError>>,
{
    let mut last = ApiError::overloaded("no backend is configured for this model", 60);
    let names: Vec<&str> = backends.iter().map(|b| b.name.as_str()).collect();
    // A lone backend is tried whatever its health: no need to ask.
    let cooling = match names.len() {
        0 | 1 => vec![false; names.len()],
        _ => health.cooling(&names).await,
    };
    let all_cooling = cooling.iter().all(|c| *c);
    let tried = backends
        .iter()
        .zip(cooling)
        .filter(|(_, cooling)| all_cooling || !cooling);
    for (NamedBackend { name, backend }, _) in tried {
        let limit = Instant::now() + timeouts.first_byte;
        match timeout_at(limit.min(deadline), attempt(backend)).await {
            Ok(Ok(answer)) => return Ok((name.clone(), answer)),
            Ok(Err(e)) if retryable(&e) => {
                tracing::warn!(backend = %name, code = e.code, "backend failed, trying the next");
                if e.is_backend_trouble() {
                    health.failed(name).await;
                }
                last = e;
            }
            Ok(Err(e)) => return Err(e),
            Err(_) => {
                tracing::warn!(backend = %name, "no answer in time, trying the next");
                health.failed(name).await;
                last = ApiError::timeout(format!("backend {name} did not answer in time"));
            }
        }
        if Instant::now() >= deadline {
            break;
        }
    }
    Err(last)
}

/// `chunks` ending with a timeout error when one does not come within `idle` or
/// the `deadline` passes.
fn bounded(chunks: ChunkStream, idle: Duration, deadline: Instant) -> ChunkStream {
    futures_util::stream::unfold(Some(chunks), move |chunks| async move {
        let mut chunks = chunks?;
        let limit = (Instant::now() + idle).min(deadline);
        match timeout_at(limit, chunks.next()).await {
            Ok(Some(item)) => Some((item, Some(chunks))),
            Ok(None) => None,
            Err(_) => Some((Err(ApiError::timeout("the backend stopped sending")), None)),
        }
    })
    .boxed()
}
