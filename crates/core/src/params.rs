//! What to generate, and how a chat request's fields become it.

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::protocol::ChatCompletionRequest;
use crate::sampling::SamplingParams;
use crate::structured::Schema;
use crate::tool_call::ToolCalling;

/// What to generate.
#[derive(Debug, Clone, Default)]
pub struct GenerateParams {
    /// Most tokens to generate; `None` fills the rest of the context window.
    pub max_tokens: Option<usize>,
    /// Up to four strings that end generation; they are never part of the text.
    pub stop: Vec<String>,
    /// How tokens are chosen.
    pub sampling: SamplingParams,
    /// Keep going past end-of-turn tokens (for benchmarks).
    pub ignore_eos: bool,
    /// With `Some(n)`, each token event carries its log-probability and the `n`
    /// most likely tokens with theirs (a pass over the vocabulary per token, so
    /// only when asked for).
    pub top_logprobs: Option<usize>,
    /// With a schema, the reply is JSON matching it (enforced while decoding).
    pub schema: Option<Arc<Schema>>,
    /// With tools, the reply may (or must) be a call of one of them.
    pub tools: Option<ToolCalling>,
}

impl GenerateParams {
    /// The parameters `request` asks for on the local engine, after
    /// [`ChatCompletionRequest::validate`].
    pub fn from_request(request: &ChatCompletionRequest) -> Result<Self> {
        request.validate()?;
        let schema = match &request.response_format {
            Some(format) => Schema::for_format(format)?.map(Arc::new),
            None => None,
        };
        let defaults = SamplingParams::default();
        let logit_bias = request
            .logit_bias
            .iter()
            .flatten()
            .map(|(id, &bias)| {
                id.parse::<u32>().map(|id| (id, bias)).map_err(|_| {
                    Error::InvalidRequest(format!("logit_bias key {id:?} is not a token id"))
                })
            })
            .collect::<Result<_>>()?;
        Ok(GenerateParams {
            max_tokens: request.token_limit(),
            stop: request
                .stop
                .as_ref()
                .map_or(vec![], |s| s.strings().to_vec()),
            sampling: SamplingParams {
                temperature: request.temperature.unwrap_or(defaults.temperature),
                top_p: request.top_p.unwrap_or(defaults.top_p),
                top_k: request.top_k.unwrap_or(defaults.top_k),
                seed: request.seed,
                repetition_penalty: request.repetition_penalty.unwrap_or(1.0),
                frequency_penalty: request.frequency_penalty.unwrap_or(0.0),
                presence_penalty: request.presence_penalty.unwrap_or(0.0),
                logit_bias,
            },
            ignore_eos: request.ignore_eos.unwrap_or(false),
            top_logprobs: request.top_logprobs_wanted(),
            schema,
            tools: ToolCalling::from_request(request)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openai_fields_become_params() {
        let r = ChatCompletionRequest::from_json(
            r#"{"model":"m","messages":[{"role":"user","content":"hi"}],
                "max_completion_tokens":5,"temperature":0,"stop":"x",
                "logit_bias":{"42":-100},"logprobs":true,"top_logprobs":3,
                "stream":true,"stream_options":{"include_usage":true}}"#,
        )
        .unwrap();
        let p = GenerateParams::from_request(&r).unwrap();
        assert_eq!(p.max_tokens, Some(5));
        assert_eq!(p.stop, vec!["x".to_string()]);
        assert_eq!(p.sampling.logit_bias, vec![(42, -100.0)]);
        assert_eq!(p.top_logprobs, Some(3));
        assert!(r.is_stream() && r.include_usage());
    }

    #[test]
    fn response_format_and_tools() {
        let user = r#"[{"role":"user","content":"hi"}]"#;
        let with = |extra: &str| {
            ChatCompletionRequest::from_json(&format!(r#"{{"messages":{user},{extra}}}"#))
        };
        let text = with(r#""response_format":{"type":"text"}"#).unwrap();
        assert!(GenerateParams::from_request(&text)
            .unwrap()
            .schema
            .is_none());
        let object = with(r#""response_format":{"type":"json_object"}"#).unwrap();
        assert!(GenerateParams::from_request(&object)
            .unwrap()
            .schema
            .is_some());
        let schema = with(
            r#""response_format":{"type":"json_schema","json_schema":{"name":"x","strict":true,
                "schema":{"type":"object","properties":{"a":{"type":"string"}}}}}"#,
        )
        .unwrap();
        assert!(GenerateParams::from_request(&schema)
            .unwrap()
            .schema
            .is_some());
        let round = serde_json::to_string(&schema).unwrap();
        assert_eq!(ChatCompletionRequest::from_json(&round).unwrap(), schema);
        let bad = with(
            r#""response_format":{"type":"json_schema","json_schema":{"name":"x",
                "schema":{"type":"string","pattern":"a+"}}}"#,
        )
        .unwrap();
        let e = GenerateParams::from_request(&bad).unwrap_err();
        assert!(e.to_string().contains("\"pattern\""), "{e}");
        assert!(with(r#""response_format":{"type":"yaml"}"#).is_err());
        let tools = with(r#""tools":[{"type":"function","function":{"name":"f"}}]"#).unwrap();
        let calling = GenerateParams::from_request(&tools).unwrap().tools.unwrap();
        assert!(!calling.forced, "auto by default");
        let bad = with(
            r#""tools":[{"type":"function","function":{"name":"f",
                "parameters":{"type":"object","properties":{"x":{"anyOf":[]}}}}}]"#,
        )
        .unwrap();
        let e = GenerateParams::from_request(&bad).unwrap_err();
        assert!(
            e.to_string().contains("tools[0].function.parameters"),
            "{e}"
        );
    }

    #[test]
    fn inconsistent_requests_are_rejected() {
        let user = r#"[{"role":"user","content":"hi"}]"#;
        for body in [
            r#"{"messages":[]}"#.to_string(),
            format!(r#"{{"messages":{user},"n":2}}"#),
            format!(r#"{{"messages":{user},"max_tokens":3,"max_completion_tokens":4}}"#),
            format!(r#"{{"messages":{user},"top_logprobs":2}}"#),
            format!(r#"{{"messages":{user},"logprobs":true,"top_logprobs":21}}"#),
            format!(r#"{{"messages":{user},"stream_options":{{"include_usage":true}}}}"#),
            format!(r#"{{"messages":{user},"logit_bias":{{"x":1}}}}"#),
        ] {
            let r = ChatCompletionRequest::from_json(&body).unwrap();
            let e = GenerateParams::from_request(&r).unwrap_err();
            assert_eq!(e.code(), "invalid_request", "{body}");
        }
    }
}
