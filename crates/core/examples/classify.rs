//! Score labels for each line of stdin with the local model (no text generated).
//!
//! ```text
//! cargo run --release -p tandem-core --example classify -- \
//!     --labels positive,negative [--json] < texts.txt
//! ```
//! Prints one line per text: the labels best first with their probabilities (or,
//! with `--json`, one object per line).

use std::io::BufRead;
use std::process::ExitCode;

use clap::Parser;
use tandem_core::Engine;

#[derive(Parser)]
#[command(about = "Rank labels for each line of stdin")]
struct Args {
    /// Path of the GGUF file.
    #[arg(long, default_value = "models/SmolLM2-135M-Instruct.Q4_1.gguf")]
    model: String,
    /// 2 to 20 labels, separated by commas.
    #[arg(long, value_delimiter = ',', required = true)]
    labels: Vec<String>,
    /// One JSON object per line: {"text", "labels": [{"label", "probability"}]}.
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
    for line in std::io::stdin().lock().lines() {
        let text = line.map_err(|e| tandem_core::Error::InvalidRequest(e.to_string()))?;
        if text.trim().is_empty() {
            continue;
        }
        let ranked = engine.classify_text(&text, &args.labels)?;
        if args.json {
            let labels: Vec<_> = ranked
                .iter()
                .map(|(label, p)| serde_json::json!({"label": label, "probability": p}))
                .collect();
            println!("{}", serde_json::json!({"text": text, "labels": labels}));
        } else {
            let ranked: Vec<String> = ranked
                .iter()
                .map(|(label, p)| format!("{label} {p:.3}"))
                .collect();
            println!("{}\t{text}", ranked.join("  "));
        }
    }
    Ok(())
}
