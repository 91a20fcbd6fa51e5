//! An embeddings request's body read into tandem-core's `EmbeddingRequest`: what
//! does not fit OpenAI's shape is a 400 `invalid_request` whose `param` names the
//! field at fault (an unknown field by its own name).

use serde::Deserialize;
use serde_json::Value;
use tandem_core::protocol::{EmbeddingInput, EmbeddingRequest, EncodingFormat};

use crate::error::ApiError;

/// The fields an embeddings request takes, and what each must be.
const FIELDS: [(&str, &str); 6] = [
    ("input", "a string or an array of strings"),
    ("model", "a string"),
    ("dimensions", "a positive integer"),
    ("encoding_format", "\"float\" or \"base64\""),
    ("user", "a string"),
    ("truncate", "true or false"),
];

/// The request in `text`, each field checked for its shape.
pub fn parse(text: &str) -> Result<EmbeddingRequest, ApiError> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| ApiError::invalid_request(format!("the body is not valid JSON: {e}")))?;
    let Value::Object(fields) = &value else {
        return Err(ApiError::invalid_request("the body must be a JSON object"));
    };
    if let Some(name) = fields.keys().find(|k| FIELDS.iter().all(|(f, _)| f != k)) {
        return Err(ApiError::invalid_request(format!(
            "unknown field {name:?}: an embeddings request takes input, model, dimensions, \
             encoding_format, user and tandem's truncate"
        ))
        .at(name.clone()));
    }
    if !fields.contains_key("input") {
        return Err(ApiError::invalid_request("input is required").at("input"));
    }
    for (name, expected) in FIELDS {
        let Some(v) = fields.get(name) else {
            continue;
        };
        if name == "input" && is_token_ids(v) {
            return Err(ApiError::invalid_request(
                "input as token ids is not supported: send text, a string or an array of strings",
            )
            .at("input"));
        }
        if !fits(name, v) {
            return Err(ApiError::invalid_request(format!("{name} must be {expected}")).at(name));
        }
    }
    serde_json::from_value(value).map_err(|e| ApiError::invalid_request(e.to_string()))
}

/// Whether `v` has the shape field `name` takes (`null` for an optional one).
fn fits(name: &str, v: &Value) -> bool {
    match name {
        "input" => EmbeddingInput::deserialize(v).is_ok(),
        "dimensions" => v.is_null() || v.as_u64().is_some(),
        "encoding_format" => v.is_null() || EncodingFormat::deserialize(v).is_ok(),
        "truncate" => v.is_null() || v.is_boolean(),
        _ => v.is_null() || v.is_string(),
    }
}

/// OpenAI's other forms of `input`: an array of token ids, or of arrays of them.
fn is_token_ids(v: &Value) -> bool {
    v.as_array()
        .and_then(|items| items.first())
        .is_some_and(|first| first.is_number() || first.is_array())
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn wrong_shapes_name_their_field() {
        for (body, param) in [
            (r#"{"input": ["a", 2]}"#, "input"),
            (r#"{"input": [1, 2]}"#, "input"),
            (r#"{"input": [[1], [2]]}"#, "input"),
            (r#"{"input": null}"#, "input"),
            (r#"{"model": "m"}"#, "input"),
            (r#"{"input": "a", "dimensions": -1}"#, "dimensions"),
            (
                r#"{"input": "a", "encoding_format": "int8"}"#,
                "encoding_format",
            ),
            (r#"{"input": "a", "truncate": "yes"}"#, "truncate"),
            (r#"{"input": "a", "model": 7}"#, "model"),
            (r#"{"input": "a", "temperature": 1}"#, "temperature"),
        ] {
            let e = parse(body).unwrap_err();
            assert_eq!(e.status, 400, "{body}");
            assert_eq!(e.code, "invalid_request", "{body}");
            assert_eq!(e.param.as_deref(), Some(param), "{body}: {}", e.message);
        }
        for body in ["[]", "not json", "\"a\""] {
            assert_eq!(parse(body).unwrap_err().param, None, "{body}");
        }
        let ok = parse(r#"{"input": ["a", "b"], "model": null, "truncate": true}"#).unwrap();
        assert_eq!(ok.texts(), ["a", "b"]);
    }
}
