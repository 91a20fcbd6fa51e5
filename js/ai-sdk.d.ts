// Types of tandem/ai-sdk: a provider of the AI SDK's ProviderV4 specification
// (@ai-sdk/provider 4, which the `ai` package brings).
import type { EmbeddingModelV4, LanguageModelV4, ProviderV4 } from "@ai-sdk/provider";
import type { Tandem, TandemOptions } from "./tandem.js";

/** "auto": the router decides per request; "local": the model in the page's worker;
 * "remote": the server. Another id throws (code `invalid_request`). */
export type TandemModelId = "auto" | "local" | "remote" | (string & {});

export interface TandemProvider extends ProviderV4 {
  (modelId?: TandemModelId): LanguageModelV4;
  languageModel(modelId?: TandemModelId): LanguageModelV4;
  /** Embeddings: "auto" (routed; the local encoder of `local.embeddings` unless
   * there is none), "local" or "remote" (the server's `/embeddings`). Another id
   * throws (code `invalid_request`). */
  embeddingModel(modelId?: TandemModelId): EmbeddingModelV4;
  /** The Tandem the provider runs on, made on first use. */
  tandem(): Promise<Tandem>;
}

/** A provider on one Tandem, made with `options` (Tandem.create's) on first use. */
export declare function createTandem(options?: TandemOptions): TandemProvider;
