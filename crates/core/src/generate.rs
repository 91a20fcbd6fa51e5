//! The generation loop: prefill, then one token at a time as a stream of events,
//! with stop strings, max_tokens, end-of-turn tokens and a cancel flag.

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::event::{CancelFlag, Event};
use crate::model::{Model, Sequence};
use crate::params::GenerateParams;
use crate::protocol::{FinishReason, Usage};
use crate::sampling::{log_probs, Sampler};
use crate::stops::StopBuffer;
use crate::structured::{CallToken, Constraint};
use crate::tokenizer::Utf8Stream;
use crate::tool_call::Tooling;

/// Prompt tokens read per forward pass: small enough that a caller can check for
/// cancellation and report progress between passes on long prompts.
pub const PREFILL_CHUNK: usize = 64;

/// What the model reads for one step of a generation, at its position.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Input {
    /// The prompt's tokens from the position to `end`.
    Prompt { end: usize },
    /// The token generated last.
    Token(u32),
}

/// The state of one generation; advance it with [`Generation::next_event`], or with
/// others with [`Engine::step_generations`].
pub struct Generation {
    prompt: Vec<u32>,
    /// The sequence it runs on; `None`: the engine's own cache.
    sequence: Option<Sequence>,
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
    tools: Tooling,
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
        let opening = engine.template().ok().and_then(|t| t.tool_opening());
        let tools = match (params.tools, opening) {
            (None, _) => Tooling::Off,
            (Some(calling), Some(opening)) => Tooling::new(calling, opening)?,
            (Some(_), None) => {
                return Err(Error::InvalidRequest(format!(
                    "{} cannot call tools (its chat template has no tool calls tandem \
                     knows): tools need the remote engine",
                    engine.name()
                )))
            }
        };
        Ok(Generation {
            prompt,
            sequence: None,
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
            tools,
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

    /// Run this generation on `sequence` instead of the engine's own cache, so that
    /// it can be stepped with others ([`Engine::step_generations`]). Call it before
    /// the first step.
    pub fn with_sequence(self, sequence: Sequence) -> Self {
        assert!(
            self.pos == 0 && self.last.is_none(),
            "a generation moves to a sequence of its own before its first step"
        );
        Generation {
            sequence: Some(sequence),
            ..self
        }
    }

    /// The prompt's token ids.
    pub fn prompt(&self) -> &[u32] {
        &self.prompt
    }

    /// The sequence of its own it ran on, to run another generation on (which reuses
    /// what it holds of that one's prompt).
    pub fn into_sequence(self) -> Option<Sequence> {
        self.sequence
    }

    /// Run one step on `engine`: the first call prefills the prompt. Returns `None`
    /// after [`Event::Done`] or an error.
    pub fn next_event(&mut self, engine: &mut Engine) -> Option<Result<Event>> {
        let input = match self.input(engine.model()) {
            Ok(input) => input,
            Err(step) => return step,
        };
        let logits = self.read_alone(engine.model_mut(), input);
        self.take_logits(engine, input, logits)
    }

    /// What the model reads for the next step; or, when the step needs no model
    /// (the generation ended, is ending or was cancelled), the step's result.
    pub(crate) fn input(
        &mut self,
        model: &Model,
    ) -> std::result::Result<Input, Option<Result<Event>>> {
        if self.done {
            return Err(None);
        }
        if let Some(finish_reason) = self.finish {
            self.done = true;
            return Err(Some(Ok(self.done_event(finish_reason))));
        }
        if self.cancel.is_cancelled() {
            self.done = true;
            return Err(Some(Err(Error::Aborted)));
        }
        Ok(match self.last {
            None => {
                // Start after what the sequence already holds of this prompt.
                self.pos = match &self.sequence {
                    Some(sequence) => sequence.reusable_prefix(&self.prompt),
                    None => model.reusable_prefix(&self.prompt),
                };
                Input::Prompt {
                    end: (self.pos + PREFILL_CHUNK).min(self.prompt.len()),
                }
            }
            Some(token) => Input::Token(token),
        })
    }

    /// The sequence of its own, if it has one.
    pub(crate) fn sequence_mut(&mut self) -> Option<&mut Sequence> {
        self.sequence.as_mut()
    }

    /// Run `input` through `model` on this generation's sequence, alone.
    pub(crate) fn read_alone(&mut self, model: &mut Model, input: Input) -> Result<Vec<f32>> {
        let tokens = match &input {
            Input::Prompt { end } => &self.prompt[self.pos..*end],
            Input::Token(token) => std::slice::from_ref(token),
        };
        match &mut self.sequence {
            Some(sequence) => model.forward_on(sequence, tokens, self.pos),
            None => model.forward(tokens, self.pos),
        }
    }

    /// Finish the step that read `input`, given the model's `logits` for it: the
    /// prefill event of a prompt chunk, or the next token sampled.
    pub(crate) fn take_logits(
        &mut self,
        engine: &Engine,
        input: Input,
        logits: Result<Vec<f32>>,
    ) -> Option<Result<Event>> {
        let mut logits = match logits {
            Ok(logits) => logits,
            Err(e) => {
                self.done = true;
                return Some(Err(e));
            }
        };
        match input {
            Input::Prompt { end } if end < self.prompt.len() => {
                self.pos = end;
                return Some(Ok(Event::Prefill {
                    done: end,
                    total: self.prompt.len(),
                }));
            }
            Input::Prompt { end } => self.pos = end,
            Input::Token(_) => self.pos += 1,
        }
        let tokenizer = engine.tokenizer();
        let remaining = self.max_tokens - self.generated;
        let masked = match (self.tools.call(), &mut self.constraint) {
            (Some(call), _) => {
                call.mask_logits(engine.token_trie(), tokenizer, &mut logits, remaining)
            }
            (None, Some(constraint)) => {
                constraint.mask_logits(engine.token_trie(), tokenizer, &mut logits, remaining)
            }
            (None, None) => Ok(()),
        };
        if let Err(e) = masked {
            self.done = true;
            return Some(Err(e));
        }
        let id = self.sampler.sample(&mut logits);
        if !self.ignore_eos && tokenizer.is_end_of_generation(id) {
            self.done = true;
            return Some(Ok(self.done_event(FinishReason::Stop)));
        }
        self.last = Some(id);
        self.generated += 1;
        if let Some(call) = self.tools.call() {
            let (name, arguments) = match call.advance(tokenizer.piece(id)) {
                CallToken::Named(name) => (Some(name), String::new()),
                CallToken::Arguments => (None, self.utf8.push(tokenizer.piece(id))),
                CallToken::Structure => (None, String::new()),
            };
            if call.is_finished() {
                self.finish = Some(FinishReason::ToolCalls);
            } else if self.generated >= self.max_tokens {
                self.finish = Some(FinishReason::Length);
            }
            return Some(Ok(Event::ToolCall {
                id,
                name,
                arguments,
            }));
        }
        let text = self.utf8.push(tokenizer.piece(id));
        let text = self.tools.text(&text);
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
        let tail = self.tools.finish(&tail);
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
