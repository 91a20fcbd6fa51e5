//! The environment snapshot the caller gathers before each decision: is a local
//! model loaded, is the server reachable, and how fast each side is.

/// The local engine, when one is configured and its model did not fail to load.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LocalEnv {
    /// The model is loaded and can start at once (false while it downloads or loads).
    pub ready: bool,
    /// The model's context window in tokens.
    pub context_window: usize,
    /// Measured prompt reading speed.
    pub prefill_tokens_per_s: f64,
    /// Measured generation speed.
    pub decode_tokens_per_s: f64,
    /// The model can call tools (its chat template renders them).
    pub tools: bool,
}

impl Default for LocalEnv {
    /// Typical speeds of SmolLM2-135M in tandem's wasm build before anything is measured.
    fn default() -> Self {
        LocalEnv {
            ready: true,
            context_window: 8192,
            prefill_tokens_per_s: 30.0,
            decode_tokens_per_s: 16.0,
            tools: false,
        }
    }
}

impl LocalEnv {
    /// Expected time to a full answer: read the prompt, then generate.
    pub fn latency_ms(&self, prompt_tokens: usize, answer_tokens: usize) -> f64 {
        1000.0
            * (prompt_tokens as f64 / self.prefill_tokens_per_s.max(0.1)
                + answer_tokens as f64 / self.decode_tokens_per_s.max(0.1))
    }
}

/// The remote engine, when one is configured.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RemoteEnv {
    /// The caller believes the server answers (online, no recent connection failure).
    pub reachable: bool,
    /// Measured time to the first token, network included.
    pub time_to_first_token_ms: f64,
    /// Measured generation speed.
    pub decode_tokens_per_s: f64,
}

impl Default for RemoteEnv {
    /// Typical speeds of a hosted model before anything is measured.
    fn default() -> Self {
        RemoteEnv {
            reachable: true,
            time_to_first_token_ms: 700.0,
            decode_tokens_per_s: 50.0,
        }
    }
}

impl RemoteEnv {
    /// Expected time to a full answer: first token, then generate.
    pub fn latency_ms(&self, answer_tokens: usize) -> f64 {
        self.time_to_first_token_ms.max(0.0)
            + 1000.0 * answer_tokens as f64 / self.decode_tokens_per_s.max(0.1)
    }
}

/// Both sides as the caller sees them now; `None` = not configured (or, for local,
/// the model failed to load).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Environment {
    /// The local engine.
    pub local: Option<LocalEnv>,
    /// The remote engine.
    pub remote: Option<RemoteEnv>,
}
