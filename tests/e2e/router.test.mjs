// The router and the handoff end to end: the page (headless Chromium, real model in
// the worker) and a real tandem-server on loopback, running the same model natively.
// Quick prompts stay local, heavy ones stream from the server, a stopped server means
// a local fallback, strict privacy keeps personal data local, a doubtful local answer
// is escalated, and aborts work on both routes. Each test stands alone: the shared
// server keeps running, and the tests of a stopped server use a Tandem of their own
// whose server is stopped.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { HEAVY, openPage, startTandemServer } from "./harness.mjs";

const PAGE_PORT = 8795;
const SERVER_PORT = 8796;
const STOPPED_SERVER_PORT = 8802;
const TOKEN = "e2e-secret-token";
const QUICK = "Say hello to a new user in one friendly sentence.";

let browser, inPage, tandemServer;

before(async () => {
  browser = await openPage(PAGE_PORT);
  inPage = browser.inPage;
  tandemServer = await startTandemServer(SERVER_PORT, browser.origin, TOKEN);
  const r = await inPage(
    async ([baseUrl, token]) => {
      window.ai = await tandem.Tandem.create({
        local: { modelUrl: MODEL_URL },
        remote: { baseUrl, token },
      });
      window.routes = [];
      ai.addEventListener("route", (e) => routes.push(e.detail));
      return ai.model;
    },
    [tandemServer.baseUrl, TOKEN],
  );
  assert.equal(r.error, undefined, JSON.stringify(r.error));
});

after(async () => {
  await browser?.close();
  tandemServer?.kill();
});

let stoppedServerTandem;

/** The name of a page-global Tandem whose server ran when it was created and has
 * stopped since (made once, by whichever test needs it first). */
function withStoppedServer() {
  stoppedServerTandem ??= (async () => {
    const server = await startTandemServer(STOPPED_SERVER_PORT, browser.origin);
    const r = await inPage(async (baseUrl) => {
      window.aiStopped = await tandem.Tandem.create({
        local: { modelUrl: MODEL_URL },
        remote: { baseUrl },
      });
      aiStopped.addEventListener("route", (e) => routes.push(e.detail));
      return aiStopped.model;
    }, server.baseUrl);
    assert.equal(r.error, undefined, JSON.stringify(r.error));
    server.kill();
    await new Promise((r) => setTimeout(r, 200));
    return "aiStopped";
  })();
  return stoppedServerTandem;
}

/** Stream `request` in the page on the Tandem named `which`: its text, last chunk and
 * the route events seen before the first chunk. */
const streamed = (request, which = "ai") =>
  inPage(async ([request, which]) => {
    routes.length = 0;
    const stream = await window[which].chat.completions.create({ ...request, stream: true });
    let text = "";
    let last;
    let routesAtFirstChunk;
    for await (const chunk of stream) {
      routesAtFirstChunk ??= routes.length;
      text += chunk.choices[0]?.delta.content ?? "";
      last = chunk;
    }
    return { text, last, routes: [...routes], routesAtFirstChunk };
  }, [request, which]);

const user = (content) => [{ role: "user", content }];

/** Stream a long reply to `request` on the Tandem named `which` and abort it at its
 * third chunk: the chunks seen and the error's code. */
const abortAfterThreeChunks = (request, which = "ai") =>
  inPage(async ([request, which]) => {
    const controller = new AbortController();
    const stream = await window[which].chat.completions.create({
      ...request, max_tokens: 200, ignore_eos: true, stream: true, signal: controller.signal,
    });
    let chunks = 0;
    let error;
    try {
      for await (const chunk of stream) {
        if (++chunks === 3) controller.abort();
      }
    } catch (e) {
      error = e.code;
    }
    return { chunks, error };
  }, [request, which]);

test("a quick prompt is answered locally, with the reason and scores", async () => {
  const r = await streamed({ messages: user(QUICK), max_tokens: 24, temperature: 0 });
  assert.equal(r.error, undefined, JSON.stringify(r.error));
  assert.equal(r.last.tandem.route, "local", r.last.tandem.reason);
  assert.ok(r.last.tandem.reason.length > 5);
  assert.ok(r.last.tandem.scores.difficulty < 0.5, JSON.stringify(r.last.tandem.scores));
  assert.ok(r.text.length > 0);
  assert.equal(r.routesAtFirstChunk, 1, "the route event comes before the first chunk");
  assert.equal(r.routes[0].target, "local");
});

test("a heavy prompt streams from tandem-server", async () => {
  const r = await streamed({ messages: user(HEAVY), max_tokens: 16, temperature: 0 });
  assert.equal(r.error, undefined, JSON.stringify(r.error));
  assert.equal(r.last.tandem.route, "remote", r.last.tandem.reason);
  assert.match(r.last.tandem.reason, /heavy/i);
  assert.equal(r.routes[0].target, "remote");
  assert.equal(r.last.usage.completion_tokens, 16);
  assert.ok(r.last.tandem.time_to_first_token_ms > 0);
  assert.ok(r.text.length > 0);
  assert.equal(r.last.tandem.fallback, undefined);
});

test("a non-streamed remote reply is one ChatCompletion with usage and the route", async () => {
  const r = await inPage(
    (messages) => ai.chat.completions.create({ messages, max_tokens: 8, route: "remote-only" }),
    user(QUICK),
  );
  assert.equal(r.error, undefined, JSON.stringify(r.error));
  assert.equal(r.object, "chat.completion");
  assert.equal(r.tandem.route, "remote");
  const { completion_tokens: made } = r.usage;
  assert.ok(made > 0 && made <= 8, `${made} tokens`);
  if (r.choices[0].finish_reason === "length") assert.equal(made, 8);
  assert.ok(r.choices[0].message.content.length > 0);
});

test("route() explains a decision without running it", async () => {
  const r = await inPage((messages) => ai.route({ messages }), user(HEAVY));
  assert.equal(r.target, "remote");
  assert.ok(r.scores.difficulty > 0.5);
  assert.ok(r.scores.expected_tokens > 200, JSON.stringify(r.scores));
});

test("strict privacy keeps a prompt with an e-mail address local while the server is up", async () => {
  const heavyWithEmail = `${HEAVY} Send it to jane.doe@example.com when done.`;
  const open = await inPage((messages) => ai.route({ messages }), user(heavyWithEmail));
  assert.equal(open.target, "remote", "without strict privacy it would go to the server");
  const r = await streamed({
    messages: user(heavyWithEmail), max_tokens: 8, privacy: "strict",
  });
  assert.equal(r.last.tandem.route, "local");
  assert.match(r.last.tandem.reason, /e-?mail|private|sensitive/i);
  assert.deepEqual(r.last.tandem.scores.sensitive, ["email"]);
});

test("escalate: a doubtful local answer is replaced by the server's", async () => {
  const r = await inPage(
    (messages) =>
      ai.chat.completions.create({
        messages, max_tokens: 32, temperature: 0, route: "prefer-local", escalate: true,
      }),
    // The small model guesses here: its 10th-percentile token probability is ~0.11.
    user("Translate to Finnish: 'The committee postponed the decision.'"),
  );
  assert.equal(r.error, undefined, JSON.stringify(r.error));
  assert.equal(r.tandem.route, "local→remote", r.tandem.reason);
  assert.equal(r.tandem.escalated, true);
  assert.match(r.tandem.reason, /escalated/);
  assert.equal(r.choices[0].logprobs, null, "logprobs were not asked for");
});

test("escalate: a confident local answer stays local", async () => {
  const r = await inPage(
    (messages) =>
      ai.chat.completions.create({
        messages, max_tokens: 32, temperature: 0, route: "prefer-local", escalate: true,
      }),
    [
      { role: "system", content: "Answer in one short sentence." },
      { role: "user", content: "What is the capital of France?" },
    ],
  );
  assert.equal(r.error, undefined, JSON.stringify(r.error));
  assert.equal(r.tandem.route, "local", r.tandem.reason);
  assert.equal(r.tandem.escalated, false);
});

test("aborting works on the remote route", async () => {
  const r = await abortAfterThreeChunks({ messages: user(QUICK), route: "remote-only" });
  assert.deepEqual(r, { chunks: 3, error: "aborted" }, "no chunk after the abort");
});

test("a wrong token is unauthorized; getToken is asked again after a 401", async () => {
  const r = await inPage(
    async ([baseUrl, token]) => {
      const wrong = await tandem.Tandem.create({ remote: { baseUrl, token: "nope" } });
      let code;
      try {
        await wrong.chat.completions.create({ messages: [{ role: "user", content: "hi" }] });
      } catch (e) {
        code = e.code;
      }
      const asked = [];
      const rotating = await tandem.Tandem.create({
        remote: {
          baseUrl,
          getToken: async () => (asked.push(1), asked.length === 1 ? "expired" : token),
        },
      });
      const reply = await rotating.chat.completions.create({
        messages: [{ role: "user", content: "hi" }], max_tokens: 2,
      });
      return { code, asked: asked.length, route: reply.tandem.route };
    },
    [tandemServer.baseUrl, TOKEN],
  );
  assert.deepEqual(r, { code: "unauthorized", asked: 2, route: "remote" });
});

test("a model that fails to load leaves create() to the server, with a warning", async () => {
  const r = await inPage(async (baseUrl) => {
    const warnings = [];
    const ai = await tandem.Tandem.create({
      local: { modelUrl: "/models/missing.gguf" },
      remote: { baseUrl, token: "e2e-secret-token" },
      onWarning: (w) => warnings.push(w.code),
    });
    const reply = await ai.chat.completions.create({
      messages: [{ role: "user", content: "Say hi." }], max_tokens: 4,
    });
    return { warnings, model: ai.model, route: reply.tandem.route, reason: reply.tandem.reason };
  }, tandemServer.baseUrl);
  assert.deepEqual(r.warnings, ["local_unavailable"], JSON.stringify(r));
  assert.equal(r.model, null);
  assert.equal(r.route, "remote", r.reason);
});

test("a rate-limited server (429) falls back to the local model before the first chunk", async () => {
  const limited = await startTandemServer(8801, browser.origin, undefined,
    "[limits]\nrequests_per_minute = 1\n");
  try {
    const r = await inPage(async (baseUrl) => {
      const ai = await tandem.Tandem.create({ local: { modelUrl: MODEL_URL }, remote: { baseUrl } });
      const ask = () => ai.chat.completions.create({
        messages: [{ role: "user", content: "Say hi." }], max_tokens: 4, route: "prefer-remote",
      });
      const first = await ask();
      const second = await ask();
      let error;
      try {
        await ai.chat.completions.create({
          messages: [{ role: "user", content: "Say hi." }], max_tokens: 4, route: "remote-only",
        });
      } catch (e) {
        error = { code: e.code, retryAfter: e.retryAfter };
      }
      return { first: first.tandem, second: second.tandem, error };
    }, limited.baseUrl);
    assert.equal(r.first.route, "remote", JSON.stringify(r.first));
    assert.equal(r.second.route, "local", JSON.stringify(r.second));
    assert.match(r.second.fallback, /429|rate/i);
    assert.equal(r.error.code, "rate_limited");
    assert.ok(r.error.retryAfter > 0, JSON.stringify(r.error));
  } finally {
    limited.kill();
  }
});

test("with the server stopped, a heavy prompt falls back to the local model and says why", async () => {
  const which = await withStoppedServer();
  const r = await streamed({ messages: user(HEAVY), max_tokens: 8, temperature: 0 }, which);
  assert.equal(r.error, undefined, JSON.stringify(r.error));
  assert.equal(r.last.tandem.route, "local");
  assert.match(r.last.tandem.fallback, /reach|unavailable|connect/i);
  assert.deepEqual(r.routes.map((d) => d.target), ["remote", "local"]);
  assert.ok(r.routes[1].fallback);
  // The next heavy request knows the server is down and goes local at once.
  const next = await inPage(([messages, which]) => window[which].route({ messages }), [user(HEAVY), which]);
  assert.equal(next.target, "local");
  // remote-only cannot fall back: the error says the server is unavailable.
  const only = await inPage(
    ([messages, which]) => window[which].chat.completions.create({ messages, route: "remote-only" }),
    [user(QUICK), which],
  );
  assert.equal(only.error?.code, "remote_unavailable", JSON.stringify(only));
});

test("aborting works on the local route after a fallback", async () => {
  const r = await abortAfterThreeChunks({ messages: user(HEAVY) }, await withStoppedServer());
  assert.deepEqual(r, { chunks: 3, error: "aborted" }, "no chunk after the abort");
});

test("no uncaught errors in the page", () => {
  assert.deepEqual(browser.errors, []);
});
