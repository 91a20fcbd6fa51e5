// ai.embeddings.create in headless Chromium: all-MiniLM-L6-v2 loaded beside the chat
// model in the package's worker, from its sentence-transformers folder and as a Q8_0
// GGUF, against the float64 reference of tests/fixtures/embed_reference.py; the
// retrieval set; OpenAI's dimensions and base64; coded errors and abort.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../../scripts/browser.mjs";
import { openPage } from "./harness.mjs";

const PORT = 8812;
const FOLDER = "/models/all-MiniLM-L6-v2/";
const Q8_0 = "/models/all-MiniLM-L6-v2/all-MiniLM-L6-v2.q8_0.gguf";
const jsonl = (name) =>
  readFileSync(join(ROOT, "tests/fixtures", name), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line));
const REFERENCE = jsonl("embed_minilm.jsonl");
const RETRIEVAL = jsonl("embed_retrieval.jsonl");

const cosine = (a, b) => {
  let [dot, na, nb] = [0, 0, 0];
  a.forEach((x, i) => {
    dot += x * b[i];
    na += x * x;
    nb += b[i] * b[i];
  });
  return dot / Math.sqrt(na * nb);
};

let browser;

before(async () => {
  browser = await openPage(PORT);
});

after(() => browser?.close());

/** In the page: a Tandem with the chat model and the encoder at `url`, and the
 * embeddings of `input` (truncated at the window). */
const embedIn = (url, input) =>
  browser.inPage(
    async ({ url, input }) => {
      const ai = await tandem.Tandem.create({ local: { modelUrl: MODEL_URL, embeddings: { modelUrl: url } } });
      const response = await ai.embeddings.create({ input, truncate: true });
      ai.unload();
      return { info: ai.embeddings.model, response };
    },
    { url, input },
  );

test("the folder's vectors equal the float64 reference, in input order, with usage and route", async () => {
  const r = await embedIn(FOLDER, REFERENCE.map((line) => line.text));
  assert.equal(r.error, undefined, JSON.stringify(r.error));
  assert.deepEqual(
    { model: r.info.model, dimensions: r.info.dimensions, window: r.info.window },
    { model: "all-MiniLM-L6-v2", dimensions: 384, window: 256 },
  );
  const { response } = r;
  assert.equal(response.object, "list");
  assert.equal(response.data.length, REFERENCE.length);
  response.data.forEach((item, i) => {
    assert.equal(item.index, i);
    assert.ok(cosine(item.embedding, REFERENCE[i].embedding) >= 0.9999, `text ${i}: ${REFERENCE[i].text}`);
  });
  // Each input's ids as the encoder ran them (cut at the window of 256).
  const tokens = REFERENCE.reduce((sum, line) => sum + line.ids.length, 0);
  assert.deepEqual(response.usage, { prompt_tokens: tokens, total_tokens: tokens });
  assert.equal(response.tandem.route, "local");
  assert.equal(response.tandem.model, "all-MiniLM-L6-v2");
});

test("the Q8_0 GGUF's vectors stay within 0.999 of the reference, and rank paraphrases first", async () => {
  // The GGUF's window is its context length, 512, as llama.cpp takes it: the texts
  // the reference cut at 256 tokens are left out.
  const whole = REFERENCE.filter((line) => line.ids.length < 256);
  const queries = RETRIEVAL.flatMap((item) => [item.query, item.paraphrase, ...item.distractors]);
  const r = await embedIn(Q8_0, [...whole.map((line) => line.text), ...queries]);
  assert.equal(r.error, undefined, JSON.stringify(r.error));
  assert.equal(r.info.window, 512);
  const vectors = r.response.data.map((item) => item.embedding);
  whole.forEach((line, i) => assert.ok(cosine(vectors[i], line.embedding) >= 0.999, line.text));
  let first = 0;
  let at = whole.length;
  for (const item of RETRIEVAL) {
    const [query, ...candidates] = vectors.slice(at, at + 2 + item.distractors.length);
    at += 2 + item.distractors.length;
    const scores = candidates.map((v) => cosine(query, v));
    if (scores.indexOf(Math.max(...scores)) === 0) first++;
  }
  assert.ok(first >= 0.9 * RETRIEVAL.length, `${first} of ${RETRIEVAL.length}`);
});

test("dimensions shortens to unit length, base64 is the f32 bytes, bad requests are coded errors, abort works", async () => {
  const r = await browser.inPage(async (folder) => {
    const ai = await tandem.Tandem.create({ local: { modelUrl: MODEL_URL, embeddings: { modelUrl: folder } } });
    const input = "A kitten is napping on the couch.";
    const whole = (await ai.embeddings.create({ input })).data[0].embedding;
    const short = (await ai.embeddings.create({ input, dimensions: 64 })).data[0].embedding;
    const b64 = (await ai.embeddings.create({ input, encoding_format: "base64" })).data[0].embedding;
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const decoded = Array.from(new Float32Array(bytes.buffer));
    const code = (request) => ai.embeddings.create(request).then(() => "resolved", (e) => e.code);
    const controller = new AbortController();
    const many = Array.from({ length: 512 }, (_, i) => `sentence number ${i} about nothing at all`);
    const aborted = code({ input: many, signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    const codes = {
      empty: await code({ input: [] }),
      numbers: await code({ input: [1, 2] }),
      unknown: await code({ input: "a", temperature: 1 }),
      tooLong: await code({ input: "word ".repeat(400) }),
      tooManyDimensions: await code({ input, dimensions: 385 }),
      aborted: await aborted,
    };
    const after = (await ai.embeddings.create({ input })).data[0].embedding;
    ai.unload();
    return { whole, short, decoded, codes, after };
  }, FOLDER);
  assert.equal(r.error, undefined, JSON.stringify(r.error));
  assert.equal(r.short.length, 64);
  assert.ok(Math.abs(Math.hypot(...r.short) - 1) < 1e-5);
  const head = r.whole.slice(0, 64);
  assert.ok(cosine(r.short, head) > 0.99999);
  assert.deepEqual(r.decoded, r.whole);
  assert.deepEqual(r.after, r.whole);
  assert.deepEqual(r.codes, {
    empty: "invalid_request",
    numbers: "invalid_request",
    unknown: "invalid_request",
    tooLong: "invalid_request",
    tooManyDimensions: "invalid_request",
    aborted: "aborted",
  });
});

test("rank orders documents for a query; an index adds, replaces, removes, searches, saves and restores", async () => {
  const r = await browser.inPage(async (folder) => {
    const ai = await tandem.Tandem.create({ local: { modelUrl: MODEL_URL, embeddings: { modelUrl: folder } } });
    const documents = [
      "How do I reset my router to factory settings?",
      "What are the steps to change a forgotten login password?",
      "Where can I download the mobile app?",
    ];
    const ranked = await ai.tasks.rank("How do I reset my password?", documents, { topK: 2 });
    const index = ai.tasks.index();
    const sizes = [
      await index.add([{ id: "pw", text: documents[1] }, { id: "router", text: documents[0] }]),
      await index.add(["Where can I download the mobile app?"]),
    ];
    const found = await ai.tasks.search(index, "I forgot my password", { topK: 3 });
    const removed = [index.remove("router"), index.remove("router")];
    const saved = index.save();
    const restored = ai.tasks.index(saved);
    const again = await ai.tasks.search(restored, "I forgot my password");
    // A stored vector as the query: "more like this", nothing embedded.
    const like = await ai.tasks.search(restored, saved.vectors.slice(0, 384), { topK: 1 });
    const badVector = await ai.tasks.search(restored, [0.5, 0.5]).then(() => "resolved", (e) => e.code);
    const notAQuery = await ai.tasks.search(restored, { text: "x" }).then(() => "resolved", (e) => e.code);
    const foreign = ai.tasks.index({ ...saved, model: "another-encoder" });
    const mixed = await ai.tasks.search(foreign, "x").then(() => "resolved", (e) => e.code);
    const broken = (() => {
      try {
        ai.tasks.index({ ...saved, vectors: new Float32Array(3) });
        return "made";
      } catch (e) {
        return e.code;
      }
    })();
    ai.unload();
    return {
      ranked: ranked.results.map((x) => x.index),
      scores: ranked.results.map((x) => x.score),
      sizes,
      found: found.results.map((x) => x.id),
      removed,
      saved: { model: saved.model, dimensions: saved.dimensions, ids: saved.ids, values: saved.vectors.length },
      again: again.results.map((x) => x.id),
      sameScore: again.results[0].score === found.results[0].score,
      like: { id: like.results[0].id, score: like.results[0].score, reason: like.tandem.reason },
      badVector,
      notAQuery,
      mixed,
      broken,
      route: ranked.tandem.route,
    };
  }, FOLDER);
  assert.equal(r.error, undefined, JSON.stringify(r.error));
  assert.deepEqual(r.ranked, [1, 0]);
  assert.ok(r.scores[0] > r.scores[1]);
  assert.deepEqual(r.sizes, [2, 3]);
  assert.equal(r.found[0], "pw");
  assert.equal(r.found.length, 3);
  assert.deepEqual(r.removed, [true, false]);
  assert.deepEqual(r.saved, {
    model: "all-MiniLM-L6-v2",
    dimensions: 384,
    ids: ["pw", "Where can I download the mobile app?"],
    values: 768,
  });
  assert.deepEqual(r.again, ["pw", "Where can I download the mobile app?"]);
  assert.ok(r.sameScore);
  assert.equal(r.like.id, "pw");
  assert.ok(Math.abs(r.like.score - 1) < 1e-5, JSON.stringify(r.like));
  assert.equal(r.like.reason, "a vector query: nothing to embed");
  assert.deepEqual([r.badVector, r.notAQuery], ["invalid_request", "invalid_request"]);
  assert.equal(r.mixed, "invalid_request");
  assert.equal(r.broken, "invalid_request");
  assert.equal(r.route, "local");
});

test("without an encoder, embeddings are a coded error", async () => {
  const r = await browser.inPage(async () => {
    const ai = await tandem.Tandem.create({ local: { modelUrl: MODEL_URL } });
    const code = await ai.embeddings.create({ input: "a" }).then(() => "resolved", (e) => e.code);
    ai.unload();
    return code;
  });
  assert.equal(r, "no_route");
});

test("a folder asked for without its closing slash is a model_invalid error that says so", async () => {
  const r = await browser.inPage(async (folder) => {
    const url = folder.slice(0, -1);
    return tandem.Tandem.create({ local: { modelUrl: MODEL_URL, embeddings: { modelUrl: url } } })
      .then((ai) => { ai.unload(); return "created"; }, (e) => ({ code: e.code, message: e.message }));
  }, FOLDER);
  assert.equal(r.code, "model_invalid", JSON.stringify(r));
  assert.match(r.message, /folder's URL ends with "\/"/);
});

test("no uncaught errors in the page", () => {
  assert.deepEqual(browser.errors, []);
});
