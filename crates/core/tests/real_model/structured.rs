//! Constrained decoding on the real model: whatever the seed and temperature, the
//! reply parses and matches its schema.

use std::sync::Arc;

use serde_json::{json, Value};
use tandem_core::protocol::ResponseFormat;
use tandem_core::structured::{Constraint, Matcher, Schema};
use tandem_core::{
    CancelFlag, ChatCompletionRequest, ChatMessage, Event, FinishReason, GenerateParams, Role,
    SamplingParams,
};

use crate::engine;

/// Generate for `prompt` under `schema` at each temperature (several seeds when
/// sampling) and check every reply; the replies, each with how it was made.
fn always_valid(prompt: &str, schema: Schema) -> Vec<(String, Value)> {
    always_valid_within(prompt, schema, 64)
}

/// [`always_valid`] with at most `max_tokens` tokens a reply.
fn always_valid_within(prompt: &str, schema: Schema, max_tokens: usize) -> Vec<(String, Value)> {
    let schema = Arc::new(schema);
    let mut engine = engine();
    let messages = [ChatMessage::new(Role::User, prompt)];
    let mut replies = vec![];
    for (temperature, seeds) in [(0.0, 1), (0.7, 2), (1.5, 2)] {
        for seed in 0..seeds {
            let params = GenerateParams {
                max_tokens: Some(max_tokens),
                sampling: SamplingParams {
                    temperature,
                    seed: Some(seed),
                    ..SamplingParams::default()
                },
                schema: Some(schema.clone()),
                ..GenerateParams::default()
            };
            let prompt = engine.chat_prompt(&messages).unwrap();
            let mut generation = engine
                .generate(prompt, params, CancelFlag::default())
                .unwrap();
            let mut text = String::new();
            let mut finish = None;
            for event in engine.stream(&mut generation) {
                match event.unwrap() {
                    Event::Token { text: t, .. } => text.push_str(&t),
                    Event::Done {
                        text: t,
                        finish_reason,
                        ..
                    } => {
                        text.push_str(&t);
                        finish = Some(finish_reason);
                    }
                    Event::Prefill { .. } | Event::ToolCall { .. } => {}
                }
            }
            let run = format!("temperature {temperature}, seed {seed}: {text}");
            assert_eq!(finish, Some(FinishReason::Stop), "{run}");
            let value: Value = serde_json::from_str(&text).expect(&run);
            schema.validate(&value).expect(&run);
            replies.push((run, value));
        }
    }
    replies
}

#[test]
fn flat_object() {
    always_valid(
        "Give a person's name and age as JSON.",
        Schema::compile(&json!({
            "type": "object",
            "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
            "required": ["name", "age"],
            "additionalProperties": false
        }))
        .unwrap(),
    );
}

#[test]
fn enum_value() {
    always_valid(
        "Is 'I love this film' positive or negative? Answer in JSON.",
        Schema::compile(&json!({
            "type": "object",
            "properties": {"sentiment": {"enum": ["positive", "negative", "neutral"]}},
            "required": ["sentiment"]
        }))
        .unwrap(),
    );
}

#[test]
fn nested_object_with_array() {
    always_valid(
        "Describe a city as JSON: its name, country and up to three sights.",
        Schema::compile(&json!({
            "type": "object",
            "properties": {
                "city": {
                    "type": "object",
                    "properties": {"name": {"type": "string"}, "country": {"type": "string"}},
                    "required": ["name"]
                },
                "sights": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 3}
            },
            "required": ["city", "sights"]
        }))
        .unwrap(),
    );
}

#[test]
fn numbers_and_booleans() {
    always_valid(
        "A product as JSON: price, stock count and whether it is on sale.",
        Schema::compile(&json!({
            "type": "object",
            "properties": {
                "price": {"type": "number"},
                "stock": {"type": "integer"},
                "on_sale": {"type": "boolean"}
            },
            "required": ["price", "stock", "on_sale"]
        }))
        .unwrap(),
    );
}

#[test]
fn string_lengths() {
    let replies = always_valid(
        "Describe a pet as JSON: its name, a motto and a few tags.",
        Schema::compile(&json!({
            "type": "object",
            "properties": {
                "name": {"type": "string", "minLength": 3, "maxLength": 12},
                "motto": {"type": "string", "maxLength": 20},
                "tags": {
                    "type": "array",
                    "items": {"type": "string", "minLength": 1, "maxLength": 8},
                    "minItems": 1,
                    "maxItems": 3
                }
            },
            "required": ["name", "motto", "tags"],
            "additionalProperties": false
        }))
        .unwrap(),
    );
    // validate() checked the limits; check them once more by hand.
    let chars = |v: &Value| v.as_str().unwrap().chars().count();
    for (run, value) in replies {
        assert!((3..=12).contains(&chars(&value["name"])), "{run}");
        assert!(chars(&value["motto"]) <= 20, "{run}");
        let tags = value["tags"].as_array().unwrap();
        assert!(tags.iter().all(|t| (1..=8).contains(&chars(t))), "{run}");
    }
}

#[test]
fn a_long_minimum_still_finishes_within_the_budget() {
    // `{"story":"` + 50 characters + `"}` is 62 bytes: the whole budget but 2.
    always_valid_within(
        "Tell a very short story as JSON.",
        Schema::compile(&json!({
            "type": "object",
            "properties": {"story": {"type": "string", "minLength": 50, "maxLength": 60}},
            "required": ["story"]
        }))
        .unwrap(),
        64,
    );
}

#[test]
fn masks_in_limited_strings_match_a_full_walk() {
    let engine = engine();
    let schema = Arc::new(
        Schema::compile(&json!({
            "type": "object",
            "properties": {"s": {"type": "string", "minLength": 3, "maxLength": 10}},
            "required": ["s"]
        }))
        .unwrap(),
    );
    // Ten characters with an escaped quote, 2- and 3-byte characters and a \u escape.
    let text = r#"{"s":"a\"é日\u00e9 bcde"}"#.as_bytes();
    let mut constraint = Constraint::new(schema.clone());
    let mut matcher = Matcher::new();
    for &b in text {
        let cached = constraint.allowed(engine.token_trie(), engine.tokenizer());
        let walked = engine
            .token_trie()
            .allowed(engine.tokenizer(), &schema, &matcher);
        assert_eq!(*cached, walked, "after {matcher:?}");
        assert!(constraint.advance(&[b]) && matcher.feed(&schema, b));
    }
}

#[test]
fn json_object() {
    always_valid("List two colours as a JSON object.", Schema::any_object());
}

#[test]
fn requests_with_unsupported_keywords_fail_before_generating() {
    let request = ChatCompletionRequest::from_json(
        r##"{"messages":[{"role":"user","content":"hi"}],
            "response_format":{"type":"json_schema","json_schema":{"name":"x",
            "schema":{"type":"object","properties":{"a":{"$ref":"#/x"}}}}}}"##,
    )
    .unwrap();
    assert!(matches!(
        request.response_format,
        Some(ResponseFormat::JsonSchema { .. })
    ));
    let e = GenerateParams::from_request(&request).unwrap_err();
    assert_eq!(e.code(), "invalid_request");
    assert!(e.to_string().contains("\"$ref\""), "{e}");
}
