//! `POST /v1/chat/completions` and `POST /v1/completions`: rate limits and auth before
//! the body is read, a place among the requests in flight, the body (intake.rs),
//! request caps, model routing, then the reply streamed as SSE or folded into one
//! response. A
//! completions request runs as a chat request carrying its raw prompt, and its reply
//! goes out in the completions API's shape.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures_util::StreamExt;
use tandem_core::protocol::{CompletionBuilder, CompletionRequest};
use tandem_core::{ChatCompletion, ChatCompletionRequest};

use crate::call::{Call, ChunkStream};
use crate::config::Limits;
use crate::dispatch::dispatch;
use crate::error::ApiError;
use crate::intake;
use crate::shape::Shape;
use crate::sse;
use crate::state::App;
use crate::tally::Tally;

/// `POST /v1/chat/completions`.
pub async fn completions(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    answer(app, peer, headers, body, Shape::Chat).await
}

/// `POST /v1/completions`.
pub async fn text_completions(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    answer(app, peer, headers, body, Shape::Text).await
}

/// A request of either API, answered in its shape.
async fn answer(
    app: Arc<App>,
    peer: SocketAddr,
    headers: HeaderMap,
    body: Body,
    shape: Shape,
) -> Response {
    let mut tally = Tally::new(app.clone(), Instant::now());
    let result = match open(&app, peer, &headers, body, shape, &mut tally).await {
        Ok((request, chunks)) if request.is_stream() => {
            return sse::response(chunks, tally, request.include_usage(), shape)
        }
        Ok((_, chunks)) => fold(chunks, &mut tally).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(completion) => {
            tally.end(200);
            Json(shape.whole(completion)).into_response()
        }
        Err(e) => {
            tally.end(e.status.as_u16());
            e.into_response()
        }
    }
}

/// Everything up to the backend's first chunk.
async fn open(
    app: &App,
    peer: SocketAddr,
    headers: &HeaderMap,
    body: Body,
    shape: Shape,
    tally: &mut Tally,
) -> Result<(ChatCompletionRequest, ChunkStream), ApiError> {
    let text = intake::enter(app, peer, headers, body, tally).await?;
    let mut request = match shape {
        Shape::Chat => ChatCompletionRequest::from_json(&text)?,
        Shape::Text => CompletionRequest::from_json(&text)?.into_chat()?,
    };
    request.validate()?;
    let prompt_estimate = cap(&app.config.limits, &mut request)?;
    let model = intake::model(app, request.model.as_deref(), false)?;
    let id = model.id.clone();
    let forward = intake::forwarded(app, headers);
    let call = Call {
        // The completions API's objects turn this into `cmpl-…`.
        id: format!("chatcmpl-{}", hex(&rand::random::<[u8; 12]>())),
        created: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        model: id,
        forward,
        max_prompt_tokens: app.config.limits.max_prompt_tokens,
    };
    let (backend, chunks) =
        dispatch(&model.backends, &request, &call, app.timeouts, &app.health).await?;
    tally.backend(&backend, prompt_estimate);
    Ok((request, chunks))
}

/// Apply this server's caps: messages, `max_tokens` (the cap when none is given),
/// and an estimate of prompt tokens (4 bytes a token; native counts exactly), which
/// is returned.
fn cap(limits: &Limits, request: &mut ChatCompletionRequest) -> Result<usize, ApiError> {
    if request.messages.len() > limits.max_messages {
        return Err(ApiError {
            param: Some("messages".into()),
            ..ApiError::invalid_request(format!(
                "{} messages is over this server's limit of {}",
                request.messages.len(),
                limits.max_messages
            ))
        });
    }
    let asked = request.token_limit();
    match asked {
        Some(n) if n > limits.max_tokens => {
            return Err(ApiError {
                param: Some("max_tokens".into()),
                ..ApiError::invalid_request(format!(
                    "max_tokens = {n} is over this server's limit of {}",
                    limits.max_tokens
                ))
            })
        }
        Some(_) => {}
        None => request.max_tokens = Some(limits.max_tokens),
    }
    let bytes = request.prompt_bytes();
    if bytes / 4 > limits.max_prompt_tokens {
        return Err(ApiError {
            code: "context_length_exceeded",
            param: Some(request.prompt_field().into()),
            ..ApiError::invalid_request(format!(
                "the prompt (about {} tokens) is over this server's limit of {}",
                bytes / 4,
                limits.max_prompt_tokens
            ))
        });
    }
    Ok(bytes / 4)
}

/// Fold a reply into one response (`stream: false`).
async fn fold(mut chunks: ChunkStream, tally: &mut Tally) -> Result<ChatCompletion, ApiError> {
    let mut builder = CompletionBuilder::default();
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk?;
        tally.observe(&chunk);
        builder.push(chunk);
    }
    builder
        .finish()
        .ok_or_else(|| ApiError::upstream("upstream_truncated", "the backend sent nothing"))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
