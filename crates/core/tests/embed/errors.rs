//! Bad input gives coded errors, never a panic: an input over the window without
//! truncation (naming the input and its token count), no input, damaged files, and a
//! path that is not there (Encoder::open).

use tandem_core::{Encoder, EncoderFiles};

use crate::{folder_encoder, reference};

#[test]
fn too_long_without_truncation_is_invalid_request() {
    let long = reference()
        .iter()
        .find(|l| l["tokens"].as_u64().unwrap() > 256)
        .unwrap();
    let tokens = long["tokens"].as_u64().unwrap();
    let err = folder_encoder()
        .embed(&["short", long["text"].as_str().unwrap()], false)
        .unwrap_err();
    assert_eq!(err.code(), "invalid_request");
    let message = err.to_string();
    assert!(
        message.contains("input 1") && message.contains(&format!("{tokens} tokens")),
        "{message}"
    );
}

#[test]
fn no_input_is_invalid_request() {
    assert_eq!(
        folder_encoder().embed(&[], false).unwrap_err().code(),
        "invalid_request"
    );
}

#[test]
fn damaged_files_are_model_errors() {
    let files = |st: &'static [u8], tok: &'static str, cfg: &'static str| EncoderFiles {
        safetensors: st,
        tokenizer_json: tok,
        config_json: cfg,
        pooling_json: None,
        sentence_config_json: None,
    };
    let bert = r#"{"model_type": "bert", "vocab_size": 4, "hidden_size": 4, "num_hidden_layers": 1,
        "num_attention_heads": 2, "intermediate_size": 8, "max_position_embeddings": 8}"#;
    for (f, code) in [
        (files(b"", "{}", "nonsense"), "model_invalid"),
        (
            files(b"", "{}", r#"{"model_type": "gpt2"}"#),
            "unsupported_model",
        ),
        (files(b"", "{}", bert), "unsupported_model"),
        (
            files(
                b"not safetensors",
                r#"{"model": {"type": "WordPiece", "vocab": {"[UNK]": 0}},
            "normalizer": {"type": "BertNormalizer"}, "pre_tokenizer": {"type": "BertPreTokenizer"},
            "post_processor": {"type": "BertProcessing", "cls": ["[UNK]", 0], "sep": ["[UNK]", 0]}}"#,
                bert,
            ),
            "model_invalid",
        ),
    ] {
        assert_eq!(Encoder::from_files(f).err().map(|e| e.code()), Some(code));
    }
    assert_eq!(
        Encoder::from_gguf(b"GGUF").err().map(|e| e.code()),
        Some("model_invalid")
    );
    assert_eq!(
        Encoder::from_gguf(b"nope").err().map(|e| e.code()),
        Some("model_invalid")
    );
    assert!(folder_encoder().embed(&["x"], false).is_ok());
}

#[test]
fn open_reads_a_folder_or_a_gguf_and_names_a_missing_file() {
    let texts = ["a folder or a file", "the same vectors"];
    let want = folder_encoder().embed(&texts, false).unwrap();
    let opened = Encoder::open(crate::folder()).expect("the folder opens");
    assert_eq!(opened.embed(&texts, false).unwrap(), want);
    let gguf =
        Encoder::open(crate::folder().join("all-MiniLM-L6-v2.f32.gguf")).expect("the GGUF opens");
    assert_eq!(gguf.dimensions(), 384);
    let missing = crate::folder().join("no-such-model.gguf");
    let e = Encoder::open(&missing).err().unwrap();
    assert_eq!(e.code(), "model_invalid");
    assert!(e.to_string().contains("no-such-model.gguf"), "{e}");
}
