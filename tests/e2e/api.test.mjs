// The JS API end to end in headless Chromium: the real model in the package's worker,
// downloaded with progress, cached, verified, streamed, aborted, and every error code.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../../scripts/browser.mjs";
import { openPage } from "./harness.mjs";

const PORT = 8792;
const SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53";
const MODEL = join(ROOT, "models/SmolLM2-135M-Instruct.Q4_1.gguf");
// A fixture line whose greedy path has no near-tie (every pick leads by >= 0.4 logits
// natively), so wasm reproduces it token for token. 8 tokens, then end of turn.
const PROMPT = "What color is the sky?";
const FIXTURE = readFileSync(join(ROOT, "tests/fixtures/greedy.jsonl"), "utf8")
  .split("\n")
  .filter(Boolean)
  .map((line) => JSON.parse(line))
  .find((line) => line.messages.at(-1).content === PROMPT);
const MESSAGES = FIXTURE.messages;
const GREEDY_TEXT = FIXTURE.greedy_text.replace("<|im_end|>", "");
const GREEDY_TOKENS = FIXTURE.greedy_ids.length - 1;

let browser, inPage;

before(async () => {
  browser = await openPage(PORT);
  inPage = browser.inPage;
});

after(() => browser?.close());

test("create() downloads the model with byte progress and loads it in a worker", async () => {
  const r = await inPage(async (sha256) => {
    const progress = [];
    window.ai = await tandem.Tandem.create({
      local: { modelUrl: MODEL_URL, sha256 },
      onProgress: (p) => progress.push(p),
    });
    return { progress, model: ai.model, contextWindow: ai.contextWindow };
  }, SHA256);
  assert.equal(r.error, undefined, JSON.stringify(r.error));
  const size = readFileSync(MODEL).length;
  const download = r.progress.filter((p) => p.phase === "download");
  assert.ok(download.length > 10, `${download.length} download events`);
  assert.ok(download.every((p, i) => i === 0 || p.loaded >= download[i - 1].loaded));
  assert.deepEqual(download.at(-1), { file: "model", phase: "download", loaded: size, total: size });
  assert.ok(r.progress.some((p) => p.phase === "load"));
  assert.equal(r.model.fromCache, false);
  assert.equal(r.model.bytes, size);
  // Where the load went: each phase took time, and together no more than the load.
  const { compileMs, fetchMs, verifyMs, buildMs } = r.model.loadPhases;
  assert.ok([compileMs, fetchMs, verifyMs, buildMs].every((ms) => ms > 0), JSON.stringify(r.model));
  assert.ok(compileMs + fetchMs + verifyMs + buildMs <= r.model.loadMs, JSON.stringify(r.model));
  assert.equal(r.contextWindow, 8192);
  // What the model is, from its GGUF header: SmolLM2-135M, Q4_1 matrices, a Q8_0
  // embedding table and F32 norms, with a chat template.
  assert.equal(r.model.architecture, "llama");
  assert.equal(r.model.chat, true);
  assert.deepEqual(Object.keys(r.model.quantization).sort(), ["F32", "Q4_1", "Q8_0"]);
  const weights = Object.values(r.model.quantization).reduce((a, b) => a + b, 0);
  assert.equal(r.model.parameters, weights);
  assert.ok(r.model.parameters > 134e6 && r.model.parameters < 136e6, `${r.model.parameters}`);
});

test("a non-streamed reply is llama.cpp's greedy text with usage and the tandem extension", async () => {
  const r = await inPage(
    (messages) => ai.chat.completions.create({ messages, max_tokens: 32, temperature: 0 }),
    MESSAGES,
  );
  assert.equal(r.object, "chat.completion");
  assert.match(r.id, /^chatcmpl-/);
  assert.equal(r.choices[0].message.content, GREEDY_TEXT);
  assert.equal(r.choices[0].finish_reason, "stop");
  assert.deepEqual(r.usage, {
    prompt_tokens: FIXTURE.prompt_ids.length,
    completion_tokens: GREEDY_TOKENS,
    total_tokens: FIXTURE.prompt_ids.length + GREEDY_TOKENS,
  });
  assert.equal(r.tandem.route, "local");
  assert.ok(r.tandem.decode_tokens_per_s > 0 && r.tandem.time_to_first_token_ms > 0);
});

test("a streamed reply comes as OpenAI chunks with one id, then usage", async () => {
  const chunks = await inPage(async (messages) => {
    const out = [];
    const stream = await ai.chat.completions.create({
      messages, max_tokens: 32, temperature: 0, stream: true,
    });
    for await (const chunk of stream) out.push(chunk);
    return out;
  }, MESSAGES);
  assert.ok(chunks.length >= 4);
  assert.equal(new Set(chunks.map((c) => c.id)).size, 1);
  assert.ok(chunks.every((c) => c.object === "chat.completion.chunk"));
  assert.equal(chunks[0].choices[0].delta.role, "assistant");
  const text = chunks.map((c) => c.choices[0]?.delta.content ?? "").join("");
  assert.equal(text, GREEDY_TEXT);
  assert.equal(chunks.at(-2).choices[0].finish_reason, "stop");
  const last = chunks.at(-1);
  assert.deepEqual(last.choices, []);
  assert.equal(last.usage.completion_tokens, GREEDY_TOKENS);
  assert.equal(last.tandem.route, "local");
});

test("countTokens counts the templated prompt like llama.cpp", async () => {
  const n = await inPage((messages) => ai.countTokens(messages), MESSAGES);
  assert.equal(n, FIXTURE.prompt_ids.length);
});

test("aborting a stream ends it at once and frees the worker for the next request", async () => {
  const r = await inPage(async (messages) => {
    const controller = new AbortController();
    const stream = await ai.chat.completions.create({
      messages, max_tokens: 300, ignore_eos: true, stream: true, signal: controller.signal,
    });
    let chunks = 0;
    let error;
    try {
      for await (const chunk of stream) {
        chunks++;
        if (chunks === 4) controller.abort();
      }
    } catch (e) {
      error = e.code;
    }
    const start = performance.now();
    const next = await ai.chat.completions.create({ messages, max_tokens: 2 });
    return {
      chunks, error, nextMs: performance.now() - start,
      decode: next.tandem.decode_tokens_per_s, ttft: next.tandem.time_to_first_token_ms,
    };
  }, MESSAGES);
  assert.equal(r.error, "aborted");
  assert.equal(r.chunks, 4, "no chunk after the abort");
  // Had the aborted generation gone on, the next request would have waited for ~290
  // more tokens; it only waited for its own prompt and two tokens (plus a margin).
  const ownWork = r.ttft + 2000 / Math.max(r.decode, 1);
  assert.ok(r.nextMs < ownWork + 50_000 / Math.max(r.decode, 1), JSON.stringify(r));
});

test("breaking out of for-await stops the generation", async () => {
  const r = await inPage(async (messages) => {
    const stream = await ai.chat.completions.create({
      messages, max_tokens: 300, ignore_eos: true, stream: true,
    });
    let chunks = 0;
    for await (const chunk of stream) if (++chunks === 3) break;
    const after = await stream.next();
    const next = await ai.chat.completions.create({ messages, max_tokens: 1 });
    return { chunks, afterDone: after.done, next: next.usage.completion_tokens };
  }, MESSAGES);
  assert.deepEqual(r, { chunks: 3, afterDone: true, next: 1 });
});

test("a second request while one runs is queued, not interleaved", async () => {
  const order = await inPage(async (messages) => {
    const order = [];
    const run = async (name) => {
      const stream = await ai.chat.completions.create({ messages, max_tokens: 6, stream: true });
      for await (const chunk of stream) order.push(name);
    };
    await Promise.all([run("a"), run("b")]);
    return order.join("");
  }, MESSAGES);
  assert.match(order, /^a+b+$/);
});

test("the main thread has no long task while 64 tokens are generated", async () => {
  const long = await inPage(async (messages) => {
    const long = [];
    const observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) long.push(entry.duration);
    });
    observer.observe({ type: "longtask" });
    await ai.chat.completions.create({ messages, max_tokens: 64, ignore_eos: true });
    await new Promise((r) => setTimeout(r, 200));
    observer.disconnect();
    return long;
  }, MESSAGES);
  assert.ok(long.every((ms) => ms <= 100), `long tasks: ${long}`);
});

test("bad requests reject with stable codes", async () => {
  const codes = await inPage(async (messages) => {
    const code = (p) => p.then(() => "resolved", (e) => e.code);
    const create = (r) => code(ai.chat.completions.create(r));
    return {
      unknownField: await create({ messages, temprature: 0 }),
      badRole: await create({ messages: [{ role: "robot", content: "hi" }] }),
      badRange: await create({ messages, temperature: 7 }),
      tooLong: await create({ messages, max_tokens: 9000 }),
      hugePrompt: await create({ messages: [{ role: "user", content: "data ".repeat(9000) }] }),
      badCount: await code(ai.countTokens([{ role: "robot", content: "hi" }])),
      badOptions: await code(tandem.Tandem.create({ local: { modelUrl: MODEL_URL }, colour: 1 })),
    };
  }, MESSAGES);
  assert.deepEqual(codes, {
    unknownField: "invalid_request",
    badRole: "invalid_request",
    badRange: "invalid_request",
    tooLong: "context_length_exceeded",
    hugePrompt: "context_length_exceeded",
    badCount: "invalid_request",
    badOptions: "invalid_request",
  });
});

test("a second create() loads from the cache with no network", async () => {
  let modelRequests = 0;
  await browser.page.route("**/models/**", (route) => {
    modelRequests++;
    return route.abort();
  });
  try {
    const r = await inPage(async ({ sha256, messages }) => {
      const phases = new Set();
      const second = await tandem.Tandem.create({
        local: { modelUrl: MODEL_URL, sha256 },
        onProgress: (p) => phases.add(p.phase),
      });
      const reply = await second.chat.completions.create({ messages, max_tokens: 4, temperature: 0 });
      second.unload();
      return { model: second.model, phases: [...phases], text: reply.choices[0].message.content };
    }, { sha256: SHA256, messages: MESSAGES });
    assert.equal(r.error, undefined, JSON.stringify(r.error));
    assert.equal(r.model.fromCache, true);
    assert.deepEqual(r.phases, ["load"]);
    assert.ok(GREEDY_TEXT.startsWith(r.text) && r.text.length > 0, r.text);
    assert.equal(modelRequests, 0);
  } finally {
    await browser.page.unroute("**/models/**");
  }
});

test("a damaged cached copy is never used: it is downloaded again and replaced", async () => {
  const r = await inPage(async (sha256) => {
    // One bit flipped near the end of the stored file, as a failing disk would.
    const cache = await caches.open("tandem-models");
    const url = new URL(MODEL_URL, location.href).href;
    const bytes = new Uint8Array(await (await cache.match(url)).arrayBuffer());
    bytes[bytes.length - 100] ^= 1;
    await cache.put(url, new Response(bytes));
    const phases = new Set();
    const again = await tandem.Tandem.create({
      local: { modelUrl: MODEL_URL, sha256 },
      onProgress: (p) => phases.add(p.phase),
    });
    again.unload();
    const stored = new Uint8Array(await (await cache.match(url)).arrayBuffer());
    return { fromCache: again.model.fromCache, phases: [...phases].sort(), repaired: stored[stored.length - 100] !== bytes[bytes.length - 100] };
  }, SHA256);
  assert.equal(r.error, undefined, JSON.stringify(r.error));
  assert.deepEqual(r, { fromCache: false, phases: ["download", "load"], repaired: true });
});

test("load failures reject with model_download_failed, integrity_mismatch, model_invalid, aborted", async () => {
  const truncated = readFileSync(MODEL).subarray(0, 5_000_000);
  await browser.page.route("**/models/truncated.gguf", (route) =>
    route.fulfill({ status: 200, body: truncated, contentType: "application/octet-stream" }));
  try {
    const codes = await inPage(async () => {
      const code = (options) => tandem.Tandem.create(options).then(() => "resolved", (e) => e.code);
      const controller = new AbortController();
      const aborted = code({
        local: { modelUrl: MODEL_URL, cache: false },
        signal: controller.signal,
        onProgress: (p) => p.loaded > 1e6 && controller.abort(),
      });
      return {
        missing: await code({ local: { modelUrl: "/models/missing.gguf" } }),
        wrongSha: await code({ local: { modelUrl: MODEL_URL, sha256: "0".repeat(64) } }),
        truncated: await code({ local: { modelUrl: "/models/truncated.gguf", cache: false } }),
        aborted: await aborted,
      };
    });
    assert.deepEqual(codes, {
      missing: "model_download_failed",
      wrongSha: "integrity_mismatch",
      truncated: "model_invalid",
      aborted: "aborted",
    });
  } finally {
    await browser.page.unroute("**/models/truncated.gguf");
  }
});

test("a worker that dies or never loads rejects with worker_crashed, and the next create() starts a new one", async () => {
  // The page is cross-origin isolated: the worker script needs the same policy.
  const headers = { "Cross-Origin-Embedder-Policy": "require-corp" };
  await browser.page.route("**/tandem_worker.js", (route) =>
    route.fulfill({ contentType: "text/javascript", headers, body: "throw new Error('worker died');" }));
  const crashed = await inPage(() => tandem.Tandem.create({ local: { modelUrl: MODEL_URL } }));
  await browser.page.unroute("**/tandem_worker.js");
  assert.equal(crashed.error?.code, "worker_crashed", JSON.stringify(crashed));
  assert.match(crashed.error.message, /worker died/);
  await browser.page.route("**/tandem_worker.js", (route) => route.fulfill({ status: 404, body: "" }));
  const missing = await inPage(() => tandem.Tandem.create({ local: { modelUrl: MODEL_URL } }));
  await browser.page.unroute("**/tandem_worker.js");
  assert.equal(missing.error?.code, "worker_crashed", JSON.stringify(missing));
  assert.match(missing.error.message, /script did not load/);
  const fine = await inPage(async () => {
    const again = await tandem.Tandem.create({ local: { modelUrl: MODEL_URL } });
    again.unload();
    return again.contextWindow;
  });
  assert.equal(fine, 8192);
});

test("cached() lists the model and evict() removes it; unload() ends the instance", async () => {
  const r = await inPage(async (messages) => {
    const before = await tandem.Tandem.cached();
    const evicted = await tandem.Tandem.evict(MODEL_URL);
    const afterEvict = await tandem.Tandem.cached();
    ai.unload();
    const afterUnload = await ai.chat.completions.create({ messages }).catch((e) => e.code);
    return { before, evicted, afterEvict, afterUnload };
  }, MESSAGES);
  assert.equal(r.before.length, 1);
  assert.equal(r.before[0].sha256, SHA256);
  assert.ok(r.before[0].url.endsWith("/models/SmolLM2-135M-Instruct.Q4_1.gguf"));
  assert.equal(r.evicted, true);
  assert.deepEqual(r.afterEvict, []);
  assert.equal(r.afterUnload, "invalid_request");
});

test("no uncaught errors in the page", () => {
  assert.deepEqual(browser.errors, []);
});
