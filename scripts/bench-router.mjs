// `make bench`, the router's part in the browser: how long a routing decision takes
// in wasm, and the handoff overhead of a remote reply (time from
// `chat.completions.create()` to the first remote chunk, minus the same request's time
// to first chunk by a bare `fetch` from the same page). Uses the pkg/ that
// scripts/bench.mjs built and a release tandem-server on loopback. Medians; results
// also go to target/bench/router.json.
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { launch, median, ROOT, serve } from "./browser.mjs";

const PAGE_PORT = 8797;
const SERVER_PORT = 8798;
const DECISIONS = 2000;
const HANDOFFS = 15;

execFileSync("cargo", ["build", "--release", "-p", "tandem-server"], { cwd: ROOT, stdio: "inherit" });
const config = join(mkdtempSync(join(tmpdir(), "tandem-bench-")), "server.toml");
writeFileSync(
  config,
  `addr = "127.0.0.1:${SERVER_PORT}"\ncors_origins = ["http://127.0.0.1:${PAGE_PORT}"]\n`,
);
const tandemServer = spawn(join(ROOT, "target/release/tandem-server"), ["--config", config], {
  cwd: ROOT,
  stdio: ["ignore", "ignore", "inherit"],
});
const baseUrl = `http://127.0.0.1:${SERVER_PORT}/v1`;
for (let i = 0; ; i++) {
  try {
    await fetch(`${baseUrl}/models`);
    break;
  } catch (e) {
    if (i > 300) throw new Error(`tandem-server did not start: ${e}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const server = await serve(PAGE_PORT);
const browser = await launch();
try {
  const page = await browser.newPage();
  await page.goto(`${server.origin}/e2e/api.html`);
  await page.waitForFunction(() => window.ready);
  const result = await page.evaluate(
    async ([baseUrl, decisions, handoffs]) => {
      const ai = await tandem.Tandem.create({ remote: { baseUrl } });
      const prompts = [
        "Say hello to a new user in one friendly sentence.",
        "Write a detailed essay on the history of the printing press with citations.",
        "Is this review positive or negative? 'Great battery, awful screen.'",
        "Implement a red-black tree in Rust with insertion and deletion.",
      ].map((content) => ({ messages: [{ role: "user", content }] }));
      const decisionMs = [];
      for (let i = 0; i < decisions; i++) {
        const start = performance.now();
        await ai.route(prompts[i % prompts.length]);
        decisionMs.push(performance.now() - start);
      }
      const request = {
        messages: [{ role: "user", content: "Name a colour." }],
        max_tokens: 2,
        temperature: 0,
      };
      /** ms from the call to the first chunk with text. */
      const viaTandem = async () => {
        const start = performance.now();
        const stream = await ai.chat.completions.create({ ...request, stream: true, route: "remote-only" });
        for await (const chunk of stream) {
          if (chunk.choices[0]?.delta.content) {
            const ms = performance.now() - start;
            for await (const _ of stream);
            return ms;
          }
        }
        throw new Error("no text");
      };
      const viaFetch = async () => {
        const start = performance.now();
        const response = await fetch(`${baseUrl}/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ ...request, stream: true }),
        });
        const reader = response.body.getReader();
        let ms;
        let text = "";
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          text += new TextDecoder().decode(value);
          if (ms === undefined && /"content":"[^"]/.test(text)) ms = performance.now() - start;
        }
        return ms;
      };
      const tandemMs = [];
      const fetchMs = [];
      for (let i = 0; i < handoffs; i++) {
        fetchMs.push(await viaFetch());
        tandemMs.push(await viaTandem());
      }
      return { decisionMs, tandemMs, fetchMs };
    },
    [baseUrl, DECISIONS, HANDOFFS],
  );
  const round = (x, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
  const summary = {
    decision_ms_median: round(median(result.decisionMs), 3),
    decision_ms_p99: round([...result.decisionMs].sort((a, b) => a - b)[Math.floor(result.decisionMs.length * 0.99)], 3),
    remote_first_chunk_ms_tandem: round(median(result.tandemMs)),
    remote_first_chunk_ms_fetch: round(median(result.fetchMs)),
    handoff_overhead_ms: round(median(result.tandemMs) - median(result.fetchMs)),
  };
  mkdirSync(join(ROOT, "target/bench"), { recursive: true });
  writeFileSync(join(ROOT, "target/bench/router.json"), JSON.stringify(summary, null, 2));
  console.log("\nrouter in the browser (wasm, headless Chromium):");
  console.log(`  decision (ai.route, no local model)  median ${summary.decision_ms_median} ms, p99 ${summary.decision_ms_p99} ms over ${DECISIONS}`);
  console.log(`  first remote chunk: tandem ${summary.remote_first_chunk_ms_tandem} ms, bare fetch ${summary.remote_first_chunk_ms_fetch} ms`);
  console.log(`  handoff overhead ${summary.handoff_overhead_ms} ms (median of ${HANDOFFS})`);
} finally {
  await browser.close();
  server.kill();
  tandemServer.kill();
}
