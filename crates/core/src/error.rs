//! The one error type of tandem-core, with stable codes that cross the JS boundary.

use std::fmt;

/// Everything that can go wrong in tandem-core. Each variant has a stable [`Error::code`].
#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// The model file is truncated, corrupt or not a GGUF file.
    ModelInvalid(String),
    /// The file is a valid GGUF but describes something tandem cannot run.
    UnsupportedModel(String),
    /// The request is malformed (bad parameter, unknown role, too many stop strings...).
    InvalidRequest(String),
    /// The prompt plus `max_tokens` does not fit the model's context window.
    ContextLengthExceeded {
        prompt_tokens: usize,
        max_tokens: usize,
        context_window: usize,
    },
    /// The model's chat template failed to render.
    Template(String),
    /// Generation was cancelled through its cancel flag.
    Aborted,
    /// A numeric failure inside the model (a bug or an exhausted resource).
    Inference(String),
    /// The routing policy leaves no side that may answer; the message says what to change.
    NoRoute(String),
    /// Memory ran out while loading the model.
    OutOfMemory(String),
}

impl Error {
    /// Stable machine-readable code, e.g. `model_invalid`.
    pub fn code(&self) -> &'static str {
        match self {
            Error::ModelInvalid(_) => "model_invalid",
            Error::UnsupportedModel(_) => "unsupported_model",
            Error::InvalidRequest(_) => "invalid_request",
            Error::ContextLengthExceeded { .. } => "context_length_exceeded",
            Error::Template(_) => "template_error",
            Error::Aborted => "aborted",
            Error::Inference(_) => "inference_failed",
            Error::NoRoute(_) => "no_route",
            Error::OutOfMemory(_) => "out_of_memory",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::ModelInvalid(m) => write!(f, "could not load the model: {m}"),
            Error::UnsupportedModel(m) => write!(f, "unsupported model: {m}"),
            Error::InvalidRequest(m) => write!(f, "invalid request: {m}"),
            Error::ContextLengthExceeded {
                prompt_tokens,
                max_tokens,
                context_window,
            } => write!(
                f,
                "the prompt ({prompt_tokens} tokens) plus max_tokens ({max_tokens}) \
                 exceeds the context window of {context_window} tokens"
            ),
            Error::Template(m) => write!(f, "chat template failed: {m}"),
            Error::Aborted => write!(f, "generation was aborted"),
            Error::Inference(m) => write!(f, "inference failed: {m}"),
            Error::NoRoute(m) => write!(f, "no route: {m}"),
            Error::OutOfMemory(m) => write!(f, "out of memory: {m}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<candle_core::Error> for Error {
    fn from(e: candle_core::Error) -> Self {
        Error::Inference(e.to_string())
    }
}

/// Result with tandem-core's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
