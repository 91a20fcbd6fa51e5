//! The server: its shared state and the router with CORS, the body limit and the
//! cross-origin isolation headers.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderName, HeaderValue, Method};
use axum::routing::{get, post};
use axum::Router;
use tokio::net::TcpListener;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::auth::Auth;
use crate::backend::{build_all, Backend};
use crate::config::Config;
use crate::dispatch::Timeouts;
use crate::limits::RateLimiter;
use crate::metrics::Metrics;
use crate::native::Native;
use crate::{chat, info, static_files};

/// A model id and its backends in fallback order.
pub type Route = (String, Vec<(String, Arc<Backend>)>);

/// Everything a request handler needs.
pub struct App {
    /// The configuration the server started with.
    pub config: Config,
    /// Model ids in order; the first is the default.
    pub routes: Vec<Route>,
    /// Bearer tokens.
    pub auth: Auth,
    /// Rate limits.
    pub limiter: RateLimiter,
    /// Counters.
    pub metrics: Metrics,
    /// Request timeouts.
    pub timeouts: Timeouts,
    /// Client headers that go upstream.
    pub forward: Vec<HeaderName>,
    native: Option<Arc<Backend>>,
}

impl App {
    /// Build the backends (the native model starts loading) and the state.
    pub fn new(config: Config) -> Result<Arc<Self>, String> {
        let backends: BTreeMap<String, Arc<Backend>> = build_all(&config)?;
        let routes = config
            .models
            .iter()
            .map(|m| {
                let chain = m
                    .backends
                    .iter()
                    .map(|b| (b.clone(), backends[b].clone()))
                    .collect();
                (m.id.clone(), chain)
            })
            .collect();
        let native = backends.values().find(|b| b.native().is_some()).cloned();
        let forward = config
            .forward_headers
            .iter()
            .map(|h| {
                HeaderName::try_from(h.as_str()).map_err(|e| format!("forward_headers {h}: {e}"))
            })
            .collect::<Result<_, _>>()?;
        let (deadline, first_byte, idle) = config.timeouts.durations();
        Ok(Arc::new(App {
            auth: Auth::from_config(&config.auth)?,
            limiter: RateLimiter::new(
                config.limits.requests_per_minute,
                config.limits.tokens_per_minute,
            ),
            metrics: Metrics::default(),
            timeouts: Timeouts {
                deadline,
                first_byte,
                idle,
            },
            routes,
            forward,
            native,
            config,
        }))
    }

    /// The native model, if one is configured.
    pub fn native(&self) -> Option<&Native> {
        self.native.as_ref().and_then(|b| b.native())
    }

    /// The backends of model `id`.
    pub fn route(&self, id: &str) -> Option<&Route> {
        self.routes.iter().find(|(m, _)| m == id)
    }
}

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
    let body_limit = app.config.body_limit;
    let statics = static_files::router(&app.config.static_dirs);
    Router::new()
        .route("/v1/chat/completions", post(chat::completions))
        .route("/v1/models", get(info::models))
        .route("/healthz", get(info::healthz))
        .route("/metrics", get(info::metrics))
        .with_state(app)
        .merge(statics)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(cors)
        .layer(isolate("cross-origin-opener-policy", "same-origin"))
        .layer(isolate("cross-origin-embedder-policy", "require-corp"))
}

/// Serve `app` on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    app: Arc<App>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let service = router(app).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, service)
        .with_graceful_shutdown(shutdown)
        .await
}
