//! The router's decision: what the router knows of both engines (the environment
//! snapshot) and the request's features, and the error when no side may answer.

use tandem_core::protocol::{ResponseFormat, ToolChoice};
use tandem_core::router::{self, Decision, Environment, LocalEnv, Mode, Policy, Query, RemoteEnv};
use tandem_core::{ChatCompletionRequest, ChatMessage, Error, Role};
use wasm_bindgen::JsValue;

use super::Engines;
use crate::error::core_error;
use crate::global::global;
use crate::options::RouteOptions;

impl Engines {
    /// What the router knows. A server that failed lately counts as unreachable for
    /// a while, except to `remote-only` requests, which always try it.
    pub(super) fn environment(&self, policy: &Policy) -> Environment {
        let local = self
            .local
            .as_ref()
            .and_then(|l| l.info())
            .map(|info| LocalEnv {
                ready: true,
                context_window: info.context_window,
                tools: info.tools,
                ..self.speeds.local()
            });
        let remote = self.remote.as_ref().map(|_| RemoteEnv {
            reachable: self.remote_reachable(policy),
            ..self.speeds.remote()
        });
        Environment { local, remote }
    }

    /// Whether the server counts as reachable: online, and not failed lately (or
    /// asked `remote-only`, which always tries it).
    pub(super) fn remote_reachable(&self, policy: &Policy) -> bool {
        let online = global().navigator().on_line();
        online
            && (policy.mode == Mode::RemoteOnly
                || js_sys::Date::now() >= self.remote_down_until.get())
    }

    /// The router's decision for `request`, without running it.
    pub async fn decide(
        &self,
        request: &ChatCompletionRequest,
        options: &RouteOptions,
    ) -> Result<Decision, JsValue> {
        let env = self.environment(&options.policy);
        // A raw prompt is judged as the user's one message; its tokens are estimated.
        let raw: Vec<ChatMessage> = (request.prompt.iter())
            .map(|p| ChatMessage::new(Role::User, p))
            .collect();
        let prompt_tokens = match (&self.local, &env.local) {
            (Some(local), Some(_)) if raw.is_empty() => local
                .count_tokens(request.messages.clone())
                .await
                .ok()
                .and_then(|n| n.as_f64())
                .map(|n| n as usize),
            _ => None,
        };
        let query = Query {
            messages: if raw.is_empty() {
                &request.messages
            } else {
                &raw
            },
            prompt_tokens,
            max_tokens: request.token_limit(),
            structured: request
                .response_format
                .as_ref()
                .is_some_and(|f| !matches!(f, ResponseFormat::Text)),
            tools: request.tools.is_some() && request.tool_choice != Some(ToolChoice::None),
            task: options.task,
        };
        let error = match router::decide(&query, &env, &options.policy) {
            Ok(decision) => return Ok(decision),
            Err(error) => error,
        };
        // With no server to turn to, a prompt too long for the local model is the
        // local engine's own error, with its numbers.
        let error = match (&env.local, &self.remote, prompt_tokens) {
            (Some(local), None, Some(prompt_tokens)) => {
                let max_tokens = query.max_tokens.unwrap_or(1);
                if prompt_tokens + max_tokens > local.context_window {
                    Error::ContextLengthExceeded {
                        prompt_tokens,
                        max_tokens,
                        context_window: local.context_window,
                    }
                } else {
                    error
                }
            }
            _ => error,
        };
        Err(core_error(&error))
    }
}
