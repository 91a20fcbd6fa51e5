//! The native backend: one tandem-core engine on its own thread answering a batch of
//! requests at once (batch.rs), fed by a bounded queue. A full queue is a 503 whose
//! Retry-After is the time the queue takes to drain; a dropped reply stream cancels
//! its generation, or gives its place in the queue back. Native sentence encoders
//! (encoder.rs) run the same way, one embeddings request at a time.

mod batch;
pub mod encoder;
mod queue;

use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use futures_util::Stream;
use tandem_core::{CancelFlag, ChatCompletionChunk, ChatCompletionRequest};
use tokio::sync::mpsc;

use crate::call::{Call, ChunkStream};
use crate::error::ApiError;
use queue::{Place, Queue};

/// Where the model is in its life.
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    /// The file is being read.
    Loading,
    /// Serving.
    Ready,
    /// The file could not be loaded (the message says why).
    Failed(String),
}

struct Shared {
    status: Mutex<Status>,
    /// Replies in the running batch.
    running: AtomicUsize,
    /// Seconds a job has taken lately (a moving average; none until one has run).
    job_seconds: Mutex<Option<f64>>,
}

/// The weight of the newest job in [`Shared::job_seconds`].
const NEWEST: f64 = 0.25;

impl Shared {
    /// A job left the batch after `seconds`.
    fn job_took(&self, seconds: f64) {
        let mut each = self.job_seconds.lock().expect("job time lock");
        *each = Some(each.map_or(seconds, |e| (1.0 - NEWEST) * e + NEWEST * seconds));
    }
}

struct Job {
    request: ChatCompletionRequest,
    call: Call,
    cancel: CancelFlag,
    tx: mpsc::UnboundedSender<Result<ChatCompletionChunk, ApiError>>,
}

/// Handle of the model thread.
pub struct Native {
    queue: Arc<Queue<Job>>,
    shared: Arc<Shared>,
    max_batch: usize,
}

impl Native {
    /// Start the model thread: it loads `path`, then answers up to `max_batch` jobs
    /// at once while `queue_depth` more may wait.
    pub fn spawn(path: PathBuf, queue_depth: usize, max_batch: usize) -> Self {
        let max_batch = max_batch.max(1);
        let queue = Queue::new(queue_depth);
        let shared = Arc::new(Shared {
            status: Mutex::new(Status::Loading),
            running: AtomicUsize::new(0),
            job_seconds: Mutex::new(None),
        });
        let (jobs, worker) = (queue.clone(), shared.clone());
        std::thread::Builder::new()
            .name("tandem-model".into())
            .spawn(move || batch::run(&path, &jobs, &worker, max_batch))
            .expect("the model thread starts");
        Native {
            queue,
            shared,
            max_batch,
        }
    }

    /// Loading, ready or failed.
    pub fn status(&self) -> Status {
        self.shared.status.lock().expect("status lock").clone()
    }

    /// Requests waiting in the queue.
    pub fn queued(&self) -> usize {
        self.queue.waiting()
    }

    /// Whole seconds until the queue has drained: the waiting and running jobs in
    /// batches, each batch taking as long as jobs have lately (a second before any
    /// has run).
    pub fn drain_seconds(&self) -> u64 {
        let jobs = self.queued() + self.running();
        let batches = jobs.div_ceil(self.max_batch);
        let each = self.shared.job_seconds.lock().expect("job time lock");
        (batches as f64 * each.unwrap_or(1.0)).ceil().max(1.0) as u64
    }

    /// Replies being generated now.
    pub fn running(&self) -> usize {
        self.shared.running.load(Ordering::Relaxed)
    }

    /// Queue `request`; 503 when the queue is full or the model failed to load.
    pub fn open(
        &self,
        request: ChatCompletionRequest,
        call: &Call,
    ) -> Result<ChunkStream, ApiError> {
        if let Status::Failed(why) = self.status() {
            return Err(ApiError::overloaded(
                format!("the model is not available: {why}"),
                60,
            ));
        }
        // Unbounded: a client slow to read must not hold up the batch; its reply is at
        // most `max_tokens` chunks, and a client that stops reading is cut off.
        let (tx, rx) = mpsc::unbounded_channel();
        let cancel = CancelFlag::default();
        let job = Job {
            request,
            call: call.clone(),
            cancel: cancel.clone(),
            tx,
        };
        match self.queue.push(job) {
            Ok(place) => Ok(Box::pin(Replies {
                rx,
                cancel,
                _place: place,
            })),
            Err(_) if self.queue.is_closed() => {
                Err(ApiError::overloaded("the model thread stopped", 60))
            }
            Err(_) => Err(ApiError::overloaded(
                "the model's queue is full",
                self.drain_seconds(),
            )),
        }
    }
}

impl Drop for Native {
    fn drop(&mut self) {
        self.queue.close();
    }
}

/// The receiving end of one job; dropping it cancels the generation, or takes the
/// job out of the queue if it still waits.
struct Replies {
    rx: mpsc::UnboundedReceiver<Result<ChatCompletionChunk, ApiError>>,
    cancel: CancelFlag,
    _place: Place<Job>,
}

impl Stream for Replies {
    type Item = Result<ChatCompletionChunk, ApiError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.rx.poll_recv(cx)
    }
}

impl Drop for Replies {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}
