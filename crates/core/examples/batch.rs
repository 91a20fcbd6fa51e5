//! Decode throughput of generations stepped together (continuous batching) against
//! one generation alone on the engine's own cache: aggregate tokens per second over
//! `STEPS` decode steps after the prompts are read, median of `RUNS` (interleaved),
//! as JSON.
//!
//! ```text
//! cargo run --release -p tandem-core --example batch [-- SIZES...]   (default 1 4 16)
//! ```

use std::time::Instant;

use tandem_core::{
    CancelFlag, ChatMessage, Engine, Event, GenerateParams, Generation, Role, SamplingParams,
};

const MODEL: &str = "models/SmolLM2-135M-Instruct.Q4_1.gguf";
const SIZES: [usize; 3] = [1, 4, 16];
const STEPS: usize = 64;
const RUNS: usize = 5;

fn main() -> tandem_core::Result<()> {
    let mut engine = Engine::open(MODEL)?;
    let mut sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    if sizes.is_empty() {
        sizes = SIZES.to_vec();
    }
    let mut alone = Vec::new();
    let mut batched = vec![Vec::new(); sizes.len()];
    for _ in 0..RUNS {
        alone.push(run_alone(&mut engine)?);
        for (times, &n) in batched.iter_mut().zip(&sizes) {
            times.push(run_batched(&mut engine, n)?);
        }
    }
    let alone = median(alone);
    let sizes: Vec<_> = sizes
        .iter()
        .zip(batched)
        .map(|(&n, times)| {
            let rate = median(times);
            serde_json::json!({"sequences": n, "tokens_per_s": rate, "over_alone": rate / alone})
        })
        .collect();
    println!(
        "{}",
        serde_json::json!({"steps": STEPS, "alone_tokens_per_s": alone, "batched": sizes})
    );
    Ok(())
}

/// A generation of `STEPS + 1` tokens (the first comes with the prompt) from the
/// `i`th of a few prompts, past any end of turn.
fn generation(engine: &Engine, i: usize) -> tandem_core::Result<Generation> {
    let topics = ["the sea", "a mountain", "the city at night", "a small cat"];
    let text = format!("Write a long story about {}.", topics[i % topics.len()]);
    let prompt = engine.chat_prompt(&[ChatMessage::new(Role::User, text)])?;
    let params = GenerateParams {
        max_tokens: Some(STEPS + 1),
        sampling: SamplingParams::greedy(),
        ignore_eos: true,
        ..GenerateParams::default()
    };
    engine.generate(prompt, params, CancelFlag::default())
}

/// Tokens per second of one generation's decode steps, alone.
fn run_alone(engine: &mut Engine) -> tandem_core::Result<f64> {
    engine.model_mut().forward(&[0], 0)?;
    let mut generation = generation(engine, 0)?;
    while !matches!(generation.next_event(engine), Some(Ok(Event::Token { .. }))) {}
    let start = Instant::now();
    for _ in 0..STEPS {
        generation.next_event(engine).transpose()?;
    }
    Ok(STEPS as f64 / start.elapsed().as_secs_f64())
}

/// Aggregate tokens per second of `n` generations' decode steps, stepped together.
fn run_batched(engine: &mut Engine, n: usize) -> tandem_core::Result<f64> {
    let mut generations = (0..n)
        .map(|i| Ok(generation(engine, i)?.with_sequence(engine.model().new_sequence())))
        .collect::<tandem_core::Result<Vec<_>>>()?;
    let mut set: Vec<&mut Generation> = generations.iter_mut().collect();
    // Until each has read its prompt and made its first token.
    while engine
        .step_generations(&mut set)
        .into_iter()
        .any(|e| matches!(e, Some(Ok(Event::Prefill { .. }))))
    {}
    let start = Instant::now();
    for _ in 0..STEPS {
        for event in engine.step_generations(&mut set) {
            event.transpose()?;
        }
    }
    Ok((n * STEPS) as f64 / start.elapsed().as_secs_f64())
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}
