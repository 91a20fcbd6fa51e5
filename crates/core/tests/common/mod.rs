//! What the test binaries share: the repository's files (models, llama.cpp fixtures)
//! and reading llama.cpp's fixtures.

#![allow(dead_code)] // each test binary uses its own part

use std::path::{Path, PathBuf};

use serde_json::Value;
use tandem_core::sampling::argmax;

/// The repository's root.
pub fn project_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The bytes of the file `$env` names, or of `default` under the repository's root;
/// a missing file fails the test saying how to get it (`hint`).
pub fn read_file(env: &str, default: &str, hint: &str) -> Vec<u8> {
    let path = std::env::var_os(env).map_or_else(|| project_root().join(default), PathBuf::from);
    read(&path, hint)
}

/// The bytes of `path`; a missing file fails the test saying how to get it (`hint`).
pub fn read(path: &Path, hint: &str) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e} ({hint})", path.display()))
}

/// The lines of a fixture file of `$TANDEM_FIXTURES` or tests/fixtures/, parsed.
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

/// The largest logit and its lead over the runner-up: `(id, top1 - top2)`.
pub fn top2(logits: &[f32]) -> (u32, f32) {
    let best = argmax(logits);
    let runner_up = logits
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != best as usize)
        .fold(f32::NEG_INFINITY, |m, (_, &l)| m.max(l));
    (best, logits[best as usize] - runner_up)
}
