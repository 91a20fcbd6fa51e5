//! The small endpoints: `/healthz`, `/v1/models`, `/metrics`.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::native::Status;
use crate::state::App;

/// 200 when the native models and encoders (if any) are ready, 503 while one loads
/// or if one failed; `degraded` while the shared store cannot be reached (503 if that refuses
/// requests).
pub async fn healthz(State(app): State<Arc<App>>) -> Response {
    // The worst of the native models' and encoders' states: failed, then loading,
    // then ready.
    let statuses = app.natives().map(|n| n.status());
    let status = (statuses.chain(app.encoders().map(|e| e.status()))).max_by_key(|s| match s {
        Status::Ready => 0,
        Status::Loading => 1,
        Status::Failed(_) => 2,
    });
    if let (None | Some(Status::Ready), Some(store)) = (&status, &app.store) {
        if !store.ping().await {
            let code = match store.fail_closed {
                true => StatusCode::SERVICE_UNAVAILABLE,
                false => StatusCode::OK,
            };
            let body = json!({"status": "degraded", "redis": "unreachable"});
            return (code, Json(body)).into_response();
        }
    }
    match status {
        None | Some(Status::Ready) => Json(json!({"status": "ok"})).into_response(),
        Some(Status::Loading) => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "1")],
            Json(json!({"status": "loading"})),
        )
            .into_response(),
        Some(Status::Failed(why)) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "failed", "message": why})),
        )
            .into_response(),
    }
}

/// The model ids clients may ask for, chat and embedding models alike.
pub async fn models(State(app): State<Arc<App>>) -> Json<serde_json::Value> {
    let data: Vec<_> = app
        .models
        .iter()
        .map(|m| json!({"id": m.id, "object": "model", "created": 0, "owned_by": "tandem"}))
        .collect();
    Json(json!({"object": "list", "data": data}))
}

/// Prometheus metrics.
pub async fn metrics(State(app): State<Arc<App>>) -> impl IntoResponse {
    let native = app
        .natives()
        .map(|n| (n.queued(), n.running()))
        .reduce(|(q, r), (q2, r2)| (q + q2, r + r2));
    let encoders_queued = app.encoders().map(|e| e.queued()).reduce(|a, b| a + b);
    let redis_up = app.store.as_ref().map(|s| s.is_up());
    let upstreams: BTreeMap<_, _> = app
        .models
        .iter()
        .flat_map(|m| &m.backends)
        .filter_map(|b| Some((b.name.clone(), b.backend.upstream()?.figures())))
        .collect();
    let upstreams: Vec<_> = upstreams.into_iter().collect();
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        app.metrics
            .render(native, encoders_queued, redis_up, &upstreams),
    )
}
