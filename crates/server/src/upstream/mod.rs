//! Upstream providers: one HTTP client that follows no redirects, keys from env vars
//! named in the config, and a driver that turns a provider's event stream into
//! OpenAI chunks through a per-provider translator; embeddings passed through to
//! OpenAI-compatible APIs.

pub mod anthropic;
mod body;
mod embeddings;
mod events;
pub mod gemini;
mod http;
pub mod openai;
pub mod pool;
mod provider_code;

pub use http::{client, Upstream};
