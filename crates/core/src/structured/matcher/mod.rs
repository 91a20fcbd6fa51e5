//! An incremental JSON recogniser for a compiled [`Schema`]: fed one byte at a time,
//! it says whether the text so far can still become JSON the schema accepts.
//!
//! The state is a stack of frames, one per construct open (the whole text, an
//! object, an array, a string, a literal, a number); each construct's type has its
//! rules for a byte, for the fewest bytes that end it, and for whether it may end.
//! Frames are small and hashable, so masks can be cached per state. Whitespace
//! runs, number digits and free-form nesting are bounded, so a model cannot loop
//! forever inside a value that never ends. A string counts its characters only if
//! its schema limits its length, so unlimited strings keep few distinct states.

mod array;
mod frame;
mod literal;
mod min_len;
mod number;
mod object;
mod root;
mod step;
mod string;
mod whitespace;

pub(crate) use string::{string_run, Limits};
pub use whitespace::MAX_WHITESPACE;

use crate::structured::schema::Schema;
use frame::Frame;
use root::Root;
use step::Step;

/// Where in a JSON text the matcher is; see [`Matcher::feed`].
#[derive(Debug, Default, PartialEq, Eq, Hash)]
pub struct Matcher {
    stack: Vec<Frame>,
}

impl Clone for Matcher {
    fn clone(&self) -> Self {
        Matcher {
            stack: self.stack.clone(),
        }
    }

    /// Reuses the stack's allocation (the token walk clones at every trie edge).
    fn clone_from(&mut self, source: &Self) {
        self.stack.clone_from(&source.stack);
    }
}

impl Matcher {
    /// A matcher at the start of a text that must be one value of `schema`.
    pub fn new() -> Self {
        Matcher {
            stack: vec![Frame::Root(Root::default())],
        }
    }

    /// Take one byte; `false` when no text with this prefix matches (the matcher is
    /// then spent: use a clone to try bytes).
    pub fn feed(&mut self, schema: &Schema, b: u8) -> bool {
        loop {
            let depth = self.stack.len();
            let Some(top) = self.stack.last_mut() else {
                return false;
            };
            match top.step(schema, b) {
                Step::Consumed => return true,
                Step::Reject => return false,
                Step::Open(child) => {
                    let mut frame = Frame::open(schema, child, b, depth);
                    return match frame.step(schema, b) {
                        Step::Consumed => {
                            self.stack.push(frame);
                            true
                        }
                        // A value of one byte: it ended as it started.
                        Step::Done {
                            consumed: true,
                            index,
                        } => {
                            top.child_done(schema, index);
                            true
                        }
                        _ => false,
                    };
                }
                Step::Done { consumed, index } => {
                    self.stack.pop();
                    match self.stack.last_mut() {
                        Some(parent) => parent.child_done(schema, index),
                        None => return false,
                    }
                    if consumed {
                        return true;
                    }
                }
            }
        }
    }

    /// Take every byte of `bytes`.
    pub fn feed_all(&mut self, schema: &Schema, bytes: &[u8]) -> bool {
        bytes.iter().all(|&b| self.feed(schema, b))
    }

    /// Whether the text so far is a complete value (it may still go on, as a
    /// number at the top level can).
    pub fn is_complete(&self, schema: &Schema) -> bool {
        match self.stack.as_slice() {
            [Frame::Root(root)] => root.is_done(),
            [Frame::Root(_), value] => value.can_end(schema),
            _ => false,
        }
    }

    /// Whether the value is complete and nothing may follow it.
    pub fn is_finished(&self) -> bool {
        matches!(self.stack.as_slice(), [Frame::Root(root)] if root.is_done())
    }

    /// When a string with length limits is open between two characters: this
    /// state without the limits (it allows every token this one does, and more)
    /// and the limits left.
    pub(crate) fn split_limits(&self) -> Option<(Matcher, Limits)> {
        let Some(Frame::Str(s)) = self.stack.last() else {
            return None;
        };
        let (free_string, limits) = s.split_limits()?;
        let mut free = self.clone();
        if let Some(top) = free.stack.last_mut() {
            *top = Frame::Str(free_string);
        }
        Some((free, limits))
    }

    /// The fewest bytes that complete the value from here (each byte has a token
    /// of its own, so also an upper bound of the tokens needed).
    pub fn completion_len(&self, schema: &Schema) -> usize {
        let mut total = 0;
        let mut child = None;
        for frame in self.stack.iter().rev() {
            total += frame.rest(schema, child);
            child = Some(frame);
        }
        total
    }
}

#[cfg(test)]
mod tests;
