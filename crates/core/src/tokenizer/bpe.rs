//! Byte-level BPE (GPT-2 style, `tokenizer.ggml.model = "gpt2"`): text is split into
//! words by the pre-tokenizer `tokenizer.ggml.pre` names ([`PreTokenizer`]), each
//! word's bytes become tokens, and the merge of lowest rank (`tokenizer.ggml.merges`)
//! is applied until none is left.

use std::collections::HashMap;

use super::pre::PreTokenizer;
use super::text_ids::TextIds;
use crate::error::{Error, Result};
use crate::gguf::Gguf;

/// GPT-2's reversible map from bytes to printable characters: printable bytes stand for
/// themselves, the others in order for U+0100 onwards.
const BYTE_CHARS: [char; 256] = {
    let mut table = ['\0'; 256];
    let mut next = 256;
    let mut b = 0;
    while b < 256 {
        let printable = matches!(b as u8, b'!'..=b'~' | 0xA1..=0xAC | 0xAE..=0xFF);
        table[b] = if printable {
            b as u8 as char
        } else {
            next += 1;
            char::from_u32(next - 1).expect("below the surrogate range")
        };
        b += 1;
    }
    table
};

/// Code points past the last character of [`BYTE_CHARS`] (256 + 68 unprintable bytes).
const CHAR_TABLE_END: usize = 324;

/// The inverse of [`BYTE_CHARS`], indexed by code point.
const CHAR_BYTES: [Option<u8>; CHAR_TABLE_END] = {
    let mut table = [None; CHAR_TABLE_END];
    let mut b = 0;
    while b < 256 {
        table[BYTE_CHARS[b] as usize] = Some(b as u8);
        b += 1;
    }
    table
};

/// A byte-level BPE model.
pub struct Bpe {
    pre: PreTokenizer,
    /// Token id of each text in the vocabulary.
    ids: TextIds,
    /// Token id of each single byte, if the vocabulary has one.
    byte_tokens: [Option<u32>; 256],
    /// `(left, right)` → `(rank, merged)`.
    merges: HashMap<(u32, u32), (u32, u32)>,
}

impl Bpe {
    /// The BPE model of the vocabulary `tokens`, with the merges and pre-tokenizer the
    /// GGUF metadata gives.
    pub fn from_gguf(gguf: &Gguf, tokens: &[&str]) -> Result<Self> {
        let pre = if gguf.has("tokenizer.ggml.pre") {
            gguf.str("tokenizer.ggml.pre")?
        } else {
            "default"
        };
        let pre = PreTokenizer::from_name(pre)?;
        let ids = TextIds::new(tokens);

        // Some vocabularies lack a few bytes; such bytes are dropped, as llama.cpp does.
        let byte_tokens = BYTE_CHARS.map(|c| ids.get(c.encode_utf8(&mut [0; 4])));

        let mut merges = HashMap::new();
        for (rank, line) in gguf.strings("tokenizer.ggml.merges")?.iter().enumerate() {
            let (left, right) = line
                .split_once(' ')
                .ok_or_else(|| Error::ModelInvalid(format!("malformed merge {line:?}")))?;
            let merged = format!("{left}{right}");
            if let (Some(l), Some(r), Some(m)) = (ids.get(left), ids.get(right), ids.get(&merged)) {
                merges.entry((l, r)).or_insert((rank as u32, m));
            }
        }

        Ok(Bpe {
            pre,
            ids,
            byte_tokens,
            merges,
        })
    }

    /// Whether prompts get BOS when the metadata does not say (llama.cpp's default
    /// for the pre-tokenizer).
    pub fn adds_bos(&self) -> bool {
        self.pre.adds_bos
    }

    /// Append the token ids of `text` (no special tokens in it) to `out`.
    pub fn encode(&self, text: &str, out: &mut Vec<u32>) {
        self.pre.split(text, &mut |word| self.bpe(word, out));
    }

    /// Byte-level BPE of one pre-tokenized word (or the word's own token, where the
    /// pre-tokenizer takes whole words).
    fn bpe(&self, word: &str, out: &mut Vec<u32>) {
        if self.pre.whole_words {
            let spelt: String = word.bytes().map(|b| BYTE_CHARS[b as usize]).collect();
            if let Some(id) = self.ids.get(&spelt) {
                out.push(id);
                return;
            }
        }
        let mut parts: Vec<Option<u32>> =
            word.bytes().map(|b| self.byte_tokens[b as usize]).collect();
        loop {
            let best = parts
                .windows(2)
                .enumerate()
                .filter_map(|(i, w)| match (w[0], w[1]) {
                    (Some(l), Some(r)) => self.merges.get(&(l, r)).map(|&(rank, m)| (rank, i, m)),
                    _ => None,
                })
                .min();
            let Some((_, i, merged)) = best else { break };
            parts[i] = Some(merged);
            parts.remove(i + 1);
        }
        out.extend(parts.into_iter().flatten());
    }

    /// Append the bytes a normal token's `text` stands for: each character is the byte
    /// GPT-2's table maps to it (a character outside the table stands for itself).
    pub fn normal_piece(text: &str, out: &mut Vec<u8>) {
        for c in text.chars() {
            match CHAR_BYTES.get(c as usize).copied().flatten() {
                Some(b) => out.push(b),
                None => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
            }
        }
    }
}
