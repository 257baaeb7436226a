#!/usr/bin/env bash
# Two facet binaries side by side on the pipeline benchmark's +10-photos run: each on its own
# copy of one 3,665-photo synth dump (their caches may differ in layout), run alternately, a new
# 10 photos per repeat, then the medians and the ratio new / old; no-op runs too. For checking
# that a change to the engine made it faster, on a machine whose speed drifts during the day.
#
#   bash bench/pipeline-ab.sh OLD_FACET NEW_FACET [REPEATS]     (default 5)
set -euo pipefail
old=$1 new=$2 repeats=${3:-5}
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
$new synth $root/raw --count 3665 --size 256 --seed 1 >/dev/null 2>&1
$new synth $root/more --count $((10 * repeats)) --size 256 --seed 2 --extras 0 >/dev/null 2>&1
for side in old new; do
  mkdir -p $root/$side; cp -r $root/raw $root/$side/raw
  printf 'name: bench\nsource: raw\nworkspace: ws\nstages:\n  ingest: {}\n  tag: {}\n  label: {from: folders}\n  split: {test: 0.2, val: 0.2, stable: true}\n  augment: {size: 224, copies: 1}\n' > $root/$side/p.yaml
done
$old run $root/old/p.yaml >/dev/null 2>&1; $new run $root/new/p.yaml >/dev/null 2>&1
mapfile -t extra < <(tail -n +2 "$root/more/truth.csv" | cut -d, -f1,2)
seconds() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); python3 -c "print($e - $s)"; }
declare -A times=([old]="" [new]="")
noop_old=(); noop_new=()
for i in $(seq 0 $((repeats - 1))); do
  noop_old+=("$(seconds $old run $root/old/p.yaml)"); noop_new+=("$(seconds $new run $root/new/p.yaml)")
  for side in old new; do
    bin=$old; [ $side = new ] && bin=$new
    for row in "${extra[@]:$((i * 10)):10}"; do
      file=${row%%,*} label=${row##*,}; [ "$label" = normal ] && label=neutral
      mkdir -p $root/$side/raw/$label/added; cp $root/more/$file $root/$side/raw/$label/added/
    done
    times[$side]+=" $(seconds $bin run $root/$side/p.yaml)"
    rm -rf $root/$side/raw/*/added; $bin run $root/$side/p.yaml >/dev/null 2>&1
  done
done
python3 - "${times[old]}" "${times[new]}" "${noop_old[*]}" "${noop_new[*]}" <<'PY'
import statistics, sys
o, n, no, nn = (list(map(float, a.split())) for a in sys.argv[1:])
print(f"+10 photos: old median {statistics.median(o):.3f} s {[round(x,3) for x in o]}")
print(f"+10 photos: new median {statistics.median(n):.3f} s {[round(x,3) for x in n]}")
print(f"no-op: old median {statistics.median(no):.3f} s; new median {statistics.median(nn):.3f} s")
print(f"new / old, +10 photos: {statistics.median(n) / statistics.median(o):.2f}")
PY
