//! The key/value cache across generations: a prompt that starts like the cached
//! tokens runs only its new tokens, and gives what a cold run gives bit for bit: the
//! same greedy tokens and the same log-probabilities (the forward pass, attention
//! included, is batch-invariant).

use tandem_core::{CancelFlag, ChatMessage, Engine, Event, GenerateParams, Role, SamplingParams};

use crate::engine;

/// Greedy tokens with their log-probabilities, and how many tokens the model ran.
#[derive(Debug)]
struct Run {
    tokens: Vec<(u32, f32)>,
    forwarded: usize,
}

fn params(max_tokens: usize) -> GenerateParams {
    GenerateParams {
        max_tokens: Some(max_tokens),
        sampling: SamplingParams::greedy(),
        top_logprobs: Some(0),
        ..GenerateParams::default()
    }
}

/// Generate greedily from `prompt`; with `cancel_in_prefill`, cancel at the first
/// prefill event.
fn run(engine: &mut Engine, prompt: &[u32], max_tokens: usize, cancel_in_prefill: bool) -> Run {
    let cancel = CancelFlag::default();
    let before = engine.model().tokens_forwarded();
    let mut generation = engine
        .generate(prompt.to_vec(), params(max_tokens), cancel.clone())
        .unwrap();
    let mut tokens = Vec::new();
    for event in engine.stream(&mut generation) {
        match event {
            Ok(Event::Token {
                id,
                logprobs: Some(l),
                ..
            }) => tokens.push((id, l.logprob)),
            Ok(Event::Prefill { .. }) if cancel_in_prefill => cancel.cancel(),
            Ok(_) => {}
            Err(e) => assert!(cancel.is_cancelled(), "{e}"),
        }
    }
    Run {
        tokens,
        forwarded: engine.model().tokens_forwarded() - before,
    }
}

/// The same greedy tokens and log-probabilities, bit for bit: every part of the
/// forward pass computes a token's row alone as it does in a batch.
fn assert_same(a: &Run, b: &Run) {
    let ids = |r: &Run| r.tokens.iter().map(|t| t.0).collect::<Vec<_>>();
    assert_eq!(ids(a), ids(b));
    for (x, y) in a.tokens.iter().zip(&b.tokens) {
        assert_eq!(x.1.to_bits(), y.1.to_bits(), "{x:?} {y:?}");
    }
}

/// Forget the cache: the next prompt shares no token with it.
fn cold(engine: &mut Engine) {
    engine.model_mut().forward(&[0], 0).unwrap();
}

fn chat(engine: &Engine, turns: &[&str]) -> Vec<u32> {
    let roles = [Role::User, Role::Assistant];
    let messages: Vec<_> = turns
        .iter()
        .enumerate()
        .map(|(i, text)| ChatMessage::new(roles[i % 2], *text))
        .collect();
    engine.chat_prompt(&messages).unwrap()
}

#[test]
fn a_second_turn_runs_only_its_new_tokens_and_equals_a_cold_run() {
    let mut engine = engine();
    let engine = &mut *engine;
    let first = chat(engine, &["What is the capital of France?"]);
    cold(engine);
    let turn1 = run(engine, &first, 24, false);
    let answer: Vec<u32> = turn1.tokens.iter().map(|t| t.0).collect();
    let answer_text = engine.tokenizer().decode(&answer);
    let second = chat(
        engine,
        &[
            "What is the capital of France?",
            answer_text.trim_end_matches("<|im_end|>"),
            "And of Italy?",
        ],
    );
    assert!(second.starts_with(&first));
    let reused = engine.model().reusable_prefix(&second);
    assert!(reused > first.len(), "{reused} of {}", second.len());
    let warm = run(engine, &second, 16, false);
    cold(engine);
    let cold_run = run(engine, &second, 16, false);
    assert_same(&warm, &cold_run);
    // The cold run reads the whole prompt, the warm one all but the reused prefix;
    // both then run the same reply tokens.
    assert!(cold_run.forwarded >= second.len());
    assert_eq!(cold_run.forwarded - warm.forwarded, reused);
}

#[test]
fn a_prompt_cancelled_mid_prefill_resumes_from_what_was_read() {
    let mut engine = engine();
    let engine = &mut *engine;
    let long = "Tell me everything about the sea, the waves, the tides and the fish. ".repeat(4);
    let prompt = chat(engine, &[&long]);
    assert!(prompt.len() > 64 && prompt.len() <= 128, "{}", prompt.len());
    cold(engine);
    let cancelled = run(engine, &prompt, 8, true);
    assert!(cancelled.tokens.is_empty());
    assert_eq!(cancelled.forwarded, 64);
    let resumed = run(engine, &prompt, 8, false);
    assert_eq!(resumed.forwarded, prompt.len() - 64 + 7);
    cold(engine);
    let cold_run = run(engine, &prompt, 8, false);
    assert_same(&resumed, &cold_run);
}

#[test]
fn forwarding_at_an_earlier_position_drops_the_later_tokens() {
    let mut engine = engine();
    let prompt = chat(&engine, &["Name a colour."]);
    let n = prompt.len();
    let model = engine.model_mut();
    let want = model.forward(&prompt, 0).unwrap();
    model.forward(&[28, 29, 30], n).unwrap();
    // Label scoring: back to the prompt's last token, as if the three were never run.
    // Bit for bit: a row runs alone as it does in a batch (ARCHITECTURE.md, Numerics).
    let again = model.forward(&prompt[n - 1..], n - 1).unwrap();
    assert!(want
        .iter()
        .zip(&again)
        .all(|(a, b)| a.to_bits() == b.to_bits()));
    assert_eq!(model.reusable_prefix(&prompt), n - 1);
    // Past what is cached is an error, and the cache starts again at 0 afterwards.
    assert!(model.forward(&[1], n + 5).is_err());
    assert_eq!(model.forward(&prompt, 0).unwrap(), want);
}
