//! The HTTP surface: the handlers under their paths, with CORS and the cross-origin
//! isolation headers, and serving it.

use std::sync::Arc;
use std::time::Duration;

use axum::http::{header, HeaderName, HeaderValue, Method, Uri};
use axum::routing::{any, get, post, MethodRouter};
use axum::Router;
use tokio::net::TcpListener;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::error::ApiError;
use crate::state::App;
use crate::{chat, connections, embeddings, info, static_files};

/// The whole HTTP surface: the API, the small endpoints and the static files.
pub fn router(app: Arc<App>) -> Router {
    let origins = app
        .config
        .cors_origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok());
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .expose_headers([header::RETRY_AFTER])
        .max_age(Duration::from_secs(600));
    let isolate = |name: &'static str, value: &'static str| {
        SetResponseHeaderLayer::overriding(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        )
    };
    let statics = static_files::router(&app.config.static_dirs);
    Router::new()
        .route("/v1/chat/completions", api(post(chat::completions)))
        .route("/v1/completions", api(post(chat::text_completions)))
        .route("/v1/embeddings", api(post(embeddings::embeddings)))
        .route("/v1/models", api(get(info::models)))
        .route("/v1/{*rest}", any(path_not_found))
        .route("/healthz", api(get(info::healthz)))
        .route("/metrics", api(get(info::metrics)))
        .with_state(app)
        .merge(statics)
        .layer(cors)
        .layer(isolate("cross-origin-opener-policy", "same-origin"))
        .layer(isolate("cross-origin-embedder-policy", "require-corp"))
}

/// An API route whose other methods get OpenAI's error object with a 405.
fn api(route: MethodRouter<Arc<App>>) -> MethodRouter<Arc<App>> {
    route.fallback(|method: Method, uri: Uri| async move {
        ApiError::method_not_allowed(method.as_str(), uri.path())
    })
}

/// An unknown path under /v1: OpenAI's error object with a 404.
async fn path_not_found(uri: Uri) -> ApiError {
    ApiError::path_not_found(uri.path())
}

/// Serve `app` on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    app: Arc<App>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = app.config.connections.clone();
    let metrics = app.metrics.clone();
    connections::serve(listener, router(app), &limits, metrics, shutdown).await
}
