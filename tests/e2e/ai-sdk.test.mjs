// tandem/ai-sdk with the real `ai` package in headless Chromium (bundled from
// node_modules by esbuild and served to the page): generateText and streamText on
// the local model and a real tandem-server, abort, generateObject under a JSON schema,
// embed / embedMany on the local encoder, and tool calls answered by a fake
// OpenAI-compatible upstream on loopback (standing in for a paid provider).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { build } from "esbuild";
import { ROOT } from "../../scripts/browser.mjs";
import { openPage, startTandemServer } from "./harness.mjs";

const PAGE_PORT = 8817;
const SERVER_PORT = 8818;
const UPSTREAM_PORT = 8819;
const ENCODER = "/models/all-MiniLM-L6-v2/all-MiniLM-L6-v2.q8_0.gguf";

let browser, inPage, server, upstream;

/** The `ai` functions the tests use, as one ES module for the browser. */
async function bundleAi() {
  const names = "generateText, streamText, generateObject, embed, embedMany, tool, jsonSchema, cosineSimilarity";
  const result = await build({
    stdin: { contents: `export { ${names} } from "ai";`, resolveDir: ROOT, loader: "js" },
    bundle: true,
    format: "esm",
    platform: "browser",
    write: false,
    logLevel: "error",
  });
  return result.outputFiles[0].text;
}

/** A fake OpenAI-compatible upstream on loopback: it streams a call of the first
 * tool offered with `{"city":"Paris"}` in two pieces, and keeps the requests. */
function startUpstream(port) {
  const requests = [];
  const http = createServer((req, res) => {
    const cors = { "access-control-allow-origin": "*", "access-control-allow-headers": "*" };
    if (req.method === "OPTIONS") return res.writeHead(204, cors).end();
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      const request = JSON.parse(body);
      requests.push(request);
      const name = request.tools[0].function.name;
      const chunk = (choices, extra = {}) =>
        `data: ${JSON.stringify({ id: "chatcmpl-fake", object: "chat.completion.chunk", created: 1765000000, model: "fake-gpt", choices, ...extra })}\n\n`;
      const call = (fn, id) => [{ index: 0, delta: { tool_calls: [{ index: 0, id, type: "function", function: fn }] }, finish_reason: null }];
      res.writeHead(200, { ...cors, "content-type": "text/event-stream" });
      res.end(
        chunk([{ index: 0, delta: { role: "assistant", content: null }, finish_reason: null }]) +
          chunk(call({ name, arguments: "" }, "call_fake_1")) +
          chunk(call({ arguments: '{"city":' })) +
          chunk(call({ arguments: '"Paris"}' })) +
          chunk([{ index: 0, delta: {}, finish_reason: "tool_calls" }]) +
          chunk([], { usage: { prompt_tokens: 61, completion_tokens: 9, total_tokens: 70 } }) +
          "data: [DONE]\n\n",
      );
    });
  });
  return new Promise((resolve) =>
    http.listen(port, "127.0.0.1", () =>
      resolve({ baseUrl: `http://127.0.0.1:${port}/v1`, requests, close: () => http.close() }),
    ),
  );
}

before(async () => {
  const [page, tandemServer, fake, ai] = await Promise.all([
    openPage(PAGE_PORT),
    startTandemServer(SERVER_PORT, `http://127.0.0.1:${PAGE_PORT}`),
    startUpstream(UPSTREAM_PORT),
    bundleAi(),
  ]);
  [browser, server, upstream] = [page, tandemServer, fake];
  inPage = browser.inPage;
  await browser.page.route("**/e2e/ai.js", (route) =>
    route.fulfill({ body: ai, contentType: "text/javascript" }),
  );
  const r = await inPage(
    async ([baseUrl, encoder]) => {
      window.sdk = await import("/e2e/ai.js");
      const { createTandem } = await import("/pkg/ai-sdk.js");
      window.tandemAi = createTandem({
        local: { modelUrl: MODEL_URL, embeddings: { modelUrl: encoder } },
        remote: { baseUrl },
      });
      return (await tandemAi.tandem()).model.model;
    },
    [server.baseUrl, ENCODER],
  );
  assert.equal(r.error, undefined, JSON.stringify(r.error));
});

after(async () => {
  await browser?.close();
  server?.kill();
  upstream?.close();
});

test("generateText: the local model answers with usage, a finish reason and tandem's route; the remote id asks tandem-server", async () => {
  const r = await inPage(async () => {
    const prompt = "What is the capital of France? Answer in one short sentence.";
    const local = await sdk.generateText({ model: tandemAi("local"), prompt, temperature: 0, maxOutputTokens: 40 });
    const remote = await sdk.generateText({ model: tandemAi("remote"), prompt, maxOutputTokens: 6 });
    const pick = (r) => ({
      text: r.text, finishReason: r.finishReason, usage: r.usage, tandem: r.providerMetadata?.tandem,
      modelId: r.response.modelId,
    });
    return { local: pick(local), remote: pick(remote) };
  });
  assert.equal(r.error, undefined, JSON.stringify(r.error));
  assert.match(r.local.text, /Paris/);
  assert.equal(r.local.finishReason, "stop");
  assert.equal(r.local.tandem.route, "local");
  assert.ok(r.local.usage.inputTokens > 10 && r.local.usage.outputTokens > 2, JSON.stringify(r.local.usage));
  assert.equal(r.local.usage.totalTokens, r.local.usage.inputTokens + r.local.usage.outputTokens);
  assert.equal(r.remote.tandem.route, "remote");
  assert.equal(r.remote.finishReason, "length");
  assert.equal(r.remote.usage.outputTokens, 6);
  assert.ok(r.remote.text.length > 0);
});

test("streamText streams the text it returns; an abort stops it mid-stream and the model answers again after", async () => {
  const r = await inPage(async () => {
    const whole = sdk.streamText({
      model: tandemAi("local"), prompt: "Name three colours.", temperature: 0, maxOutputTokens: 30,
    });
    const deltas = [];
    for await (const delta of whole.textStream) deltas.push(delta);
    const controller = new AbortController();
    let aborted = 0;
    const cut = sdk.streamText({
      model: tandemAi("local"), prompt: "Tell me a very long story about a dragon.", maxOutputTokens: 300,
      abortSignal: controller.signal, onAbort: () => aborted++,
    });
    let seen = 0;
    let error;
    try {
      for await (const delta of cut.textStream) if (++seen === 3) controller.abort();
    } catch (e) {
      error = e.name;
    }
    const after = await sdk.generateText({ model: tandemAi("local"), prompt: "Say hi.", maxOutputTokens: 4 });
    return {
      deltas, text: await whole.text, finishReason: await whole.finishReason,
      usage: await whole.usage, tandem: (await whole.providerMetadata).tandem,
      seen, aborted, error, after: after.text,
    };
  });
  assert.equal(r.error, undefined, JSON.stringify(r.error));
  assert.ok(r.deltas.length > 2);
  assert.equal(r.deltas.join(""), r.text);
  assert.ok(["stop", "length"].includes(r.finishReason));
  assert.equal(r.tandem.route, "local");
  assert.ok(r.usage.outputTokens > 0);
  assert.equal(r.seen, 3, "no text after the abort");
  assert.ok(r.aborted === 1 || r.error === "AbortError", JSON.stringify(r));
  assert.ok(r.after.length > 0);
});

test("generateObject: a JSON schema becomes response_format and the local model's object matches it", async () => {
  const r = await inPage(async () => {
    const schema = sdk.jsonSchema({
      type: "object",
      properties: { name: { type: "string", maxLength: 30 }, age: { type: "integer" } },
      required: ["name", "age"],
      additionalProperties: false,
    });
    const result = await sdk.generateObject({
      model: tandemAi("local"), schema, prompt: "Invent a person: their name and age.", temperature: 0,
    });
    return { object: result.object, tandem: result.providerMetadata?.tandem, finishReason: result.finishReason };
  });
  assert.equal(r.error, undefined, JSON.stringify(r.error));
  assert.deepEqual(Object.keys(r.object).sort(), ["age", "name"]);
  assert.equal(typeof r.object.name, "string");
  assert.ok(Number.isInteger(r.object.age));
  assert.equal(r.tandem.route, "local");
});

test("tool calls from a fake OpenAI-compatible upstream on loopback: generateText runs the tool, streamText streams its input", async () => {
  const r = await inPage(async (baseUrl) => {
    const withTools = (await import("/pkg/ai-sdk.js")).createTandem({ remote: { baseUrl } });
    const weather = sdk.tool({
      description: "The weather in a city.",
      inputSchema: sdk.jsonSchema({
        type: "object", properties: { city: { type: "string" } }, required: ["city"],
      }),
      execute: async ({ city }) => ({ city, celsius: 21 }),
    });
    const prompt = "What is the weather in Paris?";
    const generated = await sdk.generateText({ model: withTools("auto"), tools: { weather }, prompt });
    const streamed = sdk.streamText({ model: withTools("auto"), tools: { weather }, toolChoice: "required", prompt });
    const parts = [];
    for await (const part of streamed.fullStream) parts.push(part.type);
    return {
      calls: generated.toolCalls.map(({ toolCallId, toolName, input }) => ({ toolCallId, toolName, input })),
      results: generated.toolResults.map((t) => t.output),
      finishReason: generated.finishReason,
      usage: generated.usage,
      route: generated.providerMetadata?.tandem?.route,
      parts,
      streamedCalls: (await streamed.toolCalls).map((c) => c.input),
    };
  }, upstream.baseUrl);
  assert.equal(r.error, undefined, JSON.stringify(r.error));
  assert.deepEqual(r.calls, [{ toolCallId: "call_fake_1", toolName: "weather", input: { city: "Paris" } }]);
  assert.deepEqual(r.results, [{ city: "Paris", celsius: 21 }]);
  assert.equal(r.finishReason, "tool-calls");
  assert.equal(r.route, "remote");
  assert.deepEqual([r.usage.inputTokens, r.usage.outputTokens], [61, 9]);
  const deltas = r.parts.filter((p) => p === "tool-input-delta").length;
  assert.ok(r.parts.includes("tool-input-start") && deltas === 2, JSON.stringify(r.parts));
  assert.deepEqual(r.streamedCalls, [{ city: "Paris" }]);
  const [first, second] = upstream.requests;
  assert.deepEqual(first.tools, [{
    type: "function",
    function: {
      name: "weather", description: "The weather in a city.",
      parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
    },
  }]);
  assert.equal(first.tool_choice, "auto");
  assert.equal(second.tool_choice, "required");
});

test("embed and embedMany run on the local encoder: the vectors of ai.embeddings.create, paraphrases closest", async () => {
  const r = await inPage(async () => {
    const model = tandemAi.embeddingModel("local");
    const one = await sdk.embed({ model, value: "How do I reset my password?" });
    const many = await sdk.embedMany({
      model,
      values: ["I forgot my login password.", "Where can I buy fresh bread?", "How do I reset my password?"],
    });
    const direct = await (await tandemAi.tandem()).embeddings.create({ input: "How do I reset my password?" });
    const [paraphrase, unrelated, same] = many.embeddings.map((v) => sdk.cosineSimilarity(one.embedding, v));
    const wrongId = (() => {
      try {
        tandemAi("gpt-4");
      } catch (e) {
        return e.code;
      }
    })();
    return {
      dimensions: one.embedding.length, paraphrase, unrelated, same,
      equal: JSON.stringify(one.embedding) === JSON.stringify(direct.data[0].embedding),
      tokens: [one.usage.tokens, many.usage.tokens], route: one.providerMetadata?.tandem?.route, wrongId,
    };
  });
  assert.equal(r.error, undefined, JSON.stringify(r.error));
  assert.equal(r.dimensions, 384);
  assert.ok(r.equal, "embed gives ai.embeddings.create's vector");
  assert.ok(r.same > 0.9999 && r.paraphrase > r.unrelated + 0.2, JSON.stringify(r));
  assert.ok(r.tokens[0] > 5 && r.tokens[1] > r.tokens[0], JSON.stringify(r.tokens));
  assert.equal(r.route, "local");
  assert.equal(r.wrongId, "invalid_request");
});

test("no uncaught errors in the page", () => {
  assert.deepEqual(browser.errors, []);
});
