//! Making the chunks of one streamed reply, and folding chunks back into a whole
//! response.

use super::tools::ToolCallsBuilder;
use super::{
    AssistantMessage, ChatCompletion, ChatCompletionChunk, Choice, ChunkChoice, Delta,
    FinishReason, Logprobs, Role, TandemInfo, TokenLogprob, ToolCallDelta, Usage, CHUNK_OBJECT,
    COMPLETION_OBJECT,
};

/// Writes the chunks of one reply, all with the same id, creation time and model.
#[derive(Debug, Clone)]
pub struct ChunkWriter {
    id: String,
    created: u64,
    model: String,
}

impl ChunkWriter {
    /// Chunks of reply `id` made at `created` (Unix seconds) by `model`.
    pub fn new(id: impl Into<String>, created: u64, model: impl Into<String>) -> Self {
        ChunkWriter {
            id: id.into(),
            created,
            model: model.into(),
        }
    }

    fn chunk(&self, choices: Vec<ChunkChoice>) -> ChatCompletionChunk {
        ChatCompletionChunk {
            id: self.id.clone(),
            object: CHUNK_OBJECT.into(),
            created: self.created,
            model: self.model.clone(),
            choices,
            usage: None,
            tandem: None,
        }
    }

    fn choice(
        delta: Delta,
        logprobs: Option<Logprobs>,
        finish: Option<FinishReason>,
    ) -> ChunkChoice {
        ChunkChoice {
            index: 0,
            delta,
            logprobs,
            finish_reason: finish,
        }
    }

    /// The first chunk: the assistant's role and no text yet.
    pub fn role(&self) -> ChatCompletionChunk {
        let delta = Delta {
            role: Some(Role::Assistant),
            content: Some(String::new()),
            tool_calls: None,
        };
        self.chunk(vec![Self::choice(delta, None, None)])
    }

    /// New text, with the log-probabilities of its tokens when they were asked for.
    pub fn content(
        &self,
        text: String,
        logprobs: Option<Vec<TokenLogprob>>,
    ) -> ChatCompletionChunk {
        let delta = Delta {
            content: Some(text),
            ..Delta::default()
        };
        let logprobs = logprobs.map(|content| Logprobs { content });
        self.chunk(vec![Self::choice(delta, logprobs, None)])
    }

    /// A piece of a tool call.
    pub fn tool_call(&self, piece: ToolCallDelta) -> ChatCompletionChunk {
        let delta = Delta {
            tool_calls: Some(vec![piece]),
            ..Delta::default()
        };
        self.chunk(vec![Self::choice(delta, None, None)])
    }

    /// The last choice chunk: why the reply ended.
    pub fn finish(&self, reason: FinishReason) -> ChatCompletionChunk {
        self.chunk(vec![Self::choice(Delta::default(), None, Some(reason))])
    }

    /// The final chunk: no choices, the usage and tandem's extension.
    pub fn usage(&self, usage: Usage, tandem: Option<TandemInfo>) -> ChatCompletionChunk {
        ChatCompletionChunk {
            usage: Some(usage),
            tandem,
            ..self.chunk(vec![])
        }
    }
}

/// Folds the chunks of one reply into the whole response `stream: false` returns.
#[derive(Debug, Default)]
pub struct CompletionBuilder {
    first: Option<ChatCompletionChunk>,
    content: String,
    tool_calls: ToolCallsBuilder,
    logprobs: Option<Vec<TokenLogprob>>,
    finish_reason: Option<FinishReason>,
    usage: Option<Usage>,
    tandem: Option<TandemInfo>,
}

impl CompletionBuilder {
    /// Add the next chunk.
    pub fn push(&mut self, chunk: ChatCompletionChunk) {
        for choice in chunk.choices.iter().filter(|c| c.index == 0) {
            if let Some(text) = &choice.delta.content {
                self.content.push_str(text);
            }
            for piece in choice.delta.tool_calls.iter().flatten() {
                self.tool_calls.push(piece);
            }
            if let Some(l) = &choice.logprobs {
                self.logprobs
                    .get_or_insert_with(Vec::new)
                    .extend(l.content.iter().cloned());
            }
            self.finish_reason = choice.finish_reason.or(self.finish_reason);
        }
        self.usage = chunk.usage.or(self.usage);
        if chunk.tandem.is_some() {
            self.tandem = chunk.tandem.clone();
        }
        self.first.get_or_insert(chunk);
    }

    /// The whole response; `None` if no chunk came. A reply that calls tools and has
    /// no text has `content: null`.
    pub fn finish(self) -> Option<ChatCompletion> {
        let first = self.first?;
        let tool_calls = self.tool_calls.finish();
        let content = match (self.content.is_empty(), &tool_calls) {
            (true, Some(_)) => None,
            _ => Some(self.content),
        };
        Some(ChatCompletion {
            id: first.id,
            object: COMPLETION_OBJECT.into(),
            created: first.created,
            model: first.model,
            choices: vec![Choice {
                index: 0,
                message: AssistantMessage {
                    role: Role::Assistant,
                    content,
                    tool_calls,
                },
                logprobs: self.logprobs.map(|content| Logprobs { content }),
                finish_reason: self.finish_reason,
            }],
            usage: self.usage,
            tandem: self.tandem,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streamed_call_pieces_fold_into_whole_calls() {
        let writer = ChunkWriter::new("chatcmpl-1", 1, "m");
        let mut b = CompletionBuilder::default();
        b.push(writer.role());
        b.push(writer.tool_call(ToolCallDelta::start(
            1,
            "c2".into(),
            "g".into(),
            String::new(),
        )));
        b.push(writer.tool_call(ToolCallDelta::start(
            0,
            "c1".into(),
            "f".into(),
            "{\"a\"".into(),
        )));
        b.push(writer.tool_call(ToolCallDelta::arguments(0, ":1}".into())));
        b.push(writer.tool_call(ToolCallDelta::arguments(1, "{}".into())));
        b.push(writer.finish(crate::FinishReason::ToolCalls));
        let whole = b.finish().unwrap();
        let message = &whole.choices[0].message;
        assert_eq!(message.content, None);
        let calls = message.tool_calls.as_ref().unwrap();
        assert_eq!(calls[0].id, "c1");
        assert_eq!(calls[0].function.arguments, "{\"a\":1}");
        assert_eq!(
            (calls[1].id.as_str(), calls[1].function.name.as_str()),
            ("c2", "g")
        );
        let wire = serde_json::to_value(&whole).unwrap();
        assert_eq!(wire["choices"][0]["finish_reason"], "tool_calls");
        assert_eq!(
            wire["choices"][0]["message"]["content"],
            serde_json::Value::Null
        );
        assert_eq!(
            wire["choices"][0]["message"]["tool_calls"][1]["type"],
            "function"
        );
    }

    #[test]
    fn chunks_fold_into_the_whole_response() {
        let w = ChunkWriter::new("chatcmpl-1", 7, "m");
        let mut b = CompletionBuilder::default();
        let usage = Usage {
            prompt_tokens: 3,
            completion_tokens: 2,
            total_tokens: 5,
        };
        for chunk in [
            w.role(),
            w.content("Hel".into(), None),
            w.content("lo".into(), None),
            w.finish(FinishReason::Length),
            w.usage(usage, None),
        ] {
            assert_eq!((chunk.id.as_str(), chunk.created), ("chatcmpl-1", 7));
            b.push(chunk);
        }
        let c = b.finish().unwrap();
        assert_eq!(c.object, "chat.completion");
        assert_eq!(c.choices[0].message.content.as_deref(), Some("Hello"));
        assert_eq!(c.choices[0].finish_reason, Some(FinishReason::Length));
        assert_eq!(c.usage, Some(usage));
        assert!(CompletionBuilder::default().finish().is_none());
    }
}
