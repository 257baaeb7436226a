#!/usr/bin/env bash
# Pipeline benchmark: `facet run` on a synth dump the study's size (3,665 photos) — the first
# full run, a no-op run (nothing changed), and runs after 10 and after 100 new photos were added
# (new photos each time) — medians over REPEATS, with the ratios that matter: the no-op and the
# 10-photo run against the full run, and what the runs' times split into: a fixed part and a
# part per photo added (the line through the +10 and +100 medians). Goals (issue 5): no-op
# under 1 s; +10 photos in time proportional to 10 photos, not 3,675.
#
#   bash bench/pipeline.sh [COUNT] [PHOTO_SIZE] [REPEATS]     (defaults: 3665 photos, 256 px, 5 runs)
#   FACES=1 bash bench/pipeline.sh …                           (ingest: {faces: true}: every photo searched for its face)
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-3665} photo=${2:-256} repeats=${3:-5}
scripts/build >/dev/null
facet=$PWD/.build/release/facet
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
$facet synth "$tmp/raw" --count "$count" --size "$photo" --seed 1 >/dev/null 2>&1
$facet synth "$tmp/more" --count $((110 * repeats)) --size "$photo" --seed 2 --extras 0 >/dev/null 2>&1
cat > "$tmp/p.yaml" <<YAML
name: bench
source: raw
workspace: ws
stages:
  ingest: $([ "${FACES:-0}" = 1 ] && echo "{faces: true}" || echo "{}")
  tag: {}
  label: {from: folders}
  split: {test: 0.2, val: 0.2, stable: true}
  augment: {size: 224, copies: 1}
YAML
files=$(find "$tmp/raw" -type f | wc -l)
echo "dump: $count synthetic photos ($files files), shorter side $photo px, machine: $(nproc) cores$([ "${FACES:-0}" = 1 ] && echo "; faces searched at ingest")"
seconds() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); python3 -c "print($e - $s)"; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

full=$(seconds $facet run "$tmp/p.yaml")
# A user's next run comes seconds later at the soonest: folders changed in the last 2 s are not
# stamped (their times may not yet tell a later change apart), and the dataset's images are then
# looked for one by one (the first no-op here does that, and stamps them).
sleep 2
noop=(); for i in $(seq "$repeats"); do noop+=("$(seconds $facet run "$tmp/p.yaml")"); done
# Each repeat adds K photos not seen before (into their class folders), runs, then removes them and runs again (untimed).
mapfile -t extra < <(tail -n +2 "$tmp/more/truth.csv" | cut -d, -f1,2)
grow() {  # K FIRST: adds photos FIRST, FIRST + 1, … of the extra ones, K a run; prints each run's seconds
  local next=$2
  for i in $(seq "$repeats"); do
    for row in "${extra[@]:$next:$1}"; do
      file=${row%%,*} label=${row##*,}; [ "$label" = normal ] && label=neutral
      mkdir -p "$tmp/raw/$label/added"; cp "$tmp/more/$file" "$tmp/raw/$label/added/"
    done
    next=$((next + $1))
    seconds $facet run "$tmp/p.yaml"
    rm -rf "$tmp"/raw/*/added
    $facet run "$tmp/p.yaml" >/dev/null 2>&1
  done
}
mapfile -t added < <(grow 10 0)
mapfile -t hundred < <(grow 100 $((10 * repeats)))
n=$(median "${noop[@]}") a=$(median "${added[@]}") h=$(median "${hundred[@]}")
printf 'full run (%d files, from nothing): %.2f s\n' "$files" "$full"
printf 'no-op run: median %.3f s over %d runs (%s)\n' "$n" "$repeats" "${noop[*]}"
printf '+10 photos: median %.3f s over %d runs (%s)\n' "$a" "$repeats" "${added[*]}"
printf '+100 photos: median %.3f s over %d runs (%s)\n' "$h" "$repeats" "${hundred[*]}"
python3 - "$full" "$n" "$a" "$h" "$count" <<'PY'
import sys
full, noop, ten, hundred, count = map(float, sys.argv[1:])
per = (hundred - ten) / 90
print(f"ratios: no-op / full = {noop / full:.4f}; +10 photos / full = {ten / full:.4f} (10 / {count:.0f} photos = {10 / count:.4f})")
print(f"a run after adding k photos: {ten - 10 * per:.3f} s fixed (the no-op's {noop:.3f} s included) + {per * 1000:.1f} ms per photo added "
      f"(the full run: {full / count * 1000:.1f} ms per photo)")
PY
