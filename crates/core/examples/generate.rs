//! Run the model from a terminal.
//!
//! ```text
//! cargo run --release -p tandem-core --example generate -- \
//!     --model models/SmolLM2-135M-Instruct.Q4_1.gguf --prompt "Write a haiku about the sea."
//! ```
//! `--json` prints one object with ids, text and speeds; `--tokenize TEXT --json`
//! prints the raw token ids of TEXT.

use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use tandem_core::{
    CancelFlag, ChatMessage, Engine, Event, FinishReason, GenerateParams, Role, SamplingParams,
};

#[derive(Parser)]
#[command(about = "Chat with a GGUF model through tandem-core")]
struct Args {
    /// Path of the GGUF file.
    #[arg(long, default_value = "models/SmolLM2-135M-Instruct.Q4_1.gguf")]
    model: String,
    /// The user's message.
    #[arg(long, required_unless_present = "tokenize")]
    prompt: Option<String>,
    /// A system message (otherwise the template's default).
    #[arg(long)]
    system: Option<String>,
    /// Most tokens to generate.
    #[arg(long, default_value_t = 256)]
    max_tokens: usize,
    /// 0 is greedy.
    #[arg(long, default_value_t = 0.0)]
    temperature: f32,
    /// Seed for sampling.
    #[arg(long)]
    seed: Option<u64>,
    /// Keep generating past end-of-turn (for benchmarks).
    #[arg(long)]
    ignore_eos: bool,
    /// Print the raw token ids of this text instead of chatting.
    #[arg(long)]
    tokenize: Option<String>,
    /// Print one JSON object instead of streaming text.
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error [{}]: {e}", e.code());
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> tandem_core::Result<()> {
    let bytes = std::fs::read(&args.model).map_err(|e| {
        tandem_core::Error::ModelInvalid(format!("cannot read {}: {e}", args.model))
    })?;
    let mut engine = Engine::load(&bytes)?;
    drop(bytes);

    if let Some(text) = &args.tokenize {
        let ids = engine.tokenizer().encode(text);
        println!("{}", serde_json::json!({ "ids": ids }));
        return Ok(());
    }

    let mut messages = Vec::new();
    if let Some(system) = &args.system {
        messages.push(ChatMessage::new(Role::System, system));
    }
    messages.push(ChatMessage::new(
        Role::User,
        args.prompt.as_deref().unwrap_or_default(),
    ));
    let prompt_ids = engine.chat_prompt(&messages)?;
    let params = GenerateParams {
        max_tokens: Some(args.max_tokens),
        sampling: SamplingParams {
            temperature: args.temperature,
            seed: args.seed,
            ..SamplingParams::default()
        },
        ignore_eos: args.ignore_eos,
        ..GenerateParams::default()
    };
    let mut generation = engine.generate(prompt_ids.clone(), params, CancelFlag::default())?;

    let start = Instant::now();
    let mut first_token_at = None;
    let (mut ids, mut text) = (Vec::new(), String::new());
    let mut finish = FinishReason::Length;
    for event in engine.stream(&mut generation) {
        let delta = match event? {
            Event::Prefill { .. } => continue,
            Event::Token { id, text, .. } => {
                first_token_at.get_or_insert_with(|| start.elapsed());
                ids.push(id);
                text
            }
            Event::Done {
                text,
                finish_reason,
                ..
            } => {
                finish = finish_reason;
                text
            }
        };
        if !args.json {
            print!("{delta}");
            std::io::stdout().flush().ok();
        }
        text.push_str(&delta);
    }
    let total = start.elapsed().as_secs_f64();
    let first = first_token_at.map_or(total, |t| t.as_secs_f64());
    let prefill_tps = prompt_ids.len() as f64 / first;
    let decode_tps = (ids.len().saturating_sub(1)) as f64 / (total - first).max(1e-9);
    if args.json {
        let finish = serde_json::to_value(finish).expect("finish reason serialises");
        println!(
            "{}",
            serde_json::json!({
                "prompt_ids": prompt_ids,
                "ids": ids,
                "text": text,
                "finish_reason": finish,
                "prefill_tokens_per_s": prefill_tps,
                "decode_tokens_per_s": decode_tps,
            })
        );
    } else {
        println!();
        eprintln!(
            "[{} prompt tokens, {} generated, prefill {prefill_tps:.1} tok/s, decode {decode_tps:.1} tok/s]",
            prompt_ids.len(),
            ids.len()
        );
    }
    Ok(())
}
