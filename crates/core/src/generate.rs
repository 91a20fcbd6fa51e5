//! The generation loop: prefill, then one token at a time as a stream of events,
//! with stop strings, max_tokens, end-of-turn tokens and a cancel flag.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::params::GenerateParams;
use crate::protocol::{FinishReason, Usage};
use crate::sampling::{log_probs, Sampler, StepLogprobs};
use crate::stops::StopBuffer;
use crate::structured::Constraint;
use crate::tokenizer::Utf8Stream;

/// Prompt tokens read per forward pass: small enough that a caller can check for
/// cancellation and report progress between passes on long prompts.
pub const PREFILL_CHUNK: usize = 64;

/// A flag another party sets to stop a generation between two tokens.
#[derive(Debug, Clone, Default)]
pub struct CancelFlag(Arc<AtomicBool>);

impl CancelFlag {
    /// Ask the generation to stop.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// Whether [`CancelFlag::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// One step of a generation.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Part of the prompt was read (long prompts take several steps).
    Prefill {
        /// Prompt tokens read so far.
        done: usize,
        /// Prompt tokens in all.
        total: usize,
    },
    /// A token was generated. `text` is what may be shown now: possibly empty while
    /// a character or a possible stop string is incomplete.
    Token {
        /// Token id.
        id: u32,
        /// Newly released text.
        text: String,
        /// When [`GenerateParams::top_logprobs`] asked for them.
        logprobs: Option<StepLogprobs>,
    },
    /// Generation ended. `text` is the last released text.
    Done {
        /// Text released at the end (held-back characters that did not form a stop).
        text: String,
        /// Why it ended.
        finish_reason: FinishReason,
        /// Token counts.
        usage: Usage,
    },
}

/// The state of one generation; advance it with [`Generation::next_event`].
pub struct Generation {
    prompt: Vec<u32>,
    /// Token generated last, not yet fed to the model; `None` before prefill ends.
    last: Option<u32>,
    /// Tokens the model has read (prompt, then generated ones).
    pos: usize,
    generated: usize,
    max_tokens: usize,
    ignore_eos: bool,
    top_logprobs: Option<usize>,
    sampler: Sampler,
    utf8: Utf8Stream,
    stops: StopBuffer,
    constraint: Option<Constraint>,
    cancel: CancelFlag,
    finish: Option<FinishReason>,
    done: bool,
}

impl Generation {
    /// Check the request against the engine and prepare it; nothing runs yet.
    pub(crate) fn new(
        engine: &Engine,
        prompt: Vec<u32>,
        params: GenerateParams,
        cancel: CancelFlag,
    ) -> Result<Self> {
        let vocab = engine.tokenizer().vocab_size();
        if prompt.is_empty() {
            return Err(Error::InvalidRequest("the prompt is empty".into()));
        }
        if let Some(bad) = prompt.iter().find(|&&id| id as usize >= vocab) {
            return Err(Error::InvalidRequest(format!(
                "prompt token {bad} is outside the vocabulary of {vocab}"
            )));
        }
        params.sampling.validate(vocab)?;
        let window = engine.context_window();
        let room = window.saturating_sub(prompt.len());
        let max_tokens = params.max_tokens.unwrap_or(room);
        if params.max_tokens == Some(0) {
            return Err(Error::InvalidRequest(
                "max_tokens must be at least 1".into(),
            ));
        }
        if max_tokens == 0 || max_tokens > room {
            return Err(Error::ContextLengthExceeded {
                prompt_tokens: prompt.len(),
                max_tokens: max_tokens.max(1),
                context_window: window,
            });
        }
        Ok(Generation {
            prompt,
            last: None,
            pos: 0,
            generated: 0,
            max_tokens,
            ignore_eos: params.ignore_eos,
            top_logprobs: params.top_logprobs,
            sampler: Sampler::new(params.sampling),
            utf8: Utf8Stream::default(),
            stops: StopBuffer::new(params.stop)?,
            constraint: params.schema.map(Constraint::new),
            cancel,
            finish: None,
            done: false,
        })
    }

    /// Token counts so far.
    pub fn usage(&self) -> Usage {
        Usage {
            prompt_tokens: self.prompt.len(),
            completion_tokens: self.generated,
            total_tokens: self.prompt.len() + self.generated,
        }
    }

    /// Run one step on `engine`: the first call prefills the prompt. Returns `None`
    /// after [`Event::Done`] or an error.
    pub fn next_event(&mut self, engine: &mut Engine) -> Option<Result<Event>> {
        if self.done {
            return None;
        }
        if let Some(finish_reason) = self.finish {
            self.done = true;
            return Some(Ok(self.done_event(finish_reason)));
        }
        if self.cancel.is_cancelled() {
            self.done = true;
            return Some(Err(Error::Aborted));
        }
        let logits = match self.last {
            None => {
                // Start after what the model's cache already holds of this prompt.
                self.pos = engine.model().reusable_prefix(&self.prompt);
                let end = (self.pos + PREFILL_CHUNK).min(self.prompt.len());
                let logits = engine
                    .model_mut()
                    .forward(&self.prompt[self.pos..end], self.pos);
                if logits.is_ok() && end < self.prompt.len() {
                    self.pos = end;
                    return Some(Ok(Event::Prefill {
                        done: end,
                        total: self.prompt.len(),
                    }));
                }
                logits
            }
            Some(token) => engine.model_mut().forward(&[token], self.pos),
        };
        let mut logits = match logits {
            Ok(logits) => logits,
            Err(e) => {
                self.done = true;
                return Some(Err(e));
            }
        };
        self.pos = match self.last {
            None => self.prompt.len(),
            Some(_) => self.pos + 1,
        };
        let tokenizer = engine.tokenizer();
        if let Some(constraint) = &mut self.constraint {
            let remaining = self.max_tokens - self.generated;
            let trie = engine.token_trie();
            let masked = constraint.mask_logits(trie, tokenizer, &mut logits, remaining);
            if let Err(e) = masked {
                self.done = true;
                return Some(Err(e));
            }
        }
        let id = self.sampler.sample(&mut logits);
        if !self.ignore_eos && tokenizer.is_end_of_generation(id) {
            self.finish = Some(FinishReason::Stop);
            return self.next_event(engine);
        }
        self.last = Some(id);
        self.generated += 1;
        let text = self.utf8.push(tokenizer.piece(id));
        let released = self.stops.push(&text);
        let json_done = self.constraint.as_mut().is_some_and(|c| {
            c.advance(tokenizer.piece(id));
            c.is_finished()
        });
        if released.stopped || json_done {
            self.finish = Some(FinishReason::Stop);
        } else if self.generated >= self.max_tokens {
            self.finish = Some(FinishReason::Length);
        }
        Some(Ok(Event::Token {
            id,
            text: released.text,
            logprobs: self.top_logprobs.map(|n| log_probs(&logits, id, n)),
        }))
    }

    fn done_event(&mut self, finish_reason: FinishReason) -> Event {
        let tail = self.utf8.finish();
        let released = self.stops.push(&tail);
        let text = if released.stopped {
            released.text
        } else {
            released.text + &self.stops.finish()
        };
        Event::Done {
            text,
            finish_reason,
            usage: self.usage(),
        }
    }
}
/// Running generations on an engine.
impl Engine {
    /// Prepare a generation from `prompt` (token ids); advance it with
    /// [`Generation::next_event`] or iterate it with [`Engine::stream`].
    pub fn generate(
        &self,
        prompt: Vec<u32>,
        params: GenerateParams,
        cancel: CancelFlag,
    ) -> Result<Generation> {
        Generation::new(self, prompt, params, cancel)
    }

    /// Iterate the events of `generation` on this engine.
    pub fn stream<'a>(&'a mut self, generation: &'a mut Generation) -> Stream<'a> {
        Stream {
            engine: self,
            generation,
        }
    }
}

/// Iterator over the events of a [`Generation`].
pub struct Stream<'a> {
    engine: &'a mut Engine,
    generation: &'a mut Generation,
}

impl Iterator for Stream<'_> {
    type Item = Result<Event>;

    fn next(&mut self) -> Option<Self::Item> {
        self.generation.next_event(self.engine)
    }
}
