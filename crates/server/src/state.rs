//! The server's shared state: everything a request handler reads.

use std::sync::Arc;
use std::time::Duration;

use axum::http::HeaderName;
use tokio::sync::Semaphore;

use crate::auth::Auth;
use crate::backend::{build_all, Backend};
use crate::client_ip::TrustedProxies;
use crate::config::Config;
use crate::dispatch::Timeouts;
use crate::health::Health;
use crate::limits::RateLimiter;
use crate::metrics::Metrics;
use crate::model_backends::{self, ModelBackends};
use crate::native::encoder::NativeEncoder;
use crate::native::Native;
use crate::store::Store;

/// Everything a request handler needs.
pub struct App {
    /// The configuration the server started with.
    pub config: Config,
    /// Model ids in order; the first chat model is the default of chat requests, the
    /// first embedding model that of embeddings requests.
    pub models: Vec<ModelBackends>,
    /// Bearer tokens.
    pub auth: Auth,
    /// Rate limits kept by this replica.
    pub limiter: RateLimiter,
    /// The state replicas share, when `[redis]` is configured.
    pub store: Option<Arc<Store>>,
    /// Backends cooling down after a failure.
    pub health: Health,
    /// Counters.
    pub metrics: Arc<Metrics>,
    /// Request timeouts.
    pub timeouts: Timeouts,
    /// Client headers that go upstream.
    pub forward: Vec<HeaderName>,
    /// Peers whose `X-Forwarded-For` names the client.
    pub trusted_proxies: TrustedProxies,
    /// Places for chat and embeddings requests being answered
    /// (`limits.max_in_flight`).
    pub in_flight: Arc<Semaphore>,
    /// The native backends (each a model or an encoder on this machine's cores).
    natives: Vec<Arc<Backend>>,
}

impl App {
    /// Build the backends (the native models and encoders start loading) and the
    /// state.
    pub fn new(config: Config) -> Result<Arc<Self>, String> {
        let built = build_all(&config)?;
        let models = model_backends::from_config(&config, &built);
        let natives = built
            .values()
            .filter(|b| b.native().is_some() || b.encoder().is_some())
            .cloned()
            .collect();
        let forward = config
            .forward_headers
            .iter()
            .map(|h| {
                HeaderName::try_from(h.as_str()).map_err(|e| format!("forward_headers {h}: {e}"))
            })
            .collect::<Result<_, _>>()?;
        let (deadline, first_byte, idle) = config.timeouts.durations();
        let store = config
            .redis
            .as_ref()
            .map(Store::new)
            .transpose()?
            .map(Arc::new);
        let cool_down = Duration::from_secs_f64(config.timeouts.cool_down_s.max(0.0));
        Ok(Arc::new(App {
            health: Health::new(store.clone(), cool_down),
            store,
            auth: Auth::from_config(&config.auth)?,
            limiter: RateLimiter::new(
                config.limits.requests_per_minute,
                config.limits.tokens_per_minute,
            ),
            metrics: Arc::default(),
            timeouts: Timeouts {
                deadline,
                first_byte,
                idle,
            },
            trusted_proxies: TrustedProxies::parse(&config.trusted_proxies)?,
            in_flight: Arc::new(Semaphore::new(config.limits.max_in_flight)),
            models,
            forward,
            natives,
            config,
        }))
    }

    /// The native models.
    pub fn natives(&self) -> impl Iterator<Item = &Native> {
        self.natives.iter().filter_map(|b| b.native())
    }

    /// The native encoders.
    pub fn encoders(&self) -> impl Iterator<Item = &NativeEncoder> {
        self.natives.iter().filter_map(|b| b.encoder())
    }

    /// Model `id` and its backends.
    pub fn model(&self, id: &str) -> Option<&ModelBackends> {
        self.models.iter().find(|m| m.id == id)
    }

    /// The model a request without `model` gets: the first embedding model for
    /// embeddings (none without an encoder), else the first chat model (the first
    /// model when all embed).
    pub fn default_model(&self, embeddings: bool) -> Option<&ModelBackends> {
        let first = self.models.iter().find(|m| m.is_embedding() == embeddings);
        match embeddings {
            true => first,
            false => first.or(self.models.first()),
        }
    }
}
