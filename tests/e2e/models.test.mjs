// Models other than the default, end to end in headless Chromium: Gemma 3 270M (a base
// model: no chat template; SentencePiece tokenizer; Q5_0, Q4_K, Q6_K and Q8_0 tensors)
// loaded by URL into the package's worker and continued through
// `ai.completions.create`, streamed and whole, as llama.cpp continues it; and a file
// too large for the browser, refused before its download.
import { createServer } from "node:http";
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../../scripts/browser.mjs";
import { openPage } from "./harness.mjs";

const PORT = 8807;
const SHA256 = "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818";
// A fixture line whose first 8 greedy steps have no near-tie (llama.cpp's pick leads by
// 0.58 logits or more), so the browser reproduces them token for token.
const PROMPT = "The days of the week are";
const FIXTURE = readFileSync(join(ROOT, "tests/fixtures/greedy_gemma3.jsonl"), "utf8")
  .split("\n")
  .filter(Boolean)
  .map((line) => JSON.parse(line))
  .find((line) => line.prompt === PROMPT);
const TOKENS = 8;
const GREEDY_TEXT = FIXTURE.greedy_tokens.slice(0, TOKENS).join("");

let browser, inPage;

before(async () => {
  browser = await openPage(PORT);
  inPage = browser.inPage;
});

after(() => browser?.close());

test("Gemma 3 loads by URL and says what it is", async () => {
  const r = await inPage(async (sha256) => {
    window.ai = await tandem.Tandem.create({
      local: { modelUrl: "/models/gemma-3-270m-q4_k_m.gguf", sha256 },
    });
    return ai.model;
  }, SHA256);
  assert.equal(r.error, undefined, JSON.stringify(r.error));
  assert.equal(r.architecture, "gemma3");
  assert.equal(r.chat, false);
  assert.equal(r.parameters, 268098176);
  assert.deepEqual(Object.keys(r.quantization).sort(), ["F32", "Q4_K", "Q5_0", "Q6_K", "Q8_0"]);
});

test("a raw prompt is continued as llama.cpp continues it, whole and streamed", async () => {
  const r = await inPage(async ({ prompt, tokens }) => {
    const request = { prompt, max_tokens: tokens, temperature: 0 };
    const whole = await ai.completions.create(request);
    const chunks = [];
    for await (const chunk of await ai.completions.create({ ...request, stream: true })) {
      chunks.push(chunk);
    }
    return { whole, chunks };
  }, { prompt: PROMPT, tokens: TOKENS });
  assert.equal(r.error, undefined, JSON.stringify(r.error));
  const { whole, chunks } = r;
  assert.equal(whole.object, "text_completion");
  assert.match(whole.id, /^cmpl-/);
  assert.equal(whole.choices[0].text, GREEDY_TEXT);
  assert.equal(whole.choices[0].finish_reason, "length");
  assert.equal(whole.usage.prompt_tokens, FIXTURE.prompt_ids.length);
  assert.equal(whole.usage.completion_tokens, TOKENS);
  assert.equal(whole.tandem.route, "local");
  assert.ok(chunks.every((c) => c.object === "text_completion"));
  assert.equal(chunks.map((c) => c.choices[0]?.text ?? "").join(""), GREEDY_TEXT);
  assert.equal(chunks.at(-1).choices.length, 0, "the last chunk carries usage only");
  assert.equal(chunks.at(-1).tandem.route, "local");
});

test("chat messages to a base model, and what the completions API does not do, are clear errors", async () => {
  const r = await inPage(async () => {
    const codes = {};
    const attempt = async (name, call) => {
      try {
        await call();
        codes[name] = "resolved";
      } catch (e) {
        codes[name] = `${e.code}: ${e.message}`;
      }
    };
    await attempt("chat", () => ai.chat.completions.create({
      messages: [{ role: "user", content: "hi" }], route: "local-only",
    }));
    await attempt("echo", () => ai.completions.create({ prompt: "hi", echo: true }));
    await attempt("typo", () => ai.completions.create({ prompt: "hi", max_token: 3 }));
    return codes;
  });
  assert.match(r.chat, /^invalid_request: .*raw prompt/);
  assert.match(r.echo, /^invalid_request: .*echo/);
  assert.match(r.typo, /^invalid_request: .*max_token/);
});

test("a file too large for a wasm32 worker is model_too_large before its download", async () => {
  // A server that announces 3 GB and never sends them.
  let sent = 0;
  const huge = createServer((req, res) => {
    res.writeHead(200, {
      "access-control-allow-origin": "*",
      "content-type": "application/octet-stream",
      "content-length": "3000000000",
    });
    res.write(Buffer.alloc(1024));
    sent += 1024;
  });
  await new Promise((resolve) => huge.listen(0, "127.0.0.1", resolve));
  try {
    const url = `http://127.0.0.1:${huge.address().port}/huge.gguf`;
    const started = Date.now();
    const r = await inPage(async (url) => {
      await tandem.Tandem.create({ local: { modelUrl: url, cache: false } });
      return "loaded";
    }, url);
    assert.equal(r.error?.code, "model_too_large", JSON.stringify(r));
    assert.match(r.error.message, /3\.00 GB/);
    assert.ok(Date.now() - started < 30_000, "refused at once, not after a download");
    assert.ok(sent <= 1024);
  } finally {
    huge.closeAllConnections();
    huge.close();
  }
});
