//! The cascade's judge: should a finished local answer be re-asked of the server?
//!
//! Two signals, from the local model's own token log-probabilities (after Gupta et
//! al., "Language Model Cascades: Token-level uncertainty and beyond"):
//! - low confidence: a low quantile of the token probabilities. The mean hides the few
//!   tokens where the model guessed; the 10th percentile sees them.
//! - degeneration: the answer repeats itself (many 4-grams of tokens seen before).

use crate::protocol::TokenLogprob;

/// Quantile of the token probabilities taken as the answer's confidence.
pub const CONFIDENCE_QUANTILE: f32 = 0.10;
/// Below this confidence the answer is escalated.
pub const MIN_CONFIDENCE: f32 = 0.15;
/// Length of the token n-grams compared for repetition.
const NGRAM: usize = 4;
/// Share of n-grams already seen earlier in the answer above which it is degenerate.
const MAX_REPEATED_SHARE: f32 = 0.4;
/// Answers shorter than this (in tokens) are not judged for repetition.
const MIN_TOKENS_FOR_REPETITION: usize = 16;

/// The judge's answer on one local reply.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    /// Re-ask the server.
    pub escalate: bool,
    /// A short human reason, e.g. "low confidence (p10 0.08)".
    pub reason: String,
    /// The [`CONFIDENCE_QUANTILE`] of the token probabilities, 0..1.
    pub confidence: f32,
}

/// Judges a finished local answer from its tokens' log-probabilities.
pub fn judge(steps: &[TokenLogprob]) -> Verdict {
    if steps.is_empty() {
        return Verdict {
            escalate: true,
            reason: "empty local answer".into(),
            confidence: 0.0,
        };
    }
    let confidence = quantile(steps, CONFIDENCE_QUANTILE);
    let repeated = repeated_share(steps);
    let (escalate, reason) = if repeated > MAX_REPEATED_SHARE {
        (
            true,
            format!(
                "degenerate: repeats itself ({:.0}% repeated)",
                repeated * 100.0
            ),
        )
    } else if confidence < MIN_CONFIDENCE {
        (true, format!("low confidence (p10 {confidence:.2})"))
    } else {
        (false, format!("confident (p10 {confidence:.2})"))
    };
    Verdict {
        escalate,
        reason,
        confidence,
    }
}

/// The `q` quantile of the token probabilities (nearest rank); NaN counts as 0.
fn quantile(steps: &[TokenLogprob], q: f32) -> f32 {
    let mut probs: Vec<f32> = steps
        .iter()
        .map(|s| {
            let p = s.logprob.exp();
            if p.is_nan() {
                0.0
            } else {
                p.min(1.0)
            }
        })
        .collect();
    probs.sort_by(f32::total_cmp);
    let rank = ((q * probs.len() as f32).ceil() as usize).clamp(1, probs.len());
    probs[rank - 1]
}

/// Share of the answer's token n-grams that already occurred earlier in it.
fn repeated_share(steps: &[TokenLogprob]) -> f32 {
    if steps.len() < MIN_TOKENS_FOR_REPETITION {
        return 0.0;
    }
    let tokens: Vec<&[u8]> = steps.iter().map(|s| s.bytes.as_slice()).collect();
    let grams: Vec<&[&[u8]]> = tokens.windows(NGRAM).collect();
    let mut seen = std::collections::HashSet::with_capacity(grams.len());
    let repeated = grams.iter().filter(|g| !seen.insert(**g)).count();
    repeated as f32 / grams.len() as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn steps(tokens: &[(&str, f32)]) -> Vec<TokenLogprob> {
        tokens
            .iter()
            .map(|&(t, p)| TokenLogprob {
                token: t.into(),
                logprob: p.ln(),
                bytes: t.as_bytes().to_vec(),
                top_logprobs: vec![],
            })
            .collect()
    }

    fn sentence(p: impl Fn(usize) -> f32) -> Vec<TokenLogprob> {
        let words = "The capital of France is Paris , a city on the Seine known for art food and the Eiffel Tower .";
        let tokens: Vec<(&str, f32)> = words
            .split(' ')
            .enumerate()
            .map(|(k, w)| (w, p(k)))
            .collect();
        steps(&tokens)
    }

    #[test]
    fn confident_answer_stays() {
        let v = judge(&sentence(|k| if k == 3 { 0.3 } else { 0.9 }));
        assert!(!v.escalate, "{v:?}");
        assert!(v.confidence > 0.8);
        assert!(v.reason.starts_with("confident"));
    }

    #[test]
    fn a_few_guessed_tokens_escalate_though_the_mean_is_high() {
        // Mean ≈ 0.85, but three tokens (15%) were near-guesses.
        let v = judge(&sentence(|k| if k % 7 == 2 { 0.05 } else { 0.95 }));
        assert!(v.escalate, "{v:?}");
        assert!(v.reason.starts_with("low confidence"), "{}", v.reason);
    }

    #[test]
    fn repetition_escalates_even_when_confident() {
        let loop_: Vec<(&str, f32)> = ["I", " am", " a", " cat", "."]
            .iter()
            .cycle()
            .take(40)
            .map(|&t| (t, 0.99))
            .collect();
        let v = judge(&steps(&loop_));
        assert!(v.escalate);
        assert!(v.reason.starts_with("degenerate"), "{}", v.reason);
    }

    #[test]
    fn empty_or_odd_input() {
        assert!(judge(&[]).escalate);
        let v = judge(&steps(&[("a", f32::NAN), ("b", 2.0)]));
        assert!(v.escalate && v.confidence == 0.0);
    }
}
