//! `POST /v1/completions`: raw prompts on the native backend, in the completions API's
//! shape, streamed and not; Gemma 3 270M (a base model, no chat template) refuses chat
//! messages clearly; backends that speak chat refuse raw prompts.

use std::path::PathBuf;
use std::sync::OnceLock;

use serde_json::{json, Value};
use tandem_core::{CancelFlag, Engine, Event, GenerateParams, SamplingParams};
use tandem_server::config::{BackendConfig, ModelConfig};

use crate::{error_of, frames, model_turn, native_config, spawn, wait_ready};

/// The Gemma 3 270M file.
fn gemma_path() -> PathBuf {
    std::env::var_os("TANDEM_GEMMA3").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models/gemma-3-270m-q4_k_m.gguf"),
        PathBuf::from,
    )
}

/// A server whose models are SmolLM2 (`native`, the default), Gemma 3 (`gemma`) and
/// an OpenAI-compatible upstream nobody listens on (`chat-only`).
fn server() -> &'static str {
    static BASE: OnceLock<String> = OnceLock::new();
    BASE.get_or_init(|| {
        let mut config = native_config();
        config
            .backends
            .insert("gemma".into(), BackendConfig::Native { path: gemma_path() });
        config.models.push(ModelConfig {
            id: "gemma".into(),
            backends: vec!["gemma".into()],
        });
        config.backends.insert(
            "chat-only".into(),
            BackendConfig::Openai {
                base_url: tandem_server::config::BaseUrls::One("http://127.0.0.1:1/v1".into()),
                model: "m".into(),
                api_key_env: None,
            },
        );
        config.models.push(ModelConfig {
            id: "chat-only".into(),
            backends: vec!["chat-only".into()],
        });
        spawn(config)
    })
}

async fn complete(base: &str, body: Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{base}/v1/completions"))
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// What tandem-core itself continues `prompt` with: `n` greedy tokens' text.
fn greedy_text(prompt: &str, n: usize) -> String {
    let bytes = std::fs::read(gemma_path()).unwrap();
    let mut engine = Engine::load(&bytes).unwrap();
    let params = GenerateParams {
        max_tokens: Some(n),
        sampling: SamplingParams::greedy(),
        ..GenerateParams::default()
    };
    let ids = engine.raw_prompt(prompt);
    let mut generation = engine.generate(ids, params, CancelFlag::default()).unwrap();
    let mut text = String::new();
    for event in engine.stream(&mut generation) {
        match event.unwrap() {
            Event::Token { text: t, .. } | Event::Done { text: t, .. } => text.push_str(&t),
            Event::Prefill { .. } | Event::ToolCall { .. } => {}
        }
    }
    text
}

#[tokio::test]
async fn a_base_model_continues_raw_prompts_streamed_and_whole() {
    let base = server();
    wait_ready(base).await;
    let _turn = model_turn().await;
    let prompt = "The largest planet in our solar system is";
    let body = json!({"model": "gemma", "prompt": prompt, "max_tokens": 8, "temperature": 0});
    let whole: Value = complete(base, body.clone()).await.json().await.unwrap();
    assert_eq!(whole["object"], "text_completion", "{whole}");
    assert!(whole["id"].as_str().unwrap().starts_with("cmpl-"));
    let text = whole["choices"][0]["text"].as_str().unwrap();
    assert_eq!(text, greedy_text(prompt, 8));
    assert_eq!(whole["choices"][0]["finish_reason"], "length");
    // BOS and the prompt's 8 tokens, as llama.cpp tokenizes it.
    assert_eq!(whole["usage"]["prompt_tokens"], 9);
    assert_eq!(whole["usage"]["completion_tokens"], 8);

    let mut streamed = body;
    streamed["stream"] = json!(true);
    let sse = complete(base, streamed).await.text().await.unwrap();
    let frames = frames(&sse);
    assert_eq!(frames.last().map(String::as_str), Some("[DONE]"));
    let chunks: Vec<Value> = frames[..frames.len() - 1]
        .iter()
        .map(|f| serde_json::from_str(f).unwrap())
        .collect();
    assert!(chunks.iter().all(|c| c["object"] == "text_completion"));
    let joined: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["text"].as_str())
        .collect();
    assert_eq!(joined, text);
}

#[tokio::test]
async fn a_chat_model_takes_raw_prompts_too_and_logprobs_come_in_the_old_shape() {
    let base = server();
    wait_ready(base).await;
    let _turn = model_turn().await;
    let body =
        json!({"prompt": "Once upon a time", "max_tokens": 4, "temperature": 0, "logprobs": 2});
    let whole: Value = complete(base, body).await.json().await.unwrap();
    let logprobs = &whole["choices"][0]["logprobs"];
    assert_eq!(logprobs["tokens"].as_array().unwrap().len(), 4, "{whole}");
    assert_eq!(logprobs["top_logprobs"][0].as_object().unwrap().len(), 2);
    let tokens: String = (logprobs["tokens"].as_array().unwrap().iter())
        .map(|t| t.as_str().unwrap())
        .collect();
    assert_eq!(tokens, whole["choices"][0]["text"].as_str().unwrap());
    assert_eq!(logprobs["text_offset"][0], 0);
}

#[tokio::test]
async fn what_cannot_run_is_a_clear_400() {
    let base = server();
    wait_ready(base).await;
    // Chat messages to the base model.
    let chat = reqwest::Client::new()
        .post(format!("{base}/v1/chat/completions"))
        .json(&json!({"model": "gemma", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(chat.status(), 400);
    let e = error_of(chat).await;
    assert_eq!(e["code"], "invalid_request");
    assert!(e["message"].as_str().unwrap().contains("raw prompt"), "{e}");
    // A raw prompt to a backend that speaks chat only.
    let r = complete(base, json!({"model": "chat-only", "prompt": "hi"})).await;
    assert_eq!(r.status(), 400);
    assert_eq!(error_of(r).await["param"], "prompt");
    // Fields tandem does not do, named.
    for (field, value) in [
        ("echo", json!(true)),
        ("suffix", json!("!")),
        ("best_of", json!(3)),
    ] {
        let mut body = json!({"prompt": "hi"});
        body[field] = value;
        let r = complete(base, body).await;
        assert_eq!(r.status(), 400);
        let e = error_of(r).await;
        assert!(e["message"].as_str().unwrap().contains(field), "{e}");
    }
    // Both a prompt and messages, through the chat endpoint's extension.
    let both = reqwest::Client::new()
        .post(format!("{base}/v1/chat/completions"))
        .json(&json!({"prompt": "a", "messages": [{"role": "user", "content": "b"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(both.status(), 400);
}
