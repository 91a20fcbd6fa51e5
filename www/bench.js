// In-page half of scripts/bench.mjs: greedy replies through the full API (worker,
// messages, model from the cache) and directly with LocalModel in this thread, so the
// API's overhead is measured side by side.
import init, { Tandem } from "/pkg/tandem.js";

const MODEL_URL = "/models/SmolLM2-135M-Instruct.Q4_1.gguf";

/** The last chunk of a streamed reply to `prompt`. */
async function lastChunk(chunks) {
  let last;
  for await (const chunk of chunks) last = chunk;
  return last;
}

/** A greedy request for `prompt`: the user's message, or with `raw` the raw prompt. */
const request = (prompt, maxTokens, raw = false) => ({
  ...(raw ? { prompt } : { messages: [{ role: "user", content: prompt }] }),
  max_tokens: maxTokens,
  temperature: 0,
  ignore_eos: true,
});

/** `runs` times: LocalModel of the single-threaded `build` (pkg/`build`.js: the
 * plain one, or `tandem_relaxed`) in this thread, from already-fetched bytes of
 * `modelUrl`; `raw` sends the prompt as a raw prompt (a base model). */
window.benchDirect = async ({ prompt, maxTokens, runs, build = "tandem", modelUrl = MODEL_URL, raw = false }) => {
  const wasm = await import(`/pkg/${build}.js`);
  await wasm.default();
  const bytes = new Uint8Array(await (await fetch(modelUrl)).arrayBuffer());
  const direct = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    const model = new wasm.LocalModel(bytes);
    const loadMs = performance.now() - start;
    const reply = model.reply(request(prompt, maxTokens, raw));
    let chunk, last;
    while ((chunk = reply.next())) last = chunk;
    direct.push({ loadMs, ...last.tandem });
    reply.free();
    model.free();
  }
  return direct;
};

/** `runs` loads through the API from the cache (after a first, untimed download). */
window.benchLoads = async ({ runs }) => {
  await init();
  (await Tandem.create({ local: { modelUrl: MODEL_URL } })).unload();
  const loads = [];
  for (let i = 0; i < runs; i++) {
    const ai = await Tandem.create({ local: { modelUrl: MODEL_URL } });
    loads.push({ loadMs: ai.model.loadMs, ...ai.model.loadPhases, fromCache: ai.model.fromCache });
    ai.unload();
  }
  return loads;
};

/** `runs` replies through the API on `threads` threads, each from a fresh instance so
 * that no run reuses the previous one's KV cache (a cold prompt every time, like the
 * direct runs); the first instance downloads the model, as on a first visit, the
 * others read the cache. */
window.benchApi = async ({ prompt, maxTokens, runs, threads = 1 }) => {
  await init();
  const api = [];
  for (let i = 0; i < runs; i++) {
    const ai = await Tandem.create({ local: { modelUrl: MODEL_URL, threads } });
    if (ai.model.threads !== threads || !ai.model.relaxedSimd) {
      throw new Error(`asked for ${threads} threads with relaxed SIMD, the model runs on ` +
        `${ai.model.threads} (relaxed SIMD: ${ai.model.relaxedSimd})`);
    }
    const last = await lastChunk(
      await ai.chat.completions.create({ ...request(prompt, maxTokens), stream: true }),
    );
    api.push({ loadMs: ai.model.loadMs, ...last.tandem });
    ai.unload();
  }
  return api;
};
/** The first vector after the load (one short query), ms: the page's first
 * instance, as on a visit. */
window.benchFirstVector = async ({ folder }) => {
  await init();
  const ai = await Tandem.create({ local: { modelUrl: MODEL_URL, embeddings: { modelUrl: folder } } });
  const start = performance.now();
  await ai.embeddings.create({ input: "where is the station?" });
  const ms = performance.now() - start;
  ai.unload();
  return ms;
};

/** Embeddings through the API on one thread: `sentences` embedded `runs` times
 * (sentences/s), and searches over `stored` random vectors: by a query vector (the
 * index alone) and by a text (its embedding included), ms per query. */
window.benchEmbed = async ({ sentences, runs, stored, folder }) => {
  await init();
  const ai = await Tandem.create({ local: { modelUrl: MODEL_URL, embeddings: { modelUrl: folder } } });
  let start;
  const rates = [];
  for (let i = 0; i < runs; i++) {
    start = performance.now();
    await ai.embeddings.create({ input: sentences });
    rates.push((sentences.length * 1000) / (performance.now() - start));
  }
  const { model, dimensions } = ai.embeddings.model;
  const vectors = new Float32Array(stored * dimensions);
  for (let i = 0; i < vectors.length; i++) vectors[i] = Math.sin(i * 12.9898) * 0.05;
  const ids = Array.from({ length: stored }, (_, i) => `doc-${i}`);
  const index = ai.tasks.index({ model, dimensions, ids, vectors });
  const searches = [];
  const textSearches = [];
  for (let i = 0; i < runs; i++) {
    const query = (await ai.embeddings.create({ input: `query number ${i}` })).data[0].embedding;
    start = performance.now();
    await ai.tasks.search(index, new Float32Array(query), { topK: 10 });
    searches.push(performance.now() - start);
    start = performance.now();
    await ai.tasks.search(index, `query number ${i}`, { topK: 10 });
    textSearches.push(performance.now() - start);
  }
  ai.unload();
  return { rates, searches, textSearches };
};
window.benchReady = true;
