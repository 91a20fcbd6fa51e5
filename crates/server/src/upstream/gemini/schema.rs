//! JSON Schemas in the OpenAPI subset Gemini takes (`responseSchema`, a function
//! declaration's `parameters`).

use serde_json::{json, Value};

/// A JSON Schema in the OpenAPI subset Gemini takes: the keywords
/// it knows are kept (`const` becomes a one-value `enum`), the others dropped
/// (`additionalProperties`, `$schema`…).
pub(super) fn openapi_schema(schema: &Value) -> Value {
    const KEPT: [&str; 10] = [
        "type",
        "format",
        "description",
        "nullable",
        "enum",
        "required",
        "minItems",
        "maxItems",
        "minimum",
        "maximum",
    ];
    let Some(obj) = schema.as_object() else {
        return json!({});
    };
    let mut out = serde_json::Map::new();
    for (key, value) in obj {
        match key.as_str() {
            "properties" => {
                let props = value.as_object().into_iter().flatten();
                let props: serde_json::Map<String, Value> = props
                    .map(|(name, s)| (name.clone(), openapi_schema(s)))
                    .collect();
                out.insert(key.clone(), Value::Object(props));
            }
            "items" => {
                out.insert(key.clone(), openapi_schema(value));
            }
            "const" => {
                out.insert("enum".into(), json!([value]));
            }
            k if KEPT.contains(&k) => {
                out.insert(key.clone(), value.clone());
            }
            _ => {}
        }
    }
    let strings = out
        .get("enum")
        .and_then(Value::as_array)
        .is_some_and(|values| values.iter().all(Value::is_string));
    if strings && !out.contains_key("type") {
        out.insert("type".into(), "string".into());
    }
    Value::Object(out)
}
