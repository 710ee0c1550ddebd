#!/usr/bin/env bash
# Downloads a dataset's canonical archive into DIR/DATASET and checks it against Data/manifest.json.
#   Data/fetch.sh DATASET DIR      DATASET: wikitext-2 | wikitext-103 | ptb | enwik8 | text8
# Afterwards point the tools at it:  deq train --data DIR ...   (or export EQ_DATA=DIR)
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
manifest="$here/manifest.json"
if [ $# -ne 2 ]; then
  echo "usage: Data/fetch.sh DATASET DIR   (DATASET: wikitext-2, wikitext-103, ptb, enwik8, text8)" >&2
  exit 2
fi
dataset="$1"; root="$2"
command -v python3 >/dev/null || { echo "fetch.sh needs python3 to read the manifest" >&2; exit 2; }
url="$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["datasets"]; print(d[sys.argv[2]]["archive"] or "")' "$manifest" "$dataset" 2>/dev/null)" || {
  echo "unknown dataset '$dataset'; choose one of: $(python3 -c 'import json,sys; print(", ".join(json.load(open(sys.argv[1]))["datasets"]))' "$manifest")" >&2
  exit 2
}
[ -n "$url" ] || { echo "$dataset has no download; it ships with its source" >&2; exit 2; }

dest="$root/$dataset"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$dest"
echo "==> downloading $url"
if command -v curl >/dev/null; then curl -fL --retry 3 -o "$work/archive" "$url"; else wget -O "$work/archive" "$url"; fi
echo "==> unpacking"
case "$url" in
  *.zip) (cd "$work" && unzip -q archive) ;;
  *.tgz|*.tar.gz) (cd "$work" && tar xzf archive) ;;
esac

# Copy each manifest file from its place in the archive, then verify size and checksum.
python3 - "$manifest" "$dataset" "$work" "$dest" <<'PY'
import hashlib, json, os, shutil, sys
manifest, dataset, work, dest = sys.argv[1:]
files = json.load(open(manifest))["datasets"][dataset]["files"]
bad = 0
for name, meta in files.items():
    src = os.path.join(work, meta["source"])
    if not os.path.exists(src):
        print(f"  missing in archive: {meta['source']}"); bad += 1; continue
    out = os.path.join(dest, name)
    shutil.copyfile(src, out)
    data = open(out, "rb").read()
    digest = hashlib.sha256(data).hexdigest()
    ok = (meta["sha256"] in (None, digest)) and (meta["bytes"] in (None, len(data)))
    note = "" if meta["sha256"] else "  (no recorded sum; record this one)"
    print(f"  {'ok ' if ok else 'BAD'} {name}: {len(data)} bytes sha256 {digest}{note}")
    bad += 0 if ok else 1
sys.exit(1 if bad else 0)
PY
echo "==> $dataset is in $dest"
