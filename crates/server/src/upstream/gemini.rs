//! Google's Gemini API: `streamGenerateContent?alt=sse`, with system messages as
//! `systemInstruction`, translated to OpenAI chunks.

use serde_json::{json, Value};
use tandem_core::protocol::{ChunkWriter, ResponseFormat, Stop};
use tandem_core::{ChatCompletionChunk, ChatCompletionRequest, FinishReason, Usage};

use super::body::{split_system, unsupported};
use super::events::{malformed, stream_error, translate, Translate};
use super::http::Upstream;
use crate::call::{Call, ChunkStream};
use crate::error::ApiError;

/// A Gemini backend.
pub struct Gemini(pub Upstream);

impl Gemini {
    /// Stream `request` from `{base_url}/v1beta/models/{model}:streamGenerateContent`.
    pub async fn open(
        &self,
        request: &ChatCompletionRequest,
        call: &Call,
    ) -> Result<ChunkStream, ApiError> {
        let path = format!(
            "/v1beta/models/{}:streamGenerateContent?alt=sse",
            self.0.model
        );
        let body = body(request)?;
        let key = &self.0.key;
        let (lease, response) = self
            .0
            .send(&path, &call.forward, |post| {
                let post = post.json(&body);
                match key {
                    Some(key) => post.header("x-goog-api-key", key),
                    None => post,
                }
            })
            .await?;
        Ok(translate(
            response,
            lease,
            Events {
                writer: ChunkWriter::new(&call.id, call.created, &call.model),
                started: false,
                done: false,
            },
        ))
    }
}

/// The `generateContent` body of `request`: a JSON `response_format` becomes
/// `responseMimeType` (and `responseSchema`); tools are not translated (a 501
/// `unsupported_by_upstream`, so a fallback chain moves on).
fn body(request: &ChatCompletionRequest) -> Result<Value, ApiError> {
    if request.uses_tools() {
        return Err(unsupported("gemini", "tools"));
    }
    let text = |t: &str| json!({"parts": [{"text": t}]});
    let (system, turns) = split_system(request);
    let contents: Vec<Value> = turns
        .into_iter()
        .map(|(user, t)| {
            let mut content = text(t);
            content["role"] = if user { "user" } else { "model" }.into();
            content
        })
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
    match &request.stop {
        Some(Stop::One(s)) => config["stopSequences"] = json!([s]),
        Some(Stop::Many(v)) => config["stopSequences"] = json!(v),
        None => {}
    }
    match &request.response_format {
        None | Some(ResponseFormat::Text) => {}
        Some(ResponseFormat::JsonObject) => config["responseMimeType"] = "application/json".into(),
        Some(ResponseFormat::JsonSchema { json_schema }) => {
            config["responseMimeType"] = "application/json".into();
            if let Some(schema) = &json_schema.schema {
                config["responseSchema"] = response_schema(schema);
            }
        }
    }
    let mut body = json!({"contents": contents, "generationConfig": config});
    if let Some(system) = system {
        body["systemInstruction"] = text(&system);
    }
    Ok(body)
}

/// A JSON Schema in the OpenAPI subset Gemini's `responseSchema` takes: the keywords
/// it knows are kept (`const` becomes a one-value `enum`), the others dropped
/// (`additionalProperties`, `$schema`…).
fn response_schema(schema: &Value) -> Value {
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
                    .map(|(name, s)| (name.clone(), response_schema(s)))
                    .collect();
                out.insert(key.clone(), Value::Object(props));
            }
            "items" => {
                out.insert(key.clone(), response_schema(value));
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

struct Events {
    writer: ChunkWriter,
    started: bool,
    done: bool,
}

impl Translate for Events {
    fn event(&mut self, _event: &str, data: &str) -> Result<Vec<ChatCompletionChunk>, ApiError> {
        let v: Value = serde_json::from_str(data).map_err(|e| malformed("gemini", e))?;
        if v.get("error").is_some() {
            return Err(stream_error(&v));
        }
        let mut chunks = vec![];
        if !self.started {
            self.started = true;
            chunks.push(self.writer.role());
        }
        let candidate = &v["candidates"][0];
        let text: String = candidate["content"]["parts"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p["text"].as_str())
            .collect();
        if !text.is_empty() {
            chunks.push(self.writer.content(text, None));
        }
        if let Some(reason) = candidate["finishReason"].as_str() {
            self.done = true;
            let reason = match reason {
                "MAX_TOKENS" => FinishReason::Length,
                _ => FinishReason::Stop,
            };
            chunks.push(self.writer.finish(reason));
            let count = |k: &str| v["usageMetadata"][k].as_u64().unwrap_or(0) as usize;
            let (prompt, completion) = (count("promptTokenCount"), count("candidatesTokenCount"));
            chunks.push(self.writer.usage(
                Usage {
                    prompt_tokens: prompt,
                    completion_tokens: completion,
                    total_tokens: prompt + completion,
                },
                None,
            ));
        }
        Ok(chunks)
    }

    fn done(&self) -> bool {
        self.done
    }
}
