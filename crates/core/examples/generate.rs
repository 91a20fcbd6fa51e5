//! Run the model from a terminal.
//!
//! ```text
//! cargo run --release -p tandem-core --example generate -- \
//!     --model models/SmolLM2-135M-Instruct.Q4_1.gguf --prompt "Write a haiku about the sea."
//! ```
//! `--prompt` is the user's message, rendered by the model's chat template;
//! `--messages JSON` an OpenAI messages array (`--chat-template-kwargs JSON`: extra
//! template variables); `--raw` sends the prompt as plain text
//! (BOS as the model's metadata says, no template: base models take only this).
//! `--json` prints one object with ids, text and speeds (and with `--top-logprobs N`
//! each step's N best `{id, logprob}`); `--tokenize TEXT --json` prints the raw token
//! ids of TEXT.

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
    /// The user's message (with `--raw`, the whole prompt as plain text).
    #[arg(long, required_unless_present_any = ["tokenize", "messages"])]
    prompt: Option<String>,
    /// An OpenAI messages array, as JSON, instead of `--prompt`.
    #[arg(long, conflicts_with_all = ["prompt", "system"])]
    messages: Option<String>,
    /// The prompt as plain text: no chat template.
    #[arg(long, requires = "prompt", conflicts_with = "system")]
    raw: bool,
    /// Extra variables for the chat template, as a JSON object (e.g.
    /// `{"enable_thinking": false}`).
    #[arg(long, conflicts_with = "raw")]
    chat_template_kwargs: Option<String>,
    /// With `--json`, each generated step's N most likely tokens.
    #[arg(long)]
    top_logprobs: Option<usize>,
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
    let mut engine = Engine::open(&args.model)?;

    if let Some(text) = &args.tokenize {
        let ids = engine.tokenizer().encode(text);
        println!("{}", serde_json::json!({ "ids": ids }));
        return Ok(());
    }

    let prompt_ids = prompt(args, &engine)?;
    let params = GenerateParams {
        max_tokens: Some(args.max_tokens),
        sampling: SamplingParams {
            temperature: args.temperature,
            seed: args.seed,
            ..SamplingParams::default()
        },
        ignore_eos: args.ignore_eos,
        top_logprobs: args.top_logprobs,
        ..GenerateParams::default()
    };
    let mut generation = engine.generate(prompt_ids.clone(), params, CancelFlag::default())?;

    let start = Instant::now();
    let mut first_token_at = None;
    let (mut ids, mut text, mut top_logprobs) = (Vec::new(), String::new(), Vec::new());
    let mut finish = FinishReason::Length;
    for event in engine.stream(&mut generation) {
        let delta = match event? {
            Event::Prefill { .. } | Event::ToolCall { .. } => continue,
            Event::Token { id, text, logprobs } => {
                first_token_at.get_or_insert_with(|| start.elapsed());
                ids.push(id);
                if let Some(step) = logprobs {
                    let best = step
                        .top
                        .iter()
                        .map(|(id, logprob)| serde_json::json!({ "id": id, "logprob": logprob }));
                    top_logprobs.push(best.collect::<Vec<_>>());
                }
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
        let mut out = serde_json::json!({
            "prompt_ids": prompt_ids,
            "ids": ids,
            "text": text,
            "finish_reason": finish,
            "prefill_tokens_per_s": prefill_tps,
            "decode_tokens_per_s": decode_tps,
        });
        if args.top_logprobs.is_some() {
            out["top_logprobs"] = top_logprobs.into();
        }
        println!("{out}");
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

/// The prompt's token ids: the raw text, or the messages through the chat template.
fn prompt(args: &Args, engine: &Engine) -> tandem_core::Result<Vec<u32>> {
    let text = args.prompt.as_deref().unwrap_or_default();
    if args.raw {
        return Ok(engine.raw_prompt(text));
    }
    let messages = match &args.messages {
        Some(json) => serde_json::from_str(json).map_err(|e| {
            tandem_core::Error::InvalidRequest(format!("--messages is not a messages array: {e}"))
        })?,
        None => {
            let system = args
                .system
                .iter()
                .map(|s| ChatMessage::new(Role::System, s));
            system
                .chain([ChatMessage::new(Role::User, text)])
                .collect::<Vec<_>>()
        }
    };
    let kwargs = match &args.chat_template_kwargs {
        Some(json) => serde_json::from_str(json).map_err(|e| {
            tandem_core::Error::InvalidRequest(format!(
                "--chat-template-kwargs is not a JSON object: {e}"
            ))
        })?,
        None => Default::default(),
    };
    engine.chat_prompt_with(&messages, &kwargs)
}
