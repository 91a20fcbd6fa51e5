//! SentencePiece BPE (`tokenizer.ggml.model = "llama"`), as llama.cpp's
//! `llm_tokenizer_spm` runs it: spaces become "▁", the text starts as one symbol per
//! character, and the adjacent pair whose concatenation is the token of highest score
//! (`tokenizer.ggml.scores`) is merged until no pair is a token. A character that is no
//! token becomes its UTF-8 bytes as `<0xXX>` tokens.
//!
//! llama.cpp also remembers which pair made each merged text, to split a final symbol
//! that is no token back into those two. But a merged symbol is always a token, and a
//! symbol never merged is a single character, which no pair made: that split never
//! happens, so it is left out here.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use super::text_ids::TextIds;
use crate::error::{Error, Result};
use crate::gguf::Gguf;

/// What a space becomes before tokenizing (U+2581 LOWER ONE EIGHTH BLOCK).
const SPACE: char = '\u{2581}';

/// A SentencePiece model.
pub struct Spm {
    /// Token id of each text in the vocabulary.
    ids: TextIds,
    /// Score of each token: the higher, the earlier its pair merges.
    scores: Vec<f32>,
    /// Token id of each byte's `<0xXX>`, if the vocabulary has it.
    byte_tokens: [Option<u32>; 256],
    /// Whether a space goes before text that starts the input or follows a special token.
    add_space_prefix: bool,
}

impl Spm {
    /// The SentencePiece model of the vocabulary `tokens`, with the scores and space
    /// prefix rule the GGUF metadata gives (no scores: all 0; no rule: add the space).
    pub fn from_gguf(gguf: &Gguf, tokens: &[&str]) -> Result<Self> {
        let scores = if gguf.has("tokenizer.ggml.scores") {
            gguf.floats("tokenizer.ggml.scores")?
        } else {
            vec![0.0; tokens.len()]
        };
        if scores.len() < tokens.len() {
            return Err(Error::ModelInvalid(format!(
                "{} token scores for {} tokens",
                scores.len(),
                tokens.len()
            )));
        }
        let add_space_prefix = !gguf.has("tokenizer.ggml.add_space_prefix")
            || gguf.bool("tokenizer.ggml.add_space_prefix")?;
        Ok(Self::new(tokens, scores, add_space_prefix))
    }

    fn new(tokens: &[&str], scores: Vec<f32>, add_space_prefix: bool) -> Self {
        let ids = TextIds::new(tokens);
        let byte_tokens = std::array::from_fn(|b| ids.get(&format!("<0x{b:02X}>")));
        Spm {
            ids,
            scores,
            byte_tokens,
            add_space_prefix,
        }
    }

    /// Append the token ids of `text` (no special tokens in it) to `out`;
    /// `after_special` says it starts the input or follows a special token.
    pub fn encode(&self, text: &str, after_special: bool, out: &mut Vec<u32>) {
        // Room for the prefix and for every byte to be a space, whose escape is 3 bytes.
        let mut escaped = String::with_capacity(3 * text.len() + 3);
        if self.add_space_prefix && after_special {
            escaped.push(SPACE);
        }
        escaped.extend(text.chars().map(|c| if c == ' ' { SPACE } else { c }));
        Merges::new(self, &escaped).run(out);
    }

    /// Append the bytes a normal token's `text` stands for: "▁" is a space.
    pub fn normal_piece(text: &str, out: &mut Vec<u8>) {
        for (i, part) in text.split(SPACE).enumerate() {
            if i > 0 {
                out.push(b' ');
            }
            out.extend_from_slice(part.as_bytes());
        }
    }
}

/// A run of the text: one character at first, then whatever has merged into it. The
/// symbols still alive form a doubly linked list in text order.
struct Symbol {
    start: usize,
    /// Length in bytes; 0 once merged into the symbol on its left.
    len: usize,
    prev: Option<usize>,
    next: Option<usize>,
}

/// Two adjacent symbols whose text together is a token.
struct Pair {
    /// The token's score.
    score: f32,
    left: usize,
    right: usize,
    /// Length of the two together when the pair was found; it no longer holds once
    /// either has merged with another symbol.
    len: usize,
}

/// Queue order: higher score first; at equal scores the leftmost pair.
impl Ord for Pair {
    fn cmp(&self, other: &Self) -> Ordering {
        self.score
            .partial_cmp(&other.score)
            .unwrap_or(Ordering::Equal)
            .then_with(|| other.left.cmp(&self.left))
    }
}

impl PartialOrd for Pair {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Pair {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Pair {}

/// The merging of one text.
struct Merges<'a> {
    spm: &'a Spm,
    text: &'a str,
    symbols: Vec<Symbol>,
    queue: BinaryHeap<Pair>,
}

impl<'a> Merges<'a> {
    fn new(spm: &'a Spm, text: &'a str) -> Self {
        let count = text.chars().count();
        let symbols = text
            .char_indices()
            .enumerate()
            .map(|(i, (start, c))| Symbol {
                start,
                len: c.len_utf8(),
                prev: i.checked_sub(1),
                next: (i + 1 < count).then_some(i + 1),
            })
            .collect();
        Merges {
            spm,
            text,
            symbols,
            queue: BinaryHeap::new(),
        }
    }

    /// Merge until no adjacent pair is a token, then append the symbols' ids to `out`.
    fn run(mut self, out: &mut Vec<u32>) {
        for right in 1..self.symbols.len() {
            self.try_pair(Some(right - 1), Some(right));
        }
        while let Some(pair) = self.queue.pop() {
            let (left, right) = (&self.symbols[pair.left], &self.symbols[pair.right]);
            if left.len == 0 || right.len == 0 || left.len + right.len != pair.len {
                continue; // outdated: one of the two has merged since
            }
            let next = right.next;
            self.symbols[pair.right].len = 0;
            let left = &mut self.symbols[pair.left];
            left.len = pair.len;
            left.next = next;
            let prev = left.prev;
            if let Some(next) = next {
                self.symbols[next].prev = Some(pair.left);
            }
            self.try_pair(prev, Some(pair.left));
            self.try_pair(Some(pair.left), next);
        }

        let mut at = (!self.symbols.is_empty()).then_some(0);
        while let Some(i) = at {
            let symbol = &self.symbols[i];
            let text = &self.text[symbol.start..symbol.start + symbol.len];
            match self.spm.ids.get(text) {
                Some(id) => out.push(id),
                // A character that is no token: its bytes (dropped if the vocabulary
                // lacks them, where llama.cpp would fail).
                None => out.extend(
                    text.bytes()
                        .filter_map(|b| self.spm.byte_tokens[b as usize]),
                ),
            }
            at = symbol.next;
        }
    }

    /// Queue the symbols `left` and `right` (adjacent) if their text together is a token.
    fn try_pair(&mut self, left: Option<usize>, right: Option<usize>) {
        let (Some(left), Some(right)) = (left, right) else {
            return;
        };
        let start = self.symbols[left].start;
        let len = self.symbols[left].len + self.symbols[right].len;
        if let Some(id) = self.spm.ids.get(&self.text[start..start + len]) {
            self.queue.push(Pair {
                score: self.spm.scores[id as usize],
                left,
                right,
                len,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A model of `(text, score)` tokens; ids in that order.
    fn model(vocab: &[(&str, f32)], add_space_prefix: bool) -> Spm {
        let tokens: Vec<&str> = vocab.iter().map(|(t, _)| *t).collect();
        let scores = vocab.iter().map(|(_, s)| *s).collect();
        Spm::new(&tokens, scores, add_space_prefix)
    }

    fn encode(spm: &Spm, text: &str) -> Vec<u32> {
        let mut out = Vec::new();
        spm.encode(text, true, &mut out);
        out
    }

    const ABC: [&str; 3] = ["a", "b", "c"];

    fn abc_with(merged: &[(&'static str, f32)]) -> Spm {
        let mut vocab: Vec<(&str, f32)> = ABC.iter().map(|t| (*t, 0.0)).collect();
        vocab.extend_from_slice(merged);
        model(&vocab, false)
    }

    #[test]
    fn the_pair_of_highest_score_merges_first() {
        // ids: a 0, b 1, c 2, ab 3, bc 4
        assert_eq!(
            encode(&abc_with(&[("ab", -2.0), ("bc", -1.0)]), "abc"),
            [0, 4]
        );
        assert_eq!(
            encode(&abc_with(&[("ab", -1.0), ("bc", -2.0)]), "abc"),
            [3, 2]
        );
    }

    #[test]
    fn at_equal_scores_the_leftmost_pair_merges_first() {
        assert_eq!(
            encode(&abc_with(&[("ab", -1.0), ("bc", -1.0)]), "abc"),
            [3, 2]
        );
        assert_eq!(
            encode(&abc_with(&[("bc", -1.0), ("ab", -1.0)]), "abc"),
            [4, 2]
        );
        // "bcbc": both "bc" pairs have the same score; the left one merges first, then
        // the right one, and the two merged symbols make "bcbc".
        let spm = abc_with(&[("bc", -1.0), ("cb", -1.0), ("bcbc", -3.0)]);
        assert_eq!(encode(&spm, "bcbc"), [5]);
    }

    #[test]
    fn merged_symbols_merge_again() {
        let spm = abc_with(&[("ab", -1.0), ("ca", -5.0), ("abc", -2.0), ("abcab", -3.0)]);
        // ids: ab 3, ca 4, abc 5, abcab 6. "ab" twice, then "abc" + "ab" (not "ca").
        assert_eq!(encode(&spm, "abcab"), [6]);
        // Without "abcab", "abc" stays and "ab" stays: "ca" never gets a chance, since
        // its "c" and "a" merged away first.
        let spm = abc_with(&[("ab", -1.0), ("ca", -5.0), ("abc", -2.0)]);
        assert_eq!(encode(&spm, "abcab"), [5, 3]);
    }

    #[test]
    fn a_pair_outdated_by_an_earlier_merge_is_skipped() {
        // "bc" outscores "ab"; once "b" and "c" merged, the queued "ab" no longer fits.
        let spm = abc_with(&[("ab", -2.0), ("bc", -1.0), ("abc", -9.0)]);
        assert_eq!(encode(&spm, "abc"), [5]);
        let spm = abc_with(&[("ab", -2.0), ("bc", -1.0)]);
        assert_eq!(encode(&spm, "abcabc"), [0, 4, 0, 4]);
    }

    #[test]
    fn characters_that_are_no_token_become_bytes() {
        let spm = model(
            &[
                ("a", 0.0),
                ("<0xC3>", 0.0),
                ("<0xA9>", 0.0),
                ("<0x62>", 0.0),
            ],
            false,
        );
        // "é" is C3 A9; "b" is no token but its byte is; "ü" (C3 BC) lacks BC: dropped.
        assert_eq!(encode(&spm, "aéb"), [0, 1, 2, 3]);
        assert_eq!(encode(&spm, "ü"), [1]);
    }

    #[test]
    fn spaces_are_escaped_and_prefixed_when_asked() {
        let vocab = [("▁", -1.0), ("a", 0.0), ("▁a", -0.5), ("b", 0.0)];
        let spm = model(&vocab, false);
        assert_eq!(encode(&spm, "a b"), [1, 0, 3]);
        assert_eq!(encode(&spm, " a"), [2]);
        let spm = model(&vocab, true);
        assert_eq!(encode(&spm, "a"), [2]);
        let mut out = Vec::new();
        spm.encode("a", false, &mut out);
        assert_eq!(out, [1], "no prefix inside the text");
    }

    #[test]
    fn pieces_turn_the_escape_back_into_spaces() {
        let mut out = Vec::new();
        Spm::normal_piece("▁a▁▁b▁", &mut out);
        assert_eq!(out, b" a  b ");
    }
}
