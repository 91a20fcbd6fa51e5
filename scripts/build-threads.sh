#!/usr/bin/env bash
# The multi-threaded build, beside the single-threaded one in pkg/: tandem_threads.js
# and tandem_threads_bg.wasm. The worker runs it when the app asks for threads on a
# cross-origin isolated page (js/worker.js). Threads need atomics and shared memory,
# so std is rebuilt with them: nightly with -Z build-std, in a target dir of its own.
# With --relaxed, the relaxed-SIMD variant: tandem_threads_relaxed.js and .wasm.
#   scripts/build-threads.sh [--relaxed]          release build
#   scripts/build-threads.sh --dev [--relaxed]    dev build (tests)
#   scripts/build-threads.sh --demo [--relaxed]   the demo profile (make demo)
set -euo pipefail
cd "$(dirname "$0")/.."
profile=release
flags=(--release)
features=threads
name=tandem_threads
for arg in "$@"; do
  case "$arg" in
    --dev) profile=debug flags=() ;;
    --demo) profile=demo flags=(--profile demo) ;;
    --relaxed) features=threads,relaxed-simd name=tandem_threads_relaxed ;;
    --release) ;;
    *) echo "build-threads.sh: unknown argument $arg" >&2; exit 1 ;;
  esac
done
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}/threads
# RUSTFLAGS replaces .cargo/config.toml's flags, so simd128 and the getrandom cfg are
# given again beside the thread features.
export RUSTFLAGS='-C target-feature=+atomics,+bulk-memory,+mutable-globals,+simd128 --cfg getrandom_backend="wasm_js"'
# Since nightly-2025-10, atomics no longer imply a shared memory: the final link asks
# for one (imported, so every thread gets the same, and up to 4 GiB) and exports the
# thread-local storage symbols that wasm-bindgen's thread support sets up.
link=(--shared-memory --import-memory --max-memory=4294967296 --export=__wasm_init_tls
  --export=__tls_size --export=__tls_align --export=__tls_base)
nightly=(cargo +nightly --config 'profile.dev.package."*".opt-level=3')
# Every crate optimised, std included (rebuilt here, so a dependency like any other).
"${nightly[@]}" \
  rustc --lib --target wasm32-unknown-unknown "${flags[@]}" \
  -Z build-std=panic_abort,std --features "$features" -- "${link[@]/#/-Clink-arg=}"
wasm-bindgen --target web --out-dir pkg --out-name "$name" \
  "$CARGO_TARGET_DIR/wasm32-unknown-unknown/$profile/tandem.wasm"
# wasm-bindgen-rayon 1.3 starts each pool thread with wasm-bindgen's deprecated
# positional init arguments, which prints a console warning per thread: pass them as
# the one object wasm-bindgen asks for.
helpers=(pkg/snippets/wasm-bindgen-rayon-*/src/workerHelpers.no-bundler.js)
old='await pkg.default(data.module, data.memory);'
new='await pkg.default({ module_or_path: data.module, memory: data.memory });'
for file in "${helpers[@]}"; do
  grep -qF "$old" "$file" || grep -qF "$new" "$file" || {
    echo "build-threads.sh: $file no longer starts threads as expected; review the patch" >&2
    exit 1
  }
  sed -i "s/${old//./\\.}/$new/" "$file"
done
