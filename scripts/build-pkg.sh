#!/usr/bin/env bash
# Build the npm package in pkg/: `wasm-pack build --target web` (the single-threaded
# build every app gets, plain simd128), the same with relaxed SIMD (tandem_relaxed.*),
# the multi-threaded builds beside them (scripts/build-threads.sh), then
# scripts/package.mjs adds the worker script, package.json fields and the README.
#   scripts/build-pkg.sh            release build (what `make pkg` ships)
#   scripts/build-pkg.sh --dev      dev build (tests: shares the test build's artifacts)
#   scripts/build-pkg.sh --demo     the demo profile (make demo: no fat LTO), the
#                                   variants Chromium loads on the demo page first
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:---release}
case "$mode" in
  --release) profile=release flags=(--release) pack=(--release) ;;
  --dev) profile=debug flags=() pack=(--dev) ;;
  --demo) profile=demo flags=(--profile demo) pack=(--profile demo) ;;
  *) echo "build-pkg.sh: unknown mode $mode" >&2; exit 1 ;;
esac
step() { printf '\033[1mbuild-pkg:\033[0m %s\n' "$*"; }
# The relaxed build first: it differs only in a feature of tandem-core, so it shares
# every dependency's artifacts, and wasm-pack then puts the plain build's tandem.wasm
# back in place.
step "single-threaded, relaxed SIMD (tandem_relaxed)"
cargo build --lib --target wasm32-unknown-unknown --features relaxed-simd "${flags[@]}"
wasm-bindgen --target web --out-dir pkg --out-name tandem_relaxed \
  "${CARGO_TARGET_DIR:-target}/wasm32-unknown-unknown/$profile/tandem.wasm"
step "single-threaded, plain simd128 (tandem)"
wasm-pack build --target web --no-opt "${pack[@]}"
step "multi-threaded, relaxed SIMD (tandem_threads_relaxed)"
bash scripts/build-threads.sh "$mode" --relaxed
if [ "$mode" != --demo ]; then
  step "multi-threaded, plain simd128 (tandem_threads)"
  bash scripts/build-threads.sh "$mode"
fi
node scripts/package.mjs
