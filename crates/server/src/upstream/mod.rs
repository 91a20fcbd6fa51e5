//! Upstream providers: one HTTP client that follows no redirects, keys from env vars
//! named in the config, and a driver that turns a provider's event stream into
//! OpenAI chunks through a per-provider [`Translate`].

pub mod anthropic;
pub mod gemini;
pub mod openai;

use std::collections::VecDeque;
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use tandem_core::ChatCompletionChunk;

use crate::call::ChunkStream;
use crate::config::Config;
use crate::error::ApiError;

/// The client every upstream call uses: no redirects (a key must never follow one),
/// a connect timeout, no proxy from the environment.
pub fn client(config: &Config) -> Result<reqwest::Client, String> {
    let (_, first_byte, _) = config.timeouts.durations();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(first_byte.min(Duration::from_secs(10)))
        .no_proxy()
        .build()
        .map_err(|e| e.to_string())
}

/// One configured provider endpoint: fixed base URL, model and key.
#[derive(Clone)]
pub struct Upstream {
    client: reqwest::Client,
    base_url: String,
    model: String,
    key: Option<String>,
}

impl Upstream {
    /// An endpoint whose key is read now from `key_env` (an error if it is unset).
    pub fn new(
        client: reqwest::Client,
        base_url: &str,
        model: &str,
        key_env: Option<&str>,
    ) -> Result<Self, String> {
        let key = key_env
            .map(|name| std::env::var(name).map_err(|_| format!("env var {name} is not set")))
            .transpose()?;
        reqwest::Url::parse(base_url).map_err(|e| format!("base_url {base_url:?}: {e}"))?;
        Ok(Upstream {
            client,
            base_url: base_url.trim_end_matches('/').to_string(),
            model: model.to_string(),
            key,
        })
    }

    /// A POST to `path` under the base URL with the allowed client headers.
    fn post(&self, path: &str, forward: &HeaderMap) -> reqwest::RequestBuilder {
        self.client
            .post(format!("{}{path}", self.base_url))
            .headers(forward.clone())
    }
}

/// Send `request`; a non-success status becomes the matching error (429 and 5xx
/// are the ones a fallback may retry elsewhere).
async fn send(request: reqwest::RequestBuilder) -> Result<reqwest::Response, ApiError> {
    let response = request.send().await.map_err(|e| {
        let why = if e.is_timeout() {
            "timed out"
        } else {
            "unreachable"
        };
        ApiError::upstream(
            "upstream_unavailable",
            format!("the upstream provider is {why}"),
        )
    })?;
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok());
    let text = response.text().await.unwrap_or_default();
    let message = provider_message(&text).unwrap_or_else(|| format!("status {status}"));
    Err(match status {
        StatusCode::TOO_MANY_REQUESTS => ApiError {
            code: "upstream_rate_limited",
            message: format!("the upstream provider is rate limited: {message}"),
            ..ApiError::rate_limited("the upstream provider", retry_after.unwrap_or(1))
        },
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => ApiError::upstream(
            "upstream_auth",
            "the upstream provider refused this server's credentials",
        ),
        s if s.is_server_error() => ApiError {
            retry_after,
            ..ApiError::upstream("upstream_error", format!("upstream provider: {message}"))
        },
        _ => ApiError::invalid_request(format!("upstream provider: {message}")),
    })
}

/// The message of a provider's JSON error body (`{"error":{"message":…}}`, shared by
/// OpenAI, Anthropic and Gemini).
fn provider_message(text: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    Some(value["error"]["message"].as_str()?.to_string())
}

/// An error event inside a provider's stream.
fn stream_error(data: &serde_json::Value) -> ApiError {
    let message = data["error"]["message"].as_str().unwrap_or("unknown error");
    ApiError::upstream("upstream_error", format!("upstream provider: {message}"))
}

/// 501: this provider has no way to carry `what` (a fallback chain moves on to its
/// next backend, as for any server-side failure).
fn unsupported(provider: &str, what: &str) -> ApiError {
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
fn split_system(
    request: &tandem_core::ChatCompletionRequest,
) -> (Option<String>, Vec<(bool, &str)>) {
    use tandem_core::Role;
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

/// An event the provider sent that does not have the documented shape.
fn malformed(provider: &str, e: impl std::fmt::Display) -> ApiError {
    ApiError::upstream(
        "upstream_malformed",
        format!("{provider} sent an event tandem cannot read: {e}"),
    )
}

/// Turns one provider's server-sent events into OpenAI chunks.
pub trait Translate: Send + 'static {
    /// The chunks for one event (`event` is the SSE event name, often empty); an
    /// error ends the stream.
    fn event(&mut self, event: &str, data: &str) -> Result<Vec<ChatCompletionChunk>, ApiError>;
    /// Whether the reply is complete: reading stops, and an end of the stream
    /// before this is a truncation error.
    fn done(&self) -> bool;
}

/// The chunks of an upstream `response` read by `translate`. Dropping the stream
/// drops the upstream request.
fn translate(response: reqwest::Response, translate: impl Translate) -> ChunkStream {
    struct State<T> {
        events: futures_util::stream::BoxStream<'static, Result<eventsource_stream::Event, String>>,
        translate: T,
        pending: VecDeque<Result<ChatCompletionChunk, ApiError>>,
        ended: bool,
    }
    let events = response
        .bytes_stream()
        .eventsource()
        .map(|e| e.map_err(|e| e.to_string()))
        .boxed();
    let state = State {
        events,
        translate,
        pending: VecDeque::new(),
        ended: false,
    };
    futures_util::stream::unfold(state, |mut s| async move {
        loop {
            if let Some(item) = s.pending.pop_front() {
                return Some((item, s));
            }
            if s.ended {
                return None;
            }
            match s.events.next().await {
                Some(Ok(event)) => match s.translate.event(&event.event, &event.data) {
                    Ok(chunks) => {
                        s.pending.extend(chunks.into_iter().map(Ok));
                        s.ended = s.translate.done();
                    }
                    Err(e) => {
                        s.pending.push_back(Err(e));
                        s.ended = true;
                    }
                },
                Some(Err(e)) => {
                    s.pending.push_back(Err(ApiError::upstream(
                        "upstream_stream_error",
                        format!("the upstream stream broke: {e}"),
                    )));
                    s.ended = true;
                }
                None => {
                    s.pending.push_back(Err(ApiError::upstream(
                        "upstream_truncated",
                        "the upstream stream ended before the reply was complete",
                    )));
                    s.ended = true;
                }
            }
        }
    })
    .boxed()
}
