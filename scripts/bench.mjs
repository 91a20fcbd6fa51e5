// `make bench`: prefill/decode speed of one ~40-token chat prompt and 128 greedy
// tokens, natively (1 and 2 rayon threads) and as the release wasm build in headless
// Chromium. Medians of 5 runs go to target/bench/summary.json and a table.
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { launch, median, ROOT, serve } from "./browser.mjs";

const MODEL = "models/SmolLM2-135M-Instruct.Q4_1.gguf";
const PROMPT = "Write a haiku about the sea."; // 38 tokens with the default system prompt
const MAX_TOKENS = 128;
const RUNS = 5;
const PORT = 8791;

const run = (cmd, args, env = {}) =>
  execFileSync(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, encoding: "utf8" });
const build = (cmd, args) =>
  execFileSync(cmd, args, { cwd: ROOT, stdio: ["ignore", "inherit", "inherit"] });
const round = (x) => Math.round(x * 10) / 10;

/** Peak resident memory (VmHWM, MB) of the largest Chromium renderer: the tab, with
 * its worker. */
function rendererPeakMb() {
  let peak = 0;
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("--type=renderer")) continue;
      const kb = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))[1]);
      peak = Math.max(peak, kb / 1024);
    } catch {
      // the process ended meanwhile
    }
  }
  return peak;
}

/** Median native speeds with `threads` rayon threads. */
function native(threads) {
  const runs = [];
  for (let i = 0; i < RUNS; i++) {
    const out = run(
      "target/release/examples/generate",
      ["--model", MODEL, "--prompt", PROMPT, "--max-tokens", String(MAX_TOKENS),
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

const wasmMedians = (runs) => ({
  loadMs: median(runs.map((r) => r.loadMs)),
  fromCache: runs.every((r) => r.fromCache),
  prefill: median(runs.map((r) => r.prefill_tokens_per_s)),
  decode: median(runs.map((r) => r.decode_tokens_per_s)),
  ttft: median(runs.map((r) => r.time_to_first_token_ms)),
});

/** Medians of `window[fn]` runs in bench.html in a fresh headless Chromium (single-
 * threaded wasm), with the tab's peak memory. */
async function inBrowser(fn) {
  const server = await serve(PORT);
  const browser = await launch();
  try {
    const page = await browser.newPage();
    page.on("pageerror", (e) => console.error("page error:", e));
    await page.goto(`${server.origin}/bench.html`);
    await page.waitForFunction(() => window.benchReady);
    const runs = await page.evaluate(
      ([fn, o]) => window[fn](o),
      [fn, { prompt: PROMPT, maxTokens: MAX_TOKENS, runs: RUNS }],
    );
    return { ...wasmMedians(runs), rssMb: rendererPeakMb() };
  } finally {
    await browser.close();
    server.kill();
  }
}

console.log("building the native example and the release wasm package…");
build("cargo", ["build", "--release", "-p", "tandem-core", "--example", "generate"]);
build("bash", ["scripts/build-pkg.sh", "--release"]);

const n1 = native(1);
const n2 = native(2);
const w = {
  direct: await inBrowser("benchDirect"),
  loads: await inBrowser("benchLoads"),
  api: await inBrowser("benchApi"),
};
if (!w.loads.fromCache) throw new Error("the API loads were not served from the cache");
const summary = {
  native_prefill_tok_s_1t: round(n1.prefill),
  native_decode_tok_s_1t: round(n1.decode),
  native_prefill_tok_s_2t: round(n2.prefill),
  native_decode_tok_s_2t: round(n2.decode),
  wasm_prefill_tok_s_1t: round(w.direct.prefill),
  wasm_decode_tok_s_1t: round(w.direct.decode),
  wasm_bytes: statSync(join(ROOT, "pkg/tandem_bg.wasm")).size,
  wasm_load_ms: round(w.direct.loadMs),
  api_prefill_tok_s_1t: round(w.api.prefill),
  api_decode_tok_s_1t: round(w.api.decode),
  api_ttft_ms: round(w.api.ttft),
  api_load_from_cache_ms: round(w.loads.loadMs),
  api_decode_overhead_pct: round((1 - w.api.decode / w.direct.decode) * 100),
  renderer_peak_rss_mb: round(w.api.rssMb),
};
mkdirSync(join(ROOT, "target/bench"), { recursive: true });
writeFileSync(join(ROOT, "target/bench/summary.json"), JSON.stringify(summary, null, 2) + "\n");

console.log(`\nmedian of ${RUNS} runs, ${MAX_TOKENS} greedy tokens, prompt "${PROMPT}"\n`);
console.table({
  "native, 1 thread": { "prefill tok/s": summary.native_prefill_tok_s_1t, "decode tok/s": summary.native_decode_tok_s_1t },
  "native, 2 threads": { "prefill tok/s": summary.native_prefill_tok_s_2t, "decode tok/s": summary.native_decode_tok_s_2t },
  "wasm (Chromium), direct": { "prefill tok/s": summary.wasm_prefill_tok_s_1t, "decode tok/s": summary.wasm_decode_tok_s_1t },
  "wasm (Chromium), JS API": { "prefill tok/s": summary.api_prefill_tok_s_1t, "decode tok/s": summary.api_decode_tok_s_1t },
});
console.log(`JS API: decode overhead ${summary.api_decode_overhead_pct}% vs direct, ` +
  `first token ${summary.api_ttft_ms} ms, load from cache ${summary.api_load_from_cache_ms} ms; ` +
  `tab peak RSS ${summary.renderer_peak_rss_mb} MB`);
console.log(`wasm: ${(summary.wasm_bytes / 1e6).toFixed(2)} MB, model load ${summary.wasm_load_ms} ms`);
console.log("written to target/bench/summary.json");
