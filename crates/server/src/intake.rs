//! The way into every API request (chat, completions, embeddings), before anything
//! API-specific: rate limits and auth before the body is read, a place among the
//! requests in flight, the body as JSON text; and the pieces every API then needs:
//! the model asked for (or the default), the client headers that go upstream.

use std::net::SocketAddr;

use axum::body::Body;
use axum::http::HeaderMap;

use crate::admission;
use crate::error::ApiError;
use crate::model_backends::ModelBackends;
use crate::request_body::read_json;
use crate::state::App;
use crate::tally::Tally;

/// Admit the client (per IP, then per token, which must be valid and not revoked),
/// take a place among the requests in flight (held by `tally`), then read the body:
/// its JSON text.
pub async fn enter(
    app: &App,
    peer: SocketAddr,
    headers: &HeaderMap,
    body: Body,
    tally: &mut Tally,
) -> Result<String, ApiError> {
    let ip = format!("ip:{}", app.trusted_proxies.client(peer.ip(), headers));
    admission::admit(app, std::slice::from_ref(&ip)).await?;
    let caller = app.auth.check(headers)?;
    if let Some(caller) = &caller {
        if let Some(id) = &caller.signed_id {
            admission::not_revoked(app, id).await?;
        }
        admission::admit(app, std::slice::from_ref(&caller.key)).await?;
    }
    tally.clients(caller.into_iter().map(|c| c.key).chain([ip]).collect());
    let place = app.in_flight.clone().try_acquire_owned().map_err(|_| {
        ApiError::overloaded("the server is answering as many requests as it takes", 1)
    })?;
    tally.hold(place);
    let body = read_json(
        headers,
        body,
        app.config.body_limit,
        app.config.connections.body_timeout_s,
    )
    .await?;
    String::from_utf8(body.into()).map_err(|_| ApiError::invalid_request("the body is not UTF-8"))
}

/// The model `asked` for, or without one the default for chat or `embeddings`;
/// 404 for an id this server does not have, 400 for an embeddings request without a
/// model when no encoder gives a default.
pub fn model<'a>(
    app: &'a App,
    asked: Option<&str>,
    embeddings: bool,
) -> Result<&'a ModelBackends, ApiError> {
    match asked {
        Some(id) => app.model(id).ok_or_else(|| ApiError::model_not_found(id)),
        None => app.default_model(embeddings).ok_or_else(|| {
            ApiError::invalid_request(
                "model is required: this server has no native encoder to embed with by \
                 default (GET /v1/models lists the models)",
            )
            .at("model")
        }),
    }
}

/// The client headers allowed upstream by `forward_headers`.
pub fn forwarded(app: &App, headers: &HeaderMap) -> HeaderMap {
    app.forward
        .iter()
        .filter_map(|name| Some((name.clone(), headers.get(name)?.clone())))
        .collect()
}
