//! The `generateContent` body of a chat request: system messages as
//! `systemInstruction`, assistant tool calls as `functionCall` parts, tool messages
//! as `functionResponse` parts of a user turn, `tools` as `functionDeclarations`,
//! `tool_choice` as `toolConfig.functionCallingConfig` (NONE, AUTO, ANY, ANY with
//! `allowedFunctionNames`), a JSON `response_format` as `responseMimeType` (and
//! `responseSchema`).

use serde_json::{json, Value};
use tandem_core::protocol::{ResponseFormat, ToolChoice};
use tandem_core::{ChatCompletionRequest, ChatMessage, Role};

use super::schema::openapi_schema;
use crate::error::ApiError;
use crate::upstream::body::{arguments, merge_turns, split_system};

/// The body of `request`; a tool message answering no earlier call is a 400.
pub(super) fn body(request: &ChatCompletionRequest) -> Result<Value, ApiError> {
    let text = |t: &str| json!({"parts": [{"text": t}]});
    let (system, turns) = split_system(request);
    let turns = (0..turns.len())
        .map(|i| turn(&turns, i))
        .collect::<Result<Vec<_>, _>>()?;
    let contents: Vec<Value> = merge_turns(turns)
        .into_iter()
        .map(|(role, parts)| json!({"role": role, "parts": parts}))
        .collect();
    let mut config = json!({});
    if let Some(t) = request.temperature {
        config["temperature"] = t.into();
    }
    if let Some(p) = request.top_p {
        config["topP"] = p.into();
    }
    if let Some(k) = request.top_k {
        config["topK"] = k.into();
    }
    if let Some(n) = request.token_limit() {
        config["maxOutputTokens"] = n.into();
    }
    if let Some(seed) = request.seed {
        config["seed"] = seed.into();
    }
    if let Some(stop) = &request.stop {
        config["stopSequences"] = json!(stop.strings());
    }
    match &request.response_format {
        None | Some(ResponseFormat::Text) => {}
        Some(ResponseFormat::JsonObject) => config["responseMimeType"] = "application/json".into(),
        Some(ResponseFormat::JsonSchema { json_schema }) => {
            config["responseMimeType"] = "application/json".into();
            if let Some(schema) = &json_schema.schema {
                config["responseSchema"] = openapi_schema(schema);
            }
        }
    }
    let mut body = json!({"contents": contents, "generationConfig": config});
    if let Some(system) = system {
        body["systemInstruction"] = text(&system);
    }
    if let Some(tools) = &request.tools {
        let declarations: Vec<Value> = tools
            .iter()
            .map(|t| {
                let f = &t.function;
                let mut declaration = json!({"name": f.name});
                if let Some(description) = &f.description {
                    declaration["description"] = description.as_str().into();
                }
                if let Some(parameters) = &f.parameters {
                    declaration["parameters"] = openapi_schema(parameters);
                }
                declaration
            })
            .collect();
        body["tools"] = json!([{"functionDeclarations": declarations}]);
        let config = match request.tool_choice.as_ref().unwrap_or(&ToolChoice::Auto) {
            ToolChoice::None => json!({"mode": "NONE"}),
            ToolChoice::Auto => json!({"mode": "AUTO"}),
            ToolChoice::Required => json!({"mode": "ANY"}),
            ToolChoice::Function(name) => json!({"mode": "ANY", "allowedFunctionNames": [name]}),
        };
        body["toolConfig"] = json!({"functionCallingConfig": config});
    }
    Ok(body)
}

/// Message `i` of `turns` as (role, parts): text, a `functionCall` for each call
/// of an assistant message, a `functionResponse` (named after the call it answers)
/// for a tool message.
fn turn(turns: &[&ChatMessage], i: usize) -> Result<(&'static str, Vec<Value>), ApiError> {
    let m = turns[i];
    let text = (!m.content.is_empty()).then(|| json!({"text": m.content}));
    Ok(match m.role {
        Role::Tool => {
            let id = m.tool_call_id.as_deref().unwrap_or_default();
            let name = called_function(&turns[..i], id)?;
            let response = json!({"name": name, "response": response(&m.content)});
            ("user", vec![json!({"functionResponse": response})])
        }
        Role::Assistant => {
            let calls = m.tool_calls.iter().flatten().map(|call| {
                json!({"functionCall": {"name": call.function.name, "args": arguments(call)}})
            });
            ("model", text.into_iter().chain(calls).collect())
        }
        Role::User | Role::System => ("user", text.into_iter().collect()),
    })
}

/// A tool's result as the JSON object `functionResponse.response` takes: the
/// result itself when it is a JSON object, else `{"output": text}`.
fn response(content: &str) -> Value {
    match serde_json::from_str::<Value>(content) {
        Ok(object @ Value::Object(_)) => object,
        _ => json!({"output": content}),
    }
}

/// The name of the function whose call `id` a tool message answers: the latest
/// assistant call with that id in `earlier`; a 400 when there is none.
fn called_function<'a>(earlier: &[&'a ChatMessage], id: &str) -> Result<&'a str, ApiError> {
    earlier
        .iter()
        .rev()
        .flat_map(|m| m.tool_calls.iter().flatten())
        .find(|call| call.id == id)
        .map(|call| call.function.name.as_str())
        .ok_or_else(|| {
            ApiError::invalid_request(format!(
                "the tool message answering {id:?} follows no assistant call with that id; \
                 Gemini needs the function's name"
            ))
            .at("messages")
        })
}
