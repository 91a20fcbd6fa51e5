// tandem's worker: runs the local model off the page's main thread. The page starts
// it with a boot message saying how many threads to use (js/glue.js); this script
// picks the build from that, starts it on the compiled module the page kept when
// there is one, and everything else happens in Rust (src/worker.rs).
import * as plain from "./tandem.js";

/** The other builds, beside this script: relaxed SIMD (faster integer sums, where the
 * engine has it) and multi-threaded, each with and without. Variables, so that
 * bundlers leave them alone: their worker bundles cannot split code, and the plain
 * single-threaded build must stay the one they bundle. */
const RELAXED = "./tandem_relaxed.js";
const PLAIN = "./tandem.js"; // the script imported above
const THREADED = "./tandem_threads.js";
const THREADED_RELAXED = "./tandem_threads_relaxed.js";

/** A module of one function, `i32x4.relaxed_dot_i8x16_i7x16_add_s` of its three
 * arguments: it validates exactly where the engine has relaxed SIMD. */
const RELAXED_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 8, 1, 96, 3, 123, 123, 123, 1, 123, 3, 2, 1, 0, 10, 13, 1,
  11, 0, 32, 0, 32, 1, 32, 2, 253, 147, 2, 11,
]);

const crashed = (message) => self.postMessage({ type: "crashed", message: String(message) });
self.addEventListener("error", (event) => crashed(event.message));
self.addEventListener("unhandledrejection", (event) => crashed(event.reason?.stack ?? event.reason));
self.addEventListener(
  "message",
  ({ data }) => boot(data.threads, data.compiled).catch((error) => crashed(`the wasm module did not start: ${error}`)),
  { once: true },
);

/** Start the multi-threaded build when more than one thread is asked for and the
 * page allows it, else the single-threaded build, saying why; either with relaxed
 * SIMD when the engine has it and the build is beside this script (a bundled app
 * has only the plain single-threaded build). No more threads start than the device
 * has cores: the model's threads spin while it computes a token, and more of them
 * than cores would take turns on the same ones. */
async function boot(asked, compiled) {
  const cores = navigator.hardwareConcurrency || asked;
  const threads = Math.min(asked, cores);
  const relaxed = WebAssembly.validate(RELAXED_PROBE);
  let fallback = threads < asked
    ? `${asked} threads were asked for, but this device has ${cores} cores; the model runs on ${threads}`
    : undefined;
  if (threads > 1) {
    try {
      return await startThreaded(relaxed ? THREADED_RELAXED : THREADED, threads, fallback, compiled);
    } catch (error) {
      fallback = `${asked} threads were asked for, but ${error.message}; the model runs on one thread`;
    }
  }
  const loaded = relaxed && (await load(RELAXED).catch(() => null));
  const [build, path] = loaded ? [loaded, RELAXED] : [plain, PLAIN];
  await start(build, path, compiled);
  build.startWorker(1, fallback);
}

/** Instantiate `build`, the script at `path`, on the module `compiled` holds for it;
 * else (none yet, or one that does not fit this script: the app was updated since)
 * on the one its own init compiles from the file beside it (streaming, so the
 * engine's code cache applies), which goes to the page to keep. */
async function start(build, path, compiled) {
  const module = compiled.get(path);
  if (module) {
    try {
      return await build.default({ module_or_path: module });
    } catch {
      // compiled afresh below
    }
  }
  await build.default();
  self.postMessage({ type: "compiled", path, module: build.compiledModule() });
}

/** The build at `path`, beside this script. */
async function load(path) {
  const url = new URL(path, import.meta.url).href;
  return import(/* @vite-ignore */ /* webpackIgnore: true */ url).catch((error) => {
    throw new Error(`the build did not load from ${url} (${error.message})`);
  });
}

async function startThreaded(path, threads, fallback, compiled) {
  if (!self.crossOriginIsolated) {
    throw new Error(
      "the page is not cross-origin isolated (serve it with the headers " +
        "Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)",
    );
  }
  const threaded = await load(path);
  await start(threaded, path, compiled);
  await threaded.initThreadPool(threads);
  threaded.startWorker(threads, fallback);
}
