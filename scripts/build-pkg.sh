#!/usr/bin/env bash
# Build the npm package in pkg/: `wasm-pack build --target web` (the single-threaded
# build every app gets), the multi-threaded build beside it (scripts/build-threads.sh),
# then scripts/package.mjs adds the worker script, package.json fields and the README.
#   scripts/build-pkg.sh            release build (what `make pkg` ships)
#   scripts/build-pkg.sh --dev      dev build (tests: shares the test build's artifacts)
set -euo pipefail
cd "$(dirname "$0")/.."
wasm-pack build --target web "${1:---release}"
bash scripts/build-threads.sh "${1:---release}"
node scripts/package.mjs
