//! tandem-server over real HTTP on loopback: the native model (the default GGUF
//! from `$TANDEM_MODEL` or models/), the native encoder (models/all-MiniLM-L6-v2),
//! and fake providers replaying streams written from the providers' documented wire
//! formats.

mod completions;
mod embeddings;
mod fake;
mod hostile;
mod native;
mod pools;
mod replicas;
mod serving;
mod tools;
mod upstream;

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::Value;
use tandem_core::protocol::SseDecoder;
use tandem_server::config::BackendConfig;
use tandem_server::{App, Config};

/// The default model file.
pub fn model_path() -> PathBuf {
    std::env::var_os("TANDEM_MODEL").map_or_else(
        || {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../models/SmolLM2-135M-Instruct.Q4_1.gguf")
        },
        PathBuf::from,
    )
}

/// A config with only the native backend and no static files.
pub fn native_config() -> Config {
    let mut config = Config::default();
    config.static_dirs.clear();
    config.backends.insert(
        "native".into(),
        BackendConfig::Native { path: model_path() },
    );
    config
}

/// Start a server for `config` on its own thread and runtime; its base URL.
pub fn spawn(config: Config) -> String {
    let app = App::new(config.finish(None).expect("config is valid")).expect("app starts");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            tandem_server::serve(listener, app, std::future::pending())
                .await
                .unwrap();
        });
    });
    format!("http://{addr}")
}

/// One server with the native model shared by the tests that only generate.
pub fn shared_native() -> &'static str {
    static BASE: OnceLock<String> = OnceLock::new();
    BASE.get_or_init(|| spawn(native_config()))
}

/// Tests that generate natively take turns: two models decoding at once on a small
/// machine would make each one's timings meaningless.
pub async fn model_turn() -> tokio::sync::MutexGuard<'static, ()> {
    static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    TURN.lock().await
}

/// Wait until `/healthz` says ok.
pub async fn wait_ready(base: &str) {
    for _ in 0..600 {
        if let Ok(r) = reqwest::get(format!("{base}/healthz")).await {
            if r.status() == 200 {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{base} never became ready");
}

/// POST a chat request.
pub async fn chat(base: &str, body: Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{base}/v1/chat/completions"))
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// A one-message request with greedy decoding.
pub fn hello(max_tokens: usize) -> Value {
    serde_json::json!({
        "messages": [{"role": "user", "content": "Say hello."}],
        "max_tokens": max_tokens,
        "temperature": 0,
    })
}

/// The `data:` payloads of an SSE body, in order (comments skipped).
pub fn frames(body: &str) -> Vec<String> {
    let mut decoder = SseDecoder::default();
    let mut frames = decoder.push(body.as_bytes());
    frames.extend(decoder.finish());
    frames
}

/// The JSON error body of a response, checked for OpenAI's shape.
pub async fn error_of(response: reqwest::Response) -> Value {
    let body: Value = response.json().await.unwrap();
    let e = &body["error"];
    for field in ["message", "type", "param", "code"] {
        assert!(e.get(field).is_some(), "{field} missing from {body}");
    }
    e.clone()
}

/// A metric's value from `/metrics`.
pub async fn metric(base: &str, line_start: &str) -> Option<f64> {
    let text = reqwest::get(format!("{base}/metrics"))
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(line_start)?.trim().parse().ok())
}
