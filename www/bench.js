// In-page half of scripts/bench.mjs: time model loading and one greedy reply per run.
import init, { LocalModel } from "/pkg/tandem.js";

const MODEL_URL = "/models/SmolLM2-135M-Instruct.Q4_1.gguf";

/** `runs` times: load the model from already-fetched bytes, then generate
 * `maxTokens` greedy tokens (ignoring end-of-turn) for `prompt`. */
window.bench = async ({ prompt, maxTokens, runs }) => {
  await init();
  const bytes = new Uint8Array(await (await fetch(MODEL_URL)).arrayBuffer());
  const results = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    const model = new LocalModel(bytes);
    const loadMs = performance.now() - start;
    const reply = model.stream([{ role: "user", content: prompt }], {
      max_tokens: maxTokens,
      temperature: 0,
      ignore_eos: true,
    });
    let step;
    while (!(step = reply.next()).done);
    results.push({ loadMs, tokens: step.usage.completion_tokens, ...step.timings });
    reply.free();
    model.free();
  }
  return results;
};
window.benchReady = true;
