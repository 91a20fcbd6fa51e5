//! Label scoring on the real model.

use tandem_core::sampling::log_prob;
use tandem_core::tasks::classify_messages;
use tandem_core::{ChatMessage, Role};

use crate::engine;

fn labels(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

#[test]
fn probabilities_sum_to_one_and_match_scoring_each_label_alone() {
    let mut engine = engine();
    let names = labels(&["sports", "technology", "food", "weather"]);
    let messages = classify_messages("The striker scored twice in the final.", &names);
    let ranked = engine.classify(&messages, &names).unwrap();
    let total: f32 = ranked.iter().map(|(_, p)| p).sum();
    assert!((total - 1.0).abs() < 1e-4, "{ranked:?}");
    assert!(ranked.windows(2).all(|w| w[0].1 >= w[1].1), "{ranked:?}");
    // The same log-likelihoods from a fresh pass over prompt + label for each label.
    let prompt = engine.chat_prompt(&messages).unwrap();
    let mut scores = vec![];
    for name in &names {
        let mut turn = messages.clone();
        turn.push(ChatMessage::new(Role::Assistant, name.as_str()));
        let text = engine.template().unwrap().render(&turn, false).unwrap();
        let ids = engine.tokenizer().encode_prompt(&text);
        let end = (prompt.len()..ids.len())
            .find(|&i| engine.tokenizer().is_end_of_generation(ids[i]))
            .unwrap();
        let mut total = 0.0f64;
        for i in prompt.len()..=end {
            let logits = engine.model_mut().forward(&ids[..i], 0).unwrap();
            total += log_prob(&logits, ids[i]) as f64;
        }
        scores.push(total);
    }
    let sum: f64 = scores.iter().map(|s| s.exp()).sum();
    for (name, score) in names.iter().zip(&scores) {
        let p = ranked.iter().find(|(l, _)| l == name).unwrap().1 as f64;
        assert!(
            (p - score.exp() / sum).abs() < 2e-3,
            "{name}: {p} vs {}",
            score.exp() / sum
        );
    }
    // Stable: the same call ranks the same way with the same numbers.
    assert_eq!(engine.classify(&messages, &names).unwrap(), ranked);
}
