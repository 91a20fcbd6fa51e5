//! Google's Gemini API: `streamGenerateContent?alt=sse` with the request's body
//! (body.rs), its events as OpenAI chunks: text parts as content, each
//! `functionCall` part as one whole `tool_calls` piece (Gemini sends a call whole).

mod body;
mod schema;

use serde_json::Value;
use tandem_core::protocol::{ChunkWriter, ToolCallDelta};
use tandem_core::{ChatCompletionChunk, ChatCompletionRequest, FinishReason, Usage};

use super::events::{malformed, stream_error, translate, Translate};
use super::http::{KeyHeader, Upstream};
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
        let body = body::body(request)?;
        let key = KeyHeader::Named("x-goog-api-key");
        let (lease, response) = (self.0).send(&path, &call.forward, &body, key, &[]).await?;
        Ok(translate(
            response,
            lease,
            Events {
                writer: ChunkWriter::new(&call.id, call.created, &call.model),
                call_id: call.id.replacen("chatcmpl-", "call_", 1),
                started: false,
                calls: 0,
                done: false,
            },
        ))
    }
}

struct Events {
    writer: ChunkWriter,
    /// The stem of the ids given to calls without one of Gemini's.
    call_id: String,
    started: bool,
    /// Calls so far.
    calls: usize,
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
        let parts = candidate["content"]["parts"]
            .as_array()
            .into_iter()
            .flatten();
        for part in parts {
            match (part["text"].as_str(), &part["functionCall"]) {
                (Some(text), _) if !text.is_empty() => {
                    chunks.push(self.writer.content(text.into(), None));
                }
                (_, Value::Object(call)) => {
                    let piece = self.call(call)?;
                    chunks.push(self.writer.tool_call(piece));
                }
                _ => {}
            }
        }
        if let Some(reason) = candidate["finishReason"].as_str() {
            self.done = true;
            let reason = match reason {
                "MAX_TOKENS" => FinishReason::Length,
                _ if self.calls > 0 => FinishReason::ToolCalls,
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

impl Events {
    /// A `functionCall` as the whole piece of the next call: Gemini's id when it
    /// gives one, its `args` as the arguments' text.
    fn call(&mut self, call: &serde_json::Map<String, Value>) -> Result<ToolCallDelta, ApiError> {
        let Some(name) = call.get("name").and_then(Value::as_str) else {
            return Err(malformed("gemini", "a functionCall without a name"));
        };
        let index = self.calls;
        self.calls += 1;
        let id = match call.get("id").and_then(Value::as_str) {
            Some(id) => id.to_string(),
            None => format!("{}_{index}", self.call_id),
        };
        let args = call
            .get("args")
            .cloned()
            .unwrap_or_else(|| serde_json::json!({}));
        Ok(ToolCallDelta::start(
            index,
            id,
            name.into(),
            args.to_string(),
        ))
    }
}
