//! Anthropic's Messages API: the request's body (body.rs), and the event stream
//! (`message_start`, `content_block_start`, `content_block_delta`,
//! `content_block_stop`, `message_delta`, `message_stop`, `error`) as OpenAI chunks:
//! text deltas as content, `tool_use` blocks and their `input_json_delta`s as
//! `tool_calls` pieces.

mod body;

use serde_json::Value;
use tandem_core::protocol::{ChunkWriter, ToolCallDelta};
use tandem_core::{ChatCompletionChunk, ChatCompletionRequest, FinishReason, Usage};

use super::events::{malformed, stream_error, translate, Translate};
use super::http::{KeyHeader, Upstream};
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
        let body = body::body(&self.0.model, request)?;
        let headers = [("anthropic-version", VERSION)];
        let key = KeyHeader::Named("x-api-key");
        let (lease, response) = (self.0)
            .send("/v1/messages", &call.forward, &body, key, &headers)
            .await?;
        Ok(translate(
            response,
            lease,
            Events {
                writer: ChunkWriter::new(&call.id, call.created, &call.model),
                usage: Usage::default(),
                calls: vec![],
                done: false,
            },
        ))
    }
}

struct Events {
    writer: ChunkWriter,
    usage: Usage,
    /// The `tool_use` blocks so far: (block index, whether input came); a block's
    /// call index is its place here.
    calls: Vec<(u64, bool)>,
    done: bool,
}

impl Events {
    /// The call index and input flag of the `tool_use` block at `index`.
    fn call(&mut self, index: &Value) -> Option<(usize, &mut bool)> {
        let index = index.as_u64()?;
        let at = self.calls.iter().position(|(block, _)| *block == index)?;
        Some((at, &mut self.calls[at].1))
    }
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
            "content_block_start" if v["content_block"]["type"] == "tool_use" => {
                let block = &v["content_block"];
                let (Some(index), Some(id), Some(name)) = (
                    v["index"].as_u64(),
                    block["id"].as_str(),
                    block["name"].as_str(),
                ) else {
                    return Err(malformed(
                        "anthropic",
                        "a tool_use block without id or name",
                    ));
                };
                self.calls.push((index, false));
                let start = ToolCallDelta::start(
                    self.calls.len() - 1,
                    id.into(),
                    name.into(),
                    String::new(),
                );
                vec![self.writer.tool_call(start)]
            }
            "content_block_delta" if v["delta"]["type"] == "input_json_delta" => {
                let fragment = v["delta"]["partial_json"].as_str().unwrap_or_default();
                match self.call(&v["index"]) {
                    Some((at, input)) if !fragment.is_empty() => {
                        *input = true;
                        let piece = ToolCallDelta::arguments(at, fragment.into());
                        vec![self.writer.tool_call(piece)]
                    }
                    _ => vec![],
                }
            }
            "content_block_delta" => match v["delta"]["text"].as_str() {
                Some(text) if !text.is_empty() => vec![self.writer.content(text.into(), None)],
                _ => vec![],
            },
            // A call whose input never came takes no arguments: `{}`.
            "content_block_stop" => match self.call(&v["index"]) {
                Some((at, input)) if !*input => {
                    *input = true;
                    vec![self
                        .writer
                        .tool_call(ToolCallDelta::arguments(at, "{}".into()))]
                }
                _ => vec![],
            },
            "message_delta" => {
                if let Some(n) = tokens(&v["usage"]["output_tokens"]) {
                    self.usage.completion_tokens = n;
                }
                match v["delta"]["stop_reason"].as_str() {
                    Some("max_tokens") => vec![self.writer.finish(FinishReason::Length)],
                    Some("tool_use") => vec![self.writer.finish(FinishReason::ToolCalls)],
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
