//! A JSON object: with a schema's properties (each key once, the required ones
//! before the `}`) or free-form (any keys, values of one node).

use super::min_len::{entry_len, min_len, object_tail, CLOSE_BRACE, COLON};
use super::step::{Above, Child, Step};
use super::whitespace::Whitespace;
use crate::structured::schema::{Node, NodeId, Schema};

/// After a free-form key: the colon, the shortest value (`0`) and the `}`.
const FREE_VALUE_AND_CLOSE: usize = ":0}".len();
/// After a comma in a free-form object: the shortest entry (`"":0`) and the `}`.
const FREE_ENTRY_AND_CLOSE: usize = "\"\":0}".len();

/// An object of schema node `node` being written: the properties written so far
/// (bits of `used`), where it is, and the whitespace run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct Object {
    node: NodeId,
    used: u64,
    phase: Phase,
    ws: Whitespace,
}

/// What an object expects next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Phase {
    /// The `{`.
    Start,
    /// The first key or the `}`.
    Open,
    /// A key, after a comma.
    Key,
    /// The `:` before a value of the node.
    Colon(NodeId),
    /// A value of the node.
    Value(NodeId),
    /// A comma or the `}`.
    AfterValue,
}

impl Object {
    pub(super) fn new(node: NodeId) -> Self {
        Object {
            node,
            used: 0,
            phase: Phase::Start,
            ws: Whitespace::default(),
        }
    }

    pub(super) fn step(&mut self, schema: &Schema, b: u8) -> Step {
        let spec = &schema.nodes[self.node as usize];
        if self.phase == Phase::Start {
            return match b {
                b'{' => {
                    self.phase = Phase::Open;
                    Step::Consumed
                }
                _ => Step::Reject,
            };
        }
        if let Some(step) = self.ws.step(b) {
            return step;
        }
        let (required, remaining) = match spec {
            Node::Object {
                props, required, ..
            } => (*required, low_bits(props.len()) & !self.used),
            _ => (0, u64::MAX),
        };
        let closes = b == b'}' && required & !self.used == 0;
        match (self.phase, b) {
            (Phase::Open | Phase::Key, b'"') => match spec {
                Node::Object { keys, .. } if remaining != 0 => Step::Open(Child::Key {
                    keys: *keys,
                    alive: remaining,
                }),
                Node::FreeObject { .. } => Step::Open(Child::FreeKey),
                _ => Step::Reject,
            },
            (Phase::Open | Phase::AfterValue, b'}') if closes => Step::Done {
                consumed: true,
                index: 0,
            },
            (Phase::Colon(value), b':') => {
                self.phase = Phase::Value(value);
                Step::Consumed
            }
            (Phase::Value(value), _) => Step::Open(Child::Value(value)),
            (Phase::AfterValue, b',') if remaining != 0 => {
                self.phase = Phase::Key;
                Step::Consumed
            }
            _ => Step::Reject,
        }
    }

    /// The fewest bytes that end the object after those of what is open `above`.
    pub(super) fn rest(self, schema: &Schema, above: Above) -> usize {
        let (node, used) = (self.node, self.used);
        // A value of `value` (none if it is open above: it counts its own bytes),
        // then the object's end.
        let value_and_tail = |value: NodeId| {
            let value = match above.is_open() {
                true => 0,
                false => min_len(schema, value),
            };
            value + object_tail(schema, node, used, false)
        };
        match self.phase {
            Phase::Start => min_len(schema, node),
            // A key is open: the best of the properties it may still become.
            Phase::Open | Phase::Key if above.is_open() => {
                match (&schema.nodes[node as usize], above) {
                    (Node::Object { props, .. }, Above::Literal { alive }) => (0..props.len())
                        .filter(|&i| alive & (1 << i) != 0)
                        .map(|i| {
                            let after = used | (1 << i);
                            COLON
                                + min_len(schema, props[i])
                                + object_tail(schema, node, after, false)
                        })
                        .min()
                        .unwrap_or(0),
                    _ => FREE_VALUE_AND_CLOSE,
                }
            }
            Phase::Open => object_tail(schema, node, used, true),
            Phase::AfterValue => object_tail(schema, node, used, false),
            Phase::Colon(value) => COLON + value_and_tail(value),
            Phase::Value(value) => value_and_tail(value),
            // After a comma a key must come: if none is required, the shortest
            // entry still free.
            Phase::Key => match &schema.nodes[node as usize] {
                Node::Object { props, keys, .. } => {
                    let names = &schema.literals[*keys as usize];
                    let tail = object_tail(schema, node, used, true);
                    let any_missing = tail > CLOSE_BRACE;
                    match any_missing {
                        true => tail,
                        false => {
                            (0..props.len())
                                .filter(|&i| used & (1 << i) == 0)
                                .map(|i| entry_len(schema, &names[i], props[i]))
                                .min()
                                .unwrap_or(0)
                                + CLOSE_BRACE
                        }
                    }
                }
                _ => FREE_ENTRY_AND_CLOSE,
            },
        }
    }

    /// The key (`index`: which property) or value open above has ended.
    pub(super) fn child_done(&mut self, schema: &Schema, index: usize) {
        self.phase = match (self.phase, &schema.nodes[self.node as usize]) {
            (Phase::Open | Phase::Key, Node::Object { props, .. }) => {
                self.used |= 1 << index;
                Phase::Colon(props[index])
            }
            (Phase::Open | Phase::Key, Node::FreeObject { value }) => Phase::Colon(*value),
            _ => Phase::AfterValue,
        }
    }
}

/// The lowest `n` bits set.
fn low_bits(n: usize) -> u64 {
    if n >= 64 {
        u64::MAX
    } else {
        (1 << n) - 1
    }
}
