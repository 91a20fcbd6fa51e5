// tandem/prompt-api in headless Chromium: install() over the browser's own
// LanguageModel (which answers `unavailable` here), sessions on the real model in the
// worker (SmolLM2, greedy with samplingMode "most-predictable"), a heavy prompt handed
// to a real tandem-server, and the explainer's errors as DOMExceptions.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { HEAVY, openPage, startTandemServer } from "./harness.mjs";

const PAGE_PORT = 8815;
const SERVER_PORT = 8816;

let browser, inPage, server;

before(async () => {
  browser = await openPage(PAGE_PORT);
  inPage = browser.inPage;
  server = await startTandemServer(SERVER_PORT, browser.origin);
});

after(async () => {
  await browser?.close();
  server?.kill();
});

/** In the page: `fn(arg)` on a fresh session (greedy, answering in one sentence). */
const withSession = (fn, arg) =>
  inPage(
    async ([source, arg]) => {
      const session = await LanguageModel.create({
        samplingMode: "most-predictable",
        initialPrompts: [{ role: "system", content: "Answer in one short sentence." }],
      });
      try {
        return await (0, eval)(source)(session, arg);
      } finally {
        session.destroy();
      }
    },
    [fn.toString(), arg],
  );

test("install() replaces the browser's unavailable LanguageModel; create() reports download progress from 0 to 1", async () => {
  const r = await inPage(async (baseUrl) => {
    const native = globalThis.LanguageModel;
    const nativeAnswer = native ? await native.availability() : "none";
    const api = await import("/pkg/prompt-api.js");
    const installed = await api.install({ local: { modelUrl: MODEL_URL }, remote: { baseUrl } });
    const before = await LanguageModel.availability();
    const events = [];
    const session = await LanguageModel.create({
      monitor: (m) => m.addEventListener("downloadprogress", (e) => events.push([e.loaded, e.total])),
    });
    const afterwards = await LanguageModel.availability();
    const image = await LanguageModel.availability({ expectedInputs: [{ type: "image" }] });
    const refused = await LanguageModel.create({ expectedInputs: [{ type: "audio" }] }).catch((e) => e.name);
    const tools = await LanguageModel.create({ tools: [] }).catch((e) => e.name);
    const badTag = await LanguageModel.availability({
      expectedInputs: [{ type: "text", languages: ["not a tag"] }],
    }).catch((e) => e.name);
    const { contextWindow, contextUsage, samplingMode } = session;
    session.destroy();
    return {
      nativeAnswer,
      replaced: installed === api.LanguageModel && globalThis.LanguageModel === api.LanguageModel,
      before, afterwards, image, refused, tools, badTag, events, contextWindow, contextUsage, samplingMode,
    };
  }, server.baseUrl);
  assert.equal(r.error, undefined, JSON.stringify(r.error));
  assert.ok(["unavailable", "none"].includes(r.nativeAnswer), r.nativeAnswer);
  assert.ok(r.replaced);
  assert.deepEqual([r.before, r.afterwards, r.image], ["downloadable", "available", "unavailable"]);
  assert.deepEqual([r.refused, r.tools], ["NotSupportedError", "NotSupportedError"]);
  assert.equal(r.badTag, "RangeError");
  assert.deepEqual(r.events[0], [0, 1]);
  assert.deepEqual(r.events.at(-1), [1, 1]);
  assert.ok(r.events.length > 2, `progress during the download: ${JSON.stringify(r.events)}`);
  assert.ok(r.events.every(([loaded], i) => i === 0 || loaded > r.events[i - 1][0]));
  assert.equal(r.contextWindow, 8192, "SmolLM2's window");
  assert.deepEqual([r.contextUsage, r.samplingMode], [0, "balanced"]);
});

test("prompt() answers from the local model; a clone's promptStreaming() streams the same answer in new pieces", async () => {
  const r = await withSession(async (session) => {
    const ai = await (await import("/pkg/prompt-api.js")).engine();
    const routes = [];
    ai.addEventListener("route", (e) => routes.push(e.detail.target));
    const initialUsage = session.contextUsage;
    const twin = await session.clone();
    const question = "What is the capital of France?";
    const answer = await session.prompt(question);
    const pieces = [];
    for await (const piece of twin.promptStreaming(question)) pieces.push(piece);
    const measured = await session.measureContextUsage(question);
    return { initialUsage, answer, pieces, usage: session.contextUsage, twin: twin.contextUsage, measured, routes };
  });
  assert.equal(r.error, undefined, JSON.stringify(r.error));
  assert.match(r.answer, /Paris/);
  assert.ok(r.pieces.length > 2, JSON.stringify(r.pieces));
  assert.equal(r.pieces.join(""), r.answer);
  assert.deepEqual(r.routes, ["local", "local"]);
  assert.ok(r.initialUsage > 0, "the system prompt counts");
  assert.ok(r.usage > r.initialUsage + r.measured / 2, JSON.stringify(r));
  assert.equal(r.twin, r.usage, "the clone holds the same turns");
  assert.ok(r.measured > 5 && r.measured < 40, `${r.measured}`);
});

test("append() adds to the history without an answer; the next prompt sees it", async () => {
  const r = await withSession(async (session) => {
    const before = session.contextUsage;
    await session.append("My name is Ada Lovelace.");
    const appended = session.contextUsage;
    const answer = await session.prompt("What is my name?");
    return { before, appended, answer };
  });
  assert.equal(r.error, undefined, JSON.stringify(r.error));
  assert.ok(r.appended > r.before, JSON.stringify(r));
  assert.match(r.answer, /Ada/);
});

test("responseConstraint: a JSON schema is enforced; a RegExp is checked (SyntaxError when unmet); omitResponseConstraintInput", async () => {
  const r = await withSession(async (session) => {
    const schema = {
      type: "object",
      properties: { city: { type: "string", maxLength: 20 }, rating: { enum: [0, 1, 2, 3, 4, 5] } },
      required: ["city", "rating"],
      additionalProperties: false,
    };
    const json = await session.prompt("Rate Paris as a city to visit, from 0 to 5.", {
      responseConstraint: schema,
    });
    const matched = await session.prompt("What is the capital of France?", { responseConstraint: /.*Paris.*/ });
    const name = (p) => p.then((v) => `resolved ${v}`, (e) => e.name);
    const usage = session.contextUsage;
    const unmet = await name(session.prompt("Say hello.", { responseConstraint: /^\d{4}-\d{2}-\d{2}$/ }));
    const plain = await session.measureContextUsage("Rate it.");
    const guided = await session.measureContextUsage("Rate it.", { responseConstraint: schema });
    const omitted = await session.measureContextUsage("Rate it.", {
      responseConstraint: schema, omitResponseConstraintInput: true,
    });
    return {
      json, matched, unmet, plain, guided, omitted,
      kept: session.contextUsage === usage,
      notAConstraint: await name(session.prompt("Hi", { responseConstraint: 42 })),
      omitAlone: await name(session.prompt("Hi", { omitResponseConstraintInput: true })),
      unsupported: await name(session.prompt("Hi", { responseConstraint: { type: "string", format: "email" } })),
    };
  });
  assert.equal(r.error, undefined, JSON.stringify(r.error));
  const parsed = JSON.parse(r.json);
  assert.deepEqual(Object.keys(parsed).sort(), ["city", "rating"]);
  assert.ok(Number.isInteger(parsed.rating) && parsed.rating >= 0 && parsed.rating <= 5, r.json);
  assert.match(r.matched, /Paris/);
  assert.equal(r.matched, r.matched.trim());
  assert.equal(r.unmet, "SyntaxError");
  assert.ok(r.kept, "an unmet constraint leaves the history as it was");
  assert.ok(r.guided > r.plain + 20, JSON.stringify(r));
  assert.equal(r.omitted, r.plain);
  assert.deepEqual([r.notAConstraint, r.omitAlone, r.unsupported], ["TypeError", "TypeError", "NotSupportedError"]);
});

test("errors: misplaced system messages, empty prompts, images, prefixes; abort mid-stream and destroy() are AbortErrors that keep the history", async () => {
  const r = await withSession(async (session) => {
    const name = (p) => p.then((v) => `resolved ${v}`, (e) => e.name);
    const usage = session.contextUsage;
    const controller = new AbortController();
    const reader = session.promptStreaming("Tell me a long story about a dragon.", { signal: controller.signal }).getReader();
    await reader.read();
    controller.abort();
    const aborted = await reader.read().then(() => "read", (e) => e.name);
    const reason = new Error("mine");
    const early = await session.prompt("Hi", { signal: AbortSignal.abort(reason) }).catch((e) => e === reason);
    const kept = session.contextUsage === usage;
    const errors = {
      system: await name(session.prompt([{ role: "system", content: "Be brief." }])),
      empty: await name(session.prompt([])),
      image: await name(session.prompt([{ role: "user", content: [{ type: "image", value: new Blob() }] }])),
      prefix: await name(session.prompt([{ role: "user", content: "Hi" }, { role: "assistant", content: "Well", prefix: true }])),
      misplacedPrefix: await name(session.prompt([{ role: "assistant", content: "Well", prefix: true }, { role: "user", content: "Hi" }])),
    };
    const running = name(session.prompt("Tell me a long story about a knight."));
    await new Promise((r) => setTimeout(r, 300));
    session.destroy();
    return {
      aborted, early, kept, errors,
      destroyed: await running,
      afterDestroy: await name(session.prompt("Hi")),
      cloneAfterDestroy: await name(session.clone()),
    };
  });
  assert.equal(r.error, undefined, JSON.stringify(r.error));
  assert.equal(r.aborted, "AbortError");
  assert.equal(r.early, true, "an aborted signal's own reason");
  assert.ok(r.kept, "an aborted prompt leaves the history as it was");
  assert.deepEqual(r.errors, {
    system: "TypeError",
    empty: "SyntaxError",
    image: "NotSupportedError",
    prefix: "NotSupportedError",
    misplacedPrefix: "SyntaxError",
  });
  assert.deepEqual([r.destroyed, r.afterDestroy, r.cloneAfterDestroy], ["AbortError", "AbortError", "AbortError"]);
});

test("a heavy prompt streams from tandem-server; cancelling the stream stops it", async () => {
  const r = await withSession(async (session, heavy) => {
    const ai = await (await import("/pkg/prompt-api.js")).engine();
    const routes = [];
    const listen = (e) => routes.push(e.detail.target);
    ai.addEventListener("route", listen);
    const before = session.contextUsage;
    const reader = session.promptStreaming(heavy).getReader();
    const first = await reader.read();
    await reader.cancel();
    ai.removeEventListener("route", listen);
    return { routes, first: first.value, kept: session.contextUsage === before };
  }, HEAVY);
  assert.equal(r.error, undefined, JSON.stringify(r.error));
  assert.deepEqual(r.routes, ["remote"]);
  assert.ok(r.first.length > 0);
  assert.ok(r.kept, "a cancelled answer does not join the history");
});

test("a new install() finds the model cached; contextoverflow: the oldest turns go and the initial prompts stay; a prompt that cannot fit is a QuotaExceededError", async () => {
  const r = await inPage(async (baseUrl) => {
    const { install } = await import("/pkg/prompt-api.js");
    await install({ local: { modelUrl: MODEL_URL }, remote: { baseUrl }, contextWindow: 120 });
    const cached = await LanguageModel.availability();
    const session = await LanguageModel.create({
      initialPrompts: [{ role: "system", content: "You keep notes." }],
    });
    const initial = session.contextUsage;
    let overflows = 0;
    session.addEventListener("contextoverflow", () => overflows++);
    const usages = [];
    for (const n of [1, 2, 3, 4, 5, 6]) {
      await session.append(`Note ${n}: the meeting about the quarterly budget moved to room ${n}0${n}.`);
      usages.push(session.contextUsage);
    }
    const before = session.contextUsage;
    const quota = await session.prompt("word ".repeat(200)).catch((e) => ({
      name: e.name, requested: e.requested, quota: e.quota,
    }));
    const tooBig = await LanguageModel.create({
      initialPrompts: [{ role: "system", content: "word ".repeat(200) }],
    }).catch((e) => e.name);
    session.destroy();
    return { cached, initial, usages, overflows, quota, kept: session.contextUsage === before, tooBig, window: session.contextWindow };
  }, server.baseUrl);
  assert.equal(r.error, undefined, JSON.stringify(r.error));
  assert.equal(r.cached, "available", "a new install finds the model in the cache");
  assert.equal(r.window, 120);
  assert.ok(r.usages.every((u) => u <= 120), JSON.stringify(r));
  assert.ok(r.overflows >= 1, JSON.stringify(r));
  assert.ok(r.usages.at(-1) > r.initial, "the latest note stays");
  assert.equal(r.quota.name, "QuotaExceededError");
  assert.ok(r.quota.requested > 120 && r.quota.quota === 120, JSON.stringify(r.quota));
  assert.ok(r.kept, "nothing is dropped for a prompt that cannot fit");
  assert.equal(r.tooBig, "QuotaExceededError");
});

test("with a server only: available at once, no window, usage estimated by the router, answers from tandem-server", async () => {
  const r = await inPage(async (baseUrl) => {
    const { install, engine } = await import("/pkg/prompt-api.js");
    await install({ remote: { baseUrl } });
    const availability = await LanguageModel.availability();
    const session = await LanguageModel.create({
      samplingMode: "most-predictable",
      initialPrompts: [{ role: "system", content: "Answer in one short sentence." }],
    });
    const routes = [];
    (await engine()).addEventListener("route", (e) => routes.push(e.detail.target));
    const initial = session.contextUsage;
    const answer = await session.prompt("What is the capital of France?");
    return { availability, window: session.contextWindow, initial, usage: session.contextUsage, answer, routes };
  }, server.baseUrl);
  assert.equal(r.error, undefined, JSON.stringify(r.error));
  assert.equal(r.availability, "available");
  assert.equal(r.window, Infinity);
  assert.ok(r.initial > 0 && r.usage > r.initial, JSON.stringify(r));
  assert.match(r.answer, /Paris/);
  assert.deepEqual(r.routes, ["remote"]);
});

test("no uncaught errors in the page", () => {
  assert.deepEqual(browser.errors, []);
});
