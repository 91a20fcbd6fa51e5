//! Byte-level BPE (GPT-2 style, `tokenizer.ggml.model = "gpt2"`): text is split into
//! words by the pre-tokenizer `tokenizer.ggml.pre` names, each word's bytes become
//! tokens, and the merge of lowest rank (`tokenizer.ggml.merges`) is applied until none
//! is left.

use std::collections::HashMap;

use fancy_regex::Regex;

use crate::error::{Error, Result};
use crate::gguf::Gguf;

/// GPT-2's pre-tokenizer pattern (contractions, letters, numbers, other, spaces).
const GPT2_PATTERN: &str =
    r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

/// How text is split into words before BPE.
enum PreTokenizer {
    /// GPT-2 regex only.
    Gpt2(Regex),
    /// SmolLM: every numeric character alone, then the GPT-2 regex.
    SmolLm(Regex),
}

impl PreTokenizer {
    fn from_name(name: &str) -> Result<Self> {
        let gpt2 = Regex::new(GPT2_PATTERN).expect("the GPT-2 pattern is valid");
        match name {
            "smollm" => Ok(PreTokenizer::SmolLm(gpt2)),
            "gpt2" | "default" => Ok(PreTokenizer::Gpt2(gpt2)),
            other => Err(Error::UnsupportedModel(format!(
                "pre-tokenizer {other:?} (supported: smollm, gpt2)"
            ))),
        }
    }

    /// Split `text` into words, calling `word` on each in order.
    fn split(&self, text: &str, word: &mut impl FnMut(&str)) {
        match self {
            PreTokenizer::Gpt2(re) => split_regex(re, text, word),
            PreTokenizer::SmolLm(re) => {
                let mut start = 0;
                for (i, c) in text.char_indices() {
                    if c.is_numeric() {
                        split_regex(re, &text[start..i], word);
                        word(&text[i..i + c.len_utf8()]);
                        start = i + c.len_utf8();
                    }
                }
                split_regex(re, &text[start..], word);
            }
        }
    }
}

fn split_regex(re: &Regex, text: &str, word: &mut impl FnMut(&str)) {
    // The pattern ends in `\s+`, so every character belongs to some match.
    for m in re.find_iter(text).flatten() {
        word(m.as_str());
    }
}

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
        let ids: HashMap<&str, u32> = tokens
            .iter()
            .enumerate()
            .map(|(i, t)| (*t, i as u32))
            .collect();

        // Some vocabularies lack a few bytes; such bytes are dropped, as llama.cpp does.
        let byte_tokens = BYTE_CHARS.map(|c| ids.get(c.to_string().as_str()).copied());

        let mut merges = HashMap::new();
        for (rank, line) in gguf.strings("tokenizer.ggml.merges")?.iter().enumerate() {
            let (left, right) = line
                .split_once(' ')
                .ok_or_else(|| Error::ModelInvalid(format!("malformed merge {line:?}")))?;
            let merged = format!("{left}{right}");
            if let (Some(&l), Some(&r), Some(&m)) =
                (ids.get(left), ids.get(right), ids.get(merged.as_str()))
            {
                merges.entry((l, r)).or_insert((rank as u32, m));
            }
        }

        Ok(Bpe {
            pre,
            byte_tokens,
            merges,
        })
    }

    /// Append the token ids of `text` (no special tokens in it) to `out`.
    pub fn encode(&self, text: &str, out: &mut Vec<u32>) {
        self.pre.split(text, &mut |word| self.bpe(word, out));
    }

    /// Byte-level BPE of one pre-tokenized word.
    fn bpe(&self, word: &str, out: &mut Vec<u32>) {
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
