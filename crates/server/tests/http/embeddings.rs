//! `POST /v1/embeddings`: the native encoder (all-MiniLM-L6-v2 from models/, or
//! `$TANDEM_EMBEDDER`) gives exactly `Encoder::embed`'s vectors in OpenAI's shape;
//! bad requests are coded errors naming their field; auth and metrics as for chat;
//! a fake OpenAI upstream gets the request as sent (its key from the server, never
//! the client's) and its answer is relayed, its failures summarised and fallen back
//! from; an encoder that cannot load is reported by /healthz and answers 503.

use std::path::PathBuf;
use std::sync::OnceLock;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::{json, Value};
use tandem_core::{Embeddings, Encoder};
use tandem_server::config::{BackendConfig, BaseUrls, ModelConfig};
use tandem_server::Config;

use crate::{error_of, fake, metric, spawn, wait_ready};

const TOKEN: &str = "embed-client-token";
const KEY_ENV: &str = "TANDEM_TEST_EMBED_KEY";
const KEY: &str = "sk-embed-server-key";
const MODEL: &str = "all-MiniLM-L6-v2";

/// The sentence-transformers folder.
fn folder() -> PathBuf {
    std::env::var_os("TANDEM_EMBEDDER").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models/all-MiniLM-L6-v2"),
        PathBuf::from,
    )
}

/// The same encoder, loaded here.
fn encoder() -> &'static Encoder {
    static ENCODER: OnceLock<Encoder> = OnceLock::new();
    ENCODER.get_or_init(|| Encoder::open(folder()).expect("the encoder loads"))
}

/// A fake OpenAI upstream, started once.
fn upstream() -> &'static fake::Fake {
    static FAKE: OnceLock<fake::Fake> = OnceLock::new();
    FAKE.get_or_init(fake::start)
}

fn openai(model: &str) -> BackendConfig {
    BackendConfig::Openai {
        base_url: BaseUrls::One(format!("{}/v1", upstream().base)),
        model: model.into(),
        api_key_env: Some(KEY_ENV.into()),
    }
}

/// A server with a bearer token, the native encoder (model `all-MiniLM-L6-v2`, the
/// default), OpenAI-compatible fakes (`remote`, `broken`, `fallback`: broken then
/// remote) and an Anthropic backend (`claude`), which cannot embed.
fn server() -> &'static str {
    static BASE: OnceLock<String> = OnceLock::new();
    BASE.get_or_init(|| {
        std::env::set_var(KEY_ENV, KEY);
        let mut config = Config::default();
        config.static_dirs.clear();
        config.auth.tokens = vec![TOKEN.into()];
        config.forward_headers = vec!["x-request-id".into()];
        config.limits.max_embedding_inputs = 16;
        config.limits.max_embedding_tokens = 400;
        config.timeouts.first_byte_s = 10.0;
        // A failed backend is tried again at once, so the fallback test sees it fail.
        config.timeouts.cool_down_s = 0.0;
        config
            .backends
            .insert("minilm".into(), BackendConfig::Encoder { path: folder() });
        for (name, upstream_model) in [("remote", "normal"), ("broken", "server_error")] {
            config.backends.insert(name.into(), openai(upstream_model));
        }
        config.backends.insert(
            "claude".into(),
            BackendConfig::Anthropic {
                base_url: BaseUrls::One(upstream().base.clone()),
                model: "normal".into(),
                api_key_env: None,
            },
        );
        for (id, chain) in [
            (MODEL, &["minilm"][..]),
            ("remote", &["remote"][..]),
            ("broken", &["broken"][..]),
            ("fallback", &["broken", "remote"][..]),
            ("claude", &["claude"][..]),
        ] {
            config.models.push(ModelConfig {
                id: id.into(),
                backends: chain.iter().map(|b| b.to_string()).collect(),
            });
        }
        spawn(config)
    })
}

async fn post(body: Value) -> reqwest::Response {
    let base = server();
    wait_ready(base).await;
    reqwest::Client::new()
        .post(format!("{base}/v1/embeddings"))
        .bearer_auth(TOKEN)
        .header("x-request-id", "req-7")
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn ok(body: Value) -> Value {
    let r = post(body.clone()).await;
    assert_eq!(r.status(), 200, "{body}");
    r.json().await.unwrap()
}

/// The status and error object of a request that must fail.
async fn refused(body: Value) -> (u16, Value) {
    let r = post(body).await;
    (r.status().as_u16(), error_of(r).await)
}

fn vector(v: &Value) -> Vec<f32> {
    serde_json::from_value(v.clone()).unwrap()
}

fn texts() -> Vec<&'static str> {
    vec![
        "A cat sat on the mat.",
        "",
        "Crème brûlée, façade, naïve café — accents everywhere.",
        "東京は日本の首都です。",
        "🙂 emoji 🚀 and symbols ©®",
        "A much longer sentence, so that the inputs fall into different length buckets \
         and the encoder has to put them back in their order after batching them.",
        "short",
    ]
}

#[tokio::test]
async fn native_vectors_equal_the_encoders_in_input_order_with_usage() {
    let texts = texts();
    let answer = ok(json!({"model": MODEL, "input": texts})).await;
    let want: Embeddings = encoder().embed(&texts, false).unwrap();
    assert_eq!(answer["object"], "list");
    assert_eq!(answer["model"], MODEL);
    assert_eq!(answer["usage"]["prompt_tokens"], want.tokens());
    assert_eq!(answer["usage"]["total_tokens"], want.tokens());
    let data = answer["data"].as_array().unwrap();
    assert_eq!(data.len(), texts.len());
    for (i, (d, w)) in data.iter().zip(&want.data).enumerate() {
        assert_eq!(d["object"], "embedding");
        assert_eq!(d["index"], i);
        assert_eq!(vector(&d["embedding"]), w.vector, "input {i}");
    }
    // One text alone, as a string, and without `model`: the default embedding model,
    // whose vector is the encoder's for that text alone (a batch of one runs its few
    // rows as dot products, a larger batch on gemm: the last bits may differ).
    let one = ok(json!({"input": texts[3]})).await;
    assert_eq!(one["model"], MODEL);
    let alone = encoder().embed(&texts[3..4], false).unwrap();
    assert_eq!(vector(&one["data"][0]["embedding"]), alone.data[0].vector);
}

#[tokio::test]
async fn dimensions_shorten_to_unit_length_and_base64_carries_the_same_floats() {
    let text = "Vectors can be shortened.";
    let full = encoder().embed(&[text], false).unwrap().data[0]
        .vector
        .clone();
    let short = ok(json!({"input": text, "dimensions": 64})).await;
    let short = vector(&short["data"][0]["embedding"]);
    assert_eq!(short.len(), 64);
    let norm: f32 = short.iter().map(|x| x * x).sum::<f32>().sqrt();
    assert!((norm - 1.0).abs() < 1e-5, "{norm}");
    let head_norm: f32 = full[..64].iter().map(|x| x * x).sum::<f32>().sqrt();
    for (s, f) in short.iter().zip(&full) {
        assert!((s - f / head_norm).abs() < 1e-6);
    }
    let b64 = ok(json!({"input": [text], "encoding_format": "base64"})).await;
    let bytes = STANDARD
        .decode(b64["data"][0]["embedding"].as_str().unwrap())
        .unwrap();
    let floats: Vec<f32> = bytes
        .chunks(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect();
    assert_eq!(floats, full);
    let (status, e) = refused(json!({"input": text, "dimensions": 385})).await;
    assert_eq!((status, &e["param"]), (400, &json!("dimensions")), "{e}");
}

#[tokio::test]
async fn long_inputs_are_refused_unless_truncated_and_caps_hold() {
    let long = "word ".repeat(300);
    let (status, e) = refused(json!({"input": ["fine", long]})).await;
    assert_eq!(
        (status, &e["code"], &e["param"]),
        (400, &json!("invalid_request"), &json!("input"))
    );
    let message = e["message"].as_str().unwrap();
    assert!(
        message.contains("input 1") && message.contains("window of 256"),
        "{message}"
    );
    let cut = ok(json!({"input": [long], "truncate": true})).await;
    assert_eq!(cut["usage"]["prompt_tokens"], 256);
    // 256 + 256 tokens are over this server's 400 a request.
    let (status, e) = refused(json!({"input": [long, long], "truncate": true})).await;
    assert_eq!(
        (status, &e["code"]),
        (413, &json!("request_too_large")),
        "{e}"
    );
    assert!(e["message"].as_str().unwrap().contains("512 tokens"), "{e}");
    let seventeen = vec!["x"; 17];
    let (status, e) = refused(json!({"input": seventeen})).await;
    assert_eq!((status, &e["param"]), (400, &json!("input")));
    assert!(
        e["message"].as_str().unwrap().contains("limit of 16"),
        "{e}"
    );
}

#[tokio::test]
async fn bad_requests_are_coded_errors_naming_their_field() {
    for (body, status, code, param) in [
        (json!({"input": []}), 400, "invalid_request", json!("input")),
        (
            json!({"input": ["a", 1]}),
            400,
            "invalid_request",
            json!("input"),
        ),
        (
            json!({"input": [1, 2, 3]}),
            400,
            "invalid_request",
            json!("input"),
        ),
        (
            json!({"model": MODEL}),
            400,
            "invalid_request",
            json!("input"),
        ),
        (
            json!({"input": "a", "dimensions": 0}),
            400,
            "invalid_request",
            json!("dimensions"),
        ),
        (
            json!({"input": "a", "temperature": 1}),
            400,
            "invalid_request",
            json!("temperature"),
        ),
        (
            json!({"input": "a", "model": "nope"}),
            404,
            "model_not_found",
            json!("model"),
        ),
        (
            json!({"input": "a", "model": "claude"}),
            400,
            "invalid_request",
            json!("model"),
        ),
    ] {
        let (got, e) = refused(body.clone()).await;
        assert_eq!(
            (got, &e["code"], &e["param"]),
            (status, &json!(code), &param),
            "{body}: {e}"
        );
        assert_eq!(e["type"], "invalid_request_error");
    }
    let (_, e) = refused(json!({"input": "a", "model": "claude"})).await;
    let message = e["message"].as_str().unwrap();
    assert!(
        message.contains("\"claude\"") && message.contains("Anthropic"),
        "{message}"
    );
    // Not JSON, and chat sent to the embedding model.
    let base = server();
    let r = reqwest::Client::new()
        .post(format!("{base}/v1/embeddings"))
        .bearer_auth(TOKEN)
        .header("content-type", "text/plain")
        .body("{\"input\": \"a\"}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    let r = reqwest::Client::new()
        .post(format!("{base}/v1/chat/completions"))
        .bearer_auth(TOKEN)
        .json(&json!({"model": MODEL, "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let e = error_of(r).await;
    assert!(
        e["message"].as_str().unwrap().contains("/v1/embeddings"),
        "{e}"
    );
    assert_eq!(e["param"], "model");
}

#[tokio::test]
async fn a_bearer_token_is_needed() {
    let base = server();
    wait_ready(base).await;
    for token in [None, Some("wrong")] {
        let r = reqwest::Client::new()
            .post(format!("{base}/v1/embeddings"))
            .json(&json!({"input": "a"}));
        let r = match token {
            Some(t) => r.bearer_auth(t),
            None => r,
        };
        let r = r.send().await.unwrap();
        assert_eq!(r.status(), 401);
        assert_eq!(error_of(r).await["code"], "invalid_api_key");
    }
}

/// What the fake OpenAI upstream was sent with `x-request-id` `id`.
fn seen_with(id: &str) -> Vec<fake::Seen> {
    let seen = upstream().seen.lock().unwrap();
    (seen.iter())
        .filter(|s| s.headers.get("x-request-id").is_some_and(|v| v == id))
        .cloned()
        .collect()
}

async fn post_as(id: &str, body: Value) -> reqwest::Response {
    let base = server();
    wait_ready(base).await;
    reqwest::Client::new()
        .post(format!("{base}/v1/embeddings"))
        .bearer_auth(TOKEN)
        .header("x-request-id", id)
        .header("cookie", "session=1")
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn fake_openai_upstream_gets_the_request_with_the_servers_key_and_is_relayed() {
    let body = json!({"model": "remote", "input": ["one two", "three"], "dimensions": 2,
                      "encoding_format": "float", "user": "u-1"});
    let r = post_as("pass-1", body).await;
    assert_eq!(r.status(), 200);
    let answer: Value = r.json().await.unwrap();
    assert_eq!(answer["model"], "remote", "the id the client asked for");
    assert_eq!(answer["data"][0]["embedding"], json!([7.0, 0.0, 0.5]));
    assert_eq!(answer["data"][1]["embedding"], json!([5.0, 1.0, 0.5]));
    assert_eq!(answer["usage"]["prompt_tokens"], 5);
    let seen = seen_with("pass-1");
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].uri, "/v1/embeddings");
    assert_eq!(
        seen[0].body,
        json!({"model": "normal", "input": ["one two", "three"], "dimensions": 2,
               "encoding_format": "float", "user": "u-1"})
    );
    let auth = seen[0].headers.get("authorization").unwrap();
    assert_eq!(auth, &format!("Bearer {KEY}"));
    assert!(seen[0].headers.get("cookie").is_none());
    // tandem's truncate cannot go up.
    let r = post_as(
        "pass-2",
        json!({"model": "remote", "input": "a", "truncate": true}),
    )
    .await;
    assert_eq!(r.status(), 501);
    assert_eq!(error_of(r).await["param"], "truncate");
    assert!(seen_with("pass-2").is_empty());
}

#[tokio::test]
async fn fake_openai_upstream_failures_are_summarised_and_fallen_back_from() {
    let r = post_as("fail-1", json!({"model": "broken", "input": "a"})).await;
    assert_eq!(r.status(), 502);
    let e = error_of(r).await;
    assert_eq!(e["code"], "upstream_error");
    let message = e["message"].as_str().unwrap();
    assert!(message.contains("status 500"), "{message}");
    assert!(!message.contains("The server had an error"), "{message}");
    let r = post_as("fail-2", json!({"model": "fallback", "input": ["a b"]})).await;
    assert_eq!(r.status(), 200);
    let answer: Value = r.json().await.unwrap();
    assert_eq!(answer["model"], "fallback");
    assert_eq!(answer["data"][0]["embedding"], json!([3.0, 0.0, 0.5]));
    let models: Vec<Value> = seen_with("fail-2")
        .iter()
        .map(|s| s.body["model"].clone())
        .collect();
    assert_eq!(models, [json!("server_error"), json!("normal")]);
}

#[tokio::test]
async fn models_health_and_metrics_count_embeddings() {
    let base = server();
    wait_ready(base).await;
    let models: Value = reqwest::get(format!("{base}/v1/models"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(models["data"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["id"] == MODEL));
    let requests = "tandem_embedding_requests_total{backend=\"minilm\",status=\"200\"}";
    let inputs = "tandem_embedding_inputs_total{backend=\"minilm\"}";
    let tokens = "tandem_embedding_tokens_total{backend=\"minilm\"}";
    let count = "tandem_embedding_seconds_count{backend=\"minilm\"}";
    let before = |v: Option<f64>| v.unwrap_or(0.0);
    let (r0, i0, t0) = (
        before(metric(base, requests).await),
        before(metric(base, inputs).await),
        before(metric(base, tokens).await),
    );
    // "a b" and "c" are 4 and 3 tokens with [CLS] and [SEP].
    ok(json!({"input": ["a b", "c"]})).await;
    assert!(metric(base, requests).await.unwrap() >= r0 + 1.0);
    assert!(metric(base, inputs).await.unwrap() >= i0 + 2.0);
    assert!(metric(base, tokens).await.unwrap() >= t0 + 7.0);
    assert!(metric(base, count).await.unwrap() >= 1.0);
    let refused = "tandem_embedding_requests_total{backend=\"none\",status=\"400\"}";
    refused_once().await;
    assert!(metric(base, refused).await.unwrap() >= 1.0);
    assert!(metric(base, "tandem_queue_depth{backend=\"encoder\"}")
        .await
        .is_some());
}

async fn refused_once() {
    let (status, _) = refused(json!({"input": []})).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn an_encoder_that_cannot_load_is_reported_and_answers_503() {
    let mut config = Config::default();
    config.static_dirs.clear();
    let path = PathBuf::from("no/such/encoder");
    config
        .backends
        .insert("missing".into(), BackendConfig::Encoder { path });
    let base = spawn(config);
    let mut health = None;
    for _ in 0..100 {
        let r = reqwest::get(format!("{base}/healthz")).await.unwrap();
        let body: Value = r.json().await.unwrap();
        if body["status"] == "failed" {
            health = Some(body);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let health = health.expect("/healthz says failed");
    assert!(
        health["message"]
            .as_str()
            .unwrap()
            .contains("no/such/encoder"),
        "{health}"
    );
    let r = reqwest::Client::new()
        .post(format!("{base}/v1/embeddings"))
        .json(&json!({"input": "a"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(error_of(r).await["code"], "overloaded");
}
