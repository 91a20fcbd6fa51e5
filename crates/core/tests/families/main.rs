//! Tests of the qwen3, Llama 3 (architecture `llama`, `llama-bpe` pre-tokenizer,
//! `rope_freqs`) and qwen2 families against llama.cpp's outputs on the same files: tiny
//! GGUFs with random weights and the real tokenizers, as llama.cpp's converter writes
//! them (scripts/fixtures/make-tiny-ggufs.py; the fixtures' README says how they and
//! the fixtures are made).
//!
//! The files are read from `$TANDEM_TINY_MODELS` or `models/tiny/` (built by
//! `scripts/fixtures/make-test-ggufs.sh`, which scripts/setup.sh runs), the fixtures
//! from `tests/fixtures/`.

#[path = "../common/mod.rs"]
mod common;
mod engine;
mod greedy;
mod tokenizer;
mod tools;

use std::path::PathBuf;
use std::sync::OnceLock;

use serde_json::Value;

pub use common::{fixture, ids, top2};

/// One of the tiny models: its file and fixtures.
pub struct Family {
    /// `tiny-{name}.gguf`, `greedy_{name}.jsonl`.
    pub name: &'static str,
    /// `general.architecture`.
    pub architecture: &'static str,
    /// The fixture of its tokenizer's ids.
    pub tokenizer_fixture: &'static str,
    bytes: &'static OnceLock<Vec<u8>>,
}

static QWEN3_BYTES: OnceLock<Vec<u8>> = OnceLock::new();
static LLAMA3_BYTES: OnceLock<Vec<u8>> = OnceLock::new();
static QWEN2_BYTES: OnceLock<Vec<u8>> = OnceLock::new();

/// Qwen3-0.6B's layout, tied output, Qwen's tokenizer (`qwen2` pre-tokenizer).
pub const QWEN3: Family = Family {
    name: "qwen3",
    architecture: "qwen3",
    tokenizer_fixture: "tokenizer_qwen3.jsonl",
    bytes: &QWEN3_BYTES,
};

/// Llama 3.1 8B's layout, separate output, rope factors, `llama-bpe` tokenizer.
pub const LLAMA3: Family = Family {
    name: "llama3",
    architecture: "llama",
    tokenizer_fixture: "tokenizer_llama3.jsonl",
    bytes: &LLAMA3_BYTES,
};

/// Qwen2.5's layout (q/k/v biases), separate output, Qwen3's tokenizer.
pub const QWEN2: Family = Family {
    name: "qwen2",
    architecture: "qwen2",
    tokenizer_fixture: "tokenizer_qwen3.jsonl",
    bytes: &QWEN2_BYTES,
};

pub const FAMILIES: [Family; 3] = [QWEN3, LLAMA3, QWEN2];

impl Family {
    /// The bytes of the family's tiny GGUF, read once.
    pub fn bytes(&self) -> &'static [u8] {
        self.bytes.get_or_init(|| {
            let dir = std::env::var_os("TANDEM_TINY_MODELS")
                .map_or_else(|| common::project_root().join("models/tiny"), PathBuf::from);
            let path = dir.join(format!("tiny-{}.gguf", self.name));
            common::read(&path, "run scripts/fixtures/make-test-ggufs.sh")
        })
    }

    /// The lines of its greedy fixture.
    pub fn greedy_fixture(&self) -> Vec<Value> {
        fixture(&format!("greedy_{}.jsonl", self.name))
    }
}
