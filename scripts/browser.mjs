// Headless Debian Chromium and a loopback static server, for the page tests and the
// bench. Never downloads a browser: playwright-core drives `command -v chromium`.
import { execFileSync, spawn } from "node:child_process";
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

/** Headless Chromium with the flags this machine needs (root, no GPU, no network
 * chatter); every launch gets a fresh temporary profile. */
export function launch() {
  return chromium.launch({
    executablePath: execFileSync("sh", ["-c", "command -v chromium"], { encoding: "utf8" }).trim(),
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
      "--no-first-run"],
  });
}

/** Median of numbers. */
export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
