//! The native backend through HTTP: wire format, errors, cancellation, queue.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tandem_core::ChatCompletionChunk;

use crate::{
    chat, error_of, frames, hello, metric, model_turn, native_config, shared_native, spawn,
    wait_ready,
};

#[tokio::test]
async fn a_stream_is_openai_chunks_then_done() {
    let _turn = model_turn().await;
    let base = shared_native();
    let mut body = hello(4);
    body["stream"] = json!(true);
    body["stream_options"] = json!({"include_usage": true});
    let r = chat(base, body).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/event-stream");
    let frames = frames(&r.text().await.unwrap());
    assert_eq!(frames.last().unwrap(), "[DONE]");
    let chunks: Vec<ChatCompletionChunk> = frames[..frames.len() - 1]
        .iter()
        .map(|f| serde_json::from_str(f).unwrap())
        .collect();
    assert!(chunks
        .iter()
        .all(|c| c.id == chunks[0].id && c.id.starts_with("chatcmpl-")));
    assert!(chunks.iter().all(|c| c.model == "SmolLM2-135M-Instruct"));
    assert!(chunks[0].choices[0].delta.role.is_some());
    let (usage, choices) = chunks.split_last().unwrap();
    assert!(usage.choices.is_empty());
    assert_eq!(usage.usage.unwrap().completion_tokens, 4);
    assert_eq!(usage.tandem.as_ref().unwrap().route, "remote");
    let finishes: Vec<_> = choices
        .iter()
        .filter_map(|c| c.choices[0].finish_reason)
        .collect();
    assert_eq!(finishes.len(), 1);
    assert!(choices.last().unwrap().choices[0].finish_reason.is_some());
}

#[tokio::test]
async fn whole_and_streamed_replies_agree() {
    let _turn = model_turn().await;
    let base = shared_native();
    let whole: Value = chat(base, hello(3)).await.json().await.unwrap();
    assert_eq!(whole["object"], "chat.completion");
    assert_eq!(whole["usage"]["completion_tokens"], 3);
    let mut body = hello(3);
    body["stream"] = json!(true);
    let text = chat(base, body).await.text().await.unwrap();
    let frames = frames(&text);
    let streamed: String = frames[..frames.len() - 1]
        .iter()
        .map(|f| serde_json::from_str::<ChatCompletionChunk>(f).unwrap())
        .inspect(|c| assert!(!c.choices.is_empty(), "usage chunk without include_usage"))
        .filter_map(|c| c.choices[0].delta.content.clone())
        .collect();
    assert_eq!(whole["choices"][0]["message"]["content"], streamed);
}

#[tokio::test]
async fn bad_requests_get_openai_errors() {
    let base = shared_native();
    let cases = [
        (json!({"messages": []}), 400, "invalid_request"),
        (
            json!({"messages": [{"role": "user", "content": "hi"}], "tempreature": 1}),
            400,
            "invalid_request",
        ),
        (
            json!({"model": "nope", "messages": [{"role": "user", "content": "hi"}]}),
            404,
            "model_not_found",
        ),
        (
            json!({"messages": [{"role": "user", "content": "hi"}], "max_tokens": 100000}),
            400,
            "invalid_request",
        ),
        (
            json!({"messages": [{"role": "user", "content": "word ".repeat(40000)}]}),
            400,
            "context_length_exceeded",
        ),
    ];
    for (body, status, code) in cases {
        let r = chat(base, body.clone()).await;
        assert_eq!(r.status(), status, "{body}");
        assert_eq!(error_of(r).await["code"], code, "{body}");
    }
    let huge = "x".repeat(2 << 20);
    let r = chat(
        base,
        json!({"messages": [{"role": "user", "content": huge}]}),
    )
    .await;
    assert_eq!(r.status(), 413);
    assert_eq!(error_of(r).await["code"], "request_too_large");
}

#[tokio::test]
async fn models_health_and_metrics() {
    let base = shared_native();
    wait_ready(base).await;
    let models: Value = reqwest::get(format!("{base}/v1/models"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(models["data"][0]["id"], "SmolLM2-135M-Instruct");
    let text = reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("# TYPE tandem_requests_total counter"),
        "{text}"
    );
    assert!(
        text.contains("tandem_queue_depth{backend=\"native\"}"),
        "{text}"
    );
}

/// A batch of one, no queue: a second request while one runs is refused, and a
/// client that goes away stops its generation between two tokens.
#[tokio::test]
async fn full_queue_refuses_and_disconnect_cancels() {
    let _turn = model_turn().await;
    let mut config = native_config();
    config.limits.max_batch = 1;
    config.limits.queue_depth = 0;
    let base = spawn(config);
    wait_ready(&base).await;
    let mut body = hello(200);
    body["stream"] = json!(true);
    body["ignore_eos"] = json!(true);
    let mut running = chat(&base, body).await;
    let mut seen = String::new();
    while seen.matches("\"content\"").count() < 3 {
        seen.push_str(&String::from_utf8_lossy(
            &running.chunk().await.unwrap().unwrap(),
        ));
    }
    let refused = chat(&base, hello(1)).await;
    assert_eq!(refused.status(), 503);
    assert!(refused.headers().contains_key("retry-after"));
    assert_eq!(error_of(refused).await["code"], "overloaded");

    assert_eq!(metric(&base, "tandem_native_running ").await, Some(1.0));
    drop(running);
    let dropped = Instant::now();
    while metric(&base, "tandem_native_running ").await != Some(0.0) {
        assert!(
            dropped.elapsed() < Duration::from_secs(5),
            "generation never stopped"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let stopped = dropped.elapsed();
    println!(
        "generation stopped {} ms after the disconnect",
        stopped.as_millis()
    );
    assert!(
        stopped < Duration::from_millis(250),
        "stopped after {stopped:?}"
    );
    let cancelled = metric(
        &base,
        "tandem_requests_total{backend=\"native\",status=\"cancelled\"} ",
    )
    .await;
    assert_eq!(cancelled, Some(1.0));
    assert_eq!(chat(&base, hello(1)).await.status(), 200);
}

#[tokio::test]
async fn the_native_backend_enforces_the_json_schema_and_refuses_tools() {
    let _turn = model_turn().await;
    let base = shared_native();
    let schema = json!({
        "type": "object",
        "properties": {"city": {"type": "string"}, "rainy": {"type": "boolean"}},
        "required": ["city", "rainy"],
        "additionalProperties": false
    });
    let mut body = hello(48);
    body["response_format"] =
        json!({"type": "json_schema", "json_schema": {"name": "weather", "schema": schema}});
    let whole: Value = chat(base, body).await.json().await.unwrap();
    let content = whole["choices"][0]["message"]["content"].as_str().unwrap();
    let value: Value = serde_json::from_str(content).expect(content);
    assert!(
        value["city"].is_string() && value["rainy"].is_boolean(),
        "{value}"
    );
    assert_eq!(whole["choices"][0]["finish_reason"], "stop");

    let mut body = hello(4);
    body["tools"] = json!([{"type": "function", "function": {"name": "f"}}]);
    let r = chat(base, body).await;
    assert_eq!(r.status(), 400);
    assert_eq!(error_of(r).await["code"], "invalid_request");
}

/// A full queue's Retry-After is how long the queue takes to drain, as jobs have
/// taken lately; a request that hangs up while it waits gives its place back at once.
#[tokio::test]
async fn the_queue_says_when_it_drains_and_frees_cancelled_places() {
    let _turn = model_turn().await;
    let mut config = native_config();
    config.limits.max_batch = 1;
    config.limits.queue_depth = 1;
    let base = spawn(config);
    wait_ready(&base).await;
    let mut body = hello(120);
    body["ignore_eos"] = json!(true);
    let started = Instant::now();
    assert_eq!(chat(&base, body.clone()).await.status(), 200);
    let job = started.elapsed().as_secs_f64();

    body["stream"] = json!(true);
    let mut running = chat(&base, body.clone()).await;
    assert_eq!(running.status(), 200);
    running.chunk().await.unwrap();
    // The next one waits (its answer starts only when it runs).
    let waiting = tokio::spawn(chat_owned(base.clone(), body.clone()));
    let depth = "tandem_queue_depth{backend=\"native\"} ";
    while metric(&base, depth).await != Some(1.0) {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let refused = chat(&base, body.clone()).await;
    assert_eq!(refused.status(), 503);
    let retry_after: f64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    // Two jobs to go (the running one and the waiting one), each about `job` long.
    println!("one job took {job:.2} s; Retry-After {retry_after}");
    assert!(
        retry_after >= (1.5 * job).ceil() && retry_after <= (2.5 * job).ceil() + 1.0,
        "Retry-After {retry_after} for two jobs of {job:.2} s"
    );

    waiting.abort();
    let freed = async {
        while metric(&base, depth).await != Some(0.0) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(5), freed)
        .await
        .expect("the waiting request kept its place after it hung up");
    assert_eq!(
        metric(&base, "tandem_native_running ").await,
        Some(1.0),
        "the place came back while the first job still runs"
    );
    let next = tokio::spawn(chat_owned(base.clone(), body.clone()));
    while metric(&base, depth).await != Some(1.0) {
        assert!(!next.is_finished(), "refused: {:?}", next.await);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    drop(running);
    assert_eq!(next.await.unwrap().status(), 200);
}

/// [`chat`] for a task of its own.
async fn chat_owned(base: String, body: Value) -> reqwest::Response {
    chat(&base, body).await
}

/// Requests answered at once share one batch, and each gets exactly the tokens it
/// gets when it runs alone.
#[tokio::test]
async fn concurrent_greedy_replies_equal_sequential_ones() {
    let _turn = model_turn().await;
    let base = spawn(native_config());
    wait_ready(&base).await;
    let asks = [
        "Say hello.",
        "Name three colours.",
        "What is the capital of France?",
        "Write a haiku about the sea.",
        "Count from one to five.",
        "Give me a short tip for sleeping well.",
    ];
    let body = |content: &str| {
        json!({"messages": [{"role": "user", "content": content}],
            "max_tokens": 24, "temperature": 0})
    };
    let content = |r: Value| {
        r["choices"][0]["message"]["content"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let mut alone = vec![];
    for ask in asks {
        alone.push(content(chat(&base, body(ask)).await.json().await.unwrap()));
    }
    // How many replies the model ran at once, sampled while they run.
    let widest = std::sync::Arc::new(std::sync::Mutex::new(0.0f64));
    let sampler = tokio::spawn({
        let (base, widest) = (base.clone(), widest.clone());
        async move {
            loop {
                let running = metric(&base, "tandem_native_running ").await.unwrap_or(0.0);
                {
                    let mut w = widest.lock().unwrap();
                    *w = w.max(running);
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }
    });
    let together =
        futures_util::future::join_all(asks.map(|ask| chat_owned(base.clone(), body(ask))));
    let mut batched = vec![];
    for r in together.await {
        assert_eq!(r.status(), 200);
        batched.push(content(r.json().await.unwrap()));
    }
    sampler.abort();
    assert_eq!(batched, alone);
    let widest = *widest.lock().unwrap();
    assert!(
        widest >= 2.0,
        "the replies never ran together (widest {widest})"
    );
}
