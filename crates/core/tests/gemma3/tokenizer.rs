//! Gemma 3's SentencePiece tokenizer against llama.cpp's ids.

use std::sync::OnceLock;

use tandem_core::gguf::Gguf;
use tandem_core::tokenizer::{Tokenizer, Utf8Stream};

use crate::{fixture, ids, model_bytes};

/// The tokenizer of the Gemma 3 file, built once for the whole binary.
fn tokenizer() -> &'static Tokenizer {
    static TOKENIZER: OnceLock<Tokenizer> = OnceLock::new();
    TOKENIZER.get_or_init(|| {
        let gguf = Gguf::parse(model_bytes()).expect("the file parses");
        Tokenizer::from_gguf(&gguf).expect("the tokenizer builds")
    })
}

const BOS: u32 = 2;
const EOS: u32 = 1;
const START_OF_TURN: u32 = 105;
const END_OF_TURN: u32 = 106;
/// "\n", a user-defined token.
const NEWLINE: u32 = 107;

#[test]
fn the_vocabulary_is_complete() {
    assert_eq!(tokenizer().vocab_size(), 262_144);
}

#[test]
fn every_reference_text_gives_llama_cpp_ids() {
    let lines = fixture("tokenizer_gemma3.jsonl");
    assert!(lines.len() >= 20);
    for line in lines {
        let text = line["text"].as_str().unwrap();
        assert_eq!(
            tokenizer().encode(text),
            ids(&line["ids"]),
            "tokens of {text:?}"
        );
    }
}

#[test]
fn decoding_gives_back_the_text() {
    for line in fixture("tokenizer_gemma3.jsonl") {
        let text = line["text"].as_str().unwrap();
        assert_eq!(tokenizer().decode(&ids(&line["ids"])), text);
    }
}

/// The prompts of the greedy fixture, tokenized by llama.cpp with BOS and special tokens
/// parsed (some of them, like "favourite", come out otherwise if merges go in another
/// order than by score), and the pieces of the tokens it generated.
#[test]
fn greedy_fixture_prompts_and_pieces_match_llama_cpp() {
    let tokenizer = tokenizer();
    let lines = fixture("greedy_gemma3.jsonl");
    assert!(lines.len() >= 8);
    for line in lines {
        let prompt = line["prompt"].as_str().unwrap();
        assert_eq!(
            tokenizer.encode_prompt(prompt),
            ids(&line["prompt_ids"]),
            "tokens of {prompt:?}"
        );
        let pieces = line["greedy_tokens"].as_array().unwrap();
        for (id, piece) in ids(&line["greedy_ids"]).into_iter().zip(pieces) {
            // llama.cpp shows control tokens (`<eos>`) as their text; we show nothing.
            let expected = match tokenizer.is_control(id) {
                true => "",
                false => piece.as_str().unwrap(),
            };
            assert_eq!(tokenizer.piece(id), expected.as_bytes(), "piece of {id}");
        }
    }
}

#[test]
fn special_tokens_are_parsed_only_in_prompts() {
    let tokenizer = tokenizer();
    let text = "<start_of_turn>user\nhi<end_of_turn>\n";
    // "user" 2364, "hi" 2202: no space prefix (add_space_prefix is false).
    assert_eq!(
        tokenizer.encode_prompt(text),
        [
            BOS,
            START_OF_TURN,
            2364,
            NEWLINE,
            2202,
            END_OF_TURN,
            NEWLINE
        ]
    );
    let plain = tokenizer.encode(text);
    assert!(!plain.contains(&START_OF_TURN) && !plain.contains(&END_OF_TURN));
    assert!(
        plain.contains(&NEWLINE),
        "user-defined tokens split plain text too"
    );
    assert_eq!(tokenizer.decode(&plain), text);
    assert_eq!(
        tokenizer.decode(&tokenizer.encode_prompt(text)),
        "user\nhi\n"
    );
}

#[test]
fn a_prompt_that_starts_with_bos_gets_no_second_one() {
    let ids = tokenizer().encode_prompt("<bos>hi");
    assert_eq!(ids, [BOS, 2202]);
}

#[test]
fn turns_end_at_eos_and_end_of_turn() {
    let tokenizer = tokenizer();
    assert!(tokenizer.is_end_of_generation(EOS));
    assert!(tokenizer.is_end_of_generation(END_OF_TURN));
    assert!(!tokenizer.is_end_of_generation(START_OF_TURN));
    assert!(!tokenizer.is_end_of_generation(NEWLINE));
    assert!(tokenizer.is_control(START_OF_TURN) && tokenizer.is_control(BOS));
    assert!(!tokenizer.is_control(NEWLINE));
    assert_eq!(tokenizer.piece(START_OF_TURN), b"");
    assert_eq!(tokenizer.piece(NEWLINE), b"\n");
}

#[test]
fn streaming_decode_never_splits_a_character() {
    let tokenizer = tokenizer();
    // 🫨, 🦩, 𠀀, 𪚥 and ꙮ are no tokens: they go out as <0xXX> byte tokens.
    let text = "Emoji: 😀🚀🫨🦩 family 👨‍👩‍👧 日本語のテキスト 𠀀𪚥ꙮ café";
    let mut stream = Utf8Stream::default();
    let mut out = String::new();
    let mut byte_tokens = 0;
    for id in tokenizer.encode(text) {
        let piece = tokenizer.piece(id);
        if std::str::from_utf8(piece).is_err() {
            byte_tokens += 1;
        }
        let released = stream.push(piece);
        assert!(!released.contains(char::REPLACEMENT_CHARACTER));
        out.push_str(&released);
    }
    out.push_str(&stream.finish());
    assert!(byte_tokens >= 10, "{byte_tokens} byte tokens");
    assert_eq!(out, text);
}

#[test]
fn a_few_kilobytes_encode_quickly_and_round_trip() {
    let paragraph =
        "The quick brown fox, 42 times: «naïve» 日本語 😀\n\t  indented <b>bold</b>\n\n";
    let text = paragraph.repeat(64);
    let tokenizer = tokenizer();
    let start = std::time::Instant::now();
    let plain = tokenizer.encode(&text);
    let prompt = tokenizer.encode_prompt(&format!("<start_of_turn>user\n{text}<end_of_turn>\n"));
    let took = start.elapsed();
    assert_eq!(tokenizer.decode(&plain), text);
    assert_eq!(prompt[..2], [BOS, START_OF_TURN]);
    // Generous even for a debug build; the release build takes about a millisecond.
    assert!(
        took.as_secs_f64() < 2.0,
        "{} KB took {took:?}",
        text.len() / 1024
    );
}
