// Headless Debian Chromium and a loopback static server, for the page tests and the
// bench. Never downloads a browser: playwright-core drives `command -v chromium`.
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/** scripts/serve.py on `port` (serving `www` at / if given), resolved once it
 * answers. Call `.kill()` when done. */
export async function serve(port, www) {
  const args = ["scripts/serve.py", "--port", String(port), ...(www ? ["--www", www] : [])];
  const server = spawn("python3", args, {
    cwd: ROOT,
    stdio: "ignore",
  });
  const origin = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      await fetch(`${origin}/fixtures/README.md`);
      return { origin, kill: () => server.kill() };
    } catch (e) {
      if (i > 100) throw new Error(`serve.py did not start on port ${port}: ${e}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** What `chromium --headless` needs on this machine (root, no GPU, no network
 * chatter). */
const CHROMIUM = {
  executablePath: execFileSync("sh", ["-c", "command -v chromium"], { encoding: "utf8" }).trim(),
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--no-first-run"],
};

/** Headless Chromium; every launch gets a fresh temporary profile, and each of its
 * pages an off-the-record context (whose Cache API lives in memory). */
export const launch = () => chromium.launch(CHROMIUM);

/** Headless Chromium on a fresh profile on disk, as a person's browser is (its Cache
 * API on disk too): `newPage()`, and `close()`, which removes the profile. */
export async function launchProfile() {
  const profile = mkdtempSync(join(tmpdir(), "tandem-profile-"));
  const context = await chromium.launchPersistentContext(profile, CHROMIUM);
  return {
    newPage: () => context.newPage(),
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Median of numbers. */
export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
