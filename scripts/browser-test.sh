#!/usr/bin/env bash
# Run tests/browser.rs in headless Chromium (Debian's chromium + chromedriver), with
# the model and fixtures served by scripts/serve.py on a loopback port.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${TANDEM_TEST_PORT:-8787}
export TANDEM_TEST_ORIGIN="http://127.0.0.1:$PORT"

python3 scripts/serve.py --port "$PORT" >/dev/null &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  curl -sf -o /dev/null "$TANDEM_TEST_ORIGIN/fixtures/greedy.jsonl" && break
  sleep 0.1
done
curl -sf -o /dev/null "$TANDEM_TEST_ORIGIN/fixtures/greedy.jsonl" || {
  echo "browser-test: serve.py did not start on port $PORT" >&2
  exit 1
}

# webdriver.json names the profile directory; start each run from a fresh one.
rm -rf /tmp/tandem-chromium-test
export WASM_BINDGEN_TEST_TIMEOUT=${WASM_BINDGEN_TEST_TIMEOUT:-600}
# Dev profile: dependencies are optimised by Cargo.toml's [profile.dev.package."*"].
wasm-pack test --headless --chrome --chromedriver "$(command -v chromedriver)" "$@"
