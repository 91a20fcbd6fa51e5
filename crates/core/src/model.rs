//! The transformer: a GGUF llama model on candle's quantised kernels, keeping the
//! file's own quantisation.

use std::io::Cursor;

use candle_core::{Device, Tensor};
use candle_transformers::models::quantized_llama::{ModelWeights, MAX_SEQ_LEN};

use crate::error::{Error, Result};
use crate::gguf::Gguf;

/// Hyper-parameters read from the GGUF metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct HyperParams {
    /// `general.architecture`.
    pub architecture: String,
    /// Transformer blocks.
    pub layers: usize,
    /// Width of the residual stream.
    pub embedding: usize,
    /// Query heads.
    pub heads: usize,
    /// Key/value heads (grouped-query attention).
    pub kv_heads: usize,
    /// Context length the model was trained for.
    pub trained_context: usize,
}

impl HyperParams {
    fn from_gguf(gguf: &Gguf) -> Result<Self> {
        let architecture = gguf.str("general.architecture")?.to_string();
        if architecture != "llama" {
            return Err(Error::UnsupportedModel(format!(
                "architecture {architecture:?} (supported: llama)"
            )));
        }
        let key = |k: &str| gguf.usize(&format!("llama.{k}"));
        let hp = HyperParams {
            layers: key("block_count")?,
            embedding: key("embedding_length")?,
            heads: key("attention.head_count")?,
            kv_heads: key("attention.head_count_kv")?,
            trained_context: key("context_length")?,
            architecture,
        };
        let consistent = hp.layers > 0
            && hp.heads > 0
            && hp.kv_heads > 0
            && hp.trained_context > 0
            && hp.heads % hp.kv_heads == 0
            && hp.embedding % hp.heads == 0
            && key("rope.dimension_count").unwrap_or(hp.embedding / hp.heads)
                == hp.embedding / hp.heads;
        if !consistent {
            return Err(Error::ModelLoad(format!(
                "inconsistent hyper-parameters in the metadata: {hp:?}"
            )));
        }
        Ok(hp)
    }
}

/// A loaded model with its key/value cache.
pub struct Model {
    weights: ModelWeights,
    hparams: HyperParams,
    device: Device,
}

impl Model {
    /// Build the model from a parsed GGUF (its tensors are read from `gguf.bytes`).
    pub fn from_gguf(gguf: Gguf) -> Result<Self> {
        let hparams = HyperParams::from_gguf(&gguf)?;
        let device = Device::Cpu;
        let weights = ModelWeights::from_gguf(gguf.content, &mut Cursor::new(gguf.bytes), &device)
            .map_err(|e| Error::ModelLoad(e.to_string()))?;
        Ok(Model {
            weights,
            hparams,
            device,
        })
    }

    /// The model's hyper-parameters.
    pub fn hparams(&self) -> &HyperParams {
        &self.hparams
    }

    /// Most tokens (prompt and reply) one sequence can hold: the trained context,
    /// capped by what the rotary tables of the engine cover.
    pub fn context_window(&self) -> usize {
        self.hparams.trained_context.min(MAX_SEQ_LEN)
    }

    /// Run `tokens`, placed at positions `pos..`, through the model after the cached
    /// ones, and return the logits of the last token. `pos == 0` starts a new sequence.
    pub fn forward(&mut self, tokens: &[u32], pos: usize) -> Result<Vec<f32>> {
        if pos == 0 {
            self.weights.clear_kv_cache();
        }
        let input = Tensor::new(tokens, &self.device)?.unsqueeze(0)?;
        let logits = self.weights.forward(&input, pos)?;
        Ok(logits.squeeze(0)?.to_vec1::<f32>()?)
    }
}
