#!/usr/bin/env bash
# Idempotent install of everything `make test`, `make bench` and `make demo` need:
# the wasm32 target, nightly with rust-src (the multi-threaded build), wasm-pack,
# wasm-bindgen-cli (the exact version in Cargo.lock), Debian's chromium +
# chromedriver and redis-server, node packages for page tests, the models (the chat
# models and the embedding model) and the generated GGUFs of the tests.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\033[1msetup:\033[0m %s\n' "$*"; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "adding rust target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

# The multi-threaded build (scripts/build-threads.sh) rebuilds std with atomics: it
# needs the nightly toolchain and std's sources.
if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  log "installing the nightly toolchain with rust-src"
  rustup toolchain install nightly --profile minimal --component rust-src
elif ! rustup component list --toolchain nightly --installed | grep -qx rust-src; then
  log "adding rust-src to the nightly toolchain"
  rustup component add rust-src --toolchain nightly
fi

# The tools are built at opt-level 1 without LTO (about 3 minutes each instead of 8,
# and as fast for what tandem asks of them), in one target dir, so the crates both
# use (syn, serde, clap…) are built once.
install_tool() {
  CARGO_PROFILE_RELEASE_OPT_LEVEL=1 CARGO_PROFILE_RELEASE_LTO=false \
    CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 CARGO_PROFILE_RELEASE_DEBUG=0 \
    cargo install --target-dir target/tools "$@"
}

# The wasm-bindgen version wasm-pack must use is the one Cargo.lock pins.
wb_version=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/version = |"/,""); print; exit}' Cargo.lock 2>/dev/null || true)
wb_version=${wb_version:-0.2.130}
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$wb_version" ]; then
  log "installing wasm-bindgen-cli $wb_version (takes ~3 min)"
  install_tool wasm-bindgen-cli --version "=$wb_version" --force
fi
if ! command -v wasm-pack >/dev/null; then
  log "installing wasm-pack (takes ~3 min)"
  install_tool wasm-pack --version "=0.15.1"
fi

if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  log "installing chromium and chromium-driver from apt"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium chromium-driver >/dev/null
fi

# tandem-server's replica tests share state through a real Redis.
if ! command -v redis-server >/dev/null; then
  log "installing redis-server from apt"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq redis-server >/dev/null
fi

# playwright-core (for scripts/bench.mjs) at the version package-lock.json pins.
if ! command -v npm >/dev/null; then
  log "installing nodejs and npm from apt"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq nodejs npm >/dev/null
fi
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing node packages (npm ci)"
  npm ci --no-audit --no-fund
fi

bash scripts/fetch-model.sh
bash scripts/fetch-embedder.sh
bash scripts/fixtures/make-test-ggufs.sh
