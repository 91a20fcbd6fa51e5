//! tandem-core: the platform-free heart of tandem. It loads a GGUF model from bytes,
//! tokenizes, renders the chat template, samples and generates, natively and on
//! wasm32 alike; and it turns texts into embeddings with a sentence encoder (embed/).
//! It knows nothing of browsers or servers.

pub mod activations;
mod attention;
mod batch;
pub mod classify;
pub mod description;
pub mod embed;
pub mod engine;
mod engine_loader;
pub mod error;
mod event;
pub mod generate;
pub mod gguf;
pub mod kernels;
mod kv_cache;
pub mod model;
pub mod params;
pub mod protocol;
pub mod reply;
pub mod router;
pub mod sampling;
pub mod stops;
pub mod structured;
pub mod tasks;
pub mod template;
pub mod timing;
pub mod tokenizer;
pub mod tool_call;

pub use description::ModelDescription;
pub use embed::{Embedding, Embeddings, Encoder, EncoderFiles};
pub use engine::Engine;
pub use engine_loader::EngineLoader;
pub use error::{Error, Result};
pub use event::{CancelFlag, Event};
pub use generate::{Generation, Stream};
pub use model::Sequence;
pub use params::GenerateParams;
pub use protocol::{
    ChatCompletion, ChatCompletionChunk, ChatCompletionRequest, ChatMessage, FinishReason, Role,
    TandemInfo, Usage,
};
pub use reply::{Clock, Reply, ReplyStep};
pub use sampling::{SamplingParams, StepLogprobs};
