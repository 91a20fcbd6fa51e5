// Finish pkg/ after `wasm-pack build`: add the worker script and the adapter modules,
// complete package.json and put the npm README in place. Run by scripts/build-pkg.sh.
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";

const root = new URL("../", import.meta.url);
const pkg = new URL("pkg/", root);

copyFileSync(new URL("js/worker.js", root), new URL("tandem_worker.js", pkg));
// The modules beside the wasm API (tandem/prompt-api, tandem/ai-sdk), as they are.
const modules = ["engine.js", "prompt-api.js", "prompt-api.d.ts", "prompt-errors.js",
  "prompt-input.js", "ai-sdk.js", "ai-sdk.d.ts", "ai-sdk-request.js", "ai-sdk-parts.js"];
for (const file of modules) copyFileSync(new URL(`js/${file}`, root), new URL(file, pkg));
copyFileSync(new URL("js/README.md", root), new URL("README.md", pkg));

const manifestUrl = new URL("package.json", pkg);
const manifest = JSON.parse(readFileSync(manifestUrl, "utf8"));
const listed = (manifest.files ?? []).map((f) => f.replace(/\/$/, ""));
// The builds beside the plain single-threaded one, which the worker picks at run time.
const builds = ["tandem_relaxed", "tandem_threads", "tandem_threads_relaxed"];
const extra = builds.flatMap((b) => [`${b}.js`, `${b}_bg.wasm`, `${b}.d.ts`]);
const files = new Set([...listed, "tandem_worker.js", ...extra, ...modules, "snippets", "README.md"]);
Object.assign(manifest, {
  files: [...files],
  main: "tandem.js",
  module: "tandem.js",
  types: "tandem.d.ts",
  exports: {
    ".": { types: "./tandem.d.ts", default: "./tandem.js" },
    "./tandem_bg.wasm": "./tandem_bg.wasm",
    "./tandem_worker.js": "./tandem_worker.js",
    "./prompt-api": { types: "./prompt-api.d.ts", default: "./prompt-api.js" },
    "./ai-sdk": { types: "./ai-sdk.d.ts", default: "./ai-sdk.js" },
    ...Object.fromEntries(
      builds.flatMap((b) => [`${b}.js`, `${b}_bg.wasm`]).map((f) => [`./${f}`, `./${f}`]),
    ),
  },
  keywords: ["llm", "openai", "webassembly", "gguf", "worker", "ai", "prompt-api", "ai-sdk"],
  // ai-sdk.d.ts names the specification's types; the `ai` package brings them.
  peerDependencies: { "@ai-sdk/provider": "^4.0.0" },
  peerDependenciesMeta: { "@ai-sdk/provider": { optional: true } },
});
writeFileSync(manifestUrl, JSON.stringify(manifest, null, 2) + "\n");
console.log(`pkg/: ${manifest.name}@${manifest.version}, files: ${manifest.files.join(", ")}`);
