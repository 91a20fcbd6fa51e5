//! A JSON string: well-formed UTF-8, escapes (no lone surrogates), no raw control
//! characters, and the character counts of `minLength`/`maxLength`.

use super::step::Step;

/// A string being written: whether its opening quote came, pending UTF-8
/// continuation bytes (`left`, the next one in `lo..=hi`), escape progress and
/// the length limits still to keep.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub(super) struct Str {
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
    pub(super) need: u16,
    pub(super) room: Option<u16>,
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

/// Where in an escape sequence a string is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
enum Escape {
    #[default]
    None,
    Backslash,
    /// Hex digits of `\u` still to come.
    Hex(u8),
}

impl Str {
    /// A string of `min..=max` characters.
    pub(super) fn limited(min: u16, max: Option<u16>) -> Self {
        Str {
            limits: Limits {
                need: min,
                room: max,
            },
            ..Str::default()
        }
    }

    /// Between two characters of a string with length limits: this string without
    /// the limits, and the limits.
    pub(super) fn split_limits(self) -> Option<(Str, Limits)> {
        let between = self.left == 0 && self.escape == Escape::None;
        if self.limits == Limits::default() || !between {
            return None;
        }
        let free = Str {
            limits: Limits::default(),
            ..self
        };
        Some((free, self.limits))
    }

    pub(super) fn step(&mut self, b: u8) -> Step {
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

    /// The fewest bytes still to come: the current character's continuation
    /// bytes or escape, the opening quote if it has not come, one byte for each
    /// character still needed, and the closing quote.
    pub(super) fn rest(self) -> usize {
        let escape = match self.escape {
            Escape::None => 0,
            // The escaped character.
            Escape::Backslash => 1,
            Escape::Hex(n) => n as usize,
        };
        let opening = usize::from(!self.open);
        self.left as usize + escape + opening + usize::from(self.limits.need) + "\"".len()
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
