//! The whole text: whitespace, one value of the schema's root, nothing after.

use super::min_len::min_len;
use super::step::{Above, Child, Step};
use super::whitespace::Whitespace;
use crate::structured::schema::Schema;

/// The bottom of the stack: before the value or (`done`) after it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub(super) struct Root {
    done: bool,
    ws: Whitespace,
}

impl Root {
    /// Whether the value has ended (nothing may follow).
    pub(super) fn is_done(self) -> bool {
        self.done
    }

    pub(super) fn step(&mut self, schema: &Schema, b: u8) -> Step {
        if self.done {
            return Step::Reject;
        }
        self.ws
            .step(b)
            .unwrap_or(Step::Open(Child::Value(schema.root)))
    }

    /// The fewest bytes still to come: the whole value unless it is open above
    /// (it counts its own) or has ended.
    pub(super) fn rest(self, schema: &Schema, above: Above) -> usize {
        match self.done || above.is_open() {
            true => 0,
            false => min_len(schema, schema.root),
        }
    }

    /// The value has ended.
    pub(super) fn child_done(&mut self) {
        self.done = true;
    }
}
