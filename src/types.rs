//! TypeScript types of the public surface (pkg/tandem.d.ts). The serde types' are
//! generated from their Rust definitions into types.gen.d.ts (src/typegen/, feature
//! `ts`); here, by hand, only what serde types cannot say: JS objects (callbacks,
//! `AbortSignal`, `Float32Array`, async iterables, errors), the shapes read or built
//! field by field in JS, and requests as the page API takes them (a serde request
//! with the routing fields and a signal).

use wasm_bindgen::prelude::wasm_bindgen;

#[wasm_bindgen(typescript_custom_section)]
const GENERATED: &str = include_str!("types.gen.d.ts");

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = r#"
/** An `AbortSignal` that aborts the call (it rejects with `aborted`). */
export interface Abortable {
  signal?: AbortSignal;
}

/** A chat request as `ai.chat.completions.create` (and `ai.route`) takes it. */
export type TandemRequest = ChatCompletionRequest & RouteFields & Abortable;

/** A completions request as `ai.completions.create` takes it. */
export type TandemCompletionRequest = CompletionRequest & RouteFields & Abortable;

/** An embeddings request as `ai.embeddings.create` takes it. Default route: the local
 * encoder; the server when asked, when none is loaded, or when `model` names
 * another. */
export type TandemEmbeddingRequest = EmbeddingRequest & RouteFields & Abortable;

/** What `ai.embeddings.create` gives: OpenAI's response and where it was made. */
export type TandemEmbeddingResponse = EmbeddingResponse & { tandem: EmbeddingRoute };

/** Where an embeddings request ran, why, and in how many milliseconds. */
export interface EmbeddingRoute {
  route: Target;
  model: string;
  reason: string;
  /** Why the other side failed first, after a fallback. */
  fallback?: string;
  duration_ms: number;
}

/** The detail of a `route` event: a chat request's decision or an embeddings
 * request's, with `fallback` when the other engine failed first. */
export type RouteEventDetail = (RouteDecision | EmbeddingDecision) & { fallback?: string };

/** Options every `ai.tasks` call takes. */
export type TaskOptions = Pick<RouteFields, "route" | "privacy"> & Abortable;

/** What an `ai.tasks` call gives: its result and where it ran. */
export type TaskResult<T> = T & { tandem: TandemInfo | null };

/** Options of `ai.tasks.rank`, `ai.tasks.search` and `index.add`: where the texts are
 * embedded (the local encoder unless told otherwise; `strict`: they never leave the
 * device). */
export type SearchOptions = Pick<RouteFields, "route" | "privacy"> & Abortable & {
  /** Results at most (default 10). */
  topK?: number;
};

/** A search index as `index.save()` gives it and `ai.tasks.index(saved)` takes it. */
export interface SavedIndex {
  /** The encoder that made the vectors: vectors of two models are never mixed. */
  model: string;
  dimensions: number;
  ids: string[];
  /** `ids.length` unit vectors of `dimensions`, one after another. */
  vectors: Float32Array;
}

export interface TandemOptions extends RouteFields, Abortable {
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
}

/** `for await (const chunk of stream)` works on the stream `create` returns. */
export interface ChunkStream extends AsyncIterable<ChatCompletionChunk> {}

/** `for await (const chunk of stream)` over `ai.completions.create`'s stream. */
export interface TextStream extends AsyncIterable<TextCompletion> {}

/** Every error tandem throws: an `Error` with a stable `code`. */
export interface TandemError extends Error {
  code: ErrorCode;
  /** With `rate_limited` (and some `remote_unavailable`): seconds to wait. */
  retryAfter?: number;
}
"#;
