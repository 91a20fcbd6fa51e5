//! tandem-server's numbers, all on loopback:
//!
//! ```text
//! cargo run --release -p tandem-server --example bench -- [all|decode|proxy|concurrency|load] [--seconds 60]
//! ```
//!
//! - `decode`: decode tokens/s of 128 greedy tokens through the HTTP API vs
//!   tandem-core directly (median of 3);
//! - `proxy`: gateway overhead per request against an instant OpenAI-shaped
//!   upstream on loopback (p50, p99 over 2000 streamed requests);
//! - `concurrency`: aggregate tokens/s and time to first token (p50, p99) with 1, 4,
//!   16 and 64 (twice) clients at once, how many were answered, refused or lost, and
//!   memory after each;
//! - `load`: 32 streaming clients for 60 s; fails on any 5xx other than a clean 503
//!   and on any incomplete stream.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures_util::future::join_all;
use serde_json::{json, Value};
use tandem_core::protocol::{SseDecoder, DONE};
use tandem_core::{CancelFlag, ChatCompletionRequest, Engine, Reply, ReplyStep};
use tandem_server::config::{BackendConfig, ModelConfig};
use tandem_server::{App, Config};

const PROMPT: &str = "Write a haiku about the sea.";

fn model_path() -> PathBuf {
    std::env::var_os("TANDEM_MODEL").map_or_else(
        || {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../models/SmolLM2-135M-Instruct.Q4_1.gguf")
        },
        PathBuf::from,
    )
}

fn request(max_tokens: usize) -> Value {
    json!({
        "messages": [{"role": "user", "content": PROMPT}],
        "max_tokens": max_tokens, "temperature": 0, "ignore_eos": true,
        "stream": true, "stream_options": {"include_usage": true},
    })
}

/// Serve `config` on a free loopback port in this runtime; the base URL.
async fn serve(config: Config) -> String {
    let app = App::new(config.finish(None).expect("valid config")).expect("app starts");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(tandem_server::serve(listener, app, std::future::pending()));
    base
}

async fn native_server(queue_depth: usize) -> String {
    let mut config = Config::default();
    config.static_dirs.clear();
    config.limits.queue_depth = queue_depth;
    config.backends.insert(
        "native".into(),
        BackendConfig::Native { path: model_path() },
    );
    let base = serve(config).await;
    while reqwest::get(format!("{base}/healthz"))
        .await
        .map_or(true, |r| r.status() != 200)
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    base
}

/// One streamed reply: status, time to first content, content chunks, the final
/// usage chunk (if any), and whether it ended with `[DONE]`.
struct Streamed {
    status: u16,
    retry_after: Option<u64>,
    ttft: Option<Duration>,
    last_content: Option<Duration>,
    contents: usize,
    usage: Option<Value>,
    done: bool,
}

async fn stream(client: &reqwest::Client, url: &str, body: &Value) -> Streamed {
    let start = Instant::now();
    let mut s = Streamed {
        status: 0,
        retry_after: None,
        ttft: None,
        last_content: None,
        contents: 0,
        usage: None,
        done: false,
    };
    let Ok(mut r) = client.post(url).json(body).send().await else {
        return s;
    };
    s.status = r.status().as_u16();
    s.retry_after = r
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok()?.parse().ok());
    let mut decoder = SseDecoder::default();
    while let Ok(Some(bytes)) = r.chunk().await {
        for data in decoder.push(&bytes) {
            if data == DONE {
                s.done = true;
                continue;
            }
            let v: Value = serde_json::from_str(&data).unwrap_or_default();
            if v["choices"][0]["delta"]["content"]
                .as_str()
                .is_some_and(|c| !c.is_empty())
            {
                s.ttft.get_or_insert(start.elapsed());
                s.last_content = Some(start.elapsed());
                s.contents += 1;
            }
            if v["usage"].is_object() {
                s.usage = Some(v);
            }
        }
    }
    s
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn direct_decode() -> f64 {
    let bytes = std::fs::read(model_path()).expect("the model file");
    let mut engine = Engine::load(&bytes).unwrap();
    let request: ChatCompletionRequest = serde_json::from_value(json!({
        "messages": [{"role": "user", "content": PROMPT}],
        "max_tokens": 128, "temperature": 0, "ignore_eos": true,
    }))
    .unwrap();
    let runs = (0..3).map(|_| {
        let start = Instant::now();
        let clock = Box::new(move || start.elapsed().as_secs_f64() * 1e3);
        let created = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let mut reply = Reply::new(
            &engine,
            &request,
            "b".into(),
            created,
            "local",
            CancelFlag::default(),
            clock,
        )
        .unwrap();
        let mut speed = 0.0;
        while let Some(step) = reply.next_step(&mut engine) {
            if let ReplyStep::Chunk(c) = step.unwrap() {
                speed = c.tandem.map_or(speed, |t| t.decode_tokens_per_s);
            }
        }
        speed
    });
    median(runs.collect())
}

async fn decode() {
    let direct = tokio::task::spawn_blocking(direct_decode).await.unwrap();
    let base = native_server(16).await;
    let client = reqwest::Client::new();
    let url = format!("{base}/v1/chat/completions");
    let (mut server, mut client_side) = (vec![], vec![]);
    for _ in 0..3 {
        let s = stream(&client, &url, &request(128)).await;
        let usage = s.usage.expect("a usage chunk");
        server.push(usage["tandem"]["decode_tokens_per_s"].as_f64().unwrap());
        let span = (s.last_content.unwrap() - s.ttft.unwrap()).as_secs_f64();
        client_side.push((s.contents - 1) as f64 / span);
    }
    let (server, client_side) = (median(server), median(client_side));
    println!("decode, 128 tokens, median of 3:");
    println!("  tandem-core directly        {direct:6.1} tokens/s");
    println!("  through HTTP (server clock) {server:6.1} tokens/s");
    println!(
        "  through HTTP (client clock) {client_side:6.1} tokens/s  ({:+.1}% vs direct)",
        (client_side / direct - 1.0) * 100.0
    );
}

/// An instant OpenAI-compatible upstream: every request gets the same 5 chunks.
async fn instant_upstream() -> String {
    let chunk = |delta: &str, finish: &str| {
        format!(
        "data: {{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{{\"index\":0,\"delta\":{delta},\"finish_reason\":{finish}}}]}}\n\n"
    )
    };
    let body: Arc<str> = [
        chunk(r#"{"role":"assistant","content":""}"#, "null"),
        chunk(r#"{"content":"Hello"}"#, "null"),
        chunk(r#"{"content":" there"}"#, "null"),
        chunk("{}", "\"stop\""),
        "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":2,\"total_tokens\":11}}\n\ndata: [DONE]\n\n".into(),
    ]
    .concat()
    .into();
    let app = axum::Router::new().fallback(move || {
        let body = body.clone();
        async move { ([("content-type", "text/event-stream")], body.to_string()) }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

async fn proxy() {
    let upstream = instant_upstream().await;
    let mut config = Config::default();
    config.static_dirs.clear();
    config.backends.insert(
        "up".into(),
        BackendConfig::Openai {
            base_url: format!("{upstream}/v1").into(),
            model: "m".into(),
            api_key_env: None,
        },
    );
    config.models.push(ModelConfig {
        id: "m".into(),
        backends: vec!["up".into()],
    });
    let gateway = serve(config).await;
    let client = reqwest::Client::new();
    let body =
        json!({"model": "m", "messages": [{"role": "user", "content": PROMPT}], "stream": true});
    let time = |url: String| {
        let (client, body) = (&client, &body);
        async move {
            let mut ms = vec![];
            for i in 0..2200 {
                let start = Instant::now();
                let s = stream(client, &url, body).await;
                assert!(s.done && s.status == 200);
                if i >= 200 {
                    ms.push(start.elapsed().as_secs_f64() * 1e3);
                }
            }
            ms
        }
    };
    let mut direct = time(format!("{upstream}/v1/chat/completions")).await;
    let mut via = time(format!("{gateway}/v1/chat/completions")).await;
    println!("gateway overhead, 2000 streamed requests to an instant upstream on loopback:");
    for (name, p) in [("p50", 0.5), ("p99", 0.99)] {
        let (d, v) = (percentile(&mut direct, p), percentile(&mut via, p));
        println!(
            "  {name}: direct {d:.3} ms, through tandem-server {v:.3} ms, overhead {:.3} ms",
            v - d
        );
    }
}

/// This process's resident memory in MB (the server runs in it).
fn rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

async fn concurrency() {
    let base = native_server(64).await;
    let client = reqwest::Client::new();
    let url = format!("{base}/v1/chat/completions");
    // Each client asks something of its own, so no prompt is read from another's cache
    // beyond the chat template's shared start.
    let body = |i: usize| {
        let mut body = request(128);
        body["messages"][0]["content"] =
            json!(format!("Question {i}, from a new reader: {PROMPT}"));
        body
    };
    // One reply first, so every level runs on a warm model.
    stream(&client, &url, &body(1000)).await;
    let before = rss_mb();
    println!("native, 128 tokens per reply, all clients at once (batches of 16, queue depth 64):");
    for clients in [1, 4, 16, 64, 64] {
        let start = Instant::now();
        let bodies: Vec<Value> = (0..clients).map(body).collect();
        let replies = join_all(bodies.iter().map(|b| stream(&client, &url, b))).await;
        let wall = start.elapsed().as_secs_f64();
        let answered: Vec<&Streamed> = replies.iter().filter(|s| s.done).collect();
        let refused = replies
            .iter()
            .filter(|s| matches!(s.status, 429 | 503) && s.retry_after.is_some())
            .count();
        let mut ttft: Vec<f64> = answered
            .iter()
            .filter_map(|s| Some(s.ttft?.as_secs_f64() * 1e3))
            .collect();
        let tokens: usize = answered.iter().map(|s| s.contents).sum();
        println!(
            "  {clients:2} clients: {:5.1} tokens/s in all; time to first token p50 {:6.0} ms, p99 {:6.0} ms; \
             answered {}, refused with Retry-After {refused}, lost {}; memory after {:.0} MB",
            tokens as f64 / wall,
            percentile(&mut ttft, 0.5),
            percentile(&mut ttft, 0.99),
            answered.len(),
            clients - answered.len() - refused,
            rss_mb(),
        );
    }
    println!("  memory before the runs: {before:.0} MB");
}

async fn load(seconds: u64) -> bool {
    let base = native_server(16).await;
    let client = reqwest::Client::new();
    let url = format!("{base}/v1/chat/completions");
    let end = Instant::now() + Duration::from_secs(seconds);
    let counts = join_all((0..32).map(|_| {
        let (client, url) = (client.clone(), url.clone());
        async move {
            let mut c = [0usize; 4]; // complete, refused (429/503), incomplete, other status
            while Instant::now() < end {
                let s = stream(&client, &url, &request(16)).await;
                match s.status {
                    200 if s.done => c[0] += 1,
                    200 => c[2] += 1,
                    429 | 503 => {
                        c[1] += 1;
                        tokio::time::sleep(Duration::from_secs(s.retry_after.unwrap_or(1))).await;
                    }
                    _ => c[3] += 1,
                }
            }
            c
        }
    }))
    .await;
    let total = counts.iter().fold([0; 4], |a, c| {
        [a[0] + c[0], a[1] + c[1], a[2] + c[2], a[3] + c[3]]
    });
    println!("load, 32 streaming clients for {seconds} s (16 tokens a reply, queue depth 16):");
    println!(
        "  complete {}, refused cleanly (429/503) {}, incomplete {}, other status {}",
        total[0], total[1], total[2], total[3]
    );
    total[2] == 0 && total[3] == 0
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let what = args.first().map_or("all", String::as_str);
    let seconds = args
        .iter()
        .position(|a| a == "--seconds")
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(60);
    let all = what == "all";
    if all || what == "decode" {
        decode().await;
    }
    if all || what == "proxy" {
        proxy().await;
    }
    if all || what == "concurrency" {
        concurrency().await;
    }
    if (all || what == "load") && !load(seconds).await {
        return std::process::ExitCode::FAILURE;
    }
    std::process::ExitCode::SUCCESS
}
