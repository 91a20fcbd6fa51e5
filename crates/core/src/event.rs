//! What a generation reports at each step, and the flag that stops it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::protocol::{FinishReason, Usage};
use crate::sampling::StepLogprobs;

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
        /// When [`crate::GenerateParams::top_logprobs`] asked for them.
        logprobs: Option<StepLogprobs>,
    },
    /// A token of a tool call was generated.
    ToolCall {
        /// Token id.
        id: u32,
        /// The function's name, with the token that completed it.
        name: Option<String>,
        /// Newly released text of the call's arguments (possibly empty).
        arguments: String,
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
