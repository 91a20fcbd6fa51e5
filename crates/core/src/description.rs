//! What a loaded model is, for apps to show: its family, size and quantisation mix,
//! read from the GGUF header.

use std::collections::BTreeMap;

use candle_core::quantized::GgmlDType;
use serde::Serialize;

use crate::gguf::Gguf;
use crate::template::ChatTemplate;

/// A model's family, size and quantisation mix.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelDescription {
    /// `general.architecture` (llama, gemma3, …).
    pub architecture: String,
    /// Weights in all tensors.
    pub parameters: u64,
    /// Weights per tensor type (Q4_K, Q6_K, F32, …), largest share first when shown.
    pub quantization: BTreeMap<String, u64>,
    /// Whether the model has a chat template (else it takes raw prompts only).
    pub chat: bool,
    /// Whether its chat template renders tools in a call format tandem knows.
    pub tools: bool,
}

impl ModelDescription {
    /// Describe the model in `gguf` (its architecture already checked).
    pub(crate) fn of(gguf: &Gguf, architecture: &str, template: Option<&ChatTemplate>) -> Self {
        let mut quantization = BTreeMap::new();
        for info in gguf.content.tensor_infos.values() {
            let weights = info.shape.elem_count() as u64;
            *quantization.entry(name(info.ggml_dtype)).or_insert(0) += weights;
        }
        ModelDescription {
            architecture: architecture.to_string(),
            parameters: quantization.values().sum(),
            quantization,
            chat: template.is_some(),
            tools: template.and_then(ChatTemplate::tool_opening).is_some(),
        }
    }
}

/// A tensor type as llama.cpp names it (`Q4_K`, not candle's `Q4K`).
fn name(dtype: GgmlDType) -> String {
    let candle = format!("{dtype:?}");
    match candle.strip_suffix('K') {
        Some(stem) => format!("{stem}_K"),
        None => candle,
    }
}
