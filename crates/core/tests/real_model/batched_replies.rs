//! Replies stepped together (continuous batching) step by step equal the same
//! replies run alone: the same chunks, finish reasons, errors and idle steps, while
//! members join and leave the set between steps.

use std::cell::Cell;

use serde_json::{json, Value};
use tandem_core::{
    CancelFlag, ChatCompletionRequest, Engine, Error, FinishReason, Reply, ReplyStep, Result,
};

use crate::engine;

/// One reply of the set.
struct Member {
    request: Value,
    /// Cancelled right after its own step of this number (1 = the role chunk).
    cancel_after: Option<usize>,
    /// Joins the set before this round of steps.
    joins_at: usize,
}

fn members() -> Vec<Member> {
    let long = "Tell me everything about the sea, the waves, the tides and the fish. ".repeat(4);
    let user = |text: &str| json!([{"role": "user", "content": text}]);
    let member = |request: Value| Member {
        request,
        cancel_after: None,
        joins_at: 0,
    };
    vec![
        // Greedy, to the end of its turn.
        member(json!({
            "messages": user("Translate 'good morning' into French."),
            "temperature": 0, "max_tokens": 40
        })),
        // Seeded sampling after a prompt read in several chunks.
        member(json!({
            "messages": user(&long), "temperature": 0.9, "seed": 7, "max_tokens": 30
        })),
        // A stop string.
        member(json!({
            "messages": user("Describe the moon in a few sentences."),
            "temperature": 0, "max_tokens": 40, "stop": "."
        })),
        // A small max_tokens.
        member(json!({
            "messages": user("Write a story about a dragon."),
            "temperature": 0.7, "seed": 3, "max_tokens": 3
        })),
        // Cancelled after its eighth step.
        Member {
            cancel_after: Some(8),
            ..member(json!({
                "messages": user("List ten fruits."), "temperature": 0, "max_tokens": 40
            }))
        },
        // Joins when the others have started; with log-probabilities.
        Member {
            joins_at: 6,
            ..member(json!({
                "messages": user("Name three rivers."), "temperature": 1.1, "seed": 11,
                "max_tokens": 20, "logprobs": true, "top_logprobs": 2
            }))
        },
    ]
}

/// A reply to `request` with a clock of its own that ticks once per reading.
fn reply(engine: &Engine, request: &Value, cancel: CancelFlag) -> Reply {
    let request: ChatCompletionRequest = serde_json::from_value(request.clone()).unwrap();
    let ticks = Cell::new(0.0);
    let clock = Box::new(move || {
        ticks.set(ticks.get() + 10.0);
        ticks.get()
    });
    Reply::new(
        engine,
        &request,
        "chatcmpl-b".into(),
        1,
        "local",
        cancel,
        clock,
    )
    .unwrap()
}

/// Every step of `member` run alone with `next_step`, on the engine's own cache
/// (made cold first, so that the prompt is read in the same chunks).
fn alone(engine: &mut Engine, member: &Member) -> Vec<Result<ReplyStep>> {
    engine.model_mut().forward(&[0], 0).unwrap();
    let cancel = CancelFlag::default();
    let mut reply = reply(engine, &member.request, cancel.clone());
    let mut steps = Vec::new();
    while let Some(step) = reply.next_step(engine) {
        steps.push(step);
        if member.cancel_after == Some(steps.len()) {
            cancel.cancel();
        }
    }
    steps
}

/// Every step of each member stepped together, each on a sequence of its own: a
/// member joins the set at its round and leaves it when it ends. Also the number of
/// rounds.
fn together(engine: &mut Engine, members: &[Member]) -> (Vec<Vec<Result<ReplyStep>>>, usize) {
    let mut steps: Vec<Vec<Result<ReplyStep>>> = members.iter().map(|_| Vec::new()).collect();
    let mut set: Vec<(usize, Reply, CancelFlag)> = Vec::new();
    let mut round = 0;
    while round <= members.iter().map(|m| m.joins_at).max().unwrap() || !set.is_empty() {
        for (i, member) in members.iter().enumerate() {
            if member.joins_at == round {
                let cancel = CancelFlag::default();
                let reply = reply(engine, &member.request, cancel.clone())
                    .with_sequence(engine.model().new_sequence());
                set.push((i, reply, cancel));
            }
        }
        let mut replies: Vec<&mut Reply> = set.iter_mut().map(|(_, r, _)| r).collect();
        let results = engine.step_replies(&mut replies);
        assert_eq!(results.len(), set.len());
        let mut ended = Vec::new();
        for ((i, _, cancel), result) in set.iter().zip(results) {
            match result {
                Some(step) => steps[*i].push(step),
                None => ended.push(*i),
            }
            if members[*i].cancel_after == Some(steps[*i].len()) {
                cancel.cancel();
            }
        }
        set.retain(|(i, _, _)| !ended.contains(i));
        round += 1;
    }
    (steps, round)
}

/// The text of a member's chunks and the finish reason of its finish chunk.
fn text_and_finish(steps: &[Result<ReplyStep>]) -> (String, Option<FinishReason>) {
    let chunks = steps.iter().filter_map(|s| match s {
        Ok(ReplyStep::Chunk(c)) => c.choices.first(),
        _ => None,
    });
    let mut text = String::new();
    let mut finish = None;
    for choice in chunks {
        text.push_str(choice.delta.content.as_deref().unwrap_or(""));
        finish = finish.or(choice.finish_reason);
    }
    (text, finish)
}

#[test]
fn replies_stepped_together_equal_each_reply_run_alone() {
    let mut engine = engine();
    let engine = &mut *engine;
    let members = members();
    let want: Vec<_> = members.iter().map(|m| alone(engine, m)).collect();
    let (got, rounds) = together(engine, &members);
    for (i, (got, want)) in got.iter().zip(&want).enumerate() {
        assert!(got == want, "member {i}:\n{got:#?}\nalone:\n{want:#?}");
    }
    // Each member did what it is there for.
    let ends: Vec<_> = want.iter().map(|s| text_and_finish(s)).collect();
    assert_eq!(ends[0].1, Some(FinishReason::Stop));
    assert_eq!(ends[1].1, Some(FinishReason::Length));
    let (moon, finish) = &ends[2];
    assert_eq!(*finish, Some(FinishReason::Stop));
    assert!(!moon.is_empty() && !moon.contains('.'), "{moon:?}");
    assert!(want[2].len() < 40, "the stop string ended it early");
    assert_eq!(ends[3].1, Some(FinishReason::Length));
    assert_eq!(want[4].last(), Some(&Err(Error::Aborted)));
    assert_eq!(want[4].len(), 9);
    assert_eq!(ends[5].1, Some(FinishReason::Length));
    // They ran at the same time: far fewer rounds than steps.
    let total: usize = want.iter().map(Vec::len).sum();
    assert!(rounds * 2 < total, "{rounds} rounds for {total} steps");
}

#[test]
fn a_generation_on_the_engines_own_cache_cannot_step_with_others() {
    let mut engine = engine();
    let engine = &mut *engine;
    let request = json!({"messages": [{"role": "user", "content": "Hi."}], "max_tokens": 2});
    let mut shared = reply(engine, &request, CancelFlag::default());
    let mut own =
        reply(engine, &request, CancelFlag::default()).with_sequence(engine.model().new_sequence());
    // The role chunks need no model.
    let first = engine.step_replies(&mut [&mut shared, &mut own]);
    assert!(first
        .iter()
        .all(|s| matches!(s, Some(Ok(ReplyStep::Chunk(_))))));
    let second = engine.step_replies(&mut [&mut shared, &mut own]);
    assert!(
        matches!(&second[0], Some(Err(Error::Inference(_)))),
        "{second:?}"
    );
    assert!(matches!(&second[1], Some(Ok(_))), "{second:?}");
    assert_eq!(engine.step_replies(&mut [&mut shared]), [None]);
}
