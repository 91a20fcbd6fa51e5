//! Per-client rate limits: requests and tokens per minute as token buckets, keyed by
//! bearer token or client IP. Tokens are charged when a reply ends; a client over
//! its budget waits until the bucket refills. The table is bounded: a bucket that has
//! refilled is forgotten (a new one starts full), and past [`MAX_CLIENTS`] the
//! clients seen least recently go, so no client scans a huge table.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use crate::error::ApiError;

/// Most buckets kept. Reaching it trims the table to half, so the trimming scan runs at
/// most once every `MAX_CLIENTS / 2` new clients.
pub const MAX_CLIENTS: usize = 10_000;

struct Bucket {
    requests: f64,
    tokens: f64,
    at: Instant,
}

/// Requests and tokens per minute per client; 0 turns a limit off.
pub struct RateLimiter {
    requests_per_minute: f64,
    tokens_per_minute: f64,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimiter {
    /// A limiter with the given budgets per minute.
    pub fn new(requests_per_minute: u32, tokens_per_minute: u32) -> Self {
        RateLimiter {
            requests_per_minute: requests_per_minute.into(),
            tokens_per_minute: tokens_per_minute.into(),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    fn bucket<'a>(&self, buckets: &'a mut HashMap<String, Bucket>, key: &str) -> &'a mut Bucket {
        let now = Instant::now();
        let (rpm, tpm) = (self.requests_per_minute, self.tokens_per_minute);
        if buckets.len() >= MAX_CLIENTS && !buckets.contains_key(key) {
            self.trim(buckets, now);
        }
        let b = buckets.entry(key.to_string()).or_insert(Bucket {
            requests: rpm,
            tokens: tpm,
            at: now,
        });
        let minutes = now.duration_since(b.at).as_secs_f64() / 60.0;
        b.requests = (b.requests + rpm * minutes).min(rpm);
        b.tokens = (b.tokens + tpm * minutes).min(tpm);
        b.at = now;
        b
    }

    /// Forget the buckets that have refilled by `now`, then, while more than half of
    /// [`MAX_CLIENTS`] remain, those seen least recently.
    fn trim(&self, buckets: &mut HashMap<String, Bucket>, now: Instant) {
        let (rpm, tpm) = (self.requests_per_minute, self.tokens_per_minute);
        buckets.retain(|_, b| {
            let minutes = now.duration_since(b.at).as_secs_f64() / 60.0;
            b.requests + rpm * minutes < rpm || b.tokens + tpm * minutes < tpm
        });
        let keep = MAX_CLIENTS / 2;
        if buckets.len() > keep {
            let mut seen: Vec<Instant> = buckets.values().map(|b| b.at).collect();
            let cut = seen.len() - keep;
            let oldest_kept = *seen.select_nth_unstable(cut).1;
            buckets.retain(|_, b| b.at >= oldest_kept);
        }
    }

    /// How many clients the table holds.
    pub fn clients(&self) -> usize {
        self.buckets.lock().expect("rate limit lock").len()
    }

    /// Let one request of each client in `keys` through, or say when to retry.
    pub fn admit(&self, keys: &[String]) -> Result<(), ApiError> {
        if self.requests_per_minute == 0.0 && self.tokens_per_minute == 0.0 {
            return Ok(());
        }
        let mut buckets = self.buckets.lock().expect("rate limit lock");
        let wait = |missing: f64, per_minute: f64| (missing * 60.0 / per_minute).ceil() as u64;
        for key in keys {
            let b = self.bucket(&mut buckets, key);
            if self.requests_per_minute > 0.0 && b.requests < 1.0 {
                let s = wait(1.0 - b.requests, self.requests_per_minute);
                return Err(ApiError::rate_limited("requests per minute", s));
            }
            if self.tokens_per_minute > 0.0 && b.tokens < 1.0 {
                let s = wait(1.0 - b.tokens, self.tokens_per_minute);
                return Err(ApiError::rate_limited("tokens per minute", s));
            }
        }
        for key in keys {
            self.bucket(&mut buckets, key).requests -= 1.0;
        }
        Ok(())
    }

    /// Charge `tokens` to each client in `keys`.
    pub fn charge(&self, keys: &[String], tokens: usize) {
        if self.tokens_per_minute == 0.0 {
            return;
        }
        let mut buckets = self.buckets.lock().expect("rate limit lock");
        for key in keys {
            self.bucket(&mut buckets, key).tokens -= tokens as f64;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_run_out_and_say_when_to_retry() {
        let limiter = RateLimiter::new(2, 100);
        let me = vec!["ip:1".to_string()];
        limiter.admit(&me).unwrap();
        limiter.admit(&me).unwrap();
        let e = limiter.admit(&me).unwrap_err();
        assert_eq!((e.status.as_u16(), e.retry_after), (429, Some(30)));
        limiter.admit(&["ip:2".to_string()]).unwrap();

        let limiter = RateLimiter::new(0, 100);
        limiter.charge(&me, 150);
        let e = limiter.admit(&me).unwrap_err();
        assert!(e.message.contains("tokens"), "{e:?}");
        assert_eq!(e.retry_after, Some(31));
        assert!(RateLimiter::new(0, 0).admit(&me).is_ok());
    }

    #[test]
    fn the_table_stays_bounded_and_keeps_clients_seen_lately() {
        let limiter = RateLimiter::new(1, 0);
        let busy = vec!["ip:busy".to_string()];
        limiter.admit(&busy).unwrap();
        for i in 0..4 * MAX_CLIENTS {
            limiter.admit(&[format!("ip:{i}")]).unwrap();
            assert!(
                limiter.clients() <= MAX_CLIENTS,
                "{} clients",
                limiter.clients()
            );
            if i % 1000 == 0 {
                // Seen lately, so never forgotten: still over its budget.
                assert_eq!(limiter.admit(&busy).unwrap_err().status, 429, "after {i}");
            }
        }
        assert!(limiter.clients() > MAX_CLIENTS / 2);
    }
}
