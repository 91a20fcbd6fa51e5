// What the page side needs that Rust cannot say itself.

/** The compiled module of each build a worker of this page has run, by the build's
 * script (js/worker.js names them): a page compiles each build once, however many
 * workers it starts (a crashed worker's successor, another `Tandem.create`). */
const compiled = new Map();

// Start the worker and tell it how many threads to run the model on (js/worker.js
// picks the build from that) and which builds are compiled already: `pageModule`,
// the page's own build (`pageBuild`, its script), and those earlier workers
// compiled, which they send back. The URL is a literal next to import.meta.url so that
// bundlers (Vite, webpack) find the worker script and bundle it. This file lives in
// pkg/snippets/tandem-<hash>/js/, the worker script in pkg/.
export function spawnWorker(threads, pageBuild, pageModule) {
  compiled.set(pageBuild, pageModule);
  const worker = new Worker(new URL("../../../tandem_worker.js", import.meta.url), {
    type: "module",
    name: "tandem",
  });
  // Registered before the Rust side's handler, so the message stops here.
  worker.addEventListener("message", (event) => {
    if (event.data?.type !== "compiled") return;
    compiled.set(event.data.path, event.data.module);
    event.stopImmediatePropagation();
  });
  worker.postMessage({ type: "boot", threads, compiled });
  return worker;
}

// Make an object usable in `for await`: its [Symbol.asyncIterator] returns itself.
export function asyncIterable(object) {
  object[Symbol.asyncIterator] = function () {
    return this;
  };
  return object;
}
