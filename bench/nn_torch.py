#!/usr/bin/env python3
"""The peer of `facet bench train|infer`: the same steps in PyTorch on the CPU (torch==2.13.0+cpu),
torchvision's ResNet18 and VGG16 replicated by name (tools/torch_models.py),
random data, one warm-up step, median images/s, and the process's peak memory.

    python3 bench/nn_torch.py train --arch resnet18 --size 64 --batch 32 --steps 5
"""
import argparse
import os
import resource
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools"))
from torch_models import VGG, ResNet18  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument("mode", choices=["train", "infer"])
p.add_argument("--arch", default="resnet18", choices=["resnet18", "vgg16"])
p.add_argument("--size", type=int, default=112)
p.add_argument("--batch", type=int, default=32)
p.add_argument("--steps", type=int, default=5)
a = p.parse_args()

torch.manual_seed(7)
cfg = [64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0]
model = ResNet18(3, 64) if a.arch == "resnet18" else VGG(cfg, 3, 4096)
x = torch.rand(a.batch, 3, a.size, a.size) * 2 - 1
target = torch.arange(a.batch) % 3
opt = torch.optim.Adam(model.parameters(), lr=1e-4) if a.mode == "train" else None
model.train(a.mode == "train")
rates = []
for step in range(a.steps + 1):
    start = time.perf_counter()
    if a.mode == "train":
        opt.zero_grad()
        F.cross_entropy(model(x), target).backward()
        opt.step()
    else:
        with torch.no_grad():
            model(x)
    if step > 0:
        rates.append(a.batch / (time.perf_counter() - start))
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"torch {a.mode} {a.arch} {a.size} px batch {a.batch}: median {statistics.median(rates):.2f} images/s over {len(rates)} steps "
      f"({' '.join(f'{r:.2f}' for r in rates)}); peak memory {peak:.0f} MiB; {torch.get_num_threads()} threads")
