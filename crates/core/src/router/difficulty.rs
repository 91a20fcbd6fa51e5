//! The difficulty scorer: logistic regression over [`Features`], weights trained
//! offline (examples/train_router.rs) and shipped in [`super::weights`].

use super::features::{Features, N};
use super::weights::WEIGHTS;

/// Prompts from this many words on are called long in reasons.
const LONG_PROMPT_WORDS: usize = 150;

/// Probability that the query is heavy (better answered by the server), 0..1.
pub fn difficulty(f: &Features) -> f32 {
    sigmoid(dot(&WEIGHTS, &f.values))
}

/// `w · x`, the model's log-odds.
pub fn dot(w: &[f32; N], x: &[f32; N]) -> f32 {
    w.iter().zip(x).map(|(w, x)| w * x).sum()
}

/// The logistic function.
pub fn sigmoid(z: f32) -> f32 {
    1.0 / (1.0 + (-z).exp())
}

/// Human names of what pushes this query towards heavy, strongest first (at most two).
pub fn heavy_signs(f: &Features) -> Vec<&'static str> {
    let mut pushes: Vec<(f32, &'static str)> = (1..N)
        .filter_map(|k| {
            let push = WEIGHTS[k] * f.values[k];
            let long = f.words >= LONG_PROMPT_WORDS;
            label(k)
                .filter(|l| push > 0.3 && (long || *l != "long prompt"))
                .map(|l| (push, l))
        })
        .collect();
    pushes.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut signs: Vec<&'static str> = Vec::new();
    for (_, l) in pushes {
        if !signs.contains(&l) && signs.len() < 2 {
            signs.push(l);
        }
    }
    signs
}

/// What a feature means in a reason, for those that can make a query heavy.
fn label(k: usize) -> Option<&'static str> {
    Some(match super::features::NAMES[k] {
        "length" | "instruction_length" => "long prompt",
        "code_syntax" | "code_words" => "code",
        "write_code" => "code generation",
        "math" => "maths",
        "reasoning" => "multi-step reasoning",
        "several_questions" => "several questions",
        "non_english" => "non-English text",
        "translate" => "translation",
        "long_requested" | "requested_long" => "long answer requested",
        "summarize_long" => "long text to summarise",
        "expert_domain" => "expert domain",
        "constraints" => "many requirements",
        "creative" => "creative writing",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::router::features::NAMES;
    use crate::router::weights;

    #[test]
    fn weights_match_the_features() {
        assert_eq!(weights::NAMES, NAMES);
        assert!(WEIGHTS.iter().all(|w| w.is_finite()));
    }

    #[test]
    fn quick_and_heavy_prompts_apart() {
        let quick = Features::of("Fix the typo: 'teh cat'", None);
        let heavy = Features::of(
            "Write a detailed essay comparing three database architectures, with code examples.",
            None,
        );
        assert!(difficulty(&quick) < 0.5);
        assert!(difficulty(&heavy) > 0.5);
        assert!(!heavy_signs(&heavy).is_empty());
    }
}
