//! Serving browsers safely: tokens, rate limits, CORS, the body limit, and the
//! demo's static files with cross-origin isolation.

use std::time::Duration;

use serde_json::json;
use tandem_server::auth;

use crate::upstream::upstream_config;
use crate::{error_of, fake, spawn};

fn request(base: &str, token: Option<&str>) -> reqwest::RequestBuilder {
    let r = reqwest::Client::new()
        .post(format!("{base}/v1/chat/completions"))
        .json(&json!({"model": "openai_normal", "messages": [{"role": "user", "content": "Hi"}]}));
    match token {
        Some(t) => r.bearer_auth(t),
        None => r,
    }
}

#[tokio::test]
async fn tokens_static_signed_and_expired() {
    let fake = fake::start();
    let secret = "a-secret-of-more-than-16-bytes";
    std::env::set_var("TANDEM_TEST_TOKEN_SECRET", secret);
    let mut config = upstream_config(&fake.base);
    config.auth.tokens = vec!["static-token".into()];
    config.auth.secret_env = Some("TANDEM_TEST_TOKEN_SECRET".into());
    let base = spawn(config);
    let fresh = auth::mint(secret.as_bytes(), Duration::from_secs(600));
    // Two seconds: expiry counts whole seconds, so a one-second token could expire
    // before its first use on a busy machine.
    let short = auth::mint(secret.as_bytes(), Duration::from_secs(2));
    for token in ["static-token", &fresh, &short] {
        assert_eq!(
            request(&base, Some(token)).send().await.unwrap().status(),
            200
        );
    }
    let forged = auth::mint(b"another-secret-of-16-bytes", Duration::from_secs(600));
    for token in [None, Some("wrong"), Some(forged.as_str())] {
        let r = request(&base, token).send().await.unwrap();
        assert_eq!(r.status(), 401);
        assert_eq!(error_of(r).await["code"], "invalid_api_key");
    }
    tokio::time::sleep(Duration::from_millis(3100)).await;
    let r = request(&base, Some(&short)).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(error_of(r).await["message"]
        .as_str()
        .unwrap()
        .contains("expired"));
}

#[tokio::test]
async fn rate_limits_answer_429_with_retry_after() {
    let fake = fake::start();
    let mut config = upstream_config(&fake.base);
    config.limits.requests_per_minute = 2;
    let base = spawn(config);
    for _ in 0..2 {
        assert_eq!(request(&base, None).send().await.unwrap().status(), 200);
    }
    let r = request(&base, None).send().await.unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "30");
    assert_eq!(error_of(r).await["code"], "rate_limit_exceeded");

    let mut config = upstream_config(&fake.base);
    config.limits.tokens_per_minute = 10;
    let base = spawn(config);
    assert_eq!(request(&base, None).send().await.unwrap().status(), 200);
    let r = request(&base, None).send().await.unwrap();
    assert_eq!(r.status(), 429, "12 tokens spent of 10 a minute");
    assert!(error_of(r).await["message"]
        .as_str()
        .unwrap()
        .contains("tokens"));
}

#[tokio::test]
async fn cors_allows_listed_origins_only_and_bodies_are_capped() {
    let fake = fake::start();
    let mut config = upstream_config(&fake.base);
    config.cors_origins = vec!["https://app.example".into()];
    config.body_limit = 2000;
    let base = spawn(config);
    let preflight = |origin: &'static str| {
        reqwest::Client::new()
            .request(
                reqwest::Method::OPTIONS,
                format!("{base}/v1/chat/completions"),
            )
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization, content-type",
            )
            .send()
    };
    let ok = preflight("https://app.example").await.unwrap();
    assert_eq!(
        ok.headers()["access-control-allow-origin"],
        "https://app.example"
    );
    assert!(ok
        .headers()
        .get("access-control-allow-credentials")
        .is_none());
    let evil = preflight("https://evil.example").await.unwrap();
    assert!(evil.headers().get("access-control-allow-origin").is_none());

    let big = json!({"model": "openai_normal", "messages": [{"role": "user", "content": "x".repeat(3000)}]});
    let r = reqwest::Client::new()
        .post(format!("{base}/v1/chat/completions"))
        .json(&big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert_eq!(error_of(r).await["code"], "request_too_large");
}

#[tokio::test]
async fn static_files_are_cross_origin_isolated() {
    let dir = std::env::temp_dir().join(format!("tandem-server-static-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("pkg")).unwrap();
    std::fs::write(dir.join("index.html"), "<!doctype html>").unwrap();
    std::fs::write(dir.join("pkg/tandem.js"), "export {}").unwrap();
    std::fs::write(dir.join("pkg/tandem_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();
    let mut config = upstream_config("http://127.0.0.1:1");
    config.static_dirs = [
        ("/".to_string(), dir.clone()),
        ("/pkg".to_string(), dir.join("pkg")),
    ]
    .into_iter()
    .collect();
    let base = spawn(config);
    for (path, kind) in [
        ("/", "text/html"),
        ("/pkg/tandem.js", "text/javascript"),
        ("/pkg/tandem_bg.wasm", "application/wasm"),
    ] {
        let r = reqwest::get(format!("{base}{path}")).await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(r.headers()["content-type"], kind, "{path}");
        assert_eq!(r.headers()["cross-origin-opener-policy"], "same-origin");
        assert_eq!(r.headers()["cross-origin-embedder-policy"], "require-corp");
    }
    assert_eq!(
        reqwest::get(format!("{base}/pkg/../../etc/passwd"))
            .await
            .unwrap()
            .status(),
        404
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn a_model_that_cannot_load_is_unhealthy_and_refuses() {
    let mut config = crate::native_config();
    config.backends.insert(
        "native".into(),
        tandem_server::config::BackendConfig::Native {
            path: "/nonexistent/model.gguf".into(),
        },
    );
    let base = spawn(config);
    let mut health = reqwest::get(format!("{base}/healthz")).await.unwrap();
    for _ in 0..100 {
        if health.status() == 503 && !health.headers().contains_key("retry-after") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        health = reqwest::get(format!("{base}/healthz")).await.unwrap();
    }
    assert_eq!(health.status(), 503);
    let body: serde_json::Value = health.json().await.unwrap();
    assert_eq!(body["status"], "failed");
    let r = crate::chat(&base, crate::hello(1)).await;
    assert_eq!(r.status(), 503);
    assert_eq!(error_of(r).await["code"], "overloaded");
}

#[tokio::test]
async fn unknown_api_paths_and_wrong_methods_answer_openai_errors() {
    let base = spawn(upstream_config("http://127.0.0.1:1"));
    let client = reqwest::Client::new();
    for (request, status, code) in [
        (
            client.get(format!("{base}/v1/images/generations")),
            404,
            "not_found",
        ),
        (
            client.get(format!("{base}/v1/embeddings")),
            405,
            "method_not_allowed",
        ),
        (
            client.post(format!("{base}/v1/nothing/here")),
            404,
            "not_found",
        ),
        (
            client.get(format!("{base}/v1/chat/completions")),
            405,
            "method_not_allowed",
        ),
        (
            client.delete(format!("{base}/v1/models")),
            405,
            "method_not_allowed",
        ),
        (
            client.post(format!("{base}/healthz")),
            405,
            "method_not_allowed",
        ),
    ] {
        let r = request.send().await.unwrap();
        assert_eq!(r.status(), status);
        let e = error_of(r).await;
        assert_eq!(e["code"], code, "{e}");
        assert_eq!(e["type"], "invalid_request_error", "{e}");
    }
}

#[tokio::test]
async fn per_ip_limits_believe_x_forwarded_for_from_trusted_proxies_only() {
    let fake = fake::start();
    for trusted in [true, false] {
        let mut config = upstream_config(&fake.base);
        config.limits.requests_per_minute = 1;
        if trusted {
            config.trusted_proxies = vec!["127.0.0.0/8".into()];
        }
        let base = spawn(config);
        let from = |client: &str| {
            request(&base, None)
                .header("x-forwarded-for", format!("{client}, 127.0.0.1"))
                .send()
        };
        assert_eq!(from("198.51.100.1").await.unwrap().status(), 200);
        let another = from("198.51.100.2").await.unwrap().status();
        // Behind the trusted proxy another client has a budget of its own; from an
        // untrusted peer the header is ignored and the peer's budget is spent.
        assert_eq!(
            another,
            if trusted { 200 } else { 429 },
            "trusted: {trusted}"
        );
        assert_eq!(from("198.51.100.1").await.unwrap().status(), 429);
    }
}
