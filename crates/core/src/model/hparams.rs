//! The hyper-parameters of a GGUF model: the sizes every family has, read from the
//! `{architecture}.*` metadata and checked, and the [`Style`] its family gives the
//! shared forward pass.

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
    /// Width of one attention head (`attention.key_length`, else embedding / heads).
    pub head_dim: usize,
    /// Context length the model was trained for.
    pub context: usize,
    /// Base of the rotary position frequencies (of the global layers).
    pub rope_base: f32,
    /// Epsilon of the RMS norms.
    pub rms_eps: f32,
    /// What the family changes in the forward pass.
    pub style: Style,
}

/// How a family's forward pass differs from llama's.
#[derive(Debug, Clone, PartialEq)]
pub struct Style {
    /// Which values rotary embeddings rotate together.
    pub rope: RopeLayout,
    /// The feed-forward network's gate.
    pub activation: Activation,
    /// Token embeddings are multiplied by this (Gemma: √embedding).
    pub embedding_scale: Option<f32>,
    /// Queries, keys and values have biases (`attn_{q,k,v}.bias`), added to the
    /// products (Qwen2).
    pub qkv_bias: bool,
    /// Queries and keys are RMS-normed per head before rotation.
    pub qk_norm: bool,
    /// The attention's and the feed-forward network's outputs are RMS-normed before
    /// they join the residual stream.
    pub post_norms: bool,
    /// Sliding-window layers, where the family has them.
    pub local: Option<LocalAttention>,
    /// Rotary angles are divided pair by pair by the file's `rope_freqs.weight`,
    /// when it has one (Llama 3's rope scaling).
    pub rope_factors: bool,
}

/// Pairs that rotary embeddings rotate together.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RopeLayout {
    /// Values `2i` and `2i + 1` (llama.cpp's "normal" rope).
    Interleaved,
    /// Values `i` and `i + head_dim / 2` (llama.cpp's "neox" rope).
    Halves,
}

/// The feed-forward network's gate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Activation {
    /// `silu(gate) * up`.
    Silu,
    /// `gelu(gate) * up`, GELU's tanh approximation.
    GeluTanh,
}

/// Layers that attend to a sliding window of recent positions only.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LocalAttention {
    /// Positions a query sees, itself included.
    pub window: usize,
    /// Base of their rotary frequencies.
    pub rope_base: f32,
    /// Every `period`-th layer (the last of each period) is global; the others local.
    pub period: usize,
}

impl Style {
    /// llama's forward pass.
    pub const LLAMA: Style = Style {
        rope: RopeLayout::Interleaved,
        activation: Activation::Silu,
        embedding_scale: None,
        qkv_bias: false,
        qk_norm: false,
        post_norms: false,
        local: None,
        rope_factors: true,
    };
}

impl HyperParams {
    /// Read the sizes every family has from `{architecture}.*`, with the family's
    /// `style`, and check them.
    pub(super) fn read(gguf: &Gguf, architecture: &str, style: Style) -> Result<Self> {
        let name = |k: &str| format!("{architecture}.{k}");
        let key = |k: &str| gguf.usize(&name(k));
        let float = |k: &str, default: f32| -> Result<f32> {
            match gguf.has(&name(k)) {
                true => gguf.f32(&name(k)),
                false => Ok(default),
            }
        };
        // Rope scaling other than Llama 3's (whose factors come as a tensor) changes
        // the angles in a way the forward pass does not follow.
        let scaling = name("rope.scaling.type");
        if gguf.has(&scaling) && gguf.str(&scaling)? != "none" {
            return Err(Error::UnsupportedModel(format!(
                "{architecture} with rope scaling {:?}",
                gguf.str(&scaling)?
            )));
        }
        let (embedding, heads) = (key("embedding_length")?, key("attention.head_count")?);
        let head_dim = match gguf.has(&name("attention.key_length")) {
            true => key("attention.key_length")?,
            false => embedding / heads.max(1),
        };
        let hp = HyperParams {
            layers: key("block_count")?,
            embedding,
            heads,
            kv_heads: key("attention.head_count_kv")?,
            head_dim,
            context: key("context_length")?,
            rope_base: float("rope.freq_base", 10_000.0)?,
            rms_eps: float("attention.layer_norm_rms_epsilon", 1e-5)?,
            architecture: architecture.to_string(),
            style,
        };
        let same = |k: &str| !gguf.has(&name(k)) || key(k).ok() == Some(hp.head_dim);
        let consistent = hp.layers > 0
            && hp.heads > 0
            && hp.kv_heads > 0
            && hp.context > 0
            && hp.heads.is_multiple_of(hp.kv_heads)
            && hp.head_dim > 0
            && hp.head_dim.is_multiple_of(2)
            && hp.rope_base > 0.0
            && hp.rms_eps > 0.0
            && same("attention.value_length")
            && same("rope.dimension_count")
            && hp.style.local.is_none_or(|l| l.window > 0 && l.period > 0);
        if !consistent {
            return Err(Error::ModelInvalid(format!(
                "inconsistent hyper-parameters in the metadata: {hp:?}"
            )));
        }
        Ok(hp)
    }

    /// The sliding window of layer `i`, if it is a local layer.
    pub fn window(&self, i: usize) -> Option<usize> {
        let local = self.style.local?;
        (i % local.period != local.period - 1).then_some(local.window)
    }
}
