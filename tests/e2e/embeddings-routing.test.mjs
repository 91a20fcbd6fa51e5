// Where embeddings run, in headless Chromium against a real tandem-server that runs
// the same encoder natively: local by default, the server when asked, when no local
// encoder is loaded or when the request names another model; strict privacy keeps
// texts on the device; a stopped server falls back to the local encoder; a Tandem
// with an encoder and no chat model embeds and refuses chat.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { openPage, startTandemServer } from "./harness.mjs";

const PAGE_PORT = 8820;
const SERVER_PORT = 8821;
const STOPPED_SERVER_PORT = 8822;
const FOLDER = "/models/all-MiniLM-L6-v2/";
const ENCODER_TOML = `
[backends.minilm]
kind = "encoder"
path = "models/all-MiniLM-L6-v2"

[[models]]
id = "all-MiniLM-L6-v2"
backends = ["minilm"]
`;

let browser, server;

before(async () => {
  browser = await openPage(PAGE_PORT);
  server = await startTandemServer(SERVER_PORT, browser.origin, undefined, ENCODER_TOML);
});

after(async () => {
  await browser?.close();
  server?.kill();
});

test("local by default, the server when asked or for another model, the same vectors on both", async () => {
  const r = await browser.inPage(
    async ([folder, baseUrl]) => {
      const ai = await tandem.Tandem.create({ local: { embeddings: { modelUrl: folder } }, remote: { baseUrl } });
      const routes = [];
      ai.addEventListener("route", (e) => routes.push(e.detail.target));
      const input = ["A kitten is napping on the couch.", "Où est la gare ?"];
      const local = await ai.embeddings.create({ input });
      const remote = await ai.embeddings.create({ input, route: "remote-only" });
      const preferred = await ai.embeddings.create({ input, route: "prefer-remote" });
      const other = await ai.embeddings
        .create({ input, model: "text-embedding-3-small" })
        .then((r) => r.tandem, (e) => ({ code: e.code, message: e.message }));
      const strict = await ai.embeddings.create({ input, route: "prefer-remote", privacy: "strict" });
      const refused = await ai.embeddings
        .create({ input, route: "remote-only", privacy: "strict" })
        .then(() => "resolved", (e) => e.code);
      // An index takes the server's vectors of the same model, and ranks on it.
      const index = ai.tasks.index();
      await index.add(["How do I reset my password?", "Where is the train station?"], { route: "remote-only" });
      const found = await ai.tasks.search(index, "I forgot my password");
      const chat = await ai.chat.completions
        .create({ messages: [{ role: "user", content: "hi" }], route: "local-only" })
        .then(() => "resolved", (e) => e.code);
      const info = { model: ai.model, encoder: ai.embeddings.model };
      ai.unload();
      const vectors = (answer) => answer.data.map((d) => d.embedding);
      return {
        local: { tandem: local.tandem, vectors: vectors(local) },
        remote: { tandem: remote.tandem, vectors: vectors(remote) },
        preferred: preferred.tandem.route,
        other,
        strict: strict.tandem,
        refused,
        found: { ids: found.results.map((x) => x.id), route: found.tandem.route },
        chat,
        info,
        routes,
      };
    },
    [FOLDER, server.baseUrl],
  );
  assert.equal(r.error, undefined, JSON.stringify(r.error));
  assert.equal(r.local.tandem.route, "local");
  assert.equal(r.local.tandem.reason, "embeddings run on the local encoder");
  assert.deepEqual([r.remote.tandem.route, r.remote.tandem.model], ["remote", "all-MiniLM-L6-v2"]);
  // The same encoder on both sides: the browser's and the server's vectors agree.
  r.local.vectors.forEach((v, i) => {
    const dot = v.reduce((sum, x, j) => sum + x * r.remote.vectors[i][j], 0);
    assert.ok(dot > 0.99999, `text ${i}: cosine ${dot}`);
  });
  assert.equal(r.preferred, "remote");
  // The server has no such model: it says so (a 4xx, passed on as invalid_request or
  // remote_error), having been routed there because the local encoder is another.
  assert.ok(["invalid_request", "remote_error"].includes(r.other.code), JSON.stringify(r.other));
  assert.match(r.other.message, /text-embedding-3-small/);
  assert.deepEqual([r.strict.route, r.strict.reason], ["local", "strict privacy: embedded on the device"]);
  assert.equal(r.refused, "no_route");
  assert.deepEqual(r.found, { ids: ["How do I reset my password?", "Where is the train station?"], route: "local" });
  assert.equal(r.chat, "no_route");
  assert.equal(r.info.model, null);
  assert.deepEqual(
    { model: r.info.encoder.model, dimensions: r.info.encoder.dimensions },
    { model: "all-MiniLM-L6-v2", dimensions: 384 },
  );
  assert.deepEqual(r.routes, ["local", "remote", "remote", "remote", "local", "remote", "local"]);
});

test("without a local encoder embeddings go to the server; a stopped server falls back to the local one", async () => {
  const stopped = await startTandemServer(STOPPED_SERVER_PORT, browser.origin, undefined, ENCODER_TOML);
  const r = await browser.inPage(
    async ([folder, baseUrl, stoppedUrl]) => {
      const remoteOnly = await tandem.Tandem.create({ local: { modelUrl: MODEL_URL }, remote: { baseUrl } });
      const routed = (await remoteOnly.embeddings.create({ input: "a cat" })).tandem;
      const count = (await remoteOnly.embeddings.create({ input: ["a", "b", "c"] })).data.length;
      remoteOnly.unload();
      window.aiFallback = await tandem.Tandem.create({
        local: { embeddings: { modelUrl: folder } },
        remote: { baseUrl: stoppedUrl, firstByteTimeoutMs: 2000 },
      });
      return { routed, count };
    },
    [FOLDER, server.baseUrl, `http://127.0.0.1:${STOPPED_SERVER_PORT}/v1`],
  );
  assert.equal(r.error, undefined, JSON.stringify(r.error));
  assert.equal(r.routed.route, "remote");
  assert.match(r.routed.reason, /no local encoder is loaded/);
  assert.equal(r.count, 3);
  stopped.kill();
  await new Promise((resolve) => setTimeout(resolve, 300));
  const f = await browser.inPage(async () => {
    const answer = await aiFallback.embeddings.create({ input: "a cat", route: "prefer-remote" });
    const strictOnly = await aiFallback.embeddings
      .create({ input: "a cat", route: "remote-only" })
      .then(() => "resolved", (e) => e.code);
    aiFallback.unload();
    return { tandem: answer.tandem, length: answer.data[0].embedding.length, strictOnly };
  });
  assert.equal(f.error, undefined, JSON.stringify(f.error));
  assert.equal(f.tandem.route, "local");
  assert.match(f.tandem.reason, /^fallback: /);
  assert.ok(f.tandem.fallback, JSON.stringify(f.tandem));
  assert.equal(f.length, 384);
  assert.equal(f.strictOnly, "remote_unavailable");
});

test("options.local needs a chat model or an encoder", async () => {
  const r = await browser.inPage(async () =>
    tandem.Tandem.create({ local: { cache: true } }).then(() => "resolved", (e) => e.code),
  );
  assert.equal(r, "invalid_request");
});

test("no uncaught errors in the page", () => {
  assert.deepEqual(browser.errors, []);
});
