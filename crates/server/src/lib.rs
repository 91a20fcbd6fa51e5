//! tandem-server: the OpenAI-compatible server API of tandem. It answers chat
//! completions with the native model (tandem-core) or forwards them to OpenAI-
//! compatible, Anthropic or Gemini APIs, answers the completions API (raw prompts)
//! with the native model, answers embeddings with native sentence encoders or passes
//! them through to OpenAI-compatible APIs, and serves the demo's files.

pub mod admission;
pub mod app;
pub mod auth;
pub mod backend;
pub mod call;
pub mod chat;
pub mod client_ip;
pub mod config;
pub mod connections;
pub mod dispatch;
pub mod embedding_metrics;
pub mod embedding_request;
pub mod embeddings;
pub mod error;
pub mod health;
pub mod info;
pub mod intake;
pub mod limits;
pub mod metrics;
pub mod model_backends;
pub mod native;
mod prometheus;
pub mod request_body;
pub mod shape;
pub mod sse;
pub mod state;
pub mod static_files;
pub mod store;
pub mod tally;
pub mod upstream;

pub use app::{router, serve};
pub use config::Config;
pub use state::App;
