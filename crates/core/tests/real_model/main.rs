//! Tests on the real default model and the llama.cpp reference fixtures.
//!
//! The model is read from `$TANDEM_MODEL` or `models/SmolLM2-135M-Instruct.Q4_1.gguf`
//! (fetched by `scripts/fetch-model.sh`), the fixtures from `$TANDEM_FIXTURES` or
//! `tests/fixtures/` of the repository.

mod batched_forward;
mod batched_replies;
mod classify;
mod corrupt_files;
mod exactness;
mod generation;
mod kv_reuse;
mod reply;
mod structured;
mod tasks;
mod template;
mod tokenizer;

#[path = "../common/mod.rs"]
mod common;

use std::sync::{Mutex, MutexGuard, OnceLock};

use serde_json::Value;
use tandem_core::Engine;

pub use common::{fixture, ids, top2};

/// The bytes of the default model.
pub fn model_bytes() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| {
        common::read_file(
            "TANDEM_MODEL",
            "models/SmolLM2-135M-Instruct.Q4_1.gguf",
            "run scripts/fetch-model.sh",
        )
    })
}

/// One engine for the whole test binary; tests take turns.
pub fn engine() -> MutexGuard<'static, Engine> {
    static ENGINE: OnceLock<Mutex<Engine>> = OnceLock::new();
    ENGINE
        .get_or_init(|| Mutex::new(Engine::load(model_bytes()).expect("the model loads")))
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A fixture's `messages` as chat messages.
pub fn messages(v: &Value) -> Vec<tandem_core::ChatMessage> {
    serde_json::from_value(v["messages"].clone()).expect("fixture messages")
}
