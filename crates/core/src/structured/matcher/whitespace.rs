//! Whitespace between JSON tokens, in runs of bounded length.

use super::step::Step;

/// Most whitespace bytes in a row between two JSON tokens.
pub const MAX_WHITESPACE: u8 = 12;

/// How many whitespace bytes in a row came last.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub(super) struct Whitespace(u8);

impl Whitespace {
    /// Count `b` against the run limit: `Some` when `b` is whitespace (taken, or
    /// rejected past the limit); `None`, ending the run, when it is not.
    pub(super) fn step(&mut self, b: u8) -> Option<Step> {
        if matches!(b, b' ' | b'\n' | b'\t' | b'\r') {
            if self.0 >= MAX_WHITESPACE {
                return Some(Step::Reject);
            }
            self.0 += 1;
            return Some(Step::Consumed);
        }
        self.0 = 0;
        None
    }
}
