//! Gemma 3, as llama.cpp runs it: embeddings scaled by √width, GELU (tanh) gate,
//! norms before and after attention and the feed-forward network, per-head q/k norms,
//! rope over halves, and five sliding-window layers (rope base 10,000) to every
//! global one.

use crate::error::{Error, Result};
use crate::gguf::Gguf;
use crate::model::hparams::{Activation, HyperParams, LocalAttention, RopeLayout, Style};

/// llama.cpp's layer pattern for Gemma 3: the sixth layer of each six is global.
const PERIOD: usize = 6;
/// Rope base of the sliding-window layers.
const LOCAL_ROPE_BASE: f32 = 10_000.0;

pub(super) fn hparams(gguf: &Gguf) -> Result<HyperParams> {
    if gguf.has("gemma3.rope.scaling.type") {
        return Err(Error::UnsupportedModel(
            "Gemma 3 with rope scaling (the 4B and larger models)".into(),
        ));
    }
    let embedding = gguf.usize("gemma3.embedding_length")?;
    let style = Style {
        rope: RopeLayout::Halves,
        activation: Activation::GeluTanh,
        embedding_scale: Some((embedding as f32).sqrt()),
        qkv_bias: false,
        qk_norm: true,
        post_norms: true,
        local: Some(LocalAttention {
            window: gguf.usize("gemma3.attention.sliding_window")?,
            rope_base: LOCAL_ROPE_BASE,
            period: PERIOD,
        }),
        rope_factors: false,
    };
    HyperParams::read(gguf, "gemma3", style)
}
