// tandem's worker: runs the local model off the page's main thread. The page starts
// it with a boot message saying how many threads to use (js/glue.js); this script
// picks the build from that, and everything else happens in Rust (src/worker.rs).
import init, { startWorker } from "./tandem.js";

/** The multi-threaded build, beside this script. A variable, so that bundlers leave
 * it alone: their worker bundles cannot split code, and the single-threaded build
 * must stay the one they bundle. */
const THREADED = "./tandem_threads.js";

const crashed = (message) => self.postMessage({ type: "crashed", message: String(message) });
self.addEventListener("error", (event) => crashed(event.message));
self.addEventListener("unhandledrejection", (event) => crashed(event.reason?.stack ?? event.reason));
self.addEventListener(
  "message",
  ({ data }) => boot(data.threads).catch((error) => crashed(`the wasm module did not start: ${error}`)),
  { once: true },
);

/** Start the multi-threaded build when more than one thread is asked for and the
 * page allows it, else the single-threaded build, saying why. No more threads start
 * than the device has cores: the model's threads spin while it computes a token, and
 * more of them than cores would take turns on the same ones. */
async function boot(asked) {
  const cores = navigator.hardwareConcurrency || asked;
  const threads = Math.min(asked, cores);
  let fallback = threads < asked
    ? `${asked} threads were asked for, but this device has ${cores} cores; the model runs on ${threads}`
    : undefined;
  if (threads > 1) {
    try {
      return await startThreaded(threads, fallback);
    } catch (error) {
      fallback = `${asked} threads were asked for, but ${error.message}; the model runs on one thread`;
    }
  }
  await init();
  startWorker(1, fallback);
}

async function startThreaded(threads, fallback) {
  if (!self.crossOriginIsolated) {
    throw new Error(
      "the page is not cross-origin isolated (serve it with the headers " +
        "Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)",
    );
  }
  const url = new URL(THREADED, import.meta.url).href;
  const threaded = await import(/* @vite-ignore */ /* webpackIgnore: true */ url).catch((error) => {
    throw new Error(`the multi-threaded build did not load from ${url} (${error.message})`);
  });
  await threaded.default();
  await threaded.initThreadPool(threads);
  threaded.startWorker(threads, fallback);
}
