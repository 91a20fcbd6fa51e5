//! WordPiece, as `tokenizers`' `WordPiece` model does it: each word is cut greedily
//! into the longest piece in the vocabulary from its start, then the longest
//! continuation piece (`##` + text) from there on; a word with a part no piece
//! matches, or longer than `max_chars` characters, is the unknown token alone.

use std::collections::HashMap;

/// A WordPiece vocabulary and its settings.
pub struct WordPiece {
    /// Piece → id; continuation pieces carry their prefix (`##ing`).
    pub vocab: HashMap<String, u32>,
    /// The id of the unknown token.
    pub unk: u32,
    /// The prefix of continuation pieces (`##`).
    pub prefix: String,
    /// Words of more characters than this are the unknown token.
    pub max_chars: usize,
}

impl WordPiece {
    /// The ids of `word`, appended to `out`.
    pub fn tokenize(&self, word: &str, out: &mut Vec<u32>) {
        if word.chars().count() > self.max_chars {
            out.push(self.unk);
            return;
        }
        let first = out.len();
        let mut piece = String::with_capacity(word.len() + self.prefix.len());
        let mut start = 0;
        while start < word.len() {
            let mut end = word.len();
            let found = loop {
                piece.clear();
                if start > 0 {
                    piece.push_str(&self.prefix);
                }
                piece.push_str(&word[start..end]);
                if let Some(&id) = self.vocab.get(&piece) {
                    break Some(id);
                }
                match word[start..end].chars().next_back() {
                    Some(c) if end - c.len_utf8() > start => end -= c.len_utf8(),
                    _ => break None,
                }
            };
            let Some(id) = found else {
                out.truncate(first);
                out.push(self.unk);
                return;
            };
            out.push(id);
            start = end;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_pieces_first_and_unknown_words_whole() {
        let vocab = [
            ("[UNK]", 0),
            ("un", 1),
            ("##aff", 2),
            ("##able", 3),
            ("a", 4),
        ]
        .into_iter()
        .map(|(p, i)| (p.to_string(), i))
        .collect();
        let wp = WordPiece {
            vocab,
            unk: 0,
            prefix: "##".into(),
            max_chars: 8,
        };
        let ids = |w: &str| {
            let mut out = vec![9];
            wp.tokenize(w, &mut out);
            out
        };
        assert_eq!(ids("unaffable"), [9, 0]); // 9 characters: over max_chars
        assert_eq!(ids("unaff"), [9, 1, 2]);
        assert_eq!(ids("unx"), [9, 0]);
        assert_eq!(ids("a"), [9, 4]);
    }
}
