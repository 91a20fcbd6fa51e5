//! Qwen3: llama's blocks with queries and keys RMS-normed per head (no biases), rope
//! over halves; the width of the heads together need not be the embedding's.

use crate::error::Result;
use crate::gguf::Gguf;
use crate::model::hparams::{HyperParams, RopeLayout, Style};

pub(super) fn hparams(gguf: &Gguf) -> Result<HyperParams> {
    let style = Style {
        rope: RopeLayout::Halves,
        qk_norm: true,
        rope_factors: false,
        ..Style::LLAMA
    };
    HyperParams::read(gguf, "qwen3", style)
}
