//! A JSON number, `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, with a
//! bounded count of digits in each part.

use super::step::Step;

/// Most digits before the decimal point, after it, and in an exponent.
const MAX_INT_DIGITS: u8 = 15;
const MAX_FRAC_DIGITS: u8 = 15;
const MAX_EXP_DIGITS: u8 = 2;

/// A number being written: the part it is in, and the digits of that part so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct Number {
    /// Only an integer (no fraction, no exponent).
    integer: bool,
    phase: Phase,
    digits: u8,
}

/// What the last byte of a number was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Phase {
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

impl Number {
    pub(super) fn new(integer: bool) -> Self {
        Number {
            integer,
            phase: Phase::Start,
            digits: 0,
        }
    }

    /// One byte of the number; a byte that cannot continue a complete number ends
    /// it before that byte.
    pub(super) fn step(&mut self, b: u8) -> Step {
        use Phase::*;
        let digit = b.is_ascii_digit();
        let end = Step::Done {
            consumed: false,
            index: 0,
        };
        let (next, count) = match (self.phase, b) {
            (Start, b'-') => (Sign, 0),
            (Start | Sign, b'0') => (Zero, 1),
            (Start | Sign, _) if digit => (Int, 1),
            (Int, _) if digit && self.digits < MAX_INT_DIGITS => (Int, self.digits + 1),
            (Zero | Int, b'.') if !self.integer => (Dot, 0),
            (Zero | Int | Frac, b'e' | b'E') if !self.integer => (E, 0),
            (Dot, _) if digit => (Frac, 1),
            (Frac, _) if digit && self.digits < MAX_FRAC_DIGITS => (Frac, self.digits + 1),
            (E, b'+' | b'-') => (ESign, 0),
            (E | ESign, _) if digit => (Exp, 1),
            (Exp, _) if digit && self.digits < MAX_EXP_DIGITS => (Exp, self.digits + 1),
            (Zero | Int | Frac | Exp, _) => return end,
            _ => return Step::Reject,
        };
        self.phase = next;
        self.digits = count;
        Step::Consumed
    }

    /// Whether the number may end here (it ends on a digit).
    pub(super) fn can_end(self) -> bool {
        matches!(
            self.phase,
            Phase::Zero | Phase::Int | Phase::Frac | Phase::Exp
        )
    }

    /// The fewest bytes still to come: one digit unless the number may end here.
    pub(super) fn rest(self) -> usize {
        match self.can_end() {
            true => 0,
            false => "0".len(),
        }
    }
}
