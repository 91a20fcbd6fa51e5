//! The HTTP side of every provider: the client, a configured endpoint, and a
//! provider's refusal turned into the matching error.

use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use serde::Serialize;

use crate::config::Config;
use crate::error::ApiError;

use super::pool::{Lease, MemberFigures, Pool};
use super::provider_code::provider_code;

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

/// How a provider takes its key.
#[derive(Clone, Copy)]
pub(super) enum KeyHeader {
    /// `Authorization: Bearer <key>` (OpenAI and the servers compatible with it).
    Bearer,
    /// A header of its own, e.g. `x-api-key`.
    Named(&'static str),
}

/// One configured provider endpoint: its base URLs (a pool), model and key.
#[derive(Clone)]
pub struct Upstream {
    client: reqwest::Client,
    pool: Arc<Pool>,
    pub(super) model: String,
    pub(super) key: Option<String>,
}

impl Upstream {
    /// An endpoint whose key is read now from `key_env` (an error if it is unset); each
    /// of its base URLs cools down for `cool_down` after a failure.
    pub fn new(
        client: reqwest::Client,
        base_urls: &[String],
        model: &str,
        key_env: Option<&str>,
        cool_down: Duration,
    ) -> Result<Self, String> {
        let key = key_env
            .map(|name| std::env::var(name).map_err(|_| format!("env var {name} is not set")))
            .transpose()?;
        Ok(Upstream {
            client,
            pool: Pool::new(base_urls, cool_down)?,
            model: model.to_string(),
            key,
        })
    }

    /// POST `body` as JSON to `path` under each base URL in the pool's order, with the
    /// allowed client headers, `headers` and the endpoint's key (if it has one) as
    /// `key` says, until one answers: its response, and the lease that counts it in
    /// flight. A base URL in trouble cools down and the next is tried; a refusal of the
    /// request itself comes back at once.
    pub(super) async fn send(
        &self,
        path: &str,
        forward: &HeaderMap,
        body: &impl Serialize,
        key: KeyHeader,
        headers: &[(&str, &str)],
    ) -> Result<(Lease, reqwest::Response), ApiError> {
        let mut last = None;
        for index in self.pool.order() {
            let lease = self.pool.lease(index);
            let url = format!("{}{path}", self.pool.base_url(index));
            let mut request = self.client.post(url).headers(forward.clone()).json(body);
            for (name, value) in headers {
                request = request.header(*name, *value);
            }
            request = match (&self.key, key) {
                (None, _) => request,
                (Some(k), KeyHeader::Bearer) => request.bearer_auth(k),
                (Some(k), KeyHeader::Named(name)) => request.header(name, k),
            };
            match send(request).await {
                Ok(response) => {
                    lease.answered();
                    return Ok((lease, response));
                }
                Err(e) if e.is_backend_trouble() => {
                    lease.failed();
                    last = Some(e);
                }
                Err(e) => return Err(e),
            }
        }
        Err(last.expect("a pool has at least one base URL"))
    }

    /// Each base URL's figures.
    pub fn figures(&self) -> Vec<MemberFigures> {
        self.pool.figures()
    }
}

/// Send `request`; a non-success status becomes the matching error. What reaches the
/// client is the status and a short reason of this server's own words, never the
/// provider's text (which may echo the request's credentials): a provider's error
/// code is kept only when it is a plain identifier. 429, 5xx and any status this server
/// does not expect (3xx, 404…) are errors a fallback retries on the next backend; a
/// request the provider finds invalid (400, 413, 422) is the client's 400.
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
    let body = response
        .json::<serde_json::Value>()
        .await
        .unwrap_or_default();
    let code = provider_code(&body).map_or(String::new(), |c| format!(", code {c}"));
    Err(match status {
        StatusCode::TOO_MANY_REQUESTS => ApiError {
            code: "upstream_rate_limited",
            message: format!("the upstream provider is rate limited (status 429{code})"),
            ..ApiError::rate_limited("the upstream provider", retry_after.unwrap_or(1))
        },
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => ApiError::upstream(
            "upstream_auth",
            "the upstream provider refused this server's credentials",
        ),
        StatusCode::BAD_REQUEST
        | StatusCode::PAYLOAD_TOO_LARGE
        | StatusCode::UNPROCESSABLE_ENTITY => ApiError::invalid_request(format!(
            "the upstream provider refused the request as invalid (status {}{code})",
            status.as_u16()
        )),
        s if s.is_server_error() => ApiError {
            retry_after,
            ..ApiError::upstream(
                "upstream_error",
                format!("the upstream provider failed (status {}{code})", s.as_u16()),
            )
        },
        s => ApiError::upstream(
            "upstream_error",
            format!(
                "the upstream provider answered an unexpected status {}",
                s.as_u16()
            ),
        ),
    })
}
