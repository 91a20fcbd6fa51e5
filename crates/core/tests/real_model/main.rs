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

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, OnceLock};

use serde_json::Value;
use tandem_core::Engine;

fn project_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The bytes of the default model.
pub fn model_bytes() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| {
        let path = std::env::var_os("TANDEM_MODEL").map_or_else(
            || project_root().join("models/SmolLM2-135M-Instruct.Q4_1.gguf"),
            PathBuf::from,
        );
        std::fs::read(&path).unwrap_or_else(|e| {
            panic!(
                "cannot read the model at {}: {e} (run scripts/fetch-model.sh)",
                path.display()
            )
        })
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

/// The lines of a fixture file, parsed.
pub fn fixture(name: &str) -> Vec<Value> {
    let dir = std::env::var_os("TANDEM_FIXTURES")
        .map_or_else(|| project_root().join("tests/fixtures"), PathBuf::from);
    let path = dir.join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read fixture {}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("fixture lines are JSON"))
        .collect()
}

/// A JSON array of numbers as token ids.
pub fn ids(v: &Value) -> Vec<u32> {
    v.as_array()
        .expect("an array of ids")
        .iter()
        .map(|x| x.as_u64().expect("an id") as u32)
        .collect()
}

/// A fixture's `messages` as chat messages.
pub fn messages(v: &Value) -> Vec<tandem_core::ChatMessage> {
    serde_json::from_value(v["messages"].clone()).expect("fixture messages")
}
