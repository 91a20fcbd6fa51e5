//! Label scoring: how likely the model finds each label as its whole reply. One
//! prefill of the prompt, then each label's tokens read one at a time from the
//! prompt's position (the prompt's cache is shared); no text is generated.

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::generate::PREFILL_CHUNK;
use crate::protocol::{ChatMessage, Role};
use crate::sampling::log_prob;

/// Fewest and most labels one classification takes.
pub const LABELS: std::ops::RangeInclusive<usize> = 2..=20;

impl Engine {
    /// Score `labels` as the assistant's whole reply to `messages` (each label's
    /// tokens and the end of the turn) and return them best first with their
    /// probabilities, which sum to 1 (a softmax over the labels' log-likelihoods).
    pub fn classify(
        &mut self,
        messages: &[ChatMessage],
        labels: &[String],
    ) -> Result<Vec<(String, f32)>> {
        let scores = self.label_log_likelihoods(messages, labels)?;
        Ok(rank(labels, &scores))
    }

    /// The natural-log likelihood of each label (its tokens and the end of the turn)
    /// as the assistant's whole reply to `messages`, in the order of `labels`.
    pub fn label_log_likelihoods(
        &mut self,
        messages: &[ChatMessage],
        labels: &[String],
    ) -> Result<Vec<f64>> {
        check_labels(labels)?;
        let prompt = self.chat_prompt(messages)?;
        let answers = labels
            .iter()
            .map(|label| self.answer_tokens(messages, &prompt, label))
            .collect::<Result<Vec<_>>>()?;
        let longest = answers.iter().map(Vec::len).max().unwrap_or(0);
        if prompt.len() + longest > self.context_window() {
            return Err(Error::ContextLengthExceeded {
                prompt_tokens: prompt.len(),
                max_tokens: longest,
                context_window: self.context_window(),
            });
        }
        let mut first = Vec::new();
        for (at, chunk) in prompt.chunks(PREFILL_CHUNK).enumerate() {
            first = self.model_mut().forward(chunk, at * PREFILL_CHUNK)?;
        }
        let mut scores = Vec::with_capacity(labels.len());
        for answer in &answers {
            let mut total = log_prob(&first, answer[0]) as f64;
            for (i, pair) in answer.windows(2).enumerate() {
                let logits = self.model_mut().forward(&pair[..1], prompt.len() + i)?;
                total += log_prob(&logits, pair[1]) as f64;
            }
            scores.push(total);
        }
        Ok(scores)
    }

    /// The tokens of `label` as the assistant's reply after `prompt`, up to and
    /// including the template's end of turn.
    fn answer_tokens(
        &self,
        messages: &[ChatMessage],
        prompt: &[u32],
        label: &str,
    ) -> Result<Vec<u32>> {
        let mut turn = messages.to_vec();
        turn.push(ChatMessage::new(Role::Assistant, label));
        let text = self.template()?.render(&turn, false)?;
        let ids = self.tokenizer().encode_prompt(&text);
        let Some(answer) = ids.strip_prefix(prompt) else {
            return Err(Error::Template(format!(
                "the reply {label:?} does not extend the prompt's tokens"
            )));
        };
        let end = answer
            .iter()
            .position(|&id| self.tokenizer().is_end_of_generation(id))
            .map_or(answer.len(), |at| at + 1);
        match &answer[..end] {
            [] => Err(Error::InvalidRequest(format!(
                "label {label:?} has no tokens"
            ))),
            answer => Ok(answer.to_vec()),
        }
    }
}

/// `labels` best first with the softmax of their `scores` (log-likelihoods).
pub fn rank(labels: &[String], scores: &[f64]) -> Vec<(String, f32)> {
    let best = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let weights: Vec<f64> = scores.iter().map(|s| (s - best).exp()).collect();
    let sum: f64 = weights.iter().sum();
    let mut ranked: Vec<(String, f32)> = labels
        .iter()
        .zip(&weights)
        .map(|(label, w)| (label.clone(), (w / sum) as f32))
        .collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    ranked
}

/// Check that there are 2–20 distinct, non-empty labels.
pub(crate) fn check_labels(labels: &[String]) -> Result<()> {
    let invalid = |m: String| Err(Error::InvalidRequest(m));
    if !LABELS.contains(&labels.len()) {
        return invalid(format!(
            "classify takes {} to {} labels, not {}",
            LABELS.start(),
            LABELS.end(),
            labels.len()
        ));
    }
    for (i, label) in labels.iter().enumerate() {
        if label.trim().is_empty() {
            return invalid("labels must not be empty".into());
        }
        if labels[..i].contains(label) {
            return invalid(format!("label {label:?} is given twice"));
        }
    }
    Ok(())
}
