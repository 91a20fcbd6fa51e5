//! Google's Gemini API: `streamGenerateContent?alt=sse`, with system messages as
//! `systemInstruction`, translated to OpenAI chunks.

use serde_json::{json, Value};
use tandem_core::protocol::{ChunkWriter, Stop};
use tandem_core::{ChatCompletionChunk, ChatCompletionRequest, FinishReason, Usage};

use super::{malformed, send, split_system, stream_error, translate, Translate, Upstream};
use crate::backend::{Call, ChunkStream};
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
        let mut post = self.0.post(&path, &call.forward).json(&body(request));
        if let Some(key) = &self.0.key {
            post = post.header("x-goog-api-key", key);
        }
        let response = send(post).await?;
        Ok(translate(
            response,
            Events {
                writer: ChunkWriter::new(&call.id, call.created, &call.model),
                started: false,
                done: false,
            },
        ))
    }
}

/// The `generateContent` body of `request`.
fn body(request: &ChatCompletionRequest) -> Value {
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
    if let Some(n) = request.max_completion_tokens.or(request.max_tokens) {
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
    let mut body = json!({"contents": contents, "generationConfig": config});
    if let Some(system) = system {
        body["systemInstruction"] = text(&system);
    }
    body
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
