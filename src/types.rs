//! TypeScript types of the public surface, mirroring the serde shapes of
//! tandem-core's protocol module and of src/messages.rs (keep them in step).

use wasm_bindgen::prelude::wasm_bindgen;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/** Who wrote a message (`developer` is read as `system`). */
export type Role = "system" | "developer" | "user" | "assistant";

/** One message of a chat: content is a string or OpenAI's list of text parts. */
export interface ChatMessage {
  role: Role;
  content: string | { type: "text"; text: string }[];
}

/** An OpenAI chat-completion request. Unknown fields are rejected (`invalid_request`). */
export interface ChatCompletionRequest {
  messages: ChatMessage[];
  model?: string;
  max_tokens?: number;
  max_completion_tokens?: number;
  temperature?: number;
  top_p?: number;
  top_k?: number;
  seed?: number;
  stop?: string | string[];
  frequency_penalty?: number;
  presence_penalty?: number;
  repetition_penalty?: number;
  logit_bias?: Record<string, number>;
  logprobs?: boolean;
  top_logprobs?: number;
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  n?: 1;
  user?: string;
  ignore_eos?: boolean;
}

export type FinishReason = "stop" | "length";

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/** Where an answer was made and how fast: on every response and last chunk. */
export interface TandemInfo {
  route: "local" | "remote";
  model: string;
  prefill_tokens_per_s: number;
  decode_tokens_per_s: number;
  time_to_first_token_ms: number;
}

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
    message: { role: "assistant"; content: string };
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
    delta: { role?: "assistant"; content?: string };
    logprobs: Logprobs | null;
    finish_reason: FinishReason | null;
  }[];
  usage?: Usage;
  tandem?: TandemInfo;
}

/** Model load progress: `download` (network bytes), then `load` (cache bytes,
 * integrity check, building the model). `total` is 0 when unknown. */
export interface LoadProgress {
  phase: "download" | "load";
  loaded: number;
  total: number;
}

/** Something degraded but loading went on, e.g. `cache_quota_exceeded`. */
export interface TandemWarning {
  code: string;
  message: string;
  usage: number | null;
  quota: number | null;
}

export interface TandemOptions {
  local: {
    /** URL of the GGUF file (relative URLs resolve against the page). */
    modelUrl: string;
    /** Expected sha256 (64 hex digits), checked before use. */
    sha256?: string;
    /** Keep the file in the Cache API (default true). */
    cache?: boolean;
  };
  onProgress?: (progress: LoadProgress) => void;
  onWarning?: (warning: TandemWarning) => void;
  /** Aborts the load (`aborted`). */
  signal?: AbortSignal;
}

export interface ModelInfo {
  model: string;
  contextWindow: number;
  fromCache: boolean;
  bytes: number;
  loadMs: number;
}

export interface CachedModel {
  url: string;
  sha256: string | null;
  bytes: number;
}

/** `for await (const chunk of stream)` works on the stream `create` returns. */
export interface ChunkStream extends AsyncIterable<ChatCompletionChunk> {}

/** Every error tandem throws: an `Error` with a stable `code`. */
export interface TandemError extends Error {
  code:
    | "model_download_failed" | "integrity_mismatch" | "model_invalid" | "unsupported_model"
    | "context_length_exceeded" | "invalid_request" | "aborted" | "worker_crashed"
    | "out_of_memory" | "template_error" | "inference_failed" | "internal";
}
"#;
