//! Time to first token of a second chat turn with the KV cache of the first reused,
//! against a cold prefill of the same conversation (median of 5 each), as JSON.
//!
//! ```text
//! cargo run --release -p tandem-core --example kv_reuse
//! ```

use std::time::Instant;

use tandem_core::{CancelFlag, ChatMessage, Engine, Event, GenerateParams, Role, SamplingParams};

const MODEL: &str = "models/SmolLM2-135M-Instruct.Q4_1.gguf";
const FIRST: &str = "Write a haiku about the sea.";
const SECOND: &str = "Now one about the mountains.";
const RUNS: usize = 5;

fn main() -> tandem_core::Result<()> {
    let mut engine = Engine::open(MODEL)?;
    let mut cold_engine = Engine::open(MODEL)?;
    let first = vec![ChatMessage::new(Role::User, FIRST)];
    let (mut warm, mut cold) = (Vec::new(), Vec::new());
    let (mut prompt_tokens, mut reused) = (0, 0);
    for _ in 0..RUNS {
        let (answer, _) = reply(&mut engine, &first, 64)?;
        let conversation = [
            first[0].clone(),
            ChatMessage::new(Role::Assistant, answer.trim_end()),
            ChatMessage::new(Role::User, SECOND),
        ];
        let prompt = engine.chat_prompt(&conversation)?;
        prompt_tokens = prompt.len();
        reused = engine.model().reusable_prefix(&prompt);
        warm.push(reply(&mut engine, &conversation, 1)?.1);
        // A prompt of one other token leaves nothing to reuse.
        cold_engine.model_mut().forward(&[0], 0)?;
        cold.push(reply(&mut cold_engine, &conversation, 1)?.1);
    }
    let (warm, cold) = (median(warm), median(cold));
    println!(
        "{}",
        serde_json::json!({
            "prompt_tokens": prompt_tokens,
            "reused_tokens": reused,
            "warm_ttft_ms": warm,
            "cold_ttft_ms": cold,
            "warm_over_cold": warm / cold,
        })
    );
    Ok(())
}

/// Greedy reply text and the milliseconds to its first token.
fn reply(
    engine: &mut Engine,
    messages: &[ChatMessage],
    max_tokens: usize,
) -> tandem_core::Result<(String, f64)> {
    let prompt = engine.chat_prompt(messages)?;
    let params = GenerateParams {
        max_tokens: Some(max_tokens),
        sampling: SamplingParams::greedy(),
        ..GenerateParams::default()
    };
    let mut generation = engine.generate(prompt, params, CancelFlag::default())?;
    let start = Instant::now();
    let (mut text, mut first) = (String::new(), None);
    for event in engine.stream(&mut generation) {
        match event? {
            Event::Token { text: t, .. } | Event::Done { text: t, .. } => {
                first.get_or_insert_with(|| start.elapsed().as_secs_f64() * 1000.0);
                text.push_str(&t);
            }
            Event::Prefill { .. } | Event::ToolCall { .. } => {}
        }
    }
    Ok((text, first.unwrap_or_default()))
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}
