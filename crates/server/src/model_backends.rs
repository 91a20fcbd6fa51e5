//! The models clients may ask for, each with the backends that answer it in
//! fallback order. A model with a native encoder among its backends is an embedding
//! model (the config makes sure every backend of its chain can embed).

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::backend::Backend;
use crate::config::Config;

/// A backend under its name in the config (the name in logs and metrics).
pub struct NamedBackend {
    /// The key of the backend's `[backends.…]` table.
    pub name: String,
    /// The backend.
    pub backend: Arc<Backend>,
}

/// A model id clients may ask for and its backends; later ones are fallbacks.
pub struct ModelBackends {
    /// The id clients send as `model`.
    pub id: String,
    /// The backends, first choice first.
    pub backends: Vec<NamedBackend>,
}

impl ModelBackends {
    /// Whether it is an embedding model: a native encoder is among its backends.
    pub fn is_embedding(&self) -> bool {
        self.backends.iter().any(|b| b.backend.encoder().is_some())
    }

    /// The first of its backends that cannot embed (a native chat model, Anthropic,
    /// Gemini), if any.
    pub fn cannot_embed(&self) -> Option<&NamedBackend> {
        self.backends
            .iter()
            .find(|b| !matches!(b.backend.kind(), "encoder" | "openai"))
    }
}

/// The configured models, in order, each with its backends out of `built`.
pub fn from_config(config: &Config, built: &BTreeMap<String, Arc<Backend>>) -> Vec<ModelBackends> {
    config
        .models
        .iter()
        .map(|m| ModelBackends {
            id: m.id.clone(),
            backends: m
                .backends
                .iter()
                .map(|name| NamedBackend {
                    name: name.clone(),
                    backend: built[name].clone(),
                })
                .collect(),
        })
        .collect()
}
