//! The Messages API body of a chat request: system messages as `system`, assistant
//! tool calls as `tool_use` blocks, tool messages as `tool_result` blocks in the
//! next user turn, `tools` with `input_schema`, and `tool_choice` as auto, any,
//! tool or none.

use serde_json::{json, Value};
use tandem_core::protocol::{ResponseFormat, Tool, ToolChoice};
use tandem_core::{ChatCompletionRequest, ChatMessage, Role};

use crate::error::ApiError;
use crate::upstream::body::{arguments, merge_turns, split_system, unsupported};

/// The body for `model`. The Messages API has no JSON mode: a JSON
/// `response_format` is a 501 `unsupported_by_upstream`, so a fallback chain moves
/// on to a backend that takes it.
pub(super) fn body(model: &str, request: &ChatCompletionRequest) -> Result<Value, ApiError> {
    if !matches!(request.response_format, None | Some(ResponseFormat::Text)) {
        return Err(unsupported("anthropic", "a JSON response_format"));
    }
    let (system, turns) = split_system(request);
    let turns = merge_turns(turns.into_iter().map(turn).collect());
    let messages: Vec<Value> = turns
        .into_iter()
        .map(|(role, content)| json!({"role": role, "content": content}))
        .collect();
    let mut body = json!({
        "model": model,
        "messages": messages,
        "max_tokens": request.token_limit().unwrap_or(1024),
        "stream": true,
    });
    if let Some(system) = system {
        body["system"] = system.into();
    }
    if let Some(t) = request.temperature {
        body["temperature"] = t.min(1.0).into();
    }
    if let Some(p) = request.top_p {
        body["top_p"] = p.into();
    }
    if let Some(k) = request.top_k {
        body["top_k"] = k.into();
    }
    if let Some(stop) = &request.stop {
        body["stop_sequences"] = json!(stop.strings());
    }
    if let Some(tools) = &request.tools {
        body["tools"] = tools.iter().map(tool).collect();
        body["tool_choice"] = tool_choice(request);
    }
    Ok(body)
}

/// One message as (role, content blocks): text, `tool_use` for each call of an
/// assistant message, `tool_result` for a tool message (a user turn).
fn turn(m: &ChatMessage) -> (&'static str, Vec<Value>) {
    let text = (!m.content.is_empty()).then(|| json!({"type": "text", "text": m.content}));
    match m.role {
        Role::Tool => (
            "user",
            vec![json!({
                "type": "tool_result",
                "tool_use_id": m.tool_call_id,
                "content": m.content,
            })],
        ),
        Role::Assistant => {
            let calls = m.tool_calls.iter().flatten().map(|call| {
                json!({
                    "type": "tool_use",
                    "id": call.id,
                    "name": call.function.name,
                    "input": arguments(call),
                })
            });
            ("assistant", text.into_iter().chain(calls).collect())
        }
        Role::User | Role::System => ("user", text.into_iter().collect()),
    }
}

/// A tool as the Messages API takes it: its parameters as `input_schema` (an empty
/// object schema without them).
fn tool(tool: &Tool) -> Value {
    let f = &tool.function;
    let schema = f
        .parameters
        .clone()
        .unwrap_or_else(|| json!({"type": "object", "properties": {}}));
    let mut out = json!({"name": f.name, "input_schema": schema});
    if let Some(description) = &f.description {
        out["description"] = description.as_str().into();
    }
    out
}

/// `tool_choice`: none, auto, any (`required`) or tool (a named function);
/// `parallel_tool_calls: false` disables parallel use.
fn tool_choice(request: &ChatCompletionRequest) -> Value {
    let mut choice = match request.tool_choice.as_ref().unwrap_or(&ToolChoice::Auto) {
        ToolChoice::None => return json!({"type": "none"}),
        ToolChoice::Auto => json!({"type": "auto"}),
        ToolChoice::Required => json!({"type": "any"}),
        ToolChoice::Function(name) => json!({"type": "tool", "name": name}),
    };
    if request.parallel_tool_calls == Some(false) {
        choice["disable_parallel_tool_use"] = true.into();
    }
    choice
}
