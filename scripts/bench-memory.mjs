// The tab's memory through a first visit and a later one, phase by phase, for
// `make bench`: the PSS of the tab's renderer (the page, its worker and their
// threads: the largest renderer) and of every Chromium process, sampled every 20 ms.
// The browser has a profile on disk, as a person's has: in an off-the-record context
// the Cache API keeps the model in the browser process's memory instead.
import { readdirSync, readFileSync } from "node:fs";
import { launchProfile, serve } from "./browser.mjs";

/** Load the model (from the network the first time, then from the cache). */
const load = async (modelUrl) => {
  window.ai = await window.tandem.Tandem.create({ local: { modelUrl } });
};
/** Answer the request. */
const reply = async (_, request) => {
  await window.ai.chat.completions.create(request);
};

/** What is done, one phase after another, in bench.html (`tandem` is the package). */
const PHASES = {
  open: async () => {
    const tandem = await import("/pkg/tandem.js");
    await tandem.default();
    window.tandem = tandem;
  },
  download: load,
  first_reply: reply,
  idle: () => new Promise((resolve) => setTimeout(resolve, 2000)),
  unload: async () => {
    window.ai.unload();
    await new Promise((resolve) => setTimeout(resolve, 500));
  },
  load_from_cache: load,
  reply,
};

/** PSS (MB) of the largest Chromium renderer and of every Chromium process. */
function pss() {
  let tab = 0;
  let all = 0;
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const command = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      if (!command.includes("chromium")) continue;
      const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
      const mb = Number(/^Pss:\s+(\d+)/m.exec(rollup)[1]) / 1024;
      all += mb;
      if (command.includes("--type=renderer")) tab = Math.max(tab, mb);
    } catch {
      // the process ended meanwhile
    }
  }
  return { tab, all };
}

/** Per phase: the tab's peak and final PSS and every process's peak (MB), after
 * the page at `port` loads the model at `modelUrl` and answers `request`. */
export async function memoryByPhase(port, modelUrl, request) {
  const server = await serve(port);
  const browser = await launchProfile();
  try {
    const page = await browser.newPage();
    await page.goto(`${server.origin}/bench.html`);
    await page.waitForFunction(() => window.benchReady);
    const phases = {};
    for (const [name, work] of Object.entries(PHASES)) {
      let peak = pss();
      const timer = setInterval(() => {
        const now = pss();
        peak = { tab: Math.max(peak.tab, now.tab), all: Math.max(peak.all, now.all) };
      }, 20);
      try {
        await page.evaluate(([source, modelUrl, request]) =>
          (0, eval)(source)(modelUrl, request), [work.toString(), modelUrl, request]);
      } finally {
        clearInterval(timer);
      }
      const end = pss();
      phases[name] = {
        tabPeak: Math.max(peak.tab, end.tab),
        tabEnd: end.tab,
        allPeak: Math.max(peak.all, end.all),
      };
    }
    return phases;
  } finally {
    await browser.close();
    server.kill();
  }
}
