//! The HTTP side of every provider: the client, a configured endpoint, and a
//! provider's refusal turned into the matching error.

use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};

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
    pub(super) model: String,
    pub(super) key: Option<String>,
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
    pub(super) fn post(&self, path: &str, forward: &HeaderMap) -> reqwest::RequestBuilder {
        self.client
            .post(format!("{}{path}", self.base_url))
            .headers(forward.clone())
    }
}

/// Send `request`; a non-success status becomes the matching error (429 and 5xx
/// are the ones a fallback may retry elsewhere).
pub(super) async fn send(request: reqwest::RequestBuilder) -> Result<reqwest::Response, ApiError> {
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
