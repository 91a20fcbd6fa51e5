//! OpenAI's `response_format`: plain text, any JSON object, or JSON matching a schema.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The shape the reply must have: `{type: "json_object"}` or `{type: "json_schema",
/// json_schema: {name, schema, strict?, description?}}` are enforced while decoding
/// locally.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ResponseFormat {
    /// Free text (the default).
    Text,
    /// Any JSON object.
    JsonObject,
    /// JSON matching `json_schema.schema`.
    JsonSchema {
        /// The schema and its name.
        json_schema: JsonSchemaFormat,
    },
}

/// `response_format.json_schema`.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonSchemaFormat {
    /// Name of the format (a-z, A-Z, 0-9, `_`, `-`).
    pub name: String,
    /// What the format is for (passed upstream; the local engine ignores it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The JSON Schema; without one, any JSON object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(type = "Record<string, unknown>"))]
    pub schema: Option<Value>,
    /// OpenAI's strict mode; tandem's local engine always enforces the schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
}
