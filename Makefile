# make test   everything CI checks (scripts/test.sh): format, import loops, lints (native, wasm32),
#             native tests, browser and page tests; prints each section's time at the end
# make bench  native and in-browser speeds -> target/bench/summary.json
# make demo   build pkg/ and run tandem-server: the chat page and the API on http://127.0.0.1:8080/
# make pkg    the npm package alone (pkg/, release build)

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
section = @printf '\n\033[1;34m==> %s\033[0m\n' "$(1)"

.PHONY: test setup bench demo pkg

setup:
	$(call section,setup)
	bash scripts/setup.sh

test:
	bash scripts/test.sh

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

demo: setup
	$(call section,the npm package (demo profile: optimised without fat LTO))
	bash scripts/build-pkg.sh --demo
	$(call section,tandem-server (demo profile))
	cargo build --profile demo -p tandem-server
	$(call section,demo on http://127.0.0.1:8080/ (tandem-server))
	target/demo/tandem-server
