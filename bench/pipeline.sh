#!/usr/bin/env bash
# Pipeline benchmark: `facet run` on a synth dump the study's size (3,665 photos) — the first
# full run, a no-op run (nothing changed), and a run after 10 new photos were added (a new set
# of 10 each time) — medians over REPEATS, with the ratios that matter: the no-op and the
# 10-photo run against the full run. Goals (issue 5): no-op under 1 s; +10 photos in time
# proportional to 10 photos, not 3,675.
#
#   bash bench/pipeline.sh [COUNT] [PHOTO_SIZE] [REPEATS]     (defaults: 3665 photos, 256 px, 5 runs)
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-3665} photo=${2:-256} repeats=${3:-5}
scripts/build >/dev/null
facet=$PWD/.build/release/facet
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
$facet synth "$tmp/raw" --count "$count" --size "$photo" --seed 1 >/dev/null 2>&1
$facet synth "$tmp/more" --count $((10 * repeats)) --size "$photo" --seed 2 --extras 0 >/dev/null 2>&1
cat > "$tmp/p.yaml" <<YAML
name: bench
source: raw
workspace: ws
stages:
  ingest: {}
  tag: {}
  label: {from: folders}
  split: {test: 0.2, val: 0.2, stable: true}
  augment: {size: 224, copies: 1}
YAML
files=$(find "$tmp/raw" -type f | wc -l)
echo "dump: $count synthetic photos ($files files), shorter side $photo px, machine: $(nproc) cores"
seconds() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); python3 -c "print($e - $s)"; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

full=$(seconds $facet run "$tmp/p.yaml")
noop=(); for i in $(seq "$repeats"); do noop+=("$(seconds $facet run "$tmp/p.yaml")"); done
# Each repeat adds 10 photos not seen before (into their class folders), runs, then removes them and runs again (untimed).
mapfile -t extra < <(tail -n +2 "$tmp/more/truth.csv" | cut -d, -f1,2)
added=()
for i in $(seq 0 $((repeats - 1))); do
  batch=("${extra[@]:$((i * 10)):10}")
  for row in "${batch[@]}"; do
    file=${row%%,*} label=${row##*,}; [ "$label" = normal ] && label=neutral
    mkdir -p "$tmp/raw/$label/added"; cp "$tmp/more/$file" "$tmp/raw/$label/added/"
  done
  added+=("$(seconds $facet run "$tmp/p.yaml")")
  rm -rf "$tmp"/raw/*/added
  $facet run "$tmp/p.yaml" >/dev/null 2>&1
done
n=$(median "${noop[@]}") a=$(median "${added[@]}")
printf 'full run (%d files, from nothing): %.2f s\n' "$files" "$full"
printf 'no-op run: median %.3f s over %d runs (%s)\n' "$n" "$repeats" "${noop[*]}"
printf '+10 photos: median %.3f s over %d runs (%s)\n' "$a" "$repeats" "${added[*]}"
python3 -c "print(f'ratios: no-op / full = {$n / $full:.4f}; +10 photos / full = {$a / $full:.4f} (10 / $count photos = {10 / $count:.4f})')"
