#!/usr/bin/env python3
"""The peer of `facet bench train|infer`: the same steps in PyTorch on the CPU (torch==2.13.0+cpu)
on torchvision's own ResNet18 and VGG16 (`torchvision.models.resnet18`, `vgg16`, exactly as a user
builds them, three classes), random data, one warm-up step, median images/s, and the process's
peak memory.

    python3 bench/nn_torch.py train --arch resnet18 --size 64 --batch 32 --steps 5
"""
import argparse
import resource
import statistics
import sys
import time

import importlib.util
import types

import torch
import torch.nn.functional as F

try:
    import torchvision
except RuntimeError:
    # PyPI's torchvision wheel registers C operators (nms, …) that torch's +cpu build lacks, and its
    # package __init__ fails on them. The models are plain Python: import them without that __init__.
    pkg = types.ModuleType("torchvision")
    pkg.__path__ = list(importlib.util.find_spec("torchvision").submodule_search_locations)
    sys.modules["torchvision"] = pkg
from torchvision.models.resnet import resnet18  # noqa: E402
from torchvision.models.vgg import vgg16  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument("mode", choices=["train", "infer"])
p.add_argument("--arch", default="resnet18", choices=["resnet18", "vgg16"])
p.add_argument("--size", type=int, default=112)
p.add_argument("--batch", type=int, default=32)
p.add_argument("--steps", type=int, default=5)
a = p.parse_args()

torch.manual_seed(7)
model = resnet18(num_classes=3) if a.arch == "resnet18" else vgg16(num_classes=3)
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
