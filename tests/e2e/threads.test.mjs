// The multi-threaded build in headless Chromium: chosen when a cross-origin isolated
// page asks for threads, the same answers as one thread, and the fallback to one
// thread with a warning when the page is not isolated.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { answerOnThreads as answer, openPage } from "./harness.mjs";

const PORT = 8802;
const PLAIN_PORT = 8803;
const REQUEST = {
  messages: [{ role: "user", content: "Tell me a story about a dragon who learns to fly." }],
  max_tokens: 96,
  temperature: 0,
  ignore_eos: true,
};

let isolated, plain;
/** Console warnings and errors on the isolated page, its workers' included. */
const consoleNoise = [];

before(async () => {
  isolated = await openPage(PORT);
  isolated.page.on("console", (m) => {
    if (["warning", "error"].includes(m.type())) consoleNoise.push(m.text());
  });
  plain = await openPage(PLAIN_PORT, "?isolate=0");
});

after(async () => {
  await isolated?.close();
  await plain?.close();
});

test("on an isolated page, 2 threads run the model, quietly, and answer as 1 thread does, bit for bit", async () => {
  const one = await isolated.inPage(answer, { threads: 1, request: REQUEST });
  const two = await isolated.inPage(answer, { threads: 2, request: REQUEST });
  assert.equal(one.error, undefined, JSON.stringify(one.error));
  assert.equal(two.error, undefined, JSON.stringify(two.error));
  assert.equal(two.isolated, true);
  assert.equal(one.model.threads, 1);
  assert.equal(two.model.threads, 2);
  assert.deepEqual(two.warnings, []);
  assert.equal(two.tokens, REQUEST.max_tokens);
  assert.ok(two.text.length > 100, two.text);
  assert.equal(two.text, one.text);
  assert.deepEqual(isolated.errors, []);
  assert.deepEqual(consoleNoise, [], "the pool's threads start without console warnings");
});

test("a streamed answer on 2 threads can be stopped, and the worker goes on", async () => {
  const r = await isolated.inPage(async (request) => {
    const ai = await tandem.Tandem.create({ local: { modelUrl: MODEL_URL, threads: 2 } });
    const controller = new AbortController();
    const chunks = await ai.chat.completions.create({
      ...request, stream: true, max_tokens: 400, signal: controller.signal,
    });
    let seen = 0, stopped;
    try {
      for await (const _ of chunks) if (++seen === 5) controller.abort();
    } catch (e) {
      stopped = e.code;
    }
    const next = await ai.chat.completions.create({ ...request, max_tokens: 8 });
    ai.unload();
    return { seen, stopped, next: next.usage.completion_tokens };
  }, REQUEST);
  assert.equal(r.error, undefined, JSON.stringify(r.error));
  assert.equal(r.stopped, "aborted");
  assert.equal(r.seen, 5, "no chunk after the abort");
  assert.equal(r.next, 8);
});

test("on a page that is not isolated, threads fall back to one with a warning", async () => {
  const r = await plain.inPage(answer, { threads: 2, request: { ...REQUEST, max_tokens: 8 } });
  assert.equal(r.error, undefined, JSON.stringify(r.error));
  assert.equal(r.isolated, false);
  assert.equal(r.model.threads, 1);
  assert.equal(r.warnings.length, 1, JSON.stringify(r.warnings));
  assert.equal(r.warnings[0].code, "threads_unavailable");
  assert.match(r.warnings[0].message, /not cross-origin isolated.*Cross-Origin-Embedder-Policy/);
  assert.equal(r.tokens, 8);
});

test("no more threads start than the device has cores", async () => {
  const r = await isolated.inPage(answer, { threads: 16, request: { ...REQUEST, max_tokens: 8 } });
  assert.equal(r.error, undefined, JSON.stringify(r.error));
  assert.equal(r.model.threads, Math.min(16, r.cores));
  if (r.cores < 16) {
    assert.equal(r.warnings.length, 1, JSON.stringify(r.warnings));
    assert.equal(r.warnings[0].code, "threads_unavailable");
    assert.match(r.warnings[0].message, new RegExp(`this device has ${r.cores} cores; the model runs on ${r.model.threads}`));
  }
  assert.equal(r.tokens, 8);
});

test("threads must be a whole number from 1 to 16", async () => {
  for (const threads of [0, 1.5, 17, "2"]) {
    const r = await isolated.inPage(
      (threads) => tandem.Tandem.create({ local: { modelUrl: MODEL_URL, threads } }),
      threads,
    );
    assert.equal(r.error?.code, "invalid_request", `threads: ${JSON.stringify(threads)}`);
    assert.match(r.error.message, /options\.local\.threads must be a whole number from 1 to 16/);
  }
});
