//! Replies as OpenAI chunks on the real model: order, ids, logprobs, long prompts.

use tandem_core::protocol::CompletionBuilder;
use tandem_core::{
    CancelFlag, ChatCompletionChunk, ChatCompletionRequest, Engine, Error, GenerateParams, Reply,
    ReplyStep,
};

use crate::{engine, fixture, ids, messages};

fn request(json: serde_json::Value) -> ChatCompletionRequest {
    serde_json::from_value(json).unwrap()
}

fn reply(engine: &Engine, request: &ChatCompletionRequest, cancel: CancelFlag) -> Reply {
    let ticks = std::cell::Cell::new(0.0);
    let clock = Box::new(move || {
        ticks.set(ticks.get() + 10.0);
        ticks.get()
    });
    Reply::new(
        engine,
        request,
        "chatcmpl-t".into(),
        1,
        "local",
        cancel,
        clock,
    )
    .unwrap()
}

fn chunks(engine: &mut Engine, request: &ChatCompletionRequest) -> Vec<ChatCompletionChunk> {
    let mut reply = reply(engine, request, CancelFlag::default());
    let mut out = Vec::new();
    while let Some(step) = reply.next_step(engine) {
        if let ReplyStep::Chunk(chunk) = step.unwrap() {
            out.push(chunk);
        }
    }
    out
}

#[test]
fn chunks_come_in_openai_order_and_fold_into_the_greedy_text() {
    let mut engine = engine();
    // A line with no near-tie on its greedy path; it ends with end of turn.
    let line = fixture("greedy.jsonl")
        .into_iter()
        .find(|l| l["messages"][1]["content"] == "What color is the sky?")
        .unwrap();
    let req = request(serde_json::json!({
        "messages": line["messages"], "temperature": 0, "max_tokens": 32
    }));
    let chunks = chunks(&mut engine, &req);
    let first = &chunks[0].choices[0].delta;
    assert_eq!(first.content.as_deref(), Some(""));
    assert!(first.role.is_some());
    assert!(chunks.iter().all(|c| c.id == "chatcmpl-t"));
    let last = chunks.last().unwrap();
    assert!(last.choices.is_empty());
    let usage = last.usage.unwrap();
    let tandem = last.tandem.as_ref().unwrap();
    assert_eq!(tandem.route, "local");
    assert!(tandem.decode_tokens_per_s > 0.0 && tandem.time_to_first_token_ms > 0.0);
    let finish = &chunks[chunks.len() - 2].choices[0];
    assert_eq!(finish.finish_reason, Some(tandem_core::FinishReason::Stop));

    let mut builder = CompletionBuilder::default();
    chunks.into_iter().for_each(|c| builder.push(c));
    let completion = builder.finish().unwrap();
    let reference = engine.tokenizer().decode(&ids(&line["greedy_ids"]));
    assert_eq!(
        completion.choices[0].message.content.as_deref(),
        Some(reference.trim_end_matches("<|im_end|>"))
    );
    assert_eq!(usage.completion_tokens, ids(&line["greedy_ids"]).len() - 1);
}

#[test]
fn logprobs_come_with_their_top_alternatives() {
    let mut engine = engine();
    let req = request(serde_json::json!({
        "messages": [{"role": "user", "content": "Say yes."}],
        "temperature": 0, "max_tokens": 4, "logprobs": true, "top_logprobs": 3
    }));
    let entries: Vec<_> = chunks(&mut engine, &req)
        .into_iter()
        .filter_map(|c| c.choices.into_iter().next()?.logprobs)
        .flat_map(|l| l.content)
        .collect();
    assert_eq!(entries.len(), 4);
    for e in entries {
        assert_eq!(e.top_logprobs.len(), 3);
        // Greedy: the chosen token is the most likely one.
        assert_eq!(e.top_logprobs[0].bytes, e.bytes);
        assert!((e.top_logprobs[0].logprob - e.logprob).abs() < 1e-5);
        assert!(e
            .top_logprobs
            .windows(2)
            .all(|w| w[0].logprob >= w[1].logprob));
    }
}

#[test]
fn a_long_prompt_is_read_in_steps_that_can_be_cancelled() {
    let mut engine = engine();
    let long = "The quick brown fox jumps over the lazy dog. ".repeat(30);
    let req = request(serde_json::json!({
        "messages": [{"role": "user", "content": long}], "max_tokens": 4
    }));
    let cancel = CancelFlag::default();
    let mut reply = reply(&engine, &req, cancel.clone());
    assert!(reply.prompt_tokens() > 3 * tandem_core::generate::PREFILL_CHUNK);
    assert!(matches!(
        reply.next_step(&mut engine),
        Some(Ok(ReplyStep::Chunk(_)))
    ));
    assert_eq!(reply.next_step(&mut engine), Some(Ok(ReplyStep::Working)));
    cancel.cancel();
    assert_eq!(reply.next_step(&mut engine), Some(Err(Error::Aborted)));
    assert_eq!(reply.next_step(&mut engine), None);
}

#[test]
fn fixture_messages_parse_as_requests() {
    for line in fixture("greedy.jsonl") {
        let req = ChatCompletionRequest::new(messages(&line));
        assert!(GenerateParams::from_request(&req).is_ok());
    }
}
