//! Detectors of sensitive data in a prompt: e-mail addresses, phone numbers, card
//! numbers (Luhn check) and IBANs (mod-97 check). Hand-written linear scanners: no
//! regex, nothing to compile, safe on any input.

use crate::protocol::Sensitive;

/// The kinds of sensitive data in `text`, each once, in the order of [`Sensitive`].
pub fn sensitive(text: &str) -> Vec<Sensitive> {
    let mut found = Vec::new();
    if has_email(text) {
        found.push(Sensitive::Email);
    }
    let (phone, card) = digit_runs(text);
    if phone {
        found.push(Sensitive::Phone);
    }
    if card {
        found.push(Sensitive::Card);
    }
    if has_iban(text) {
        found.push(Sensitive::Iban);
    }
    found
}

/// `local@domain.tld`: a non-empty local part and a dotted domain with a letter TLD.
fn has_email(text: &str) -> bool {
    let b = text.as_bytes();
    let local_char = |c: u8| c.is_ascii_alphanumeric() || b"._%+-".contains(&c);
    let domain_char = |c: u8| c.is_ascii_alphanumeric() || c == b'-' || c == b'.';
    text.match_indices('@').any(|(at, _)| {
        let local = b[..at].iter().rev().take_while(|&&c| local_char(c)).count();
        let domain = b[at + 1..].iter().take_while(|&&c| domain_char(c)).count();
        let domain = std::str::from_utf8(&b[at + 1..at + 1 + domain])
            .unwrap_or("")
            .trim_end_matches(['.', '-']);
        let tld = domain.rsplit('.').next().unwrap_or("");
        local > 0
            && domain.contains('.')
            && !domain.contains("..")
            && tld.len() >= 2
            && tld.bytes().all(|c| c.is_ascii_alphabetic())
    })
}

/// Scans runs of digits joined by single separators (space, `-`, `.`, `(`, `)`, `/`)
/// and says whether any is a phone number and whether any is a card number.
fn digit_runs(text: &str) -> (bool, bool) {
    let b = text.as_bytes();
    let (mut phone, mut card) = (false, false);
    let mut digits = Vec::with_capacity(32);
    let mut i = 0;
    while i < b.len() {
        // Jump to the next digit, `+` or `(`.
        match b[i..]
            .iter()
            .position(|c| c.is_ascii_digit() || *c == b'+' || *c == b'(')
        {
            Some(k) => i += k,
            None => break,
        }
        let starts = b[i].is_ascii_digit() || next_is_digit(b, i + 1);
        if !starts || (i > 0 && b[i - 1].is_ascii_alphanumeric()) {
            i += 1;
            continue;
        }
        let plus = b[i] == b'+';
        digits.clear();
        let mut separated = false;
        let mut j = i;
        while j < b.len() {
            if b[j].is_ascii_digit() {
                digits.push(b[j] - b'0');
                j += 1;
            } else if b" -.()/+".contains(&b[j]) && (j + 1 < b.len()) {
                // One separator, or ") " / " (" pairs, then a digit.
                let gap = if b" -.()/".contains(&b[j + 1]) { 2 } else { 1 };
                if !next_is_digit(b, j + gap) || (b[j] == b'+' && j > i) {
                    break;
                }
                separated |= b[j] != b'(' || j > i;
                j += gap;
            } else {
                break;
            }
        }
        let letter_after = j < b.len() && b[j].is_ascii_alphabetic();
        if !letter_after {
            let n = digits.len();
            if (13..=19).contains(&n) && luhn(&digits) {
                card = true;
            } else if (10..=15).contains(&n) || ((9..=15).contains(&n) && (plus || separated)) {
                phone |= !looks_like_date_or_amount(&b[i..j]);
            }
        }
        i = j.max(i + 1);
    }
    (phone, card)
}

fn next_is_digit(b: &[u8], i: usize) -> bool {
    b.get(i).is_some_and(u8::is_ascii_digit)
}

/// Decimal amounts ("1.000.000") and ISO dates with times are not phone numbers.
fn looks_like_date_or_amount(run: &[u8]) -> bool {
    let groups: Vec<&[u8]> = run.split(|c| !c.is_ascii_digit()).collect();
    let dots = run.iter().filter(|&&c| c == b'.').count();
    dots > 0 && dots + 1 == groups.len() && groups[1..].iter().all(|g| g.len() == 3)
}

/// The Luhn checksum of payment card numbers.
pub fn luhn(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(k, &d)| {
            let d = u32::from(d);
            if k % 2 == 1 {
                if d * 2 > 9 {
                    d * 2 - 9
                } else {
                    d * 2
                }
            } else {
                d
            }
        })
        .sum();
    !digits.is_empty() && sum.is_multiple_of(10)
}

/// An IBAN: two capital letters, two check digits, then 11 to 30 capitals and digits,
/// compact or in groups of four; it must pass the mod-97 check.
fn has_iban(text: &str) -> bool {
    let b = text.as_bytes();
    let upper = b.iter().enumerate().filter(|(_, c)| c.is_ascii_uppercase());
    upper.take_while(|(i, _)| i + 3 < b.len()).any(|(i, _)| {
        let head = b[i + 1].is_ascii_uppercase()
            && b[i + 2].is_ascii_digit()
            && b[i + 3].is_ascii_digit()
            && (i == 0 || !b[i - 1].is_ascii_alphanumeric());
        head && iban_at(&b[i..])
    })
}

/// Whether an IBAN starts at `b[0]`: the longest candidate ending at a group boundary.
fn iban_at(b: &[u8]) -> bool {
    let part = |c: u8| c.is_ascii_uppercase() || c.is_ascii_digit();
    let mut compact = Vec::new();
    let mut ends = Vec::new();
    let mut j = 0;
    while j < b.len() && compact.len() <= 34 {
        let group = b[j..].iter().take_while(|&&c| part(c)).count();
        let cut = j + group;
        if group == 0 || cut < b.len() && b[cut].is_ascii_alphabetic() {
            break;
        }
        compact.extend_from_slice(&b[j..cut]);
        ends.push(compact.len());
        if cut + 1 < b.len() && b[cut] == b' ' && part(b[cut + 1]) {
            j = cut + 1;
        } else {
            break;
        }
    }
    ends.iter()
        .rev()
        .any(|&n| (15..=34).contains(&n) && mod97(&compact[..n]))
}

/// ISO 13616 check: move the first four characters to the end, letters to 10..35,
/// and the number mod 97 must be 1.
fn mod97(iban: &[u8]) -> bool {
    let rotated = iban[4..].iter().chain(&iban[..4]);
    let mut rem: u32 = 0;
    for &c in rotated {
        let v = if c.is_ascii_digit() {
            u32::from(c - b'0')
        } else {
            u32::from(c - b'A') + 10
        };
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    rem == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert_eq!(
            sensitive("write to jane.doe+x@mail.example.com today"),
            [Sensitive::Email]
        );
        assert_eq!(sensitive("mail me at a@b.io."), [Sensitive::Email]);
        assert!(sensitive("@handle on twitter, or me@localhost").is_empty());
        assert!(sensitive("price: 3 @ 4.50").is_empty());
    }

    #[test]
    fn phones() {
        for t in [
            "call +33 6 12 34 56 78",
            "(555) 123-4567",
            "my number is 0612345678",
            "+1-202-555-0143",
        ] {
            assert_eq!(sensitive(t), [Sensitive::Phone], "{t}");
        }
        for t in [
            "in 2024 we sold 1.000.000 units",
            "on 2024-01-15",
            "room 12, 3 floors",
            "v1.2.3",
            "x9876543210y",
        ] {
            assert!(sensitive(t).is_empty(), "{t}");
        }
    }

    #[test]
    fn cards_pass_luhn() {
        assert_eq!(
            sensitive("card 4111 1111 1111 1111 exp 12/27"),
            [Sensitive::Card]
        );
        assert_eq!(sensitive("5500-0000-0000-0004"), [Sensitive::Card]);
        assert!(luhn(&[7, 9, 9, 2, 7, 3, 9, 8, 7, 1, 3]));
        assert!(!luhn(&[4, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2]));
        // A 16-digit number failing Luhn is no card (it still looks like a phone-length run
        // only up to 15 digits, so it is nothing).
        assert!(sensitive("order 4111111111111112").is_empty());
    }

    #[test]
    fn ibans_pass_mod97() {
        assert_eq!(
            sensitive("IBAN DE89 3704 0044 0532 0130 00 please"),
            [Sensitive::Iban]
        );
        assert_eq!(sensitive("to GB82WEST12345698765432."), [Sensitive::Iban]);
        assert!(sensitive("DE88 3704 0044 0532 0130 00").is_empty());
        assert!(sensitive("GB82WEST12345698765433").is_empty());
    }

    #[test]
    fn several_kinds_once_each() {
        let text = "a@b.com, c@d.org, +44 20 7946 0958, 4111111111111111";
        assert_eq!(
            sensitive(text),
            [Sensitive::Email, Sensitive::Phone, Sensitive::Card]
        );
    }

    #[test]
    fn odd_input_never_panics() {
        for t in [
            "",
            "@",
            "a@",
            "@b.c",
            "+",
            "(",
            "DE8",
            "DE89",
            "€@€.€",
            "1-",
            "((((1",
        ] {
            let _ = sensitive(t);
        }
    }
}
