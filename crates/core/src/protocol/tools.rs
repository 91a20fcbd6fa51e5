//! OpenAI's function tools: the `tools` a request offers, its `tool_choice`, the
//! `tool_calls` of an assistant message (whole, or streamed as deltas by `index`),
//! and the checks that make a malformed one an `invalid_request` naming it.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{ChatMessage, Role};
use crate::error::{Error, Result};

/// Longest function name OpenAI accepts.
const MAX_NAME: usize = 64;

/// The only kind of tool: a function.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ToolKind {
    /// `"function"`.
    #[default]
    Function,
}

/// A function the model may call (locally too when the model's template calls
/// tools: `ai.model.tools`): `{"type": "function", "function": {...}}`.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tool {
    /// Always `function`.
    #[serde(rename = "type")]
    pub kind: ToolKind,
    /// The function.
    pub function: FunctionDef,
}

/// A function the model may call.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FunctionDef {
    /// a-z, A-Z, 0-9, `_` and `-`, at most 64.
    pub name: String,
    /// What the function does, for the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The JSON Schema of its arguments (an object); without one, any object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(type = "Record<string, unknown>"))]
    pub parameters: Option<Value>,
    /// OpenAI's strict mode; tandem's local engine always enforces the schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
}

/// `tool_choice`: whether and which function the model must call.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(
    feature = "ts",
    ts(
        type = r#""none" | "auto" | "required" | { type: "function"; function: { name: string } }"#
    )
)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Value", into = "Value")]
pub enum ToolChoice {
    /// `"none"`: text only.
    None,
    /// `"auto"` (the default with tools): the model picks text or a call.
    Auto,
    /// `"required"`: a call of one of the tools.
    Required,
    /// `{"type": "function", "function": {"name": …}}`: a call of that function.
    Function(String),
}

impl TryFrom<Value> for ToolChoice {
    type Error = String;

    fn try_from(value: Value) -> std::result::Result<Self, String> {
        let named = |v: &Value| {
            (v["type"] == "function" && v.as_object().is_some_and(|o| o.len() == 2))
                .then(|| v["function"]["name"].as_str())
                .flatten()
                .filter(|_| v["function"].as_object().is_some_and(|f| f.len() == 1))
                .map(str::to_string)
        };
        match value.as_str() {
            Some("none") => Ok(ToolChoice::None),
            Some("auto") => Ok(ToolChoice::Auto),
            Some("required") => Ok(ToolChoice::Required),
            _ => named(&value).map(ToolChoice::Function).ok_or_else(|| {
                format!(
                    "tool_choice {value} is not \"none\", \"auto\", \"required\" or \
                     {{\"type\": \"function\", \"function\": {{\"name\": …}}}}"
                )
            }),
        }
    }
}

impl From<ToolChoice> for Value {
    fn from(choice: ToolChoice) -> Value {
        match choice {
            ToolChoice::None => "none".into(),
            ToolChoice::Auto => "auto".into(),
            ToolChoice::Required => "required".into(),
            ToolChoice::Function(name) => json!({"type": "function", "function": {"name": name}}),
        }
    }
}

/// A call the assistant made, in a whole message: its arguments are a JSON object
/// as text.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolCall {
    /// The call's id, which the `tool` message answering it names.
    pub id: String,
    /// Always `function`.
    #[serde(rename = "type", default)]
    pub kind: ToolKind,
    /// The function and its arguments.
    pub function: FunctionCall,
}

/// The function called and its arguments as a JSON text.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FunctionCall {
    /// The function's name.
    pub name: String,
    /// The arguments, a JSON object as text.
    pub arguments: String,
}

/// A piece of a streamed call: the first piece of call `index` has its id, type and
/// name; the following ones add fragments of its arguments.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolCallDelta {
    /// Which call of the message this piece belongs to.
    pub index: usize,
    /// The call's id, in its first piece.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `function`, in its first piece.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<ToolKind>,
    /// The name and/or an arguments fragment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<FunctionCallDelta>,
}

/// The function part of a `ToolCallDelta`.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunctionCallDelta {
    /// The function's name, in the call's first piece.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The next fragment of the arguments' JSON text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<String>,
}

impl ToolCallDelta {
    /// The first piece of call `index`: its id and name, and the arguments so far.
    pub fn start(index: usize, id: String, name: String, arguments: String) -> Self {
        ToolCallDelta {
            index,
            id: Some(id),
            kind: Some(ToolKind::Function),
            function: Some(FunctionCallDelta {
                name: Some(name),
                arguments: Some(arguments),
            }),
        }
    }

    /// A further fragment of call `index`'s arguments.
    pub fn arguments(index: usize, fragment: String) -> Self {
        ToolCallDelta {
            index,
            function: Some(FunctionCallDelta {
                name: None,
                arguments: Some(fragment),
            }),
            ..Self::default()
        }
    }
}

/// Folds streamed [`ToolCallDelta`]s into whole [`ToolCall`]s, in order of index.
#[derive(Debug, Default)]
pub(super) struct ToolCallsBuilder {
    calls: Vec<(usize, ToolCall)>,
}

impl ToolCallsBuilder {
    /// Add a piece: a new index starts a call, a known one extends it.
    pub(super) fn push(&mut self, delta: &ToolCallDelta) {
        let at = match self.calls.iter().position(|(i, _)| *i == delta.index) {
            Some(at) => at,
            None => {
                let call = ToolCall {
                    id: String::new(),
                    kind: ToolKind::Function,
                    function: FunctionCall {
                        name: String::new(),
                        arguments: String::new(),
                    },
                };
                self.calls.push((delta.index, call));
                self.calls.len() - 1
            }
        };
        let call = &mut self.calls[at].1;
        if let Some(id) = &delta.id {
            call.id.clone_from(id);
        }
        if let Some(f) = &delta.function {
            if let Some(name) = &f.name {
                call.function.name.push_str(name);
            }
            if let Some(fragment) = &f.arguments {
                call.function.arguments.push_str(fragment);
            }
        }
    }

    /// The calls, in order of index; `None` when no piece came.
    pub(super) fn finish(mut self) -> Option<Vec<ToolCall>> {
        self.calls.sort_by_key(|(i, _)| *i);
        (!self.calls.is_empty()).then(|| self.calls.into_iter().map(|(_, c)| c).collect())
    }
}

/// Check `tools` and `tool_choice`: names OpenAI accepts, each once, parameters that
/// are JSON objects, a choice that names an offered function and needs tools.
pub(super) fn check(tools: Option<&[Tool]>, choice: Option<&ToolChoice>) -> Result<()> {
    let invalid = |m: String| Err(Error::InvalidRequest(m));
    let Some(tools) = tools else {
        return match choice {
            Some(_) => invalid("tool_choice needs tools".into()),
            None => Ok(()),
        };
    };
    if tools.is_empty() {
        return invalid("tools must not be empty; leave the field out instead".into());
    }
    for (i, tool) in tools.iter().enumerate() {
        let f = &tool.function;
        let good = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
        if f.name.is_empty() || f.name.len() > MAX_NAME || !f.name.chars().all(good) {
            return invalid(format!(
                "tools[{i}].function.name {:?} must be 1 to {MAX_NAME} of a-z, A-Z, 0-9, _ and -",
                f.name
            ));
        }
        if tools[..i].iter().any(|t| t.function.name == f.name) {
            return invalid(format!("tools offer the function {:?} twice", f.name));
        }
        if f.parameters.as_ref().is_some_and(|p| !p.is_object()) {
            return invalid(format!(
                "tools[{i}].function.parameters must be a JSON Schema object"
            ));
        }
    }
    if let Some(ToolChoice::Function(name)) = choice {
        if !tools.iter().any(|t| &t.function.name == name) {
            return invalid(format!(
                "tool_choice names the function {name:?}, which tools do not offer"
            ));
        }
    }
    Ok(())
}

/// Check the tool fields of `messages`: `tool_calls` on assistant messages only,
/// each with an id and JSON arguments; `tool_call_id` on (and only on) `tool` ones.
pub(super) fn check_messages(messages: &[ChatMessage]) -> Result<()> {
    let invalid = |m: String| Err(Error::InvalidRequest(m));
    for (i, m) in messages.iter().enumerate() {
        match (m.role, &m.tool_call_id) {
            (Role::Tool, None) => {
                return invalid(format!("messages[{i}] (tool) needs tool_call_id"))
            }
            (Role::Tool, Some(_)) | (_, None) => {}
            (_, Some(_)) => {
                return invalid(format!(
                    "messages[{i}]: only tool messages take tool_call_id"
                ))
            }
        }
        let Some(calls) = &m.tool_calls else { continue };
        if m.role != Role::Assistant {
            return invalid(format!(
                "messages[{i}]: only assistant messages take tool_calls"
            ));
        }
        for (j, call) in calls.iter().enumerate() {
            if call.id.is_empty() || call.function.name.is_empty() {
                return invalid(format!(
                    "messages[{i}].tool_calls[{j}] needs an id and a function name"
                ));
            }
            if serde_json::from_str::<Value>(&call.function.arguments).is_err() {
                return invalid(format!(
                    "messages[{i}].tool_calls[{j}].function.arguments is not JSON text"
                ));
            }
        }
    }
    Ok(())
}
