// What the page side needs that Rust cannot say itself.

// Start the worker and tell it how many threads to run the model on (js/worker.js
// picks the build from that). The URL is a literal next to import.meta.url so that
// bundlers (Vite, webpack) find the worker script and bundle it. This file lives in
// pkg/snippets/tandem-<hash>/js/, the worker script in pkg/.
export function spawnWorker(threads) {
  const worker = new Worker(new URL("../../../tandem_worker.js", import.meta.url), {
    type: "module",
    name: "tandem",
  });
  worker.postMessage({ type: "boot", threads });
  return worker;
}

// Make an object usable in `for await`: its [Symbol.asyncIterator] returns itself.
export function asyncIterable(object) {
  object[Symbol.asyncIterator] = function () {
    return this;
  };
  return object;
}
