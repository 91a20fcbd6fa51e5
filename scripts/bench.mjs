// `make bench`: prefill/decode speed of one ~40-token chat prompt and 128 greedy
// tokens, natively (1 and 2 rayon threads) and as the release wasm build in headless
// Chromium. Medians of 5 runs go to target/bench/summary.json and a table.
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const MODEL = "models/SmolLM2-135M-Instruct.Q4_1.gguf";
const PROMPT = "Write a haiku about the sea."; // 38 tokens with the default system prompt
const MAX_TOKENS = 128;
const RUNS = 5;
const PORT = 8791;

const run = (cmd, args, env = {}) =>
  execFileSync(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, encoding: "utf8" });
const build = (cmd, args) =>
  execFileSync(cmd, args, { cwd: ROOT, stdio: ["ignore", "inherit", "inherit"] });
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const round = (x) => Math.round(x * 10) / 10;

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

/** Median load time and speeds of pkg/ in headless Chromium (single-threaded wasm). */
async function wasm() {
  const server = spawn("python3", ["scripts/serve.py", "--port", String(PORT)], {
    cwd: ROOT,
    stdio: "ignore",
  });
  // launch() gives every browser a fresh temporary profile.
  const browser = await chromium.launch({
    executablePath: run("sh", ["-c", "command -v chromium"]).trim(),
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
      "--no-first-run"],
  });
  try {
    const page = await browser.newPage();
    page.on("pageerror", (e) => console.error("page error:", e));
    for (let i = 0; ; i++) {
      try {
        await page.goto(`http://127.0.0.1:${PORT}/bench.html`);
        break;
      } catch (e) {
        if (i > 50) throw e;
        await new Promise((r) => setTimeout(r, 100)); // serve.py still starting
      }
    }
    await page.waitForFunction(() => window.benchReady);
    const runs = await page.evaluate(
      (o) => window.bench(o),
      { prompt: PROMPT, maxTokens: MAX_TOKENS, runs: RUNS },
    );
    return {
      loadMs: median(runs.map((r) => r.loadMs)),
      prefill: median(runs.map((r) => r.prefill_tokens_per_s)),
      decode: median(runs.map((r) => r.decode_tokens_per_s)),
    };
  } finally {
    await browser.close();
    server.kill();
  }
}

console.log("building the native example and the release wasm package…");
build("cargo", ["build", "--release", "-p", "tandem-core", "--example", "generate"]);
build("wasm-pack", ["build", "--target", "web", "--release"]);

const n1 = native(1);
const n2 = native(2);
const w = await wasm();
const summary = {
  native_prefill_tok_s_1t: round(n1.prefill),
  native_decode_tok_s_1t: round(n1.decode),
  native_prefill_tok_s_2t: round(n2.prefill),
  native_decode_tok_s_2t: round(n2.decode),
  wasm_prefill_tok_s_1t: round(w.prefill),
  wasm_decode_tok_s_1t: round(w.decode),
  wasm_bytes: statSync(join(ROOT, "pkg/tandem_bg.wasm")).size,
  wasm_load_ms: round(w.loadMs),
};
mkdirSync(join(ROOT, "target/bench"), { recursive: true });
writeFileSync(join(ROOT, "target/bench/summary.json"), JSON.stringify(summary, null, 2) + "\n");

console.log(`\nmedian of ${RUNS} runs, ${MAX_TOKENS} greedy tokens, prompt "${PROMPT}"\n`);
console.table({
  "native, 1 thread": { "prefill tok/s": summary.native_prefill_tok_s_1t, "decode tok/s": summary.native_decode_tok_s_1t },
  "native, 2 threads": { "prefill tok/s": summary.native_prefill_tok_s_2t, "decode tok/s": summary.native_decode_tok_s_2t },
  "wasm (Chromium)": { "prefill tok/s": summary.wasm_prefill_tok_s_1t, "decode tok/s": summary.wasm_decode_tok_s_1t },
});
console.log(`wasm: ${(summary.wasm_bytes / 1e6).toFixed(2)} MB, model load ${summary.wasm_load_ms} ms`);
console.log("written to target/bench/summary.json");
