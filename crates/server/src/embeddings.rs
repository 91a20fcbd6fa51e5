//! `POST /v1/embeddings`: rate limits and auth before the body is read, a place among
//! the requests in flight, the body (intake.rs) read as OpenAI's embeddings request
//! (embedding_request.rs), this server's cap on texts, model routing (an embedding
//! model's backends, or an OpenAI-compatible chat model's, in fallback order), then
//! the vectors in OpenAI's shape. Native encoders count tokens exactly; the token cap
//! is theirs and the upstream backend's to apply.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use tandem_core::protocol::{EmbeddingRequest, EmbeddingResponse, MAX_EMBEDDING_INPUTS};

use crate::backend::cannot_embed;
use crate::call::EmbedCall;
use crate::dispatch::first_answer;
use crate::embedding_request;
use crate::error::ApiError;
use crate::intake;
use crate::state::App;
use crate::tally::Tally;

/// `POST /v1/embeddings`.
pub async fn embeddings(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let mut tally = Tally::embeddings(app.clone(), Instant::now());
    match answer(&app, peer, &headers, body, &mut tally).await {
        Ok(response) => {
            tally.embedded(response.data.len(), response.usage.prompt_tokens);
            tally.end(200);
            Json(response).into_response()
        }
        Err(e) => {
            tally.end(e.status.as_u16());
            e.into_response()
        }
    }
}

/// Everything up to the vectors.
async fn answer(
    app: &App,
    peer: SocketAddr,
    headers: &HeaderMap,
    body: Body,
    tally: &mut Tally,
) -> Result<EmbeddingResponse, ApiError> {
    let text = intake::enter(app, peer, headers, body, tally).await?;
    let request = embedding_request::parse(&text)?;
    check(app, &request)?;
    let model = intake::model(app, request.model.as_deref(), true)?;
    if let Some(b) = model.cannot_embed() {
        return Err(cannot_embed(&model.id, b.backend.kind()));
    }
    let call = EmbedCall {
        model: model.id.clone(),
        forward: intake::forwarded(app, headers),
        max_tokens: app.config.limits.max_embedding_tokens,
    };
    let deadline = tokio::time::Instant::now() + app.timeouts.deadline;
    let (backend, response) = first_answer(
        &model.backends,
        app.timeouts,
        deadline,
        &app.health,
        |backend| backend.embed(&request, &call),
    )
    .await?;
    tally.backend(&backend, 0);
    Ok(response)
}

/// OpenAI's rules (at least one text, at most 2,048, `dimensions` at least 1) and
/// this server's cap on texts.
fn check(app: &App, request: &EmbeddingRequest) -> Result<(), ApiError> {
    let n = request.texts().len();
    if let Err(e) = request.validate() {
        let param = match (1..=MAX_EMBEDDING_INPUTS).contains(&n) {
            true => "dimensions",
            false => "input",
        };
        return Err(ApiError::from(e).at(param));
    }
    let limit = app.config.limits.max_embedding_inputs;
    if n > limit {
        return Err(ApiError::invalid_request(format!(
            "input has {n} texts, over this server's limit of {limit} per request"
        ))
        .at("input"));
    }
    Ok(())
}
