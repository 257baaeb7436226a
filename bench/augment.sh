#!/usr/bin/env bash
# Augment benchmark: facet augment vs Pillow + torchvision transforms (bench/augment_pillow.py)
# on the same synth photos, in one run: decode, resize to 224, flips, blur, colour jitter, JPEG.
#
#   bash bench/augment.sh [COUNT] [PHOTO_SIZE] [REPEATS]     (defaults: 2000 photos, 512 px, 5 pairs)
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-2000} photo=${2:-512} repeats=${3:-5}
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
# Pairs run alternately (facet, then the peer), so that a drift in the machine's speed hits
# both sides of a pair alike: the ratio reported is the median of the pairs' ratios.
fr=() pr=() ratios=() peer=""
for i in $(seq "$repeats"); do
  # From nothing each time, as the first augment of a dump: no cached images, no dataset folder.
  rm -rf "$tmp/ws/store" "$tmp/ws/cache/augment.jsonl" "$tmp/ws/cache/shards" "$tmp/ws/dataset"
  sync
  start=$(date +%s.%N)
  $facet augment "$tmp/ws" --copies 1 --no-keep-source >/dev/null 2>&1
  end=$(date +%s.%N)
  f=$(python3 -c "print($count / ($end - $start))")
  rm -rf "$tmp/pillow-out" && sync   # the peer, too, writes a new folder each time
  line=$(python3 bench/augment_pillow.py "$tmp/dump" "$tmp/pillow-out" --repeats 1)
  p=$(sed -E 's/.*median ([0-9.]+) photos.*/\1/' <<<"$line")
  peer=${line%% augment*}
  fr+=("$f") pr+=("$p") ratios+=("$(python3 -c "print($f / $p)")")
  printf 'pair %d: facet %.1f photos/s, %s %.1f photos/s, ratio %.2fx\n' "$i" "$f" "$peer" "$p" "${ratios[-1]}"
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
printf 'facet augment 224 px: %d photos, median %.1f photos/s over %d runs\n' "$count" "$(median "${fr[@]}")" "$repeats"
printf '%s augment 224 px: %d photos, %d processes, median %.1f photos/s over %d runs\n' "$peer" "$count" "$(nproc)" "$(median "${pr[@]}")" "$repeats"
printf 'ratio facet / peer: median %.2fx over %d alternating pairs (%s)\n' "$(median "${ratios[@]}")" "$repeats" \
  "$(printf '%.2f ' "${ratios[@]}" | sed 's/ $//')"
# Where the time goes: each step alone on the first JPEG of the dump, one thread each side.
one=$(find "$tmp/dump" -name '*.jpg' | sort | sed -n 1p)   # sed reads on: head's early exit is a failure under pipefail
echo "each step on one photo ($(basename "$one")), median ms, one thread:"
paste <($facet bench ops "$one") <(python3 bench/augment_pillow.py --ops "$one")
