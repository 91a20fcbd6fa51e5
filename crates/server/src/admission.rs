//! Whether a request may be served now: its clients' rate limits, counted in the
//! shared store when there is one and it answers, else on this replica; and whether
//! its signed token was revoked. The tokens a reply used are charged to both.

use std::sync::Arc;

use crate::error::ApiError;
use crate::state::App;

/// The store is configured `fail_closed` and cannot be reached.
fn store_unreachable() -> ApiError {
    ApiError::overloaded("the shared state (Redis) cannot be reached", 1)
}

/// Let one request of each client in `keys` through, or say when to retry.
pub async fn admit(app: &App, keys: &[String]) -> Result<(), ApiError> {
    if let Some(store) = &app.store {
        let limits = &app.config.limits;
        let shared = store
            .admit(keys, limits.requests_per_minute, limits.tokens_per_minute)
            .await;
        match shared {
            Some(answer) => return answer,
            None if store.fail_closed => return Err(store_unreachable()),
            None => {}
        }
    }
    app.limiter.admit(keys)
}

/// Refuse the signed token `id` if it was revoked.
pub async fn not_revoked(app: &App, id: &str) -> Result<(), ApiError> {
    let Some(store) = &app.store else {
        return Ok(());
    };
    match store.is_revoked(id).await {
        Some(true) => Err(ApiError::unauthorized("the bearer token was revoked")),
        Some(false) => Ok(()),
        None if store.fail_closed => Err(store_unreachable()),
        None => Ok(()),
    }
}

/// Charge `tokens` to each client in `keys`: here at once, and in the store (when
/// there is one) in the background.
pub fn charge(app: &Arc<App>, keys: Vec<String>, tokens: usize) {
    app.limiter.charge(&keys, tokens);
    let Some(store) = app.store.clone() else {
        return;
    };
    if tokens == 0 || app.config.limits.tokens_per_minute == 0 {
        return;
    }
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        runtime.spawn(async move { store.charge(&keys, tokens).await });
    }
}
