//! Tests of quick tasks.

use super::*;

#[test]
fn requests_carry_their_schema_and_answers_parse() {
    let labels = vec!["positive".to_string(), "negative".to_string()];
    let classify = Task::Classify { labels };
    let request = classify.request("I love it").unwrap();
    assert!(GenerateParams::from_request(&request)
        .unwrap()
        .schema
        .is_some());
    let out = classify.parse(r#"{"label": "negative"}"#).unwrap();
    assert_eq!(
        out,
        TaskOutput::Labels(vec![("negative".into(), 1.0), ("positive".into(), 0.0)])
    );
    let replies = Task::SmartReplies { n: 3 };
    let out = replies
        .parse(r#"{"replies": ["Sure!", "sure!", " No thanks "]}"#)
        .unwrap();
    assert_eq!(
        out,
        TaskOutput::Replies(vec!["Sure!".into(), "No thanks".into()])
    );
    // Replies that ran on keep their first sentence; numbering goes.
    let out = replies
        .parse(
            r#"{"replies": ["Hey, I'm sorry for the delay. I'm sorry about the delay. I'm",
            "1. I'm glad you're excited about the upcoming conference. I’",
            "2. Sure! See you then", "Thanks! I'm so glad you like them. They are from my garden.",
            "yes yes yes yes yes yes yes yes yes yes yes yes yes yes yesy"]}"#,
        )
        .unwrap();
    let want = [
        "Hey, I'm sorry for the delay.",
        "I'm glad you're excited about the upcoming conference.",
        "Sure! See you then",
        "Thanks! I'm so glad you like them. They are from my garden.",
        "yes yes yes yes yes yes yes yes yes yes yes yes yes yes yesy",
    ];
    assert_eq!(out, TaskOutput::Replies(want.map(String::from).to_vec()));
    let request = replies.request("Lunch?").unwrap();
    let schema = GenerateParams::from_request(&request)
        .unwrap()
        .schema
        .unwrap();
    let long = json!({"replies": ["a", "b", "c".repeat(REPLY_CHARS + 1)]});
    assert!(schema.validate(&long).is_err());
    assert!(schema
        .validate(&json!({"replies": ["a", "", "c"]}))
        .is_err());
    let rewrite = Task::Rewrite {
        tone: Tone::Shorter,
    };
    assert!(rewrite.request("x").unwrap().response_format.is_none());
    assert_eq!(
        rewrite.parse(" \"Hi.\" ").unwrap(),
        TaskOutput::Text("Hi.".into())
    );
    let extract = Task::Extract {
        schema: json!({"type": "object", "properties": {"email": {"type": "string"}}}),
    };
    assert!(extract.parse(r#"{"email": 3}"#).is_err());
}

#[test]
fn options_are_checked() {
    for bad in [
        Task::Classify {
            labels: vec!["one".into()],
        },
        Task::Summarize { sentences: 0 },
        Task::SmartReplies { n: 9 },
        Task::Extract {
            schema: json!({"type": "string", "pattern": "x"}),
        },
    ] {
        assert_eq!(
            bad.request("x").unwrap_err().code(),
            "invalid_request",
            "{bad:?}"
        );
    }
}

#[test]
fn text_answers_lose_quotes_and_an_echoed_label() {
    let rewrite = Task::Rewrite { tone: Tone::Polite };
    for (answer, want) in [
        ("  \"Please send it.\" ", "Please send it."),
        ("Text: \"Please send it.\"", "Please send it."),
        ("Text:Please send it.", "Please send it."),
        ("Context: it is late.", "Context: it is late."),
    ] {
        assert_eq!(
            rewrite.parse(answer).unwrap(),
            TaskOutput::Text(want.into())
        );
    }
}
