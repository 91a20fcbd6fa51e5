//! The tiny models as engines: what they say they are, chat prompts through their own
//! templates as llama.cpp renders and tokenizes them, and what a file must have.

use std::collections::BTreeSet;

use serde_json::Value;
use tandem_core::gguf::Gguf;
use tandem_core::model::{Model, SUPPORTED};
use tandem_core::{ChatMessage, Engine, EngineLoader};

use crate::{ids, Family, FAMILIES, LLAMA3, QWEN2, QWEN3};

fn engine(family: &Family) -> Engine {
    Engine::load(family.bytes()).expect("the tiny model loads")
}

#[test]
fn each_describes_its_family_and_chats() {
    let expected = [
        (QWEN3, ["F32", "Q4_0", "Q8_0"].as_slice(), 40_960),
        (LLAMA3, ["F32", "Q4_0"].as_slice(), 131_072),
        (QWEN2, ["F32", "Q4_0", "Q8_0"].as_slice(), 32_768),
    ];
    for (family, types, context) in expected {
        let engine = engine(&family);
        let d = engine.description();
        assert_eq!(d.architecture, family.architecture);
        assert!(d.chat, "{}: the template is in the file", family.name);
        let found: BTreeSet<&str> = d.quantization.keys().map(String::as_str).collect();
        assert_eq!(found, types.iter().copied().collect(), "{}", family.name);
        assert_eq!(engine.context_window(), context, "{}", family.name);
        assert_eq!(
            engine.model().hparams().architecture,
            family.architecture,
            "{}",
            family.name
        );
    }
}

fn messages(line: &Value) -> Vec<ChatMessage> {
    serde_json::from_value(line["messages"].clone()).expect("fixture messages")
}

/// The chats of the greedy fixtures through the file's template (llama.cpp's Jinja
/// engine rendered them) give llama.cpp's prompt ids; raw prompts too.
#[test]
fn chat_and_raw_prompts_are_llama_cpp_prompt_ids() {
    for family in FAMILIES {
        let engine = engine(&family);
        for line in family.greedy_fixture() {
            let got = match line.get("messages") {
                Some(_) => engine.chat_prompt(&messages(&line)).unwrap(),
                None => engine.raw_prompt(line["prompt"].as_str().unwrap()),
            };
            assert_eq!(
                got,
                ids(&line["prompt_ids"]),
                "{}: {}",
                family.name,
                line["prompt"]
            );
        }
    }
}

/// `bytes` with the first occurrence of `from` replaced by `to` (of the same length).
fn replaced(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let at = bytes
        .windows(from.len())
        .position(|w| w == from)
        .expect("the text is in the file");
    let mut copy = bytes.to_vec();
    copy[at..at + to.len()].copy_from_slice(to);
    copy
}

#[test]
fn an_unknown_architecture_is_refused_with_the_supported_list() {
    // general.architecture's value is the first "qwen3" string in the file.
    let copy = replaced(
        QWEN3.bytes(),
        b"\x05\0\0\0\0\0\0\0qwen3",
        b"\x05\0\0\0\0\0\0\0qwen9",
    );
    let err = Engine::load(&copy).err().unwrap();
    assert_eq!(err.code(), "unsupported_model");
    let message = err.to_string();
    assert!(message.contains("qwen9"), "{message}");
    assert!(message.contains(&SUPPORTED.join(", ")), "{message}");
    assert!(message.contains("llama, gemma3, qwen2, qwen3"), "{message}");
}

#[test]
fn a_qwen2_block_without_its_biases_is_invalid() {
    let copy = replaced(QWEN2.bytes(), b"blk.1.attn_k.bias", b"blk.1.attn_k.bia_");
    let err = Engine::load(&copy).err().unwrap();
    assert_eq!(err.code(), "model_invalid");
    assert!(err.to_string().contains("blk.1.attn_k.bias"), "{err}");
}

/// Llama 3's `rope_freqs` changes the logits: without it (the tensor renamed, so the
/// file reads as a Llama 2 style one) the model computes something else.
#[test]
fn llama3_rope_factors_change_the_logits() {
    let prompt = [128_000, 791, 4062, 14198, 39935];
    let logits = |bytes: &[u8]| Model::load(bytes).unwrap().forward(&prompt, 0).unwrap();
    let with = logits(LLAMA3.bytes());
    let without = logits(&replaced(
        LLAMA3.bytes(),
        b"rope_freqs.weight",
        b"rope_freqx.weight",
    ));
    let largest = with
        .iter()
        .zip(&without)
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    assert!(
        largest > 0.1,
        "the factors moved no logit by more than {largest}"
    );
}

/// A file given in pieces of any size (one byte, odd sizes, a download's chunks)
/// builds the same model as the whole file at once.
#[test]
fn a_file_in_pieces_loads_as_the_whole_file() {
    let logits = |mut engine: Engine| engine.model_mut().forward(&[1, 2, 3, 4], 0).unwrap();
    let bytes = QWEN3.bytes();
    let whole = logits(engine(&QWEN3));
    for piece in [1, 7, 4_096, 65_537, 1 << 20] {
        let mut loader = EngineLoader::new();
        for chunk in bytes.chunks(piece) {
            loader.push(chunk).expect("a piece is taken");
        }
        let engine = loader.finish().expect("the pieces load");
        assert_eq!(logits(engine), whole, "pieces of {piece}");
    }
}

/// What is wrong with a file shows as soon as the bytes that say so arrive: the
/// first bytes of something that is not a GGUF, an unsupported architecture once the
/// header is in; a file cut short when it ends.
#[test]
fn a_bad_file_fails_as_soon_as_it_shows() {
    let mut loader = EngineLoader::new();
    let err = loader.push(b"<!DOCTYPE html>").err().unwrap();
    assert_eq!(err.code(), "model_invalid");

    let bytes = replaced(QWEN3.bytes(), b"qwen3", b"qwen9");
    let header = Gguf::parse(&bytes).unwrap().content.tensor_data_offset as usize;
    let mut loader = EngineLoader::new();
    let (pushed, err) = (bytes.chunks(4_096).enumerate())
        .find_map(|(i, chunk)| Some(((i + 1) * 4_096, loader.push(chunk).err()?)))
        .expect("refused");
    assert_eq!(err.code(), "unsupported_model", "{err}");
    // The header is parsed again each time the bytes double.
    assert!(
        pushed <= 2 * header,
        "{pushed} bytes of a {header}-byte header"
    );

    let mut loader = EngineLoader::new();
    loader
        .push(&QWEN3.bytes()[..QWEN3.bytes().len() - 1])
        .unwrap();
    let err = loader.finish().err().unwrap();
    assert_eq!(err.code(), "model_invalid");
    assert!(err.to_string().contains("truncated"), "{err}");
}
