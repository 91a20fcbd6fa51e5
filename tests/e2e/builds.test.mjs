// Which build the worker runs in headless Chromium, whose engine has relaxed SIMD: the
// relaxed-SIMD builds, on one thread and on two; the plain ones when the relaxed build
// is not beside the worker script (as in a bundled app); all four answer alike,
// bit for bit, log-probabilities included; and a page compiles each build once.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../../scripts/browser.mjs";
import { answerOnThreads as answer, openPage } from "./harness.mjs";

const PORT = 8806;
const REQUEST = {
  messages: [{ role: "user", content: "Name three fruits and say why each is good." }],
  max_tokens: 48,
  temperature: 0,
  ignore_eos: true,
  logprobs: true,
  top_logprobs: 3,
};

let isolated;

before(async () => {
  isolated = await openPage(PORT);
});

after(async () => {
  await isolated?.close();
});

/** Answers on 1 and 2 threads while `build`'s requests are served by `serve`, in a
 * fresh page (a page keeps the builds its workers compiled). */
async function answersWith(build, serve) {
  await isolated.page.reload();
  await isolated.page.waitForFunction(() => window.ready);
  const context = isolated.page.context();
  const url = new RegExp(`/pkg/${build}\\.js$`);
  await context.route(url, serve);
  try {
    const one = await isolated.inPage(answer, { threads: 1, request: REQUEST });
    const two = await isolated.inPage(answer, { threads: 2, request: REQUEST });
    return { one, two };
  } finally {
    await context.unroute(url);
  }
}

test("the relaxed-SIMD builds run where the engine has them, and answer as the plain ones, bit for bit", async () => {
  const one = await isolated.inPage(answer, { threads: 1, request: REQUEST });
  const two = await isolated.inPage(answer, { threads: 2, request: REQUEST });
  for (const r of [one, two]) {
    assert.equal(r.error, undefined, JSON.stringify(r.error));
    assert.equal(r.model.relaxedSimd, true);
    assert.deepEqual(r.warnings, []);
  }
  assert.equal(two.model.threads, 2);
  assert.ok(one.text.length > 40, one.text);
  assert.equal(one.logprobs.content.length, REQUEST.max_tokens);

  // Without the single-threaded relaxed build beside the worker, the plain one runs,
  // quietly.
  const missing = await answersWith("tandem_relaxed", (route) => route.abort());
  assert.equal(missing.one.error, undefined, JSON.stringify(missing.one.error));
  assert.equal(missing.one.model.relaxedSimd, false);
  assert.deepEqual(missing.one.warnings, []);

  // The plain multi-threaded build (what an engine without relaxed SIMD runs), served
  // in place of the relaxed one.
  const plainThreads = readFileSync(join(ROOT, "pkg/tandem_threads.js"), "utf8");
  const swapped = await answersWith("tandem_threads_relaxed", (route) =>
    route.fulfill({ body: plainThreads, contentType: "text/javascript" }));
  assert.equal(swapped.two.error, undefined, JSON.stringify(swapped.two.error));
  assert.equal(swapped.two.model.relaxedSimd, false);
  assert.equal(swapped.two.model.threads, 2);

  for (const other of [two, missing.one, swapped.two]) {
    assert.equal(other.text, one.text);
    assert.deepEqual(other.logprobs, one.logprobs);
  }
  assert.deepEqual(isolated.errors, []);
});

test("a page compiles each build once: later workers start on the module the first compiled", async () => {
  await isolated.page.reload();
  await isolated.page.waitForFunction(() => window.ready);
  const fetched = [];
  const count = (request) => {
    if (request.url().endsWith("_bg.wasm")) fetched.push(new URL(request.url()).pathname);
  };
  isolated.page.context().on("request", count);
  try {
    const answers = [];
    for (const threads of [1, 1, 2, 2]) {
      answers.push(await isolated.inPage(answer, { threads, request: { ...REQUEST, max_tokens: 8 } }));
    }
    for (const r of answers) assert.equal(r.error, undefined, JSON.stringify(r.error));
    assert.deepEqual(answers.map((r) => r.model.threads), [1, 1, 2, 2]);
    assert.equal(answers[1].text, answers[0].text);
    assert.equal(answers[3].text, answers[0].text);
    // Besides the page's own build (fetched as the page loads), each of the workers'
    // two builds once.
    assert.deepEqual(fetched.filter((p) => p !== "/pkg/tandem_bg.wasm"),
      ["/pkg/tandem_relaxed_bg.wasm", "/pkg/tandem_threads_relaxed_bg.wasm"]);
  } finally {
    isolated.page.context().off("request", count);
  }
  assert.deepEqual(isolated.errors, []);
});
