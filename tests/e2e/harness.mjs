// Shared by the page tests: a page with the package loaded, a way to run code in it,
// and a real tandem-server on loopback.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { launch, ROOT, serve } from "../../scripts/browser.mjs";

/** Serve the test pages on `port`, open tests/e2e/pages/api.html (with `query`, e.g.
 * `?isolate=0` for a page that is not cross-origin isolated) in headless Chromium and
 * wait for the package. `inPage(fn, arg)` runs `fn(arg)` in the page; a
 * rejection comes back as `{error: {code, message, name, retryAfter}}`. */
export async function openPage(port, query = "") {
  const server = await serve(port);
  const browser = await launch();
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(`${server.origin}/e2e/api.html${query}`);
  await page.waitForFunction(() => window.ready);
  const inPage = (fn, arg) =>
    page.evaluate(
      async ([source, arg]) => {
        try {
          return await (0, eval)(source)(arg);
        } catch (e) {
          const error = { code: e.code, message: e.message, name: e.name };
          if (e.retryAfter !== undefined) error.retryAfter = e.retryAfter;
          return { error };
        }
      },
      [fn.toString(), arg],
    );
  return {
    origin: server.origin,
    page,
    inPage,
    errors,
    close: async () => {
      await browser.close();
      server.kill();
    },
  };
}

/** For `inPage`: a Tandem on `threads` threads, the page's isolation and cores, the
 * model info, the warnings and the answer to `request` (text, completion tokens,
 * log-probabilities if asked for). */
export const answerOnThreads = async ({ threads, request }) => {
  const warnings = [];
  const ai = await tandem.Tandem.create({
    local: { modelUrl: MODEL_URL, threads },
    onWarning: (w) => warnings.push(w),
  });
  const reply = await ai.chat.completions.create(request);
  ai.unload();
  return {
    isolated: crossOriginIsolated,
    cores: navigator.hardwareConcurrency,
    model: ai.model,
    warnings,
    text: reply.choices[0].message.content,
    tokens: reply.usage.completion_tokens,
    logprobs: reply.choices[0].logprobs,
  };
};

/** A prompt the router sends to the server: long, with analysis and code. */
export const HEAVY =
  "Write a detailed 800-word essay comparing the economic policies of three countries, " +
  "with a step-by-step analysis and Python code that models their growth.";

const SERVER_BIN = join(ROOT, "target/debug/tandem-server");

/** tandem-server on `port`, with CORS for `origin`, an optional static bearer
 * token and optional extra TOML (e.g. `[limits]`). Uses the debug build `cargo test --workspace` made just before in
 * `make test` (built here only if missing). Resolves once it answers; `.kill()`
 * stops it. */
export async function startTandemServer(port, origin, token, extraToml = "") {
  if (!existsSync(SERVER_BIN)) {
    execFileSync("cargo", ["build", "-p", "tandem-server"], { cwd: ROOT, stdio: "inherit" });
  }
  const config = join(mkdtempSync(join(tmpdir(), "tandem-e2e-")), "server.toml");
  writeFileSync(
    config,
    `addr = "127.0.0.1:${port}"\ncors_origins = ["${origin}"]\n` +
      (token ? `[auth]\ntokens = ["${token}"]\n` : "") +
      extraToml,
  );
  const child = spawn(SERVER_BIN, ["--config", config], {
    cwd: ROOT,
    stdio: ["ignore", "ignore", "inherit"],
  });
  const baseUrl = `http://127.0.0.1:${port}/v1`;
  for (let i = 0; ; i++) {
    try {
      await fetch(`${baseUrl}/models`);
      return { baseUrl, kill: () => child.kill() };
    } catch (e) {
      if (i > 300) throw new Error(`tandem-server did not start on port ${port}: ${e}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
