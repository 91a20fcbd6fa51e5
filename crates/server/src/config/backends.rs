//! The backends of the configuration: where completions and embeddings come from
//! (this machine's models, or an upstream API), and the model ids that name chains of
//! them.

use std::path::PathBuf;

use serde::Deserialize;

use super::{DEFAULT_ENCODER, DEFAULT_MODEL};

/// One backend: where completions come from.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum BackendConfig {
    /// tandem-core on this machine.
    Native {
        /// GGUF file.
        #[serde(default = "default_model_path")]
        path: PathBuf,
    },
    /// A sentence encoder on this machine, for `POST /v1/embeddings` only.
    Encoder {
        /// A sentence-transformers folder (model.safetensors, tokenizer.json,
        /// config.json, 1_Pooling/config.json, sentence_bert_config.json) or a `bert`
        /// GGUF file.
        #[serde(default = "default_encoder_path")]
        path: PathBuf,
    },
    /// Any OpenAI-compatible API (chat completions, and embeddings passed through).
    Openai {
        /// Base URL up to and including the version, e.g. `https://api.openai.com/v1`,
        /// or a list of them (a deployment's replicas, used as a pool).
        base_url: BaseUrls,
        /// The upstream model name.
        model: String,
        /// Env var holding the API key (sent as a bearer token).
        api_key_env: Option<String>,
    },
    /// Anthropic's Messages API.
    Anthropic {
        /// Base URL, e.g. `https://api.anthropic.com`, or a list of them.
        #[serde(default = "default_anthropic_url")]
        base_url: BaseUrls,
        /// The upstream model name.
        model: String,
        /// Env var holding the API key.
        api_key_env: Option<String>,
    },
    /// Google's Gemini API (`streamGenerateContent`).
    Gemini {
        /// Base URL, e.g. `https://generativelanguage.googleapis.com`, or a list of them.
        #[serde(default = "default_gemini_url")]
        base_url: BaseUrls,
        /// The upstream model name.
        model: String,
        /// Env var holding the API key.
        api_key_env: Option<String>,
    },
}

/// A backend's base URL, or the base URLs of its replicas.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum BaseUrls {
    /// One endpoint.
    One(String),
    /// Replicas, used as a pool.
    Pool(Vec<String>),
}

impl BaseUrls {
    /// Every base URL.
    pub fn list(&self) -> Vec<String> {
        match self {
            BaseUrls::One(url) => vec![url.clone()],
            BaseUrls::Pool(urls) => urls.clone(),
        }
    }
}

impl From<String> for BaseUrls {
    fn from(url: String) -> Self {
        BaseUrls::One(url)
    }
}

/// One model id clients may ask for, and the backends that answer it in order.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// The id clients send as `model`.
    pub id: String,
    /// Backend names; later ones are fallbacks.
    pub backends: Vec<String>,
}

fn default_model_path() -> PathBuf {
    DEFAULT_MODEL.into()
}

fn default_encoder_path() -> PathBuf {
    DEFAULT_ENCODER.into()
}

impl BackendConfig {
    /// The `kind` as the config spells it.
    pub fn kind(&self) -> &'static str {
        match self {
            BackendConfig::Native { .. } => "native",
            BackendConfig::Encoder { .. } => "encoder",
            BackendConfig::Openai { .. } => "openai",
            BackendConfig::Anthropic { .. } => "anthropic",
            BackendConfig::Gemini { .. } => "gemini",
        }
    }

    /// Whether it answers `POST /v1/embeddings`: native encoders, and OpenAI-compatible
    /// APIs (the request passed through). Native chat models do not; Anthropic has no
    /// embeddings API, and Gemini's is not OpenAI's.
    pub fn embeds(&self) -> bool {
        matches!(
            self,
            BackendConfig::Encoder { .. } | BackendConfig::Openai { .. }
        )
    }
}

fn default_anthropic_url() -> BaseUrls {
    BaseUrls::One("https://api.anthropic.com".into())
}

fn default_gemini_url() -> BaseUrls {
    BaseUrls::One("https://generativelanguage.googleapis.com".into())
}
