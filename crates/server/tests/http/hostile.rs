//! Slow and hostile clients, spoken to over raw TCP where a polite client library
//! would not misbehave: slow headers and bodies, idle connections, clients that stop
//! reading, too many connections or requests, bodies that are not JSON, and requests
//! refused before their body is read.

use std::time::{Duration, Instant};

use serde_json::json;
use tandem_server::Config;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::upstream::upstream_config;
use crate::{error_of, fake, metric, spawn};

/// A server whose clients get `tweak`ed connection limits; no backend is reachable.
fn server(tweak: impl FnOnce(&mut Config)) -> String {
    let mut config = upstream_config("http://127.0.0.1:1");
    tweak(&mut config);
    spawn(config)
}

async fn connect(base: &str) -> TcpStream {
    TcpStream::connect(base.trim_start_matches("http://"))
        .await
        .unwrap()
}

/// Everything the server sends until it closes the connection, and how long that
/// took; panics if it stays open for `limit`.
async fn until_closed(stream: &mut TcpStream, limit: Duration) -> (String, Duration) {
    let started = Instant::now();
    let mut got = vec![];
    let read = tokio::time::timeout(limit, stream.read_to_end(&mut got)).await;
    assert!(read.is_ok(), "the connection stayed open for {limit:?}");
    (
        String::from_utf8_lossy(&got).into_owned(),
        started.elapsed(),
    )
}

/// The head of a chat request with `headers` (each ending in CRLF), without body.
fn head(headers: &str) -> String {
    format!("POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\n{headers}\r\n")
}

#[tokio::test]
async fn slow_headers_and_idle_connections_are_closed() {
    let base = server(|c| c.connections.header_timeout_s = 0.5);
    // Nothing sent at all.
    let mut silent = connect(&base).await;
    // Half a request line.
    let mut slow = connect(&base).await;
    slow.write_all(b"POST /v1/chat/com").await.unwrap();
    // A whole request answered, then idle on a kept-alive connection.
    let mut idle = connect(&base).await;
    idle.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let mut read = vec![];
    for stream in [&mut silent, &mut slow, &mut idle] {
        read.push(until_closed(stream, Duration::from_secs(5)).await.0);
        let took = started.elapsed();
        assert!(took >= Duration::from_millis(400), "closed after {took:?}");
    }
    assert_eq!(read[..2], ["", ""]);
    assert!(read[2].starts_with("HTTP/1.1 200"), "{}", read[2]);
}

#[tokio::test]
async fn a_slow_body_times_out_with_408() {
    let base = server(|c| c.connections.body_timeout_s = 0.5);
    let mut stream = connect(&base).await;
    let request = head("content-type: application/json\r\ncontent-length: 100\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    stream.write_all(b"{\"messages\":").await.unwrap();
    let (answer, took) = until_closed(&mut stream, Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"code\":\"request_timeout\""), "{answer}");
    assert!(took >= Duration::from_millis(400), "{took:?}");
}

#[tokio::test]
async fn auth_and_the_declared_length_are_checked_before_the_body() {
    let base = server(|c| c.auth.tokens = vec!["a-client-token".into()]);
    for (headers, status) in [
        // No token: 401 at once, though the body never comes.
        (
            "content-type: application/json\r\ncontent-length: 500000\r\n",
            "401",
        ),
        // A token, and a body announced far over the limit: 413 at once.
        (
            "authorization: Bearer a-client-token\r\ncontent-type: application/json\r\n\
             content-length: 10000000000\r\n",
            "413",
        ),
        // A token, and a body that is not JSON: 415 before reading it.
        (
            "authorization: Bearer a-client-token\r\ncontent-type: text/plain\r\n\
             content-length: 20\r\n",
            "415",
        ),
    ] {
        let mut stream = connect(&base).await;
        stream.write_all(head(headers).as_bytes()).await.unwrap();
        let (answer, _) = until_closed(&mut stream, Duration::from_secs(2)).await;
        assert!(
            answer.starts_with(&format!("HTTP/1.1 {status}")),
            "{headers}: {answer}"
        );
    }
}

#[tokio::test]
async fn a_body_a_few_times_over_the_limit_is_read_before_its_413() {
    let base = server(|c| c.body_limit = 1000);
    let mut stream = connect(&base).await;
    let request =
        head("content-type: application/json\r\ncontent-length: 3000\r\nconnection: close\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    stream.write_all(&[b' '; 1500]).await.unwrap();
    // Half the body sent: no answer yet, so the client can send the rest without its
    // connection being reset under it.
    let mut early = [0u8; 1];
    let waited = tokio::time::timeout(Duration::from_millis(300), stream.read(&mut early)).await;
    assert!(waited.is_err(), "answered before the body was read");
    stream.write_all(&[b' '; 1500]).await.unwrap();
    let (answer, _) = until_closed(&mut stream, Duration::from_secs(2)).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        answer.contains("\"code\":\"request_too_large\""),
        "{answer}"
    );
}

#[tokio::test]
async fn only_json_bodies_are_read() {
    let base = server(|_| {});
    let body = json!({"messages": [{"role": "user", "content": "Hi"}]}).to_string();
    for content_type in [
        None,
        Some("text/plain;charset=UTF-8"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let mut request = reqwest::Client::new()
            .post(format!("{base}/v1/chat/completions"))
            .body(body.clone());
        if let Some(t) = content_type {
            request = request.header("content-type", t);
        }
        let r = request.send().await.unwrap();
        assert_eq!(r.status(), 415, "{content_type:?}");
        assert_eq!(error_of(r).await["code"], "unsupported_media_type");
    }
    // A JSON body with parameters in its type is read (and fails only later, at the
    // unreachable backend).
    let r = reqwest::Client::new()
        .post(format!("{base}/v1/chat/completions"))
        .header("content-type", "Application/JSON; charset=utf-8")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 502);
}

#[tokio::test]
async fn connections_over_the_cap_are_refused_with_503() {
    let base = server(|c| c.connections.max_open = 3);
    let mut held = vec![];
    for _ in 0..3 {
        held.push(connect(&base).await);
    }
    let mut over = connect(&base).await;
    let (answer, _) = until_closed(&mut over, Duration::from_secs(2)).await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("retry-after: 1"), "{answer}");
    assert!(answer.contains("\"code\":\"overloaded\""), "{answer}");
    held.pop();
    // Until the server has seen that connection close, a new one is over the cap too
    // and refused as the first was: each such refusal is counted.
    let mut ours = 1.0;
    let mut counted = None;
    for _ in 0..100 {
        let r = reqwest::get(format!("{base}/metrics")).await.unwrap();
        if r.status() == 503 {
            ours += 1.0;
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        }
        let text = r.text().await.unwrap();
        counted = (text.lines()).find_map(|l| {
            l.strip_prefix("tandem_refused_connections_total ")?
                .trim()
                .parse::<f64>()
                .ok()
        });
        break;
    }
    assert_eq!(counted, Some(ours));
}

#[tokio::test]
async fn requests_over_the_in_flight_cap_are_refused_with_503() {
    let fake = fake::start();
    let mut config = upstream_config(&fake.base);
    config.limits.max_in_flight = 1;
    config.timeouts.idle_s = 5.0;
    let base = spawn(config);
    // The first request holds the only place: its upstream stalls mid-stream.
    let stalled = reqwest::Client::new()
        .post(format!("{base}/v1/chat/completions"))
        .json(&json!({"model": "openai_stall", "stream": true,
            "messages": [{"role": "user", "content": "Hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(stalled.status(), 200);
    let r = crate::chat(
        &base,
        json!({"model": "openai_normal",
        "messages": [{"role": "user", "content": "Hi"}]}),
    )
    .await;
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["retry-after"], "1");
    assert_eq!(error_of(r).await["code"], "overloaded");
    drop(stalled);
    let mut status = 0;
    for _ in 0..100 {
        let r = crate::chat(
            &base,
            json!({"model": "openai_normal",
            "messages": [{"role": "user", "content": "Hi"}]}),
        )
        .await;
        status = r.status().as_u16();
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        status, 200,
        "the dropped request's place was not given back"
    );
}

#[tokio::test]
async fn a_client_that_stops_reading_is_cut_off() {
    let dir = std::env::temp_dir().join(format!("tandem-stall-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("big.bin"), vec![7u8; 64 << 20]).unwrap();
    let base = server(|c| {
        c.static_dirs.insert("/files".into(), dir.clone());
        c.connections.write_stall_s = 0.5;
    });
    let mut reader = connect(&base).await;
    reader
        .write_all(b"GET /files/big.bin HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    // The client reads nothing; the server's writes fill the socket and stall.
    let open = || metric(&base, "tandem_open_connections ");
    let mut seen = vec![];
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        // The metrics request is a connection of its own.
        let now = open().await;
        seen.push(now);
        if now == Some(1.0) {
            break;
        }
    }
    assert_eq!(seen.last(), Some(&Some(1.0)), "still open: {seen:?}");
    assert!(
        seen[0] >= Some(2.0),
        "the stalled connection was never open: {seen:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_dropped_stream_is_charged_for_what_it_got() {
    let fake = fake::start();
    let mut config = upstream_config(&fake.base);
    config.limits.tokens_per_minute = 200;
    let base = spawn(config);
    // 120 prompt tokens as estimated (4 bytes a token): two dropped streams charged
    // 242 tokens, far past what refills while the test runs.
    let content = "word ".repeat(96);
    let mut answered = 0;
    for _ in 0..6 {
        let r = reqwest::Client::new()
            .post(format!("{base}/v1/chat/completions"))
            .json(&json!({"model": "openai_stall", "stream": true,
                "messages": [{"role": "user", "content": content}]}))
            .send()
            .await
            .unwrap();
        if r.status() == 429 {
            break;
        }
        assert_eq!(r.status(), 200);
        answered += 1;
        // Read up to the first text, then hang up before the usage chunk.
        let mut r = r;
        while let Some(bytes) = r.chunk().await.unwrap() {
            if String::from_utf8_lossy(&bytes).contains("Hello") {
                break;
            }
        }
        drop(r);
        tokio::time::sleep(Duration::from_millis(700)).await;
    }
    assert_eq!(answered, 2, "a dropped stream went uncharged");
    let completion = metric(
        &base,
        "tandem_completion_tokens_total{backend=\"openai_stall\"} ",
    )
    .await;
    assert_eq!(completion, Some(2.0));
    let prompt = metric(
        &base,
        "tandem_prompt_tokens_total{backend=\"openai_stall\"} ",
    )
    .await;
    assert_eq!(prompt, Some(240.0));
}
