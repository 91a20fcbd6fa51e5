//! API errors as OpenAI's error object with the matching HTTP status.

use std::borrow::Cow;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use tandem_core::protocol::{ErrorBody, ErrorObject};

/// An error answered to the client: before a stream started as a status and body,
/// after it as a `data: {"error": …}` frame.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Human-readable message (never a prompt or a credential).
    pub message: String,
    /// OpenAI's error class, e.g. `invalid_request_error`.
    pub kind: &'static str,
    /// Stable code, e.g. `context_length_exceeded`.
    pub code: &'static str,
    /// The request field at fault (a field of the API, or an unknown one the client
    /// sent).
    pub param: Option<Cow<'static, str>>,
    /// Seconds to wait before retrying (429, 503).
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// Whether this says the backend itself is in trouble (unreachable, failing,
    /// timing out, rate limited), so it should cool down; a full native queue or a
    /// request a provider cannot take (501) says nothing about the next request.
    pub fn is_backend_trouble(&self) -> bool {
        matches!(self.status.as_u16(), 502 | 504) || self.code == "upstream_rate_limited"
    }

    fn new(status: StatusCode, kind: &'static str, code: &'static str, message: String) -> Self {
        ApiError {
            status,
            message,
            kind,
            code,
            param: None,
            retry_after: None,
        }
    }

    /// The same error, naming `param` as the field at fault.
    pub fn at(self, param: impl Into<Cow<'static, str>>) -> Self {
        ApiError {
            param: Some(param.into()),
            ..self
        }
    }

    /// 400: the request is malformed.
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "invalid_request",
            message.into(),
        )
    }

    /// 401: no valid bearer token.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            "invalid_api_key",
            message.into(),
        )
    }

    /// 404: no such model.
    pub fn model_not_found(model: &str) -> Self {
        Self {
            param: Some("model".into()),
            ..Self::new(
                StatusCode::NOT_FOUND,
                "invalid_request_error",
                "model_not_found",
                format!("the model {model:?} does not exist; GET /v1/models lists them"),
            )
        }
    }

    /// 404: no such API path.
    pub fn path_not_found(path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            "not_found",
            format!(
                "no API at {path}; the API is POST /v1/chat/completions, POST /v1/completions, \
                 POST /v1/embeddings and GET /v1/models"
            ),
        )
    }

    /// 405: the path exists, but not for this method.
    pub fn method_not_allowed(method: &str, path: &str) -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "invalid_request_error",
            "method_not_allowed",
            format!("{method} is not allowed on {path}"),
        )
    }

    /// 413: the body is over the limit.
    pub fn too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request_error",
            "request_too_large",
            format!("the request body is over the limit of {limit} bytes"),
        )
    }

    /// 413: an embeddings request's texts have `tokens` together (`about`: an
    /// estimate), over `limit`.
    pub fn too_many_tokens(tokens: usize, about: bool, limit: usize) -> Self {
        let about = if about { "about " } else { "" };
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request_error",
            "request_too_large",
            format!(
                "the inputs have {about}{tokens} tokens together, over this server's limit \
                 of {limit} per request; send them in several requests"
            ),
        )
        .at("input")
    }

    /// 415: the body is not declared as JSON.
    pub fn unsupported_media_type(got: &str) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "invalid_request_error",
            "unsupported_media_type",
            format!("the body must be sent as content-type application/json, not {got:?}"),
        )
    }

    /// 408: the body did not arrive in time.
    pub fn body_timeout(seconds: f64) -> Self {
        Self::new(
            StatusCode::REQUEST_TIMEOUT,
            "invalid_request_error",
            "request_timeout",
            format!("the request body did not arrive within {seconds} s"),
        )
    }

    /// 429: this client sent too much; retry after `seconds`.
    pub fn rate_limited(what: &str, seconds: u64) -> Self {
        Self {
            retry_after: Some(seconds.max(1)),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limit_error",
                "rate_limit_exceeded",
                format!("rate limit of {what} reached; retry in {seconds} s"),
            )
        }
    }

    /// 503: the server is busy or not ready; retry after `seconds`.
    pub fn overloaded(message: impl Into<String>, seconds: u64) -> Self {
        Self {
            retry_after: Some(seconds.max(1)),
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "server_error",
                "overloaded",
                message.into(),
            )
        }
    }

    /// 502: an upstream provider failed (`code` says how).
    pub fn upstream(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_GATEWAY,
            "server_error",
            code,
            message.into(),
        )
    }

    /// 504: the deadline or a timeout passed.
    pub fn timeout(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::GATEWAY_TIMEOUT,
            "server_error",
            "timeout",
            message.into(),
        )
    }

    /// The OpenAI error body.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorObject {
                message: self.message.clone(),
                kind: self.kind.into(),
                param: self.param.clone().map(Into::into),
                code: Some(self.code.into()),
            },
        }
    }
}

impl From<tandem_core::Error> for ApiError {
    fn from(e: tandem_core::Error) -> Self {
        use tandem_core::Error as E;
        let message = e.to_string();
        match e {
            E::InvalidRequest(_) | E::Template(_) | E::NoRoute(_) => ApiError {
                code: e.code(),
                ..Self::invalid_request(message)
            },
            E::ContextLengthExceeded { .. } => ApiError {
                code: e.code(),
                param: Some("messages".into()),
                ..Self::invalid_request(message)
            },
            E::Aborted => Self::new(
                StatusCode::REQUEST_TIMEOUT,
                "server_error",
                e.code(),
                message,
            ),
            E::ModelInvalid(_) | E::UnsupportedModel(_) | E::OutOfMemory(_) => {
                Self::overloaded(message, 60)
            }
            E::Inference(_) => Self::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                e.code(),
                message,
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body())).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_errors_keep_their_codes() {
        let e = ApiError::from(tandem_core::Error::ContextLengthExceeded {
            prompt_tokens: 9000,
            max_tokens: 10,
            context_window: 8192,
        });
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        let body = serde_json::to_value(e.body()).unwrap();
        assert_eq!(body["error"]["code"], "context_length_exceeded");
        assert_eq!(body["error"]["type"], "invalid_request_error");
        assert_eq!(body["error"]["param"], "messages");
    }
}
