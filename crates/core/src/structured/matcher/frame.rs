//! One construct open on the matcher's stack, and the dispatch of each rule
//! (step, completion length, end, a child's end) to the construct's own type.

use super::array::Array;
use super::literal::Literal;
use super::number::Number;
use super::object::Object;
use super::root::Root;
use super::step::{Above, Child, Step};
use super::string::Str;
use crate::structured::schema::{Node, Schema, ANY_ARRAY, ANY_OBJECT, KEYWORDS};

/// Most containers open at once inside a free-form (`json_object`) value.
pub(super) const MAX_NESTING: usize = 12;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum Frame {
    Root(Root),
    Object(Object),
    Array(Array),
    Str(Str),
    Literal(Literal),
    Number(Number),
}

impl Frame {
    /// The frame of `child`, which starts with `b` on a stack `depth` frames deep
    /// (it has not taken `b` yet).
    pub(super) fn open(schema: &Schema, child: Child, b: u8, depth: usize) -> Self {
        let node = match child {
            Child::Key { keys, alive } => return Frame::Literal(Literal::among(keys, alive)),
            Child::FreeKey => return Frame::Str(Str::default()),
            Child::Value(node) => node,
        };
        match &schema.nodes[node as usize] {
            Node::Any => match b {
                b'{' if depth < MAX_NESTING => Frame::Object(Object::new(ANY_OBJECT)),
                b'[' if depth < MAX_NESTING => Frame::Array(Array::new(ANY_ARRAY)),
                b'"' => Frame::Str(Str::default()),
                b'-' | b'0'..=b'9' => Frame::Number(Number::new(false)),
                _ => Frame::Literal(Literal::new(KEYWORDS)),
            },
            Node::Object { .. } | Node::FreeObject { .. } => Frame::Object(Object::new(node)),
            Node::Array { .. } => Frame::Array(Array::new(node)),
            Node::String { min, max } => Frame::Str(Str::limited(*min, *max)),
            Node::Number { integer } => Frame::Number(Number::new(*integer)),
            Node::Literal(set) => Frame::Literal(Literal::new(*set)),
        }
    }

    pub(super) fn step(&mut self, schema: &Schema, b: u8) -> Step {
        match self {
            Frame::Root(root) => root.step(schema, b),
            Frame::Object(object) => object.step(schema, b),
            Frame::Array(array) => array.step(schema, b),
            Frame::Str(s) => s.step(b),
            Frame::Literal(literal) => literal.step(schema, b),
            Frame::Number(number) => number.step(b),
        }
    }

    /// Whether the value of this frame may end here (before a delimiter).
    pub(super) fn can_end(&self, schema: &Schema) -> bool {
        match self {
            Frame::Number(number) => number.can_end(),
            Frame::Literal(literal) => literal.can_end(schema),
            _ => false,
        }
    }

    /// The fewest bytes that end this frame's value after those of `child`, the
    /// frame above it if one is open (its own bytes are counted by the child).
    pub(super) fn rest(&self, schema: &Schema, child: Option<&Frame>) -> usize {
        let above = match child {
            None => Above::Nothing,
            Some(Frame::Literal(literal)) => Above::Literal {
                alive: literal.alive(),
            },
            Some(_) => Above::Other,
        };
        match *self {
            Frame::Root(root) => root.rest(schema, above),
            Frame::Object(object) => object.rest(schema, above),
            Frame::Array(array) => array.rest(schema, above),
            Frame::Str(s) => s.rest(),
            Frame::Literal(literal) => literal.rest(schema),
            Frame::Number(number) => number.rest(),
        }
    }

    /// The child value (or key) this frame waited for has ended (`index`: which
    /// literal of its set).
    pub(super) fn child_done(&mut self, schema: &Schema, index: usize) {
        match self {
            Frame::Root(root) => root.child_done(),
            Frame::Object(object) => object.child_done(schema, index),
            Frame::Array(array) => array.child_done(schema),
            _ => {}
        }
    }
}
