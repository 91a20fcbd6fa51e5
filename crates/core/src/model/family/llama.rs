//! llama (SmolLM, Llama 2 style): pre-norm blocks, SiLU gate, interleaved rope.

use crate::error::Result;
use crate::gguf::Gguf;
use crate::model::hparams::{HyperParams, Style};

pub(super) fn hparams(gguf: &Gguf) -> Result<HyperParams> {
    HyperParams::read(gguf, "llama", Style::LLAMA)
}
