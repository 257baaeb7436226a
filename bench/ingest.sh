#!/usr/bin/env bash
# Ingest + tag benchmark: facet vs the same work in Pillow + NumPy (bench/ingest_pillow.py),
# on one synth dump, in one run. facet's runs start from an empty workspace each time (no cache).
#
#   bash bench/ingest.sh [COUNT] [PHOTO_SIZE] [REPEATS]     (defaults: 2000 photos, 256 px, 3 runs)
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-2000} photo=${2:-256} repeats=${3:-3}
python3 -c "import PIL, numpy, scipy" 2>/dev/null || pip install --quiet pillow numpy scipy
scripts/build >/dev/null
facet=.build/release/facet
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
$facet synth "$tmp/dump" --count "$count" --size "$photo" --seed 1 >/dev/null 2>&1
files=$(find "$tmp/dump" -type f | wc -l)
echo "dump: $count synthetic photos ($files files), shorter side $photo px, machine: $(nproc) cores"
rates=()
for i in $(seq "$repeats"); do
  rm -rf "$tmp/ws"
  start=$(date +%s.%N)
  $facet ingest "$tmp/dump" -o "$tmp/ws" >/dev/null 2>&1
  $facet tag "$tmp/ws" >/dev/null
  end=$(date +%s.%N)
  rates+=("$(python3 -c "print($files / ($end - $start))")")
done
f=$(printf '%s\n' "${rates[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
echo "facet ingest+tag: $files files, median $(printf '%.1f' "$f") files/s over $repeats runs (${rates[*]})"
p=$(python3 bench/ingest_pillow.py "$tmp/dump" --repeats "$repeats")
echo "$p"
pr=$(sed -E 's/.*median ([0-9.]+) files.*/\1/' <<<"$p")
python3 -c "print(f'ratio facet / pillow-numpy: {$f / $pr:.2f}x')"
echo "cached re-run (no file changed):"
start=$(date +%s.%N); $facet ingest "$tmp/dump" -o "$tmp/ws" 2>/dev/null | sed -n 2p; end=$(date +%s.%N)
python3 -c "print(f'  {($end - $start):.2f} s for $files files')"
