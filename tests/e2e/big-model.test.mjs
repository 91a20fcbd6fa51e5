// A 1B-parameter Q4_K_M model (0.8 GB; Llama 3.2 1B's layout with random weights,
// scripts/fixtures/make-big-gguf.py) in the browser build: it streams from the network
// into the worker's memory and into the Cache API without a second copy of the file
// (the tab's peak memory stays under the file's size plus 200 MB), and it computes
// what tandem computes natively: the first step's five best log-probabilities agree
// within 0.02. (Not to the bit: the browser's expf differs from glibc's in the last
// bit for ~10% of inputs, and the 8-bit quantisation of activations turns such a bit
// now and then into a step of 1/127 of a value.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../../scripts/browser.mjs";
import { openPage } from "./harness.mjs";

const PORT = 8808;
const FILE = "models/big/llama3.2-1b-random-q4_k_m.gguf";
const SHA256 = readFileSync(join(ROOT, "scripts/fixtures/big-gguf.sha256"), "utf8").split(" ")[0];
const PROMPT = "The capital of France is";
const TOKENS = 6;
const MB = 1 << 20;

/** tandem's first-step log-probabilities natively (the generate example): the best
 * five, best first. */
function nativeTop5() {
  const out = execFileSync(
    "cargo",
    ["run", "--quiet", "-p", "tandem-core", "--example", "generate", "--",
      "--model", FILE, "--raw", "--prompt", PROMPT, "--max-tokens", "1", "--json",
      "--top-logprobs", "5"],
    { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] },
  );
  return JSON.parse(out).top_logprobs[0].map((t) => t.logprob);
}

/** The renderer processes of the Chromium that this process started: pid -> /proc status. */
function renderers() {
  const stat = (pid) => readFileSync(`/proc/${pid}/stat`, "utf8");
  const parent = (pid) => Number(stat(pid).split(") ")[1].split(" ")[1]);
  const pids = readdirSync("/proc").filter((p) => /^\d+$/.test(p)).map(Number);
  const ours = (pid) => {
    for (let p = pid; p > 1; p = parent(p)) if (p === process.pid) return true;
    return false;
  };
  const found = new Map();
  for (const pid of pids) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      if (cmdline.includes("--type=renderer") && ours(pid)) {
        found.set(pid, readFileSync(`/proc/${pid}/status`, "utf8"));
      }
    } catch {
      // The process ended meanwhile.
    }
  }
  return found;
}

const kib = (status, field) => Number(status.match(new RegExp(`${field}:\\s+(\\d+) kB`))[1]) * 1024;

test("a 1B Q4_K_M model streams into the worker without a second copy and computes as natively", async () => {
  const size = statSync(join(ROOT, FILE)).size;
  const want = nativeTop5();
  const browser = await openPage(PORT);
  try {
    const before = new Map([...renderers()].map(([pid, s]) => [pid, kib(s, "VmRSS")]));
    const r = await browser.inPage(async ({ url, sha256, prompt, tokens }) => {
      const ai = await tandem.Tandem.create({ local: { modelUrl: url, sha256, threads: 1 } });
      const reply = await ai.completions.create({ prompt, max_tokens: tokens, temperature: 0, logprobs: 5 });
      ai.unload();
      const [choice] = reply.choices;
      const top5 = Object.values(choice.logprobs.top_logprobs[0]).sort((a, b) => b - a);
      return { model: ai.model, tokens: reply.usage.completion_tokens, top5 };
    }, { url: `/${FILE}`, sha256: SHA256, prompt: PROMPT, tokens: TOKENS });
    assert.equal(r.error, undefined, JSON.stringify(r.error));
    // The renderer that ran the worker: the one whose peak grew most.
    const grown = [...renderers()]
      .filter(([pid]) => before.has(pid))
      .map(([pid, s]) => kib(s, "VmHWM") - before.get(pid));
    const peak = Math.max(...grown);
    console.log(
      `1B Q4_K_M (${(size / MB).toFixed(0)} MiB): tab peak +${(peak / MB).toFixed(0)} MiB, ` +
        `wasm memory ${(r.model.memoryBytes / MB).toFixed(0)} MiB, loaded in ${r.model.loadMs.toFixed(0)} ms`,
    );
    assert.equal(r.model.architecture, "llama");
    assert.ok(r.model.parameters > 1.2e9 && r.model.parameters < 1.3e9, `${r.model.parameters}`);
    assert.deepEqual(Object.keys(r.model.quantization).sort(), ["F32", "Q4_K", "Q6_K"]);
    assert.equal(r.tokens, TOKENS);
    assert.equal(r.top5.length, 5);
    r.top5.forEach((lp, i) => assert.ok(Math.abs(lp - want[i]) < 0.02, `${r.top5} vs ${want}`));
    assert.ok(peak <= size + 200 * MB, `peak ${peak} bytes for a ${size}-byte file`);
  } finally {
    await browser.close();
  }
});
