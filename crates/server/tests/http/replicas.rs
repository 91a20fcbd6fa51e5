//! Two tandem-server processes sharing one real Redis (Debian's `redis-server`, started
//! here on a free port): request limits hold across both, a revoked token is refused by
//! both, a backend that failed on one is skipped by the other; with Redis stopped both
//! keep serving and say they are degraded, and once it is back they share again.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use tandem_server::auth;

use crate::{error_of, fake};

const SECRET_ENV: &str = "TANDEM_TEST_REPLICA_SECRET";
const SECRET: &str = "a-replica-secret-of-16+-bytes";
/// Requests per minute per client, across the replicas.
const LIMIT: usize = 6;

/// A child process killed when this is dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn redis_server(port: u16) -> Running {
    let running = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .spawn()
        .map(Running)
        .expect("redis-server is installed (scripts/setup.sh installs it)");
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return running;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("redis-server did not start on {port}");
}

fn tandem_server(config: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tandem-server"));
    command
        .arg("--config")
        .arg(config)
        .args(args)
        .env(SECRET_ENV, SECRET)
        .stderr(Stdio::null());
    command
}

/// A replica's config: the fake provider's failing backend, then its good one.
fn write_config(dir: &Path, port: u16, redis: u16, fake: &str) -> PathBuf {
    let path = dir.join(format!("replica-{port}.toml"));
    let text = format!(
        r#"
addr = "127.0.0.1:{port}"
[static_dirs]
[limits]
requests_per_minute = {LIMIT}
[auth]
secret_env = "{SECRET_ENV}"
[timeouts]
first_byte_s = 2
cool_down_s = 60
[redis]
url = "redis://127.0.0.1:{redis}/"
[backends.flaky]
kind = "openai"
base_url = "{fake}/v1"
model = "server_error"
[backends.good]
kind = "openai"
base_url = "{fake}/v1"
model = "normal"
[[models]]
id = "chain"
backends = ["flaky", "good"]
"#
    );
    std::fs::write(&path, text).unwrap();
    path
}

async fn ask(base: &str, token: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{base}/v1/chat/completions"))
        .bearer_auth(token)
        .json(&json!({"model": "chain", "messages": [{"role": "user", "content": "Hi"}]}))
        .send()
        .await
        .unwrap()
}

async fn health(base: &str) -> Value {
    reqwest::get(format!("{base}/healthz"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Wait until `/healthz` of `base` says `status`.
async fn until_health(base: &str, status: &str) {
    for _ in 0..300 {
        if let Ok(r) = reqwest::get(format!("{base}/healthz")).await {
            if r.json::<Value>().await.is_ok_and(|v| v["status"] == status) {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{base} never said {status}: {}", health(base).await);
}

/// Wait, if needed, for a minute with `seconds` left in it: the shared limits count
/// per minute, and a new one would reset them mid-check.
async fn with_time_left(seconds: u64) {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    let left = 60 - now.as_secs() % 60;
    if left < seconds {
        tokio::time::sleep(Duration::from_secs(left + 1)).await;
    }
}

/// Statuses of `n` requests sent in turn to the replicas.
async fn statuses(bases: &[String; 2], token: &str, n: usize) -> Vec<u16> {
    let mut out = vec![];
    for i in 0..n {
        out.push(ask(&bases[i % 2], token).await.status().as_u16());
    }
    out
}

#[tokio::test]
async fn two_replicas_share_limits_revocations_and_health_through_redis() {
    let fake = fake::start();
    let dir = std::env::temp_dir().join(format!("tandem-replicas-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let redis_port = free_port();
    let mut redis = Some(redis_server(redis_port));
    let ports = [free_port(), free_port()];
    let configs = ports.map(|p| write_config(&dir, p, redis_port, &fake.base));
    let _replicas = configs
        .clone()
        .map(|c| Running(tandem_server(&c, &[]).spawn().unwrap()));
    let bases = ports.map(|p| format!("http://127.0.0.1:{p}"));
    for base in &bases {
        until_health(base, "ok").await;
    }
    let flaky_calls = || {
        let seen = fake.seen.lock().unwrap();
        seen.iter()
            .filter(|s| s.body["model"] == "server_error")
            .count()
    };
    let token = |ttl| auth::mint(SECRET.as_bytes(), Duration::from_secs(ttl));
    with_time_left(20).await;

    // A backend that failed on one replica is skipped by the other.
    let first = token(600);
    assert_eq!(ask(&bases[0], &first).await.status(), 200);
    assert_eq!(flaky_calls(), 1);
    assert_eq!(ask(&bases[1], &first).await.status(), 200);
    assert_eq!(
        flaky_calls(),
        1,
        "the second replica tried the failed backend"
    );

    // A token revoked once is refused by both.
    let revoked = tandem_server(&configs[0], &["revoke", &first])
        .status()
        .unwrap();
    assert!(revoked.success());
    for base in &bases {
        let r = ask(base, &first).await;
        assert_eq!(r.status(), 401);
        let e = error_of(r).await;
        assert!(e["message"].as_str().unwrap().contains("revoked"), "{e}");
    }

    // The per-IP limit counts both replicas' requests: 4 so far, 2 to go.
    let second = token(600);
    assert_eq!(statuses(&bases, &second, 3).await, [200, 200, 429]);

    // Redis stops: both keep serving, on their own limits, and say so.
    drop(redis.take());
    for base in &bases {
        assert_eq!(ask(base, &second).await.status(), 200, "{base}");
        let r = reqwest::get(format!("{base}/healthz")).await.unwrap();
        assert_eq!(r.status(), 200);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body, json!({"status": "degraded", "redis": "unreachable"}));
        let up = crate::metric(base, "tandem_redis_up ").await;
        assert_eq!(up, Some(0.0), "{base}");
    }

    // Redis is back (empty): the limit is shared again.
    redis = Some(redis_server(redis_port));
    for base in &bases {
        until_health(base, "ok").await;
    }
    with_time_left(20).await;
    let third = token(600);
    let mut want = vec![200; LIMIT];
    want.push(429);
    assert_eq!(statuses(&bases, &third, LIMIT + 1).await, want);
    drop(redis);
    std::fs::remove_dir_all(&dir).unwrap();
}
