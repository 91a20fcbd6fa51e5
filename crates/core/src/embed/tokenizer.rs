//! The encoder's tokenizer: text → ids as Hugging Face `tokenizers` encodes it for a
//! BERT tokenizer.json (added tokens such as `[MASK]` taken from the raw text first,
//! then [`Normalizer`], the pre-tokenizer's [`words`], [`WordPiece`], and `[CLS]` …
//! `[SEP]` around), from the model's tokenizer.json or from a GGUF's vocabulary as
//! llama.cpp's converter writes it (tokenizer.ggml.model = bert).

use std::collections::HashMap;

use serde_json::Value;

use super::normalizer::Normalizer;
use super::pretokenizer::words;
use super::wordpiece::WordPiece;
use crate::error::{Error, Result};
use crate::gguf::Gguf;

/// The GGUF token type of control tokens (`[CLS]`, `[SEP]`, `[PAD]`…).
const CONTROL: i64 = 3;

/// A BERT WordPiece tokenizer.
pub struct BertTokenizer {
    normalizer: Normalizer,
    wordpiece: WordPiece,
    /// Added tokens matched in the raw text (content, id), longest first.
    added: Vec<(String, u32)>,
    cls: u32,
    sep: u32,
}

impl BertTokenizer {
    /// The ids of `text`: `[CLS]`, its pieces, `[SEP]` (not truncated).
    pub fn encode(&self, text: &str) -> Vec<u32> {
        let mut ids = vec![self.cls];
        let mut segment = 0;
        let mut i = 0;
        while i < text.len() {
            match self
                .added
                .iter()
                .find(|(t, _)| text[i..].starts_with(t.as_str()))
            {
                Some((t, id)) => {
                    self.plain(&text[segment..i], &mut ids);
                    ids.push(*id);
                    i += t.len();
                    segment = i;
                }
                None => i += text[i..].chars().next().map_or(1, char::len_utf8),
            }
        }
        self.plain(&text[segment..], &mut ids);
        ids.push(self.sep);
        ids
    }

    /// The ids of text without added tokens, appended to `ids`.
    fn plain(&self, text: &str, ids: &mut Vec<u32>) {
        if text.is_empty() {
            return;
        }
        let normalized = self.normalizer.normalize(text);
        for word in words(&normalized) {
            self.wordpiece.tokenize(word, ids);
        }
    }

    /// The id of `[SEP]`, which ends every sequence.
    pub fn sep(&self) -> u32 {
        self.sep
    }

    /// The tokenizer of a tokenizer.json: a WordPiece model, a BertNormalizer, a
    /// BertPreTokenizer and a post-processor that puts one special token before the
    /// text and one after (TemplateProcessing or BertProcessing). Its truncation and
    /// padding sections are not read: the encoder truncates at its window, and pads
    /// nothing.
    pub fn from_json(json: &str) -> Result<Self> {
        let bad = |m: &str| Error::ModelInvalid(format!("tokenizer.json: {m}"));
        let root: Value = serde_json::from_str(json).map_err(|e| bad(&e.to_string()))?;
        let model = &root["model"];
        if model["type"] != "WordPiece" {
            return Err(Error::UnsupportedModel(format!(
                "tokenizer.json: the model is {}, not WordPiece",
                model["type"]
            )));
        }
        let vocab: HashMap<String, u32> = model["vocab"]
            .as_object()
            .ok_or_else(|| bad("model.vocab is not an object"))?
            .iter()
            .map(|(piece, id)| Ok((piece.clone(), json_id(id).ok_or_else(|| bad("an id"))?)))
            .collect::<Result<_>>()?;
        let unk_token = model["unk_token"].as_str().unwrap_or("[UNK]");
        let unk = *vocab
            .get(unk_token)
            .ok_or_else(|| bad("the unknown token is not in the vocabulary"))?;
        let wordpiece = WordPiece {
            unk,
            prefix: model["continuing_subword_prefix"]
                .as_str()
                .unwrap_or("##")
                .to_string(),
            max_chars: model["max_input_chars_per_word"].as_u64().unwrap_or(100) as usize,
            vocab,
        };
        let normalizer = normalizer(&root["normalizer"])?;
        if root["pre_tokenizer"]["type"] != "BertPreTokenizer" {
            return Err(Error::UnsupportedModel(format!(
                "tokenizer.json: the pre-tokenizer is {}, not BertPreTokenizer",
                root["pre_tokenizer"]["type"]
            )));
        }
        let (cls, sep) = specials(&root["post_processor"], &wordpiece.vocab)?;
        let mut added = Vec::new();
        for token in root["added_tokens"].as_array().into_iter().flatten() {
            let plain = ["lstrip", "rstrip", "single_word", "normalized"]
                .iter()
                .all(|k| token[*k] != true);
            let (Some(content), Some(id)) = (token["content"].as_str(), json_id(&token["id"]))
            else {
                return Err(bad("an added token without content or id"));
            };
            if !plain {
                return Err(Error::UnsupportedModel(format!(
                    "tokenizer.json: added token {content} is normalized or strips spaces"
                )));
            }
            added.push((content.to_string(), id));
        }
        Ok(BertTokenizer::new(normalizer, wordpiece, added, cls, sep))
    }

    /// The tokenizer of a GGUF's vocabulary, as llama.cpp's converter writes a BERT
    /// one: control tokens as they are (and matched in the raw text, as tokenizer.json's
    /// special tokens are), a word-start piece `w` as `▁w`, a continuation `##w` as `w`.
    /// `[CLS]` is the BOS token (or tokenizer.ggml.cls_token_id), `[SEP]` the separator
    /// (or EOS). Every step of the normaliser runs, as in llama.cpp, which records none.
    pub fn from_gguf(gguf: &Gguf) -> Result<Self> {
        let model = gguf.str("tokenizer.ggml.model")?;
        if model != "bert" {
            return Err(Error::UnsupportedModel(format!(
                "tokenizer.ggml.model is {model}, not bert (WordPiece)"
            )));
        }
        let tokens = gguf.strings("tokenizer.ggml.tokens")?;
        let types = gguf.ints("tokenizer.ggml.token_type")?;
        if types.len() != tokens.len() {
            return Err(Error::ModelInvalid(
                "tokenizer.ggml.token_type and tokenizer.ggml.tokens differ in length".into(),
            ));
        }
        let mut vocab = HashMap::with_capacity(tokens.len());
        let mut added = Vec::new();
        for (id, (token, kind)) in (0u32..).zip(tokens.iter().zip(&types)) {
            let piece = match token.strip_prefix('\u{2581}') {
                _ if *kind == CONTROL => {
                    added.push((token.to_string(), id));
                    token.to_string()
                }
                Some(start) => start.to_string(),
                None => format!("##{token}"),
            };
            vocab.entry(piece).or_insert(id);
        }
        let id = |keys: &[&str]| -> Result<u32> {
            let key = keys.iter().find(|k| gguf.has(k)).unwrap_or(&keys[0]);
            let id = gguf.u64(key)?;
            match id < tokens.len() as u64 {
                true => Ok(id as u32),
                false => Err(Error::ModelInvalid(format!("{key} is not a token"))),
            }
        };
        let wordpiece = WordPiece {
            vocab,
            unk: id(&["tokenizer.ggml.unknown_token_id"])?,
            prefix: "##".into(),
            max_chars: 100,
        };
        let cls = id(&["tokenizer.ggml.cls_token_id", "tokenizer.ggml.bos_token_id"])?;
        let sep = id(&[
            "tokenizer.ggml.seperator_token_id",
            "tokenizer.ggml.eos_token_id",
        ])?;
        Ok(BertTokenizer::new(
            Normalizer::ALL,
            wordpiece,
            added,
            cls,
            sep,
        ))
    }

    fn new(
        normalizer: Normalizer,
        wordpiece: WordPiece,
        mut added: Vec<(String, u32)>,
        cls: u32,
        sep: u32,
    ) -> Self {
        // Longest first, so that the first match at a place is the longest.
        added.retain(|(t, _)| !t.is_empty());
        added.sort_by_key(|(t, _)| std::cmp::Reverse(t.len()));
        BertTokenizer {
            normalizer,
            wordpiece,
            added,
            cls,
            sep,
        }
    }
}

fn json_id(v: &Value) -> Option<u32> {
    v.as_u64().and_then(|id| u32::try_from(id).ok())
}

/// The steps of a tokenizer.json's BertNormalizer (strip_accents null: as lowercase).
fn normalizer(n: &Value) -> Result<Normalizer> {
    if n["type"] != "BertNormalizer" {
        return Err(Error::UnsupportedModel(format!(
            "tokenizer.json: the normalizer is {}, not BertNormalizer",
            n["type"]
        )));
    }
    let flag = |k: &str| n[k].as_bool().unwrap_or(true);
    let lowercase = flag("lowercase");
    Ok(Normalizer {
        clean_text: flag("clean_text"),
        chinese_chars: flag("handle_chinese_chars"),
        strip_accents: n["strip_accents"].as_bool().unwrap_or(lowercase),
        lowercase,
    })
}

/// The ids of the special tokens the post-processor puts before and after the text.
fn specials(p: &Value, vocab: &HashMap<String, u32>) -> Result<(u32, u32)> {
    let unsupported = || {
        Error::UnsupportedModel(
            "tokenizer.json: the post-processor does not put one special token before \
             the text and one after"
                .into(),
        )
    };
    match p["type"].as_str() {
        Some("BertProcessing") => {
            let id = |k: &str| json_id(&p[k][1]).ok_or_else(unsupported);
            Ok((id("cls")?, id("sep")?))
        }
        Some("TemplateProcessing") => {
            let single = p["single"].as_array().ok_or_else(unsupported)?;
            let special = |v: &Value| -> Result<u32> {
                let name = v["SpecialToken"]["id"].as_str().ok_or_else(unsupported)?;
                let ids = &p["special_tokens"][name]["ids"];
                match ids.as_array().map(Vec::as_slice) {
                    Some([id]) => json_id(id).ok_or_else(unsupported),
                    _ => vocab.get(name).copied().ok_or_else(unsupported),
                }
            };
            match single.as_slice() {
                [first, seq, last] if seq["Sequence"]["id"] == "A" => {
                    Ok((special(first)?, special(last)?))
                }
                _ => Err(unsupported()),
            }
        }
        _ => Err(unsupported()),
    }
}
