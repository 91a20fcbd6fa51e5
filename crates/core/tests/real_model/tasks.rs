//! The quick tasks on the real model: each answer parses into its result shape.

use serde_json::json;
use tandem_core::tasks::{Task, TaskOutput, Tone, REPLY_CHARS};

use crate::engine;

#[test]
fn every_task_gives_its_result_shape() {
    let mut engine = engine();
    let labels = vec!["positive".to_string(), "negative".to_string()];
    let TaskOutput::Labels(ranked) = engine
        .run_task(
            &Task::Classify { labels },
            "What a wonderful surprise, thank you!",
        )
        .unwrap()
    else {
        panic!("classify gives labels")
    };
    assert_eq!(ranked[0].0, "positive", "{ranked:?}");
    let total: f32 = ranked.iter().map(|(_, p)| p).sum();
    assert!((total - 1.0).abs() < 1e-4);

    let text = "The meeting moved from Monday to Wednesday at 10am because the room was booked.";
    for task in [
        Task::Summarize { sentences: 1 },
        Task::Rewrite { tone: Tone::Polite },
    ] {
        match engine.run_task(&task, text).unwrap() {
            TaskOutput::Text(t) => assert!(!t.is_empty(), "{task:?}"),
            other => panic!("{task:?} gave {other:?}"),
        }
    }

    // Each reply is short, however much the model would run on.
    for (n, message) in [
        (3, "Are you free for lunch tomorrow?"),
        (
            3,
            "hey, my order came two weeks late and nobody answered my emails. \
             sort it out or I cancel my subscription.",
        ),
        (5, "Congrats on the new job! When do you start?"),
    ] {
        match engine.run_task(&Task::SmartReplies { n }, message).unwrap() {
            TaskOutput::Replies(r) => {
                assert!((1..=n).contains(&r.len()), "{r:?}");
                let short = |t: &String| (1..=REPLY_CHARS).contains(&t.chars().count());
                assert!(r.iter().all(short), "{r:?}");
            }
            other => panic!("smart replies gave {other:?}"),
        }
    }

    let schema = json!({
        "type": "object",
        "properties": {"email": {"type": "string"}, "amount": {"type": "number"}},
        "required": ["email", "amount"],
        "additionalProperties": false
    });
    let out = engine
        .run_task(
            &Task::Extract { schema },
            "Send the 40 dollars to kim@example.com please.",
        )
        .unwrap();
    let TaskOutput::Json(value) = out else {
        panic!("extract gives JSON")
    };
    assert!(
        value["email"].is_string() && value["amount"].is_number(),
        "{value}"
    );
}
