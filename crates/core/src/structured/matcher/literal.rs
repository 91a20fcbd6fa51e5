//! One of a set of literal JSON texts (an `enum`, `const`, `true`/`false`/`null`, or
//! an object's property names), matched byte by byte against all of them at once.

use super::step::Step;
use crate::structured::schema::{LitId, Schema};

/// A literal being written: the literals of `set` still possible (bits of `alive`,
/// so only a set's first 64 count) and the bytes matched so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct Literal {
    set: LitId,
    alive: u64,
    pos: u16,
}

impl Literal {
    /// Any literal of `set`.
    pub(super) fn new(set: LitId) -> Self {
        Literal::among(set, u64::MAX)
    }

    /// A literal of `set` whose bit is set in `alive`.
    pub(super) fn among(set: LitId, alive: u64) -> Self {
        Literal { set, alive, pos: 0 }
    }

    /// The literals still possible, as bits.
    pub(super) fn alive(self) -> u64 {
        self.alive
    }

    /// One byte: taken while some literal goes on with it; the literal ends with
    /// the byte when no longer one remains, or before it when one ended already.
    pub(super) fn step(&mut self, schema: &Schema, b: u8) -> Step {
        let lits = &schema.literals[self.set as usize];
        let at = self.pos as usize;
        let next = live(lits, self.alive, |lit| lit.get(at) == Some(&b));
        if next != 0 {
            self.alive = next;
            self.pos += 1;
            let longer = live(lits, next, |lit| lit.len() > at + 1);
            return match longer {
                0 => Step::Done {
                    consumed: true,
                    index: next.trailing_zeros() as usize,
                },
                _ => Step::Consumed,
            };
        }
        match live(lits, self.alive, |lit| lit.len() == at) {
            0 => Step::Reject,
            done => Step::Done {
                consumed: false,
                index: done.trailing_zeros() as usize,
            },
        }
    }

    /// Whether a literal still possible ends here.
    pub(super) fn can_end(self, schema: &Schema) -> bool {
        let lits = &schema.literals[self.set as usize];
        live(lits, self.alive, |l| l.len() == self.pos as usize) != 0
    }

    /// The fewest bytes still to come: the rest of the shortest literal possible.
    pub(super) fn rest(self, schema: &Schema) -> usize {
        let pos = self.pos as usize;
        schema.literals[self.set as usize]
            .iter()
            .enumerate()
            .take(64)
            .filter(|(i, lit)| self.alive & (1 << i) != 0 && lit.len() >= pos)
            .map(|(_, lit)| lit.len() - pos)
            .min()
            .unwrap_or(0)
    }
}

/// The bits of `alive` whose literal passes `keep` (literals past the set's end die).
fn live(lits: &[Vec<u8>], alive: u64, keep: impl Fn(&[u8]) -> bool) -> u64 {
    let mut out = 0;
    for (i, lit) in lits.iter().enumerate().take(64) {
        if alive & (1 << i) != 0 && keep(lit) {
            out |= 1 << i;
        }
    }
    out
}
