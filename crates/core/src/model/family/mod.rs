//! The model families tandem runs, one file each: how a family's metadata becomes
//! [`HyperParams`] (its sizes and the [`super::hparams::Style`] of its forward pass).
//! Any other architecture is refused by name.

mod gemma3;
mod llama;
mod qwen2;
mod qwen3;

use super::hparams::HyperParams;
use crate::error::{Error, Result};
use crate::gguf::Gguf;

/// The architectures tandem runs, as `general.architecture` names them.
pub const SUPPORTED: [&str; 4] = ["llama", "gemma3", "qwen2", "qwen3"];

/// The hyper-parameters of the model in `gguf`; `unsupported_model` for an
/// architecture tandem does not run.
pub(super) fn hparams(gguf: &Gguf) -> Result<HyperParams> {
    match gguf.str("general.architecture")? {
        "llama" => llama::hparams(gguf),
        "gemma3" => gemma3::hparams(gguf),
        "qwen2" => qwen2::hparams(gguf),
        "qwen3" => qwen3::hparams(gguf),
        other => Err(Error::UnsupportedModel(format!(
            "architecture {other:?} (supported: {})",
            SUPPORTED.join(", ")
        ))),
    }
}
