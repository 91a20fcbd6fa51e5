//! A backend answers a chat request with a stream of chunks (the native model or an
//! upstream provider; dropping the stream cancels the work), or an embeddings request
//! with its vectors (a native encoder, or an OpenAI-compatible provider).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use tandem_core::protocol::{EmbeddingRequest, EmbeddingResponse};
use tandem_core::ChatCompletionRequest;

use crate::call::{Call, ChunkStream, EmbedCall};
use crate::config::{BackendConfig, BaseUrls, Config};
use crate::error::ApiError;
use crate::native::encoder::NativeEncoder;
use crate::native::Native;
use crate::upstream::{anthropic::Anthropic, gemini::Gemini, openai::OpenAi, Upstream};

/// One configured backend.
pub enum Backend {
    /// tandem-core on this machine.
    Native(Native),
    /// A sentence encoder on this machine (embeddings only).
    Encoder(NativeEncoder),
    /// An OpenAI-compatible API.
    OpenAi(OpenAi),
    /// Anthropic's Messages API.
    Anthropic(Anthropic),
    /// Google's Gemini API.
    Gemini(Gemini),
}

impl Backend {
    /// Start answering `request`; errors before any chunk come back here, so the
    /// caller can fall back to another backend.
    pub async fn open(
        &self,
        request: &ChatCompletionRequest,
        call: &Call,
    ) -> Result<ChunkStream, ApiError> {
        if request.prompt.is_some() && self.native().is_none() {
            return Err(ApiError {
                param: Some("prompt".into()),
                ..ApiError::invalid_request(
                    "raw prompts (the completions API) run on native backends only; \
                     this model's backend speaks chat",
                )
            });
        }
        match self {
            Backend::Native(n) => n.open(request.clone(), call),
            Backend::Encoder(_) => Err(ApiError::invalid_request(format!(
                "the model {:?} is an embedding model: POST /v1/embeddings",
                call.model
            ))
            .at("model")),
            Backend::OpenAi(u) => u.open(request, call).await,
            Backend::Anthropic(u) => u.open(request, call).await,
            Backend::Gemini(u) => u.open(request, call).await,
        }
    }

    /// The vectors for `request`: from a native encoder, or passed through to an
    /// OpenAI-compatible provider; other backends refuse it with a 400 naming the
    /// model.
    pub async fn embed(
        &self,
        request: &EmbeddingRequest,
        call: &EmbedCall,
    ) -> Result<EmbeddingResponse, ApiError> {
        match self {
            Backend::Encoder(e) => e.embed(request, call).await,
            Backend::OpenAi(u) => u.embed(request, call).await,
            _ => Err(cannot_embed(&call.model, self.kind())),
        }
    }

    /// The `kind` of its config entry.
    pub fn kind(&self) -> &'static str {
        match self {
            Backend::Native(_) => "native",
            Backend::Encoder(_) => "encoder",
            Backend::OpenAi(_) => "openai",
            Backend::Anthropic(_) => "anthropic",
            Backend::Gemini(_) => "gemini",
        }
    }

    /// The provider endpoint, if this is one.
    pub fn upstream(&self) -> Option<&Upstream> {
        match self {
            Backend::Native(_) | Backend::Encoder(_) => None,
            Backend::OpenAi(u) => Some(&u.0),
            Backend::Anthropic(u) => Some(&u.0),
            Backend::Gemini(u) => Some(&u.0),
        }
    }

    /// The native model, if this is it.
    pub fn native(&self) -> Option<&Native> {
        match self {
            Backend::Native(n) => Some(n),
            _ => None,
        }
    }

    /// The native encoder, if this is one.
    pub fn encoder(&self) -> Option<&NativeEncoder> {
        match self {
            Backend::Encoder(e) => Some(e),
            _ => None,
        }
    }
}

/// 400: the model `model` has a backend of `kind`, which has no embeddings API
/// tandem can call.
pub fn cannot_embed(model: &str, kind: &str) -> ApiError {
    let why = match kind {
        "anthropic" => "Anthropic has no embeddings API",
        "gemini" => "Gemini's embeddings API is not OpenAI's",
        _ => "it is a chat model",
    };
    ApiError::invalid_request(format!(
        "the model {model:?} cannot embed: its backend is of kind {kind} ({why}); \
         embeddings come from encoder and openai backends"
    ))
    .at("model")
}

/// Build every backend of `config`; the native models and encoders start loading in
/// the background.
pub fn build_all(config: &Config) -> Result<BTreeMap<String, Arc<Backend>>, String> {
    let client = crate::upstream::client(config)?;
    let cool_down = Duration::from_secs_f64(config.timeouts.cool_down_s.max(0.0));
    config
        .backends
        .iter()
        .map(|(name, b)| {
            let upstream = |base_url: &BaseUrls, model: &str, key_env: &Option<String>| {
                let urls = base_url.list();
                Upstream::new(client.clone(), &urls, model, key_env.as_deref(), cool_down)
                    .map_err(|e| format!("backend {name}: {e}"))
            };
            let backend = match b {
                BackendConfig::Native { path } => Backend::Native(Native::spawn(
                    path.clone(),
                    config.limits.queue_depth,
                    config.limits.max_batch,
                )),
                BackendConfig::Encoder { path } => Backend::Encoder(NativeEncoder::spawn(
                    path.clone(),
                    config.limits.queue_depth,
                )),
                BackendConfig::Openai {
                    base_url,
                    model,
                    api_key_env,
                } => Backend::OpenAi(OpenAi(upstream(base_url, model, api_key_env)?)),
                BackendConfig::Anthropic {
                    base_url,
                    model,
                    api_key_env,
                } => Backend::Anthropic(Anthropic(upstream(base_url, model, api_key_env)?)),
                BackendConfig::Gemini {
                    base_url,
                    model,
                    api_key_env,
                } => Backend::Gemini(Gemini(upstream(base_url, model, api_key_env)?)),
            };
            Ok((name.clone(), Arc::new(backend)))
        })
        .collect()
}
