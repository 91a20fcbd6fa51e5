//! Tests of the JSON Schema subset.

use serde_json::json;

use super::*;

#[test]
fn unsupported_keywords_are_named() {
    for (schema, keyword) in [
        (json!({"type": "string", "pattern": "a+"}), "pattern"),
        (
            json!({"type": "object", "properties": {"a": {"type": "string", "format": "email"}}}),
            "format",
        ),
        (json!({"anyOf": [{"type": "string"}]}), "anyOf"),
        (json!({"type": ["string", "null"]}), "type (as a list)"),
    ] {
        let e = Schema::compile(&schema).unwrap_err();
        assert_eq!(e.code(), "invalid_request");
        assert!(e.to_string().contains(&format!("\"{keyword}\"")), "{e}");
    }
}

#[test]
fn validation_follows_the_schema() {
    let schema = Schema::compile(&json!({
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "age": {"type": "integer"},
            "tags": {"type": "array", "items": {"enum": ["a", "b"]}, "maxItems": 2}
        },
        "required": ["name"],
        "additionalProperties": false
    }))
    .unwrap();
    assert!(schema
        .validate(&json!({"name": "x", "age": 3, "tags": ["a"]}))
        .is_ok());
    for bad in [
        json!({"age": 3}),
        json!({"name": "x", "age": 3.5}),
        json!({"name": "x", "tags": ["c"]}),
        json!({"name": "x", "tags": ["a", "a", "b"]}),
        json!({"name": "x", "extra": 1}),
        json!([1]),
    ] {
        assert!(schema.validate(&bad).is_err(), "{bad}");
    }
}

#[test]
fn string_lengths_must_be_sound() {
    for (limits, named) in [
        (json!({"maxLength": -1}), "maxLength must be a whole number"),
        (
            json!({"minLength": 1.5}),
            "minLength must be a whole number",
        ),
        (
            json!({"maxLength": "3"}),
            "maxLength must be a whole number",
        ),
        (json!({"maxLength": 65536}), "at most 65535"),
        (
            json!({"minLength": 65536}),
            "minLength must be at most 65535",
        ),
        (
            json!({"minLength": 5, "maxLength": 3}),
            "maxLength must be at least minLength",
        ),
    ] {
        let mut schema = json!({"type": "string"});
        schema
            .as_object_mut()
            .unwrap()
            .extend(limits.as_object().unwrap().clone());
        let e = Schema::compile(&schema).unwrap_err();
        assert_eq!(e.code(), "invalid_request");
        assert!(e.to_string().contains(named), "{e}");
    }
    let schema = json!({"type": "string", "minLength": 0, "maxLength": 65535});
    assert!(Schema::compile(&schema).is_ok());
}

#[test]
fn string_lengths_are_code_points() {
    let schema =
        Schema::compile(&json!({"type": "string", "minLength": 2, "maxLength": 3})).unwrap();
    for good in ["ab", "abc", "éé", "日本語", "😀\n"] {
        assert!(schema.validate(&json!(good)).is_ok(), "{good}");
    }
    for bad in ["", "é", "abcd", "日本語x", "😀😀😀😀"] {
        assert!(schema.validate(&json!(bad)).is_err(), "{bad}");
    }
}
