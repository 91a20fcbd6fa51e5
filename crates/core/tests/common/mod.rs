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

/// One step of a model teacher-forced along llama.cpp's greedy tokens.
#[derive(Debug)]
pub struct Step {
    /// The fixture line's prompt.
    pub prompt: String,
    /// The step within that line.
    pub step: usize,
    /// Whether our argmax is llama.cpp's token.
    pub agrees: bool,
    /// Our logit for our pick minus ours for llama.cpp's token (0 where they agree).
    pub gap: f32,
    /// Our top-1 minus top-2 logit.
    pub ours: f32,
    /// llama.cpp's top-1 minus top-2 logit.
    pub theirs: f64,
}

/// Every step of `model` teacher-forced along the greedy fixture `lines` (`prompt_ids`,
/// `greedy_ids`, `top2_margin`): the reference token goes in whatever we picked.
pub fn teacher_forced(model: &mut tandem_core::model::Model, lines: &[Value]) -> Vec<Step> {
    let mut steps = Vec::new();
    for line in lines {
        let prompt = ids(&line["prompt_ids"]);
        let mut logits = model.forward(&prompt, 0).unwrap();
        for (step, &want) in ids(&line["greedy_ids"]).iter().enumerate() {
            let (got, ours) = top2(&logits);
            steps.push(Step {
                prompt: line["prompt"].to_string(),
                step,
                agrees: got == want,
                gap: logits[got as usize] - logits[want as usize],
                ours,
                theirs: line["top2_margin"][step].as_f64().unwrap(),
            });
            logits = model.forward(&[want], prompt.len() + step).unwrap();
        }
    }
    steps
}
