//! A request's body, read only once the request may be answered: its content type
//! and declared length are checked before any byte is read (a body declared a few
//! times over the limit is drained before the refusal), then the body is read under
//! the size limit and a deadline.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap};
use http_body_util::{BodyExt, LengthLimitError, Limited};

use crate::error::ApiError;

/// Most bytes, as a multiple of the limit, of a too large body that are read (and
/// dropped) before it is refused.
const DRAINED_TIMES_THE_LIMIT: usize = 4;

/// The JSON body of a request with `headers`: at most `limit` bytes, all of them
/// within `timeout_s` seconds.
pub async fn read_json(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
    timeout_s: f64,
) -> Result<Bytes, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .map_or("none", |v| v.to_str().unwrap_or("unreadable"));
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if !essence.eq_ignore_ascii_case("application/json") {
        return Err(ApiError::unsupported_media_type(content_type));
    }
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if let Some(n) = declared.filter(|&n| n > limit as u64) {
        // A body a few times over the limit is read and dropped first: a client still
        // sending it when the connection closed would see it reset, not this answer.
        // One far over (or announced and never sent) is refused at once.
        if n <= (DRAINED_TIMES_THE_LIMIT * limit) as u64 {
            let drain = async {
                let mut body = body;
                while let Some(Ok(_)) = body.frame().await {}
            };
            let _ =
                tokio::time::timeout(Duration::from_secs_f64(timeout_s.max(0.001)), drain).await;
        }
        return Err(ApiError::too_large(limit));
    }
    let read = Limited::new(body, limit).collect();
    match tokio::time::timeout(Duration::from_secs_f64(timeout_s.max(0.001)), read).await {
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => {
            Err(ApiError::too_large(limit))
        }
        Ok(Err(_)) => Err(ApiError::invalid_request("the request body broke off")),
        Err(_) => Err(ApiError::body_timeout(timeout_s)),
    }
}
