//! TypeScript types of the public surface, mirroring the serde shapes of
//! tandem-core's protocol module and of src/messages.rs (keep them in step).

use wasm_bindgen::prelude::wasm_bindgen;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/** Who wrote a message (`developer` is read as `system`; `tool`: a tool's result). */
export type Role = "system" | "developer" | "user" | "assistant" | "tool";

/** One message of a chat: content is a string or OpenAI's list of text parts (`null`
 * for an assistant message that only calls tools). */
export interface ChatMessage {
  role: Role;
  content: string | { type: "text"; text: string }[] | null;
  /** The tools an assistant message called. */
  tool_calls?: ToolCall[];
  /** Which call a `tool` message answers. */
  tool_call_id?: string;
}

/** A function the model may call. */
export interface Tool {
  type: "function";
  function: {
    /** a-z, A-Z, 0-9, `_` and `-`, at most 64. */
    name: string;
    description?: string;
    /** The JSON Schema of the arguments (an object). */
    parameters?: Record<string, unknown>;
    strict?: boolean;
  };
}

/** Whether and which function the model must call. */
export type ToolChoice =
  | "none"
  | "auto"
  | "required"
  | { type: "function"; function: { name: string } };

/** A call the assistant made: its arguments are a JSON object as text. */
export interface ToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

/** A piece of a streamed call: the first piece of call `index` has its id, type and
 * name, the next ones add fragments of its arguments. */
export interface ToolCallDelta {
  index: number;
  id?: string;
  type?: "function";
  function?: { name?: string; arguments?: string };
}

/** What both OpenAI request shapes (chat and completions) take alike. */
export interface GenerationOptions {
  model?: string;
  max_tokens?: number;
  temperature?: number;
  top_p?: number;
  top_k?: number;
  seed?: number;
  stop?: string | string[];
  frequency_penalty?: number;
  presence_penalty?: number;
  repetition_penalty?: number;
  logit_bias?: Record<string, number>;
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  n?: 1;
  user?: string;
  ignore_eos?: boolean;
}

/** An OpenAI chat-completion request. Unknown fields are rejected (`invalid_request`). */
export interface ChatCompletionRequest extends GenerationOptions {
  messages: ChatMessage[];
  /** tandem's extension: a raw prompt instead of `messages` (as `ai.completions`
   * sends it; tandem-server takes it too). */
  prompt?: string;
  /** Extra variables for the model's chat template (vLLM's field), e.g.
   * `{ enable_thinking: false }`; passed on to OpenAI-compatible servers. */
  chat_template_kwargs?: Record<string, unknown>;
  max_completion_tokens?: number;
  logprobs?: boolean;
  top_logprobs?: number;
  /** `{type: "json_object"}` or `{type: "json_schema", json_schema: {name, schema,
   * strict?, description?}}`: enforced while decoding locally. */
  response_format?:
    | { type: "text" }
    | { type: "json_object" }
    | {
        type: "json_schema";
        json_schema: {
          name: string;
          description?: string;
          schema?: Record<string, unknown>;
          strict?: boolean;
        };
      };
  /** Functions the model may call (locally too when the model's template calls
   * tools: `ai.model.tools`). */
  tools?: Tool[];
  tool_choice?: ToolChoice;
  /** Whether the model may call several tools at once (passed to the server). */
  parallel_tool_calls?: boolean;
}

export type FinishReason = "stop" | "length" | "tool_calls" | "content_filter";

/** OpenAI's completions API request: a raw prompt continued as it is (`max_tokens`
 * defaults to 16). */
export interface CompletionRequest extends GenerationOptions {
  prompt: string | [string];
  /** The log-probabilities of each token and of the 0..5 most likely there. */
  logprobs?: number;
  echo?: false;
  best_of?: 1;
}

/** A completions request as `ai.completions.create` takes it. */
export type TandemCompletionRequest = CompletionRequest & RouteFields & {
  signal?: AbortSignal;
};

/** The completions API's log-probabilities. */
export interface TextLogprobs {
  tokens: string[];
  token_logprobs: number[];
  top_logprobs: Record<string, number>[];
  text_offset: number[];
}

/** A completions API object: the whole reply, or one streamed chunk (the last has
 * no choices and carries `usage` and `tandem`). */
export interface TextCompletion {
  id: string;
  object: "text_completion";
  created: number;
  model: string;
  choices: {
    text: string;
    index: 0;
    logprobs: TextLogprobs | null;
    finish_reason: FinishReason | null;
  }[];
  usage?: Usage;
  tandem?: TandemInfo;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/** Where an answer was made, why, and how fast: on every response and last chunk.
 * `local→remote`: the local answer looked unsure and the server's replaced it. */
export interface TandemInfo {
  route: "local" | "remote" | "local→remote";
  model: string;
  prefill_tokens_per_s: number;
  decode_tokens_per_s: number;
  time_to_first_token_ms: number;
  reason?: string;
  scores?: RouteScores;
  /** Why the first choice failed, when the other engine answered instead. */
  fallback?: string;
  /** With `escalate: true`: whether the server's answer replaced the local one. */
  escalated?: boolean;
}

/** What the router weighed. */
export interface RouteScores {
  /** 0..1: how likely the query is too heavy for the local model. */
  difficulty: number;
  expected_tokens: number;
  /** Counted with the local tokenizer when the model is loaded, else estimated. */
  prompt_tokens: number;
  local_ms: number | null;
  remote_ms: number | null;
  sensitive: ("email" | "phone" | "card" | "iban")[];
  /** Why the local model cannot take the request at all (tools, context window). */
  local_limit?: string;
}

/** The router's choice for one request (also the detail of `route` events, with
 * `fallback` when the other engine failed first). */
export interface RouteDecision {
  target: "local" | "remote";
  reason: string;
  scores: RouteScores;
  fallback?: string;
}

export type RouteMode = "auto" | "local-only" | "remote-only" | "prefer-local" | "prefer-remote";
export type Task = "classify" | "reply" | "rewrite" | "summarize" | "extract" | "chat";

/** How a request is routed; on `Tandem.create` these are the defaults. */
export interface RouteFields {
  /** Default `auto`: the router weighs difficulty, speed and limits. */
  route?: RouteMode;
  /** `strict`: requests with e-mail addresses, phone, card or IBAN numbers stay local. */
  privacy?: "standard" | "strict";
  /** Cascade: answer locally, and ask the server if the answer looks unsure. */
  escalate?: boolean;
}

/** Options every `ai.tasks` call takes. */
export interface TaskOptions {
  route?: RouteMode;
  privacy?: "standard" | "strict";
  signal?: AbortSignal;
}

/** What an `ai.tasks` call gives: its result and where it ran. */
export type TaskResult<T> = T & { tandem: TandemInfo | null };

/** One label of `ai.tasks.classify`, best first; probabilities sum to 1. */
export interface LabelScore {
  label: string;
  probability: number;
}

/** A chat request as `ai.chat.completions.create` takes it. */
export type TandemRequest = ChatCompletionRequest & RouteFields & {
  /** What the request is for: a hint to the router. */
  task?: Task;
  signal?: AbortSignal;
};

export interface TopLogprob {
  token: string;
  logprob: number;
  bytes: number[];
}

export interface TokenLogprob extends TopLogprob {
  top_logprobs: TopLogprob[];
}

export interface Logprobs {
  content: TokenLogprob[];
}

/** The whole reply (`stream: false`). */
export interface ChatCompletion {
  id: string;
  object: "chat.completion";
  created: number;
  model: string;
  choices: {
    index: number;
    message: { role: "assistant"; content: string | null; tool_calls?: ToolCall[] };
    logprobs: Logprobs | null;
    finish_reason: FinishReason | null;
  }[];
  usage: Usage | null;
  tandem?: TandemInfo;
}

/** A piece of a streamed reply (`stream: true`); the last one has no choices. */
export interface ChatCompletionChunk {
  id: string;
  object: "chat.completion.chunk";
  created: number;
  model: string;
  choices: {
    index: number;
    delta: { role?: "assistant"; content?: string; tool_calls?: ToolCallDelta[] };
    logprobs: Logprobs | null;
    finish_reason: FinishReason | null;
  }[];
  usage?: Usage;
  tandem?: TandemInfo;
}

/** Load progress of a file: the chat model's, then the sentence encoder's;
 * `download` (network bytes), then `load` (cache bytes, integrity check, building
 * the model). `total` is 0 when unknown. */
export interface LoadProgress {
  file: "model" | "encoder";
  phase: "download" | "load";
  loaded: number;
  total: number;
}

/** Something degraded but loading went on, e.g. `cache_quota_exceeded`, or
 * `threads_unavailable` (threads were asked for, but the page is not cross-origin
 * isolated or the multi-threaded build did not load: the model runs on one thread;
 * or the device has fewer cores: it runs on as many threads as cores). */
export interface TandemWarning {
  code: string;
  message: string;
  usage: number | null;
  quota: number | null;
  /** The code of the error behind it, e.g. `model_download_failed` for
   * `local_unavailable` (the model did not load; requests go to the server). */
  cause?: string;
}

export interface TandemOptions extends RouteFields {
  /** Models to run in the browser: a chat model, a sentence encoder, or both. */
  local?: {
    /** URL of the chat model's GGUF file (relative URLs resolve against the page). */
    modelUrl?: string;
    /** Expected sha256 (64 hex digits), checked before use. */
    sha256?: string;
    /** Keep the file in the Cache API (default true). */
    cache?: boolean;
    /** Threads for the model (1–16, default 1; at most the device's cores run).
     * Above 1 the worker runs the multi-threaded build, which needs a cross-origin
     * isolated page (COOP `same-origin` + COEP `require-corp`); without it, a
     * `threads_unavailable` warning and one thread. */
    threads?: number;
    /** A sentence encoder to load (beside the model, or alone), for `ai.embeddings`:
     * a GGUF file (architecture `bert`, as llama.cpp's converter writes it) or a
     * sentence-transformers folder (a URL ending in `/`, holding `model.safetensors`,
     * `tokenizer.json`, `config.json` and, when the model has them,
     * `1_Pooling/config.json` and `sentence_bert_config.json`). */
    embeddings?: {
      modelUrl: string;
      /** Expected sha256 of the GGUF file, or of the folder's `model.safetensors`. */
      sha256?: string;
    };
  };
  /** An OpenAI-compatible server (tandem-server or any other). */
  remote?: {
    /** E.g. `https://api.example/v1`; `/chat/completions` is appended. */
    baseUrl: string;
    /** A bearer token... */
    token?: string;
    /** ...or a function giving one (called per request, again after a 401). */
    getToken?: () => string | Promise<string>;
    /** Model id sent when a chat request names none. */
    model?: string;
    /** Model id sent when an embeddings request names none (default: the server's
     * choice; tandem-server's is its native encoder). */
    embeddingModel?: string;
    /** Most ms until the server answers (default 30000). */
    firstByteTimeoutMs?: number;
    /** Most ms between two pieces of a streamed answer (default 30000). */
    idleTimeoutMs?: number;
  };
  onProgress?: (progress: LoadProgress) => void;
  onWarning?: (warning: TandemWarning) => void;
  /** Aborts the load (`aborted`). */
  signal?: AbortSignal;
}

export interface ModelInfo {
  model: string;
  /** The model's family (`general.architecture`): "llama", "gemma3", … */
  architecture: string;
  /** Weights in all its tensors. */
  parameters: number;
  /** Weights per tensor type, as llama.cpp names them ("Q4_K", "Q8_0", "F32", …). */
  quantization: Record<string, number>;
  /** Whether it has a chat template; a base model takes raw prompts only. */
  chat: boolean;
  /** Whether its chat template calls tools (Hermes-style `<tool_call>`, as Qwen's):
   * requests with `tools` may run locally; else the router sends them to the server. */
  tools: boolean;
  contextWindow: number;
  fromCache: boolean;
  bytes: number;
  /** From `create()` to ready: the worker started, the file read and built. */
  loadMs: number;
  /** Where `loadMs` went. The file streams through the hash into the model, so
   * fetch, verify and build interleave: each is the time spent in it. */
  loadPhases: { compileMs: number; fetchMs: number; verifyMs: number; buildMs: number };
  /** The worker's wasm memory once loaded (model, caches, buffers). */
  memoryBytes: number;
  /** Threads running the model: 1 unless the multi-threaded build runs. */
  threads: number;
  /** Whether the model runs on a relaxed-SIMD build (faster; where the engine has
   * relaxed SIMD and the build is beside the worker script, as in pkg/). */
  relaxedSimd: boolean;
}

export interface EncoderInfo {
  /** Its name (the folder's or the file's). */
  model: string;
  /** Values per vector. */
  dimensions: number;
  /** Most tokens per input (`[CLS]` and `[SEP]` included). */
  window: number;
  fromCache: boolean;
  bytes: number;
  loadMs: number;
}

/** Options of `ai.tasks.rank`, `ai.tasks.search` and `index.add`. */
export interface SearchOptions {
  /** Results at most (default 10). */
  topK?: number;
  /** Where the texts are embedded: the local encoder unless told otherwise. */
  route?: RouteMode;
  /** `strict`: the texts never leave the device. */
  privacy?: "standard" | "strict";
  signal?: AbortSignal;
}

/** A search index as `index.save()` gives it and `ai.tasks.index(saved)` takes it. */
export interface SavedIndex {
  /** The encoder that made the vectors: vectors of two models are never mixed. */
  model: string;
  dimensions: number;
  ids: string[];
  /** `ids.length` unit vectors of `dimensions`, one after another. */
  vectors: Float32Array;
}

/** OpenAI's embeddings request, as `ai.embeddings.create` takes it. */
export interface EmbeddingRequest {
  /** One text or up to 2048. */
  input: string | string[];
  model?: string;
  /** Shorten the vectors to this many values (made unit length again). */
  dimensions?: number;
  /** `float` (default): arrays of numbers; `base64`: the little-endian f32 bytes. */
  encoding_format?: "float" | "base64";
  user?: string;
  /** Cut inputs longer than the encoder's window instead of refusing them
   * (a tandem extension: local, and tandem-server). */
  truncate?: boolean;
  /** Default: the local encoder; the server when asked, when none is loaded, or
   * when `model` names another. */
  route?: RouteMode;
  /** `strict`: the texts never leave the device. */
  privacy?: "standard" | "strict";
  signal?: AbortSignal;
}

export interface EmbeddingResponse {
  object: "list";
  data: { object: "embedding"; index: number; embedding: number[] | string }[];
  model: string;
  usage: { prompt_tokens: number; total_tokens: number };
  /** Where the vectors were made, why, and in how many milliseconds. */
  tandem: EmbeddingRoute;
}

/** Where an embeddings request ran, why, and in how many milliseconds. */
export interface EmbeddingRoute {
  route: "local" | "remote";
  model: string;
  reason: string;
  /** Why the other side failed first, after a fallback. */
  fallback?: string;
  duration_ms: number;
}

export interface CachedModel {
  url: string;
  sha256: string | null;
  bytes: number;
}

/** `for await (const chunk of stream)` works on the stream `create` returns. */
export interface ChunkStream extends AsyncIterable<ChatCompletionChunk> {}

/** `for await (const chunk of stream)` over `ai.completions.create`'s stream. */
export interface TextStream extends AsyncIterable<TextCompletion> {}

/** Every error tandem throws: an `Error` with a stable `code`. */
export interface TandemError extends Error {
  code:
    | "model_download_failed" | "integrity_mismatch" | "model_invalid" | "unsupported_model"
    | "context_length_exceeded" | "invalid_request" | "aborted" | "worker_crashed"
    | "out_of_memory" | "model_too_large" | "template_error" | "inference_failed" | "internal" | "no_route"
    | "remote_unavailable" | "rate_limited" | "remote_error" | "unauthorized";
  /** With `rate_limited` (and some `remote_unavailable`): seconds to wait. */
  retryAfter?: number;
}
"#;
