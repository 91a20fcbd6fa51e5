//! The model thread's loop, batched: requests join the running batch between steps
//! (up to `max_batch`) and leave it when they end, fail or are cancelled; every step
//! advances all of them, those decoding in one batched forward pass. Each reply gets
//! exactly the tokens it would get alone (tandem-core's `Engine::step_replies`).

use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Instant;

use tandem_core::{ChatCompletionChunk, Engine, Reply, ReplyStep};
use tokio::sync::mpsc::UnboundedSender;

use super::queue::Queue;
use super::{Job, Shared, Status};
use crate::error::ApiError;

/// One reply in the batch, and where its chunks go.
struct Running {
    reply: Reply,
    /// The model id the client asked for (the `model` of every chunk).
    model: String,
    tx: UnboundedSender<Result<ChatCompletionChunk, ApiError>>,
    started: Instant,
}

/// Load the model at `path`, then answer `jobs` until the queue closes.
pub(super) fn run(path: &Path, jobs: &Queue<Job>, shared: &Shared, max_batch: usize) {
    let Some(mut engine) = load(path, shared) else {
        while let Some(job) = jobs.take(1, true).pop() {
            let _ = job
                .tx
                .send(Err(ApiError::overloaded("the model is not available", 60)));
        }
        return;
    };
    let mut batch: Vec<Running> = Vec::with_capacity(max_batch);
    loop {
        let newcomers = jobs.take(max_batch - batch.len(), batch.is_empty());
        if newcomers.is_empty() && batch.is_empty() {
            return;
        }
        batch.extend(newcomers.into_iter().filter_map(|job| start(&engine, job)));
        shared.running.store(batch.len(), Ordering::Relaxed);
        let steps = {
            let mut replies: Vec<&mut Reply> = batch.iter_mut().map(|r| &mut r.reply).collect();
            engine.step_replies(&mut replies)
        };
        let mut steps = steps.into_iter();
        batch.retain_mut(|running| {
            let goes_on = running.deliver(steps.next().flatten());
            if !goes_on {
                shared.job_took(running.started.elapsed().as_secs_f64());
            }
            goes_on
        });
        shared.running.store(batch.len(), Ordering::Relaxed);
    }
}

/// The engine for `path`, with the status set to ready or failed.
fn load(path: &Path, shared: &Shared) -> Option<Engine> {
    let loaded = std::fs::read(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))
        .and_then(|bytes| Engine::load(&bytes).map_err(|e| e.to_string()));
    let (status, engine) = match loaded {
        Ok(engine) => {
            tracing::info!(model = engine.name(), "native model ready");
            (Status::Ready, Some(engine))
        }
        Err(why) => {
            tracing::error!("native model failed to load: {why}");
            (Status::Failed(why), None)
        }
    };
    *shared.status.lock().expect("status lock") = status;
    engine
}

/// `job` ready to join the batch, on a sequence of its own; `None` when it was
/// cancelled while it waited or cannot run (the client is told why).
fn start(engine: &Engine, job: Job) -> Option<Running> {
    let Job {
        request,
        call,
        cancel,
        tx,
    } = job;
    if cancel.is_cancelled() {
        return None;
    }
    let started = Instant::now();
    let clock = Box::new(move || started.elapsed().as_secs_f64() * 1e3);
    let reply = Reply::new(
        engine,
        &request,
        call.id,
        call.created,
        "remote",
        cancel,
        clock,
    );
    let refusal = match reply {
        Ok(r) if r.prompt_tokens() > call.max_prompt_tokens => ApiError {
            code: "context_length_exceeded",
            param: Some("messages"),
            ..ApiError::invalid_request(format!(
                "the prompt has {} tokens, over this server's limit of {}",
                r.prompt_tokens(),
                call.max_prompt_tokens
            ))
        },
        Ok(reply) => {
            return Some(Running {
                reply: reply.with_sequence(engine.model().new_sequence()),
                model: call.model,
                tx,
                started,
            })
        }
        Err(e) => e.into(),
    };
    let _ = tx.send(Err(refusal));
    None
}

impl Running {
    /// Hand on what one step made; whether the reply goes on.
    fn deliver(&mut self, step: Option<tandem_core::Result<ReplyStep>>) -> bool {
        match step {
            None => false,
            Some(Ok(ReplyStep::Working)) => true,
            Some(Ok(ReplyStep::Chunk(mut chunk))) => {
                chunk.model.clone_from(&self.model);
                // A client that hung up: its reply leaves the batch.
                self.tx.send(Ok(chunk)).is_ok()
            }
            Some(Err(e)) => {
                let _ = self.tx.send(Err(e.into()));
                false
            }
        }
    }
}
