//! Anthropic's Messages API: system messages become `system`, the event stream
//! (`message_start`, `content_block_delta`, `message_delta`, `message_stop`, `error`)
//! becomes OpenAI chunks.

use serde_json::{json, Value};
use tandem_core::protocol::{ChunkWriter, ResponseFormat, Stop};
use tandem_core::{ChatCompletionChunk, ChatCompletionRequest, FinishReason, Usage};

use super::body::{split_system, unsupported};
use super::events::{malformed, stream_error, translate, Translate};
use super::http::Upstream;
use crate::call::{Call, ChunkStream};
use crate::error::ApiError;

/// The API version this adapter speaks.
const VERSION: &str = "2023-06-01";

/// An Anthropic backend.
pub struct Anthropic(pub Upstream);

impl Anthropic {
    /// Stream `request` from `{base_url}/v1/messages`.
    pub async fn open(
        &self,
        request: &ChatCompletionRequest,
        call: &Call,
    ) -> Result<ChunkStream, ApiError> {
        let body = body(&self.0.model, request)?;
        let key = &self.0.key;
        let (lease, response) = self
            .0
            .send("/v1/messages", &call.forward, |post| {
                let post = post.header("anthropic-version", VERSION).json(&body);
                match key {
                    Some(key) => post.header("x-api-key", key),
                    None => post,
                }
            })
            .await?;
        Ok(translate(
            response,
            lease,
            Events {
                writer: ChunkWriter::new(&call.id, call.created, &call.model),
                usage: Usage::default(),
                done: false,
            },
        ))
    }
}

/// The Messages API body of `request`. The Messages API has no JSON mode and tandem
/// does not translate tools: both are a 501 `unsupported_by_upstream`, so a fallback
/// chain moves on to a backend that takes them.
fn body(model: &str, request: &ChatCompletionRequest) -> Result<Value, ApiError> {
    if request.uses_tools() {
        return Err(unsupported("anthropic", "tools"));
    }
    if !matches!(request.response_format, None | Some(ResponseFormat::Text)) {
        return Err(unsupported("anthropic", "a JSON response_format"));
    }
    let (system, turns) = split_system(request);
    let messages: Vec<Value> = turns
        .into_iter()
        .map(|(user, text)| json!({"role": if user { "user" } else { "assistant" }, "content": text}))
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
    match &request.stop {
        Some(Stop::One(s)) => body["stop_sequences"] = json!([s]),
        Some(Stop::Many(v)) => body["stop_sequences"] = json!(v),
        None => {}
    }
    Ok(body)
}

struct Events {
    writer: ChunkWriter,
    usage: Usage,
    done: bool,
}

impl Translate for Events {
    fn event(&mut self, event: &str, data: &str) -> Result<Vec<ChatCompletionChunk>, ApiError> {
        let v: Value = serde_json::from_str(data).map_err(|e| malformed("anthropic", e))?;
        let tokens = |v: &Value| v.as_u64().map(|n| n as usize);
        Ok(match event {
            "message_start" => {
                let usage = &v["message"]["usage"];
                self.usage.prompt_tokens = tokens(&usage["input_tokens"]).unwrap_or(0);
                self.usage.completion_tokens = tokens(&usage["output_tokens"]).unwrap_or(0);
                vec![self.writer.role()]
            }
            "content_block_delta" => match v["delta"]["text"].as_str() {
                Some(text) if !text.is_empty() => vec![self.writer.content(text.into(), None)],
                _ => vec![],
            },
            "message_delta" => {
                if let Some(n) = tokens(&v["usage"]["output_tokens"]) {
                    self.usage.completion_tokens = n;
                }
                match v["delta"]["stop_reason"].as_str() {
                    Some("max_tokens") => vec![self.writer.finish(FinishReason::Length)],
                    Some(_) => vec![self.writer.finish(FinishReason::Stop)],
                    None => vec![],
                }
            }
            "message_stop" => {
                self.done = true;
                self.usage.total_tokens = self.usage.prompt_tokens + self.usage.completion_tokens;
                vec![self.writer.usage(self.usage, None)]
            }
            "error" => return Err(stream_error(&v)),
            _ => vec![],
        })
    }

    fn done(&self) -> bool {
        self.done
    }
}
