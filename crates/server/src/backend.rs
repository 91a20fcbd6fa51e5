//! A backend answers a chat request with a stream of chunks: the native model or an
//! upstream provider. Dropping the stream cancels the work.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use tandem_core::ChatCompletionRequest;

use crate::call::{Call, ChunkStream};
use crate::config::{BackendConfig, BaseUrls, Config};
use crate::error::ApiError;
use crate::native::Native;
use crate::upstream::{anthropic::Anthropic, gemini::Gemini, openai::OpenAi, Upstream};

/// One configured backend.
pub enum Backend {
    /// tandem-core on this machine.
    Native(Native),
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
            Backend::OpenAi(u) => u.open(request, call).await,
            Backend::Anthropic(u) => u.open(request, call).await,
            Backend::Gemini(u) => u.open(request, call).await,
        }
    }

    /// The provider endpoint, if this is one.
    pub fn upstream(&self) -> Option<&Upstream> {
        match self {
            Backend::Native(_) => None,
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
}

/// Build every backend of `config`; the native model starts loading in the background.
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
