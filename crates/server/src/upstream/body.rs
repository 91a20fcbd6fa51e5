//! What the Anthropic and Gemini request bodies share: the system messages taken
//! apart from the conversation, turns of one role merged, a call's arguments as the
//! JSON object both providers take, and the refusal of what a provider cannot carry.

use axum::http::StatusCode;
use serde_json::Value;
use tandem_core::protocol::ToolCall;
use tandem_core::{ChatCompletionRequest, ChatMessage, Role};

use crate::error::ApiError;

/// 501: this provider has no way to carry `what` (a fallback chain moves on to its
/// next backend, as for any server-side failure).
pub(super) fn unsupported(provider: &str, what: &str) -> ApiError {
    ApiError {
        status: StatusCode::NOT_IMPLEMENTED,
        ..ApiError::upstream(
            "unsupported_by_upstream",
            format!("{provider} backends cannot take {what}; use an OpenAI-compatible backend"),
        )
    }
}

/// The system messages of `request` joined by blank lines (`None` without any), and
/// the conversation without them: what Anthropic and Gemini take apart.
pub(super) fn split_system(request: &ChatCompletionRequest) -> (Option<String>, Vec<&ChatMessage>) {
    let (system, turns): (Vec<&ChatMessage>, Vec<&ChatMessage>) = request
        .messages
        .iter()
        .partition(|m| m.role == Role::System);
    let system: Vec<&str> = system.iter().map(|m| m.content.as_str()).collect();
    ((!system.is_empty()).then(|| system.join("\n\n")), turns)
}

/// Turns as (role, parts), each run of one role merged into one turn (both providers
/// take a run of tool results, and the user's text after them, as one user turn);
/// turns without parts are dropped.
pub(super) fn merge_turns(
    turns: Vec<(&'static str, Vec<Value>)>,
) -> Vec<(&'static str, Vec<Value>)> {
    let mut merged: Vec<(&'static str, Vec<Value>)> = Vec::new();
    for (role, parts) in turns.into_iter().filter(|(_, parts)| !parts.is_empty()) {
        match merged.last_mut() {
            Some((last, so_far)) if *last == role => so_far.extend(parts),
            _ => merged.push((role, parts)),
        }
    }
    merged
}

/// The arguments of `call` as JSON (the request's checks made sure they parse).
pub(super) fn arguments(call: &ToolCall) -> Value {
    serde_json::from_str(&call.function.arguments).unwrap_or(Value::Null)
}
