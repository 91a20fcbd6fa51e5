//! The byte-level BPE tokenizers of Qwen (`qwen2` pre-tokenizer) and Llama 3
//! (`llama-bpe`) against llama.cpp's ids.

use tandem_core::gguf::Gguf;
use tandem_core::tokenizer::Tokenizer;

use crate::{fixture, ids, Family, FAMILIES, LLAMA3, QWEN2, QWEN3};

fn tokenizer(family: &Family) -> Tokenizer {
    let gguf = Gguf::parse(family.bytes()).expect("the file parses");
    Tokenizer::from_gguf(&gguf).expect("the tokenizer builds")
}

/// Every text of the family's tokenizer fixture gives llama.cpp's ids, and decodes
/// back to itself.
fn fixture_texts_give_llama_cpp_ids(family: &Family) {
    let tokenizer = tokenizer(family);
    let lines = fixture(family.tokenizer_fixture);
    assert!(lines.len() >= 70, "{} texts", lines.len());
    for line in lines {
        let text = line["text"].as_str().unwrap();
        let expected = ids(&line["ids"]);
        assert_eq!(
            tokenizer.encode(text),
            expected,
            "{}: tokens of {text:?}",
            family.name
        );
        assert_eq!(
            tokenizer.decode(&expected),
            text,
            "{}: text of {text:?}",
            family.name
        );
    }
}

#[test]
fn qwen_texts_give_llama_cpp_ids() {
    fixture_texts_give_llama_cpp_ids(&QWEN3);
}

#[test]
fn llama3_texts_give_llama_cpp_ids() {
    fixture_texts_give_llama_cpp_ids(&LLAMA3);
}

#[test]
fn the_qwen2_file_has_the_same_tokenizer() {
    fixture_texts_give_llama_cpp_ids(&QWEN2);
}

/// The prompts of the greedy fixtures, tokenized by llama.cpp with special tokens
/// parsed, and the text of the tokens it generated.
#[test]
fn greedy_fixture_prompts_and_pieces_match_llama_cpp() {
    for family in FAMILIES {
        let tokenizer = tokenizer(&family);
        for line in family.greedy_fixture() {
            let prompt = line["prompt"].as_str().unwrap();
            assert_eq!(
                tokenizer.encode_prompt(prompt),
                ids(&line["prompt_ids"]),
                "{}: tokens of {prompt:?}",
                family.name
            );
            let pieces = line["greedy_tokens"].as_array().unwrap();
            for (id, piece) in ids(&line["greedy_ids"]).into_iter().zip(pieces) {
                let piece = piece.as_str().unwrap();
                // llama.cpp shows control tokens as their text (we show nothing), and a
                // token that is part of a character as U+FFFD.
                let expected = match tokenizer.is_control(id) {
                    true => "",
                    false if piece.contains('\u{fffd}') => continue,
                    false => piece,
                };
                assert_eq!(tokenizer.piece(id), expected.as_bytes(), "piece of {id}");
            }
        }
    }
}

const IM_START: u32 = 151_644;
const IM_END: u32 = 151_645;
const ENDOFTEXT: u32 = 151_643;
/// `<think>`, a user-defined token.
const THINK: u32 = 151_667;

#[test]
fn qwen_parses_control_tokens_in_prompts_only_and_adds_no_bos() {
    let tokenizer = tokenizer(&QWEN3);
    let text = "<|im_start|>user\n<think>hi<|im_end|>\n";
    let prompt = tokenizer.encode_prompt(text);
    assert_eq!(prompt[..2], [IM_START, 872], "no BOS: {prompt:?}");
    assert!(prompt.contains(&IM_END) && prompt.contains(&THINK));
    let plain = tokenizer.encode(text);
    assert!(!plain.contains(&IM_START) && !plain.contains(&IM_END));
    assert!(
        plain.contains(&THINK),
        "user-defined tokens split plain text too"
    );
    assert_eq!(tokenizer.decode(&plain), text);
}

#[test]
fn qwen_turns_end_where_llama_cpp_ends_them() {
    let tokenizer = tokenizer(&QWEN3);
    // <|im_end|>, <|endoftext|>, <|fim_pad|>, <|repo_name|>, <|file_sep|>
    for id in [IM_END, ENDOFTEXT, 151_662, 151_663, 151_664] {
        assert!(tokenizer.is_end_of_generation(id), "{id}");
    }
    assert!(!tokenizer.is_end_of_generation(IM_START));
    assert!(!tokenizer.is_end_of_generation(THINK));
    assert!(!tokenizer.is_control(THINK) && tokenizer.piece(THINK) == b"<think>");
    // The padding ids past the tokenizer's own are unused: no text.
    assert_eq!(tokenizer.vocab_size(), 151_936);
    assert_eq!(tokenizer.piece(151_935), b"");
}

const BEGIN_OF_TEXT: u32 = 128_000;
const END_OF_TEXT: u32 = 128_001;
const EOT: u32 = 128_009;

/// (The packaged vocabulary names 128008 `<|reserved_special_token_3|>`, where Llama
/// 3.1's has `<|eom_id|>`: it ends nothing here.)
#[test]
fn llama3_adds_bos_once_and_ends_at_eot_and_end_of_text() {
    let tokenizer = tokenizer(&LLAMA3);
    assert_eq!(tokenizer.encode_prompt("Hi"), [BEGIN_OF_TEXT, 13347]);
    assert_eq!(
        tokenizer.encode_prompt("<|begin_of_text|>Hi"),
        [BEGIN_OF_TEXT, 13347]
    );
    for id in [EOT, END_OF_TEXT] {
        assert!(tokenizer.is_end_of_generation(id), "{id}");
    }
    assert!(!tokenizer.is_end_of_generation(BEGIN_OF_TEXT));
    assert!(!tokenizer.is_end_of_generation(128_008));
}

/// Llama 3 takes a word that is a token as that token (llama.cpp's `ignore_merges`):
/// the merges alone split " milyon" into " m", "ily", "on".
#[test]
fn llama3_words_that_are_tokens_are_not_merged() {
    assert_eq!(tokenizer(&LLAMA3).encode(" milyon"), [107_667]);
}

#[test]
fn a_few_kilobytes_encode_quickly_and_round_trip() {
    let paragraph =
        "The quick brown fox, 42 times: «naïve» 日本語 😀\n\t  indented <b>bold</b>\n\n";
    let text = paragraph.repeat(64);
    for family in [QWEN3, LLAMA3] {
        let tokenizer = tokenizer(&family);
        let start = std::time::Instant::now();
        let ids = tokenizer.encode(&text);
        let took = start.elapsed();
        assert_eq!(tokenizer.decode(&ids), text);
        // Generous even for a debug build.
        assert!(took.as_secs_f64() < 2.0, "{}: took {took:?}", family.name);
    }
}
