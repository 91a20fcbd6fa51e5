//! An incremental JSON recogniser for a compiled [`Schema`]: fed one byte at a time,
//! it says whether the text so far can still become JSON the schema accepts.
//!
//! The state is a stack of small frames (hashable, so masks can be cached per state).
//! Whitespace runs, number digits and free-form nesting are bounded, so a model
//! cannot loop forever inside a value that never ends. A string counts its
//! characters only if its schema limits its length, so unlimited strings keep few
//! distinct states.

use super::schema::{LitId, Node, NodeId, Schema, ANY_ARRAY, ANY_OBJECT, KEYWORDS};

/// Most whitespace bytes in a row between two JSON tokens.
pub const MAX_WHITESPACE: u8 = 12;
/// Most containers open at once inside a free-form (`json_object`) value.
const MAX_NESTING: usize = 12;
/// Most digits before the decimal point, after it, and in an exponent.
const MAX_INT_DIGITS: u8 = 15;
const MAX_FRAC_DIGITS: u8 = 15;
const MAX_EXP_DIGITS: u8 = 2;

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

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Frame {
    /// The whole text: before its value or (`done`) after it.
    Root {
        done: bool,
        ws: u8,
    },
    Object {
        node: NodeId,
        used: u64,
        phase: ObjPhase,
        ws: u8,
    },
    Array {
        node: NodeId,
        count: u16,
        phase: ArrPhase,
        ws: u8,
    },
    Str(Str),
    Literal {
        set: LitId,
        alive: u64,
        pos: u16,
    },
    Number {
        integer: bool,
        phase: NumPhase,
        digits: u8,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum ObjPhase {
    Start,
    Open,
    Key,
    Colon(NodeId),
    Value(NodeId),
    AfterValue,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum ArrPhase {
    Start,
    Open,
    Item,
    AfterItem,
    ExpectItem,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum NumPhase {
    Start,
    Sign,
    Zero,
    Int,
    Dot,
    Frac,
    E,
    ESign,
    Exp,
}

/// Inside a string: pending UTF-8 continuation bytes (`left`, the next one in
/// `lo..=hi`), escape progress and the length limits still to keep.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
struct Str {
    open: bool,
    left: u8,
    lo: u8,
    hi: u8,
    escape: Escape,
    limits: Limits,
}

/// What a string's `minLength` and `maxLength` still ask, in characters (code
/// points; an escape is one): `need` more before the closing quote, at most `room`
/// more. The default (0, none) is a string without limits, and stays so.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub(crate) struct Limits {
    need: u16,
    room: Option<u16>,
}

impl Limits {
    /// One more character.
    fn count(&mut self) {
        self.need = self.need.saturating_sub(1);
        self.room = self.room.map(|r| r - 1);
    }

    /// Whether a token that adds `chars` characters to a string, and then closes it
    /// when `closes`, keeps to these limits.
    pub(crate) fn allow(self, chars: u32, closes: bool) -> bool {
        self.room.is_none_or(|r| chars <= r.into()) && (!closes || chars >= self.need.into())
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
enum Escape {
    #[default]
    None,
    Backslash,
    /// Hex digits of `\u` still to come.
    Hex(u8),
}

/// What one byte did to the top frame.
enum Step {
    /// Taken; the frame goes on.
    Consumed,
    /// Taken; a child value starts with it.
    Push(Frame),
    /// Taken; a child value started and ended with it (`index` of its literal).
    Value(usize),
    /// The frame's value ended: with this byte (`consumed`) or before it.
    Done { consumed: bool, index: usize },
    /// Not allowed here.
    Reject,
}

impl Matcher {
    /// A matcher at the start of a text that must be one value of `schema`.
    pub fn new() -> Self {
        Matcher {
            stack: vec![Frame::Root { done: false, ws: 0 }],
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
            match top.step(schema, b, depth) {
                Step::Consumed => return true,
                Step::Push(frame) => {
                    self.stack.push(frame);
                    return true;
                }
                Step::Value(index) => {
                    top.child_done(schema, index);
                    return true;
                }
                Step::Reject => return false,
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
            [Frame::Root { done, .. }] => *done,
            [Frame::Root { .. }, value] => value.can_end(schema),
            _ => false,
        }
    }

    /// Whether the value is complete and nothing may follow it.
    pub fn is_finished(&self) -> bool {
        matches!(self.stack.as_slice(), [Frame::Root { done: true, .. }])
    }

    /// When a string with length limits is open between two characters: this
    /// state without the limits (it allows every token this one does, and more)
    /// and the limits left.
    pub(crate) fn split_limits(&self) -> Option<(Matcher, Limits)> {
        let Some(Frame::Str(s)) = self.stack.last() else {
            return None;
        };
        let between = s.left == 0 && s.escape == Escape::None;
        if s.limits == Limits::default() || !between {
            return None;
        }
        let mut free = self.clone();
        if let Some(Frame::Str(s)) = free.stack.last_mut() {
            s.limits = Limits::default();
        }
        Some((free, s.limits))
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

/// The fewest bytes of a whole value of `node`.
fn min_len(schema: &Schema, node: NodeId) -> usize {
    match &schema.nodes[node as usize] {
        Node::Any | Node::Number { .. } => 1,
        Node::String { min, .. } => 2 + usize::from(*min),
        Node::FreeObject { .. } => 2,
        Node::Literal(set) => shortest(schema, *set, u64::MAX, 0),
        Node::Object { .. } => 1 + entries(schema, node, 0, true),
        Node::Array { items, min, .. } => {
            let min = *min;
            2 + min * (min_len(schema, *items) + 1) - min.min(1)
        }
    }
}

/// Bytes of the literals of `set` in `alive` still to come after `pos`: the fewest.
fn shortest(schema: &Schema, set: LitId, alive: u64, pos: usize) -> usize {
    schema.literals[set as usize]
        .iter()
        .enumerate()
        .take(64)
        .filter(|(i, lit)| alive & (1 << i) != 0 && lit.len() >= pos)
        .map(|(_, lit)| lit.len() - pos)
        .min()
        .unwrap_or(0)
}

/// Bytes of the required entries of object `node` not in `used` (`"key":value`
/// joined by commas), and its `}`; `first` when no entry came before.
fn entries(schema: &Schema, node: NodeId, used: u64, first: bool) -> usize {
    let Node::Object {
        keys,
        props,
        required,
    } = &schema.nodes[node as usize]
    else {
        return 1;
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
        .map(|&i| names[i].len() + 1 + min_len(schema, props[i]))
        .sum();
    sizes + commas + 1
}

/// Count a whitespace byte against the run limit: `Some` when `b` is whitespace.
fn whitespace(ws: &mut u8, b: u8) -> Option<Step> {
    if matches!(b, b' ' | b'\n' | b'\t' | b'\r') {
        if *ws >= MAX_WHITESPACE {
            return Some(Step::Reject);
        }
        *ws += 1;
        return Some(Step::Consumed);
    }
    *ws = 0;
    None
}

/// Start a value of `node` with its first byte `b`, `depth` frames deep.
fn start(schema: &Schema, node: NodeId, b: u8, depth: usize) -> Step {
    let fresh = |node: NodeId| match &schema.nodes[node as usize] {
        Node::Any => match b {
            b'{' if depth < MAX_NESTING => Some(Frame::object(ANY_OBJECT)),
            b'[' if depth < MAX_NESTING => Some(Frame::array(ANY_ARRAY)),
            b'"' => Some(Frame::Str(Str::default())),
            b'-' | b'0'..=b'9' => Some(Frame::number(false)),
            _ => Some(Frame::literal(KEYWORDS)),
        },
        Node::Object { .. } | Node::FreeObject { .. } => Some(Frame::object(node)),
        Node::Array { .. } => Some(Frame::array(node)),
        Node::String { min, max } => Some(Frame::Str(Str {
            limits: Limits {
                need: *min,
                room: *max,
            },
            ..Str::default()
        })),
        Node::Number { integer } => Some(Frame::number(*integer)),
        Node::Literal(set) => Some(Frame::literal(*set)),
    };
    let Some(mut frame) = fresh(node) else {
        return Step::Reject;
    };
    match frame.step(schema, b, depth + 1) {
        Step::Consumed => Step::Push(frame),
        Step::Done {
            consumed: true,
            index,
        } => Step::Value(index),
        _ => Step::Reject,
    }
}

impl Frame {
    fn object(node: NodeId) -> Self {
        Frame::Object {
            node,
            used: 0,
            phase: ObjPhase::Start,
            ws: 0,
        }
    }

    fn array(node: NodeId) -> Self {
        Frame::Array {
            node,
            count: 0,
            phase: ArrPhase::Start,
            ws: 0,
        }
    }

    fn number(integer: bool) -> Self {
        Frame::Number {
            integer,
            phase: NumPhase::Start,
            digits: 0,
        }
    }

    fn literal(set: LitId) -> Self {
        Frame::Literal {
            set,
            alive: u64::MAX,
            pos: 0,
        }
    }

    /// Whether the value of this frame may end here (before a delimiter).
    fn can_end(&self, schema: &Schema) -> bool {
        match self {
            Frame::Number { phase, .. } => matches!(
                phase,
                NumPhase::Zero | NumPhase::Int | NumPhase::Frac | NumPhase::Exp
            ),
            Frame::Literal { set, alive, pos } => {
                live(&schema.literals[*set as usize], *alive, |l| {
                    l.len() == *pos as usize
                }) != 0
            }
            _ => false,
        }
    }

    /// The fewest bytes that end this frame's value after those of `child`, the
    /// frame above it if one is open (its own bytes are counted by the child).
    fn rest(&self, schema: &Schema, child: Option<&Frame>) -> usize {
        let child_open = child.is_some();
        match *self {
            Frame::Root { done, .. } => match done || child_open {
                true => 0,
                false => min_len(schema, schema.root),
            },
            Frame::Str(s) => {
                let escape = match s.escape {
                    Escape::None => 0,
                    Escape::Backslash => 1,
                    Escape::Hex(n) => n as usize,
                };
                s.left as usize + escape + usize::from(!s.open) + usize::from(s.limits.need) + 1
            }
            Frame::Literal { set, alive, pos } => shortest(schema, set, alive, pos as usize),
            Frame::Number { phase, .. } => match phase {
                NumPhase::Zero | NumPhase::Int | NumPhase::Frac | NumPhase::Exp => 0,
                _ => 1,
            },
            Frame::Object {
                node, used, phase, ..
            } => {
                let value_and_rest = |value: NodeId, used: u64| {
                    let value = if child_open {
                        0
                    } else {
                        min_len(schema, value)
                    };
                    value + entries(schema, node, used, false)
                };
                match phase {
                    ObjPhase::Start => min_len(schema, node),
                    // A key is open: the best of the keys it may still become.
                    ObjPhase::Open | ObjPhase::Key if child_open => {
                        match (&schema.nodes[node as usize], child) {
                            (Node::Object { props, .. }, Some(Frame::Literal { alive, .. })) => (0
                                ..props.len())
                                .filter(|&i| alive & (1 << i) != 0)
                                .map(|i| {
                                    let after = used | (1 << i);
                                    let first = phase == ObjPhase::Open;
                                    let rest = entries(schema, node, after, first);
                                    // No comma before the rest if nothing is missing.
                                    let comma = usize::from(rest > 1 && first);
                                    1 + min_len(schema, props[i]) + rest + comma
                                })
                                .min()
                                .unwrap_or(0),
                            _ => 1 + 1 + 1,
                        }
                    }
                    ObjPhase::Open => entries(schema, node, used, true),
                    ObjPhase::AfterValue => entries(schema, node, used, false),
                    ObjPhase::Colon(value) => 1 + value_and_rest(value, used),
                    ObjPhase::Value(value) => value_and_rest(value, used),
                    // After a comma a key must come: if none is required, the
                    // shortest one still free.
                    ObjPhase::Key => match &schema.nodes[node as usize] {
                        Node::Object { props, keys, .. } => {
                            let names = &schema.literals[*keys as usize];
                            let rest = entries(schema, node, used, true);
                            let any_missing = rest > 1;
                            match any_missing {
                                true => rest,
                                false => {
                                    (0..props.len())
                                        .filter(|&i| used & (1 << i) == 0)
                                        .map(|i| names[i].len() + 1 + min_len(schema, props[i]))
                                        .min()
                                        .unwrap_or(0)
                                        + 1
                                }
                            }
                        }
                        _ => "\"\":0}".len(),
                    },
                }
            }
            Frame::Array {
                node, count, phase, ..
            } => {
                let Node::Array { items, min, .. } = &schema.nodes[node as usize] else {
                    return 0;
                };
                let item = min_len(schema, *items);
                let count = count as usize;
                match phase {
                    ArrPhase::Start => min_len(schema, node),
                    ArrPhase::Open => min_len(schema, node) - 1,
                    ArrPhase::AfterItem => min.saturating_sub(count) * (item + 1) + 1,
                    ArrPhase::ExpectItem => item + min.saturating_sub(count + 1) * (item + 1) + 1,
                    ArrPhase::Item => {
                        let now = if child_open { 0 } else { item };
                        now + min.saturating_sub(count + 1) * (item + 1) + 1
                    }
                }
            }
        }
    }

    /// The child value this frame waited for has ended (`index`: which literal).
    fn child_done(&mut self, schema: &Schema, index: usize) {
        match self {
            Frame::Root { done, .. } => *done = true,
            Frame::Object {
                node, used, phase, ..
            } => {
                *phase = match (*phase, &schema.nodes[*node as usize]) {
                    (ObjPhase::Open | ObjPhase::Key, Node::Object { props, .. }) => {
                        *used |= 1 << index;
                        ObjPhase::Colon(props[index])
                    }
                    (ObjPhase::Open | ObjPhase::Key, Node::FreeObject { value }) => {
                        ObjPhase::Colon(*value)
                    }
                    _ => ObjPhase::AfterValue,
                }
            }
            Frame::Array {
                node, count, phase, ..
            } => {
                if let Node::Array { min, max, .. } = &schema.nodes[*node as usize] {
                    let cap = max.unwrap_or(*min) as u16;
                    *count = (*count + 1).min(cap);
                }
                *phase = ArrPhase::AfterItem;
            }
            _ => {}
        }
    }

    fn step(&mut self, schema: &Schema, b: u8, depth: usize) -> Step {
        match self {
            Frame::Root { done: true, .. } => Step::Reject,
            Frame::Root { ws, .. } => {
                whitespace(ws, b).unwrap_or_else(|| start(schema, schema.root, b, depth))
            }
            Frame::Object {
                node,
                used,
                phase,
                ws,
            } => {
                let spec = &schema.nodes[*node as usize];
                if *phase == ObjPhase::Start {
                    return match b {
                        b'{' => {
                            *phase = ObjPhase::Open;
                            Step::Consumed
                        }
                        _ => Step::Reject,
                    };
                }
                if let Some(step) = whitespace(ws, b) {
                    return step;
                }
                let (required, remaining) = match spec {
                    Node::Object {
                        props, required, ..
                    } => (*required, mask(props.len()) & !*used),
                    _ => (0, u64::MAX),
                };
                let closes = b == b'}' && required & !*used == 0;
                match (*phase, b) {
                    (ObjPhase::Open | ObjPhase::Key, b'"') => match spec {
                        Node::Object { keys, .. } if remaining != 0 => {
                            let mut key = Frame::Literal {
                                set: *keys,
                                alive: remaining,
                                pos: 0,
                            };
                            match key.step(schema, b, depth) {
                                Step::Consumed => Step::Push(key),
                                _ => Step::Reject,
                            }
                        }
                        Node::FreeObject { .. } => Step::Push(Frame::Str(Str {
                            open: true,
                            ..Str::default()
                        })),
                        _ => Step::Reject,
                    },
                    (ObjPhase::Open | ObjPhase::AfterValue, b'}') if closes => Step::Done {
                        consumed: true,
                        index: 0,
                    },
                    (ObjPhase::Colon(value), b':') => {
                        *phase = ObjPhase::Value(value);
                        Step::Consumed
                    }
                    (ObjPhase::Value(value), _) => start(schema, value, b, depth),
                    (ObjPhase::AfterValue, b',') if remaining != 0 => {
                        *phase = ObjPhase::Key;
                        Step::Consumed
                    }
                    _ => Step::Reject,
                }
            }
            Frame::Array {
                node,
                count,
                phase,
                ws,
            } => {
                let Node::Array { items, min, max } = &schema.nodes[*node as usize] else {
                    return Step::Reject;
                };
                if *phase == ArrPhase::Start {
                    return match b {
                        b'[' => {
                            *phase = ArrPhase::Open;
                            Step::Consumed
                        }
                        _ => Step::Reject,
                    };
                }
                if let Some(step) = whitespace(ws, b) {
                    return step;
                }
                let count = *count as usize;
                let closes = b == b']' && count >= *min;
                let more = max.is_none_or(|max| count < max);
                match *phase {
                    ArrPhase::Open | ArrPhase::AfterItem if closes => Step::Done {
                        consumed: true,
                        index: 0,
                    },
                    ArrPhase::AfterItem if b == b',' && more => {
                        *phase = ArrPhase::ExpectItem;
                        Step::Consumed
                    }
                    ArrPhase::Open | ArrPhase::ExpectItem if more => {
                        *phase = ArrPhase::Item;
                        start(schema, *items, b, depth)
                    }
                    _ => Step::Reject,
                }
            }
            Frame::Str(s) => s.step(b),
            Frame::Literal { set, alive, pos } => {
                let lits = &schema.literals[*set as usize];
                let at = *pos as usize;
                let next = live(lits, *alive, |lit| lit.get(at) == Some(&b));
                if next != 0 {
                    *alive = next;
                    *pos += 1;
                    let longer = live(lits, next, |lit| lit.len() > at + 1);
                    return match longer {
                        0 => Step::Done {
                            consumed: true,
                            index: next.trailing_zeros() as usize,
                        },
                        _ => Step::Consumed,
                    };
                }
                match live(lits, *alive, |lit| lit.len() == at) {
                    0 => Step::Reject,
                    done => Step::Done {
                        consumed: false,
                        index: done.trailing_zeros() as usize,
                    },
                }
            }
            Frame::Number {
                integer,
                phase,
                digits,
            } => number(*integer, phase, digits, b),
        }
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

/// The lowest `n` bits set.
fn mask(n: usize) -> u64 {
    if n >= 64 {
        u64::MAX
    } else {
        (1 << n) - 1
    }
}

/// One byte of a number: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
fn number(integer: bool, phase: &mut NumPhase, digits: &mut u8, b: u8) -> Step {
    use NumPhase::*;
    let digit = b.is_ascii_digit();
    let end = Step::Done {
        consumed: false,
        index: 0,
    };
    let (next, count) = match (*phase, b) {
        (Start, b'-') => (Sign, 0),
        (Start | Sign, b'0') => (Zero, 1),
        (Start | Sign, _) if digit => (Int, 1),
        (Int, _) if digit && *digits < MAX_INT_DIGITS => (Int, *digits + 1),
        (Zero | Int, b'.') if !integer => (Dot, 0),
        (Zero | Int | Frac, b'e' | b'E') if !integer => (E, 0),
        (Dot, _) if digit => (Frac, 1),
        (Frac, _) if digit && *digits < MAX_FRAC_DIGITS => (Frac, *digits + 1),
        (E, b'+' | b'-') => (ESign, 0),
        (E | ESign, _) if digit => (Exp, 1),
        (Exp, _) if digit && *digits < MAX_EXP_DIGITS => (Exp, *digits + 1),
        (Zero | Int | Frac | Exp, _) => return end,
        _ => return Step::Reject,
    };
    *phase = next;
    *digits = count;
    Step::Consumed
}

impl Str {
    fn step(&mut self, b: u8) -> Step {
        if !self.open {
            self.open = b == b'"';
            return if self.open {
                Step::Consumed
            } else {
                Step::Reject
            };
        }
        if self.left > 0 {
            if !(self.lo..=self.hi).contains(&b) {
                return Step::Reject;
            }
            self.left -= 1;
            (self.lo, self.hi) = (0x80, 0xBF);
            return Step::Consumed;
        }
        match self.escape {
            Escape::Backslash => {
                self.escape = match b {
                    b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => Escape::None,
                    b'u' => Escape::Hex(4),
                    _ => return Step::Reject,
                };
                return Step::Consumed;
            }
            // No surrogate escapes (`\uD800`..): alone they are not valid JSON text.
            Escape::Hex(n) => {
                if !b.is_ascii_hexdigit() || (n == 4 && matches!(b, b'd' | b'D')) {
                    return Step::Reject;
                }
                self.escape = if n == 1 {
                    Escape::None
                } else {
                    Escape::Hex(n - 1)
                };
                return Step::Consumed;
            }
            Escape::None => {}
        }
        if b == b'"' {
            return match self.limits.need {
                0 => Step::Done {
                    consumed: true,
                    index: 0,
                },
                _ => Step::Reject,
            };
        }
        if self.limits.room == Some(0) {
            return Step::Reject;
        }
        let (left, lo, hi) = match b {
            0x20..=0x7F => (0, self.lo, self.hi),
            0xC2..=0xDF => (1, 0x80, 0xBF),
            0xE0 => (2, 0xA0, 0xBF),
            0xED => (2, 0x80, 0x9F),
            0xE1..=0xEF => (2, 0x80, 0xBF),
            0xF0 => (3, 0x90, 0xBF),
            0xF1..=0xF3 => (3, 0x80, 0xBF),
            0xF4 => (3, 0x80, 0x8F),
            _ => return Step::Reject,
        };
        if b == b'\\' {
            self.escape = Escape::Backslash;
        }
        (self.left, self.lo, self.hi) = (left, lo, hi);
        self.limits.count();
        Step::Consumed
    }
}

/// What `piece` does fed into an open string between two characters: the
/// characters it adds, and whether it then closes the string. (A piece the string
/// rejects counts one more character than it took: either no string takes it, or
/// it is longer than any limit.)
pub(crate) fn string_run(piece: &[u8]) -> (u32, bool) {
    let mut s = Str {
        open: true,
        limits: Limits {
            need: 0,
            room: Some(u16::MAX),
        },
        ..Str::default()
    };
    let added = |s: &Str| u32::from(u16::MAX - s.limits.room.unwrap_or(0));
    for &b in piece {
        match s.step(b) {
            Step::Consumed => {}
            Step::Done { .. } => return (added(&s), true),
            _ => return (added(&s) + 1, false),
        }
    }
    (added(&s), false)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn accepts(schema: &Schema, text: impl AsRef<[u8]>) -> Option<Matcher> {
        let mut m = Matcher::new();
        m.feed_all(schema, text.as_ref()).then_some(m)
    }

    #[test]
    fn prefixes_of_matching_json_are_accepted_and_others_not() {
        let schema = Schema::compile(&json!({
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "n": {"type": "integer"},
                "x": {"type": "number"},
                "ok": {"type": "boolean"},
                "tags": {"type": "array", "items": {"enum": ["a", "b", 1, 12]}, "minItems": 1, "maxItems": 2}
            },
            "required": ["name", "tags"]
        }))
        .unwrap();
        let full =
            r#"{"name": "Zoë \"q\" \u00e9", "n": -12, "x": 0.5e+3, "ok": true, "tags": [12, "a"]}"#;
        for end in 0..full.len() {
            let prefix = &full.as_bytes()[..end];
            assert!(accepts(&schema, prefix).is_some(), "{prefix:?}");
        }
        let m = accepts(&schema, full).unwrap();
        assert!(m.is_finished() && m.is_complete(&schema));
        for bad in [
            r#"{"name": "a"}"#,           // required tags missing at '}'
            r#"{"name": "a", "name""#,    // a key twice
            r#"{"nme""#,                  // no such key
            r#"{"n": 1.5"#,               // integer with a fraction
            r#"{"n": 01"#,                // leading zero
            r#"{"tags": []"#,             // fewer than minItems
            r#"{"tags": ["a", "b", "a""#, // more than maxItems
            r#"{"tags": ["c""#,           // not in the enum
            r#"{"ok": tru "#,             // broken literal
            "{\"name\": \"a\nb\"",        // raw control character in a string
            r#"{"name": "\uD800"#,        // surrogate escape
            r#"{"name": "a"} "#,          // anything after the value
        ] {
            assert!(accepts(&schema, bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn json_object_accepts_any_object_and_bounds_whitespace() {
        let schema = Schema::any_object();
        let m = accepts(&schema, r#"{"a": [1, {"b": null}, "x", -0.5], "c": {}}"#).unwrap();
        assert!(m.is_finished());
        assert!(accepts(&schema, "[1]").is_none());
        let spaces = " ".repeat(MAX_WHITESPACE as usize);
        assert!(accepts(&schema, format!("{{{spaces}")).is_some());
        assert!(accepts(&schema, format!("{{{spaces} ")).is_none());
        let deep = "{\"a\":".repeat(MAX_NESTING + 1);
        assert!(accepts(&schema, &deep).is_none());
    }

    #[test]
    fn completion_length_is_at_most_what_the_text_still_needs() {
        let schema = Schema::compile(&json!({
            "type": "object",
            "properties": {
                "a": {"type": "array", "items": {"type": "string"}, "minItems": 2},
                "b": {"type": "object", "properties": {"c": {"enum": ["xy", "z"]}}, "required": ["c"]},
                "s": {"type": "string", "minLength": 3, "maxLength": 5}
            },
            "required": ["a", "b", "s"]
        }))
        .unwrap();
        let full = r#"{"a":["",""],"b":{"c":"z"},"s":"abc"}"#;
        assert_eq!(Matcher::new().completion_len(&schema), full.len());
        // Inside a key the estimate errs long (the key is not known yet), never short
        // by more than what the key decides.
        for end in 0..=full.len() {
            let m = accepts(&schema, &full[..end]).unwrap();
            assert!(
                m.completion_len(&schema) <= full.len() - end + 8,
                "{}",
                &full[..end]
            );
        }
        assert_eq!(accepts(&schema, full).unwrap().completion_len(&schema), 0);
        // Inside the string every character still needed is one more byte.
        let m = accepts(&schema, r#"{"a":["",""],"b":{"c":"z"},"s":"\u00"#).unwrap();
        assert_eq!(m.completion_len(&schema), r#"e9ab"}"#.len());
    }

    #[test]
    fn string_limits_count_characters() {
        let schema =
            Schema::compile(&json!({"type": "string", "minLength": 2, "maxLength": 4})).unwrap();
        for good in [
            r#""ab""#,
            r#""abcd""#,
            "\"é日\"",
            "\"😀é日x\"",
            r#""\n\u00e9""#,
            r#""\"\\\/\t""#,
        ] {
            let m = accepts(&schema, good).unwrap_or_else(|| panic!("{good}"));
            assert!(m.is_finished(), "{good}");
        }
        for bad in [
            r#""""#,
            r#""a""#,
            r#""\u00e9""#,
            "\"é\"",
            r#""abcde"#,
            "\"é日😀é日",
            r#""abcd\n"#,
            r#""\t\t\t\t\u"#,
        ] {
            assert!(accepts(&schema, bad).is_none(), "{bad}");
        }
        // Below the minimum any character may follow but not the end; at the
        // maximum only the end.
        let m = accepts(&schema, r#""a"#).unwrap();
        assert!(m.clone().feed(&schema, b'\\') && !m.clone().feed(&schema, b'"'));
        let m = accepts(&schema, r#""abcd"#).unwrap();
        assert!(!m.clone().feed(&schema, b'e') && !m.clone().feed(&schema, 0xC3));
        assert!(m.clone().feed(&schema, b'"'));
    }

    #[test]
    fn only_limited_strings_count() {
        let free = Schema::compile(&json!({"type": "string"})).unwrap();
        assert_eq!(accepts(&free, r#""a"#), accepts(&free, r#""abc\n d"#));
        let min = Schema::compile(&json!({"type": "string", "minLength": 2})).unwrap();
        assert_ne!(accepts(&min, r#""a"#), accepts(&min, r#""ab"#));
        assert_eq!(accepts(&min, r#""ab"#), accepts(&min, r#""abcdef"#));
        let max = Schema::compile(&json!({"type": "string", "maxLength": 9})).unwrap();
        assert_ne!(accepts(&max, r#""ab"#), accepts(&max, r#""abc"#));
    }

    #[test]
    fn limits_split_off_between_characters() {
        let schema = Schema::compile(&json!({"type": "string", "maxLength": 3})).unwrap();
        let free = Schema::compile(&json!({"type": "string"})).unwrap();
        let (without, limits) = accepts(&schema, r#""a"#).unwrap().split_limits().unwrap();
        assert_eq!(without, accepts(&free, r#""a"#).unwrap());
        assert_eq!(
            limits,
            Limits {
                need: 0,
                room: Some(2)
            }
        );
        assert!(accepts(&schema, "\"\\").unwrap().split_limits().is_none());
        assert!(accepts(&schema, b"\"\xC3")
            .unwrap()
            .split_limits()
            .is_none());
        assert!(accepts(&free, r#""a"#).unwrap().split_limits().is_none());
        assert_eq!(string_run(br#"ab"}"#), (2, true));
        assert_eq!(string_run(r#"\u00e9é\n"#.as_bytes()), (3, false));
        assert_eq!(string_run(br#""x"#), (0, true));
        assert_eq!(string_run(b"a\nb"), (2, false));
        let limits = Limits {
            need: 1,
            room: Some(2),
        };
        assert!(limits.allow(2, false) && limits.allow(1, true) && !limits.allow(3, false));
        assert!(!limits.allow(0, true));
    }

    #[test]
    fn numbers_at_the_top_level_may_end_or_go_on() {
        let schema = Schema::compile(&json!({"type": "number"})).unwrap();
        let m = accepts(&schema, "-3.25").unwrap();
        assert!(m.is_complete(&schema) && !m.is_finished());
        assert!(!accepts(&schema, "-3.").unwrap().is_complete(&schema));
        assert!(accepts(&schema, "9".repeat(16)).is_none());
    }

    #[test]
    fn utf8_in_strings_must_be_well_formed() {
        let schema = Schema::compile(&json!({"type": "string"})).unwrap();
        let mut m = Matcher::new();
        assert!(m.feed_all(&schema, b"\"\xC3"));
        assert!(!m.clone().feed(&schema, b'"'));
        assert!(m.feed(&schema, 0xA9));
        assert!(!Matcher::new().feed_all(&schema, b"\"\xED\xA0"));
    }
}
