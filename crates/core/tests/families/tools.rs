//! Tool calls on the tiny Qwen3 model, whose template renders `tools` (Hermes-style
//! `<tool_call>` calls): the call is decoded under constraint, so whatever the
//! random weights favour it is a call of an offered function whose arguments match
//! its schema; `tool_choice` none / auto / required / a named function; the tiny
//! Llama 3, whose template has no tools, refuses them.

use serde_json::{json, Value};
use tandem_core::protocol::{CompletionBuilder, ToolCall};
use tandem_core::structured::Schema;
use tandem_core::{
    CancelFlag, ChatCompletion, ChatCompletionChunk, ChatCompletionRequest, Engine, FinishReason,
    Reply, ReplyStep,
};

use crate::{LLAMA3, QWEN3};

fn tools() -> Value {
    json!([
        {"type": "function", "function": {"name": "weather", "description": "Today's weather",
            "parameters": {"type": "object", "properties": {
                "city": {"type": "string", "maxLength": 12},
                "unit": {"enum": ["celsius", "fahrenheit"]},
                "days": {"type": "integer"}},
              "required": ["city", "unit"], "additionalProperties": false}}},
        {"type": "function", "function": {"name": "now"}}
    ])
}

fn request(extra: Value) -> ChatCompletionRequest {
    let mut body = json!({
        "messages": [{"role": "user", "content": "Weather in Paris?"}],
        "tools": tools(),
        "max_tokens": 60,
    });
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    serde_json::from_value(body).unwrap()
}

/// The reply's chunks and their fold into a whole completion.
fn run(
    engine: &mut Engine,
    request: &ChatCompletionRequest,
) -> (Vec<ChatCompletionChunk>, ChatCompletion) {
    let mut reply = Reply::new(
        engine,
        request,
        "chatcmpl-t".into(),
        1,
        "local",
        CancelFlag::default(),
        Box::new(|| 0.0),
    )
    .unwrap();
    let mut chunks = vec![];
    while let Some(step) = reply.next_step(engine) {
        if let ReplyStep::Chunk(chunk) = step.unwrap() {
            chunks.push(chunk);
        }
    }
    let mut builder = CompletionBuilder::default();
    chunks.iter().cloned().for_each(|c| builder.push(c));
    (chunks, builder.finish().unwrap())
}

/// The one call of `completion`, checked: an offered function, arguments valid
/// against its schema, finish reason `tool_calls`.
fn the_call(completion: &ChatCompletion) -> ToolCall {
    let choice = &completion.choices[0];
    assert_eq!(choice.finish_reason, Some(FinishReason::ToolCalls));
    let calls = choice.message.tool_calls.as_ref().expect("a tool call");
    assert_eq!(calls.len(), 1);
    let call = calls[0].clone();
    assert_eq!(call.id, "call_t");
    let arguments: Value = serde_json::from_str(&call.function.arguments)
        .unwrap_or_else(|e| panic!("{}: {e}", call.function.arguments));
    let tool = tools()
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["function"]["name"] == call.function.name.as_str())
        .cloned()
        .unwrap_or_else(|| panic!("{} was not offered", call.function.name));
    let schema = match &tool["function"]["parameters"] {
        Value::Null => json!({"type": "object"}),
        parameters => parameters.clone(),
    };
    Schema::compile(&schema)
        .unwrap()
        .validate(&arguments)
        .unwrap_or_else(|e| panic!("{arguments}: {e}"));
    call
}

#[test]
fn required_and_named_tool_choices_give_valid_calls_of_offered_functions() {
    let mut engine = Engine::load(QWEN3.bytes()).unwrap();
    for seed in 0..4 {
        let (chunks, whole) = run(
            &mut engine,
            &request(json!({"tool_choice": "required", "seed": seed, "temperature": 1.0})),
        );
        let call = the_call(&whole);
        assert_eq!(whole.choices[0].message.content, None, "seed {seed}");
        // Streamed: the id and name in the first piece, then argument fragments.
        let pieces: Vec<_> = chunks
            .iter()
            .flat_map(|c| &c.choices)
            .flat_map(|c| c.delta.tool_calls.iter().flatten())
            .collect();
        let first = pieces[0].function.as_ref().unwrap();
        assert_eq!(first.name.as_deref(), Some(call.function.name.as_str()));
        assert!(pieces[1..].iter().all(|p| p.id.is_none() && p.index == 0));
    }
    for name in ["weather", "now"] {
        let choice = json!({"type": "function", "function": {"name": name}});
        let (_, whole) = run(
            &mut engine,
            &request(json!({"tool_choice": choice, "seed": 7})),
        );
        assert_eq!(the_call(&whole).function.name, name);
    }
}

#[test]
fn auto_calls_when_the_model_opens_a_call_and_none_offers_no_tools() {
    let mut engine = Engine::load(QWEN3.bytes()).unwrap();
    let opening = engine.raw_prompt("<tool_call>");
    assert_eq!(opening.len(), 1, "<tool_call> is one token");
    // The model made to open a call (its opening token favoured): a valid call.
    let bias = json!({opening[0].to_string(): 100});
    let (_, whole) = run(
        &mut engine,
        &request(json!({"logit_bias": bias, "temperature": 0})),
    );
    the_call(&whole);
    // Made never to open one: text, no call.
    let bias = json!({opening[0].to_string(): -100});
    let (_, whole) = run(
        &mut engine,
        &request(json!({"logit_bias": bias, "temperature": 0})),
    );
    let choice = &whole.choices[0];
    assert!(choice.message.tool_calls.is_none());
    assert_ne!(choice.finish_reason, Some(FinishReason::ToolCalls));
    // "none": the prompt is the one without tools.
    let plain = request(json!({"tool_choice": "none"}));
    let without = ChatCompletionRequest {
        tools: None,
        tool_choice: None,
        ..plain.clone()
    };
    let (_, a) = run(
        &mut engine,
        &ChatCompletionRequest {
            temperature: Some(0.0),
            ..plain
        },
    );
    let (_, b) = run(
        &mut engine,
        &ChatCompletionRequest {
            temperature: Some(0.0),
            ..without
        },
    );
    assert_eq!(a.choices[0].message, b.choices[0].message);
    assert_eq!(
        a.usage.unwrap().prompt_tokens,
        b.usage.unwrap().prompt_tokens
    );
}

#[test]
fn the_template_renders_the_tools_and_a_tool_conversation() {
    let engine = Engine::load(QWEN3.bytes()).unwrap();
    let messages = json!([
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": "", "tool_calls": [{"id": "call_1", "type": "function",
            "function": {"name": "weather", "arguments": "{\"city\": \"Paris\", \"unit\": \"celsius\"}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "18"}
    ]);
    let messages = serde_json::from_value::<Vec<tandem_core::ChatMessage>>(messages).unwrap();
    let kwargs = json!({"tools": tools()});
    let text = engine
        .template()
        .unwrap()
        .render_with(&messages, true, kwargs.as_object().unwrap())
        .unwrap();
    let tools_at = text.find("<tools>\n").expect("the tools are rendered");
    assert!(text[tools_at..].contains("\"name\": \"weather\""), "{text}");
    assert!(
        text.contains("<tool_call>\n{\"name\": \"weather\", \"arguments\": {\"city\": \"Paris\", \"unit\": \"celsius\"}}\n</tool_call>"),
        "{text}"
    );
    assert!(
        text.contains("<tool_response>\n18\n</tool_response>"),
        "{text}"
    );
}

#[test]
fn a_template_without_tools_refuses_them_with_invalid_request() {
    let engine = Engine::load(LLAMA3.bytes()).unwrap();
    assert!(!engine.description().tools);
    assert!(Engine::load(QWEN3.bytes()).unwrap().description().tools);
    let e = Reply::new(
        &engine,
        &request(json!({})),
        "chatcmpl-t".into(),
        1,
        "local",
        CancelFlag::default(),
        Box::new(|| 0.0),
    )
    .err()
    .unwrap();
    assert_eq!(e.code(), "invalid_request");
    assert!(
        e.to_string().contains("tools need the remote engine"),
        "{e}"
    );
}
