//! A backend's base URLs (one, or a deployment's replicas): a request goes to the
//! least-loaded one that is not cooling down (ties in turn); one that fails cools down
//! and the request moves on to the next, so the backend fails only when all do. Each
//! keeps its requests in flight, failures and time to first byte for `/metrics`.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One base URL of a pool.
struct Member {
    base_url: String,
    in_flight: AtomicUsize,
    requests: AtomicU64,
    failures: AtomicU64,
    /// Seconds to the response headers, summed over answered requests.
    first_byte: Mutex<f64>,
    cooling_until: Mutex<Option<Instant>>,
}

/// The base URLs of one backend.
pub struct Pool {
    members: Vec<Member>,
    turn: AtomicUsize,
    cool_down: Duration,
}

/// One base URL's figures, for `/metrics`.
#[derive(Debug, Clone, PartialEq)]
pub struct MemberFigures {
    /// The base URL, without credentials.
    pub url: String,
    /// Requests being answered now.
    pub in_flight: usize,
    /// Requests sent.
    pub requests: u64,
    /// Requests that failed so that it cooled down.
    pub failures: u64,
    /// Seconds to the response headers, summed over answered requests.
    pub first_byte_seconds: f64,
    /// Whether it is skipped now.
    pub cooling: bool,
}

/// A request's hold on one member: counted in flight until dropped (the reply's
/// stream holds it to its end).
pub struct Lease {
    pool: Arc<Pool>,
    index: usize,
    sent: Instant,
}

impl Pool {
    /// A pool over `base_urls` (at least one), each skipped for `cool_down` after a
    /// failure.
    pub fn new(base_urls: &[String], cool_down: Duration) -> Result<Arc<Self>, String> {
        if base_urls.is_empty() {
            return Err("base_url lists no URL".into());
        }
        let members = base_urls
            .iter()
            .map(|url| {
                reqwest::Url::parse(url).map_err(|e| format!("base_url {url:?}: {e}"))?;
                Ok(Member {
                    base_url: url.trim_end_matches('/').to_string(),
                    in_flight: AtomicUsize::new(0),
                    requests: AtomicU64::new(0),
                    failures: AtomicU64::new(0),
                    first_byte: Mutex::new(0.0),
                    cooling_until: Mutex::new(None),
                })
            })
            .collect::<Result<_, String>>()?;
        Ok(Arc::new(Pool {
            members,
            turn: AtomicUsize::new(0),
            cool_down,
        }))
    }

    fn cooling(&self, index: usize, now: Instant) -> bool {
        let until = self.members[index].cooling_until.lock().expect("pool lock");
        until.is_some_and(|t| t > now)
    }

    /// The members in the order to try them: those not cooling down first, each group
    /// least loaded first, ties starting from a turn that moves on every call.
    pub fn order(&self) -> Vec<usize> {
        let now = Instant::now();
        let n = self.members.len();
        let start = self.turn.fetch_add(1, Ordering::Relaxed);
        let mut order: Vec<usize> = (0..n).map(|i| (start + i) % n).collect();
        order.sort_by_key(|&i| {
            let load = self.members[i].in_flight.load(Ordering::Relaxed);
            (self.cooling(i, now), load)
        });
        order
    }

    /// The base URL of member `index`.
    pub fn base_url(&self, index: usize) -> &str {
        &self.members[index].base_url
    }

    /// Count a request to member `index` in flight until the lease is dropped.
    pub fn lease(self: &Arc<Self>, index: usize) -> Lease {
        let member = &self.members[index];
        member.in_flight.fetch_add(1, Ordering::Relaxed);
        member.requests.fetch_add(1, Ordering::Relaxed);
        Lease {
            pool: self.clone(),
            index,
            sent: Instant::now(),
        }
    }

    /// Every member's figures.
    pub fn figures(&self) -> Vec<MemberFigures> {
        let now = Instant::now();
        self.members
            .iter()
            .enumerate()
            .map(|(i, m)| MemberFigures {
                url: without_credentials(&m.base_url),
                in_flight: m.in_flight.load(Ordering::Relaxed),
                requests: m.requests.load(Ordering::Relaxed),
                failures: m.failures.load(Ordering::Relaxed),
                first_byte_seconds: *m.first_byte.lock().expect("pool lock"),
                cooling: self.cooling(i, now),
            })
            .collect()
    }
}

impl Lease {
    fn member(&self) -> &Member {
        &self.pool.members[self.index]
    }

    /// The response headers came.
    pub fn answered(&self) {
        *self.member().first_byte.lock().expect("pool lock") += self.sent.elapsed().as_secs_f64();
    }

    /// The member failed: it cools down.
    pub fn failed(&self) {
        let member = self.member();
        member.failures.fetch_add(1, Ordering::Relaxed);
        *member.cooling_until.lock().expect("pool lock") =
            Some(Instant::now() + self.pool.cool_down);
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.member().in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// `url` with any user name and password taken out.
fn without_credentials(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) if !parsed.username().is_empty() || parsed.password().is_some() => {
            let _ = parsed.set_username("");
            let _ = parsed.set_password(None);
            parsed.to_string().trim_end_matches('/').to_string()
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(n: usize) -> Arc<Pool> {
        let urls: Vec<String> = (0..n)
            .map(|i| format!("http://10.0.0.{i}:8000/v1"))
            .collect();
        Pool::new(&urls, Duration::from_secs(60)).unwrap()
    }

    #[test]
    fn the_least_loaded_healthy_member_goes_first() {
        let pool = pool(3);
        let first = pool.order()[0];
        let _busy = pool.lease(first);
        let second = pool.order()[0];
        assert_ne!(first, second, "a busy member is not first");
        let _also_busy = pool.lease(second);
        let third = pool.order()[0];
        assert!(third != first && third != second);
        pool.lease(third).failed();
        // All carry one request; the one that failed goes last.
        assert_eq!(*pool.order().last().unwrap(), third);
        let figures = pool.figures();
        assert_eq!(figures[third].failures, 1);
        assert!(figures[third].cooling);
        assert_eq!(figures[first].in_flight, 1);
        assert_eq!(
            figures[third].in_flight, 0,
            "a dropped lease is not in flight"
        );
    }

    #[test]
    fn idle_members_take_turns() {
        let pool = pool(3);
        let firsts: Vec<usize> = (0..6).map(|_| pool.order()[0]).collect();
        assert_eq!(firsts, [0, 1, 2, 0, 1, 2]);
    }

    #[test]
    fn urls_are_shown_without_credentials() {
        assert_eq!(
            without_credentials("https://user:secret@vllm.internal:8000/v1"),
            "https://vllm.internal:8000/v1"
        );
        assert_eq!(without_credentials("http://a:1/v1"), "http://a:1/v1");
        assert!(Pool::new(&[], Duration::ZERO).is_err());
        assert!(Pool::new(&["not a url".into()], Duration::ZERO).is_err());
    }
}
