//! The local embedding engine: BERT-family sentence encoders (all-MiniLM-L6-v2 and
//! the like), loaded from bytes (a sentence-transformers folder's files, or a GGUF as
//! llama.cpp's converter writes one), turning texts into unit vectors as
//! sentence-transformers does: WordPiece ids, the encoder, mean or CLS pooling, L2
//! normalisation. Independent of the decoder in `crate::model`.
//!
//! The folder is one idea per file: `normalizer.rs`, `pretokenizer.rs`,
//! `wordpiece.rs` and `tokenizer.rs` (text → ids, as Hugging Face `tokenizers`),
//! `config.rs` (sizes, window, pooling), `weights.rs` (the tensors, from safetensors or
//! GGUF), `dense.rs` (a dense layer: f32 weights in `panels.rs`, Q8_0 on tandem's
//! kernels), `forward.rs` (the encoder over a padded batch), `pooling.rs`, `batch.rs`
//! (inputs into batches of similar lengths), `search.rs` (ranking vectors, and an
//! index of them) and `open.rs` (an encoder from a folder or a GGUF file on disk).

mod batch;
mod config;
mod dense;
mod erf;
mod forward;
mod normalizer;
mod open;
mod panels;
mod pooling;
mod pretokenizer;
mod search;
mod tokenizer;
mod weights;
mod wordpiece;

pub use config::EncoderConfig;
pub use pooling::Pooling;
pub use search::{dot, top_k, VectorIndex};
pub use tokenizer::BertTokenizer;

use crate::error::{Error, Result};
use crate::gguf::Gguf;
use crate::kernels::on_pool;
use weights::EncoderWeights;

/// Padded tokens per batch at most (rows of the activations in one product).
const MAX_BATCH_TOKENS: usize = 4096;

/// The files of a sentence-transformers model folder, as bytes and text.
pub struct EncoderFiles<'a> {
    /// `model.safetensors`.
    pub safetensors: &'a [u8],
    /// `tokenizer.json`.
    pub tokenizer_json: &'a str,
    /// `config.json`.
    pub config_json: &'a str,
    /// `1_Pooling/config.json` (mean pooling without it).
    pub pooling_json: Option<&'a str>,
    /// `sentence_bert_config.json`: its `max_seq_length` is the window (else the
    /// model's position count).
    pub sentence_config_json: Option<&'a str>,
}

/// A sentence encoder: tokenizer, weights and settings.
pub struct Encoder {
    config: EncoderConfig,
    tokenizer: BertTokenizer,
    weights: EncoderWeights,
}

/// One input's embedding.
#[derive(Clone, Debug, PartialEq)]
pub struct Embedding {
    /// The token ids given to the encoder (`[CLS]` … `[SEP]`, after any truncation).
    pub ids: Vec<u32>,
    /// The unit-length vector.
    pub vector: Vec<f32>,
    /// Whether the input was cut at the window.
    pub truncated: bool,
}

/// The embeddings of a request's inputs, in input order.
#[derive(Clone, Debug, PartialEq)]
pub struct Embeddings {
    /// One per input.
    pub data: Vec<Embedding>,
}

impl Embeddings {
    /// The tokens the encoder ran (OpenAI's `usage.prompt_tokens`).
    pub fn tokens(&self) -> usize {
        self.data.iter().map(|e| e.ids.len()).sum()
    }
}

impl Encoder {
    /// An encoder from a sentence-transformers folder's files.
    pub fn from_files(files: EncoderFiles<'_>) -> Result<Self> {
        let config = EncoderConfig::from_json(
            files.config_json,
            files.pooling_json,
            files.sentence_config_json,
        )?;
        let tokenizer = BertTokenizer::from_json(files.tokenizer_json)?;
        let weights = EncoderWeights::from_safetensors(files.safetensors, &config)?;
        Ok(Encoder {
            config,
            tokenizer,
            weights,
        })
    }

    /// An encoder from a GGUF file's bytes (architecture `bert`, WordPiece
    /// vocabulary, pooling type mean or CLS); its window is the context length.
    pub fn from_gguf(bytes: &[u8]) -> Result<Self> {
        let gguf = Gguf::parse(bytes)?;
        let config = EncoderConfig::from_gguf(&gguf)?;
        let tokenizer = BertTokenizer::from_gguf(&gguf)?;
        let weights = EncoderWeights::from_gguf(&gguf, bytes, &config)?;
        Ok(Encoder {
            config,
            tokenizer,
            weights,
        })
    }

    /// The same encoder with a smaller window (`tokens`, at least 2; the model's own
    /// is the most).
    pub fn with_window(mut self, tokens: usize) -> Result<Self> {
        if !(2..=self.config.positions).contains(&tokens) {
            return Err(Error::InvalidRequest(format!(
                "a window of {tokens} tokens: it must be from 2 to {}",
                self.config.positions
            )));
        }
        self.config.window = tokens;
        Ok(self)
    }

    /// Sizes and settings.
    pub fn config(&self) -> &EncoderConfig {
        &self.config
    }

    /// The width of the vectors.
    pub fn dimensions(&self) -> usize {
        self.config.width
    }

    /// The most tokens an input may have (`[CLS]` and `[SEP]` included).
    pub fn window(&self) -> usize {
        self.config.window
    }

    /// The token ids of `text` as the encoder would be given them, untruncated.
    pub fn tokenize(&self, text: &str) -> Vec<u32> {
        self.tokenizer.encode(text)
    }

    /// The embeddings of `texts`, in their order. An input longer than the window is
    /// an `invalid_request` naming it and its token count, unless `truncate`: then it
    /// is cut to the window (its last token `[SEP]`). No input at all is an
    /// `invalid_request` too. Inputs run as padded batches of similar lengths.
    pub fn embed(&self, texts: &[&str], truncate: bool) -> Result<Embeddings> {
        self.embed_numbered(texts, truncate, 0)
    }

    /// [`Encoder::embed`] of `texts` that come at place `first` of a longer list (as
    /// errors number them).
    pub fn embed_numbered(
        &self,
        texts: &[&str],
        truncate: bool,
        first: usize,
    ) -> Result<Embeddings> {
        if texts.is_empty() {
            return Err(Error::InvalidRequest("no input to embed".into()));
        }
        let window = self.config.window;
        let mut data = Vec::with_capacity(texts.len());
        for (i, text) in texts.iter().enumerate() {
            let mut ids = self.tokenizer.encode(text);
            let truncated = ids.len() > window;
            if truncated {
                if !truncate {
                    return Err(too_long(first + i, ids.len(), window));
                }
                ids.truncate(window - 1);
                ids.push(self.tokenizer.sep());
            }
            data.push(Embedding {
                ids,
                vector: Vec::new(),
                truncated,
            });
        }
        let lens: Vec<usize> = data.iter().map(|e| e.ids.len()).collect();
        // On a thread of the pool, as the decoder's forward passes run.
        on_pool(|| {
            for bucket in batch::buckets(&lens, MAX_BATCH_TOKENS) {
                let seqs: Vec<&[u32]> = bucket.iter().map(|&i| data[i].ids.as_slice()).collect();
                let vectors = forward::encode(&self.weights, &self.config, &seqs)?;
                for (i, vector) in bucket.into_iter().zip(vectors) {
                    data[i].vector = vector;
                }
            }
            Ok(Embeddings { data })
        })
    }
}

/// Input `i` has `n` tokens, more than `window`.
fn too_long(i: usize, n: usize, window: usize) -> Error {
    Error::InvalidRequest(format!(
        "input {i} has {n} tokens, more than the model's window of {window} (ask for \
         truncation to cut it)"
    ))
}
