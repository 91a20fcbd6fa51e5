// `make bench`: prefill/decode speed of one ~40-token chat prompt and 128 greedy
// tokens, natively (1 and 2 rayon threads) and as the release wasm builds in headless
// Chromium (single-threaded with relaxed SIMD, which Chromium gets, and plain simd128;
// through the API on 1 and 2 threads, relaxed SIMD); beside it llama.cpp
// (node-llama-cpp 3.21.1, prebuilt CPU binary, one thread) on the same prompt ids, and
// the second-turn time to first token with the KV cache reused vs a cold prefill.
// Then Gemma 3 270M (Q4_K_M) on a raw prompt, 64 greedy tokens, one thread: native,
// wasm (relaxed SIMD), llama.cpp and wllama.
// Medians of 5 runs go to target/bench/summary.json and a table.
import { execFileSync } from "node:child_process";
import { mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { memoryByPhase } from "./bench-memory.mjs";
import { launchProfile, median, ROOT, serve } from "./browser.mjs";

const MODEL = "models/SmolLM2-135M-Instruct.Q4_1.gguf";
const PROMPT = "Write a haiku about the sea."; // 38 tokens with the default system prompt
const MAX_TOKENS = 128;
/** What is run: a model, a prompt (a chat message, or with `raw` the raw prompt) and
 * how many tokens to generate. */
const SMOL = { model: MODEL, prompt: PROMPT, raw: false, maxTokens: MAX_TOKENS };
const GEMMA = {
  model: "models/gemma-3-270m-q4_k_m.gguf",
  // 41 tokens with BOS.
  prompt: "The history of astronomy began when people first looked up at the night sky " +
    "and wondered about the lights they saw there. Over thousands of years, careful " +
    "observers learned to predict eclipses and to map the stars",
  raw: true,
  maxTokens: 64,
};
/** `generate`'s arguments for workload `w`. */
const promptArgs = (w) => ["--model", w.model, ...(w.raw ? ["--raw"] : []), "--prompt", w.prompt];
const RUNS = 5;
const PORT = 8791;

const run = (cmd, args, env = {}) =>
  execFileSync(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, encoding: "utf8" });
const build = (cmd, args) =>
  execFileSync(cmd, args, { cwd: ROOT, stdio: ["ignore", "inherit", "inherit"] });
const round = (x) => Math.round(x * 10) / 10;
/** a / b to two decimals. */
const ratio = (a, b) => Math.round((a / b) * 100) / 100;

/** Median native speeds of workload `w` with `threads` rayon threads. */
function native(threads, w = SMOL) {
  const runs = [];
  for (let i = 0; i < RUNS; i++) {
    const out = run(
      "target/release/examples/generate",
      [...promptArgs(w), "--max-tokens", String(w.maxTokens),
       "--temperature", "0", "--ignore-eos", "--json"],
      { RAYON_NUM_THREADS: String(threads) },
    );
    runs.push(JSON.parse(out));
  }
  return {
    prefill: median(runs.map((r) => r.prefill_tokens_per_s)),
    decode: median(runs.map((r) => r.decode_tokens_per_s)),
  };
}

/** Median llama.cpp speeds (node-llama-cpp, CPU, one thread) on tandem's prompt ids. */
function llamaCpp(w = SMOL) {
  const ids = JSON.parse(run("target/release/examples/generate",
    [...promptArgs(w), "--max-tokens", "1", "--json"])).prompt_ids;
  const out = run("node", ["bench/llama-cpp.mjs", w.model, JSON.stringify(ids),
    String(w.maxTokens), String(RUNS)]);
  const runs = out.trim().split("\n").map((l) => JSON.parse(l));
  return {
    prefill: median(runs.map((r) => r.prefill_tokens_per_s)),
    decode: median(runs.map((r) => r.decode_tokens_per_s)),
  };
}

/** Median wllama speeds (single-thread wasm, llama.cpp's own timings) on the same
 * prompt (a chat one through the GGUF's own template, or raw), in the same headless
 * Chromium; bench/ is served at /. */
async function wllama(w = SMOL) {
  const server = await serve(PORT, "bench");
  const browser = await launchProfile();
  try {
    const page = await browser.newPage();
    // Not cross-origin isolated, so wllama runs its single-threaded build.
    await page.goto(`${server.origin}/wllama.html?isolate=0`);
    await page.waitForFunction(() => window.benchReady);
    const runs = await page.evaluate((o) => window.benchWllama(o),
      { prompt: w.prompt, maxTokens: w.maxTokens, runs: RUNS, raw: w.raw, modelUrl: `/${w.model}` });
    return {
      promptTokens: runs[0].prompt_n,
      prefill: median(runs.map((r) => r.prompt_per_second)),
      decode: median(runs.map((r) => r.predicted_per_second)),
    };
  } finally {
    await browser.close();
    server.kill();
  }
}

const wasmMedians = (runs) => ({
  loadMs: median(runs.map((r) => r.loadMs)),
  ...Object.fromEntries(["compileMs", "fetchMs", "verifyMs", "buildMs"]
    .map((phase) => [phase, median(runs.map((r) => r[phase] ?? 0))])),
  fromCache: runs.every((r) => r.fromCache),
  prefill: median(runs.map((r) => r.prefill_tokens_per_s)),
  decode: median(runs.map((r) => r.decode_tokens_per_s)),
  ttft: median(runs.map((r) => r.time_to_first_token_ms)),
});

/** `window[fn](arg)` in bench.html (cross-origin isolated) in a fresh headless
 * Chromium with a profile on disk. */
async function onBenchPage(fn, arg) {
  const server = await serve(PORT);
  const browser = await launchProfile();
  try {
    const page = await browser.newPage();
    page.on("pageerror", (e) => console.error("page error:", e));
    await page.goto(`${server.origin}/bench.html`);
    await page.waitForFunction(() => window.benchReady);
    return await page.evaluate(([fn, arg]) => window[fn](arg), [fn, arg]);
  } finally {
    await browser.close();
    server.kill();
  }
}

/** Medians of `window[fn]` runs of workload `w` in bench.html (`threads` above 1
 * runs the multi-threaded build). */
async function inBrowser(fn, threads = 1, build = undefined, w = SMOL) {
  return wasmMedians(await onBenchPage(fn, { prompt: w.prompt, maxTokens: w.maxTokens,
    runs: RUNS, threads, build, raw: w.raw, modelUrl: `/${w.model}` }));
}

/** Embeddings: all-MiniLM-L6-v2's folder (and natively its Q8_0 GGUF too), 1,000
 * generated ~12-token sentences natively (the embed example, 1 thread) and in the
 * browser (the JS API, 1 thread), searches over 10,000 stored vectors by a query
 * vector and by a text, and the first vector after a load in fresh browsers. */
const EMBED = {
  folder: "models/all-MiniLM-L6-v2",
  q8_0: "models/all-MiniLM-L6-v2/all-MiniLM-L6-v2.q8_0.gguf",
  sentences: 1000,
  stored: 10000,
};

/** Sentences per second of the encoder at `model`, natively on one thread. */
function nativeEmbed(model) {
  const out = run("target/release/examples/embed",
    ["--model", model, "--bench", String(EMBED.sentences)], { RAYON_NUM_THREADS: "1" });
  return Number(out.match(/: (\d+) sentences\/s/)[1]);
}

async function browserEmbed() {
  const sentences = run("target/release/examples/embed", ["--sentences", String(EMBED.sentences)])
    .trim().split("\n");
  const folder = `/${EMBED.folder}/`;
  const firstVectors = [];
  for (let i = 0; i < RUNS; i++) {
    firstVectors.push(await onBenchPage("benchFirstVector", { folder }));
  }
  return {
    ...await onBenchPage("benchEmbed", { sentences, runs: RUNS, stored: EMBED.stored, folder }),
    firstVectorMs: median(firstVectors),
  };
}

console.log("building the native examples and the release wasm package…");
build("cargo", ["build", "--release", "-p", "tandem-core", "--example", "generate",
  "--example", "kv_reuse", "--example", "embed"]);
build("bash", ["scripts/build-pkg.sh", "--release"]);

const n1 = native(1);
const n2 = native(2);
const llama = llamaCpp();
const reuse = JSON.parse(run("target/release/examples/kv_reuse", []));
const w = {
  direct: await inBrowser("benchDirect", 1, "tandem_relaxed"),
  plain: await inBrowser("benchDirect", 1, "tandem"),
  loads: await inBrowser("benchLoads"),
  api: await inBrowser("benchApi"),
  api2: await inBrowser("benchApi", 2),
  memory: await memoryByPhase(PORT, `/${MODEL}`,
    { messages: [{ role: "user", content: PROMPT }], max_tokens: MAX_TOKENS, temperature: 0 }),
};
const phases = Object.values(w.memory);
const wl = await wllama();
const gemma = {
  native: native(1, GEMMA),
  llama: llamaCpp(GEMMA),
  wasm: await inBrowser("benchDirect", 1, "tandem_relaxed", GEMMA),
  wllama: await wllama(GEMMA),
};
const embed = {
  native: nativeEmbed(EMBED.folder),
  nativeQ8_0: nativeEmbed(EMBED.q8_0),
  wasm: await browserEmbed(),
};
if (!w.loads.fromCache) throw new Error("the API loads were not served from the cache");
const summary = {
  native_prefill_tok_s_1t: round(n1.prefill),
  native_decode_tok_s_1t: round(n1.decode),
  native_prefill_tok_s_2t: round(n2.prefill),
  native_decode_tok_s_2t: round(n2.decode),
  llama_cpp_prefill_tok_s_1t: round(llama.prefill),
  llama_cpp_decode_tok_s_1t: round(llama.decode),
  prefill_vs_llama_cpp_1t: ratio(n1.prefill, llama.prefill),
  decode_vs_llama_cpp_1t: ratio(n1.decode, llama.decode),
  second_turn_ttft_ms_reused: round(reuse.warm_ttft_ms),
  second_turn_ttft_ms_cold: round(reuse.cold_ttft_ms),
  second_turn_reused_tokens: reuse.reused_tokens,
  second_turn_prompt_tokens: reuse.prompt_tokens,
  wasm_prefill_tok_s_1t: round(w.direct.prefill),
  wasm_decode_tok_s_1t: round(w.direct.decode),
  wasm_plain_prefill_tok_s_1t: round(w.plain.prefill),
  wasm_plain_decode_tok_s_1t: round(w.plain.decode),
  wasm_bytes: statSync(join(ROOT, "pkg/tandem_relaxed_bg.wasm")).size,
  wasm_load_ms: round(w.direct.loadMs),
  wllama_prompt_tokens: wl.promptTokens,
  wllama_prefill_tok_s_1t: round(wl.prefill),
  wllama_decode_tok_s_1t: round(wl.decode),
  prefill_vs_wllama_1t: ratio(w.direct.prefill, wl.prefill),
  decode_vs_wllama_1t: ratio(w.direct.decode, wl.decode),
  api_prefill_tok_s_1t: round(w.api.prefill),
  api_decode_tok_s_1t: round(w.api.decode),
  api_ttft_ms: round(w.api.ttft),
  api_load_from_cache_ms: round(w.loads.loadMs),
  api_load_compile_ms: round(w.loads.compileMs),
  api_load_fetch_ms: round(w.loads.fetchMs),
  api_load_verify_ms: round(w.loads.verifyMs),
  api_load_build_ms: round(w.loads.buildMs),
  api_prefill_tok_s_2t: round(w.api2.prefill),
  api_decode_tok_s_2t: round(w.api2.decode),
  api_decode_2t_vs_1t: ratio(w.api2.decode, w.api.decode),
  api_decode_overhead_pct: round((1 - w.api.decode / w.direct.decode) * 100),
  tab_peak_pss_mb: round(Math.max(...phases.map((p) => p.tabPeak))),
  tab_idle_pss_mb: round(w.memory.idle.tabEnd),
  chromium_open_pss_mb: round(w.memory.open.allPeak),
  chromium_peak_pss_mb: round(Math.max(...phases.map((p) => p.allPeak))),
  gemma3_prompt_tokens: gemma.wllama.promptTokens,
  gemma3_native_prefill_tok_s_1t: round(gemma.native.prefill),
  gemma3_native_decode_tok_s_1t: round(gemma.native.decode),
  gemma3_llama_cpp_prefill_tok_s_1t: round(gemma.llama.prefill),
  gemma3_llama_cpp_decode_tok_s_1t: round(gemma.llama.decode),
  gemma3_wasm_prefill_tok_s_1t: round(gemma.wasm.prefill),
  gemma3_wasm_decode_tok_s_1t: round(gemma.wasm.decode),
  gemma3_wllama_prefill_tok_s_1t: round(gemma.wllama.prefill),
  gemma3_wllama_decode_tok_s_1t: round(gemma.wllama.decode),
  gemma3_prefill_vs_llama_cpp_1t: ratio(gemma.native.prefill, gemma.llama.prefill),
  gemma3_decode_vs_llama_cpp_1t: ratio(gemma.native.decode, gemma.llama.decode),
  gemma3_prefill_vs_wllama_1t: ratio(gemma.wasm.prefill, gemma.wllama.prefill),
  gemma3_decode_vs_wllama_1t: ratio(gemma.wasm.decode, gemma.wllama.decode),
  embed_native_sentences_s_1t: embed.native,
  embed_native_q8_0_sentences_s_1t: embed.nativeQ8_0,
  embed_wasm_sentences_s_1t: round(median(embed.wasm.rates)),
  embed_wasm_first_vector_ms: round(embed.wasm.firstVectorMs),
  embed_search_ms_10k: round(median(embed.wasm.searches)),
  embed_search_text_ms_10k: round(median(embed.wasm.textSearches)),
};
mkdirSync(join(ROOT, "target/bench"), { recursive: true });
writeFileSync(join(ROOT, "target/bench/summary.json"), JSON.stringify(summary, null, 2) + "\n");

console.log(`\nmedian of ${RUNS} runs, ${MAX_TOKENS} greedy tokens, prompt "${PROMPT}"\n`);
console.table({
  "native, 1 thread": { "prefill tok/s": summary.native_prefill_tok_s_1t, "decode tok/s": summary.native_decode_tok_s_1t },
  "native, 2 threads": { "prefill tok/s": summary.native_prefill_tok_s_2t, "decode tok/s": summary.native_decode_tok_s_2t },
  "llama.cpp (node-llama-cpp), 1 thread": { "prefill tok/s": summary.llama_cpp_prefill_tok_s_1t, "decode tok/s": summary.llama_cpp_decode_tok_s_1t },
  "wasm (Chromium), direct, relaxed SIMD": { "prefill tok/s": summary.wasm_prefill_tok_s_1t, "decode tok/s": summary.wasm_decode_tok_s_1t },
  "wasm (Chromium), direct, plain simd128": { "prefill tok/s": summary.wasm_plain_prefill_tok_s_1t, "decode tok/s": summary.wasm_plain_decode_tok_s_1t },
  "wllama (Chromium), 1 thread": { "prefill tok/s": summary.wllama_prefill_tok_s_1t, "decode tok/s": summary.wllama_decode_tok_s_1t },
  "wasm (Chromium), JS API": { "prefill tok/s": summary.api_prefill_tok_s_1t, "decode tok/s": summary.api_decode_tok_s_1t },
  "wasm (Chromium), JS API, 2 threads": { "prefill tok/s": summary.api_prefill_tok_s_2t, "decode tok/s": summary.api_decode_tok_s_2t },
});
console.log(`JS API: decode overhead ${summary.api_decode_overhead_pct}% vs direct, ` +
  `first token ${summary.api_ttft_ms} ms, load from cache ${summary.api_load_from_cache_ms} ms ` +
  `(worker start ${summary.api_load_compile_ms}, read ${summary.api_load_fetch_ms}, hash ` +
  `${summary.api_load_verify_ms}, build ${summary.api_load_build_ms}); ` +
  `tab (its renderer: page and worker) PSS peak ${summary.tab_peak_pss_mb} MB, idle ` +
  `${summary.tab_idle_pss_mb} MB; every Chromium process ${summary.chromium_peak_pss_mb} MB ` +
  `(${summary.chromium_open_pss_mb} MB with the page open, no model)`);
console.table(Object.fromEntries(Object.entries(w.memory).map(([phase, m]) =>
  [phase, { "tab peak MB": round(m.tabPeak), "tab after MB": round(m.tabEnd),
    "all Chromium peak MB": round(m.allPeak) }])));
console.log(`wasm, 2 threads / 1 thread (JS API): decode ${summary.api_decode_2t_vs_1t}x`);
console.log(`wasm: ${(summary.wasm_bytes / 1e6).toFixed(2)} MB, model load ${summary.wasm_load_ms} ms`);
console.log(`tandem / llama.cpp, native 1 thread: prefill ${summary.prefill_vs_llama_cpp_1t}x, ` +
  `decode ${summary.decode_vs_llama_cpp_1t}x`);
console.log(`tandem / wllama, wasm 1 thread: prefill ${summary.prefill_vs_wllama_1t}x, ` +
  `decode ${summary.decode_vs_wllama_1t}x (wllama read ${summary.wllama_prompt_tokens} prompt tokens)`);
console.log(`second turn (${summary.second_turn_prompt_tokens} tokens, ` +
  `${summary.second_turn_reused_tokens} reused): first token ${summary.second_turn_ttft_ms_reused} ms ` +
  `vs ${summary.second_turn_ttft_ms_cold} ms cold ` +
  `(${Math.round(summary.second_turn_ttft_ms_reused / summary.second_turn_ttft_ms_cold * 100)}%)`);
console.table({
  "Gemma 3 270M, native, 1 thread": { "prefill tok/s": summary.gemma3_native_prefill_tok_s_1t, "decode tok/s": summary.gemma3_native_decode_tok_s_1t },
  "Gemma 3 270M, llama.cpp, 1 thread": { "prefill tok/s": summary.gemma3_llama_cpp_prefill_tok_s_1t, "decode tok/s": summary.gemma3_llama_cpp_decode_tok_s_1t },
  "Gemma 3 270M, wasm, relaxed SIMD": { "prefill tok/s": summary.gemma3_wasm_prefill_tok_s_1t, "decode tok/s": summary.gemma3_wasm_decode_tok_s_1t },
  "Gemma 3 270M, wllama, 1 thread": { "prefill tok/s": summary.gemma3_wllama_prefill_tok_s_1t, "decode tok/s": summary.gemma3_wllama_decode_tok_s_1t },
});
console.log(`Gemma 3 270M (${summary.gemma3_prompt_tokens}-token raw prompt, 64 tokens): ` +
  `native / llama.cpp prefill ${summary.gemma3_prefill_vs_llama_cpp_1t}x, decode ` +
  `${summary.gemma3_decode_vs_llama_cpp_1t}x; wasm / wllama prefill ` +
  `${summary.gemma3_prefill_vs_wllama_1t}x, decode ${summary.gemma3_decode_vs_wllama_1t}x`);
console.log(`embeddings (all-MiniLM-L6-v2, ${EMBED.sentences} sentences of ~12 tokens, 1 thread): ` +
  `native ${summary.embed_native_sentences_s_1t}/s (Q8_0 GGUF ` +
  `${summary.embed_native_q8_0_sentences_s_1t}/s), wasm ${summary.embed_wasm_sentences_s_1t}/s; ` +
  `first vector ${summary.embed_wasm_first_vector_ms} ms; search over ${EMBED.stored} vectors ` +
  `${summary.embed_search_ms_10k} ms per query vector, ${summary.embed_search_text_ms_10k} ms ` +
  `per text (its embedding included)`);
console.log("written to target/bench/summary.json");
