//! The matcher fed whole texts: what it accepts, its completion lengths, its states.

use serde_json::json;

use super::frame::MAX_NESTING;
use super::*;

fn accepts(schema: &Schema, text: impl AsRef<[u8]>) -> Option<Matcher> {
    let mut m = Matcher::new();
    m.feed_all(schema, text.as_ref()).then_some(m)
}

#[test]
fn prefixes_of_matching_json_are_accepted_and_others_not() {
    let schema = Schema::compile(&json!({
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "n": {"type": "integer"},
            "x": {"type": "number"},
            "ok": {"type": "boolean"},
            "tags": {"type": "array", "items": {"enum": ["a", "b", 1, 12]}, "minItems": 1, "maxItems": 2}
        },
        "required": ["name", "tags"]
    }))
    .unwrap();
    let full =
        r#"{"name": "Zoë \"q\" \u00e9", "n": -12, "x": 0.5e+3, "ok": true, "tags": [12, "a"]}"#;
    for end in 0..full.len() {
        let prefix = &full.as_bytes()[..end];
        assert!(accepts(&schema, prefix).is_some(), "{prefix:?}");
    }
    let m = accepts(&schema, full).unwrap();
    assert!(m.is_finished() && m.is_complete(&schema));
    for bad in [
        r#"{"name": "a"}"#,           // required tags missing at '}'
        r#"{"name": "a", "name""#,    // a key twice
        r#"{"nme""#,                  // no such key
        r#"{"n": 1.5"#,               // integer with a fraction
        r#"{"n": 01"#,                // leading zero
        r#"{"tags": []"#,             // fewer than minItems
        r#"{"tags": ["a", "b", "a""#, // more than maxItems
        r#"{"tags": ["c""#,           // not in the enum
        r#"{"ok": tru "#,             // broken literal
        "{\"name\": \"a\nb\"",        // raw control character in a string
        r#"{"name": "\uD800"#,        // surrogate escape
        r#"{"name": "a"} "#,          // anything after the value
    ] {
        assert!(accepts(&schema, bad).is_none(), "{bad}");
    }
}

#[test]
fn json_object_accepts_any_object_and_bounds_whitespace() {
    let schema = Schema::any_object();
    let m = accepts(&schema, r#"{"a": [1, {"b": null}, "x", -0.5], "c": {}}"#).unwrap();
    assert!(m.is_finished());
    assert!(accepts(&schema, "[1]").is_none());
    let spaces = " ".repeat(MAX_WHITESPACE as usize);
    assert!(accepts(&schema, format!("{{{spaces}")).is_some());
    assert!(accepts(&schema, format!("{{{spaces} ")).is_none());
    let deep = "{\"a\":".repeat(MAX_NESTING + 1);
    assert!(accepts(&schema, &deep).is_none());
}

#[test]
fn completion_length_is_at_most_what_the_text_still_needs() {
    let schema = Schema::compile(&json!({
        "type": "object",
        "properties": {
            "a": {"type": "array", "items": {"type": "string"}, "minItems": 2},
            "b": {"type": "object", "properties": {"c": {"enum": ["xy", "z"]}}, "required": ["c"]},
            "s": {"type": "string", "minLength": 3, "maxLength": 5}
        },
        "required": ["a", "b", "s"]
    }))
    .unwrap();
    let full = r#"{"a":["",""],"b":{"c":"z"},"s":"abc"}"#;
    assert_eq!(Matcher::new().completion_len(&schema), full.len());
    // Inside a key the estimate errs long (the key is not known yet), never short
    // by more than what the key decides.
    for end in 0..=full.len() {
        let m = accepts(&schema, &full[..end]).unwrap();
        assert!(
            m.completion_len(&schema) <= full.len() - end + 8,
            "{}",
            &full[..end]
        );
    }
    assert_eq!(accepts(&schema, full).unwrap().completion_len(&schema), 0);
    // Inside the string every character still needed is one more byte.
    let m = accepts(&schema, r#"{"a":["",""],"b":{"c":"z"},"s":"\u00"#).unwrap();
    assert_eq!(m.completion_len(&schema), r#"e9ab"}"#.len());
}

#[test]
fn string_limits_count_characters() {
    let schema =
        Schema::compile(&json!({"type": "string", "minLength": 2, "maxLength": 4})).unwrap();
    for good in [
        r#""ab""#,
        r#""abcd""#,
        "\"é日\"",
        "\"😀é日x\"",
        r#""\n\u00e9""#,
        r#""\"\\\/\t""#,
    ] {
        let m = accepts(&schema, good).unwrap_or_else(|| panic!("{good}"));
        assert!(m.is_finished(), "{good}");
    }
    for bad in [
        r#""""#,
        r#""a""#,
        r#""\u00e9""#,
        "\"é\"",
        r#""abcde"#,
        "\"é日😀é日",
        r#""abcd\n"#,
        r#""\t\t\t\t\u"#,
    ] {
        assert!(accepts(&schema, bad).is_none(), "{bad}");
    }
    // Below the minimum any character may follow but not the end; at the
    // maximum only the end.
    let m = accepts(&schema, r#""a"#).unwrap();
    assert!(m.clone().feed(&schema, b'\\') && !m.clone().feed(&schema, b'"'));
    let m = accepts(&schema, r#""abcd"#).unwrap();
    assert!(!m.clone().feed(&schema, b'e') && !m.clone().feed(&schema, 0xC3));
    assert!(m.clone().feed(&schema, b'"'));
}

#[test]
fn only_limited_strings_count() {
    let free = Schema::compile(&json!({"type": "string"})).unwrap();
    assert_eq!(accepts(&free, r#""a"#), accepts(&free, r#""abc\n d"#));
    let min = Schema::compile(&json!({"type": "string", "minLength": 2})).unwrap();
    assert_ne!(accepts(&min, r#""a"#), accepts(&min, r#""ab"#));
    assert_eq!(accepts(&min, r#""ab"#), accepts(&min, r#""abcdef"#));
    let max = Schema::compile(&json!({"type": "string", "maxLength": 9})).unwrap();
    assert_ne!(accepts(&max, r#""ab"#), accepts(&max, r#""abc"#));
}

#[test]
fn limits_split_off_between_characters() {
    let schema = Schema::compile(&json!({"type": "string", "maxLength": 3})).unwrap();
    let free = Schema::compile(&json!({"type": "string"})).unwrap();
    let (without, limits) = accepts(&schema, r#""a"#).unwrap().split_limits().unwrap();
    assert_eq!(without, accepts(&free, r#""a"#).unwrap());
    assert_eq!(
        limits,
        Limits {
            need: 0,
            room: Some(2)
        }
    );
    assert!(accepts(&schema, "\"\\").unwrap().split_limits().is_none());
    assert!(accepts(&schema, b"\"\xC3")
        .unwrap()
        .split_limits()
        .is_none());
    assert!(accepts(&free, r#""a"#).unwrap().split_limits().is_none());
    assert_eq!(string_run(br#"ab"}"#), (2, true));
    assert_eq!(string_run(r#"\u00e9é\n"#.as_bytes()), (3, false));
    assert_eq!(string_run(br#""x"#), (0, true));
    assert_eq!(string_run(b"a\nb"), (2, false));
    let limits = Limits {
        need: 1,
        room: Some(2),
    };
    assert!(limits.allow(2, false) && limits.allow(1, true) && !limits.allow(3, false));
    assert!(!limits.allow(0, true));
}

#[test]
fn numbers_at_the_top_level_may_end_or_go_on() {
    let schema = Schema::compile(&json!({"type": "number"})).unwrap();
    let m = accepts(&schema, "-3.25").unwrap();
    assert!(m.is_complete(&schema) && !m.is_finished());
    assert!(!accepts(&schema, "-3.").unwrap().is_complete(&schema));
    assert!(accepts(&schema, "9".repeat(16)).is_none());
}

#[test]
fn utf8_in_strings_must_be_well_formed() {
    let schema = Schema::compile(&json!({"type": "string"})).unwrap();
    let mut m = Matcher::new();
    assert!(m.feed_all(&schema, b"\"\xC3"));
    assert!(!m.clone().feed(&schema, b'"'));
    assert!(m.feed(&schema, 0xA9));
    assert!(!Matcher::new().feed_all(&schema, b"\"\xED\xA0"));
}
