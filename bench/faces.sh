#!/usr/bin/env bash
# Ingest with faces: `facet ingest --faces` against dlib's Python binding with Pillow on a
# process pool (bench/faces_dlib.py), on one dump of real faces in scenes, in one run. The dump:
# the committed scenes (Tests/Fixtures/scenes, 640x480) enlarged to WIDTHxHEIGHT, each saved at
# COPIES JPEG qualities so every file is new bytes. facet starts from an empty workspace each run.
#
#   bash bench/faces.sh [COPIES] [WIDTH] [REPEATS]     (defaults: 3 copies, 1280 px wide, 3 runs)
set -euo pipefail
cd "$(dirname "$0")/.."
copies=${1:-3} width=${2:-1280} repeats=${3:-3}
python3 -c "import dlib, PIL, numpy" 2>/dev/null || pip install --quiet dlib-bin pillow numpy
scripts/build >/dev/null
facet=.build/release/facet
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 - "$tmp/dump" "$copies" "$width" <<'PY'
import glob, os, sys
from PIL import Image
out, copies, width = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
os.makedirs(out)
for f in sorted(glob.glob("Tests/Fixtures/scenes/*.jpg")):
    im = Image.open(f)
    big = im.resize((width, round(im.height * width / im.width)), Image.LANCZOS)
    for c in range(copies):
        big.save(os.path.join(out, f"{os.path.basename(f)[:-4]}-{c}.jpg"), quality=90 - 3 * c)
PY
files=$(find "$tmp/dump" -type f | wc -l)
echo "dump: $files photos of real faces in scenes, $width px wide; machine: $(nproc) cores"
rates=()
for i in $(seq "$repeats"); do
  rm -rf "$tmp/ws"
  start=$(date +%s.%N)
  $facet ingest "$tmp/dump" -o "$tmp/ws" --faces >"$tmp/out" 2>/dev/null
  end=$(date +%s.%N)
  rates+=("$(python3 -c "print($files / ($end - $start))")")
done
f=$(printf '%s\n' "${rates[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
echo "facet ingest --faces: $(sed -n 2p "$tmp/out" | sed 's/^faces: //'); median $(printf '%.2f' "$f") files/s over $repeats runs (${rates[*]})"
for way in "" --downscaled; do
  p=$(python3 bench/faces_dlib.py "$tmp/dump" --repeats "$repeats" $way)
  echo "$p"
  pr=$(sed -E 's/.*median ([0-9.]+) files.*/\1/' <<<"$p")
  python3 -c "print(f'ratio facet / dlib+pillow: {$f / $pr:.2f}x')"
done
