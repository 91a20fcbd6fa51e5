//! Quick tasks on the local model: measure them on tests/data, or run one.
//!
//! ```text
//! cargo run --release -p tandem-core --example tasks -- bench
//! cargo run --release -p tandem-core --example tasks -- run rewrite --tone polite --text "…"
//! ```
//! `bench` prints classify accuracy (sentiment, topic), extract exact-field accuracy,
//! decode tokens/s with and without the JSON constraint, and the constraint's own
//! cost per token (mask + advance, replayed on the constrained runs' tokens).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use clap::{Parser, Subcommand};
use serde_json::{json, Value};
use tandem_core::structured::{Constraint, Schema};
use tandem_core::tasks::{Task, TaskOutput, Tone};
use tandem_core::{CancelFlag, Engine, Error, Event, GenerateParams, Result};

#[derive(Parser)]
#[command(about = "Quick tasks on the local model")]
struct Args {
    /// Path of the GGUF file.
    #[arg(long, default_value = "models/SmolLM2-135M-Instruct.Q4_1.gguf")]
    model: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Accuracy and speed on the labelled data; one JSON summary on the last line.
    Bench {
        /// Folder with sentiment.jsonl, topic.jsonl, extract.jsonl, extract_schema.json.
        #[arg(long, default_value = "tests/data")]
        data: PathBuf,
    },
    /// One task on one text, printed as JSON.
    Run {
        /// classify | summarize | rewrite | smart-replies | extract
        task: String,
        /// The input text.
        #[arg(long)]
        text: String,
        /// Labels for classify (comma-separated).
        #[arg(long, value_delimiter = ',')]
        labels: Vec<String>,
        /// Sentences (summarize) or replies (smart-replies).
        #[arg(long, default_value_t = 3)]
        n: usize,
        /// polite | formal | casual | shorter (rewrite).
        #[arg(long, default_value = "polite")]
        tone: String,
        /// JSON Schema file (extract).
        #[arg(long, default_value = "tests/data/extract_schema.json")]
        schema: PathBuf,
    },
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error [{}]: {e}", e.code());
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> Result<()> {
    let mut engine = Engine::open(&args.model)?;
    match args.command {
        Command::Bench { data } => bench(&mut engine, &data),
        Command::Run {
            task,
            text,
            labels,
            n,
            tone,
            schema,
        } => {
            let task = match task.as_str() {
                "classify" => Task::Classify { labels },
                "summarize" => Task::Summarize { sentences: n },
                "rewrite" => Task::Rewrite {
                    tone: serde_json::from_value::<Tone>(json!(tone))
                        .map_err(|e| Error::InvalidRequest(e.to_string()))?,
                },
                "smart-replies" => Task::SmartReplies { n },
                "extract" => Task::Extract {
                    schema: read_json(&schema)?,
                },
                other => return Err(Error::InvalidRequest(format!("unknown task {other}"))),
            };
            let out = engine.run_task(&task, &text)?;
            println!(
                "{}",
                serde_json::to_string_pretty(&out).expect("serialises")
            );
            Ok(())
        }
    }
}

fn read_json(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::InvalidRequest(format!("cannot read {}: {e}", path.display())))?;
    serde_json::from_str(&text).map_err(|e| Error::InvalidRequest(e.to_string()))
}

fn lines(path: &Path) -> Result<Vec<Value>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::InvalidRequest(format!("cannot read {}: {e}", path.display())))?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).map_err(|e| Error::InvalidRequest(e.to_string())))
        .collect()
}

/// Share of texts whose top label is the expected one.
fn classify_accuracy(engine: &mut Engine, rows: &[Value]) -> Result<f64> {
    let mut labels: Vec<String> = rows
        .iter()
        .filter_map(|r| r["label"].as_str().map(str::to_string))
        .collect();
    labels.sort();
    labels.dedup();
    let task = Task::Classify { labels };
    let mut right = 0;
    for row in rows {
        let text = row["text"].as_str().unwrap_or_default();
        if let TaskOutput::Labels(ranked) = engine.run_task(&task, text)? {
            right += usize::from(Some(ranked[0].0.as_str()) == row["label"].as_str());
        }
    }
    Ok(right as f64 / rows.len() as f64)
}

/// One generation's tokens and its decode time (after the first token).
struct Run {
    ids: Vec<u32>,
    text: String,
    decode_s: f64,
}

fn generate(engine: &mut Engine, task: &Task, text: &str, constrained: bool) -> Result<Run> {
    let request = task.request(text)?;
    let prompt = engine.chat_prompt(&request.messages)?;
    let mut params: GenerateParams = GenerateParams::from_request(&request)?;
    if !constrained {
        params.schema = None;
    }
    let mut generation = engine.generate(prompt, params, CancelFlag::default())?;
    let mut run = Run {
        ids: vec![],
        text: String::new(),
        decode_s: 0.0,
    };
    let mut first: Option<Instant> = None;
    for event in engine.stream(&mut generation) {
        match event? {
            Event::Token { id, text, .. } => {
                first.get_or_insert_with(Instant::now);
                run.ids.push(id);
                run.text.push_str(&text);
            }
            Event::Done { text, .. } => run.text.push_str(&text),
            Event::Prefill { .. } | Event::ToolCall { .. } => {}
        }
    }
    run.decode_s = first.map_or(0.0, |t| t.elapsed().as_secs_f64());
    Ok(run)
}

/// Tokens per second after the first token, over `runs`.
fn decode_speed(runs: &[Run]) -> f64 {
    let tokens: usize = runs.iter().map(|r| r.ids.len().saturating_sub(1)).sum();
    tokens as f64 / runs.iter().map(|r| r.decode_s).sum::<f64>()
}

/// Milliseconds per token that the constraint alone costs (mask + advance, from a
/// cold cache), replaying the tokens of `runs`.
fn constraint_ms(engine: &Engine, schema: &Arc<Schema>, runs: &[Run], budget: usize) -> f64 {
    let mut logits = vec![0.0f32; engine.tokenizer().vocab_size()];
    let started = Instant::now();
    let mut tokens = 0;
    for run in runs {
        let mut constraint = Constraint::new(schema.clone());
        for (i, &id) in run.ids.iter().enumerate() {
            constraint
                .mask_logits(
                    engine.token_trie(),
                    engine.tokenizer(),
                    &mut logits,
                    budget - i,
                )
                .expect("a replayed token sequence has allowed tokens");
            constraint.advance(engine.tokenizer().piece(id));
            tokens += 1;
        }
    }
    started.elapsed().as_secs_f64() * 1000.0 / tokens as f64
}

fn bench(engine: &mut Engine, data: &Path) -> Result<()> {
    let t = Instant::now();
    let sentiment = classify_accuracy(engine, &lines(&data.join("sentiment.jsonl"))?)?;
    let topic = classify_accuracy(engine, &lines(&data.join("topic.jsonl"))?)?;
    let classify_s = t.elapsed().as_secs_f64();
    println!("classify accuracy: sentiment {sentiment:.2}, topic {topic:.2} ({classify_s:.1} s)");

    let schema_json = read_json(&data.join("extract_schema.json"))?;
    let schema = Arc::new(Schema::compile(&schema_json)?);
    let task = Task::Extract {
        schema: schema_json,
    };
    let (mut fields, mut right, mut valid) = (0, 0, 0);
    let (mut json_runs, mut free_runs) = (vec![], vec![]);
    let rows = lines(&data.join("extract.jsonl"))?;
    for row in &rows {
        let text = row["text"].as_str().unwrap_or_default();
        let run = generate(engine, &task, text, true)?;
        let got = task.parse(&run.text);
        valid += usize::from(got.is_ok());
        let got = match got {
            Ok(TaskOutput::Json(v)) => v,
            _ => Value::Null,
        };
        for (name, want) in row["expected"].as_object().into_iter().flatten() {
            fields += 1;
            right += usize::from(same(&got[name], want));
        }
        json_runs.push(run);
        free_runs.push(generate(engine, &task, text, false)?);
    }
    let field_accuracy = right as f64 / fields as f64;
    println!(
        "extract: exact fields {field_accuracy:.2} ({right}/{fields}), valid JSON {valid}/{}",
        rows.len()
    );
    let with = decode_speed(&json_runs);
    let without = decode_speed(&free_runs);
    let budget = task.request("")?.max_tokens.unwrap_or(usize::MAX);
    let per_token = constraint_ms(engine, &schema, &json_runs, budget);
    let share = per_token / (1000.0 / with);
    println!(
        "decode: {without:.1} tok/s free, {with:.1} tok/s JSON-constrained; \
         constraint {per_token:.3} ms/token ({:.1}% of a decode step)",
        share * 100.0
    );
    println!(
        "{}",
        json!({
            "classify_accuracy": {"sentiment": sentiment, "topic": topic},
            "extract_field_accuracy": field_accuracy,
            "extract_valid": valid, "extract_texts": rows.len(),
            "decode_tok_s": {"free": without, "json": with},
            "constraint_ms_per_token": per_token,
        })
    );
    Ok(())
}

/// Whether an extracted field equals the expected one (strings trimmed, numbers by value).
fn same(got: &Value, want: &Value) -> bool {
    match (got, want) {
        (Value::String(a), Value::String(b)) => a.trim() == b.trim(),
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        _ => false,
    }
}
