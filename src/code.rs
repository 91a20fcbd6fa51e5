//! The stable codes of tandem's errors: the `code` of every error the page sees, as
//! one enum (its string form, `remote_unavailable` and friends, is the wire form).

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

/// The `code` of a tandem error.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "ts", ts(rename = "ErrorCode", rename_all = "snake_case"))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// The model could not be downloaded.
    ModelDownloadFailed,
    /// The model's bytes do not have the expected sha256.
    IntegrityMismatch,
    /// The model file is truncated, corrupt or not a GGUF file.
    ModelInvalid,
    /// A valid GGUF that tandem cannot run.
    UnsupportedModel,
    /// The prompt plus `max_tokens` does not fit the context window.
    ContextLengthExceeded,
    /// A request that is wrong wherever it runs.
    InvalidRequest,
    /// The app aborted the work.
    Aborted,
    /// The local model's worker stopped.
    WorkerCrashed,
    /// The local model's worker ran out of memory.
    OutOfMemory,
    /// The model file is too large for a wasm32 worker's memory (told before the
    /// download).
    ModelTooLarge,
    /// The model's chat template failed to render.
    TemplateError,
    /// A numeric failure inside the model.
    InferenceFailed,
    /// A bug in tandem.
    Internal,
    /// No engine may answer the request.
    NoRoute,
    /// The server is unreachable, timed out, or cut its stream.
    RemoteUnavailable,
    /// The server asks to wait (`retryAfter` seconds).
    RateLimited,
    /// The server failed otherwise.
    RemoteError,
    /// The server refused the credentials.
    Unauthorized,
}

impl Code {
    /// Every code.
    const ALL: [Code; 18] = [
        Code::ModelDownloadFailed,
        Code::IntegrityMismatch,
        Code::ModelInvalid,
        Code::UnsupportedModel,
        Code::ContextLengthExceeded,
        Code::InvalidRequest,
        Code::Aborted,
        Code::WorkerCrashed,
        Code::OutOfMemory,
        Code::ModelTooLarge,
        Code::TemplateError,
        Code::InferenceFailed,
        Code::Internal,
        Code::NoRoute,
        Code::RemoteUnavailable,
        Code::RateLimited,
        Code::RemoteError,
        Code::Unauthorized,
    ];

    /// The code as the page sees it, e.g. `remote_unavailable`.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::ModelDownloadFailed => "model_download_failed",
            Code::IntegrityMismatch => "integrity_mismatch",
            Code::ModelInvalid => "model_invalid",
            Code::UnsupportedModel => "unsupported_model",
            Code::ContextLengthExceeded => "context_length_exceeded",
            Code::InvalidRequest => "invalid_request",
            Code::Aborted => "aborted",
            Code::WorkerCrashed => "worker_crashed",
            Code::OutOfMemory => "out_of_memory",
            Code::ModelTooLarge => "model_too_large",
            Code::TemplateError => "template_error",
            Code::InferenceFailed => "inference_failed",
            Code::Internal => "internal",
            Code::NoRoute => "no_route",
            Code::RemoteUnavailable => "remote_unavailable",
            Code::RateLimited => "rate_limited",
            Code::RemoteError => "remote_error",
            Code::Unauthorized => "unauthorized",
        }
    }

    /// The code spelled `text`, if it is one.
    pub fn parse(text: &str) -> Option<Code> {
        Code::ALL.into_iter().find(|code| code.as_str() == text)
    }
}

/// As its string, e.g. in a worker's message to the page.
impl Serialize for Code {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Code {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Code::parse(&text).ok_or_else(|| de::Error::custom(format!("unknown code {text}")))
    }
}

impl From<&tandem_core::Error> for Code {
    fn from(error: &tandem_core::Error) -> Self {
        use tandem_core::Error;
        match error {
            Error::ModelInvalid(_) => Code::ModelInvalid,
            Error::UnsupportedModel(_) => Code::UnsupportedModel,
            Error::InvalidRequest(_) => Code::InvalidRequest,
            Error::ContextLengthExceeded { .. } => Code::ContextLengthExceeded,
            Error::Template(_) => Code::TemplateError,
            Error::Aborted => Code::Aborted,
            Error::Inference(_) => Code::InferenceFailed,
            Error::NoRoute(_) => Code::NoRoute,
            Error::OutOfMemory(_) => Code::OutOfMemory,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Code;
    use tandem_core::Error;

    #[test]
    fn each_code_reads_back_as_itself() {
        for code in Code::ALL {
            assert_eq!(Code::parse(code.as_str()), Some(code));
        }
        assert_eq!(Code::parse("local_unavailable"), None);
    }

    #[test]
    fn core_errors_keep_their_codes() {
        let errors = [
            Error::ModelInvalid(String::new()),
            Error::UnsupportedModel(String::new()),
            Error::InvalidRequest(String::new()),
            Error::ContextLengthExceeded {
                prompt_tokens: 1,
                max_tokens: 1,
                context_window: 1,
            },
            Error::Template(String::new()),
            Error::Aborted,
            Error::Inference(String::new()),
            Error::NoRoute(String::new()),
            Error::OutOfMemory(String::new()),
        ];
        for error in &errors {
            assert_eq!(Code::from(error).as_str(), error.code());
        }
    }
}
