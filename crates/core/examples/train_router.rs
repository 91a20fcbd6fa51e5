//! Trains the router's difficulty scorer offline and writes its weights.
//!
//! ```text
//! cargo run --release -p tandem-core --example train_router
//! ```
//! Reads `crates/core/data/router_train.jsonl` (`{prompt, expect: local|remote,
//! task?}`), reports the accuracy on prompts the model did not see (5-fold
//! cross-validation), then fits on all of them and writes `src/router/weights.rs`.
//! `--check` only reports, without writing.

use std::fmt::Write as _;
use std::process::ExitCode;

use serde::Deserialize;
use tandem_core::router::difficulty::{dot, sigmoid};
use tandem_core::router::features::{Features, N, NAMES};
use tandem_core::router::Task;

/// L2 penalty on the weights (not the bias).
const L2: f32 = 0.002;
/// Gradient-descent steps and step size.
const STEPS: usize = 6000;
const RATE: f32 = 0.5;
/// Folds of the cross-validation that reports accuracy on unseen prompts.
const FOLDS: usize = 5;

#[derive(Deserialize)]
struct Line {
    prompt: String,
    expect: String,
    task: Option<Task>,
}

struct Example {
    x: [f32; N],
    heavy: bool,
    prompt: String,
}

fn main() -> ExitCode {
    let dir = env!("CARGO_MANIFEST_DIR");
    let check = std::env::args().any(|a| a == "--check");
    let data = match std::fs::read_to_string(format!("{dir}/data/router_train.jsonl")) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("cannot read the training data: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut examples = Vec::new();
    for (n, line) in data
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        match serde_json::from_str::<Line>(line) {
            Ok(l) => examples.push(Example {
                x: Features::of(&l.prompt, l.task).values,
                heavy: l.expect == "remote",
                prompt: l.prompt,
            }),
            Err(e) => {
                eprintln!("line {}: {e}", n + 1);
                return ExitCode::FAILURE;
            }
        }
    }
    // Five folds: each prompt is judged by weights fitted without it.
    let mut judged: Vec<(&Example, [f32; N])> = Vec::new();
    for fold in 0..FOLDS {
        let (held, train): (Vec<_>, Vec<_>) =
            (examples.iter().enumerate()).partition(|(k, _)| k % FOLDS == fold);
        let train: Vec<&Example> = train.into_iter().map(|(_, e)| e).collect();
        let w = fit(&train);
        judged.extend(held.into_iter().map(|(_, e)| (e, w)));
    }
    report("held out (5-fold)", &judged, true);
    let all: Vec<&Example> = examples.iter().collect();
    let w = fit(&all);
    let fitted: Vec<(&Example, [f32; N])> = all.iter().map(|e| (*e, w)).collect();
    report("all, final weights", &fitted, false);
    if check {
        return ExitCode::SUCCESS;
    }
    let path = format!("{dir}/src/router/weights.rs");
    match std::fs::write(&path, source(&w, all.len())) {
        Ok(()) => {
            println!("wrote {path}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("cannot write {path}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Class-balanced logistic regression by full-batch gradient descent.
fn fit(examples: &[&Example]) -> [f32; N] {
    let heavy = examples.iter().filter(|e| e.heavy).count().max(1) as f32;
    let light = (examples.len() as f32 - heavy).max(1.0);
    let mut w = [0.0f32; N];
    for _ in 0..STEPS {
        let mut grad = [0.0f32; N];
        for e in examples {
            let (y, weight) = if e.heavy {
                (1.0, 0.5 / heavy)
            } else {
                (0.0, 0.5 / light)
            };
            let err = (sigmoid(dot(&w, &e.x)) - y) * weight;
            for (g, x) in grad.iter_mut().zip(&e.x) {
                *g += err * x;
            }
        }
        for k in 0..N {
            let penalty = if k == 0 { 0.0 } else { L2 * w[k] };
            w[k] -= RATE * (grad[k] + penalty);
        }
    }
    w
}

/// Accuracy per class of each example under its weights; with `misses`, the prompts
/// it gets wrong.
fn report(name: &str, judged: &[(&Example, [f32; N])], misses: bool) {
    let mut right = [0usize; 2];
    let mut total = [0usize; 2];
    for (e, w) in judged {
        let said = sigmoid(dot(w, &e.x)) >= 0.5;
        let class = usize::from(e.heavy);
        total[class] += 1;
        if said == e.heavy {
            right[class] += 1;
        } else if misses {
            println!(
                "  miss ({}): {}",
                if e.heavy { "remote" } else { "local" },
                e.prompt
            );
        }
    }
    println!(
        "{name}: local {}/{} ({:.1}%), remote {}/{} ({:.1}%)",
        right[0],
        total[0],
        100.0 * right[0] as f32 / total[0].max(1) as f32,
        right[1],
        total[1],
        100.0 * right[1] as f32 / total[1].max(1) as f32,
    );
}

/// The generated `weights.rs`.
fn source(w: &[f32; N], prompts: usize) -> String {
    let mut s = String::new();
    s.push_str(
        "//! Generated by `cargo run --release -p tandem-core --example train_router`; do not edit.\n",
    );
    let _ = writeln!(
        s,
        "//! Logistic-regression weights of the difficulty scorer, fitted on the {prompts} prompts of\n\
         //! data/router_train.jsonl, in `features::NAMES` order.\n"
    );
    s.push_str("/// Feature names the weights were trained for.\n");
    let _ = writeln!(s, "pub const NAMES: [&str; {N}] = [");
    for n in NAMES {
        let _ = writeln!(s, "    \"{n}\",");
    }
    s.push_str("];\n\n/// One weight per feature; the first is the bias.\n");
    let _ = writeln!(s, "pub const WEIGHTS: [f32; {N}] = [");
    // Comments aligned as rustfmt aligns them.
    let values: Vec<String> = w.iter().map(|w| format!("{w:.4},")).collect();
    let width = values.iter().map(String::len).max().unwrap_or(0);
    for (n, v) in NAMES.iter().zip(values) {
        let _ = writeln!(s, "    {v:<width$} // {n}");
    }
    s.push_str("];\n");
    s
}
