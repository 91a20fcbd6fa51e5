//! Generation options as JS passes them (OpenAI field names), checked strictly.

use std::collections::HashMap;

use serde::Deserialize;
use tandem_core::{GenerateParams, SamplingParams};

/// `{ max_tokens, temperature, top_p, top_k, seed, stop, frequency_penalty,
/// presence_penalty, repetition_penalty, logit_bias, ignore_eos }`; unknown fields are
/// an error, not silently ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Options {
    max_tokens: Option<usize>,
    temperature: Option<f32>,
    top_p: Option<f32>,
    top_k: Option<usize>,
    seed: Option<u64>,
    stop: Option<Stop>,
    frequency_penalty: Option<f32>,
    presence_penalty: Option<f32>,
    repetition_penalty: Option<f32>,
    logit_bias: Option<HashMap<String, f32>>,
    ignore_eos: bool,
}

/// OpenAI accepts one stop string or a list.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Stop {
    One(String),
    Many(Vec<String>),
}

impl Options {
    /// The generation parameters these options ask for.
    pub fn into_params(self) -> Result<GenerateParams, String> {
        let defaults = SamplingParams::default();
        let logit_bias = self
            .logit_bias
            .unwrap_or_default()
            .into_iter()
            .map(|(id, bias)| {
                id.parse::<u32>()
                    .map(|id| (id, bias))
                    .map_err(|_| format!("logit_bias key {id:?} is not a token id"))
            })
            .collect::<Result<_, _>>()?;
        Ok(GenerateParams {
            max_tokens: self.max_tokens,
            stop: match self.stop {
                None => vec![],
                Some(Stop::One(s)) => vec![s],
                Some(Stop::Many(v)) => v,
            },
            sampling: SamplingParams {
                temperature: self.temperature.unwrap_or(defaults.temperature),
                top_p: self.top_p.unwrap_or(defaults.top_p),
                top_k: self.top_k.unwrap_or(defaults.top_k),
                seed: self.seed,
                repetition_penalty: self.repetition_penalty.unwrap_or(1.0),
                frequency_penalty: self.frequency_penalty.unwrap_or(0.0),
                presence_penalty: self.presence_penalty.unwrap_or(0.0),
                logit_bias,
            },
            ignore_eos: self.ignore_eos,
            top_logprobs: None,
        })
    }
}
