// tandem/ai-sdk: a Vercel AI SDK provider (the ProviderV4 specification of
// @ai-sdk/provider 4). `createTandem(options)` (options as Tandem.create's) gives
// language models by route, "auto" (the router decides), "local" or "remote", and
// the local sentence encoder as an embedding model. The Tandem is made on first use.
import { lazyTandem } from "./engine.js";
import { chatRequest } from "./ai-sdk-request.js";
import { folded, partStream } from "./ai-sdk-parts.js";

/** The request's route for each language model id. */
const ROUTES = { auto: undefined, local: "local-only", remote: "remote-only" };

/** A coded error as tandem's own, naming the ids there are. */
function noSuchModel(kind, id, ids) {
  const known = ids.length ? `its ids are ${ids.join(", ")}` : `it has no ${kind} models`;
  const error = new Error(`tandem has no ${kind} model "${id}": ${known}`);
  return Object.assign(error, { code: "invalid_request", modelId: id, modelType: kind });
}

/** A language model answering on one route. */
class TandemLanguageModel {
  specificationVersion = "v4";
  provider = "tandem";
  supportedUrls = {};
  #tandem;

  constructor(modelId, tandem) {
    this.modelId = modelId;
    this.#tandem = tandem;
  }

  /** The reply as parts: stream-start, metadata, text and tool-call parts, finish. */
  async doStream(options) {
    const { request, warnings } = chatRequest(options, ROUTES[this.modelId]);
    const ai = await this.#tandem();
    const chunks = await ai.chat.completions.create({
      ...request,
      stream: true,
      signal: options.abortSignal,
    });
    return { stream: partStream(chunks, warnings, options.includeRawChunks), request: { body: request } };
  }

  /** The whole reply, read from the same chunks as doStream's (so tool calls arrive
   * alike on both). */
  async doGenerate(options) {
    const { stream, request } = await this.doStream({ ...options, includeRawChunks: false });
    return { ...(await folded(stream)), request };
  }
}

/** Embeddings where the id says: "auto" (routed: the local encoder unless there is
 * none), "local" (the encoder of `local.embeddings`) or "remote" (the server). */
class TandemEmbeddingModel {
  specificationVersion = "v4";
  provider = "tandem";
  /** OpenAI's cap on inputs per request, which tandem keeps. */
  maxEmbeddingsPerCall = 2048;
  /** The worker embeds one request at a time. */
  supportsParallelCalls = false;
  #tandem;

  constructor(modelId, tandem) {
    this.modelId = modelId;
    this.#tandem = tandem;
  }

  async doEmbed({ values, dimensions, abortSignal, providerOptions }) {
    const ai = await this.#tandem();
    const response = await ai.embeddings.create({
      route: ROUTES[this.modelId],
      ...providerOptions?.tandem,
      input: values,
      dimensions,
      signal: abortSignal,
    });
    return {
      embeddings: response.data.map((item) => item.embedding),
      usage: { tokens: response.usage.total_tokens },
      providerMetadata: { tandem: response.tandem },
      warnings: [],
    };
  }
}

/** The provider: `tandem(id)`, `tandem.languageModel(id)` and
 * `tandem.embeddingModel(id)` with id "auto", "local" or "remote"; `tandem.tandem()`
 * the Tandem itself (its route events, model, unload). */
export function createTandem(options = {}) {
  const tandem = lazyTandem(options);
  const languageModel = (id = "auto") => {
    if (!(id in ROUTES)) throw noSuchModel("language", id, Object.keys(ROUTES));
    return new TandemLanguageModel(id, tandem);
  };
  const embeddingModel = (id = "auto") => {
    if (!(id in ROUTES)) throw noSuchModel("embedding", id, Object.keys(ROUTES));
    return new TandemEmbeddingModel(id, tandem);
  };
  const unsupported = (kind) => (id) => {
    throw noSuchModel(kind, id, []);
  };
  return Object.assign((id) => languageModel(id), {
    specificationVersion: "v4",
    languageModel,
    embeddingModel,
    imageModel: unsupported("image"),
    tandem,
  });
}
