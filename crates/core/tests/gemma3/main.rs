//! Tests on Gemma 3 270M (Q4_K_M: Q5_0, Q4_K, Q6_K, Q8_0 and F32 tensors, SentencePiece
//! tokenizer) against the llama.cpp reference fixtures.
//!
//! The model is read from `$TANDEM_GEMMA3` or `models/gemma-3-270m-q4_k_m.gguf`
//! (fetched by `scripts/fetch-model.sh`), the fixtures from `tests/fixtures/`.

mod engine;
mod greedy;
mod tokenizer;

use std::path::PathBuf;
use std::sync::OnceLock;

use serde_json::Value;

fn project_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The bytes of the Gemma 3 270M file.
pub fn model_bytes() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| {
        let path = std::env::var_os("TANDEM_GEMMA3").map_or_else(
            || project_root().join("models/gemma-3-270m-q4_k_m.gguf"),
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

/// The lines of a fixture file, parsed.
pub fn fixture(name: &str) -> Vec<Value> {
    let path = project_root().join("tests/fixtures").join(name);
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
