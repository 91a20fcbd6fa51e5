//! Qwen2 (Qwen2, Qwen2.5): llama's blocks with biases on the query, key and value
//! products, and rope over halves.

use crate::error::Result;
use crate::gguf::Gguf;
use crate::model::hparams::{HyperParams, RopeLayout, Style};

pub(super) fn hparams(gguf: &Gguf) -> Result<HyperParams> {
    let style = Style {
        rope: RopeLayout::Halves,
        qkv_bias: true,
        rope_factors: false,
        ..Style::LLAMA
    };
    HyperParams::read(gguf, "qwen2", style)
}
