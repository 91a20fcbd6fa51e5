//! Tool calls through the openai, anthropic and gemini adapters, against fake
//! providers speaking the documented wire formats (tests/streams_from_docs/*_tools.sse):
//! a conversation with tools and a tool result goes up in each provider's shape, and
//! each provider's calls come back as OpenAI's `tool_calls`, streamed and whole; a
//! native backend whose template calls tools (the tiny Qwen3) answers them itself.

use serde_json::{json, Value};
use tandem_core::{ChatCompletionChunk, FinishReason};

use crate::fake;
use crate::upstream::{stream, text_of, upstream_config, PROVIDERS};

/// A conversation in OpenAI's shape: tools offered, an earlier call answered.
fn conversation(model: &str, tool_choice: Value) -> Value {
    json!({
        "model": model,
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "content": "Let me check.", "tool_calls": [
                {"id": "call_1", "type": "function",
                 "function": {"name": "weather", "arguments": "{\"city\":\"Paris\"}"}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": "{\"celsius\": 18}"},
            {"role": "user", "content": "And now?"}
        ],
        "tools": [
            {"type": "function", "function": {"name": "weather", "description": "Today's weather",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                    "required": ["city"], "additionalProperties": false}}},
            {"type": "function", "function": {"name": "now"}}
        ],
        "tool_choice": tool_choice,
    })
}

#[tokio::test]
async fn a_tool_conversation_goes_up_to_fake_providers_in_their_documented_shapes() {
    let fake = fake::start();
    let base = spawn_upstream(&fake.base);
    let named = json!({"type": "function", "function": {"name": "weather"}});
    for provider in PROVIDERS {
        let r = crate::chat(
            &base,
            conversation(&format!("{provider}_normal"), named.clone()),
        )
        .await;
        assert_eq!(r.status(), 200, "{provider}");
    }
    let seen = fake.seen.lock().unwrap().clone();
    let sent = conversation("normal", named.clone());
    assert_eq!(seen[0].body["tools"], sent["tools"], "OpenAI: as sent");
    assert_eq!(seen[0].body["tool_choice"], named);
    assert_eq!(
        seen[0].body["messages"][2]["tool_calls"],
        sent["messages"][2]["tool_calls"]
    );
    assert_eq!(seen[0].body["messages"][3]["tool_call_id"], "call_1");

    let anthropic = &seen[1].body;
    assert_eq!(
        anthropic["tools"],
        json!([
            {"name": "weather", "description": "Today's weather",
             "input_schema": sent["tools"][0]["function"]["parameters"]},
            {"name": "now", "input_schema": {"type": "object", "properties": {}}}
        ])
    );
    assert_eq!(
        anthropic["tool_choice"],
        json!({"type": "tool", "name": "weather"})
    );
    assert_eq!(
        anthropic["messages"],
        json!([
            {"role": "user", "content": [{"type": "text", "text": "Weather in Paris?"}]},
            {"role": "assistant", "content": [
                {"type": "text", "text": "Let me check."},
                {"type": "tool_use", "id": "call_1", "name": "weather", "input": {"city": "Paris"}}]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "call_1", "content": "{\"celsius\": 18}"},
                {"type": "text", "text": "And now?"}]}
        ])
    );

    let gemini = &seen[2].body;
    assert_eq!(
        gemini["tools"],
        json!([{"functionDeclarations": [
            {"name": "weather", "description": "Today's weather", "parameters": {
                "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}},
            {"name": "now"}
        ]}])
    );
    assert_eq!(
        gemini["toolConfig"],
        json!({"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["weather"]}})
    );
    assert_eq!(
        gemini["contents"],
        json!([
            {"role": "user", "parts": [{"text": "Weather in Paris?"}]},
            {"role": "model", "parts": [
                {"text": "Let me check."},
                {"functionCall": {"name": "weather", "args": {"city": "Paris"}}}]},
            {"role": "user", "parts": [
                {"functionResponse": {"name": "weather", "response": {"celsius": 18}}},
                {"text": "And now?"}]}
        ])
    );
}

#[tokio::test]
async fn tool_choice_becomes_each_fake_providers_documented_mode() {
    let fake = fake::start();
    let base = spawn_upstream(&fake.base);
    let choices = [
        (
            json!("none"),
            json!({"type": "none"}),
            json!({"mode": "NONE"}),
        ),
        (
            json!("auto"),
            json!({"type": "auto"}),
            json!({"mode": "AUTO"}),
        ),
        (
            json!("required"),
            json!({"type": "any"}),
            json!({"mode": "ANY"}),
        ),
    ];
    for (choice, anthropic, gemini) in choices {
        for provider in ["anthropic", "gemini"] {
            let r = crate::chat(
                &base,
                conversation(&format!("{provider}_normal"), choice.clone()),
            );
            assert_eq!(r.await.status(), 200, "{provider} {choice}");
        }
        let seen = fake.seen.lock().unwrap().clone();
        let [.., a, g] = seen.as_slice() else {
            unreachable!()
        };
        assert_eq!(a.body["tool_choice"], anthropic, "{choice}");
        assert_eq!(
            g.body["toolConfig"]["functionCallingConfig"], gemini,
            "{choice}"
        );
    }
    // A tool result Gemini cannot name (no earlier call has its id): 400, not sent.
    let mut orphan = conversation("gemini_normal", json!("auto"));
    orphan["messages"][3]["tool_call_id"] = "call_9".into();
    let before = fake.seen.lock().unwrap().len();
    let r = crate::chat(&base, orphan).await;
    assert_eq!(r.status(), 400);
    let e = crate::error_of(r).await;
    assert_eq!(
        (e["code"].as_str(), e["param"].as_str()),
        (Some("invalid_request"), Some("messages"))
    );
    assert_eq!(fake.seen.lock().unwrap().len(), before);
}

/// The calls every `*_tools` stream makes: `weather` for Paris, `now` without
/// arguments.
fn assert_the_two_calls(calls: &Value, provider: &str) {
    let calls = calls
        .as_array()
        .unwrap_or_else(|| panic!("{provider}: {calls}"));
    assert_eq!(calls.len(), 2, "{provider}");
    let names: Vec<&str> = calls
        .iter()
        .map(|c| c["function"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["weather", "now"], "{provider}");
    let args = |i: usize| -> Value {
        serde_json::from_str(calls[i]["function"]["arguments"].as_str().unwrap()).unwrap()
    };
    assert_eq!(args(0), json!({"city": "Paris"}), "{provider}");
    assert_eq!(args(1), json!({}), "{provider}");
    for call in calls {
        assert_eq!(call["type"], "function", "{provider}");
        assert!(!call["id"].as_str().unwrap().is_empty(), "{provider}");
    }
    assert_ne!(calls[0]["id"], calls[1]["id"], "{provider}");
}

#[tokio::test]
async fn fake_providers_documented_tool_calls_come_back_as_openai_tool_calls() {
    let fake = fake::start();
    let base = spawn_upstream(&fake.base);
    for provider in PROVIDERS {
        let model = format!("{provider}_tools");
        // Streamed: OpenAI's deltas, each naming its call by index.
        let (_, frames) = stream(&base, &model).await;
        assert_eq!(frames.last().unwrap(), "[DONE]", "{provider}");
        let chunks: Vec<ChatCompletionChunk> = frames[..frames.len() - 1]
            .iter()
            .map(|f| serde_json::from_str(f).unwrap())
            .collect();
        let pieces: Vec<_> = chunks
            .iter()
            .flat_map(|c| &c.choices)
            .flat_map(|c| c.delta.tool_calls.iter().flatten())
            .collect();
        let firsts: Vec<_> = pieces.iter().filter(|p| p.id.is_some()).collect();
        assert_eq!(firsts.len(), 2, "{provider}: {pieces:?}");
        assert_eq!((firsts[0].index, firsts[1].index), (0, 1), "{provider}");
        let finish = chunks
            .iter()
            .flat_map(|c| &c.choices)
            .find_map(|c| c.finish_reason);
        assert_eq!(finish, Some(FinishReason::ToolCalls), "{provider}");
        let mut builder = tandem_core::protocol::CompletionBuilder::default();
        chunks.into_iter().for_each(|c| builder.push(c));
        let folded = serde_json::to_value(builder.finish().unwrap()).unwrap();
        assert_the_two_calls(&folded["choices"][0]["message"]["tool_calls"], provider);
        if provider != "openai" {
            assert_eq!(text_of(&frames), "Let me check.", "{provider}");
        }

        // Whole: one message with both calls.
        let whole: Value = crate::chat(
            &base,
            json!({"model": model, "messages": [{"role": "user", "content": "Hi"}]}),
        )
        .await
        .json()
        .await
        .unwrap();
        let choice = &whole["choices"][0];
        assert_eq!(choice["finish_reason"], "tool_calls", "{provider}");
        assert_the_two_calls(&choice["message"]["tool_calls"], provider);
        let content = &choice["message"]["content"];
        match provider {
            "openai" => assert_eq!(content, &Value::Null),
            _ => assert_eq!(content, "Let me check.", "{provider}"),
        }
        assert_eq!(whole["usage"]["completion_tokens"], 17, "{provider}");
    }
}

#[tokio::test]
async fn a_native_backend_whose_template_calls_tools_answers_a_valid_call() {
    let _turn = crate::model_turn().await;
    let mut config = crate::native_config();
    let tiny =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/tiny/tiny-qwen3.gguf");
    config.backends.insert(
        "native".into(),
        tandem_server::config::BackendConfig::Native { path: tiny },
    );
    let base = crate::spawn(config);
    crate::wait_ready(&base).await;
    let mut body = conversation(
        "tiny-qwen3",
        json!({"type": "function", "function": {"name": "weather"}}),
    );
    // A random-weights model samples whitespace runs (up to the matcher's bound of
    // 12 bytes) and string bytes: a fixed seed and room for them keep it deterministic.
    body["max_tokens"] = 200.into();
    body["seed"] = 7.into();
    let whole: Value = crate::chat(&base, body.clone()).await.json().await.unwrap();
    let choice = &whole["choices"][0];
    assert_eq!(choice["finish_reason"], "tool_calls", "{whole}");
    let call = &choice["message"]["tool_calls"][0];
    assert_eq!(call["function"]["name"], "weather");
    let arguments: Value =
        serde_json::from_str(call["function"]["arguments"].as_str().unwrap()).unwrap();
    assert!(arguments["city"].is_string(), "{arguments}");
    assert_eq!(arguments.as_object().unwrap().len(), 1, "{arguments}");
}

fn spawn_upstream(fake: &str) -> String {
    crate::spawn(upstream_config(fake))
}
