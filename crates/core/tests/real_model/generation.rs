//! The generation loop on the real model: stops, limits, seeds, cancel, errors.

use tandem_core::{
    CancelFlag, ChatMessage, Engine, Error, Event, FinishReason, GenerateParams, Role,
    SamplingParams, Usage,
};

use crate::engine;

struct Run {
    ids: Vec<u32>,
    text: String,
    /// `None` until the generation's `Done` event: a test of the finish reason fails
    /// when that event is missing.
    finish: Option<FinishReason>,
    usage: Usage,
}

fn prompt(engine: &Engine, text: &str) -> Vec<u32> {
    engine
        .chat_prompt(&[ChatMessage::new(Role::User, text)])
        .unwrap()
}

fn run(engine: &mut Engine, text: &str, params: GenerateParams) -> Run {
    let prompt = prompt(engine, text);
    run_ids(engine, prompt, params)
}

fn run_ids(engine: &mut Engine, prompt: Vec<u32>, params: GenerateParams) -> Run {
    let top_wanted = params.top_logprobs;
    let mut generation = engine
        .generate(prompt, params, CancelFlag::default())
        .unwrap();
    let mut out = Run {
        ids: vec![],
        text: String::new(),
        finish: None,
        usage: Usage::default(),
    };
    for event in engine.stream(&mut generation) {
        match event.unwrap() {
            Event::Prefill { .. } | Event::ToolCall { .. } => {}
            Event::Token { id, text, logprobs } => {
                // Log-probabilities come when asked for, and only then.
                assert_eq!(logprobs.as_ref().map(|l| l.top.len()), top_wanted);
                if let Some(l) = logprobs {
                    assert!(l.logprob <= 0.0 && l.logprob.is_finite());
                }
                out.ids.push(id);
                out.text.push_str(&text);
            }
            Event::Done {
                text,
                finish_reason,
                usage,
            } => {
                out.text.push_str(&text);
                assert!(out.finish.is_none(), "a second Done event");
                out.finish = Some(finish_reason);
                out.usage = usage;
            }
        }
    }
    out
}

fn greedy(max_tokens: usize) -> GenerateParams {
    GenerateParams {
        max_tokens: Some(max_tokens),
        sampling: SamplingParams::greedy(),
        ..GenerateParams::default()
    }
}

#[test]
fn end_of_turn_stops_with_reason_stop_and_counts_usage() {
    let mut engine = engine();
    // llama.cpp's greedy answer to this line ends with <|im_end|> after 8 tokens.
    let line = crate::fixture("greedy.jsonl")
        .into_iter()
        .find(|l| l["messages"][1]["content"] == "What color is the sky?")
        .unwrap();
    let r = run_ids(&mut engine, crate::ids(&line["prompt_ids"]), greedy(64));
    assert_eq!(r.finish, Some(FinishReason::Stop));
    assert_eq!(r.usage.completion_tokens, 8);
    assert_eq!(r.usage.completion_tokens, r.ids.len());
    assert_eq!(r.usage.prompt_tokens, 32);
    assert_eq!(r.usage.total_tokens, 32 + 8);
    assert_eq!(r.text, "The sky is a shade of blue.");
    assert!(!r.text.contains("im_end"));
}

#[test]
fn max_tokens_ends_with_reason_length() {
    let mut engine = engine();
    let with_logprobs = GenerateParams {
        top_logprobs: Some(2),
        ..greedy(5)
    };
    let r = run(&mut engine, "Write a haiku about the sea.", with_logprobs);
    assert_eq!(r.finish, Some(FinishReason::Length));
    assert_eq!(r.ids.len(), 5);
    assert_eq!(r.usage.completion_tokens, 5);
}

#[test]
fn stop_string_ends_generation_and_is_never_emitted() {
    let mut engine = engine();
    // Twice: the second run reuses the cached prompt as the stopped run will, and
    // reused keys and values may round differently from a cold prefill.
    run(&mut engine, "List three fruits.", greedy(64));
    let full = run(&mut engine, "List three fruits.", greedy(64)).text;
    // The answer's third word is the stop string.
    let word = full
        .split_whitespace()
        .nth(2)
        .expect("the answer has three words");
    let cut = full.find(word).unwrap();
    let params = GenerateParams {
        stop: vec![word.into(), "zzz".into()],
        ..greedy(64)
    };
    let r = run(&mut engine, "List three fruits.", params);
    assert_eq!(r.finish, Some(FinishReason::Stop));
    assert_eq!(r.text, full[..cut]);
}

#[test]
fn same_seed_same_output_other_seed_other_output() {
    let mut engine = engine();
    let sampled = |seed| GenerateParams {
        max_tokens: Some(24),
        sampling: SamplingParams {
            temperature: 1.0,
            top_p: 0.95,
            top_k: 50,
            seed: Some(seed),
            ..SamplingParams::default()
        },
        ignore_eos: true,
        ..GenerateParams::default()
    };
    let a = run(&mut engine, "Tell me a story.", sampled(7)).ids;
    let b = run(&mut engine, "Tell me a story.", sampled(7)).ids;
    let c = run(&mut engine, "Tell me a story.", sampled(8)).ids;
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn penalties_and_logit_bias_change_the_choice() {
    let mut engine = engine();
    let plain = run(&mut engine, "Write a haiku about the sea.", greedy(24));
    // Ban the first greedy token: the answer must start differently.
    let banned = GenerateParams {
        sampling: SamplingParams {
            logit_bias: vec![(plain.ids[0], -100.0)],
            ..SamplingParams::greedy()
        },
        ..greedy(24)
    };
    let r = run(&mut engine, "Write a haiku about the sea.", banned);
    assert_ne!(r.ids[0], plain.ids[0]);
    // This greedy answer counts "1. 1\n2. 2…" (8 distinct tokens in 24); a frequency
    // penalty breaks the loop.
    let looping = run(&mut engine, "Count the words in a line.", greedy(24));
    let penalised = GenerateParams {
        sampling: SamplingParams {
            frequency_penalty: 2.0,
            ..SamplingParams::greedy()
        },
        ..greedy(24)
    };
    let r = run(&mut engine, "Count the words in a line.", penalised);
    // The penalised answer leaves the loop (it ends instead), and repeats no token
    // as often as the loop does.
    assert_ne!(r.ids, looping.ids);
    let most_repeated = |ids: &[u32]| {
        let mut counts = std::collections::HashMap::new();
        ids.iter()
            .for_each(|id| *counts.entry(id).or_insert(0) += 1);
        counts.into_values().max().unwrap_or(0)
    };
    assert!(
        most_repeated(&r.ids) < most_repeated(&looping.ids),
        "{:?}",
        r.text
    );
}

#[test]
fn cancel_flag_stops_between_tokens() {
    let mut engine = engine();
    let cancel = CancelFlag::default();
    let prompt = prompt(&engine, "Tell me a story.");
    let mut generation = engine.generate(prompt, greedy(50), cancel.clone()).unwrap();
    let first = generation.next_event(&mut engine).unwrap().unwrap();
    assert!(matches!(first, Event::Token { .. }));
    cancel.cancel();
    assert_eq!(
        generation.next_event(&mut engine),
        Some(Err(Error::Aborted))
    );
    assert_eq!(generation.next_event(&mut engine), None);
    assert_eq!(generation.usage().completion_tokens, 1);
}

#[test]
fn a_prompt_that_cannot_fit_is_rejected_up_front() {
    let engine = engine();
    let window = engine.context_window();
    let prompt = prompt(&engine, "Hi");
    let too_long = GenerateParams {
        max_tokens: Some(window),
        ..GenerateParams::default()
    };
    let err = engine
        .generate(prompt, too_long, CancelFlag::default())
        .err()
        .unwrap();
    assert_eq!(err.code(), "context_length_exceeded");
    let huge_prompt = vec![198; window];
    let err = engine
        .generate(
            huge_prompt,
            GenerateParams::default(),
            CancelFlag::default(),
        )
        .err()
        .unwrap();
    assert_eq!(err.code(), "context_length_exceeded");
}

#[test]
fn bad_parameters_are_invalid_requests() {
    let engine = engine();
    let prompt = prompt(&engine, "Hi");
    let bad = [
        GenerateParams {
            max_tokens: Some(0),
            ..GenerateParams::default()
        },
        GenerateParams {
            stop: vec!["a".into(); 5],
            ..GenerateParams::default()
        },
        GenerateParams {
            sampling: SamplingParams {
                temperature: -1.0,
                ..SamplingParams::default()
            },
            ..GenerateParams::default()
        },
        GenerateParams {
            sampling: SamplingParams {
                logit_bias: vec![(1_000_000, 1.0)],
                ..SamplingParams::default()
            },
            ..GenerateParams::default()
        },
    ];
    for params in bad {
        let err = engine
            .generate(prompt.clone(), params.clone(), CancelFlag::default())
            .err()
            .unwrap_or_else(|| panic!("{params:?} was accepted"));
        assert_eq!(err.code(), "invalid_request", "{params:?}");
    }
    let err = engine
        .generate(vec![], GenerateParams::default(), CancelFlag::default())
        .err()
        .unwrap();
    assert_eq!(err.code(), "invalid_request");
}
