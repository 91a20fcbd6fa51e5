//! The native backend: one tandem-core engine on its own thread, fed by a bounded
//! queue. A full queue is a 503 whose Retry-After is the time the queue takes to
//! drain; a dropped reply stream cancels its generation, or gives its place in the
//! queue back.

mod queue;

use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Instant;

use futures_util::Stream;
use tandem_core::{
    CancelFlag, ChatCompletionChunk, ChatCompletionRequest, Engine, Reply, ReplyStep,
};
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
    busy: AtomicBool,
    /// Seconds a job has taken lately (a moving average; none until one has run).
    job_seconds: Mutex<Option<f64>>,
}

/// The weight of the newest job in [`Shared::job_seconds`].
const NEWEST: f64 = 0.25;

struct Job {
    request: ChatCompletionRequest,
    call: Call,
    cancel: CancelFlag,
    tx: mpsc::Sender<Result<ChatCompletionChunk, ApiError>>,
}

/// Handle of the model thread.
pub struct Native {
    queue: Arc<Queue<Job>>,
    shared: Arc<Shared>,
}

/// Chunks buffered between the model thread and the HTTP response.
const CHANNEL: usize = 64;

impl Native {
    /// Start the model thread: it loads `path`, then serves jobs, `queue_depth` of
    /// which may wait while one runs.
    pub fn spawn(path: PathBuf, queue_depth: usize) -> Self {
        let queue = Queue::new(queue_depth);
        let shared = Arc::new(Shared {
            status: Mutex::new(Status::Loading),
            busy: AtomicBool::new(false),
            job_seconds: Mutex::new(None),
        });
        let (jobs, worker) = (queue.clone(), shared.clone());
        std::thread::Builder::new()
            .name("tandem-model".into())
            .spawn(move || run(path, &jobs, &worker))
            .expect("the model thread starts");
        Native { queue, shared }
    }

    /// Loading, ready or failed.
    pub fn status(&self) -> Status {
        self.shared.status.lock().expect("status lock").clone()
    }

    /// Requests waiting in the queue.
    pub fn queued(&self) -> usize {
        self.queue.waiting()
    }

    /// Whole seconds until the queue has drained: every waiting job and the running
    /// one, each taking as long as jobs have lately (a second before any has run).
    pub fn drain_seconds(&self) -> u64 {
        let jobs = self.queued() + usize::from(self.busy());
        let each = self.shared.job_seconds.lock().expect("job time lock");
        (jobs as f64 * each.unwrap_or(1.0)).ceil().max(1.0) as u64
    }

    /// Whether a generation is running.
    pub fn busy(&self) -> bool {
        self.shared.busy.load(Ordering::Relaxed)
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
        let (tx, rx) = mpsc::channel(CHANNEL);
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
    rx: mpsc::Receiver<Result<ChatCompletionChunk, ApiError>>,
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

fn run(path: PathBuf, jobs: &Queue<Job>, shared: &Shared) {
    let loaded = std::fs::read(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))
        .and_then(|bytes| Engine::load(&bytes).map_err(|e| e.to_string()));
    let mut engine = match loaded {
        Ok(engine) => {
            *shared.status.lock().expect("status lock") = Status::Ready;
            tracing::info!(model = engine.name(), "native model ready");
            Some(engine)
        }
        Err(why) => {
            tracing::error!("native model failed to load: {why}");
            *shared.status.lock().expect("status lock") = Status::Failed(why);
            None
        }
    };
    while let Some(job) = jobs.take(1, true).pop() {
        let Some(engine) = engine.as_mut() else {
            let _ = job
                .tx
                .blocking_send(Err(ApiError::overloaded("the model is not available", 60)));
            continue;
        };
        if job.cancel.is_cancelled() {
            continue;
        }
        shared.busy.store(true, Ordering::Relaxed);
        let started = Instant::now();
        answer(engine, job);
        let took = started.elapsed().as_secs_f64();
        let mut each = shared.job_seconds.lock().expect("job time lock");
        *each = Some(each.map_or(took, |each| (1.0 - NEWEST) * each + NEWEST * took));
        drop(each);
        shared.busy.store(false, Ordering::Relaxed);
    }
}

/// Run one job to its end, its error, or its cancellation.
fn answer(engine: &mut Engine, job: Job) {
    let Job {
        request,
        call,
        cancel,
        tx,
    } = job;
    let start = Instant::now();
    let clock = Box::new(move || start.elapsed().as_secs_f64() * 1e3);
    let reply = Reply::new(
        engine,
        &request,
        call.id,
        call.created,
        "remote",
        cancel,
        clock,
    );
    let mut reply = match reply {
        Ok(r) if r.prompt_tokens() > call.max_prompt_tokens => {
            let e = ApiError::invalid_request(format!(
                "the prompt has {} tokens, over this server's limit of {}",
                r.prompt_tokens(),
                call.max_prompt_tokens
            ));
            let _ = tx.blocking_send(Err(ApiError {
                code: "context_length_exceeded",
                param: Some("messages"),
                ..e
            }));
            return;
        }
        Ok(r) => r,
        Err(e) => {
            let _ = tx.blocking_send(Err(e.into()));
            return;
        }
    };
    while let Some(step) = reply.next_step(engine) {
        let sent = match step {
            Ok(ReplyStep::Working) => continue,
            Ok(ReplyStep::Chunk(mut chunk)) => {
                chunk.model.clone_from(&call.model);
                tx.blocking_send(Ok(chunk))
            }
            Err(e) => tx.blocking_send(Err(e.into())),
        };
        if sent.is_err() {
            return;
        }
    }
}
