//! Continuous batching: several generations (or replies) advanced one step at a
//! time together, each on a sequence of its own. Those still reading their prompt
//! read one chunk of it, alone; all those that want their next token share one
//! batched forward pass. The caller holds the set and may add or drop members
//! between steps; each member's events are the ones it would get stepped alone.

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::event::Event;
use crate::generate::{Generation, Input};
use crate::model::Sequence;
use crate::reply::{Reply, ReplyStep};

impl Engine {
    /// Advance each of `generations` by one step, as [`Generation::next_event`]
    /// would, and return their results in order (`None`: it had ended). Each must
    /// run on a sequence of its own ([`Generation::with_sequence`]); one that does
    /// not ends with an `inference_failed` error instead of taking its step.
    pub fn step_generations(
        &mut self,
        generations: &mut [&mut Generation],
    ) -> Vec<Option<Result<Event>>> {
        let mut events: Vec<Option<Result<Event>>> = generations.iter().map(|_| None).collect();
        // The token each wants to run in the batch.
        let mut tokens: Vec<Option<u32>> = vec![None; generations.len()];
        for (i, generation) in generations.iter_mut().enumerate() {
            let input = match generation.input(self.model()) {
                Ok(input) => input,
                Err(event) => {
                    events[i] = event;
                    continue;
                }
            };
            let own = generation.sequence_mut().is_some();
            let logits = match input {
                _ if !own => Err(Error::Inference(
                    "a generation stepped with others needs a sequence of its own".into(),
                )),
                Input::Prompt { .. } => generation.read_alone(self.model_mut(), input),
                Input::Token(token) => {
                    tokens[i] = Some(token);
                    continue;
                }
            };
            events[i] = generation.take_logits(self, input, logits);
        }
        let batch: Vec<u32> = tokens.iter().flatten().copied().collect();
        if batch.is_empty() {
            return events;
        }
        let mut sequences: Vec<&mut Sequence> = generations
            .iter_mut()
            .zip(&tokens)
            .filter(|(_, token)| token.is_some())
            .filter_map(|(generation, _)| generation.sequence_mut())
            .collect();
        let logits = match self.model_mut().forward_batch(&mut sequences, &batch) {
            Ok(all) => all.into_iter().map(Ok).collect(),
            Err(e) => vec![Err(e); batch.len()],
        };
        let batched = tokens
            .iter()
            .enumerate()
            .filter_map(|(i, t)| Some((i, (*t)?)));
        for ((i, token), logits) in batched.zip(logits) {
            events[i] = generations[i].take_logits(self, Input::Token(token), logits);
        }
        events
    }

    /// Advance each of `replies` by one step, as [`Reply::next_step`] would, and
    /// return their results in order (`None`: it had ended). Those whose step needs
    /// the model are stepped together ([`Engine::step_generations`]), so each must
    /// run on a sequence of its own ([`Reply::with_sequence`]).
    pub fn step_replies(&mut self, replies: &mut [&mut Reply]) -> Vec<Option<Result<ReplyStep>>> {
        let mut steps: Vec<Option<Result<ReplyStep>>> = replies.iter().map(|_| None).collect();
        let mut stepping = Vec::new();
        let mut generations: Vec<&mut Generation> = Vec::new();
        for (i, reply) in replies.iter_mut().enumerate() {
            match reply.ready_chunk() {
                Some(chunk) => steps[i] = Some(Ok(ReplyStep::Chunk(chunk))),
                None => {
                    stepping.push(i);
                    generations.push(reply.generation_mut());
                }
            }
        }
        let events = self.step_generations(&mut generations);
        for (i, event) in stepping.into_iter().zip(events) {
            steps[i] = replies[i].step_of(self, event);
        }
        steps
    }
}
