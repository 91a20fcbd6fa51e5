// tandem's worker: runs the local model off the page's main thread. The page starts
// it (see js/glue.js); everything else happens in Rust (src/worker.rs).
import init, { startWorker } from "./tandem.js";

const crashed = (message) => self.postMessage({ type: "crashed", message: String(message) });
self.addEventListener("error", (event) => crashed(event.message));
self.addEventListener("unhandledrejection", (event) => crashed(event.reason?.stack ?? event.reason));
init().then(startWorker, (error) => crashed(`the wasm module did not start: ${error}`));
