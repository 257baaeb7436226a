#!/usr/bin/env bash
# Decode benchmark: facet vs Pillow decoding and resizing the same synthetic photos to
# 224 px, on this machine, in one run. Prints each side's median images/s and the ratios.
#
#   bash bench/decode.sh [COUNT] [PHOTO_SIZE] [REPEATS]     (defaults: 200 photos, 1200 px, 7 runs)
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-200} photo=${2:-1200} repeats=${3:-7}
python3 -c "import PIL" 2>/dev/null || pip install --quiet pillow
scripts/build >/dev/null
facet=.build/release/facet
dump=$(mktemp -d)/dump
trap 'rm -rf "$(dirname "$dump")"' EXIT
$facet synth "$dump" --count "$count" --size "$photo" --seed 1 --extras 0 >/dev/null 2>&1
echo "photos: $count synthetic photos, shorter side $photo px ($(du -sh "$dump" | cut -f1)), machine: $(nproc) cores"
f=$($facet bench decode "$dump" --size 224 --repeats "$repeats")
p=$(python3 bench/decode_pillow.py "$dump" --size 224 --repeats "$repeats" --mode plain)
d=$(python3 bench/decode_pillow.py "$dump" --size 224 --repeats "$repeats" --mode draft)
echo "$f"; echo "$p"; echo "$d"
rate() { sed -E 's/.*median ([0-9.]+) images.*/\1/' <<<"$1"; }
python3 - "$(rate "$f")" "$(rate "$p")" "$(rate "$d")" <<'PY'
import sys
f, p, d = map(float, sys.argv[1:])
print(f"ratio facet / pillow-plain: {f / p:.2f}x")
print(f"ratio facet / pillow-draft: {f / d:.2f}x")
PY
