//! The openai, anthropic and gemini adapters against streams written from the
//! providers' documented wire formats, and the fallback rules.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tandem_core::ChatCompletionChunk;
use tandem_server::config::{BackendConfig, ModelConfig};
use tandem_server::Config;

use crate::{error_of, fake, frames, metric, spawn};

/// The providers the fake replays.
pub const PROVIDERS: [&str; 3] = ["openai", "anthropic", "gemini"];
const KEY_ENV: &str = "TANDEM_TEST_PROVIDER_KEY";
const KEY: &str = "sk-test-server-key";

fn backend(provider: &str, base: &str, model: &str) -> BackendConfig {
    let (base_url, model, api_key_env) =
        (base.to_string(), model.to_string(), Some(KEY_ENV.into()));
    match provider {
        "openai" => BackendConfig::Openai {
            base_url: format!("{base_url}/v1").into(),
            model,
            api_key_env,
        },
        "anthropic" => BackendConfig::Anthropic {
            base_url: base_url.into(),
            model,
            api_key_env,
        },
        _ => BackendConfig::Gemini {
            base_url: base_url.into(),
            model,
            api_key_env,
        },
    }
}

/// A server whose model `<provider>_<scenario>` is that provider replaying that
/// scenario, plus the fallback chains.
pub fn upstream_config(fake: &str) -> Config {
    static KEY_SET: std::sync::Once = std::sync::Once::new();
    KEY_SET.call_once(|| std::env::set_var(KEY_ENV, KEY));
    let mut config = Config::default();
    config.static_dirs.clear();
    config.forward_headers = vec!["x-request-id".into()];
    config.timeouts.first_byte_s = 0.5;
    config.timeouts.idle_s = 0.5;
    for provider in PROVIDERS {
        for scenario in [
            "normal",
            "tools",
            "error",
            "truncated",
            "rate_limited",
            "server_error",
            "slow",
            "stall",
            "echo_auth",
            "not_found",
            "redirect",
        ] {
            let name = format!("{provider}_{scenario}");
            config
                .backends
                .insert(name.clone(), backend(provider, fake, scenario));
            config.models.push(ModelConfig {
                id: name.clone(),
                backends: vec![name],
            });
        }
    }
    config.backends.insert(
        "down".into(),
        backend("openai", "http://127.0.0.1:1", "normal"),
    );
    for (id, chain) in [
        (
            "fallback",
            &[
                "down",
                "openai_rate_limited",
                "anthropic_server_error",
                "openai_slow",
                "gemini_normal",
            ][..],
        ),
        ("midstream", &["openai_error", "openai_normal"][..]),
        (
            "unexpected",
            &["openai_not_found", "anthropic_redirect", "gemini_normal"][..],
        ),
    ] {
        let backends = chain.iter().map(|b| b.to_string()).collect();
        config.models.push(ModelConfig {
            id: id.into(),
            backends,
        });
    }
    config
}

/// "Hi" to `model`, streamed: the response's headers and its `data:` frames.
pub async fn stream(base: &str, model: &str) -> (reqwest::header::HeaderMap, Vec<String>) {
    let r = reqwest::Client::new()
        .post(format!("{base}/v1/chat/completions"))
        .header("authorization", "Bearer client-secret")
        .header("x-request-id", "req-42")
        .header("cookie", "session=1")
        .json(&json!({
            "model": model,
            "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
            "max_tokens": 16,
            "stream": true,
            "stream_options": {"include_usage": true},
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{model}");
    (r.headers().clone(), frames(&r.text().await.unwrap()))
}

/// "Hi" to `model`, not streamed.
async fn say_hi(base: &str, model: &str) -> reqwest::Response {
    crate::chat(
        base,
        json!({"model": model, "messages": [{"role": "user", "content": "Hi"}]}),
    )
    .await
}

/// The text of the chunks among `frames`.
pub fn text_of(frames: &[String]) -> String {
    frames
        .iter()
        .filter_map(|f| serde_json::from_str::<ChatCompletionChunk>(f).ok())
        .flat_map(|c| c.choices)
        .filter_map(|c| c.delta.content)
        .collect()
}

#[tokio::test]
async fn streams_from_the_docs_become_openai_chunks() {
    let fake = fake::start();
    let base = spawn(upstream_config(&fake.base));
    for provider in PROVIDERS {
        let (_, frames) = stream(&base, &format!("{provider}_normal")).await;
        assert_eq!(frames.last().unwrap(), "[DONE]", "{provider}");
        assert_eq!(text_of(&frames), "Hello there!", "{provider}");
        let chunks: Vec<ChatCompletionChunk> = frames[..frames.len() - 1]
            .iter()
            .map(|f| serde_json::from_str(f).unwrap())
            .collect();
        assert!(chunks
            .iter()
            .all(|c| c.id == chunks[0].id && c.model == format!("{provider}_normal")));
        assert!(chunks[0].choices[0].delta.role.is_some(), "{provider}");
        let usage = chunks.last().unwrap();
        assert!(usage.choices.is_empty(), "{provider}");
        assert_eq!(usage.usage.unwrap().completion_tokens, 3, "{provider}");
        let finish = &chunks[chunks.len() - 2].choices[0];
        assert_eq!(
            finish.finish_reason,
            Some(tandem_core::FinishReason::Stop),
            "{provider}"
        );
    }
    let seen = fake.seen.lock().unwrap().clone();
    for s in &seen {
        let key = ["authorization", "x-api-key", "x-goog-api-key"]
            .iter()
            .filter_map(|h| s.headers.get(*h))
            .map(|v| {
                v.to_str()
                    .unwrap()
                    .trim_start_matches("Bearer ")
                    .to_string()
            })
            .collect::<Vec<_>>();
        assert_eq!(key, [KEY], "only the server's key goes up: {}", s.uri);
        assert_eq!(s.headers["x-request-id"], "req-42");
        assert!(s.headers.get("cookie").is_none());
    }
    let anthropic = seen.iter().find(|s| s.uri == "/v1/messages").unwrap();
    assert_eq!(anthropic.body["system"], "Be brief.");
    assert_eq!(anthropic.headers["anthropic-version"], "2023-06-01");
    let gemini = seen
        .iter()
        .find(|s| s.uri.contains("streamGenerateContent?alt=sse"))
        .unwrap();
    assert_eq!(
        gemini.body["systemInstruction"]["parts"][0]["text"],
        "Be brief."
    );
    assert_eq!(gemini.body["contents"][0]["role"], "user");
    assert_eq!(gemini.body["generationConfig"]["maxOutputTokens"], 16);

    let whole: Value = crate::chat(
        &base,
        json!({"model": "anthropic_normal", "messages": [{"role": "user", "content": "Hi"}]}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(whole["choices"][0]["message"]["content"], "Hello there!");
    assert_eq!(whole["usage"]["prompt_tokens"], 25);
}

#[tokio::test]
async fn broken_streams_end_with_an_error_frame() {
    let fake = fake::start();
    let base = spawn(upstream_config(&fake.base));
    for provider in PROVIDERS {
        for (scenario, code) in [
            ("error", "upstream_error"),
            ("truncated", "upstream_truncated"),
        ] {
            let (_, frames) = stream(&base, &format!("{provider}_{scenario}")).await;
            let last: Value = serde_json::from_str(frames.last().unwrap()).unwrap();
            assert_eq!(
                last["error"]["code"], code,
                "{provider} {scenario}: {frames:?}"
            );
            assert!(!frames.iter().any(|f| f == "[DONE]"));
            assert!(
                text_of(&frames).starts_with("Hello"),
                "{provider} {scenario}"
            );
        }
        // The provider's error event is summarised by its code; its message (which
        // may quote anything) stays back.
        let (_, frames) = stream(&base, &format!("{provider}_error")).await;
        let last: Value = serde_json::from_str(frames.last().unwrap()).unwrap();
        let code = match provider {
            "openai" => "server_error",
            "anthropic" => "overloaded_error",
            _ => "UNAVAILABLE",
        };
        assert_eq!(
            last["error"]["message"],
            format!("the upstream provider failed mid-stream (code {code})")
        );
        let r = say_hi(&base, &format!("{provider}_rate_limited")).await;
        assert_eq!(r.status(), 429, "{provider}");
        assert_eq!(r.headers()["retry-after"], "7");
        assert_eq!(error_of(r).await["code"], "upstream_rate_limited");
        let r = say_hi(&base, &format!("{provider}_server_error")).await;
        assert_eq!(r.status(), 502, "{provider}");
        assert_eq!(error_of(r).await["code"], "upstream_error");
    }
}

#[tokio::test]
async fn fallback_only_before_the_first_byte() {
    let fake = fake::start();
    let base = spawn(upstream_config(&fake.base));
    let started = Instant::now();
    let (_, frames) = stream(&base, "fallback").await;
    assert_eq!(text_of(&frames), "Hello there!");
    assert_eq!(frames.last().unwrap(), "[DONE]");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the slow backend was not cut off"
    );
    let answered = metric(
        &base,
        "tandem_requests_total{backend=\"gemini_normal\",status=\"200\"} ",
    )
    .await;
    assert_eq!(answered, Some(1.0));

    let (_, frames) = stream(&base, "midstream").await;
    assert_eq!(
        text_of(&frames),
        "Hello",
        "no second backend after the first byte"
    );
    let last: Value = serde_json::from_str(frames.last().unwrap()).unwrap();
    assert_eq!(last["error"]["code"], "upstream_error");
}

#[tokio::test]
async fn a_stalled_stream_ends_at_the_idle_timeout() {
    let fake = fake::start();
    let base = spawn(upstream_config(&fake.base));
    let started = Instant::now();
    let (_, frames) = stream(&base, "openai_stall").await;
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(text_of(&frames), "Hello");
    let last: Value = serde_json::from_str(frames.last().unwrap()).unwrap();
    assert_eq!(last["error"]["code"], "timeout");
}

#[tokio::test]
async fn response_format_and_openai_tools_go_up_in_each_providers_shape() {
    let fake = fake::start();
    let base = spawn(upstream_config(&fake.base));
    let schema = json!({
        "type": "object",
        "properties": {"mood": {"enum": ["good", "bad"]}, "n": {"const": 1}},
        "required": ["mood"],
        "additionalProperties": false
    });
    let format = json!({"type": "json_schema",
        "json_schema": {"name": "mood", "strict": true, "schema": schema}});
    let tools = json!([{"type": "function", "function": {"name": "f", "parameters": {}}}]);
    let request = |model: &str, extra: Value| {
        let mut body = json!({"model": model, "messages": [{"role": "user", "content": "Hi"}]});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        crate::chat(&base, body)
    };
    let r = request(
        "openai_normal",
        json!({"response_format": format, "tools": tools, "tool_choice": "auto"}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let r = request("gemini_normal", json!({"response_format": format})).await;
    assert_eq!(r.status(), 200);
    let r = request(
        "gemini_normal",
        json!({"response_format": {"type": "json_object"}}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let seen = fake.seen.lock().unwrap().clone();
    assert_eq!(seen[0].body["response_format"], format, "OpenAI: as sent");
    assert_eq!(seen[0].body["tools"], tools);
    assert_eq!(seen[0].body["tool_choice"], "auto");
    let config = &seen[1].body["generationConfig"];
    assert_eq!(config["responseMimeType"], "application/json");
    assert_eq!(
        config["responseSchema"],
        json!({
            "type": "object",
            "properties": {
                "mood": {"type": "string", "enum": ["good", "bad"]},
                "n": {"enum": [1]}
            },
            "required": ["mood"]
        })
    );
    assert_eq!(
        seen[2].body["generationConfig"]["responseMimeType"],
        "application/json"
    );
    assert!(seen[2].body["generationConfig"]
        .get("responseSchema")
        .is_none());

    // Anthropic has no JSON mode: 501, and nothing is sent.
    let r = request("anthropic_normal", json!({"response_format": format})).await;
    assert_eq!(r.status(), 501);
    assert_eq!(error_of(r).await["code"], "unsupported_by_upstream");
    assert_eq!(fake.seen.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn provider_error_text_never_reaches_the_client() {
    let fake = fake::start();
    let base = spawn(upstream_config(&fake.base));
    for provider in PROVIDERS {
        let model = format!("{provider}_echo_auth");
        let r = say_hi(&base, model.as_ref()).await;
        assert_eq!(r.status(), 400, "{provider}");
        let e = error_of(r).await;
        assert_eq!(e["code"], "invalid_request", "{provider}: {e}");
        let message = e["message"].as_str().unwrap();
        assert!(message.contains("status 400"), "{provider}: {message}");
        assert!(
            !message.contains(KEY),
            "{provider} leaked the key: {message}"
        );
    }
    // Each provider's call carried the key, so the fake's text quoted it: the server
    // kept it back.
    let seen = fake.seen.lock().unwrap();
    let echoed: Vec<_> = seen
        .iter()
        .filter(|s| s.uri.contains("echo_auth") || s.body["model"] == "echo_auth")
        .collect();
    assert_eq!(echoed.len(), PROVIDERS.len());
    for call in echoed {
        let carries_key = call
            .headers
            .values()
            .any(|v| v.to_str().unwrap().contains(KEY));
        assert!(carries_key, "{}", call.uri);
    }
}

#[tokio::test]
async fn unexpected_upstream_statuses_fail_over_to_the_next_backend() {
    let fake = fake::start();
    let base = spawn(upstream_config(&fake.base));
    for model in ["openai_not_found", "anthropic_redirect", "gemini_redirect"] {
        let r = say_hi(&base, model).await;
        assert_eq!(r.status(), 502, "{model}");
        let e = error_of(r).await;
        assert_eq!(e["code"], "upstream_error", "{model}: {e}");
    }
    let (_, frames) = stream(&base, "unexpected").await;
    assert_eq!(text_of(&frames), "Hello there!");
    assert_eq!(frames.last().unwrap(), "[DONE]");
}

#[tokio::test]
async fn a_failed_backend_cools_down_and_is_tried_again_after() {
    let fake = fake::start();
    let mut config = upstream_config(&fake.base);
    config.timeouts.cool_down_s = 1.0;
    let base = spawn(config);
    let calls = |model: &str| {
        let seen = fake.seen.lock().unwrap();
        seen.iter().filter(|s| s.body["model"] == model).count()
    };
    for (round, wait) in [(1, 0), (1, 0), (2, 1100)] {
        tokio::time::sleep(Duration::from_millis(wait)).await;
        let (_, frames) = stream(&base, "fallback").await;
        assert_eq!(text_of(&frames), "Hello there!");
        // The rate-limited backend is skipped while it cools down, then probed.
        assert_eq!(calls("rate_limited"), round);
    }
    // A model whose every backend is cooling still tries them.
    let before = calls("server_error");
    let r = say_hi(&base, "openai_server_error").await;
    assert_eq!(r.status(), 502);
    let r = say_hi(&base, "openai_server_error").await;
    assert_eq!(r.status(), 502);
    assert_eq!(calls("server_error") - before, 2);
}
