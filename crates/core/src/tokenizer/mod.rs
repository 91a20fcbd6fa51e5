//! The tokenizer a GGUF file describes (`tokenizer.ggml.*`), as llama.cpp runs it: the
//! vocabulary and its token types, the special tokens split out of text first, BOS and
//! the tokens that end generation, the bytes each token stands for, and the model that
//! tokenizes the text between special tokens: byte-level BPE (`gpt2`) or SentencePiece
//! (`llama`).

mod bpe;
mod pre;
mod specials;
mod spm;
mod text_ids;
mod utf8_stream;

pub use utf8_stream::Utf8Stream;

use bpe::Bpe;
use specials::{Fragment, Specials};
use spm::Spm;

use crate::error::{Error, Result};
use crate::gguf::Gguf;

/// Names of the control tokens that end generation, as llama.cpp recognises them (those
/// of the vocabularies tandem runs): ends of turns and texts, Llama 3's end of message,
/// and Qwen's fill-in-the-middle padding and repository and file separators.
const END_OF_TURN_NAMES: [&str; 10] = [
    "<|endoftext|>",
    "<|im_end|>",
    "<|eot_id|>",
    "<|eom_id|>",
    "<|end_of_text|>",
    "<end_of_turn>",
    "<|end|>",
    "<|fim_pad|>",
    "<|repo_name|>",
    "<|file_sep|>",
];

/// What a token is (`tokenizer.ggml.token_type`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum TokenType {
    /// 1: text, as the model spells it.
    Normal,
    /// 2: the unknown token; special, no text.
    Unknown,
    /// 3: a control token (`<bos>`, `<|im_start|>`...); special, no text.
    Control,
    /// 4: special, split out of plain text too; its text as it is.
    UserDefined,
    /// 6: one byte, `<0xXX>`.
    Byte,
    /// 5 (unused) or any other number: no text.
    Unused,
}

impl TokenType {
    fn from_gguf(number: i64) -> Self {
        match number {
            1 => TokenType::Normal,
            2 => TokenType::Unknown,
            3 => TokenType::Control,
            4 => TokenType::UserDefined,
            6 => TokenType::Byte,
            _ => TokenType::Unused,
        }
    }
}

/// The model that tokenizes text between special tokens.
enum Model {
    Bpe(Bpe),
    Spm(Spm),
}

impl Model {
    /// Append the token ids of `text` to `out`; `after_special` says it starts the
    /// input or follows a special token.
    fn encode(&self, text: &str, after_special: bool, out: &mut Vec<u32>) {
        match self {
            Model::Bpe(bpe) => bpe.encode(text, out),
            Model::Spm(spm) => spm.encode(text, after_special, out),
        }
    }

    /// Append the bytes of the normal token spelt `text` to `out`.
    fn normal_piece(&self, text: &str, out: &mut Vec<u8>) {
        match self {
            Model::Bpe(_) => Bpe::normal_piece(text, out),
            Model::Spm(_) => Spm::normal_piece(text, out),
        }
    }
}

/// A tokenizer: text to token ids and back.
pub struct Tokenizer {
    model: Model,
    specials: Specials,
    types: Vec<TokenType>,
    /// The bytes of every token back to back: token `i`'s are
    /// `pieces[piece_starts[i]..piece_starts[i + 1]]`.
    pieces: Vec<u8>,
    piece_starts: Vec<usize>,
    end_of_generation: Vec<u32>,
    bos: Option<u32>,
    add_bos: bool,
}

impl Tokenizer {
    /// Build the tokenizer described by the GGUF metadata.
    pub fn from_gguf(gguf: &Gguf) -> Result<Self> {
        let tokens = gguf.strings("tokenizer.ggml.tokens")?;
        let types: Vec<TokenType> = if gguf.has("tokenizer.ggml.token_type") {
            let numbers = gguf.ints("tokenizer.ggml.token_type")?;
            if numbers.len() != tokens.len() {
                return Err(Error::ModelInvalid(format!(
                    "{} token types for {} tokens",
                    numbers.len(),
                    tokens.len()
                )));
            }
            numbers.into_iter().map(TokenType::from_gguf).collect()
        } else {
            vec![TokenType::Normal; tokens.len()]
        };

        let model = match gguf.str("tokenizer.ggml.model")? {
            "gpt2" => Model::Bpe(Bpe::from_gguf(gguf, &tokens)?),
            "llama" => Model::Spm(Spm::from_gguf(gguf, &tokens)?),
            other => {
                return Err(Error::UnsupportedModel(format!(
                    "tokenizer model {other:?} (supported: gpt2 byte-level BPE, \
                     llama SentencePiece)"
                )))
            }
        };

        let specials = Specials::new(tokens.iter().zip(&types).enumerate().filter_map(
            |(id, (&text, ty))| match ty {
                TokenType::Control | TokenType::Unknown => Some((text, id as u32, false)),
                TokenType::UserDefined => Some((text, id as u32, true)),
                _ => None,
            },
        ));

        // A piece is never longer than its token's text.
        let mut pieces = Vec::with_capacity(tokens.iter().map(|t| t.len()).sum());
        let mut piece_starts = Vec::with_capacity(tokens.len() + 1);
        piece_starts.push(0);
        for (&text, ty) in tokens.iter().zip(&types) {
            match ty {
                TokenType::Normal => model.normal_piece(text, &mut pieces),
                TokenType::UserDefined => pieces.extend_from_slice(text.as_bytes()),
                TokenType::Byte => pieces.push(byte_token_value(text).ok_or_else(|| {
                    Error::ModelInvalid(format!("byte token {text:?} is not <0xXX>"))
                })?),
                TokenType::Unknown | TokenType::Control | TokenType::Unused => {}
            }
            piece_starts.push(pieces.len());
        }

        let token_id = |key: &str, default: Option<u32>| -> Result<Option<u32>> {
            if !gguf.has(key) {
                return Ok(default.filter(|&id| (id as usize) < tokens.len()));
            }
            let id = gguf.u64(key)?;
            if id as usize >= tokens.len() {
                return Err(Error::ModelInvalid(format!(
                    "{key} = {id} is not a token id"
                )));
            }
            Ok(Some(id as u32))
        };
        // What llama.cpp assumes when the metadata is silent: SentencePiece models have
        // BOS 1 and EOS 2 and add BOS; BPE ones (here) have neither, and add BOS when
        // their pre-tokenizer is Llama 3's.
        let spm = matches!(model, Model::Spm(_));
        let bos = token_id("tokenizer.ggml.bos_token_id", spm.then_some(1))?;
        let mut end_of_generation: Vec<u32> = [
            token_id("tokenizer.ggml.eos_token_id", spm.then_some(2))?,
            token_id("tokenizer.ggml.eot_token_id", None)?,
            token_id("tokenizer.ggml.eom_token_id", None)?,
        ]
        .into_iter()
        .flatten()
        .collect();
        for (id, (text, ty)) in tokens.iter().zip(&types).enumerate() {
            let id = id as u32;
            if *ty == TokenType::Control
                && END_OF_TURN_NAMES.contains(text)
                && !end_of_generation.contains(&id)
            {
                end_of_generation.push(id);
            }
        }
        let add_bos = if gguf.has("tokenizer.ggml.add_bos_token") {
            gguf.bool("tokenizer.ggml.add_bos_token")?
        } else {
            match &model {
                Model::Spm(_) => true,
                Model::Bpe(bpe) => bpe.adds_bos(),
            }
        } && bos.is_some();

        Ok(Tokenizer {
            model,
            specials,
            types,
            pieces,
            piece_starts,
            end_of_generation,
            bos,
            add_bos,
        })
    }

    /// Number of tokens in the vocabulary.
    pub fn vocab_size(&self) -> usize {
        self.types.len()
    }

    /// Token ids of plain `text`: control tokens are ordinary characters (user-defined
    /// ones are still found), no BOS.
    pub fn encode(&self, text: &str) -> Vec<u32> {
        let mut ids = Vec::new();
        self.encode_into(text, false, &mut ids);
        ids
    }

    /// Token ids of a rendered prompt: special token strings become their ids, and BOS
    /// is added first when the model asks for it.
    pub fn encode_prompt(&self, text: &str) -> Vec<u32> {
        let mut ids = Vec::new();
        if let (true, Some(bos)) = (self.add_bos, self.bos) {
            ids.push(bos);
        }
        self.encode_into(text, true, &mut ids);
        // A template that writes BOS itself must not get a second one.
        if self.add_bos && ids.len() > 1 && ids[0] == ids[1] {
            ids.remove(0);
        }
        ids
    }

    /// Append the ids of `text`, split at the special tokens (all of them in a prompt),
    /// to `ids`.
    fn encode_into(&self, text: &str, prompt: bool, ids: &mut Vec<u32>) {
        let mut after_special = true;
        for fragment in self.specials.split(text, prompt) {
            match fragment {
                Fragment::Text(text) => {
                    self.model.encode(text, after_special, ids);
                    after_special = false;
                }
                Fragment::Token(id) => {
                    ids.push(id);
                    after_special = true;
                }
            }
        }
    }

    /// Whether `id` ends a turn (EOS, `<|im_end|>`...).
    pub fn is_end_of_generation(&self, id: u32) -> bool {
        self.end_of_generation.contains(&id)
    }

    /// Whether `id` is a control token (never shown as text).
    pub fn is_control(&self, id: u32) -> bool {
        self.types.get(id as usize) == Some(&TokenType::Control)
    }

    /// The bytes `id` stands for (empty for control, unknown and unused tokens and for
    /// ids outside the vocabulary).
    pub fn piece(&self, id: u32) -> &[u8] {
        let id = id as usize;
        if id >= self.types.len() {
            return &[];
        }
        &self.pieces[self.piece_starts[id]..self.piece_starts[id + 1]]
    }

    /// Text of `ids`, skipping control tokens; invalid UTF-8 becomes U+FFFD.
    pub fn decode(&self, ids: &[u32]) -> String {
        let bytes: Vec<u8> = ids.iter().flat_map(|&id| self.piece(id)).copied().collect();
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

/// The byte a byte token `<0xXX>` stands for.
fn byte_token_value(text: &str) -> Option<u8> {
    let hex = text.strip_prefix("<0x")?.strip_suffix('>')?;
    match hex.len() == 2 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        true => u8::from_str_radix(hex, 16).ok(),
        false => None,
    }
}
