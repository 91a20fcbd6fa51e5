//! The encoder's sizes and settings, from a Hugging Face config.json (with the
//! sentence-transformers files beside it) or from a GGUF's `bert.*` metadata.

use serde_json::Value;

use super::pooling::Pooling;
use crate::error::{Error, Result};
use crate::gguf::Gguf;

/// What the encoder is: its sizes, its LayerNorm epsilon, its window and pooling.
#[derive(Clone, Debug, PartialEq)]
pub struct EncoderConfig {
    /// Vocabulary size (rows of the word embeddings).
    pub vocab: usize,
    /// Width of the hidden states.
    pub width: usize,
    /// Encoder layers.
    pub layers: usize,
    /// Attention heads (the head width is `width / heads`).
    pub heads: usize,
    /// Width of the feed-forward network.
    pub ffn: usize,
    /// Rows of the position embeddings.
    pub positions: usize,
    /// Rows of the token-type embeddings (type 0 is used).
    pub token_types: usize,
    /// LayerNorm epsilon.
    pub eps: f32,
    /// The most tokens (`[CLS]` and `[SEP]` included) an input may have.
    pub window: usize,
    /// How token vectors become the sentence's.
    pub pooling: Pooling,
}

impl EncoderConfig {
    /// From config.json (a BERT with absolute positions and erf GELU), the pooling
    /// config (mean when there is none, sentence-transformers' default) and
    /// sentence_bert_config.json, whose `max_seq_length` is the window (else
    /// `max_position_embeddings`).
    pub fn from_json(
        config_json: &str,
        pooling_json: Option<&str>,
        sentence_json: Option<&str>,
    ) -> Result<Self> {
        let parse = |what: &str, json: &str| -> Result<Value> {
            serde_json::from_str(json).map_err(|e| Error::ModelInvalid(format!("{what}: {e}")))
        };
        let c = parse("config.json", config_json)?;
        let kind = c["model_type"].as_str().unwrap_or("");
        if kind != "bert" {
            return Err(Error::UnsupportedModel(format!(
                "config.json: model_type {kind:?} is not bert"
            )));
        }
        let act = c["hidden_act"].as_str().unwrap_or("gelu");
        if act != "gelu" {
            return Err(Error::UnsupportedModel(format!(
                "config.json: hidden_act {act:?} (only gelu, with erf)"
            )));
        }
        let positions = c["position_embedding_type"].as_str().unwrap_or("absolute");
        if positions != "absolute" {
            return Err(Error::UnsupportedModel(format!(
                "config.json: position_embedding_type {positions:?} (only absolute)"
            )));
        }
        let size = |k: &str| -> Result<usize> {
            c[k].as_u64()
                .map(|v| v as usize)
                .ok_or_else(|| Error::ModelInvalid(format!("config.json: {k} is missing")))
        };
        let positions = size("max_position_embeddings")?;
        let window = match sentence_json {
            Some(json) => parse("sentence_bert_config.json", json)?["max_seq_length"]
                .as_u64()
                .map_or(positions, |w| w as usize),
            None => positions,
        };
        let config = EncoderConfig {
            vocab: size("vocab_size")?,
            width: size("hidden_size")?,
            layers: size("num_hidden_layers")?,
            heads: size("num_attention_heads")?,
            ffn: size("intermediate_size")?,
            positions,
            token_types: size("type_vocab_size").unwrap_or(2),
            eps: c["layer_norm_eps"].as_f64().unwrap_or(1e-12) as f32,
            window,
            pooling: pooling_json.map_or(Ok(Pooling::Mean), Pooling::from_json)?,
        };
        config.checked()
    }

    /// From a GGUF of architecture `bert`: its sizes, layer_norm_epsilon, pooling
    /// type, context length (the window) and token-type count.
    pub fn from_gguf(gguf: &Gguf) -> Result<Self> {
        let arch = gguf.str("general.architecture")?;
        if arch != "bert" {
            return Err(Error::UnsupportedModel(format!(
                "architecture {arch} is not an encoder tandem runs (bert)"
            )));
        }
        if gguf.has("bert.attention.causal") && gguf.bool("bert.attention.causal")? {
            return Err(Error::UnsupportedModel(
                "bert.attention.causal is true: only bidirectional encoders run".into(),
            ));
        }
        let positions = gguf.usize("bert.context_length")?;
        let config = EncoderConfig {
            vocab: gguf.strings("tokenizer.ggml.tokens")?.len(),
            width: gguf.usize("bert.embedding_length")?,
            layers: gguf.usize("bert.block_count")?,
            heads: gguf.usize("bert.attention.head_count")?,
            ffn: gguf.usize("bert.feed_forward_length")?,
            positions,
            token_types: match gguf.has("tokenizer.ggml.token_type_count") {
                true => gguf.usize("tokenizer.ggml.token_type_count")?,
                false => 2,
            },
            eps: gguf.f32("bert.attention.layer_norm_epsilon")?,
            window: positions,
            pooling: Pooling::from_gguf_type(gguf.u64("bert.pooling_type")?)?,
        };
        config.checked()
    }

    fn checked(self) -> Result<Self> {
        let sizes = [
            self.vocab,
            self.width,
            self.layers,
            self.heads,
            self.ffn,
            self.positions,
        ];
        if sizes.contains(&0) || !self.width.is_multiple_of(self.heads) {
            return Err(Error::ModelInvalid(format!(
                "encoder sizes do not fit: {self:?}"
            )));
        }
        if self.token_types == 0 || self.window < 2 || self.eps.is_nan() || self.eps <= 0.0 {
            return Err(Error::ModelInvalid(format!(
                "encoder settings do not fit: {self:?}"
            )));
        }
        Ok(EncoderConfig {
            window: self.window.min(self.positions),
            ..self
        })
    }
}
