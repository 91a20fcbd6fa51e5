//! Any OpenAI-compatible API (OpenAI, Gemini's OpenAI endpoint, vLLM, llama.cpp
//! server, Ollama, Ray Serve, KServe): the request goes up as is, with the backend's
//! model name, and its chunks come back re-stamped with this server's id.

use serde_json::Value;
use tandem_core::protocol::StreamOptions;
use tandem_core::{ChatCompletionChunk, ChatCompletionRequest, FinishReason};

use super::events::{malformed, stream_error, translate, Translate};
use super::http::{KeyHeader, Upstream};
use crate::call::{Call, ChunkStream};
use crate::error::ApiError;

/// An OpenAI-compatible backend.
pub struct OpenAi(pub Upstream);

impl OpenAi {
    /// Stream `request` from `{base_url}/chat/completions`.
    pub async fn open(
        &self,
        request: &ChatCompletionRequest,
        call: &Call,
    ) -> Result<ChunkStream, ApiError> {
        let body = ChatCompletionRequest {
            model: Some(self.0.model.clone()),
            stream: Some(true),
            stream_options: Some(StreamOptions {
                include_usage: true,
            }),
            ..request.clone()
        };
        let (lease, response) = (self.0)
            .send(
                "/chat/completions",
                &call.forward,
                &body,
                KeyHeader::Bearer,
                &[],
            )
            .await?;
        Ok(translate(
            response,
            lease,
            Chunks {
                call: call.clone(),
                done: false,
            },
        ))
    }
}

struct Chunks {
    call: Call,
    done: bool,
}

impl Translate for Chunks {
    fn event(&mut self, _event: &str, data: &str) -> Result<Vec<ChatCompletionChunk>, ApiError> {
        if data.trim() == "[DONE]" {
            self.done = true;
            return Ok(vec![]);
        }
        let mut value: Value = serde_json::from_str(data).map_err(|e| malformed("openai", e))?;
        if value.get("error").is_some() {
            return Err(stream_error(&value));
        }
        normalise(&mut value);
        let mut chunk: ChatCompletionChunk =
            serde_json::from_value(value).map_err(|e| malformed("openai", e))?;
        chunk.id.clone_from(&self.call.id);
        chunk.created = self.call.created;
        chunk.model.clone_from(&self.call.model);
        Ok(vec![chunk])
    }

    fn done(&self) -> bool {
        self.done
    }
}

/// Bring fields tandem's chunk type does not model into its shape: a finish reason
/// it does not know (a provider's own, such as `function_call` or `eos`) becomes
/// `stop`; `stop`, `length`, `tool_calls` and `content_filter` pass as they are; a
/// `logprobs` without content is dropped.
fn normalise(chunk: &mut Value) {
    let Some(choices) = chunk.get_mut("choices").and_then(Value::as_array_mut) else {
        return;
    };
    for choice in choices {
        if let Some(reason) = choice.get_mut("finish_reason") {
            let known = serde_json::from_value::<FinishReason>(reason.clone()).is_ok();
            if !reason.is_null() && !known {
                *reason = Value::from("stop");
            }
        }
        if choice["logprobs"]["content"].is_null() {
            if let Some(obj) = choice.as_object_mut() {
                obj.remove("logprobs");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::normalise;

    #[test]
    fn finish_reasons_tandem_knows_pass_and_others_become_stop() {
        for (given, want) in [
            (json!("tool_calls"), json!("tool_calls")),
            (json!("content_filter"), json!("content_filter")),
            (json!("length"), json!("length")),
            (json!("eos"), json!("stop")),
            (json!(null), json!(null)),
        ] {
            let mut chunk = json!({"choices": [{"index": 0, "delta": {}, "finish_reason": given}]});
            normalise(&mut chunk);
            assert_eq!(chunk["choices"][0]["finish_reason"], want);
        }
    }
}
