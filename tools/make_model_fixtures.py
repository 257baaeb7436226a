#!/usr/bin/env python3
"""Golden fixtures for FacetNN's models, made with PyTorch (development only):

    pip install torch==2.13.0+cpu
    python3 tools/make_model_fixtures.py     # writes Tests/Fixtures/nn/resnet18_w4.safetensors, vgg_small.safetensors,
                                             # and ResNet's initial state dict as resnet18_w4.pth and resnet18_w4_legacy.pth

Narrow copies of torchvision's ResNet18 (every channel count /16: width 4) and VGG16 (channels
/16, a 16-wide classifier, dropout 0), defined here with torchvision's attribute names (its
wheel's C extension does not load on every machine; these are its Python definitions, trimmed).
Each file holds the initial state dict (`init.NAME`), a batch (`x`, `target`), and after one
training-mode forward and backward: `logits`, `loss`, `dx`, every gradient (`grad.NAME`), the
running statistics (`after.NAME`); then the losses of ten Adam steps (lr 1e-3) on that batch
(`adam_losses`). ResNet's batch is 4 × 64×64 so that layer4's batch norms see 16 values each:
with 2 values a batch norm's input gradient is zero up to rounding, and every gradient
before it would be compared as noise."""
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from safetensors_io import save  # noqa: E402
from torch_models import VGG, ResNet18  # noqa: E402

torch.manual_seed(0)
torch.use_deterministic_algorithms(True)


def golden(model, x, target, path, pth=False):
    out = {f"init.{k}": v.clone() for k, v in model.state_dict().items()}
    if pth:  # the same initial state dict as PyTorch files, zip format and legacy format
        torch.save(model.state_dict(), path.replace(".safetensors", ".pth"))
        torch.save(model.state_dict(), path.replace(".safetensors", "_legacy.pth"), _use_new_zipfile_serialization=False)
    model.train()
    xg = x.clone().requires_grad_(True)
    logits = model(xg)
    loss = F.cross_entropy(logits, target)
    loss.backward()
    out.update({"x": x, "target": target.float(), "logits": logits, "loss": loss.reshape(1), "dx": xg.grad})
    out.update({f"grad.{k}": p.grad for k, p in model.named_parameters()})
    out.update({f"after.{k}": v.clone() for k, v in model.state_dict().items() if "running" in k})
    # Ten Adam steps from the initial state on the same batch.
    model.load_state_dict({k[5:]: v for k, v in out.items() if k.startswith("init.")})
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    losses = []
    for _ in range(10):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), target)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    out["adam_losses"] = torch.tensor(losses)
    save({k: v.detach().float().contiguous() for k, v in out.items()}, path,
         {"generator": "tools/make_model_fixtures.py", "torch": torch.__version__})
    print(f"{path}: {len(out)} tensors, loss {losses[0]:.6f} → {losses[-1]:.6f}")


def inference_fixture(model, here):
    """A 64×64 PNG, the narrow ResNet as a facet checkpoint (safetensors + metadata), and its
    evaluation-mode logits on the PNG, preprocessed as facet does: x/255, ImageNet mean and std."""
    import numpy as np
    from PIL import Image
    pixels = torch.randint(0, 256, (64, 64, 3), dtype=torch.uint8)
    Image.fromarray(pixels.numpy()).save(os.path.join(here, "face64.png"))
    x = pixels.permute(2, 0, 1).float().div(255).unsqueeze(0)
    x = (x - torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)) / torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    model.eval()
    with torch.no_grad():
        logits = model(x)
    meta = {"format": "facet-checkpoint-1", "architecture": "resnet18", "classes": "happy\nnormal\nsad", "input_size": "64",
            "width": "4", "mean": "0.485,0.456,0.406", "std": "0.229,0.224,0.225", "scale": "0.003921569"}
    save({k: v.float() for k, v in model.state_dict().items()}, os.path.join(here, "resnet18_w4_checkpoint.safetensors"), meta)
    save({"logits": logits}, os.path.join(here, "face64_logits.safetensors"), {"generator": "tools/make_model_fixtures.py"})
    print("face64.png: eval logits", logits.tolist())


here = os.path.join(os.path.dirname(__file__), "..", "Tests", "Fixtures", "nn")
resnet = ResNet18(3, 4)
golden(resnet, torch.randn(4, 3, 64, 64), torch.tensor([0, 2, 1, 2]), os.path.join(here, "resnet18_w4.safetensors"), pth=True)
inference_fixture(resnet, here)
cfg = [4, 4, 0, 8, 8, 0, 16, 16, 16, 0, 32, 32, 32, 0, 32, 32, 32, 0]
golden(VGG(cfg, 3, 16), torch.randn(2, 3, 32, 32), torch.tensor([1, 2]), os.path.join(here, "vgg_small.safetensors"))
