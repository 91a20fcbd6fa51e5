use tandem_core::tokenizer::Utf8Stream;

use crate::{engine, fixture, ids};

#[test]
fn every_reference_text_gives_llama_cpp_ids() {
    let engine = engine();
    let lines = fixture("tokenizer.jsonl");
    assert!(lines.len() > 10);
    for line in lines {
        let text = line["text"].as_str().unwrap();
        assert_eq!(
            engine.tokenizer().encode(text),
            ids(&line["ids"]),
            "tokens of {text:?}"
        );
    }
}

#[test]
fn decoding_gives_back_the_text() {
    let engine = engine();
    for line in fixture("tokenizer.jsonl") {
        let text = line["text"].as_str().unwrap();
        assert_eq!(engine.tokenizer().decode(&ids(&line["ids"])), text);
    }
}

#[test]
fn streaming_decode_never_splits_a_character() {
    let engine = engine();
    let tokenizer = engine.tokenizer();
    let text = "Emoji: 😀🚀👍🏽 family 👨‍👩‍👧 日本語のテキスト café";
    let mut stream = Utf8Stream::default();
    let mut out = String::new();
    let mut split_pieces = 0;
    for id in tokenizer.encode(text) {
        let piece = tokenizer.piece(id);
        if std::str::from_utf8(piece).is_err() {
            split_pieces += 1;
        }
        let released = stream.push(piece);
        assert!(!released.contains(char::REPLACEMENT_CHARACTER));
        out.push_str(&released);
    }
    out.push_str(&stream.finish());
    assert!(
        split_pieces > 0,
        "the text should split characters across tokens"
    );
    assert_eq!(out, text);
}

#[test]
fn special_tokens_are_parsed_only_in_prompts() {
    let engine = engine();
    let tokenizer = engine.tokenizer();
    let text = "<|im_start|>user\nhi<|im_end|>";
    assert_eq!(tokenizer.encode_prompt(text), vec![1, 4093, 198, 6004, 2]);
    assert!(tokenizer.encode(text).len() > 5);
    assert!(tokenizer.is_end_of_generation(2));
    assert!(tokenizer.is_control(1));
    assert_eq!(tokenizer.decode(&[1, 6004, 2]), "hi");
}
