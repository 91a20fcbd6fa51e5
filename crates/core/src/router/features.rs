//! The difficulty scorer's features: a fixed vector of cheap numbers, each about 0..1,
//! read from the prompt's text and the task hint.

use super::cues::{scanned, words, Cue, Hits};
use super::Task;

/// Number of features (the bias included).
pub const N: usize = 25;

/// Feature names, in vector order (the trainer and the weights file use them).
pub const NAMES: [&str; N] = [
    "bias",
    "length",
    "instruction_length",
    "code_syntax",
    "code_words",
    "write_code",
    "math",
    "reasoning",
    "several_questions",
    "non_english",
    "translate",
    "long_requested",
    "requested_long",
    "requested_short",
    "short_requested",
    "quick_task",
    "summarize",
    "summarize_long",
    "expert_domain",
    "constraints",
    "creative",
    "task_quick",
    "task_chat",
    "choice_question",
    "fact_question",
];

/// What the scanner read from a prompt: the feature vector and the cues the policy
/// also needs (the length asked for, the kind of quick task).
#[derive(Clone, Debug)]
pub struct Features {
    /// The feature vector, in [`NAMES`] order.
    pub values: [f32; N],
    /// Length of the answer the prompt asks for, in tokens, if it says.
    pub requested_tokens: Option<usize>,
    /// The task the prompt looks like (the hint if given).
    pub kind: Option<Task>,
    /// Words in the prompt.
    pub words: usize,
}

impl Features {
    /// Reads the features of `text` (the user's request) with an optional task hint.
    pub fn of(text: &str, task: Option<Task>) -> Features {
        let lower = scanned(text);
        let w = words(&lower);
        let hits = Hits::find(&w);
        let c = |cue: Cue, cap: usize| hits.count(cue).min(cap) as f32 / cap as f32;
        let total_words = w.len() + text.len().saturating_sub(lower.len()) / 6;
        let length = ln_scale(total_words as f32, 2000.0);
        let requested_tokens = requested_tokens(&w);
        let quick_hits =
            [Cue::Rewrite, Cue::Classify, Cue::Reply, Cue::Extract].map(|cue| hits.count(cue));
        let quick = quick_hits.iter().sum::<usize>() + hits.count(Cue::Lookup);
        let choice = choice_question(&lower);
        let kind = task
            .or_else(|| inferred_task(&hits, quick_hits))
            .or(choice.then_some(Task::Classify));
        let summarize =
            (hits.count(Cue::Summarize) > 0 || task == Some(Task::Summarize)) as u8 as f32;
        let write_code = (hits.followed(Cue::Make, Cue::CodeArtefact, 5)
            && hits.count(Cue::Code) + hits.count(Cue::CodeArtefact) > 1)
            as u8 as f32;
        let mut v = [0.0; N];
        v[0] = 1.0;
        v[1] = length;
        v[2] = ln_scale(instruction_words(&lower) as f32, 200.0);
        v[3] = code_syntax(&lower);
        v[4] = c(Cue::Code, 4);
        v[5] = write_code;
        v[6] = ((hits.count(Cue::Math) + math_expressions(&lower)).min(3)) as f32 / 3.0;
        v[7] = c(Cue::Reasoning, 4);
        v[8] = several_questions(&lower);
        v[9] = non_english(&lower, w.len(), hits.count(Cue::Foreign));
        v[10] = c(Cue::Translate, 2);
        v[11] = c(Cue::Long, 2);
        v[12] = requested_tokens.map_or(0.0, |r| {
            ((r as f32 / 60.0).ln() / 20f32.ln()).clamp(0.0, 1.0)
        });
        v[13] = requested_tokens.is_some_and(|r| r <= 60) as u8 as f32;
        v[14] = c(Cue::Short, 2);
        v[15] = quick.min(3) as f32 / 3.0;
        v[16] = summarize;
        v[17] = summarize * length;
        v[18] = c(Cue::Expert, 2);
        v[19] = c(Cue::Constraint, 6);
        v[20] = c(Cue::Creative, 2);
        v[21] = matches!(
            task,
            Some(Task::Classify | Task::Reply | Task::Rewrite | Task::Extract)
        ) as u8 as f32;
        v[22] = (task == Some(Task::Chat)) as u8 as f32;
        v[23] = choice as u8 as f32;
        v[24] = fact_question(&lower) as u8 as f32;
        Features {
            values: v,
            requested_tokens,
            kind,
            words: total_words,
        }
    }

    /// The value of the feature called `name` (0 for an unknown name).
    pub fn value(&self, name: &str) -> f32 {
        NAMES
            .iter()
            .position(|n| *n == name)
            .map_or(0.0, |k| self.values[k])
    }
}

/// `ln(1 + x) / ln(1 + full)`, capped at 1.5.
fn ln_scale(x: f32, full: f32) -> f32 {
    ((1.0 + x).ln() / (1.0 + full).ln()).min(1.5)
}

/// The quick task the cues point to, if any (the most frequent; summary first).
fn inferred_task(hits: &Hits, quick: [usize; 4]) -> Option<Task> {
    if hits.count(Cue::Summarize) > 0 {
        return Some(Task::Summarize);
    }
    let tasks = [Task::Rewrite, Task::Classify, Task::Reply, Task::Extract];
    let (best, &n) = quick.iter().enumerate().max_by_key(|&(k, n)| (*n, 3 - k))?;
    (n > 0).then_some(tasks[best])
}

/// A question offering options: "Is it X or Y?", "positive or negative?".
fn choice_question(lower: &str) -> bool {
    let Some(end) = lower.rfind('?') else {
        return false;
    };
    let start = lower[..end].rfind(['.', '!', '\n']).map_or(0, |i| i + 1);
    lower[start..end].contains(" or ")
}

/// A question after one specific fact: "Who wrote…?", "Which planet…?", "What is
/// the plural of…?" (not "What is X?" or "Why…?", which ask for an explanation).
fn fact_question(lower: &str) -> bool {
    let Some(end) = lower.rfind('?') else {
        return false;
    };
    let start = lower[..end]
        .rfind(['.', '!', '?', '\n'])
        .map_or(0, |i| i + 1);
    let q = lower[start..end].trim_start();
    [
        "who ",
        "which ",
        "when ",
        "where ",
        "how many ",
        "how much ",
        "what is the ",
        "what's the ",
        "what are the ",
    ]
    .iter()
    .any(|w| q.starts_with(w))
}

/// Words of the instruction: the text before the first colon, quote or line break
/// (the rest is usually material to work on).
fn instruction_words(lower: &str) -> usize {
    let cut = lower
        .char_indices()
        .find(|&(i, ch)| i > 0 && (ch == ':' || ch == '"' || ch == '“' || ch == '\n'))
        .map_or(lower.len(), |(i, _)| i);
    words(&lower[..cut]).len()
}

/// Code fences or a high density of code punctuation.
fn code_syntax(text: &str) -> f32 {
    if text.contains("```") {
        return 1.0;
    }
    let chars = text.chars().count().max(1);
    let syntax = text.chars().filter(|c| "{}();=<>[]_".contains(*c)).count();
    let markers = [
        "=>", "->", "::", "def ", "fn ", "#include", "import ", "</", "();", "==", "!=",
    ]
    .iter()
    .filter(|m| text.contains(*m))
    .count();
    ((syntax as f32 / chars as f32) * 8.0 + markers as f32 * 0.25).min(1.0)
}

/// Arithmetic between numbers or variables: `3 + 4`, `2x^2`, `x = 5`.
fn math_expressions(lower: &str) -> usize {
    let b = lower.as_bytes();
    (1..b.len().saturating_sub(1))
        .filter(|&i| {
            let op = b"+*/^=".contains(&b[i]) || (b[i] == b'-' && b[i - 1] == b' ');
            let before = b[..i].iter().rev().find(|c| **c != b' ');
            let after = b[i + 1..].iter().find(|c| **c != b' ');
            op && before.is_some_and(|c| c.is_ascii_digit() || *c == b'x' || *c == b')')
                && after.is_some_and(|c| c.is_ascii_digit() || *c == b'x' || *c == b'(')
        })
        .count()
}

/// Several questions or numbered parts: 0 for one, up to 1 for five or more.
fn several_questions(text: &str) -> f32 {
    let questions = text.matches('?').count();
    let numbered = text
        .lines()
        .filter(|l| {
            let l = l.trim_start();
            let digits = l.bytes().take_while(u8::is_ascii_digit).count();
            (digits > 0 && l[digits..].starts_with(['.', ')']))
                || l.starts_with("- ")
                || l.starts_with("* ")
        })
        .count();
    ((questions + numbered).saturating_sub(1).min(4)) as f32 / 4.0
}

/// Share of letters outside ASCII and of common words of other languages.
fn non_english(lower: &str, words: usize, foreign_words: usize) -> f32 {
    let (mut letters, mut other) = (0usize, 0usize);
    for ch in lower.chars().filter(|c| c.is_alphabetic()) {
        letters += 1;
        other += usize::from(!ch.is_ascii());
    }
    let letters_share = other as f32 / letters.max(1) as f32;
    let words_share = foreign_words as f32 / words.max(1) as f32;
    (letters_share * 3.0 + words_share * 4.0).min(1.0)
}

/// The answer length the prompt asks for, in tokens: "in one sentence", "500 words",
/// "10 ideas", "a 2000-word essay", "three paragraphs".
fn requested_tokens(words: &[&str]) -> Option<usize> {
    let mut best: Option<f32> = None;
    for (i, w) in words.iter().enumerate() {
        // "2000-word" is one word; "300-500 words" takes the second number.
        let (number, unit_in_word) = match w.split_once('-') {
            Some((n, unit)) if unit_tokens(unit).is_some() => (number(n), Some(unit)),
            Some((a, b)) => (number(b).or(number(a)), None),
            None => (number(w), None),
        };
        let Some(mut n) = number else { continue };
        // "three thousand words", "five hundred words".
        let mut i = i;
        while let Some(times) = words.get(i + 1).and_then(|w| scale(w)) {
            n *= times;
            i += 1;
        }
        // "a sentence", "a short paragraph"; "ten more ideas", "5 bullet points".
        let window = if matches!(*w, "a" | "an") { 2 } else { 3 };
        let unit = unit_in_word.and_then(unit_tokens).or_else(|| {
            words[i + 1..]
                .iter()
                .take(window)
                .find_map(|u| unit_tokens(u))
        });
        if let Some(per) = unit {
            let tokens = n * per;
            best = Some(best.map_or(tokens, |b: f32| b.max(tokens)));
        }
    }
    best.map(|t| t.round().max(1.0) as usize)
}

/// A number written in digits or words ("a" counts as one).
fn number(w: &str) -> Option<f32> {
    if w.starts_with(|c: char| c.is_ascii_digit()) {
        let n = w.replace(',', "").parse::<f32>().ok()?;
        return (n > 0.0 && n < 100_000.0).then_some(n);
    }
    let n = match w {
        "a" | "an" | "one" | "single" => 1.0,
        "two" | "couple" => 2.0,
        "three" | "few" => 3.0,
        "four" => 4.0,
        "five" | "several" => 5.0,
        "six" => 6.0,
        "seven" => 7.0,
        "eight" => 8.0,
        "nine" => 9.0,
        "ten" => 10.0,
        "twelve" | "dozen" => 12.0,
        "fifteen" => 15.0,
        "twenty" => 20.0,
        "fifty" => 50.0,
        _ => return None,
    };
    Some(n)
}

/// A multiplier word after a number.
fn scale(w: &str) -> Option<f32> {
    match w {
        "hundred" => Some(100.0),
        "thousand" => Some(1000.0),
        _ => None,
    }
}

/// Tokens of answer per unit counted ("words": 1.4).
fn unit_tokens(unit: &str) -> Option<f32> {
    let unit = unit.strip_suffix('s').unwrap_or(unit);
    Some(match unit {
        "word" => 1.4,
        "character" | "char" => 0.3,
        "line" => 12.0,
        "sentence" | "bullet" | "point" | "idea" | "tip" | "reason" | "step" | "item"
        | "option" => 25.0,
        "example" | "question" | "suggestion" | "fact" => 30.0,
        "name" | "title" | "keyword" | "tag" | "emoji" => 5.0,
        "reply" | "replie" | "response" | "tweet" => 20.0,
        "stanza" | "verse" => 40.0,
        "paragraph" => 120.0,
        "page" => 600.0,
        "chapter" => 2500.0,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(text: &str) -> Features {
        Features::of(text, None)
    }

    #[test]
    fn requested_lengths() {
        assert_eq!(f("Answer in one sentence.").requested_tokens, Some(25));
        assert_eq!(f("Write a 2000-word essay.").requested_tokens, Some(2800));
        assert_eq!(
            f("Give me 10 ideas for a party").requested_tokens,
            Some(250)
        );
        assert_eq!(f("in 300-500 words").requested_tokens, Some(700));
        assert_eq!(f("three short paragraphs").requested_tokens, Some(360));
        assert_eq!(f("about three thousand words").requested_tokens, Some(4200));
        assert_eq!(f("Tell me about Rome").requested_tokens, None);
    }

    #[test]
    fn cues_land_in_their_features() {
        let code = f("Write a Python function that parses a CSV file and handles quoted fields.");
        assert_eq!(code.values[5], 1.0);
        assert!(code.values[4] > 0.0);
        let maths = f("Solve 3x + 5 = 20 and prove the result is unique.");
        assert!(maths.values[6] > 0.6);
        let french = f("Pouvez-vous m'expliquer la différence entre les deux contrats?");
        assert!(french.values[9] > 0.3);
        let quick = f("Rewrite more politely: 'Give me the report.'");
        assert_eq!(quick.kind, Some(Task::Rewrite));
        assert!(quick.values[15] > 0.0);
        assert_eq!(f("Summarize this: hello").kind, Some(Task::Summarize));
        assert_eq!(Features::of("x", Some(Task::Classify)).values[21], 1.0);
    }

    #[test]
    fn odd_input_never_panics() {
        for t in [
            "",
            "?",
            "-",
            "1-2-3",
            "```",
            "é",
            "0 words",
            "1e30 words",
            "\n\n1.",
        ] {
            let _ = f(t);
        }
    }
}
