//! The embedding engine (tandem_core::embed) against an independent float64 reference
//! of all-MiniLM-L6-v2 (tests/fixtures/embed_reference.py: Hugging Face `tokenizers`'
//! ids, NumPy's forward pass): token ids, vectors per text (the safetensors folder,
//! and the F32 and Q8_0 GGUFs llama.cpp's converter would write), retrieval, errors.
//!
//! The model is read from `$TANDEM_EMBEDDER` or `models/all-MiniLM-L6-v2/`
//! (scripts/fetch-embedder.sh; the GGUFs from scripts/fixtures/make-test-ggufs.sh),
//! the fixtures from `tests/fixtures/`.

#[path = "../common/mod.rs"]
mod common;
mod errors;
mod retrieval;
mod tokenizer;
mod vectors;

use std::path::PathBuf;
use std::sync::OnceLock;

use serde_json::Value;
use tandem_core::{Encoder, EncoderFiles};

/// The model folder.
pub fn folder() -> PathBuf {
    std::env::var_os("TANDEM_EMBEDDER").map_or_else(
        || common::project_root().join("models/all-MiniLM-L6-v2"),
        PathBuf::from,
    )
}

fn text(name: &str) -> String {
    let bytes = common::read(&folder().join(name), "run scripts/fetch-embedder.sh");
    String::from_utf8(bytes).expect("a UTF-8 file")
}

/// The encoder of the safetensors folder (its window: 256 tokens), loaded once.
pub fn folder_encoder() -> &'static Encoder {
    static ENCODER: OnceLock<Encoder> = OnceLock::new();
    ENCODER.get_or_init(|| {
        let st = common::read(
            &folder().join("model.safetensors"),
            "run scripts/fetch-embedder.sh",
        );
        let (tokenizer, config) = (text("tokenizer.json"), text("config.json"));
        let (pooling, sentence) = (
            text("1_Pooling/config.json"),
            text("sentence_bert_config.json"),
        );
        Encoder::from_files(EncoderFiles {
            safetensors: &st,
            tokenizer_json: &tokenizer,
            config_json: &config,
            pooling_json: Some(&pooling),
            sentence_config_json: Some(&sentence),
        })
        .expect("the folder loads")
    })
}

/// The encoder of a GGUF (`f32` or `q8_0`), its window cut to the folder's 256.
pub fn gguf_encoder(kind: &str) -> Encoder {
    let path = folder().join(format!("all-MiniLM-L6-v2.{kind}.gguf"));
    let bytes = common::read(&path, "run scripts/fixtures/make-test-ggufs.sh");
    let encoder = Encoder::from_gguf(&bytes).expect("the GGUF loads");
    assert_eq!(
        encoder.window(),
        512,
        "the GGUF's window is its context length"
    );
    encoder.with_window(256).unwrap()
}

/// The reference's texts: text, ids (truncated at 256), untruncated token count, vector.
pub fn reference() -> &'static [Value] {
    static LINES: OnceLock<Vec<Value>> = OnceLock::new();
    LINES.get_or_init(|| common::fixture("embed_minilm.jsonl"))
}

/// A JSON array of numbers as f64.
pub fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("an array")
        .iter()
        .map(|x| x.as_f64().expect("a number"))
        .collect()
}

/// The cosine of two vectors.
pub fn cosine(a: &[f32], b: &[f64]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(&x, y)| x as f64 * y).sum();
    let na: f64 = a.iter().map(|&x| x as f64 * x as f64).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|y| y * y).sum::<f64>().sqrt();
    dot / (na * nb)
}
