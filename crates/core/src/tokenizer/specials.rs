//! Splitting text at special tokens before the model sees it, as llama.cpp's
//! `tokenizer_st_partition` does: the special tokens are taken longest first, and each
//! splits every piece of text still unsplit at each of its occurrences, left to right.

use std::cmp::Reverse;

/// A piece of text to tokenize, or a special token already found.
#[derive(Debug, PartialEq)]
pub enum Fragment<'a> {
    Text(&'a str),
    Token(u32),
}

struct Special {
    text: Box<str>,
    id: u32,
    /// Whether plain text is split at it too (user-defined tokens), not only prompts.
    in_plain_text: bool,
}

/// The special tokens of a vocabulary, longest first.
pub struct Specials {
    tokens: Vec<Special>,
}

impl Specials {
    /// The special tokens among `(text, id, in_plain_text)`; empty texts are left out.
    pub fn new<'a>(tokens: impl IntoIterator<Item = (&'a str, u32, bool)>) -> Self {
        let mut tokens: Vec<Special> = tokens
            .into_iter()
            .filter(|(text, _, _)| !text.is_empty())
            .map(|(text, id, in_plain_text)| Special {
                text: text.into(),
                id,
                in_plain_text,
            })
            .collect();
        // Stable: tokens of the same length keep the order of their ids.
        tokens.sort_by_key(|s| Reverse(s.text.len()));
        Specials { tokens }
    }

    /// `text` split at the special tokens: all of them in a prompt, only those split
    /// out of plain text too otherwise.
    pub fn split<'a>(&self, text: &'a str, prompt: bool) -> Vec<Fragment<'a>> {
        let mut fragments = Vec::new();
        if !text.is_empty() {
            fragments.push(Fragment::Text(text));
        }
        let pairs = BytePairs::of(text);
        for special in &self.tokens {
            let special_text = &*special.text;
            let occurs = (prompt || special.in_plain_text)
                && pairs.may_contain(special_text)
                && fragments
                    .iter()
                    .any(|f| matches!(f, Fragment::Text(t) if t.contains(special_text)));
            if occurs {
                fragments = split_at(fragments, special_text, special.id);
            }
        }
        fragments
    }
}

/// Every text fragment split at each occurrence of `special`, left to right.
fn split_at<'a>(fragments: Vec<Fragment<'a>>, special: &str, id: u32) -> Vec<Fragment<'a>> {
    let mut out = Vec::with_capacity(fragments.len() + 2);
    for fragment in fragments {
        let Fragment::Text(mut rest) = fragment else {
            out.push(fragment);
            continue;
        };
        while let Some(at) = rest.find(special) {
            if at > 0 {
                out.push(Fragment::Text(&rest[..at]));
            }
            out.push(Fragment::Token(id));
            rest = &rest[at + special.len()..];
        }
        if !rest.is_empty() {
            out.push(Fragment::Text(rest));
        }
    }
    out
}

/// Which pairs of adjacent bytes a text has: a string can only occur in it if all of
/// its own pairs are there. One pass over the text rules out at once almost all of a
/// large vocabulary's special tokens (Gemma has over 6,000).
struct BytePairs {
    bits: Box<[u64; 1024]>,
}

impl BytePairs {
    fn of(text: &str) -> Self {
        let mut bits = Box::new([0u64; 1024]);
        for w in text.as_bytes().windows(2) {
            let pair = (w[0] as usize) << 8 | w[1] as usize;
            bits[pair / 64] |= 1 << (pair % 64);
        }
        BytePairs { bits }
    }

    fn may_contain(&self, s: &str) -> bool {
        s.as_bytes().windows(2).all(|w| {
            let pair = (w[0] as usize) << 8 | w[1] as usize;
            self.bits[pair / 64] & (1 << (pair % 64)) != 0
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Fragment::{Text, Token};
    use super::*;

    fn specials() -> Specials {
        // (text, id, split out of plain text too)
        Specials::new([
            ("wx", 1, true),
            ("xyz", 2, false),
            ("\n", 3, true),
            ("", 4, true),
        ])
    }

    #[test]
    fn longer_tokens_split_first_whatever_their_place() {
        // "wx" comes first in the text, but "xyz" is longer and takes the "x".
        assert_eq!(
            specials().split("wxyz wx", true),
            vec![Text("w"), Token(2), Text(" "), Token(1)]
        );
    }

    #[test]
    fn plain_text_splits_only_at_user_defined_tokens() {
        assert_eq!(
            specials().split("wxyz\n\nab", false),
            vec![Token(1), Text("yz"), Token(3), Token(3), Text("ab")]
        );
    }

    #[test]
    fn text_without_specials_stays_whole() {
        assert_eq!(specials().split("abc", true), vec![Text("abc")]);
        assert_eq!(specials().split("", true), vec![]);
    }
}
