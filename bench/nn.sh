#!/usr/bin/env bash
# Network engine benchmark: facet against PyTorch on the CPU, side by side in one run — ResNet18
# training at 64 and 112 px (batch 32) and VGG16 inference at 224 px (batch 16) — each side in a
# process of its own per case, medians of STEPS steps after a warm-up, the ratio of the medians
# and both peak memories. Goal (issue 6): facet at least 1.25× PyTorch's images/s, memory no higher.
#
#   bash bench/nn.sh [STEPS]     (default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${1:-5}
python3 -c "import torch" 2>/dev/null || pip install --quiet torch==2.13.0+cpu
swift build -c release --product facet >/dev/null
facet=.build/release/facet
echo "machine: $(nproc) cores"
for spec in "train resnet18 64 32" "train resnet18 112 32" "infer vgg16 224 16"; do
  read -r mode arch size batch <<<"$spec"
  f=$($facet bench "$mode" --arch "$arch" --size "$size" --batch "$batch" --steps "$steps")
  t=$(python3 bench/nn_torch.py "$mode" --arch "$arch" --size "$size" --batch "$batch" --steps "$steps")
  echo "$f"; echo "$t"
  fr=$(sed -E 's/.*median ([0-9.]+) images.*/\1/' <<<"$f"); tr=$(sed -E 's/.*median ([0-9.]+) images.*/\1/' <<<"$t")
  fm=$(sed -E 's/.*peak memory ([0-9.]+) MiB.*/\1/' <<<"$f"); tm=$(sed -E 's/.*peak memory ([0-9.]+) MiB.*/\1/' <<<"$t")
  python3 -c "print(f'  $mode $arch $size px: facet / torch = {$fr / $tr:.2f}x images/s; memory {$fm:.0f} vs {$tm:.0f} MiB')"
done
