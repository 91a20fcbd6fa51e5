//! The routing policy: which side answers a request, the local model or the server,
//! and why. A pure function of the request, the policy and an environment snapshot
//! the caller gathers; no clock, no I/O.
//!
//! [`decide`] applies, in order:
//! 1. **Modes that obey.** `local-only` answers locally and `remote-only` remotely;
//!    when that side cannot answer (not configured, unreachable, tools a local model
//!    cannot call or a too long request for it, strict privacy against the server) the
//!    result is
//!    [`Error::NoRoute`], whose message says what to change.
//! 2. **Strict privacy.** With `privacy: strict`, a request containing sensitive data
//!    ([`sensitive`]: e-mail addresses, phone numbers, Luhn-valid card numbers,
//!    mod-97-valid IBANs) stays local in every other mode, and the reason says so.
//! 3. **Hard limits of the local side.** No local model, tools in the request that the
//!    local model cannot call (its template has none), or prompt + answer tokens
//!    (`max_tokens`, else the expected length) over the local context window → remote.
//! 4. **Hard limits of the remote side.** No server configured, or not reachable →
//!    local.
//! 5. **Local model still loading** → remote.
//! 6. **Preference.** `prefer-local` and `prefer-remote` pick their side.
//! 7. **`auto`** weighs difficulty and latency. The difficulty scorer
//!    ([`difficulty`]) gives the probability that the query is heavy; at
//!    [`HEAVY`] or above the server answers ("heavy: code generation, ~900-token answer
//!    expected"). A light query stays local (free, private, works offline) unless the
//!    local side would be much slower: over [`LOCAL_SLOWDOWN_TOLERATED`] times the
//!    server's time and [`LOCAL_EXTRA_WAIT_TOLERATED_MS`] more, or over
//!    [`LOCAL_WAIT_MAX_MS`] when the server is faster. Latency = prompt / prefill
//!    speed + answer / decode speed locally; time to first token + answer / decode
//!    speed remotely.
//!
//! The `task` hint feeds the scorer: classify, reply, rewrite and extract are quick;
//! summarize depends on the length of the text; chat leaves it to the prompt's cues.
//! [`fallback`] picks the other side when the first fails before its first chunk, and
//! [`judge`] decides whether a local answer is escalated in a cascade.
//! [`decide_embeddings`] routes embeddings requests by simpler rules of their own.

mod answer;
mod cascade;
mod cues;
pub mod difficulty;
mod embeddings;
mod env;
pub mod features;
mod privacy;
pub mod weights;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use crate::protocol::{Scores, Sensitive};
pub use cascade::{judge, Verdict};
pub use embeddings::{decide_embeddings, embedding_fallback, EmbeddingEnv, EmbeddingRoute};
pub use env::{Environment, LocalEnv, RemoteEnv};
pub use privacy::sensitive;

use crate::error::{Error, Result};
use crate::protocol::{ChatMessage, Role};
use features::Features;

/// Difficulty at or above which `auto` sends a query to the server.
pub const HEAVY: f32 = 0.5;
/// A light query stays local while the local side is at most this many times slower…
pub const LOCAL_SLOWDOWN_TOLERATED: f64 = 4.0;
/// …or at most this much slower in absolute terms.
pub const LOCAL_EXTRA_WAIT_TOLERATED_MS: f64 = 2000.0;
/// Beyond this local time, a faster server answers even a light query.
pub const LOCAL_WAIT_MAX_MS: f64 = 30_000.0;

/// Which sides may answer, and which one is preferred (default `auto`: the router
/// weighs difficulty, speed and limits).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "ts", ts(rename = "RouteMode"))]
#[derive(Default, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Only the local model; an error if it cannot answer.
    LocalOnly,
    /// Only the server; an error if it cannot answer.
    RemoteOnly,
    /// The local model unless a hard limit says otherwise.
    PreferLocal,
    /// The server unless a hard limit says otherwise.
    PreferRemote,
    /// Decided per request from difficulty and expected latency.
    #[default]
    Auto,
}

/// How prompts with sensitive data are treated.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Default, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Privacy {
    /// Sensitive data is reported in the scores but does not constrain the route.
    #[default]
    Standard,
    /// A prompt with sensitive data never leaves the device.
    Strict,
}

/// What the app says the request is for (a hint to the scorer).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    /// Pick a label.
    Classify,
    /// A short reply to a message.
    Reply,
    /// Rewrite a text (tone, grammar, length).
    Rewrite,
    /// Summarise a text.
    Summarize,
    /// Pull fields out of a text.
    Extract,
    /// Open conversation.
    Chat,
}

/// The side that answers.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    /// The model in the browser.
    Local,
    /// The server.
    Remote,
}

impl Target {
    /// The other side.
    pub fn other(self) -> Target {
        match self {
            Target::Local => Target::Remote,
            Target::Remote => Target::Local,
        }
    }

    fn answered(self) -> &'static str {
        match self {
            Target::Local => "answered locally",
            Target::Remote => "answered by the server",
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Target::Local => "local",
            Target::Remote => "remote",
        })
    }
}

/// The app's routing options.
#[derive(Default, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(default)]
pub struct Policy {
    /// Which sides may answer.
    pub mode: Mode,
    /// How sensitive data is treated.
    pub privacy: Privacy,
}

/// What the router reads of a request.
#[derive(Default, Clone, Copy, Debug)]
pub struct Query<'a> {
    /// The conversation.
    pub messages: &'a [ChatMessage],
    /// Prompt tokens counted by the real tokenizer; `None` → estimated from the text.
    pub prompt_tokens: Option<usize>,
    /// The request's `max_tokens`.
    pub max_tokens: Option<usize>,
    /// `response_format` asks for JSON (json_schema or json_object).
    pub structured: bool,
    /// The request offers tools (and `tool_choice` is not `none`).
    pub tools: bool,
    /// The app's hint of what the request is for.
    pub task: Option<Task>,
}

/// Where a request goes, why, and the numbers behind it (`ai.route`, and the detail
/// of `route` events).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "ts", ts(rename = "RouteDecision"))]
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct Decision {
    /// The side that answers.
    pub target: Target,
    /// A short human sentence.
    pub reason: String,
    /// The numbers behind it.
    pub scores: Scores,
}

/// Decides which side answers `query`; see the module doc for the rules.
pub fn decide(query: &Query, env: &Environment, policy: &Policy) -> Result<Decision> {
    let (features, scores) = analyse(query, env);
    let strict = (policy.privacy == Privacy::Strict && !scores.sensitive.is_empty())
        .then(|| list(&scores.sensitive));
    let local_block = match env.local {
        None => Some("no local model is loaded".to_string()),
        Some(_) => scores.local_limit.clone(),
    };
    let remote_block = match env.remote {
        None => Some("no server is configured"),
        Some(r) if !r.reachable => Some("the server is unreachable"),
        Some(_) => None,
    };
    let go = |target: Target, reason: String| {
        Ok(Decision {
            target,
            reason,
            scores: scores.clone(),
        })
    };
    let no_route = |msg: String| Err(Error::NoRoute(msg));
    match (policy.mode, &strict, &local_block, remote_block) {
        (Mode::LocalOnly, _, Some(b), _) => no_route(format!(
            "route is local-only but {b}; {}",
            if env.local.is_none() { "load a local model or allow the server (prefer-local)" } else { "change the request or allow the server (prefer-local)" }
        )),
        (Mode::LocalOnly, ..) => go(Target::Local, "local-only".into()),
        (Mode::RemoteOnly, Some(s), ..) => no_route(format!(
            "strict privacy keeps prompts with {s} on the device, but route is remote-only; use a local route or privacy \"standard\""
        )),
        (Mode::RemoteOnly, _, _, Some(b)) => no_route(format!(
            "route is remote-only but {b}; use prefer-remote to let the local model answer"
        )),
        (Mode::RemoteOnly, ..) => go(Target::Remote, "remote-only".into()),
        (_, Some(s), Some(b), _) => no_route(format!(
            "strict privacy keeps prompts with {s} on the device, but {b}; remove the data or use privacy \"standard\""
        )),
        (_, Some(s), None, _) => go(Target::Local, format!("strict privacy: contains {s}, kept local")),
        (_, None, Some(b), Some(rb)) => no_route(format!("{b} and {rb}; configure one of them")),
        (_, None, Some(b), None) => go(Target::Remote, format!("{b}, answered by the server")),
        (_, None, None, Some(rb)) => go(Target::Local, format!("{rb}, answered locally")),
        _ if env.local.is_some_and(|l| !l.ready) => {
            go(Target::Remote, "local model still loading".into())
        }
        (Mode::PreferLocal, ..) => go(Target::Local, "prefer-local".into()),
        (Mode::PreferRemote, ..) => go(Target::Remote, "prefer-remote".into()),
        (Mode::Auto, ..) => {
            let (target, reason) = auto(&features, &scores);
            go(target, reason)
        }
    }
}

/// The other side after `failed.target` failed before its first chunk; `None` when
/// the mode is `*-only`, strict privacy keeps the prompt local, or the other side
/// is not configured, unreachable or cannot take the request.
pub fn fallback(
    failed: &Decision,
    env: &Environment,
    policy: &Policy,
    why: &str,
) -> Option<Decision> {
    if matches!(policy.mode, Mode::LocalOnly | Mode::RemoteOnly) {
        return None;
    }
    let target = failed.target.other();
    let possible = match target {
        Target::Remote => {
            let strict = policy.privacy == Privacy::Strict && !failed.scores.sensitive.is_empty();
            !strict && env.remote.is_some_and(|r| r.reachable)
        }
        Target::Local => env.local.is_some() && failed.scores.local_limit.is_none(),
    };
    let why = match why.split_once(": ") {
        Some((what, detail)) => format!("{what} ({detail})"),
        None => why.to_string(),
    };
    possible.then(|| Decision {
        target,
        reason: format!("fallback: {why}, {}", target.answered()),
        scores: failed.scores.clone(),
    })
}

/// Features and scores of a query in an environment.
fn analyse(query: &Query, env: &Environment) -> (Features, Scores) {
    let text = query
        .messages
        .iter()
        .rev()
        .find(|m| m.role == Role::User)
        .or(query.messages.last())
        .map_or("", |m| m.content.as_str());
    let mut features = Features::of(text, query.task);
    if query.structured && features.kind.is_none() {
        features.kind = Some(Task::Extract);
    }
    let difficulty = difficulty::difficulty(&features);
    let prompt_tokens = query
        .prompt_tokens
        .unwrap_or_else(|| estimate_prompt_tokens(query.messages));
    let expected_tokens =
        answer::expected_tokens(&features, difficulty, prompt_tokens, query.max_tokens);
    let budget = query.max_tokens.unwrap_or(expected_tokens);
    let local_limit = if query.tools && env.local.is_some_and(|l| !l.tools) {
        Some("the local model cannot call tools".to_string())
    } else {
        env.local
            .filter(|l| prompt_tokens + budget > l.context_window)
            .map(|l| {
                format!(
                    "~{prompt_tokens} prompt + {budget} answer tokens exceed the local context window ({})",
                    l.context_window
                )
            })
    };
    let sensitive = {
        let mut all: Vec<Sensitive> = query
            .messages
            .iter()
            .flat_map(|m| sensitive(&m.content))
            .collect();
        all.sort();
        all.dedup();
        all
    };
    let scores = Scores {
        difficulty,
        expected_tokens,
        prompt_tokens,
        local_ms: env
            .local
            .map(|l| l.latency_ms(prompt_tokens, expected_tokens)),
        remote_ms: env.remote.map(|r| r.latency_ms(expected_tokens)),
        sensitive,
        local_limit,
    };
    (features, scores)
}

/// Tokens of a chat prompt from its characters (about four per token) and the
/// template's per-message and default-system overhead.
fn estimate_prompt_tokens(messages: &[ChatMessage]) -> usize {
    let body: usize = messages
        .iter()
        .map(|m| m.content.chars().count().div_ceil(4) + 5)
        .sum();
    body + 20
}

/// `auto` once no hard rule applied: difficulty first, then latency.
fn auto(f: &Features, s: &Scores) -> (Target, String) {
    let (local, remote) = (s.local_ms.unwrap_or(0.0), s.remote_ms.unwrap_or(f64::MAX));
    let e = s.expected_tokens;
    if s.difficulty >= HEAVY {
        let signs = difficulty::heavy_signs(f);
        let signs = if signs.is_empty() {
            "hard question".to_string()
        } else {
            signs.join(", ")
        };
        return (
            Target::Remote,
            format!("heavy: {signs}, ~{e}-token answer expected"),
        );
    }
    let times = format!("local ~{} vs server ~{}", seconds(local), seconds(remote));
    let much_slower =
        local > remote * LOCAL_SLOWDOWN_TOLERATED && local - remote > LOCAL_EXTRA_WAIT_TOLERATED_MS;
    if much_slower || (local > LOCAL_WAIT_MAX_MS && local > remote) {
        return (
            Target::Remote,
            format!("slow here: ~{e}-token answer, {times}"),
        );
    }
    (
        Target::Local,
        format!("quick: {}, {times}", quick_label(f, e)),
    )
}

/// "short rewrite", "classification"…: what a light query looks like.
fn quick_label(f: &Features, expected: usize) -> &'static str {
    let short = expected <= 80;
    match (f.kind, short) {
        (Some(Task::Classify), _) => "classification",
        (Some(Task::Extract), _) => "extraction",
        (Some(Task::Reply), true) => "short reply",
        (Some(Task::Reply), false) => "reply",
        (Some(Task::Rewrite), true) => "short rewrite",
        (Some(Task::Rewrite), false) => "rewrite",
        (Some(Task::Summarize), true) => "short summary",
        (Some(Task::Summarize), false) => "summary",
        (_, true) => "short answer",
        (_, false) => "light question",
    }
}

/// "1.2 s" under ten seconds, "14 s" above.
fn seconds(ms: f64) -> String {
    if ms < 10_000.0 {
        format!("{:.1} s", ms / 1000.0)
    } else {
        format!("{:.0} s", ms / 1000.0)
    }
}

/// "an e-mail address and a phone number".
fn list(found: &[Sensitive]) -> String {
    let names: Vec<&str> = found.iter().map(|s| s.describe()).collect();
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => names.join(""),
    }
}

#[cfg(test)]
mod tests;
