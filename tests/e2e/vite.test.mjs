// A consumer app installs pkg/ as an npm dependency (`npm install ../pkg`), bundles it
// with Vite, and gets a streamed reply from the local model in Chromium.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { launch, ROOT, serve } from "../../scripts/browser.mjs";

const APP = join(ROOT, "tests/e2e/vite-app");
const PORT = 8793;

let server, browser;

before(async () => {
  const sh = (cmd, args) => execFileSync(cmd, args, { cwd: APP, stdio: ["ignore", "inherit", "inherit"] });
  sh("npm", ["install", "--no-audit", "--no-fund"]);
  sh("npx", ["vite", "build"]);
  server = await serve(PORT, join(APP, "dist"));
  browser = await launch();
});

after(async () => {
  await browser?.close();
  server?.kill();
});

test("a Vite-bundled app streams a reply from the package's worker", async () => {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  await page.goto(`${server.origin}/`);
  await page.waitForSelector("body[data-done]", { timeout: 120_000 });
  const reply = await page.textContent("#reply");
  assert.match(reply, /sky|blue/i);
  assert.deepEqual(errors, []);
});
