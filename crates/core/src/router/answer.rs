//! How long the answer will be, in tokens: what the prompt asks for, else what its
//! kind of task usually takes; never more than `max_tokens`.

use super::features::Features;
use super::Task;

/// Expected answer tokens of a query whose prompt has `prompt_tokens` tokens.
pub fn expected_tokens(
    f: &Features,
    difficulty: f32,
    prompt_tokens: usize,
    max_tokens: Option<usize>,
) -> usize {
    let v = |name| f.value(name);
    let material = f.words * 4 / 3;
    let typical = match f.kind {
        _ if f.requested_tokens.is_some() => f.requested_tokens.unwrap_or_default(),
        Some(Task::Classify) => 8,
        Some(Task::Extract) => 60,
        Some(Task::Reply) => 40,
        Some(Task::Rewrite) => (material + 10).clamp(20, 600),
        Some(Task::Summarize) => (prompt_tokens / 5).clamp(40, 400),
        _ if v("short_requested") > 0.0 => 40,
        _ if v("long_requested") > 0.0 => 800,
        _ if v("write_code") > 0.0 => 500,
        _ if v("creative") > 0.0 => 400,
        // Open questions: a short answer when light, a long one when heavy.
        _ => 80 + (difficulty * 500.0) as usize,
    };
    max_tokens.map_or(typical, |m| typical.min(m)).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expect(text: &str, max: Option<usize>) -> usize {
        expected_tokens(&Features::of(text, None), 0.5, 20, max)
    }

    #[test]
    fn asked_length_then_task_then_cap() {
        assert_eq!(expect("Describe Rome in 100 words.", None), 140);
        assert_eq!(expect("Classify as spam or not: 'WIN NOW'", None), 8);
        assert!(expect("Write a detailed essay on trade.", None) >= 800);
        assert_eq!(expect("Write a detailed essay on trade.", Some(64)), 64);
    }
}
