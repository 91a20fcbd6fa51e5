//! The hyper-parameters of a GGUF llama model, read from its metadata and checked.

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
    pub context: usize,
    /// Base of the rotary position frequencies.
    pub rope_base: f32,
    /// Epsilon of the RMS norms.
    pub rms_eps: f32,
}

impl HyperParams {
    /// Read and check them; an architecture other than llama is `unsupported_model`.
    pub(crate) fn from_gguf(gguf: &Gguf) -> Result<Self> {
        let architecture = gguf.str("general.architecture")?.to_string();
        if architecture != "llama" {
            return Err(Error::UnsupportedModel(format!(
                "architecture {architecture:?} (supported: llama)"
            )));
        }
        let key = |k: &str| gguf.usize(&format!("llama.{k}"));
        let float = |k: &str, default: f32| -> Result<f32> {
            let k = format!("llama.{k}");
            if !gguf.has(&k) {
                return Ok(default);
            }
            gguf.f32(&k)
        };
        let hp = HyperParams {
            layers: key("block_count")?,
            embedding: key("embedding_length")?,
            heads: key("attention.head_count")?,
            kv_heads: key("attention.head_count_kv")?,
            context: key("context_length")?,
            rope_base: float("rope.freq_base", 10_000.0)?,
            rms_eps: float("attention.layer_norm_rms_epsilon", 1e-5)?,
            architecture,
        };
        let consistent = hp.layers > 0
            && hp.heads > 0
            && hp.kv_heads > 0
            && hp.context > 0
            && hp.heads.is_multiple_of(hp.kv_heads)
            && hp.embedding.is_multiple_of(hp.heads)
            && (hp.embedding / hp.heads).is_multiple_of(2)
            && hp.rope_base > 0.0
            && hp.rms_eps > 0.0
            && key("rope.dimension_count").unwrap_or(hp.head_dim()) == hp.head_dim();
        if !consistent {
            return Err(Error::ModelInvalid(format!(
                "inconsistent hyper-parameters in the metadata: {hp:?}"
            )));
        }
        Ok(hp)
    }

    /// Width of one attention head.
    pub fn head_dim(&self) -> usize {
        self.embedding / self.heads
    }
}
