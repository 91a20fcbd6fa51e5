#!/usr/bin/env bash
# Bench-only npm packages (bench/package-lock.json): node-llama-cpp with its prebuilt
# CPU binary from the npm registry, and wllama. Idempotent; make test never runs it.
# NODE_LLAMA_CPP_SKIP_DOWNLOAD keeps node-llama-cpp's postinstall from fetching or
# building llama.cpp; --omit=optional skips its CUDA/Vulkan/other-platform binaries.
set -euo pipefail
cd "$(dirname "$0")/../bench"
if [ -d node_modules/node-llama-cpp ] && [ -d node_modules/@wllama/wllama ] && [ -d node_modules/@node-llama-cpp/linux-x64 ]; then
  exit 0
fi
NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm ci --omit=optional --no-audit --no-fund
