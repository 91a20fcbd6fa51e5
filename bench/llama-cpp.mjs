// llama.cpp through node-llama-cpp (prebuilt CPU binary from npm; never builds or
// downloads): prefill and decode speed of the given prompt token ids, one thread,
// greedy, end-of-turn ignored. Prints one JSON object per run.
// node bench/llama-cpp.mjs MODEL PROMPT_IDS_JSON MAX_TOKENS RUNS
import { getLlama } from "node-llama-cpp";

const [model, idsJson, maxTokens, runs] = process.argv.slice(2);
const prompt = JSON.parse(idsJson);
const llama = await getLlama({ gpu: false, build: "never", logLevel: "error" });
const loaded = await llama.loadModel({ modelPath: model });
for (let r = 0; r < Number(runs); r++) {
  const context = await loaded.createContext({ contextSize: 512, threads: 1, flashAttention: false });
  const sequence = context.getSequence();
  const start = performance.now();
  let first = 0;
  let n = 0;
  for await (const _ of sequence.evaluate(prompt, { temperature: 0, yieldEogToken: true })) {
    n++;
    if (n === 1) first = performance.now();
    if (n >= Number(maxTokens)) break;
  }
  const end = performance.now();
  console.log(JSON.stringify({
    prefill_tokens_per_s: prompt.length / ((first - start) / 1000),
    decode_tokens_per_s: (n - 1) / ((end - first) / 1000),
    tokens: n,
  }));
  await context.dispose();
}
process.exit(0);
