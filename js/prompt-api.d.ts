// Types of tandem/prompt-api: the Prompt API's LanguageModel (as the explainer's IDL
// has it, in the parts tandem runs) and install().
import type { Tandem, TandemOptions } from "./tandem.js";

export type Availability = "unavailable" | "downloadable" | "downloading" | "available";
export type LanguageModelSamplingMode =
  | "most-predictable" | "predictable" | "balanced" | "creative" | "most-creative";
export type LanguageModelMessageRole = "system" | "user" | "assistant";
export type LanguageModelMessageType = "text" | "image" | "audio" | "tool-call" | "tool-response";

export interface LanguageModelMessageContent {
  type: LanguageModelMessageType;
  value: unknown;
}

export interface LanguageModelMessage {
  role: LanguageModelMessageRole;
  content: string | LanguageModelMessageContent[];
  prefix?: boolean;
}

export type LanguageModelPrompt = string | LanguageModelMessage[];

export interface LanguageModelExpected {
  type: LanguageModelMessageType;
  languages?: string[];
}

export interface LanguageModelCreateCoreOptions {
  samplingMode?: LanguageModelSamplingMode;
  expectedInputs?: LanguageModelExpected[];
  expectedOutputs?: LanguageModelExpected[];
  /** Not supported by tandem yet: create() rejects with a NotSupportedError. */
  tools?: unknown[];
}

/** The `m` of `monitor(m)`: `downloadprogress` ProgressEvents, `loaded` 0 to 1. */
export interface CreateMonitor extends EventTarget {}

export interface LanguageModelCreateOptions extends LanguageModelCreateCoreOptions {
  signal?: AbortSignal;
  monitor?: (monitor: CreateMonitor) => void;
  initialPrompts?: LanguageModelMessage[];
}

export interface LanguageModelPromptOptions {
  /** A JSON schema (enforced while decoding) or a RegExp (checked on the answer). */
  responseConstraint?: object | RegExp;
  omitResponseConstraintInput?: boolean;
  signal?: AbortSignal;
}

export declare class LanguageModel extends EventTarget {
  private constructor();
  static availability(options?: LanguageModelCreateCoreOptions): Promise<Availability>;
  static create(options?: LanguageModelCreateOptions): Promise<LanguageModel>;
  prompt(input: LanguageModelPrompt, options?: LanguageModelPromptOptions): Promise<string>;
  /** New text pieces, each not yet seen. */
  promptStreaming(
    input: LanguageModelPrompt,
    options?: LanguageModelPromptOptions,
  ): ReadableStream<string>;
  append(input: LanguageModelPrompt, options?: { signal?: AbortSignal }): Promise<void>;
  measureContextUsage(
    input: LanguageModelPrompt,
    options?: LanguageModelPromptOptions,
  ): Promise<number>;
  readonly contextUsage: number;
  readonly contextWindow: number;
  readonly samplingMode: LanguageModelSamplingMode;
  oncontextoverflow: ((event: Event) => void) | null;
  clone(options?: { signal?: AbortSignal }): Promise<LanguageModel>;
  destroy(): void;
}

export interface InstallOptions extends TandemOptions {
  /** A cap on each session's context window (default: the local model's). */
  contextWindow?: number;
}

/** Configure the polyfill and set `globalThis.LanguageModel` to it, unless the
 * browser has its own that is not `unavailable`; resolves to the one in place. */
export declare function install(options?: InstallOptions): Promise<typeof LanguageModel>;

/** The Tandem the polyfill runs on (its `route` events, `model`, `unload()`). */
export declare function engine(): Promise<Tandem>;
