//! Byte-level BPE tokenizer built from GGUF metadata (`tokenizer.ggml.*`), with the
//! pre-tokenizer named by `tokenizer.ggml.pre`, and a UTF-8-safe streaming decoder.

use std::collections::HashMap;

use fancy_regex::Regex;

use crate::error::{Error, Result};
use crate::gguf::Gguf;

/// GPT-2's pre-tokenizer pattern (contractions, letters, numbers, other, spaces).
const GPT2_PATTERN: &str =
    r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

/// GGUF token type of control tokens (`<|im_start|>` and friends).
const TOKEN_TYPE_CONTROL: i64 = 3;
/// GGUF token type of user-defined special tokens.
const TOKEN_TYPE_USER_DEFINED: i64 = 4;

/// Names of end-of-turn control tokens, as llama.cpp recognises them.
const END_OF_TURN_NAMES: [&str; 5] = [
    "<|endoftext|>",
    "<|im_end|>",
    "<|eot_id|>",
    "<end_of_turn>",
    "<|end|>",
];

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

/// GPT-2's reversible map from bytes to printable characters.
fn byte_to_char_table() -> [char; 256] {
    let mut table = ['\0'; 256];
    let mut next = 256u32;
    for b in 0..=255u8 {
        let printable = matches!(b, b'!'..=b'~' | 0xA1..=0xAC | 0xAE..=0xFF);
        table[b as usize] = if printable {
            b as char
        } else {
            let c = char::from_u32(next).expect("below the surrogate range");
            next += 1;
            c
        };
    }
    table
}

/// A byte-level BPE tokenizer.
pub struct Tokenizer {
    pre: PreTokenizer,
    /// Token id of each single byte, if the vocabulary has one.
    byte_tokens: [Option<u32>; 256],
    /// `(left, right)` → `(rank, merged)`.
    merges: HashMap<(u32, u32), (u32, u32)>,
    /// Special tokens (control and user-defined), longest first, for prompt parsing.
    specials: Vec<(String, u32)>,
    /// Decoded bytes of every token; empty for control tokens.
    pieces: Vec<Vec<u8>>,
    /// Whether each token is a control token.
    control: Vec<bool>,
    end_of_generation: Vec<u32>,
    bos: Option<u32>,
    add_bos: bool,
}

impl Tokenizer {
    /// Build the tokenizer described by the GGUF metadata.
    pub fn from_gguf(gguf: &Gguf) -> Result<Self> {
        let model = gguf.str("tokenizer.ggml.model")?;
        if model != "gpt2" {
            return Err(Error::UnsupportedModel(format!(
                "tokenizer model {model:?} (supported: gpt2 byte-level BPE)"
            )));
        }
        let pre = if gguf.has("tokenizer.ggml.pre") {
            gguf.str("tokenizer.ggml.pre")?
        } else {
            "default"
        };
        let pre = PreTokenizer::from_name(pre)?;
        let tokens = gguf.strings("tokenizer.ggml.tokens")?;
        let types = if gguf.has("tokenizer.ggml.token_type") {
            gguf.ints("tokenizer.ggml.token_type")?
        } else {
            vec![1; tokens.len()]
        };
        if types.len() != tokens.len() {
            return Err(Error::ModelInvalid(format!(
                "{} token types for {} tokens",
                types.len(),
                tokens.len()
            )));
        }
        let ids: HashMap<&str, u32> = tokens
            .iter()
            .enumerate()
            .map(|(i, t)| (*t, i as u32))
            .collect();
        let char_bytes: HashMap<char, u8> = byte_to_char_table()
            .iter()
            .enumerate()
            .map(|(b, c)| (*c, b as u8))
            .collect();

        // Some vocabularies lack a few bytes; such bytes are dropped, as llama.cpp does.
        let byte_tokens = byte_to_char_table().map(|c| ids.get(c.to_string().as_str()).copied());

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

        let control: Vec<bool> = types.iter().map(|&t| t == TOKEN_TYPE_CONTROL).collect();
        let mut specials: Vec<(String, u32)> = tokens
            .iter()
            .zip(&types)
            .enumerate()
            .filter(|(_, (t, ty))| {
                !t.is_empty() && (**ty == TOKEN_TYPE_CONTROL || **ty == TOKEN_TYPE_USER_DEFINED)
            })
            .map(|(i, (t, _))| (t.to_string(), i as u32))
            .collect();
        specials.sort_by_key(|(t, _)| std::cmp::Reverse(t.len()));

        let pieces = tokens
            .iter()
            .zip(&types)
            .map(|(t, &ty)| match ty {
                TOKEN_TYPE_CONTROL => Vec::new(),
                TOKEN_TYPE_USER_DEFINED => t.as_bytes().to_vec(),
                _ => t
                    .chars()
                    .flat_map(|c| match char_bytes.get(&c) {
                        Some(b) => vec![*b],
                        None => c.to_string().into_bytes(),
                    })
                    .collect(),
            })
            .collect();

        let optional_id = |key: &str| -> Result<Option<u32>> {
            if !gguf.has(key) {
                return Ok(None);
            }
            let id = gguf.u64(key)?;
            if id as usize >= tokens.len() {
                return Err(Error::ModelInvalid(format!(
                    "{key} = {id} is not a token id"
                )));
            }
            Ok(Some(id as u32))
        };
        let bos = optional_id("tokenizer.ggml.bos_token_id")?;
        let mut end_of_generation: Vec<u32> = [
            optional_id("tokenizer.ggml.eos_token_id")?,
            optional_id("tokenizer.ggml.eot_token_id")?,
            optional_id("tokenizer.ggml.eom_token_id")?,
        ]
        .into_iter()
        .flatten()
        .collect();
        for name in END_OF_TURN_NAMES {
            if let Some(&id) = ids.get(name) {
                if control[id as usize] && !end_of_generation.contains(&id) {
                    end_of_generation.push(id);
                }
            }
        }
        let add_bos = gguf.has("tokenizer.ggml.add_bos_token")
            && gguf.bool("tokenizer.ggml.add_bos_token")?
            && bos.is_some();

        Ok(Tokenizer {
            pre,
            byte_tokens,
            merges,
            specials,
            pieces,
            control,
            end_of_generation,
            bos,
            add_bos,
        })
    }

    /// Number of tokens in the vocabulary.
    pub fn vocab_size(&self) -> usize {
        self.pieces.len()
    }

    /// Token ids of plain `text`: special tokens are ordinary characters, no BOS.
    pub fn encode(&self, text: &str) -> Vec<u32> {
        let mut ids = Vec::new();
        self.encode_into(text, &mut ids);
        ids
    }

    /// Token ids of a rendered prompt: special token strings become their ids, and BOS
    /// is added first when the model asks for it.
    pub fn encode_prompt(&self, text: &str) -> Vec<u32> {
        let mut ids = Vec::new();
        if let (true, Some(bos)) = (self.add_bos, self.bos) {
            ids.push(bos);
        }
        let mut rest = text;
        while !rest.is_empty() {
            let next = self
                .specials
                .iter()
                .filter_map(|(s, id)| rest.find(s.as_str()).map(|at| (at, s.len(), *id)))
                // earliest first; at the same place the longest, which comes first
                .min_by_key(|(at, _, _)| *at);
            match next {
                Some((at, len, id)) => {
                    self.encode_into(&rest[..at], &mut ids);
                    ids.push(id);
                    rest = &rest[at + len..];
                }
                None => {
                    self.encode_into(rest, &mut ids);
                    break;
                }
            }
        }
        // A template that writes BOS itself must not get a second one.
        if self.add_bos && ids.len() > 1 && ids[0] == ids[1] {
            ids.remove(0);
        }
        ids
    }

    fn encode_into(&self, text: &str, ids: &mut Vec<u32>) {
        self.pre.split(text, &mut |word| self.bpe(word, ids));
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

    /// Whether `id` ends a turn (EOS, `<|im_end|>`...).
    pub fn is_end_of_generation(&self, id: u32) -> bool {
        self.end_of_generation.contains(&id)
    }

    /// Whether `id` is a control token (never shown as text).
    pub fn is_control(&self, id: u32) -> bool {
        self.control.get(id as usize).copied().unwrap_or(false)
    }

    /// The bytes `id` stands for (empty for control tokens and unknown ids).
    pub fn piece(&self, id: u32) -> &[u8] {
        self.pieces.get(id as usize).map_or(&[], |p| p.as_slice())
    }

    /// Text of `ids`, skipping control tokens; invalid UTF-8 becomes U+FFFD.
    pub fn decode(&self, ids: &[u32]) -> String {
        let bytes: Vec<u8> = ids.iter().flat_map(|&id| self.piece(id)).copied().collect();
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

/// Turns a stream of token bytes into text without ever splitting a character: bytes of
/// an incomplete character are held until the rest arrives.
#[derive(Default)]
pub struct Utf8Stream {
    held: Vec<u8>,
}

impl Utf8Stream {
    /// Add `bytes` and return the text that is now complete.
    pub fn push(&mut self, bytes: &[u8]) -> String {
        self.held.extend_from_slice(bytes);
        let mut out = String::new();
        loop {
            match std::str::from_utf8(&self.held) {
                Ok(s) => {
                    out.push_str(s);
                    self.held.clear();
                    return out;
                }
                Err(e) => {
                    let valid = e.valid_up_to();
                    out.push_str(std::str::from_utf8(&self.held[..valid]).expect("valid prefix"));
                    match e.error_len() {
                        // An invalid sequence can never complete: replace it and go on.
                        Some(bad) => {
                            out.push(char::REPLACEMENT_CHARACTER);
                            self.held.drain(..valid + bad);
                        }
                        // An incomplete character at the end: wait for more bytes.
                        None => {
                            self.held.drain(..valid);
                            return out;
                        }
                    }
                }
            }
        }
    }

    /// Whatever is still held, as text (an unfinished character becomes U+FFFD).
    pub fn finish(&mut self) -> String {
        let out = String::from_utf8_lossy(&self.held).into_owned();
        self.held.clear();
        out
    }
}
