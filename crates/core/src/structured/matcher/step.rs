//! What one byte does to the construct at the top of the matcher's stack.

use crate::structured::schema::{LitId, NodeId};

/// What one byte did to a construct.
pub(super) enum Step {
    /// Taken; the construct goes on.
    Consumed,
    /// A child starts with this byte: the matcher opens it and feeds it the byte.
    Open(Child),
    /// The construct's value ended: with this byte (`consumed`) or before it.
    /// `index`: which literal of its set the value was (0 for other values).
    Done { consumed: bool, index: usize },
    /// Not allowed here.
    Reject,
}

/// A construct that opens inside another.
pub(super) enum Child {
    /// A value of a schema node.
    Value(NodeId),
    /// A property name of an object: one of the names of `keys` whose bits are set
    /// in `alive` (the properties not written yet).
    Key { keys: LitId, alive: u64 },
    /// A key of a free-form object: any string.
    FreeKey,
}

/// What is open above a construct on the stack, as its completion length sees it
/// (an open construct counts its own bytes).
#[derive(Clone, Copy)]
pub(super) enum Above {
    /// Nothing: the construct is the top of the stack.
    Nothing,
    /// A literal that may still become those of its set whose bits are set.
    Literal { alive: u64 },
    /// Any other construct.
    Other,
}

impl Above {
    /// Whether a construct is open above.
    pub(super) fn is_open(self) -> bool {
        !matches!(self, Above::Nothing)
    }
}
