//! Embed each line of stdin with a local sentence encoder, or measure its speed.
//!
//! ```text
//! cargo run --release -p tandem-core --example embed -- \
//!     --model models/all-MiniLM-L6-v2 [--json] [--truncate] < texts.txt
//! RAYON_NUM_THREADS=1 cargo run --release -p tandem-core --example embed -- \
//!     --model models/all-MiniLM-L6-v2 --bench 1000
//! ```
//! `--model` is a sentence-transformers folder (model.safetensors, tokenizer.json,
//! config.json, 1_Pooling/config.json, sentence_bert_config.json) or a GGUF file.
//! All lines are embedded in one call (padded batches of similar lengths); each prints
//! as a line: its token count, the vector's first values and the text, or with
//! `--json` the object {"ids", "embedding"}. `--bench N` embeds N generated sentences
//! of about 12 tokens three times and prints the median sentences per second;
//! `--sentences N` prints them.

use std::io::Read;
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use tandem_core::{Encoder, Error, Result};

#[derive(Parser)]
#[command(about = "Embed each line of stdin with a sentence encoder")]
struct Args {
    /// The model folder (safetensors + tokenizer.json + configs) or a GGUF file.
    #[arg(long, default_value = "models/all-MiniLM-L6-v2")]
    model: String,
    /// One JSON object per line: {"ids", "embedding"}.
    #[arg(long)]
    json: bool,
    /// Cut inputs longer than the model's window instead of refusing them.
    #[arg(long)]
    truncate: bool,
    /// Embed N generated ~12-token sentences (three runs) and print sentences/s.
    #[arg(long, value_name = "N")]
    bench: Option<usize>,
    /// Print the N sentences `--bench N` embeds, one per line (for the browser's
    /// bench to embed the same ones).
    #[arg(long, value_name = "N")]
    sentences: Option<usize>,
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

fn io(e: std::io::Error) -> Error {
    Error::InvalidRequest(e.to_string())
}

fn run(args: &Args) -> Result<()> {
    if let Some(n) = args.sentences {
        sentences(n).iter().for_each(|s| println!("{s}"));
        return Ok(());
    }
    let encoder = Encoder::open(&args.model)?;
    if let Some(n) = args.bench {
        return bench(&encoder, n);
    }
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).map_err(io)?;
    let texts: Vec<&str> = input.lines().collect();
    if texts.is_empty() {
        return Ok(());
    }
    let embeddings = encoder.embed(&texts, args.truncate)?;
    for (text, e) in texts.iter().zip(&embeddings.data) {
        if args.json {
            println!(
                "{}",
                serde_json::json!({"ids": e.ids, "embedding": e.vector})
            );
        } else {
            let head: Vec<String> = e
                .vector
                .iter()
                .take(4)
                .map(|x| format!("{x:+.4}"))
                .collect();
            let cut = if e.truncated { " (truncated)" } else { "" };
            println!(
                "{:>3} tokens{cut}  [{} …]  {text}",
                e.ids.len(),
                head.join(" ")
            );
        }
    }
    Ok(())
}

/// `n` sentences of about 12 tokens ([CLS] and [SEP] included), all different.
fn sentences(n: usize) -> Vec<String> {
    const SUBJECTS: [&str; 8] = [
        "the cat",
        "a doctor",
        "my neighbour",
        "the old train",
        "our team",
        "a small bird",
        "the teacher",
        "his sister",
    ];
    const VERBS: [&str; 8] = [
        "found", "painted", "watched", "carried", "sold", "cleaned", "opened", "forgot",
    ];
    const OBJECTS: [&str; 8] = [
        "a red box",
        "the letter",
        "two chairs",
        "the window",
        "an apple",
        "the garden gate",
        "some books",
        "a blue car",
    ];
    const PLACES: [&str; 8] = [
        "in the park",
        "at home",
        "near the river",
        "before lunch",
        "on monday",
        "after school",
        "in the city",
        "by the sea",
    ];
    (0..n)
        .map(|i| {
            let pick = |table: &[&'static str; 8], shift: usize| table[(i >> shift) % 8];
            format!(
                "{} {} {} {}.",
                pick(&SUBJECTS, 0),
                pick(&VERBS, 3),
                pick(&OBJECTS, 6),
                pick(&PLACES, 9)
            )
        })
        .collect()
}

fn bench(encoder: &Encoder, n: usize) -> Result<()> {
    let texts = sentences(n.max(1));
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let mut rates = Vec::new();
    let mut tokens = 0;
    for _ in 0..3 {
        let start = Instant::now();
        let e = encoder.embed(&refs, false)?;
        rates.push(refs.len() as f64 / start.elapsed().as_secs_f64());
        tokens = e.tokens();
    }
    rates.sort_by(f64::total_cmp);
    let threads = std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| "all".into());
    println!(
        "{} sentences of {:.1} tokens on average, threads {threads}: {:.0} sentences/s (median of 3: {})",
        refs.len(),
        tokens as f64 / refs.len() as f64,
        rates[1],
        rates.iter().map(|r| format!("{r:.0}")).collect::<Vec<_>>().join(", ")
    );
    Ok(())
}
