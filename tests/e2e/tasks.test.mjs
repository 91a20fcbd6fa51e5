// ai.tasks end to end: each quick task on the local route (the real model in the
// worker; classify by label scoring) and on the remote route (a real tandem-server),
// with its route reported, and bad options rejected by name.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { openPage, startTandemServer } from "./harness.mjs";

const PAGE_PORT = 8799;
const SERVER_PORT = 8800;

let browser, inPage, tandemServer;

before(async () => {
  browser = await openPage(PAGE_PORT);
  inPage = browser.inPage;
  tandemServer = await startTandemServer(SERVER_PORT, browser.origin);
  const r = await inPage(async (baseUrl) => {
    window.ai = await tandem.Tandem.create({ local: { modelUrl: MODEL_URL }, remote: { baseUrl } });
    return ai.model;
  }, tandemServer.baseUrl);
  assert.equal(r.error, undefined, JSON.stringify(r.error));
});

after(async () => {
  await browser?.close();
  tandemServer?.kill();
});

const NEWS =
  "The city council met on Monday and approved a new bike lane on Main Street. The bike lane " +
  "will run from the station to the park. Work on it starts in May and ends in August.";
const ORDER = "Send me the report now.";

/** Run every task on `route`; results keyed by task. */
const allTasks = (route) =>
  inPage(async ([route, NEWS, ORDER]) => {
    const t = ai.tasks;
    const schema = {
      type: "object",
      properties: { email: { type: "string" }, amount: { type: "number" } },
      required: ["email", "amount"],
      additionalProperties: false,
    };
    return {
      classify: await t.classify("I love this phone, the screen is wonderful!", ["positive", "negative"], { route }),
      summarize: await t.summarize(NEWS, { sentences: 1, route }),
      rewrite: await t.rewrite(ORDER, { tone: "polite", route }),
      smartReplies: await t.smartReplies("Are you coming to dinner tonight?", { n: 3, route }),
      extract: await t.extract("Please refund 42.50 dollars to jane@example.com today.", schema, { route }),
    };
  }, [route, NEWS, ORDER]);

function checkShapes(r, route) {
  assert.equal(r.error, undefined, JSON.stringify(r.error));
  for (const [name, result] of Object.entries(r)) {
    assert.equal(result.tandem?.route, route, `${name}: ${JSON.stringify(result.tandem)}`);
    assert.ok(result.tandem.reason, name);
  }
  const { labels } = r.classify;
  assert.deepEqual(labels.map((l) => l.label).sort(), ["negative", "positive"]);
  assert.ok(Math.abs(labels.reduce((s, l) => s + l.probability, 0) - 1) < 1e-4);
  assert.ok(labels[0].probability >= labels[1].probability);
  // A summary is shorter than its text and keeps what it is about; a rewrite is a new
  // text about the same thing, not the input or the prompt echoed back.
  const summary = r.summarize.text;
  assert.ok(summary.length > 0 && summary.length < NEWS.length, summary);
  assert.match(summary, /bike lane/i);
  const rewrite = r.rewrite.text;
  assert.notEqual(rewrite.toLowerCase(), ORDER.toLowerCase());
  assert.doesNotMatch(rewrite, /^text:/i);
  assert.match(rewrite, /report/i);
  const replies = r.smartReplies.replies;
  assert.ok(replies.length >= 1 && replies.length <= 3, JSON.stringify(replies));
  assert.equal(new Set(replies.map((x) => x.toLowerCase())).size, replies.length);
  assert.equal(typeof r.extract.data.email, "string");
  assert.equal(typeof r.extract.data.amount, "number");
  assert.deepEqual(Object.keys(r.extract.data).sort(), ["amount", "email"]);
}

test("every task runs on the local model and says so", async () => {
  const r = await allTasks("local-only");
  checkShapes(r, "local");
  assert.equal(r.classify.labels[0].label, "positive");
  assert.equal(r.extract.data.email, "jane@example.com");
  assert.equal(r.extract.data.amount, 42.5);
});

test("every task runs on tandem-server and says so", async () => {
  checkShapes(await allTasks("remote-only"), "remote");
});

test("auto sends quick tasks to the local model", async () => {
  const r = await inPage(() =>
    ai.tasks.classify("This is the worst purchase I have ever made.", ["positive", "negative"]),
  );
  assert.equal(r.tandem.route, "local", r.tandem.reason);
  assert.equal(r.labels[0].label, "negative");
});

test("bad task options are invalid_request errors that name the problem", async () => {
  const r = await inPage(async () => {
    const code = async (p) => p.then(() => "resolved", (e) => `${e.code}: ${e.message}`);
    return [
      await code(ai.tasks.classify("x", ["only"])),
      await code(ai.tasks.summarize("x", { sentence: 2 })),
      await code(ai.tasks.rewrite("x", { tone: "angry" })),
      await code(ai.tasks.smartReplies("x", { n: 9 })),
      await code(ai.tasks.extract("x", { type: "object", properties: { a: { type: "string", pattern: "x" } } })),
    ];
  });
  for (const line of r) assert.match(line, /^invalid_request: /);
  assert.match(r[1], /sentence/);
  assert.match(r[2], /angry|tone/);
  assert.match(r[4], /pattern/);
});

test("no uncaught errors in the page", () => {
  assert.deepEqual(browser.errors, []);
});
