//! Gemma 3 270M as an engine: what it says it is, raw prompts, and the clear refusal
//! of chat messages by a base model.

use std::collections::BTreeSet;

use tandem_core::{ChatMessage, Engine, Role};

use crate::{fixture, ids, model_bytes};

fn engine() -> Engine {
    Engine::load(model_bytes()).expect("Gemma 3 270M loads")
}

#[test]
fn the_description_is_read_from_the_header() {
    let engine = engine();
    let d = engine.description();
    assert_eq!(d.architecture, "gemma3");
    assert!(!d.chat, "the base model has no chat template");
    let types: BTreeSet<&str> = d.quantization.keys().map(String::as_str).collect();
    assert_eq!(
        types,
        BTreeSet::from(["F32", "Q4_K", "Q5_0", "Q6_K", "Q8_0"])
    );
    // What the gguf package counts over the file's tensors.
    assert_eq!(d.parameters, 268_098_176);
    assert_eq!(d.quantization["Q8_0"], 169_246_720);
    assert_eq!(engine.context_window(), 32_768);
}

#[test]
fn raw_prompts_are_llama_cpp_prompt_ids() {
    let engine = engine();
    for line in fixture("greedy_gemma3.jsonl") {
        let prompt = line["prompt"].as_str().unwrap();
        assert_eq!(
            engine.raw_prompt(prompt),
            ids(&line["prompt_ids"]),
            "{prompt:?}"
        );
    }
}

#[test]
fn a_base_model_refuses_chat_messages_clearly() {
    let engine = engine();
    let err = engine
        .chat_prompt(&[ChatMessage::new(Role::User, "hi")])
        .unwrap_err();
    assert_eq!(err.code(), "invalid_request");
    assert!(err.to_string().contains("raw prompt"), "{err}");
}
