// The demo page (www/) as a person uses it: served by a real tandem-server, in
// headless Chromium, with the real model. Screenshots of the main states go to
// target/demo-screenshots/ (printed at the start).
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { launch, ROOT } from "../../scripts/browser.mjs";
import { startTandemServer } from "./harness.mjs";

const PORT = 8796;
const ORIGIN = `http://127.0.0.1:${PORT}`;
const SHOTS = join(ROOT, "target/demo-screenshots");
const QUICK = "Suggest a name for a black cat.";
const HEAVY =
  "Write a detailed essay on the causes of the First World War, with an introduction, " +
  "three sections and a conclusion.";

/** The page's console errors and uncaught exceptions. */
function watchErrors(page) {
  const errors = [];
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  page.on("pageerror", (e) => errors.push(String(e)));
  return errors;
}

/** Record every value the model's progress bar shows (before the page's scripts run). */
function recordProgress(page) {
  return page.addInitScript(() => {
    window.progressSeen = [];
    new MutationObserver((records) => {
      for (const r of records) {
        if (r.target.id === "model-bar") {
          window.progressSeen.push(Number(r.target.getAttribute("aria-valuenow")));
        }
      }
    }).observe(document, { subtree: true, attributes: true, attributeFilter: ["aria-valuenow"] });
  });
}

/** Send `text` from the chat box with Enter and wait for the answer to end; the
 * answer's `{route, fallback, text, stats}`. */
async function ask(page, text) {
  const before = await page.locator(".message.assistant").count();
  await page.fill("#prompt", text);
  await page.press("#prompt", "Enter");
  const answer = page.locator(".message.assistant").nth(before);
  await answer.locator(".body:not(.streaming)").waitFor({ state: "attached", timeout: 120_000 });
  return readAnswer(answer);
}

async function readAnswer(answer) {
  const badge = answer.locator(".badge");
  return {
    route: await badge.getAttribute("data-route"),
    fallback: await badge.getAttribute("data-fallback"),
    text: await answer.locator(".body").textContent(),
    stats: await answer.locator(".stats").textContent(),
  };
}

/** Pick a routing mode and the longest answer. */
async function setRouting(page, mode, maxTokens) {
  await page.click(`label:has(> input[name=route][value=${mode}])`);
  await page.fill("input[name=max_tokens]", String(maxTokens));
}

const shot = (page, name) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

test("the demo page: load, route, stop, cache, fall back, fail clearly", async () => {
  mkdirSync(SHOTS, { recursive: true });
  console.log(`demo screenshots: ${SHOTS}`);
  let server = await startTandemServer(PORT, ORIGIN);
  const browser = await launch();
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const errors = watchErrors(page);
    await recordProgress(page);

    // First visit: the model downloads with a moving progress bar.
    await page.goto(`${ORIGIN}/`);
    await page.waitForFunction(() => {
      const v = Number(document.getElementById("model-bar").getAttribute("aria-valuenow"));
      return v > 0 && v < 100;
    }, null, { polling: "raf" });
    await shot(page, "1-downloading");
    await page.waitForSelector("body[data-ready=true]", { timeout: 120_000 });
    const seen = await page.evaluate(() => window.progressSeen);
    assert.ok(new Set(seen.filter((v) => v > 0 && v < 100)).size >= 3, `progress moved: ${seen}`);
    assert.match(await page.textContent("#model-state"), /downloaded in/);
    // tandem-server serves the page cross-origin isolated: the multi-threaded build runs,
    // with relaxed SIMD (Chromium has it).
    assert.match(await page.textContent("#model-detail"),
      /MB file · \d+\.\d MB in memory · 8192-token context · [2-4] threads · relaxed SIMD$/);
    assert.equal(await page.getAttribute("#server-dot", "data-state"), "up");

    // Shift+Enter breaks a line and sends nothing.
    await page.fill("#prompt", "a");
    await page.press("#prompt", "Shift+Enter");
    await page.type("#prompt", "b");
    assert.equal(await page.inputValue("#prompt"), "a\nb");
    assert.equal(await page.locator(".message").count(), 0);

    // A quick prompt runs here, a heavy one on the server.
    await setRouting(page, "auto", 48);
    const quick = await ask(page, QUICK);
    assert.equal(quick.route, "local", JSON.stringify(quick));
    assert.ok(quick.text.trim().length > 0);
    assert.match(quick.stats, /first token [\d.]+ m?s · \d+\.\d tok\/s · \d+ tokens/);
    const heavy = await ask(page, HEAVY);
    assert.equal(heavy.route, "remote", JSON.stringify(heavy));
    assert.ok(heavy.text.length > 20, heavy.text);
    assert.match(await page.getAttribute(".message.assistant >> nth=1 >> .badge", "title"), /heavy/);
    await shot(page, "2-chat");

    // Quick tasks show their route too.
    await page.click("text=Classify sentiment");
    await page.waitForSelector("#task-result .labels li");
    assert.equal(await page.getAttribute("#task-result .badge", "data-route"), "local");
    assert.equal(await page.textContent("#task-result .labels li .label"), "negative");
    await page.click("text=Smart replies");
    await page.waitForSelector("#task-result .replies li", { timeout: 60_000 });
    await shot(page, "3-quick-task");

    // Semantic search: the built-in documents were embedded in the page; a query finds
    // by meaning, and a text of one's own joins the index.
    await page.waitForSelector("#search-go:not([disabled])", { timeout: 60_000 });
    assert.match(await page.textContent("#search-state"), /^12 documents embedded in/);
    const search = async (query) => {
      await page.fill("#search-query", query);
      await page.click("#search-go");
      await page.waitForSelector("#search-results .hits li");
      return {
        route: await page.getAttribute("#search-results .badge", "data-route"),
        first: await page.getAttribute("#search-results .hits li >> nth=0", "data-id"),
        text: await page.textContent("#search-results .hits li >> nth=0"),
        stats: await page.textContent("#search-results .stats"),
      };
    };
    const found = await search("I forgot my login");
    assert.equal(found.route, "local", JSON.stringify(found));
    assert.match(found.text, /reset your password/);
    assert.match(found.stats, /\d+ m?s/);
    await page.click(".search-more summary");
    await page.fill("#search-text", "My cat Ziggy only eats tuna and sleeps on the radiator.");
    await page.click("#search-add-go");
    await page.waitForFunction(() =>
      document.getElementById("search-state").textContent === "13 documents, 1 of them yours.");
    const mine = await search("what food does my pet like");
    assert.match(mine.first, /^mine-/, JSON.stringify(mine));
    await shot(page, "3b-search");

    // Stop ends a long answer, keeping what was said.
    await setRouting(page, "local-only", 400);
    await page.fill("#prompt", "Tell me a long story about a dragon who learns to cook.");
    await page.click("#send");
    const long = page.locator(".message.assistant").last();
    await page.waitForFunction(
      () => document.querySelector(".message.assistant:last-child .body").textContent.length > 40,
    );
    await page.click("#stop");
    await long.locator(".stopped").waitFor();
    assert.equal((await readAnswer(long)).route, "local");
    assert.equal(await page.isDisabled("#stop"), true);
    await shot(page, "4-stopped");
    const bars = await page.locator("#chart rect.bar").evaluateAll((rects) =>
      rects.map((r) => r.getAttribute("class")));
    assert.deepEqual(bars,
      ["bar local", "bar remote", "bar local", "bar local", "bar local", "bar local", "bar stopped"]);

    // A second visit reads the model from the cache.
    await page.reload();
    await page.waitForSelector("body[data-ready=true]", { timeout: 60_000 });
    assert.match(await page.textContent("#model-state"), /loaded from cache/);
    // The search index comes back from this browser's storage, with nothing embedded.
    await page.waitForSelector("#search-go:not([disabled])");
    assert.match(await page.textContent("#search-state"), /^13 documents from your last visit/);
    await shot(page, "5-from-cache");

    // The model menu switches to Gemma 3 270M, a base model: the page reloads with it,
    // says what it is, and the chat continues the text on the page.
    await Promise.all([
      page.waitForURL(/model=/),
      page.selectOption("#model-choice", "/models/gemma-3-270m-q4_k_m.gguf"),
    ]);
    await page.waitForSelector("body[data-ready=true]", { timeout: 120_000 });
    assert.match(await page.textContent("#model-detail"),
      /^gemma3 · 268M parameters · base model: continues your text · /);
    await setRouting(page, "local-only", 8);
    const continued = await ask(page, "The days of the week are");
    assert.equal(continued.route, "local", JSON.stringify(continued));
    assert.ok(continued.text.length > 0, JSON.stringify(continued));
    await shot(page, "5b-gemma");
    await Promise.all([
      page.waitForURL(/SmolLM2/),
      page.selectOption("#model-choice", "/models/SmolLM2-135M-Instruct.Q4_1.gguf"),
    ]);
    await page.waitForSelector("body[data-ready=true]", { timeout: 60_000 });

    // A model that cannot be downloaded: the server answers and the page says what to do.
    const broken = await context.newPage();
    await broken.goto(`${ORIGIN}/?model=/models/missing.gguf`);
    await broken.waitForSelector("body[data-ready=true]");
    assert.equal(await broken.getAttribute("#model-state", "data-state"), "error");
    assert.match(await broken.textContent("#model-state"), /could not be downloaded.*Retry/);
    assert.equal(await broken.isVisible("#retry"), true);
    assert.equal((await ask(broken, QUICK)).route, "remote");
    await shot(broken, "6-download-failed");
    await broken.close();

    // Server gone: a heavy prompt falls back to the local model and the badge says so.
    assert.deepEqual(errors, [], "no console errors while the server was up");
    server.kill();
    server = null;
    await setRouting(page, "auto", 48);
    const fallback = await ask(page, HEAVY);
    assert.deepEqual([fallback.route, fallback.fallback], ["local", "true"], JSON.stringify(fallback));
    await page.waitForSelector("#server-dot[data-state=down]", { timeout: 15_000 });
    await shot(page, "7-fallback");

    // Server only, with no server: a clear error with the next step.
    await setRouting(page, "remote-only", 48);
    await ask(page, QUICK);
    assert.equal(await page.getAttribute("#notice", "data-code"), "remote_unavailable");
    assert.match(await page.textContent("#notice-next"), /make demo|Local only/);
    await shot(page, "8-server-unreachable");

    // Phone width: one column, nothing wider than the screen.
    await page.setViewportSize({ width: 390, height: 844 });
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 390));
    await shot(page, "9-phone");

    // The cache can be emptied from the page.
    await page.click("#evict");
    await page.waitForFunction(() =>
      document.getElementById("model-detail").textContent.startsWith("Removed from the cache"));

    const unexpected = errors.filter((e) => !/ERR_CONNECTION_REFUSED|Failed to load resource/.test(e));
    assert.deepEqual(unexpected, [], "only the stopped server's refused connections");
  } finally {
    await browser.close();
    server?.kill();
  }
});
