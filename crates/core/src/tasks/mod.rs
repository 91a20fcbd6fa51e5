//! Quick tasks as chat requests: the prompts tuned for the small model and the
//! parsing of their answers, shared by the browser helpers (`ai.tasks.*`), the native
//! bench and the tests. Every task is an ordinary [`ChatCompletionRequest`], so it
//! runs on either engine; locally, `classify` scores labels instead (see
//! [`Engine::classify`] and [`classify_messages`]).

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::event::{CancelFlag, Event};
use crate::params::GenerateParams;
use crate::protocol::{ChatCompletionRequest, ChatMessage, JsonSchemaFormat, ResponseFormat, Role};
use crate::structured::Schema;

/// Most sentences a summary and most replies `smartReplies` may ask for.
pub const MAX_COUNT: usize = 5;

/// Most characters of one smart reply (the model's good short replies are 15–45;
/// longer ones have run on).
pub const REPLY_CHARS: usize = 60;

/// How `rewrite` changes a text.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tone {
    /// Kinder, with courtesy words.
    Polite,
    /// Businesslike.
    Formal,
    /// Relaxed and friendly.
    Casual,
    /// The same meaning in fewer words.
    Shorter,
}

/// One quick task with its options.
#[derive(Debug, Clone, PartialEq)]
pub enum Task {
    /// Pick the best of 2–20 labels.
    Classify {
        /// The labels to choose from.
        labels: Vec<String>,
    },
    /// Summarise in 1–5 sentences.
    Summarize {
        /// How many sentences.
        sentences: usize,
    },
    /// Rewrite in another tone.
    Rewrite {
        /// The tone.
        tone: Tone,
    },
    /// 1–5 distinct short replies to a message.
    SmartReplies {
        /// How many replies.
        n: usize,
    },
    /// Fields of the text as JSON matching a schema.
    Extract {
        /// The JSON Schema of the result.
        schema: Value,
    },
}

/// What a task produced.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum TaskOutput {
    /// Labels best first with probabilities summing to 1.
    Labels(Vec<(String, f32)>),
    /// A summary or a rewritten text.
    Text(String),
    /// Distinct replies.
    Replies(Vec<String>),
    /// Extracted JSON, valid for the task's schema.
    Json(Value),
}

/// The conversation whose reply `classify` scores: the labels, then the text.
pub fn classify_messages(text: &str, labels: &[String]) -> Vec<ChatMessage> {
    vec![
        ChatMessage::new(
            Role::System,
            format!(
                "Classify each text as one of: {}. Answer with one word.",
                labels.join(", ")
            ),
        ),
        ChatMessage::new(Role::User, text),
    ]
}

/// The content-free text whose label scores calibrate [`Engine::classify_text`].
const NO_CONTENT: &str = "N/A";

impl Task {
    /// Check the task's options.
    pub fn validate(&self) -> Result<()> {
        let count = |what: &str, n: usize| match (1..=MAX_COUNT).contains(&n) {
            true => Ok(()),
            false => Err(Error::InvalidRequest(format!(
                "{what} must be between 1 and {MAX_COUNT}, not {n}"
            ))),
        };
        match self {
            Task::Classify { labels } => crate::classify::check_labels(labels),
            Task::Summarize { sentences } => count("sentences", *sentences),
            Task::SmartReplies { n } => count("n", *n),
            Task::Rewrite { .. } => Ok(()),
            Task::Extract { schema } => Schema::compile(schema).map(drop),
        }
    }

    /// The chat request for this task on `text` (greedy, a short `max_tokens`).
    pub fn request(&self, text: &str) -> Result<ChatCompletionRequest> {
        self.validate()?;
        let (system, user, max_tokens, schema) = match self {
            Task::Classify { labels } => {
                let mut messages = classify_messages(text, labels);
                let user = messages.pop().expect("two messages").content;
                let schema = json!({
                    "type": "object",
                    "properties": {"label": {"enum": labels}},
                    "required": ["label"],
                    "additionalProperties": false
                });
                (messages.remove(0).content, user, 32, Some(schema))
            }
            Task::Summarize { sentences } => (
                "You write short, faithful summaries.".to_string(),
                format!(
                    "Summarize this text in {}.\n\nText: {text}",
                    plural(*sentences, "sentence")
                ),
                48 * sentences,
                None,
            ),
            Task::Rewrite { tone } => (
                "You rewrite texts. You keep their meaning and reply with the new text only."
                    .to_string(),
                format!("{}\n\nText: \"{text}\"", tone.instruction()),
                text.len() / 2 + 48,
                None,
            ),
            Task::SmartReplies { n } => (
                "You suggest short replies to messages.".to_string(),
                format!(
                    "Suggest {} to this message, each one different.\n\nMessage: {text}",
                    plural(*n, "short reply")
                ),
                // About 3 characters a token, the quotes, comma and some whitespace
                // around each reply, and the object around them.
                n * (REPLY_CHARS / 3 + 4) + 16,
                Some(json!({
                    "type": "object",
                    "properties": {"replies": {
                        "type": "array",
                        "items": {"type": "string", "minLength": 1, "maxLength": REPLY_CHARS},
                        "minItems": n, "maxItems": n
                    }},
                    "required": ["replies"],
                    "additionalProperties": false
                })),
            ),
            Task::Extract { schema } => (
                "You extract information from texts into JSON.".to_string(),
                format!(
                    "Text: {text}\n\nExtract these fields from the text: {}.\n\n\
                     Answer with JSON in this form:\n{}",
                    fields(schema),
                    skeleton(schema)
                ),
                160,
                Some(schema.clone()),
            ),
        };
        let mut request = ChatCompletionRequest::new(vec![
            ChatMessage::new(Role::System, system),
            ChatMessage::new(Role::User, user),
        ]);
        request.max_tokens = Some(max_tokens);
        request.temperature = Some(0.0);
        request.response_format = schema.map(|schema| ResponseFormat::JsonSchema {
            json_schema: JsonSchemaFormat {
                name: "tandem_task".into(),
                description: None,
                schema: Some(schema),
                strict: Some(true),
            },
        });
        Ok(request)
    }

    /// The result in `answer`, the reply to [`Task::request`].
    pub fn parse(&self, answer: &str) -> Result<TaskOutput> {
        let json = || -> Result<Value> {
            serde_json::from_str(answer.trim())
                .map_err(|e| Error::Inference(format!("the answer is not the JSON asked for: {e}")))
        };
        Ok(match self {
            Task::Classify { labels } => {
                let label = json()?["label"].as_str().map(str::to_string);
                let Some(label) = label.filter(|l| labels.contains(l)) else {
                    return Err(Error::Inference("the answer names no label".into()));
                };
                let mut ranked = vec![(label.clone(), 1.0)];
                ranked.extend(
                    labels
                        .iter()
                        .filter(|l| **l != label)
                        .map(|l| (l.clone(), 0.0)),
                );
                TaskOutput::Labels(ranked)
            }
            Task::Summarize { .. } | Task::Rewrite { .. } => TaskOutput::Text(clean(answer)),
            Task::SmartReplies { .. } => {
                let mut replies: Vec<String> = Vec::new();
                for reply in json()?["replies"].as_array().into_iter().flatten() {
                    let reply = tidy_reply(reply.as_str().unwrap_or_default());
                    let seen = replies.iter().any(|r| r.eq_ignore_ascii_case(&reply));
                    if !reply.is_empty() && !seen {
                        replies.push(reply);
                    }
                }
                TaskOutput::Replies(replies)
            }
            Task::Extract { schema } => {
                let value = json()?;
                Schema::compile(schema)?
                    .validate(&value)
                    .map_err(|e| Error::Inference(format!("the answer does not fit: {e}")))?;
                TaskOutput::Json(value)
            }
        })
    }
}

impl Engine {
    /// Rank `labels` for `text` with tandem's classify prompt, calibrated: each
    /// label's log-likelihood for the text minus the one for a content-free text
    /// (which removes the model's bias towards some labels), then a softmax. Best
    /// first; the probabilities sum to 1.
    pub fn classify_text(&mut self, text: &str, labels: &[String]) -> Result<Vec<(String, f32)>> {
        let scores = self.label_log_likelihoods(&classify_messages(text, labels), labels)?;
        let prior = self.label_log_likelihoods(&classify_messages(NO_CONTENT, labels), labels)?;
        let calibrated: Vec<f64> = scores.iter().zip(&prior).map(|(s, p)| s - p).collect();
        Ok(crate::classify::rank(labels, &calibrated))
    }

    /// Run `task` on `text` with this engine: label scoring for `classify`, the
    /// task's request otherwise.
    pub fn run_task(&mut self, task: &Task, text: &str) -> Result<TaskOutput> {
        if let Task::Classify { labels } = task {
            return Ok(TaskOutput::Labels(self.classify_text(text, labels)?));
        }
        let request = task.request(text)?;
        let prompt = self.chat_prompt(&request.messages)?;
        let mut generation = self.generate(
            prompt,
            GenerateParams::from_request(&request)?,
            CancelFlag::default(),
        )?;
        let mut answer = String::new();
        for event in self.stream(&mut generation) {
            match event? {
                Event::Token { text, .. } | Event::Done { text, .. } => answer.push_str(&text),
                Event::Prefill { .. } | Event::ToolCall { .. } => {}
            }
        }
        task.parse(&answer)
    }
}

impl Tone {
    fn instruction(self) -> &'static str {
        match self {
            Tone::Polite => "Rewrite this text to be more polite and kind.",
            Tone::Formal => "Rewrite this text in a formal, professional tone.",
            Tone::Casual => "Rewrite this text in a casual, friendly tone.",
            Tone::Shorter => "Rewrite this text shorter, in fewer words.",
        }
    }
}

/// `n` things, e.g. "2 sentences" or "one sentence".
fn plural(n: usize, thing: &str) -> String {
    match n {
        1 => format!("one {thing}"),
        n if thing.ends_with('y') => format!("{n} {}ies", &thing[..thing.len() - 1]),
        n => format!("{n} {thing}s"),
    }
}

/// The property names of an extraction schema with their descriptions, for the prompt.
fn fields(schema: &Value) -> String {
    let Some(props) = schema["properties"].as_object() else {
        return "the fields of the JSON object".into();
    };
    props
        .iter()
        .map(|(name, spec)| match spec["description"].as_str() {
            Some(d) => format!("{name} ({d})"),
            None => name.clone(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The shape of an extraction's answer, one property per line with `...` values.
fn skeleton(schema: &Value) -> String {
    let names: Vec<String> = schema["properties"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, _)| format!("  {}: ...", Value::String(name.clone())))
        .collect();
    format!("{{\n{}\n}}", names.join(",\n"))
}

/// A reply without list numbering ("1. "); if it ran on (it is long and stops
/// mid-sentence, as the length limit cuts it), only its first sentence.
fn tidy_reply(reply: &str) -> String {
    let reply = clean(reply);
    let reply = match reply.split_once(". ") {
        Some((n, rest)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => rest,
        _ => &reply,
    };
    let ran_on = reply.chars().count() > REPLY_CHARS * 3 / 4 && !reply.ends_with(['.', '!', '?']);
    let first_end = reply
        .match_indices(['.', '!', '?'])
        .map(|(at, _)| at)
        .find(|&at| reply[at + 1..].starts_with(' '));
    match first_end {
        Some(at) if ran_on => reply[..=at].to_string(),
        _ => reply.to_string(),
    }
}

/// A text answer without surrounding whitespace or quotes, or an echo of the prompt's
/// `Text:` label.
fn clean(answer: &str) -> String {
    let t = answer.trim();
    // A small model may answer in the prompt's own shape: `Text: "…"`.
    let t = t.strip_prefix("Text:").map_or(t, str::trim_start);
    let t = t
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(t);
    t.trim().to_string()
}

#[cfg(test)]
mod tests;
