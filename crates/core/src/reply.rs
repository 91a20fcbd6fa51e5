//! One chat reply from the engine as OpenAI chunks: the role chunk, text chunks as
//! tokens come (or a tool call's pieces: its id and name once the name is complete,
//! then fragments of its arguments), the finish chunk, then a usage chunk carrying
//! tandem's timings.

use std::collections::VecDeque;

use crate::engine::Engine;
use crate::error::Result;
use crate::event::{CancelFlag, Event};
use crate::generate::Generation;
use crate::model::Sequence;
use crate::params::GenerateParams;
use crate::protocol::{
    ChatCompletionChunk, ChatCompletionRequest, ChunkWriter, TandemInfo, TokenLogprob,
    ToolCallDelta, TopLogprob,
};
use crate::sampling::StepLogprobs;
use crate::timing::Stopwatch;

/// A clock in milliseconds, supplied by the caller (tandem-core has no clock).
pub type Clock = Box<dyn Fn() -> f64>;

/// What one step of a [`Reply`] produced.
#[derive(Debug, Clone, PartialEq)]
// Returned once per step and never stored in bulk: boxing would only add an allocation.
#[allow(clippy::large_enum_variant)]
pub enum ReplyStep {
    /// A chunk to send.
    Chunk(ChatCompletionChunk),
    /// The model worked (read part of a long prompt, or made a token whose text is
    /// held back) and there is nothing to send yet.
    Working,
}

/// The state of one reply; advance it with [`Reply::next_step`] (or with others with
/// [`Engine::step_replies`]), checking for cancellation and yielding to other work
/// between steps if needed.
pub struct Reply {
    generation: Generation,
    writer: ChunkWriter,
    route: String,
    model: String,
    clock: Clock,
    stopwatch: Option<Stopwatch>,
    pending: VecDeque<ChatCompletionChunk>,
    started: bool,
    /// The id of the reply's tool call (`call_…`, from the reply's id).
    call_id: String,
}

impl Reply {
    /// Check `request` against `engine` and prepare its reply (chunk id `id`,
    /// `created` in Unix seconds); `route` goes into the `tandem` extension.
    pub fn new(
        engine: &Engine,
        request: &ChatCompletionRequest,
        id: String,
        created: u64,
        route: &str,
        cancel: CancelFlag,
        clock: Clock,
    ) -> Result<Self> {
        let params = GenerateParams::from_request(request)?;
        let prompt = match &request.prompt {
            Some(text) => engine.raw_prompt(text),
            None => {
                let mut kwargs = request.chat_template_kwargs.clone().unwrap_or_default();
                if let (Some(tools), Some(_)) = (&request.tools, &params.tools) {
                    let tools = serde_json::to_value(tools)
                        .map_err(|e| crate::Error::InvalidRequest(e.to_string()))?;
                    kwargs.insert("tools".into(), tools);
                }
                engine.chat_prompt_with(&request.messages, &kwargs)?
            }
        };
        let call_id = id.replacen("chatcmpl-", "call_", 1);
        let generation = engine.generate(prompt, params, cancel)?;
        Ok(Reply {
            generation,
            writer: ChunkWriter::new(id, created, engine.name()),
            route: route.to_string(),
            model: engine.name().to_string(),
            clock,
            stopwatch: None,
            pending: VecDeque::new(),
            started: false,
            call_id,
        })
    }

    /// Tokens in the prompt.
    pub fn prompt_tokens(&self) -> usize {
        self.generation.usage().prompt_tokens
    }

    /// The prompt's token ids.
    pub fn prompt(&self) -> &[u32] {
        self.generation.prompt()
    }

    /// The sequence of its own it ran on (see [`Generation::into_sequence`]).
    pub fn into_sequence(self) -> Option<Sequence> {
        self.generation.into_sequence()
    }

    /// Run this reply on `sequence` instead of the engine's own cache, so that it
    /// can be stepped with others ([`Engine::step_replies`]). Call it before the
    /// first step.
    pub fn with_sequence(self, sequence: Sequence) -> Self {
        Reply {
            generation: self.generation.with_sequence(sequence),
            ..self
        }
    }

    /// Run one step on `engine`; `None` once the usage chunk was returned or after an
    /// error (`aborted` once the cancel flag is set).
    pub fn next_step(&mut self, engine: &mut Engine) -> Option<Result<ReplyStep>> {
        if let Some(chunk) = self.ready_chunk() {
            return Some(Ok(ReplyStep::Chunk(chunk)));
        }
        let event = self.generation.next_event(engine);
        self.step_of(engine, event)
    }

    /// The chunk this step sends without the model, if any: the role chunk first,
    /// then those that follow the last event.
    pub(crate) fn ready_chunk(&mut self) -> Option<ChatCompletionChunk> {
        if !self.started {
            self.started = true;
            let now = (self.clock)();
            self.stopwatch = Some(Stopwatch::start(now, self.prompt_tokens()));
            return Some(self.writer.role());
        }
        self.pending.pop_front()
    }

    /// The generation, to step with others'.
    pub(crate) fn generation_mut(&mut self) -> &mut Generation {
        &mut self.generation
    }

    /// The step made of the generation's `event` (`None`: it had ended).
    pub(crate) fn step_of(
        &mut self,
        engine: &Engine,
        event: Option<Result<Event>>,
    ) -> Option<Result<ReplyStep>> {
        let event = match event? {
            Ok(event) => event,
            Err(e) => return Some(Err(e)),
        };
        let stopwatch = self.stopwatch.as_mut()?;
        let step = match event {
            Event::Prefill { .. } => ReplyStep::Working,
            Event::Token { id, text, logprobs } => {
                stopwatch.token((self.clock)());
                let logprobs = logprobs.map(|StepLogprobs { logprob, top }| {
                    let tokenizer = engine.tokenizer();
                    let top_logprob = |(id, logprob)| {
                        let bytes = tokenizer.piece(id).to_vec();
                        TopLogprob {
                            token: String::from_utf8_lossy(&bytes).into_owned(),
                            logprob,
                            bytes,
                        }
                    };
                    let this = top_logprob((id, logprob));
                    vec![TokenLogprob {
                        token: this.token,
                        logprob,
                        bytes: this.bytes,
                        top_logprobs: top.into_iter().map(top_logprob).collect(),
                    }]
                });
                if text.is_empty() && logprobs.is_none() {
                    ReplyStep::Working
                } else {
                    ReplyStep::Chunk(self.writer.content(text, logprobs))
                }
            }
            Event::ToolCall {
                id: _,
                name,
                arguments,
            } => {
                stopwatch.token((self.clock)());
                match (name, arguments.is_empty()) {
                    (Some(name), _) => {
                        let start = ToolCallDelta::start(0, self.call_id.clone(), name, arguments);
                        ReplyStep::Chunk(self.writer.tool_call(start))
                    }
                    (None, false) => {
                        let piece = ToolCallDelta::arguments(0, arguments);
                        ReplyStep::Chunk(self.writer.tool_call(piece))
                    }
                    (None, true) => ReplyStep::Working,
                }
            }
            Event::Done {
                text,
                finish_reason,
                usage,
            } => {
                let timings = stopwatch.timings(usage.completion_tokens);
                let info = TandemInfo {
                    route: self.route.clone(),
                    model: self.model.clone(),
                    prefill_tokens_per_s: timings.prefill_tokens_per_s,
                    decode_tokens_per_s: timings.decode_tokens_per_s,
                    time_to_first_token_ms: timings.time_to_first_token_ms,
                    ..TandemInfo::default()
                };
                if !text.is_empty() {
                    self.pending.push_back(self.writer.content(text, None));
                }
                self.pending.push_back(self.writer.finish(finish_reason));
                self.pending.push_back(self.writer.usage(usage, Some(info)));
                return self.pending.pop_front().map(|c| Ok(ReplyStep::Chunk(c)));
            }
        };
        Some(Ok(step))
    }
}
