//! Tests on Gemma 3 270M (Q4_K_M: Q5_0, Q4_K, Q6_K, Q8_0 and F32 tensors, SentencePiece
//! tokenizer) against the llama.cpp reference fixtures.
//!
//! The model is read from `$TANDEM_GEMMA3` or `models/gemma-3-270m-q4_k_m.gguf`
//! (fetched by `scripts/fetch-model.sh`), the fixtures from `tests/fixtures/`.

mod engine;
mod greedy;
mod tokenizer;

#[path = "../common/mod.rs"]
mod common;

use std::sync::OnceLock;

pub use common::{fixture, ids, top2};

/// The bytes of the Gemma 3 270M file.
pub fn model_bytes() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| {
        common::read_file(
            "TANDEM_GEMMA3",
            "models/gemma-3-270m-q4_k_m.gguf",
            "run scripts/fetch-model.sh",
        )
    })
}
