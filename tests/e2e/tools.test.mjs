// Tool calls in the page (headless Chromium). Remote: a real tandem-server whose only
// backend is a fake Anthropic API on loopback replaying the documented Messages
// stream of a reply that calls two tools (crates/server/tests/streams_from_docs/
// anthropic_tools.sse); the calls reach the app as OpenAI's `tool_calls`, whole and
// streamed, and a tool result turn goes up as Anthropic's `tool_result`. Local: the
// tiny Qwen3 GGUF (its template calls tools) answers a forced call in the worker.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { ROOT } from "../../scripts/browser.mjs";
import { openPage, startTandemServer } from "./harness.mjs";

const PAGE_PORT = 8821;
const SERVER_PORT = 8822;
const FAKE_PORT = 8823;
const STREAM = readFileSync(
  join(ROOT, "crates/server/tests/streams_from_docs/anthropic_tools.sse"),
  "utf8",
);

const TOOLS = [
  {
    type: "function",
    function: {
      name: "weather",
      description: "Today's weather",
      parameters: {
        type: "object",
        properties: { city: { type: "string", maxLength: 12 } },
        required: ["city"],
        additionalProperties: false,
      },
    },
  },
  { type: "function", function: { name: "now" } },
];

let browser, inPage, tandemServer, fake;
const seen = [];

before(async () => {
  fake = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      seen.push({ url: req.url, body: JSON.parse(body) });
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.end(STREAM);
    });
  });
  await new Promise((r) => fake.listen(FAKE_PORT, "127.0.0.1", r));
  browser = await openPage(PAGE_PORT);
  inPage = browser.inPage;
  tandemServer = await startTandemServer(
    SERVER_PORT,
    browser.origin,
    undefined,
    `[backends.claude-fake]\nkind = "anthropic"\nbase_url = "http://127.0.0.1:${FAKE_PORT}"\n` +
      `model = "claude-fake"\n`,
  );
  const r = await inPage(async (baseUrl) => {
    window.ai = await tandem.Tandem.create({ remote: { baseUrl, model: "claude-fake" } });
    return true;
  }, tandemServer.baseUrl);
  assert.equal(r.error, undefined, JSON.stringify(r.error));
});

after(async () => {
  await browser?.close();
  tandemServer?.kill();
  fake?.close();
});

const CONVERSATION = [
  { role: "user", content: "Weather in Paris?" },
  {
    role: "assistant",
    content: null,
    tool_calls: [
      { id: "toolu_1", type: "function", function: { name: "weather", arguments: '{"city":"Paris"}' } },
    ],
  },
  { role: "tool", tool_call_id: "toolu_1", content: "18 C" },
];

/** The two calls of the replayed stream, as the app must see them. */
function assertTheTwoCalls(calls) {
  assert.equal(calls.length, 2, JSON.stringify(calls));
  assert.deepEqual(
    calls.map((c) => [c.id, c.type, c.function.name, JSON.parse(c.function.arguments)]),
    [
      ["toolu_01T1x1fJ34qAmk2tNTrN7Up6", "function", "weather", { city: "Paris" }],
      ["toolu_01GmJ9ZpWkQf3vX4cE8rYt2N", "function", "now", {}],
    ],
  );
}

test("a remote reply's tool calls reach the app whole, from a fake Anthropic API", async () => {
  const r = await inPage(
    async ([messages, tools]) =>
      ai.chat.completions.create({ messages, tools, tool_choice: "required" }),
    [CONVERSATION, TOOLS],
  );
  assert.equal(r.error, undefined, JSON.stringify(r.error));
  const choice = r.choices[0];
  assert.equal(choice.finish_reason, "tool_calls");
  assert.equal(choice.message.content, "Let me check.");
  assertTheTwoCalls(choice.message.tool_calls);
  assert.equal(r.tandem.route, "remote");
  // What went up: Anthropic's tools, tool_choice, tool_use and tool_result blocks.
  const body = seen.at(-1).body;
  assert.deepEqual(body.tool_choice, { type: "any" });
  assert.deepEqual(body.tools[0].input_schema, TOOLS[0].function.parameters);
  assert.deepEqual(body.messages[1].content, [
    { type: "tool_use", id: "toolu_1", name: "weather", input: { city: "Paris" } },
  ]);
  assert.deepEqual(body.messages[2].content, [
    { type: "tool_result", tool_use_id: "toolu_1", content: "18 C" },
  ]);
});

test("a remote reply's tool calls stream to the app as OpenAI's deltas", async () => {
  const r = await inPage(
    async ([messages, tools]) => {
      const stream = await ai.chat.completions.create({ messages, tools, stream: true });
      const pieces = [];
      let finish;
      for await (const chunk of stream) {
        for (const choice of chunk.choices) {
          pieces.push(...(choice.delta.tool_calls ?? []));
          finish = choice.finish_reason ?? finish;
        }
      }
      return { pieces, finish };
    },
    [CONVERSATION, TOOLS],
  );
  assert.equal(r.error, undefined, JSON.stringify(r.error));
  assert.equal(r.finish, "tool_calls");
  const calls = [];
  for (const p of r.pieces) {
    calls[p.index] ??= { id: p.id, type: p.type, function: { name: p.function.name, arguments: "" } };
    calls[p.index].function.arguments += p.function.arguments ?? "";
  }
  assert.ok(r.pieces.filter((p) => p.id).length === 2, JSON.stringify(r.pieces));
  assertTheTwoCalls(calls);
});

test("a local model whose template calls tools answers a forced call in the worker", async () => {
  const r = await inPage(async (tools) => {
    const local = await tandem.Tandem.create({ local: { modelUrl: "/models/tiny/tiny-qwen3.gguf" } });
    const reply = await local.chat.completions.create({
      messages: [{ role: "user", content: "Weather in Paris?" }],
      tools,
      tool_choice: { type: "function", function: { name: "weather" } },
      max_tokens: 40,
      seed: 1,
    });
    const model = local.model;
    local.unload();
    return { reply, tools: model.tools };
  }, TOOLS);
  assert.equal(r.error, undefined, JSON.stringify(r.error));
  assert.equal(r.tools, true);
  const choice = r.reply.choices[0];
  assert.equal(choice.finish_reason, "tool_calls");
  assert.equal(r.reply.tandem.route, "local");
  const [call] = choice.message.tool_calls;
  assert.equal(call.function.name, "weather");
  const args = JSON.parse(call.function.arguments);
  assert.deepEqual(Object.keys(args), ["city"]);
  assert.ok(typeof args.city === "string" && [...args.city].length <= 12, args.city);
});
