//! A fake provider on loopback: it replays the streams in tests/streams_from_docs/
//! (written from the providers' docs), chosen by provider (from the path) and
//! scenario (the upstream model name), answers OpenAI's `/embeddings` in its
//! documented shape, and remembers what it was sent.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde_json::Value;

/// One request the fake received.
#[derive(Clone, Debug)]
pub struct Seen {
    /// Path and query.
    pub uri: String,
    /// Its headers.
    pub headers: HeaderMap,
    /// Its JSON body.
    pub body: Value,
}

/// A running fake provider.
pub struct Fake {
    /// `http://127.0.0.1:port`.
    pub base: String,
    /// Requests so far.
    pub seen: Arc<Mutex<Vec<Seen>>>,
}

async fn reply(seen: Arc<Mutex<Vec<Seen>>>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap();
    let path = uri.path().to_string();
    seen.lock().unwrap().push(Seen {
        uri: uri.to_string(),
        headers,
        body: body.clone(),
    });
    let (provider, scenario) = if let Some(rest) = path.strip_prefix("/v1beta/models/") {
        ("gemini", rest.split(':').next().unwrap().to_string())
    } else if path.ends_with("/v1/messages") {
        ("anthropic", body["model"].as_str().unwrap().to_string())
    } else {
        ("openai", body["model"].as_str().unwrap().to_string())
    };
    let error = |status: StatusCode, message: &str| {
        let body = serde_json::json!({"error": {"message": message, "type": "error", "code": status.as_u16()}});
        (status, [("retry-after", "7")], axum::Json(body)).into_response()
    };
    match scenario.as_str() {
        "rate_limited" => return error(StatusCode::TOO_MANY_REQUESTS, "Rate limit reached"),
        "echo_auth" => {
            // A hostile or careless provider: its error text quotes the credentials.
            let seen = seen.lock().unwrap();
            let headers = &seen.last().unwrap().headers;
            let auth = [
                headers.get("authorization"),
                headers.get("x-api-key"),
                headers.get("x-goog-api-key"),
            ]
            .into_iter()
            .flatten()
            .map(|v| v.to_str().unwrap().to_string())
            .collect::<Vec<_>>()
            .join(" ");
            return error(StatusCode::BAD_REQUEST, &format!("bad request from {auth}"));
        }
        "not_found" => return error(StatusCode::NOT_FOUND, "No such route"),
        "redirect" => {
            return (
                StatusCode::FOUND,
                [("location", "http://127.0.0.1:1/elsewhere")],
            )
                .into_response()
        }
        "server_error" => {
            return error(StatusCode::INTERNAL_SERVER_ERROR, "The server had an error")
        }
        "slow" => tokio::time::sleep(Duration::from_secs(5)).await,
        _ => {}
    }
    if path.ends_with("/embeddings") {
        return axum::Json(embeddings(&body)).into_response();
    }
    let file_scenario = if scenario == "stall" {
        "truncated"
    } else {
        &scenario
    };
    let file = format!(
        "{}/tests/streams_from_docs/{provider}_{file_scenario}.sse",
        env!("CARGO_MANIFEST_DIR")
    );
    let stream = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{file}: {e}"));
    let body = if scenario == "stall" {
        // The stream's start, then nothing, with the connection kept open.
        let start = futures_util::stream::iter([Ok::<_, std::io::Error>(stream)]);
        Body::from_stream(start.chain(futures_util::stream::pending()))
    } else {
        Body::from(stream)
    };
    ([("content-type", "text/event-stream")], body).into_response()
}

/// OpenAI's embeddings response (platform.openai.com/docs/api-reference/embeddings)
/// to `request`: input `i` gets the vector [its length in bytes, i, 0.5], and a
/// token per word of every input plus one.
fn embeddings(request: &Value) -> Value {
    let texts: Vec<&str> = match &request["input"] {
        Value::String(text) => vec![text.as_str()],
        inputs => inputs
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap())
            .collect(),
    };
    let data: Vec<Value> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| {
            serde_json::json!({"object": "embedding", "index": i, "embedding": [t.len(), i, 0.5]})
        })
        .collect();
    let tokens: usize = texts.iter().map(|t| t.split_whitespace().count() + 1).sum();
    serde_json::json!({
        "object": "list",
        "data": data,
        "model": request["model"],
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    })
}

/// Start the fake on its own thread.
pub fn start() -> Fake {
    let seen = Arc::new(Mutex::new(vec![]));
    let state = seen.clone();
    let app = axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap, body: Bytes| {
        reply(state.clone(), uri, headers, body)
    });
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        tokio::runtime::Runtime::new().unwrap().block_on(async {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    Fake { base, seen }
}
