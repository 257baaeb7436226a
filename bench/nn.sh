#!/usr/bin/env bash
# Network engine benchmark: facet against PyTorch on the CPU (torchvision's own models), side by side in one run — ResNet18
# training at 64, 112 and 224 px (batch 32; 224 is the study's size) and VGG16 inference at 224 px (batch 16). Each case runs
# ROUNDS rounds, each round one facet process then one PyTorch process (so that both sides meet
# the same spells of load on a shared machine), each process the median of STEPS steps after a
# warm-up. Printed per case: every round's two medians and their ratio, then the median of the
# rounds' ratios and both peak memories. Goal (issue 6): facet at least 1.25× PyTorch's
# images/s, memory no higher.
#
#   bash bench/nn.sh [STEPS] [ROUNDS] [KERNELS]     (defaults 5, 3 and "as-set")
#
# KERNELS "own": facet's processes run with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset, so that
# OpenBLAS picks its kernel set for this processor (PyTorch does not use OpenBLAS). Some machines
# of this workplace set both, pinning OpenBLAS to an older kernel set on processors where older
# OpenBLAS builds misbehaved; their notes say to unset both in a benchmark's command alone. facet
# itself never overrides a set OPENBLAS_CORETYPE. Each case's line names the kernels facet ran.
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${1:-5}
rounds=${2:-3}
kernels=${3:-as-set}
run_facet=("$PWD/.build/release/facet")
[ "$kernels" = own ] && run_facet=(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "${run_facet[@]}")
python3 -c "import torch, torchvision" 2>/dev/null || pip install --quiet torch==2.13.0+cpu torchvision
scripts/build >/dev/null
blas=$("${run_facet[@]}" bench train --arch resnet18 --size 32 --batch 2 --steps 1 | sed -E 's/.*(OpenBLAS .*)/\1/')
if [ "$kernels" = own ]; then blas+=", OpenBLAS's own choice"; else blas+=" (OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset})"; fi
echo "machine: $(nproc) cores; $rounds rounds of $steps steps per side; facet: $blas"
rate() { sed -E 's/.*median ([0-9.]+) images.*/\1/' <<<"$1"; }
memory() { sed -E 's/.*peak memory ([0-9.]+) MiB.*/\1/' <<<"$1"; }
for spec in "train resnet18 64 32" "train resnet18 112 32" "train resnet18 224 32" "infer vgg16 224 16"; do
  read -r mode arch size batch <<<"$spec"
  ratios=(); fm=0; tm=0
  for round in $(seq "$rounds"); do
    f=$("${run_facet[@]}" bench "$mode" --arch "$arch" --size "$size" --batch "$batch" --steps "$steps")
    t=$(python3 bench/nn_torch.py "$mode" --arch "$arch" --size "$size" --batch "$batch" --steps "$steps")
    r=$(python3 -c "print(f'{$(rate "$f") / $(rate "$t"):.3f}')")
    ratios+=("$r"); fm=$(memory "$f"); tm=$(memory "$t")
    echo "  $mode $arch $size px, round $round: facet $(rate "$f"), torch $(rate "$t") images/s: ${r}x"
  done
  python3 - "$mode $arch $size px" "$fm" "$tm" "${ratios[@]}" <<'PY'
import statistics, sys
name, fm, tm, *ratios = sys.argv[1:]
ratios = sorted(float(r) for r in ratios)
print(f"{name}: facet / torch = {statistics.median(ratios):.2f}x images/s (median of {len(ratios)} rounds; "
      f"{ratios[0]:.2f}-{ratios[-1]:.2f}); peak memory {float(fm):.0f} vs {float(tm):.0f} MiB")
PY
done
