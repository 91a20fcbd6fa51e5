//! The router from a terminal: `auto` mode, a ready local model and a reachable
//! server of typical speed.
//!
//! ```text
//! cargo run --release -p tandem-core --example route -- [--model PATH] < prompts.jsonl
//! cargo run --release -p tandem-core --example route -- --eval tests/fixtures/routing_dev.jsonl
//! ```
//! Reads lines `{"prompt": …, "max_tokens"?: …, "task"?: …}` and prints one line each,
//! `{"target": "local"|"remote", "reason": …}`. With `--model`, prompt tokens are
//! counted with the model's tokenizer and chat template; otherwise estimated.
//! `--eval FILE` reads lines that also carry `"expect"` and prints the accuracy per
//! class, the prompts routed wrongly and the median decision time.

use std::io::{Read, Write};
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use serde::Deserialize;
use tandem_core::router::{decide, Environment, LocalEnv, Policy, Query, RemoteEnv, Target, Task};
use tandem_core::{ChatMessage, Engine, Role};

#[derive(Parser)]
#[command(about = "Route prompts with tandem's router (auto mode)")]
struct Args {
    /// A GGUF model whose tokenizer counts the prompt tokens.
    #[arg(long)]
    model: Option<String>,
    /// Evaluate on a JSONL file with `expect` labels instead of routing stdin.
    #[arg(long)]
    eval: Option<String>,
}

#[derive(Deserialize)]
struct Line {
    prompt: String,
    max_tokens: Option<usize>,
    task: Option<Task>,
    expect: Option<Target>,
}

/// Decisions timed per prompt (the median of these is reported).
const TIMED_RUNS: usize = 200;

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> Result<(), String> {
    let engine = match &args.model {
        Some(path) => Some(Engine::open(path).map_err(|e| e.to_string())?),
        None => None,
    };
    let input = match &args.eval {
        Some(path) => std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?,
        None => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .map_err(|e| e.to_string())?;
            s
        }
    };
    let env = Environment {
        local: Some(LocalEnv {
            context_window: engine
                .as_ref()
                .map_or(LocalEnv::default().context_window, Engine::context_window),
            ..LocalEnv::default()
        }),
        remote: Some(RemoteEnv::default()),
    };
    let policy = Policy::default();
    let mut times = Vec::new();
    let mut tally = [[0usize; 2]; 2]; // [expected local|remote][right, total]
    for (n, text) in input
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let line: Line = serde_json::from_str(text).map_err(|e| format!("line {}: {e}", n + 1))?;
        let messages = [ChatMessage::new(Role::User, line.prompt.as_str())];
        let prompt_tokens = match &engine {
            Some(engine) => Some(
                engine
                    .chat_prompt(&messages)
                    .map_err(|e| e.to_string())?
                    .len(),
            ),
            None => None,
        };
        let query = Query {
            messages: &messages,
            prompt_tokens,
            max_tokens: line.max_tokens,
            task: line.task,
            ..Query::default()
        };
        let decision = decide(&query, &env, &policy).map_err(|e| e.to_string())?;
        let Some(expect) = line.expect.filter(|_| args.eval.is_some()) else {
            let out = serde_json::json!({"target": decision.target, "reason": decision.reason});
            if writeln!(std::io::stdout(), "{out}").is_err() {
                return Ok(()); // the reader went away
            }
            continue;
        };
        let start = Instant::now();
        for _ in 0..TIMED_RUNS {
            std::hint::black_box(decide(std::hint::black_box(&query), &env, &policy).ok());
        }
        times.push(start.elapsed().as_secs_f64() * 1e6 / TIMED_RUNS as f64);
        let class = usize::from(expect == Target::Remote);
        tally[class][1] += 1;
        if decision.target == expect {
            tally[class][0] += 1;
        } else {
            println!(
                "  miss (expected {expect}): {} — {}",
                line.prompt, decision.reason
            );
        }
    }
    if args.eval.is_some() {
        for (class, [right, total]) in ["local", "remote"].iter().zip(tally) {
            println!(
                "router accuracy {class}: {right}/{total} ({:.1}%)",
                100.0 * right as f64 / total.max(1) as f64
            );
        }
        times.sort_by(f64::total_cmp);
        let median = times.get(times.len() / 2).copied().unwrap_or(0.0);
        println!("router decision time: median {median:.1} µs");
    }
    Ok(())
}
