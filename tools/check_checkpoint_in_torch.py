"""Loads a facet checkpoint in PyTorch and checks that it predicts what facet predicts.

    pip install torch==2.13.0+cpu safetensors pillow numpy
    python3 tools/check_checkpoint_in_torch.py CHECKPOINT.safetensors IMAGE... [--facet .build/release/facet]

The checkpoint's metadata (architecture, classes, input_size, width, mean, std, scale) builds the
network from tools/torch_models.py; `load_state_dict(strict=True)` must take every tensor. Each
image (already at the input size, as the dataset's are) is normalised as the metadata says, and
the logits are compared with `facet infer --checkpoint … --json`. Prints the largest absolute
difference and how many labels agree; exits 1 when a label differs or a logit is off by more
than 1e-3.
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np
import torch
from PIL import Image
from safetensors.torch import load_file
from safetensors import safe_open

sys.path.insert(0, os.path.dirname(__file__))
from torch_models import ResNet18, VGG  # noqa: E402

VGG16 = [64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0]

p = argparse.ArgumentParser()
p.add_argument("checkpoint")
p.add_argument("images", nargs="+")
p.add_argument("--facet", default=".build/release/facet")
a = p.parse_args()

with safe_open(a.checkpoint, "pt") as f:
    meta = f.metadata()
state = load_file(a.checkpoint)
classes = meta["classes"].split("\n")
arch, width = meta["architecture"], int(meta.get("width", "64"))
if arch == "resnet18":
    model = ResNet18(len(classes), width)
else:
    raise SystemExit(f"{arch}: this check builds ResNet18 only")
missing, unexpected = model.load_state_dict(state, strict=True)
model.eval()
mean = torch.tensor([float(x) for x in meta["mean"].split(",")]).view(1, 3, 1, 1)
std = torch.tensor([float(x) for x in meta["std"].split(",")]).view(1, 3, 1, 1)
scale = float(meta["scale"])
size = int(meta["input_size"])

batch = []
for path in a.images:
    im = Image.open(path).convert("RGB")
    assert im.size == (size, size), f"{path}: {im.size}, not {size}×{size} (this check does not resample)"
    batch.append(torch.from_numpy(np.asarray(im).copy()).permute(2, 0, 1).float())
x = (torch.stack(batch) * scale - mean) / std
with torch.no_grad():
    torch_logits = model(x)

out = subprocess.run([a.facet, "infer", "--checkpoint", a.checkpoint, *a.images, "--json"], capture_output=True, text=True, check=True)
facet = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
facet_logits = torch.tensor([o["logits"] for o in facet])
diff = (facet_logits - torch_logits).abs().max().item()
agree = sum(classes[int(t.argmax())] == o["label"] for t, o in zip(torch_logits, facet))
print(f"{a.checkpoint}: {len(state)} tensors loaded strictly into torch; {len(a.images)} images: "
      f"max |logit difference| {diff:.2e}, labels agree {agree}/{len(a.images)}")
sys.exit(0 if agree == len(a.images) and diff < 1e-3 else 1)
