//! Choosing the next token from logits: greedy at temperature 0, otherwise
//! temperature, top-k, top-p and a seeded RNG; penalties and logit_bias first.

use std::collections::HashMap;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::error::{Error, Result};

/// How to pick tokens. Defaults are OpenAI's (temperature 1, no penalties).
#[derive(Debug, Clone, PartialEq)]
pub struct SamplingParams {
    /// 0 is greedy; higher is more random (0..=2).
    pub temperature: f32,
    /// Nucleus sampling: keep the smallest set of tokens whose probability reaches this.
    pub top_p: f32,
    /// Keep only the k most likely tokens; 0 keeps all.
    pub top_k: usize,
    /// Seed of the random generator; the same seed gives the same output.
    pub seed: Option<u64>,
    /// Divides positive (multiplies negative) logits of tokens already generated; 1 is off.
    pub repetition_penalty: f32,
    /// Subtracted from a logit once per earlier occurrence of the token (-2..=2).
    pub frequency_penalty: f32,
    /// Subtracted from a logit if the token occurred at all (-2..=2).
    pub presence_penalty: f32,
    /// Added to the logits of the given token ids (-100..=100).
    pub logit_bias: Vec<(u32, f32)>,
}

impl Default for SamplingParams {
    fn default() -> Self {
        SamplingParams {
            temperature: 1.0,
            top_p: 1.0,
            top_k: 0,
            seed: None,
            repetition_penalty: 1.0,
            frequency_penalty: 0.0,
            presence_penalty: 0.0,
            logit_bias: Vec::new(),
        }
    }
}

impl SamplingParams {
    /// Greedy decoding: always the most likely token.
    pub fn greedy() -> Self {
        SamplingParams {
            temperature: 0.0,
            ..Self::default()
        }
    }

    /// Check every value against its range; `vocab_size` bounds logit_bias ids.
    pub fn validate(&self, vocab_size: usize) -> Result<()> {
        let check = |ok: bool, what: &str| {
            if ok {
                Ok(())
            } else {
                Err(Error::InvalidRequest(what.to_string()))
            }
        };
        check(
            (0.0..=2.0).contains(&self.temperature),
            "temperature must be between 0 and 2",
        )?;
        check(
            self.top_p > 0.0 && self.top_p <= 1.0,
            "top_p must be greater than 0 and at most 1",
        )?;
        check(
            self.repetition_penalty > 0.0 && self.repetition_penalty.is_finite(),
            "repetition_penalty must be a positive number",
        )?;
        check(
            (-2.0..=2.0).contains(&self.frequency_penalty),
            "frequency_penalty must be between -2 and 2",
        )?;
        check(
            (-2.0..=2.0).contains(&self.presence_penalty),
            "presence_penalty must be between -2 and 2",
        )?;
        for &(id, bias) in &self.logit_bias {
            check(
                (id as usize) < vocab_size,
                &format!("logit_bias names token {id}, outside the vocabulary of {vocab_size}"),
            )?;
            check(
                (-100.0..=100.0).contains(&bias),
                "logit_bias values must be between -100 and 100",
            )?;
        }
        Ok(())
    }
}

/// Picks tokens one after another, remembering what it picked for the penalties.
pub struct Sampler {
    params: SamplingParams,
    rng: StdRng,
    counts: HashMap<u32, u32>,
}

impl Sampler {
    /// A sampler for `params` (validated by the caller).
    pub fn new(params: SamplingParams) -> Self {
        let rng = match params.seed {
            Some(seed) => StdRng::seed_from_u64(seed),
            None => StdRng::from_os_rng(),
        };
        Sampler {
            params,
            rng,
            counts: HashMap::new(),
        }
    }

    /// Choose the next token from `logits` (modified in place by penalties and bias)
    /// and remember it.
    pub fn sample(&mut self, logits: &mut [f32]) -> u32 {
        self.adjust(logits);
        let token = if self.params.temperature == 0.0 {
            argmax(logits)
        } else {
            self.draw(logits)
        };
        *self.counts.entry(token).or_default() += 1;
        token
    }

    fn adjust(&self, logits: &mut [f32]) {
        let p = &self.params;
        for (&token, &count) in &self.counts {
            let Some(l) = logits.get_mut(token as usize) else {
                continue;
            };
            if p.repetition_penalty != 1.0 {
                *l = if *l > 0.0 {
                    *l / p.repetition_penalty
                } else {
                    *l * p.repetition_penalty
                };
            }
            *l -= count as f32 * p.frequency_penalty + p.presence_penalty;
        }
        for &(token, bias) in &p.logit_bias {
            if let Some(l) = logits.get_mut(token as usize) {
                *l += bias;
            }
        }
    }

    fn draw(&mut self, logits: &[f32]) -> u32 {
        let p = &self.params;
        let mut candidates: Vec<(u32, f32)> = logits
            .iter()
            .enumerate()
            .filter(|(_, l)| l.is_finite())
            .map(|(i, &l)| (i as u32, l))
            .collect();
        if candidates.is_empty() {
            return argmax(logits);
        }
        let by_logit_desc = |a: &(u32, f32), b: &(u32, f32)| b.1.total_cmp(&a.1);
        if p.top_k > 0 && p.top_k < candidates.len() {
            candidates.select_nth_unstable_by(p.top_k - 1, by_logit_desc);
            candidates.truncate(p.top_k);
        }
        candidates.sort_unstable_by(by_logit_desc);
        let max = candidates[0].1;
        let mut total = 0.0f32;
        for c in candidates.iter_mut() {
            c.1 = ((c.1 - max) / p.temperature).exp();
            total += c.1;
        }
        if p.top_p < 1.0 {
            let mut kept = 0.0;
            let mut n = 0;
            for c in &candidates {
                kept += c.1;
                n += 1;
                if kept >= p.top_p * total {
                    break;
                }
            }
            candidates.truncate(n);
            total = kept;
        }
        let mut r = self.rng.random::<f32>() * total;
        for &(id, weight) in &candidates {
            if r < weight {
                return id;
            }
            r -= weight;
        }
        candidates[candidates.len() - 1].0
    }
}

/// Index of the largest logit (the first one on ties).
pub fn argmax(logits: &[f32]) -> u32 {
    let mut best = 0;
    for (i, &l) in logits.iter().enumerate() {
        if l > logits[best] {
            best = i;
        }
    }
    best as u32
}

/// Natural-log probability of `token` under the softmax of `logits`.
pub fn log_prob(logits: &[f32], token: u32) -> f32 {
    logits[token as usize] - log_sum_exp(logits)
}

/// `ln(sum(exp(logits)))`, computed without overflow.
fn log_sum_exp(logits: &[f32]) -> f32 {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    max + logits.iter().map(|l| (l - max).exp()).sum::<f32>().ln()
}

/// A generated token's log-probability (after penalties and bias, before
/// temperature) and the most likely tokens with theirs, best first.
#[derive(Debug, Clone, PartialEq)]
pub struct StepLogprobs {
    /// The token's.
    pub logprob: f32,
    /// The most likely tokens (ids) with theirs, as many as asked for.
    pub top: Vec<(u32, f32)>,
}

/// `token`'s natural-log probability under the softmax of `logits`, and the `n`
/// most likely tokens with theirs, best first (ties by lower id).
pub fn log_probs(logits: &[f32], token: u32, n: usize) -> StepLogprobs {
    let log_sum = log_sum_exp(logits);
    let mut best: Vec<u32> = Vec::with_capacity(n + 1);
    for id in 0..logits.len() as u32 {
        let at = best.partition_point(|&b| logits[b as usize] >= logits[id as usize]);
        if at < n {
            best.insert(at, id);
            best.truncate(n);
        }
    }
    let top = best
        .into_iter()
        .map(|id| (id, logits[id as usize] - log_sum))
        .collect();
    StepLogprobs {
        logprob: logits[token as usize] - log_sum,
        top,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_probs_are_sorted_normalised_and_match_log_prob() {
        let logits = [0.5, 3.0, -1.0, 3.0, 2.0];
        let StepLogprobs { logprob, top } = log_probs(&logits, 2, 3);
        assert_eq!(logprob, log_prob(&logits, 2));
        assert_eq!(top.iter().map(|t| t.0).collect::<Vec<_>>(), [1, 3, 4]);
        for (id, lp) in &top {
            assert!((lp - log_prob(&logits, *id)).abs() < 1e-6);
        }
        let total: f32 = (0..5).map(|i| log_prob(&logits, i).exp()).sum();
        assert!((total - 1.0).abs() < 1e-5);
        assert!(log_probs(&logits, 0, 0).top.is_empty());
        assert_eq!(log_probs(&logits, 0, 9).top.len(), 5);
    }
}
