//! A JSON array of one node's items, `minItems..=maxItems` long.

use super::min_len::{after_commas, min_len};
use super::step::{Above, Child, Step};
use super::whitespace::Whitespace;
use crate::structured::schema::{Node, NodeId, Schema};

/// The `]` that closes an array.
const CLOSE_BRACKET: usize = "]".len();

/// An array of schema node `node` being written: its items so far (counted up to
/// the most that matter: `maxItems`, or `minItems` without a maximum), where it
/// is, and the whitespace run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct Array {
    node: NodeId,
    count: u16,
    phase: Phase,
    ws: Whitespace,
}

/// What an array expects next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Phase {
    /// The `[`.
    Start,
    /// The first item or the `]`.
    Open,
    /// The end of an item (open above).
    Item,
    /// A comma or the `]`.
    AfterItem,
    /// An item, after a comma.
    ExpectItem,
}

impl Array {
    pub(super) fn new(node: NodeId) -> Self {
        Array {
            node,
            count: 0,
            phase: Phase::Start,
            ws: Whitespace::default(),
        }
    }

    pub(super) fn step(&mut self, schema: &Schema, b: u8) -> Step {
        let Node::Array { items, min, max } = &schema.nodes[self.node as usize] else {
            return Step::Reject;
        };
        if self.phase == Phase::Start {
            return match b {
                b'[' => {
                    self.phase = Phase::Open;
                    Step::Consumed
                }
                _ => Step::Reject,
            };
        }
        if let Some(step) = self.ws.step(b) {
            return step;
        }
        let count = self.count as usize;
        let closes = b == b']' && count >= *min;
        let more = max.is_none_or(|max| count < max);
        match self.phase {
            Phase::Open | Phase::AfterItem if closes => Step::Done {
                consumed: true,
                index: 0,
            },
            Phase::AfterItem if b == b',' && more => {
                self.phase = Phase::ExpectItem;
                Step::Consumed
            }
            Phase::Open | Phase::ExpectItem if more => {
                self.phase = Phase::Item;
                Step::Open(Child::Value(*items))
            }
            _ => Step::Reject,
        }
    }

    /// The fewest bytes that end the array after those of what is open `above`:
    /// the items still missing, each after a comma but the first, and the `]`.
    pub(super) fn rest(self, schema: &Schema, above: Above) -> usize {
        let Node::Array { items, min, .. } = &schema.nodes[self.node as usize] else {
            return 0;
        };
        let item = min_len(schema, *items);
        let count = self.count as usize;
        // Items missing after the one being written, with their commas.
        let later = after_commas(min.saturating_sub(count + 1), item);
        match self.phase {
            Phase::Start => min_len(schema, self.node),
            Phase::Open => min_len(schema, self.node) - "[".len(),
            Phase::AfterItem => after_commas(min.saturating_sub(count), item) + CLOSE_BRACKET,
            Phase::ExpectItem => item + later + CLOSE_BRACKET,
            Phase::Item => {
                let now = match above.is_open() {
                    true => 0,
                    false => item,
                };
                now + later + CLOSE_BRACKET
            }
        }
    }

    /// An item has ended.
    pub(super) fn child_done(&mut self, schema: &Schema) {
        if let Node::Array { min, max, .. } = &schema.nodes[self.node as usize] {
            let cap = max.unwrap_or(*min) as u16;
            self.count = (self.count + 1).min(cap);
        }
        self.phase = Phase::AfterItem;
    }
}
