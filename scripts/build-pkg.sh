#!/usr/bin/env bash
# Build the npm package in pkg/: `wasm-pack build --target web` (the single-threaded
# build every app gets, plain simd128), the same with relaxed SIMD (tandem_relaxed.*),
# the multi-threaded builds beside them (scripts/build-threads.sh), then
# scripts/package.mjs adds the worker script, package.json fields and the README.
#   scripts/build-pkg.sh            release build (what `make pkg` ships)
#   scripts/build-pkg.sh --dev      dev build (tests: shares the test build's artifacts)
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:---release}
profile=release
flags=(--release)
if [ "$mode" = --dev ]; then
  profile=debug
  flags=()
fi
# The relaxed build first: it differs only in a feature of tandem-core, so it shares
# every dependency's artifacts, and wasm-pack then puts the plain build's tandem.wasm
# back in place.
cargo build --lib --target wasm32-unknown-unknown --features relaxed-simd "${flags[@]}"
wasm-bindgen --target web --out-dir pkg --out-name tandem_relaxed \
  "target/wasm32-unknown-unknown/$profile/tandem.wasm"
wasm-pack build --target web "$mode"
bash scripts/build-threads.sh "$mode" --relaxed
bash scripts/build-threads.sh "$mode"
node scripts/package.mjs
