//! The state replicas share, in Redis (`[redis] url`): rate-limit counters per client
//! and minute, revoked tokens, and the backends cooling down after a failure. Every
//! call is bounded by a short timeout and answers `None` when Redis cannot be reached;
//! the caller then falls back to this replica's own state (or refuses, when the config
//! says `fail_closed`). After a failure Redis is left alone for a second (calls answer
//! `None` at once, so a replica without Redis stays fast), then tried again.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncCommands, Script};

use crate::config;
use crate::error::ApiError;

/// The most one call to Redis may take before the replica goes on without it.
const CALL: Duration = Duration::from_millis(250);

/// How long Redis is left alone after a failure.
const PAUSE: Duration = Duration::from_secs(1);

/// Check every client's request and token counters for this minute, and count the
/// request only if all are under their limits. KEYS: request and token counter of
/// each client in turn; ARGV: requests and tokens per minute (0 = no limit). Returns
/// 0, or 1 (requests) or 2 (tokens) for the limit that was reached.
const ADMIT: &str = r"
local rpm, tpm = tonumber(ARGV[1]), tonumber(ARGV[2])
for i = 1, #KEYS, 2 do
  if rpm > 0 and tonumber(redis.call('GET', KEYS[i]) or '0') >= rpm then return 1 end
  if tpm > 0 and tonumber(redis.call('GET', KEYS[i + 1]) or '0') >= tpm then return 2 end
end
for i = 1, #KEYS, 2 do
  redis.call('INCR', KEYS[i])
  redis.call('EXPIRE', KEYS[i], 120)
end
return 0
";

/// The shared store of one replica.
pub struct Store {
    client: redis::Client,
    connection: Mutex<Option<ConnectionManager>>,
    failed_at: Mutex<Option<Instant>>,
    up: AtomicBool,
    prefix: String,
    /// Refuse requests while Redis cannot be reached (else serve on local state).
    pub fail_closed: bool,
    admit: Script,
}

/// The current minute since the Unix epoch, and the seconds left in it.
fn minute() -> (u64, u64) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    (now / 60, 60 - now % 60)
}

impl Store {
    /// A store for `config` (nothing is connected yet).
    pub fn new(config: &config::Redis) -> Result<Self, String> {
        let client =
            redis::Client::open(config.url.as_str()).map_err(|e| format!("redis url: {e}"))?;
        Ok(Store {
            client,
            connection: Mutex::new(None),
            failed_at: Mutex::new(None),
            up: AtomicBool::new(true),
            prefix: config.key_prefix.clone(),
            fail_closed: config.fail_closed,
            admit: Script::new(ADMIT),
        })
    }

    /// Whether the last call reached Redis (assumed until one fails).
    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::Relaxed)
    }

    /// Whether Redis answers now.
    pub async fn ping(&self) -> bool {
        let pong: Option<String> = self
            .run(|mut c| async move { redis::cmd("PING").query_async(&mut c).await })
            .await;
        pong.is_some()
    }

    fn key(&self, parts: &[&str]) -> String {
        let mut key = self.prefix.clone();
        for part in parts {
            key.push(':');
            key.push_str(part);
        }
        key
    }

    /// The connection, made now if there is none.
    async fn connection(&self) -> redis::RedisResult<ConnectionManager> {
        if let Some(c) = self.connection.lock().expect("redis lock").clone() {
            return Ok(c);
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CALL))
            .set_response_timeout(Some(CALL))
            .set_number_of_retries(1);
        let c = ConnectionManager::new_with_config(self.client.clone(), config).await?;
        *self.connection.lock().expect("redis lock") = Some(c.clone());
        Ok(c)
    }

    /// Run `call` within [`CALL`]; `None` when Redis is unreachable, or failed less
    /// than [`PAUSE`] ago.
    async fn run<T, F>(&self, call: impl FnOnce(ConnectionManager) -> F) -> Option<T>
    where
        F: std::future::Future<Output = redis::RedisResult<T>>,
    {
        let failed_at = *self.failed_at.lock().expect("redis lock");
        if failed_at.is_some_and(|t| t.elapsed() < PAUSE) {
            return None;
        }
        let answer = tokio::time::timeout(CALL, async {
            let connection = self.connection().await?;
            call(connection).await
        })
        .await;
        let why = match answer {
            Ok(Ok(value)) => {
                *self.failed_at.lock().expect("redis lock") = None;
                if !self.up.swap(true, Ordering::Relaxed) {
                    tracing::info!("redis answers: state is shared");
                }
                return Some(value);
            }
            Ok(Err(e)) => e.to_string(),
            Err(_) => "no answer in time".to_string(),
        };
        *self.failed_at.lock().expect("redis lock") = Some(Instant::now());
        if self.up.swap(false, Ordering::Relaxed) {
            tracing::warn!("redis cannot be reached, serving on this replica's state: {why}");
        }
        None
    }

    /// Let one request of each client in `keys` through this minute, or say when to
    /// retry; `None` when Redis is unreachable.
    pub async fn admit(
        &self,
        keys: &[String],
        requests_per_minute: u32,
        tokens_per_minute: u32,
    ) -> Option<Result<(), ApiError>> {
        let (now, left) = minute();
        let now = now.to_string();
        let mut invocation = self.admit.prepare_invoke();
        for key in keys {
            invocation.key(self.key(&["requests", key, &now]));
            invocation.key(self.key(&["tokens", key, &now]));
        }
        invocation.arg(requests_per_minute).arg(tokens_per_minute);
        let reached: u8 = self
            .run(|mut c| async move { invocation.invoke_async(&mut c).await })
            .await?;
        Some(match reached {
            0 => Ok(()),
            1 => Err(ApiError::rate_limited("requests per minute", left)),
            _ => Err(ApiError::rate_limited("tokens per minute", left)),
        })
    }

    /// Add `tokens` to this minute's count of each client in `keys`.
    pub async fn charge(&self, keys: &[String], tokens: usize) {
        let now = minute().0.to_string();
        let mut pipe = redis::pipe();
        for key in keys {
            let key = self.key(&["tokens", key, &now]);
            pipe.incr(&key, tokens).ignore().expire(&key, 120).ignore();
        }
        self.run(|mut c| async move { pipe.query_async::<()>(&mut c).await })
            .await;
    }

    /// Revoke the token `id` for `lifetime` (what is left of it).
    pub async fn revoke(&self, id: &str, lifetime: Duration) -> Option<()> {
        let key = self.key(&["revoked", id]);
        let ttl = lifetime.as_secs().max(1);
        self.run(|mut c| async move { c.set_ex::<_, _, ()>(key, 1, ttl).await })
            .await
    }

    /// Whether the token `id` was revoked; `None` when Redis is unreachable.
    pub async fn is_revoked(&self, id: &str) -> Option<bool> {
        let key = self.key(&["revoked", id]);
        self.run(|mut c| async move { c.exists(key).await }).await
    }

    /// Say every replica should skip `name` for `cool_down`.
    pub async fn cool_down(&self, name: &str, cool_down: Duration) {
        let key = self.key(&["cooling", name]);
        let ms = cool_down.as_millis().max(1) as u64;
        self.run(|mut c| async move { c.pset_ex::<_, _, ()>(key, 1, ms).await })
            .await;
    }

    /// Which of `names` some replica has sent to cool down; `None` when Redis is
    /// unreachable.
    pub async fn cooling(&self, names: &[&str]) -> Option<Vec<bool>> {
        let keys: Vec<String> = names.iter().map(|n| self.key(&["cooling", n])).collect();
        let values: Vec<Option<u8>> = self
            .run(|mut c| async move { redis::cmd("MGET").arg(keys).query_async(&mut c).await })
            .await?;
        Some(values.into_iter().map(|v| v.is_some()).collect())
    }
}
