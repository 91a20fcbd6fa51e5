//! The server's configuration: a TOML file, with defaults that serve the default
//! model natively and the demo's files on 127.0.0.1:8080.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

mod backends;

pub use backends::{BackendConfig, BaseUrls, ModelConfig};

/// The default model file, relative to the working directory.
pub const DEFAULT_MODEL: &str = "models/SmolLM2-135M-Instruct.Q4_1.gguf";

/// The default sentence encoder (a sentence-transformers folder), relative to the
/// working directory.
pub const DEFAULT_ENCODER: &str = "models/all-MiniLM-L6-v2";

/// Everything `tandem-server` can be told.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Listening address.
    pub addr: String,
    /// Largest request body in bytes (413 above).
    pub body_limit: usize,
    /// Origins allowed to call the API from a browser (exact matches, no wildcard).
    pub cors_origins: Vec<String>,
    /// Client headers passed on to upstream providers (credentials never are).
    pub forward_headers: Vec<String>,
    /// Load balancers and proxies (addresses or networks) whose `X-Forwarded-For`
    /// names the client for per-IP limits; other peers are the client themselves.
    pub trusted_proxies: Vec<String>,
    /// URL path prefix → directory of static files (the demo page, pkg/, models/).
    pub static_dirs: BTreeMap<String, PathBuf>,
    /// Request caps and rate limits.
    pub limits: Limits,
    /// Bearer tokens.
    pub auth: Auth,
    /// Upstream timeouts.
    pub timeouts: Timeouts,
    /// Client connections: how many, and how long they may dawdle.
    pub connections: Connections,
    /// State shared by replicas; without it each replica keeps its own.
    pub redis: Option<Redis>,
    /// Named backends.
    pub backends: BTreeMap<String, BackendConfig>,
    /// The models clients may ask for, in order; the first is the default.
    pub models: Vec<ModelConfig>,
}

/// Caps on one request and rates per client.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Most messages in one request.
    pub max_messages: usize,
    /// Most prompt tokens (counted exactly natively, estimated as bytes/4 upstream).
    pub max_prompt_tokens: usize,
    /// Largest `max_tokens`; also the value used when a request gives none.
    pub max_tokens: usize,
    /// Requests the native model answers at once (one batch; each holds a KV cache).
    pub max_batch: usize,
    /// Requests waiting for the native model beyond those running (503 above).
    pub queue_depth: usize,
    /// Requests per minute per client (token, or IP without one); 0 = unlimited.
    pub requests_per_minute: u32,
    /// Tokens (prompt + completion) per minute per client; 0 = unlimited.
    pub tokens_per_minute: u32,
    /// Chat and embeddings requests being answered at once, all backends together
    /// (503 above).
    pub max_in_flight: usize,
    /// Most texts in one embeddings request (at most OpenAI's 2,048).
    pub max_embedding_inputs: usize,
    /// Most tokens in one embeddings request, all its texts together (counted exactly
    /// by native encoders, estimated as bytes/4 upstream; 413 above).
    pub max_embedding_tokens: usize,
}

/// Client connections (HTTP/1.1): a cap, and how long a client may take, in seconds.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Connections {
    /// Open connections at once; more are answered 503 and closed.
    pub max_open: usize,
    /// To send a request's headers, and the most a kept-alive connection stays idle.
    pub header_timeout_s: f64,
    /// To send a request's body.
    pub body_timeout_s: f64,
    /// For the client to take the next bytes of a response before it is cut off.
    pub write_stall_s: f64,
}

/// Who may call the API.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Auth {
    /// Static bearer tokens.
    pub tokens: Vec<String>,
    /// Env var holding the secret that signs short-lived tokens (`tandem-server token`).
    pub secret_env: Option<String>,
}

/// Where replicas share their state.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Redis {
    /// `redis://host:port/db` (`rediss://` for TLS is not built in).
    pub url: String,
    /// The start of every key tandem writes.
    #[serde(default = "default_key_prefix")]
    pub key_prefix: String,
    /// While Redis cannot be reached: refuse requests (503) instead of serving on this
    /// replica's own limits.
    #[serde(default)]
    pub fail_closed: bool,
}

fn default_key_prefix() -> String {
    "tandem".into()
}

/// Timeouts of one request, in seconds.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Timeouts {
    /// The whole request, first byte to last.
    pub deadline_s: f64,
    /// Until a backend's first chunk (then the next backend is tried).
    pub first_byte_s: f64,
    /// Between two chunks.
    pub idle_s: f64,
    /// How long a backend that failed is skipped (then the next request tries it).
    pub cool_down_s: f64,
}

impl Default for Config {
    fn default() -> Self {
        let static_dirs = [("/", "www"), ("/pkg", "pkg"), ("/models", "models")]
            .into_iter()
            .map(|(url, dir)| (url.to_string(), PathBuf::from(dir)))
            .collect();
        Config {
            addr: "127.0.0.1:8080".into(),
            body_limit: 1 << 20,
            cors_origins: vec![],
            forward_headers: vec![],
            trusted_proxies: vec![],
            static_dirs,
            limits: Limits::default(),
            auth: Auth::default(),
            timeouts: Timeouts::default(),
            connections: Connections::default(),
            redis: None,
            backends: BTreeMap::new(),
            models: vec![],
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_messages: 256,
            max_prompt_tokens: 8192,
            max_tokens: 1024,
            max_batch: 16,
            queue_depth: 16,
            requests_per_minute: 0,
            tokens_per_minute: 0,
            max_in_flight: 256,
            max_embedding_inputs: tandem_core::protocol::MAX_EMBEDDING_INPUTS,
            max_embedding_tokens: 32_768,
        }
    }
}

impl Default for Connections {
    fn default() -> Self {
        Connections {
            max_open: 1024,
            header_timeout_s: 10.0,
            body_timeout_s: 30.0,
            write_stall_s: 30.0,
        }
    }
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            deadline_s: 600.0,
            first_byte_s: 60.0,
            idle_s: 60.0,
            cool_down_s: 30.0,
        }
    }
}

impl Timeouts {
    /// The three timeouts as durations: deadline, first byte, idle.
    pub fn durations(&self) -> (Duration, Duration, Duration) {
        let d = |s: f64| Duration::from_secs_f64(s.max(0.001));
        (d(self.deadline_s), d(self.first_byte_s), d(self.idle_s))
    }
}

/// Headers that carry credentials: never forwarded upstream, never logged.
pub const CREDENTIAL_HEADERS: [&str; 5] = [
    "authorization",
    "proxy-authorization",
    "cookie",
    "x-api-key",
    "x-goog-api-key",
];

impl Config {
    /// Read a TOML file.
    pub fn from_file(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Self::from_toml(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Parse TOML text (unknown keys are an error; [`Config::finish`] checks the rest).
    pub fn from_toml(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    /// Fill the defaults that depend on other fields (`model` overrides the native
    /// model file) and check that the pieces fit together.
    pub fn finish(mut self, model: Option<PathBuf>) -> Result<Self, String> {
        if let Some(path) = model {
            self.backends
                .insert("native".into(), BackendConfig::Native { path });
        }
        if self.backends.is_empty() {
            self.backends.insert(
                "native".into(),
                BackendConfig::Native {
                    path: DEFAULT_MODEL.into(),
                },
            );
        }
        if self.models.is_empty() {
            for (name, backend) in &self.backends {
                let id = match backend {
                    BackendConfig::Native { path } | BackendConfig::Encoder { path } => {
                        model_id(path)
                    }
                    _ => name.clone(),
                };
                self.models.push(ModelConfig {
                    id,
                    backends: vec![name.clone()],
                });
            }
        }
        self.check()?;
        Ok(self)
    }

    fn check(&self) -> Result<(), String> {
        if self.cors_origins.iter().any(|o| o.trim() == "*") {
            return Err("cors_origins must list origins: a wildcard is not allowed".into());
        }
        if let Some(h) = self
            .forward_headers
            .iter()
            .find(|h| CREDENTIAL_HEADERS.contains(&h.to_ascii_lowercase().as_str()))
        {
            return Err(format!("forward_headers: {h} carries credentials"));
        }
        for model in &self.models {
            if model.backends.is_empty() {
                return Err(format!("model {}: no backends", model.id));
            }
            if let Some(b) = model
                .backends
                .iter()
                .find(|b| !self.backends.contains_key(*b))
            {
                return Err(format!("model {}: no backend named {b}", model.id));
            }
            self.check_embedding_chain(model)?;
        }
        Ok(())
    }

    /// A model with an encoder among its backends answers embeddings: every backend
    /// of its chain must embed (an encoder, or an OpenAI-compatible API serving the
    /// same model).
    fn check_embedding_chain(&self, model: &ModelConfig) -> Result<(), String> {
        let backends = || model.backends.iter().map(|b| (b, &self.backends[b]));
        if !backends().any(|(_, b)| matches!(b, BackendConfig::Encoder { .. })) {
            return Ok(());
        }
        match backends().find(|(_, b)| !b.embeds()) {
            Some((name, b)) => Err(format!(
                "model {}: its chain has an encoder, so it answers embeddings, but backend \
                 {name} (kind {}) cannot embed; only encoder and openai backends can",
                model.id,
                b.kind()
            )),
            None => Ok(()),
        }
    }
}

/// The id a GGUF file is served under: its file name up to the first dot
/// (`SmolLM2-135M-Instruct` for the default model).
pub fn model_id(path: &Path) -> String {
    let name = path
        .file_name()
        .map_or_else(|| "model".into(), |n| n.to_string_lossy().into_owned());
    name.split('.').next().unwrap_or(&name).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_serve_the_default_model_natively() {
        let c = Config::default().finish(None).unwrap();
        assert_eq!(c.addr, "127.0.0.1:8080");
        assert_eq!(c.body_limit, 1 << 20);
        assert_eq!(c.models[0].id, "SmolLM2-135M-Instruct");
        assert_eq!(c.models[0].backends, ["native"]);
    }

    #[test]
    fn a_full_file_parses() {
        let c = Config::from_toml(
            r#"
            addr = "0.0.0.0:9000"
            cors_origins = ["https://app.example"]
            [limits]
            requests_per_minute = 60
            [auth]
            tokens = ["t1"]
            secret_env = "TANDEM_TOKEN_SECRET"
            [backends.gpt]
            kind = "openai"
            base_url = "https://api.openai.com/v1"
            model = "gpt-4o-mini"
            api_key_env = "OPENAI_API_KEY"
            [backends.claude]
            kind = "anthropic"
            model = "claude-3-5-haiku-latest"
            api_key_env = "ANTHROPIC_API_KEY"
            [[models]]
            id = "heavy"
            backends = ["gpt", "claude"]
            "#,
        )
        .unwrap()
        .finish(None)
        .unwrap();
        assert_eq!(c.models.len(), 1);
        assert_eq!(c.limits.requests_per_minute, 60);
        assert_eq!(c.limits.max_tokens, 1024);
    }

    #[test]
    fn encoders_are_served_under_their_folder_or_file_name() {
        let c = Config::from_toml("[backends.minilm]\nkind = \"encoder\"")
            .unwrap()
            .finish(None)
            .unwrap();
        assert_eq!(c.models[0].id, "all-MiniLM-L6-v2");
        assert_eq!(c.models[0].backends, ["minilm"]);
        let gguf = Path::new("models/all-MiniLM-L6-v2/all-MiniLM-L6-v2.q8_0.gguf");
        assert_eq!(model_id(gguf), "all-MiniLM-L6-v2");
        assert_eq!(c.limits.max_embedding_inputs, 2048);
    }

    #[test]
    fn the_example_file_parses() {
        let text = include_str!("../tandem-server.example.toml");
        let c = Config::from_toml(text).unwrap().finish(None).unwrap();
        assert_eq!(c.models[1].backends, ["openai", "claude", "gemini"]);
        assert_eq!(c.models[2].backends, ["minilm"]);
        assert_eq!(c.auth.secret_env.as_deref(), Some("TANDEM_TOKEN_SECRET"));
    }

    #[test]
    fn the_deployment_recipes_file_parses() {
        let text = include_str!("../../../deploy/tandem-server.toml");
        let c = Config::from_toml(text).unwrap().finish(None).unwrap();
        assert_eq!(c.models[0].backends, ["vllm", "claude"]);
        assert!(c.redis.is_some());
    }

    #[test]
    fn unsafe_or_inconsistent_files_are_refused() {
        for (toml, why) in [
            (r#"cors_origins = ["*"]"#, "wildcard"),
            (r#"forward_headers = ["Authorization"]"#, "credentials"),
            (
                r#"[[models]]
                id = "x"
                backends = ["nope"]"#,
                "no backend named nope",
            ),
            (r#"adr = "x""#, "unknown field"),
            (
                r#"[backends.minilm]
                kind = "encoder"
                [backends.claude]
                kind = "anthropic"
                model = "m"
                [[models]]
                id = "embed"
                backends = ["minilm", "claude"]"#,
                "backend claude (kind anthropic) cannot embed",
            ),
        ] {
            let e = Config::from_toml(toml)
                .and_then(|c| c.finish(None))
                .unwrap_err();
            assert!(e.contains(why), "{e}");
        }
    }
}
