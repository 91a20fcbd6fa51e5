#!/usr/bin/env bash
# `make test`: every check CI runs, in an order that lets later builds reuse earlier
# ones, each section timed; the times are printed at the end (also when a section
# fails) and written to target/test-times.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

WASM=(--target wasm32-unknown-unknown)
times=()
started=$SECONDS

report() {
  local status=$?
  printf '\n\033[1;34m==> section times\033[0m\n'
  mkdir -p target
  printf '%s\n' "${times[@]}" "$(printf '%6ds  total' $((SECONDS - started)))" |
    tee target/test-times.txt
  exit "$status"
}
trap report EXIT

# section NAME COMMAND...: run COMMAND under a heading and record how long it took.
section() {
  local name=$1 begin=$SECONDS
  shift
  printf '\n\033[1;34m==> %s\033[0m\n' "$name"
  "$@"
  times+=("$(printf '%6ds  %s' $((SECONDS - begin)) "$name")")
}

section "setup (installs what is missing)" bash scripts/setup.sh
section "rustfmt" cargo fmt --all -- --check
section "import loops" python3 scripts/import-loops.py
# Native builds carry feature `ts` (the TypeScript generator, src/typegen/): its test
# checks that src/types.gen.d.ts is what the Rust types generate.
section "clippy (native)" cargo clippy --workspace --all-targets --features tandem/ts -- -D warnings
section "clippy (wasm32)" \
  cargo clippy --workspace "${WASM[@]}" --all-targets --exclude tandem-server -- -D warnings
# The code only the relaxed-SIMD and multi-threaded builds compile, on stable: the
# threads build's own crate (wasm-bindgen-rayon) needs atomics, which only its nightly
# build has, and that build compiles the one line that uses it.
section "clippy (wasm32: relaxed SIMD and threads code)" \
  cargo clippy -p tandem -p tandem-core "${WASM[@]}" --all-targets \
  --features tandem/relaxed-simd,tandem-core/threads -- -D warnings
section "cargo test (native)" cargo test --workspace --features tandem/ts
section "browser test (headless Chromium)" bash scripts/browser-test.sh
section "browser test: the relaxed-SIMD build" bash scripts/browser-test.sh . --features relaxed-simd
section "the npm package, dev build (four variants)" bash scripts/build-pkg.sh --dev
section "TypeScript: a strict app of every public call against pkg/ (tsc)" \
  node_modules/.bin/tsc -p tests/types
section "page tests: the JS API, the Prompt API, the AI SDK and a Vite app (headless Chromium)" \
  node --test --test-concurrency=1 tests/e2e/
printf '\n\033[1;32m==> all tests passed\033[0m\n'
