//! A native encoder backend: one tandem-core sentence encoder on its own thread,
//! answering one embeddings request at a time (its texts run as padded batches)
//! from the same kind of bounded queue as the chat model. A full queue is a 503; a
//! request whose client hangs up while it waits gives its place back at once, and
//! one already running finishes and is thrown away (an encoder pass is short).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tandem_core::protocol::{EmbeddingRequest, EmbeddingResponse};
use tandem_core::Encoder;
use tokio::sync::oneshot;

use super::queue::Queue;
use super::Status;
use crate::call::EmbedCall;
use crate::error::ApiError;

struct Job {
    request: EmbeddingRequest,
    call: EmbedCall,
    tx: oneshot::Sender<Result<EmbeddingResponse, ApiError>>,
}

struct Shared {
    status: Mutex<Status>,
    /// Requests being embedded now (0 or 1).
    running: AtomicUsize,
}

/// Handle of an encoder thread.
pub struct NativeEncoder {
    queue: Arc<Queue<Job>>,
    shared: Arc<Shared>,
}

impl NativeEncoder {
    /// Start the encoder thread: it loads `path` (a folder or a GGUF file), then
    /// answers one request at a time while `queue_depth` more may wait.
    pub fn spawn(path: PathBuf, queue_depth: usize) -> Self {
        let queue = Queue::new(queue_depth);
        let shared = Arc::new(Shared {
            status: Mutex::new(Status::Loading),
            running: AtomicUsize::new(0),
        });
        let (jobs, worker) = (queue.clone(), shared.clone());
        std::thread::Builder::new()
            .name("tandem-encoder".into())
            .spawn(move || run(&path, &jobs, &worker))
            .expect("the encoder thread starts");
        NativeEncoder { queue, shared }
    }

    /// Loading, ready or failed.
    pub fn status(&self) -> Status {
        self.shared.status.lock().expect("status lock").clone()
    }

    /// Requests waiting in the queue.
    pub fn queued(&self) -> usize {
        self.queue.waiting()
    }

    /// Requests being embedded now.
    pub fn running(&self) -> usize {
        self.shared.running.load(Ordering::Relaxed)
    }

    /// The response to `request`, once the encoder thread has it; 503 when the queue
    /// is full or the encoder failed to load. Dropping the future gives up the place.
    pub async fn embed(
        &self,
        request: &EmbeddingRequest,
        call: &EmbedCall,
    ) -> Result<EmbeddingResponse, ApiError> {
        if let Status::Failed(why) = self.status() {
            return Err(ApiError::overloaded(
                format!("the encoder is not available: {why}"),
                60,
            ));
        }
        let (tx, rx) = oneshot::channel();
        let job = Job {
            request: request.clone(),
            call: call.clone(),
            tx,
        };
        let _place = match self.queue.push(job) {
            Ok(place) => place,
            Err(_) if self.queue.is_closed() => {
                return Err(ApiError::overloaded("the encoder thread stopped", 60))
            }
            Err(_) => return Err(ApiError::overloaded("the encoder's queue is full", 1)),
        };
        rx.await
            .unwrap_or_else(|_| Err(ApiError::overloaded("the encoder thread stopped", 60)))
    }
}

impl Drop for NativeEncoder {
    fn drop(&mut self) {
        self.queue.close();
    }
}

/// Load the encoder at `path`, then answer `jobs` one at a time until the queue
/// closes.
fn run(path: &Path, jobs: &Queue<Job>, shared: &Shared) {
    let encoder = match Encoder::open(path) {
        Ok(encoder) => {
            tracing::info!(
                path = %path.display(),
                dimensions = encoder.dimensions(),
                window = encoder.window(),
                "native encoder ready"
            );
            *shared.status.lock().expect("status lock") = Status::Ready;
            Some(encoder)
        }
        Err(e) => {
            tracing::error!("native encoder {} failed to load: {e}", path.display());
            *shared.status.lock().expect("status lock") = Status::Failed(e.to_string());
            None
        }
    };
    while let Some(job) = jobs.take(1, true).pop() {
        let Some(encoder) = &encoder else {
            let _ = job.tx.send(Err(ApiError::overloaded(
                "the encoder is not available",
                60,
            )));
            continue;
        };
        if job.tx.is_closed() {
            continue;
        }
        shared.running.store(1, Ordering::Relaxed);
        let answer = catch_unwind(AssertUnwindSafe(|| {
            answer(encoder, &job.request, &job.call)
        }))
        .unwrap_or_else(|_| {
            tracing::error!("the encoder panicked");
            Err(ApiError::from(tandem_core::Error::Inference(
                "the encoder failed".into(),
            )))
        });
        shared.running.store(0, Ordering::Relaxed);
        let _ = job.tx.send(answer);
    }
}

/// Embed `request`'s texts: refused when they have more tokens together than
/// `call.max_tokens` (413), or one is past the window without `truncate` (400).
fn answer(
    encoder: &Encoder,
    request: &EmbeddingRequest,
    call: &EmbedCall,
) -> Result<EmbeddingResponse, ApiError> {
    let texts = request.texts();
    let truncate = request.truncate.unwrap_or(false);
    let window = encoder.window();
    let tokens: usize = texts
        .iter()
        .map(|t| match encoder.tokenize(t).len() {
            n if truncate => n.min(window),
            n => n,
        })
        .sum();
    if tokens > call.max_tokens {
        return Err(ApiError::too_many_tokens(tokens, false, call.max_tokens));
    }
    let at = |param: &'static str| {
        move |e: tandem_core::Error| match e {
            tandem_core::Error::InvalidRequest(_) => ApiError::from(e).at(param),
            e => ApiError::from(e),
        }
    };
    let embeddings = encoder.embed(&texts, truncate).map_err(at("input"))?;
    EmbeddingResponse::new(request, &embeddings, &call.model).map_err(at("dimensions"))
}
