//! What the Anthropic and Gemini request bodies share: the system messages taken
//! apart from the conversation, and the refusal of what a provider cannot carry.

use axum::http::StatusCode;
use tandem_core::{ChatCompletionRequest, Role};

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
/// the conversation without them, each message as (is it the user's, its text): what
/// Anthropic and Gemini take apart.
pub(super) fn split_system(request: &ChatCompletionRequest) -> (Option<String>, Vec<(bool, &str)>) {
    let (system, turns): (Vec<_>, Vec<_>) = request
        .messages
        .iter()
        .partition(|m| m.role == Role::System);
    let system: Vec<&str> = system.iter().map(|m| m.content.as_str()).collect();
    let turns = turns
        .iter()
        .map(|m| (m.role == Role::User, m.content.as_str()))
        .collect();
    ((!system.is_empty()).then(|| system.join("\n\n")), turns)
}
