//! The fewest bytes of texts a schema accepts: a whole value of a node, and the
//! end of an object (its missing required entries and its `}`). The two call
//! each other, as objects hold values.

use super::literal::Literal;
use crate::structured::schema::{Node, NodeId, Schema};

/// The `:` between a key and its value.
pub(super) const COLON: usize = ":".len();
/// The `}` that closes an object.
pub(super) const CLOSE_BRACE: usize = "}".len();
/// The `,` between two entries or items.
const COMMA: usize = ",".len();

/// The fewest bytes of a whole value of `node`.
pub(super) fn min_len(schema: &Schema, node: NodeId) -> usize {
    match &schema.nodes[node as usize] {
        // One digit, as `0`.
        Node::Any | Node::Number { .. } => "0".len(),
        // The quotes and a byte for each character.
        Node::String { min, .. } => "\"\"".len() + usize::from(*min),
        Node::FreeObject { .. } => "{}".len(),
        Node::Literal(set) => Literal::new(*set).rest(schema),
        Node::Object { .. } => "{".len() + object_tail(schema, node, 0, true),
        // The first item has no comma before it.
        Node::Array { items, min, .. } => {
            let min = *min;
            "[]".len() + after_commas(min, min_len(schema, *items)) - min.min(1)
        }
    }
}

/// Bytes of `n` items (or entries) of `len` bytes each, each after a comma.
pub(super) fn after_commas(n: usize, len: usize) -> usize {
    n * (len + COMMA)
}

/// The fewest bytes of an entry `name:value` with a value of `node` (`name` is
/// the key as a JSON string).
pub(super) fn entry_len(schema: &Schema, name: &[u8], node: NodeId) -> usize {
    name.len() + COLON + min_len(schema, node)
}

/// The fewest bytes that end object `node` once the properties in `used` are
/// written: the required entries still missing, joined by commas (the first one
/// after a comma too unless `first`, when no entry came before), and the `}`.
pub(super) fn object_tail(schema: &Schema, node: NodeId, used: u64, first: bool) -> usize {
    let Node::Object {
        keys,
        props,
        required,
    } = &schema.nodes[node as usize]
    else {
        return CLOSE_BRACE;
    };
    let names = &schema.literals[*keys as usize];
    let missing: Vec<usize> = (0..props.len())
        .filter(|&i| required & !used & (1 << i) != 0)
        .collect();
    let commas = match first {
        true => missing.len().saturating_sub(1),
        false => missing.len(),
    };
    let sizes: usize = missing
        .iter()
        .map(|&i| entry_len(schema, &names[i], props[i]))
        .sum();
    sizes + commas * COMMA + CLOSE_BRACE
}
