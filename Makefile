# make test   everything CI checks: format, lints (native, wasm32 plain, relaxed-SIMD and threads builds), unit tests, browser tests
# make bench  native and in-browser speeds -> target/bench/summary.json
# make demo   build pkg/ and run tandem-server: the chat page and the API on http://127.0.0.1:8080/
# make pkg    the npm package alone (pkg/, release build)

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
WASM := --target wasm32-unknown-unknown
section = @printf '\n\033[1;34m==> %s\033[0m\n' "$(1)"

.PHONY: test setup bench demo pkg

setup:
	$(call section,setup)
	bash scripts/setup.sh

test: setup
	$(call section,rustfmt)
	cargo fmt --all -- --check
	$(call section,clippy (native))
	cargo clippy --workspace --all-targets -- -D warnings
	$(call section,clippy (wasm32))
	cargo clippy --workspace $(WASM) --all-targets --exclude tandem-server -- -D warnings
	$(call section,clippy (wasm32, relaxed-SIMD build))
	cargo clippy -p tandem -p tandem-core $(WASM) --all-targets --features tandem/relaxed-simd -- -D warnings
	$(call section,clippy (wasm32, multi-threaded build))
	bash scripts/build-threads.sh --clippy
	$(call section,cargo test (native))
	cargo test --workspace
	$(call section,browser test (headless Chromium))
	bash scripts/browser-test.sh
	$(call section,browser test: the relaxed-SIMD build (headless Chromium))
	bash scripts/browser-test.sh . --features relaxed-simd
	$(call section,page tests: the JS API and a Vite app (headless Chromium))
	bash scripts/build-pkg.sh --dev
	node --test --test-concurrency=1 tests/e2e/
	$(call section,all tests passed)

pkg:
	$(call section,wasm-pack build --release)
	bash scripts/build-pkg.sh --release

bench: setup
	$(call section,bench)
	bash scripts/bench-peers.sh
	node scripts/bench.mjs
	$(call section,bench the router in the browser (decision time, handoff overhead))
	node scripts/bench-router.mjs
	$(call section,bench tandem-server)
	cargo run --release -p tandem-server --example bench -- all
	cargo run --release -p tandem-core --example route -- --eval tests/fixtures/routing_dev.jsonl
	cargo run --release -p tandem-core --example tasks -- bench

demo: setup pkg
	$(call section,demo on http://127.0.0.1:8080/ (tandem-server))
	cargo run --release -p tandem-server
