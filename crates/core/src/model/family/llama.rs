//! llama (SmolLM, Llama 2 and 3 style): pre-norm blocks, SiLU gate, interleaved rope;
//! Llama 3's rope scaling comes as the file's `rope_freqs.weight`, by which the
//! rotary angles are divided.

use crate::error::Result;
use crate::gguf::Gguf;
use crate::model::hparams::{HyperParams, Style};

pub(super) fn hparams(gguf: &Gguf) -> Result<HyperParams> {
    HyperParams::read(gguf, "llama", Style::LLAMA)
}
