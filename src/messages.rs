//! The typed messages between the page and the worker that runs the local model.
//! Both sides serialise them with serde-wasm-bindgen; the browser clones them across.

use serde::{Deserialize, Serialize};
use tandem_core::protocol::{EmbeddingRequest, EmbeddingResponse};
use tandem_core::{ChatCompletionChunk, ChatCompletionRequest, ChatMessage};
use wasm_bindgen::JsValue;

use crate::code::Code;
use crate::error::js_error;

/// Page → worker.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum ToWorker {
    /// Download (or read from cache), verify and load the model.
    Load(LoadSpec),
    /// Answer a chat request, streaming its chunks back.
    Chat {
        /// Request id, unique per page-side handle.
        id: u32,
        /// The request.
        request: Box<ChatCompletionRequest>,
    },
    /// Stop request `id` (queued or running).
    Abort {
        /// Request id.
        id: u32,
    },
    /// Rank `labels` for `text` by the model's likelihood (no text generated).
    Classify {
        /// Request id.
        id: u32,
        /// The text to classify.
        text: String,
        /// 2–20 labels.
        labels: Vec<String>,
    },
    /// Count the prompt tokens of `messages` after the chat template.
    CountTokens {
        /// Request id.
        id: u32,
        /// The conversation.
        messages: Vec<ChatMessage>,
    },
    /// Embed the inputs of `request` with the sentence encoder.
    Embed {
        /// Request id.
        id: u32,
        /// The request.
        request: Box<EmbeddingRequest>,
    },
}

/// Where the model comes from.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoadSpec {
    /// Absolute URL of the chat model's GGUF file; `None` for a worker that only
    /// embeds.
    pub url: Option<String>,
    /// Expected sha256 (hex) of the file; checked before use when given.
    pub sha256: Option<String>,
    /// Keep the file in the Cache API.
    pub cache: bool,
    /// Threads asked for: more than 1 picks the multi-threaded build when the page
    /// allows it (the worker is started with this; see js/worker.js).
    pub threads: u32,
    /// The sentence encoder to load beside the model, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embeddings: Option<EncoderSpec>,
}

/// Where the sentence encoder comes from: a GGUF file, or a sentence-transformers
/// folder (a URL ending in `/`: its `model.safetensors`, `tokenizer.json`,
/// `config.json`, and `1_Pooling/config.json` and `sentence_bert_config.json` when
/// there).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EncoderSpec {
    /// Absolute URL of the GGUF file or the folder.
    pub url: String,
    /// Expected sha256 (hex) of the GGUF file or of the folder's `model.safetensors`.
    pub sha256: Option<String>,
}

/// Worker → page.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum FromWorker {
    /// The worker's module started and listens.
    Ready,
    /// Progress of the model load.
    Progress(Progress),
    /// Something degraded but the load goes on (e.g. the cache is full).
    Warning(Warning),
    /// The models are ready.
    Loaded(LocalInfo),
    /// The next chunk of request `id`.
    Chunk {
        /// Request id.
        id: u32,
        /// The chunk.
        chunk: Box<ChatCompletionChunk>,
    },
    /// Request `id` ended normally (its last chunk was sent).
    Done {
        /// Request id.
        id: u32,
    },
    /// The token count asked for by request `id`.
    Count {
        /// Request id.
        id: u32,
        /// Prompt tokens.
        tokens: usize,
    },
    /// The embeddings of request `id`.
    Embedded {
        /// Request id.
        id: u32,
        /// The response.
        response: Box<EmbeddingResponse>,
    },
    /// The labels of request `id`, best first.
    Labels {
        /// Request id.
        id: u32,
        /// Each label with its probability; they sum to 1.
        labels: Vec<LabelScore>,
    },
    /// Request `id` failed; without an id, the load failed.
    Failed {
        /// Request id, if the failure belongs to one.
        id: Option<u32>,
        /// Stable error code.
        code: Code,
        /// Human message.
        message: String,
    },
    /// The worker hit a panic or a trap and cannot go on.
    Crashed {
        /// What happened.
        message: String,
    },
}

/// One label of a classification, as `ai.tasks.classify` gives it (best first).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelScore {
    /// The label.
    pub label: String,
    /// Its probability; all labels' sum to 1.
    pub probability: f32,
}

/// Load progress of a file, as `onProgress` receives it: the chat model's, then the
/// sentence encoder's; `download` (network bytes), then `load` (cache bytes,
/// integrity check, building the model).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "ts", ts(rename = "LoadProgress"))]
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// The file the bytes are of.
    pub file: LoadedFile,
    /// `download` (bytes from the network) or `load` (bytes from the cache, the
    /// integrity check and building the model).
    pub phase: Phase,
    /// Bytes done.
    pub loaded: f64,
    /// Bytes in all (0 when unknown).
    pub total: f64,
}

/// Which of the worker's models a file is.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LoadedFile {
    /// The chat model's GGUF.
    #[default]
    Model,
    /// The sentence encoder's weights (its GGUF or `model.safetensors`).
    Encoder,
}

/// A step of loading the model.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// Bytes from the network.
    Download,
    /// Bytes from the cache, the integrity check and building the model.
    Load,
}

/// Something degraded but loading went on, as `onWarning` receives it: e.g.
/// `cache_quota_exceeded`, `local_unavailable` (the model did not load; requests go
/// to the server), or `threads_unavailable` (threads were asked for, but the page is
/// not cross-origin isolated or the multi-threaded build did not load: the model runs
/// on one thread; or the device has fewer cores: it runs on as many threads as cores).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "ts", ts(rename = "TandemWarning"))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Warning {
    /// Stable code, e.g. `cache_quota_exceeded`.
    pub code: String,
    /// Human message.
    pub message: String,
    /// `navigator.storage.estimate().usage`, when known.
    pub usage: Option<f64>,
    /// `navigator.storage.estimate().quota`, when known.
    pub quota: Option<f64>,
    /// The code of the error behind the warning, e.g. `model_download_failed` for
    /// `local_unavailable`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<Code>,
}

impl Warning {
    /// A warning without storage figures or a cause.
    pub fn new(code: &str, message: String) -> Self {
        Warning {
            code: code.into(),
            message,
            usage: None,
            quota: None,
            cause: None,
        }
    }
}

/// What the page learns once the model is loaded (`ai.model`).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelInfo {
    /// The model's name from its metadata.
    pub model: String,
    /// Its family (`general.architecture`: llama, gemma3, …).
    pub architecture: String,
    /// Weights in all its tensors.
    pub parameters: f64,
    /// Weights per tensor type (Q4_K, Q8_0, F32, …).
    pub quantization: std::collections::BTreeMap<String, f64>,
    /// Whether it has a chat template (else it takes raw prompts only).
    pub chat: bool,
    /// Whether its chat template calls tools (Hermes-style `<tool_call>`, as Qwen's):
    /// requests with `tools` may run locally; else the router sends them to the server.
    pub tools: bool,
    /// Most tokens per conversation.
    pub context_window: usize,
    /// Whether the bytes came from the cache.
    pub from_cache: bool,
    /// Size of the model file.
    pub bytes: f64,
    /// Milliseconds from the start of the load to ready (the worker's start, the
    /// module compiled, included).
    pub load_ms: f64,
    /// Where `load_ms` went.
    pub load_phases: LoadPhases,
    /// Bytes of the worker's wasm memory once loaded: the model, its caches and
    /// buffers (wasm memory only grows, so this is the load's high-water mark).
    pub memory_bytes: f64,
    /// Threads sharing the model's matrix products: 1 unless the multi-threaded
    /// build runs.
    pub threads: u32,
    /// Whether the build running the model sums with relaxed SIMD (the engine has it
    /// and the build was found beside the worker script).
    pub relaxed_simd: bool,
}

/// Milliseconds of a model's load by kind of work. Bytes stream from the network
/// or the cache through the hash into the model, so the three interleave: each is
/// the time spent in it.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoadPhases {
    /// Starting the worker: its script fetched, the wasm module compiled and
    /// instantiated.
    pub compile_ms: f64,
    /// Waiting for the file's bytes (network or cache).
    pub fetch_ms: f64,
    /// Hashing them (sha256).
    pub verify_ms: f64,
    /// Building the model from them.
    pub build_ms: f64,
}

/// What the worker loaded: the chat model, the sentence encoder, or both.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LocalInfo {
    /// The chat model, when one was asked for.
    pub model: Option<ModelInfo>,
    /// The sentence encoder, when one was asked for.
    pub embeddings: Option<EncoderInfo>,
}

/// What the page learns of the loaded sentence encoder (`ai.embeddings.model`).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EncoderInfo {
    /// Its name (the file's or the folder's).
    pub model: String,
    /// Values per vector.
    pub dimensions: usize,
    /// Most tokens per input (`[CLS]` and `[SEP]` included).
    pub window: usize,
    /// Whether its weights came from the cache.
    pub from_cache: bool,
    /// Size of its weights file.
    pub bytes: f64,
    /// Milliseconds to load it.
    pub load_ms: f64,
}

/// Serialise a message (or any plain data) into a JS value.
pub fn to_js<T: Serialize>(value: &T) -> JsValue {
    // Plain data always serialises; a failure would be a bug worth seeing.
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .unwrap_or_else(|e| js_error(Code::Internal, &e.to_string()))
}

/// Read a JS value strictly: through a JSON value, so that serde sees (and rejects)
/// unknown fields with their names.
pub fn from_js<T: serde::de::DeserializeOwned>(value: JsValue) -> Result<T, String> {
    let json: serde_json::Value =
        serde_wasm_bindgen::from_value(value).map_err(|e| e.to_string())?;
    serde_json::from_value(json).map_err(|e| e.to_string())
}
