#!/usr/bin/env bash
# Augment benchmark: facet augment vs Pillow + torchvision transforms (bench/augment_pillow.py)
# on the same synth photos, in one run: decode, resize to 224, flips, blur, colour jitter, JPEG.
#
#   bash bench/augment.sh [COUNT] [PHOTO_SIZE] [REPEATS]     (defaults: 2000 photos, 512 px, 3 runs)
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-2000} photo=${2:-512} repeats=${3:-3}
python3 -c "import PIL, numpy, torch" 2>/dev/null || pip install --quiet pillow numpy torch==2.13.0+cpu
scripts/build >/dev/null
facet=.build/release/facet
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
$facet synth "$tmp/dump" --count "$count" --size "$photo" --seed 1 --extras 0 >/dev/null 2>&1
$facet ingest "$tmp/dump" -o "$tmp/ws" --near-distance 0 >/dev/null 2>&1
$facet label "$tmp/ws" >/dev/null
$facet split "$tmp/ws" --test 0 --val 0 >/dev/null    # every photo in train: one augmented copy each
echo "dump: $count synthetic photos, shorter side $photo px, machine: $(nproc) cores"
rates=()
for i in $(seq "$repeats"); do
  start=$(date +%s.%N)
  $facet augment "$tmp/ws" --copies 1 --no-keep-source >/dev/null 2>&1
  end=$(date +%s.%N)
  rates+=("$(python3 -c "print($count / ($end - $start))")")
done
f=$(printf '%s\n' "${rates[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
echo "facet augment 224 px: $count photos, median $(printf '%.1f' "$f") photos/s over $repeats runs"
p=$(python3 bench/augment_pillow.py "$tmp/dump" "$tmp/pillow-out" --repeats "$repeats")
echo "$p"
pr=$(sed -E 's/.*median ([0-9.]+) photos.*/\1/' <<<"$p")
python3 -c "print(f'ratio facet / peer: {$f / $pr:.2f}x')"
# Where the time goes: each step alone on the first JPEG of the dump, one thread each side.
one=$(find "$tmp/dump" -name '*.jpg' | sort | sed -n 1p)   # sed reads on: head's early exit is a failure under pipefail
echo "each step on one photo ($(basename "$one")), median ms, one thread:"
paste <($facet bench ops "$one") <(python3 bench/augment_pillow.py --ops "$one")
