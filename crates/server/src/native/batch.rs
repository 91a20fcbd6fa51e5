//! The model thread's loop, batched: requests join the running batch between steps
//! (up to `max_batch`) and leave it when they end, fail or are cancelled; every step
//! advances all of them, those decoding in one batched forward pass. Each reply gets
//! exactly the tokens it would get alone (tandem-core's `Engine::step_replies`).
//! The KV caches of replies that ended are kept (as many as a batch holds) and given
//! to newcomers, the one holding most of a newcomer's prompt first, so a
//! conversation's next turn reads only its new tokens and memory stays bounded.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Instant;

use tandem_core::{ChatCompletionChunk, Engine, Reply, ReplyStep, Sequence};
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
    let mut spare: Vec<Sequence> = Vec::with_capacity(max_batch);
    loop {
        let newcomers = jobs.take(max_batch - batch.len(), batch.is_empty());
        if newcomers.is_empty() && batch.is_empty() {
            return;
        }
        for job in newcomers {
            batch.extend(start(&engine, job, &mut spare));
        }
        shared.running.store(batch.len(), Ordering::Relaxed);
        let steps = {
            let mut replies: Vec<&mut Reply> = batch.iter_mut().map(|r| &mut r.reply).collect();
            engine.step_replies(&mut replies)
        };
        let (going_on, ended): (Vec<_>, Vec<_>) = batch
            .into_iter()
            .zip(steps)
            .map(|(mut running, step)| (running.deliver(step), running))
            .partition(|(goes_on, _)| *goes_on);
        batch = going_on.into_iter().map(|(_, running)| running).collect();
        for (_, running) in ended {
            shared.job_took(running.started.elapsed().as_secs_f64());
            spare.extend(running.reply.into_sequence());
        }
        spare.truncate(max_batch);
        shared.running.store(batch.len(), Ordering::Relaxed);
    }
}

/// The engine for `path`, with the status set to ready or failed.
fn load(path: &Path, shared: &Shared) -> Option<Engine> {
    let loaded = Engine::open(path).map_err(|e| e.to_string());
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

/// `job` ready to join the batch, on a sequence of its own (the spare one holding
/// most of its prompt, else a new one); `None` when it was cancelled while it waited
/// or cannot run (the client is told why).
fn start(engine: &Engine, job: Job, spare: &mut Vec<Sequence>) -> Option<Running> {
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
            param: Some(request.prompt_field().into()),
            ..ApiError::invalid_request(format!(
                "the prompt has {} tokens, over this server's limit of {}",
                r.prompt_tokens(),
                call.max_prompt_tokens
            ))
        },
        Ok(reply) => {
            let warmest =
                (0..spare.len()).max_by_key(|&i| spare[i].reusable_prefix(reply.prompt()));
            let sequence = match warmest {
                Some(i) => spare.swap_remove(i),
                None => engine.model().new_sequence(),
            };
            return Some(Running {
                reply: reply.with_sequence(sequence),
                model: call.model,
                tx,
                started,
            });
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
