#!/usr/bin/env python3
"""Golden fixtures for FacetNN's layers, made with PyTorch (development only; the tests read
the committed file and need no Python):

    pip install torch==2.13.0+cpu
    python3 tools/make_nn_fixtures.py        # writes Tests/Fixtures/nn/layers.safetensors

Every case stores its inputs, parameters, the upstream gradient `dout`, and PyTorch's outputs
and gradients, in float32, under names `CASE.TENSOR`. The configurations (strides, paddings,
sizes) are in CASES below and repeated in Tests/FacetNNTests/GoldenLayerTests.swift."""
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from safetensors_io import save  # noqa: E402

torch.manual_seed(0)
torch.use_deterministic_algorithms(True)
out = {}


def put(case, **tensors):
    for k, v in tensors.items():
        out[f"{case}.{k}"] = v.detach().to(torch.float32).contiguous()


def conv(case, n, c, h, w, k, ks, stride, padding, bias):
    x = torch.randn(n, c, h, w, requires_grad=True)
    wt = torch.randn(k, c, ks, ks, requires_grad=True)
    b = torch.randn(k, requires_grad=True) if bias else None
    y = F.conv2d(x, wt, b, stride=stride, padding=padding)
    dout = torch.randn_like(y)
    y.backward(dout)
    put(case, x=x, w=wt, y=y, dout=dout, dx=x.grad, dw=wt.grad, **({"b": b, "db": b.grad} if bias else {}))


conv("conv_a", 2, 3, 7, 6, 4, 3, 2, 1, True)      # 3×3, stride 2, padding 1, bias
conv("conv_b", 2, 5, 6, 6, 3, 1, 1, 0, False)     # 1×1 projection, no bias (ResNet downsample is 1×1 stride 2)
conv("conv_c", 2, 3, 16, 16, 4, 7, 2, 3, False)   # ResNet's stem: 7×7, stride 2, padding 3
conv("conv_d", 1, 4, 5, 5, 2, 1, 2, 0, False)     # 1×1 stride 2

# Batch norm, training: batch statistics, running statistics moved by momentum 0.1 (unbiased variance).
x = torch.randn(3, 4, 5, 5, requires_grad=True)
bn = torch.nn.BatchNorm2d(4)
with torch.no_grad():
    bn.weight.copy_(torch.randn(4)); bn.bias.copy_(torch.randn(4))
    bn.running_mean.copy_(torch.randn(4)); bn.running_var.copy_(torch.rand(4) + 0.5)
put("bn", gamma=bn.weight, beta=bn.bias, running_mean_before=bn.running_mean.clone(), running_var_before=bn.running_var.clone())
bn.train()
y = bn(x)
dout = torch.randn_like(y)
y.backward(dout)
put("bn", x=x, y=y, dout=dout, dx=x.grad, dgamma=bn.weight.grad, dbeta=bn.bias.grad,
    running_mean=bn.running_mean, running_var=bn.running_var)
bn.eval()
put("bn", y_eval=bn(x))

for case, (n, c, h, w, k, s, p) in {"maxpool_a": (2, 3, 9, 8, 3, 2, 1), "maxpool_b": (2, 2, 6, 7, 2, 2, 0)}.items():
    x = torch.randn(n, c, h, w, requires_grad=True)
    y = F.max_pool2d(x, k, s, p)
    dout = torch.randn_like(y)
    y.backward(dout)
    put(case, x=x, y=y, dout=dout, dx=x.grad)

for case, (n, c, h, w, oh, ow) in {"avgpool_a": (2, 3, 10, 9, 1, 1), "avgpool_b": (2, 3, 10, 9, 7, 7), "avgpool_c": (1, 2, 3, 5, 7, 7)}.items():
    x = torch.randn(n, c, h, w, requires_grad=True)
    y = F.adaptive_avg_pool2d(x, (oh, ow))
    dout = torch.randn_like(y)
    y.backward(dout)
    put(case, x=x, y=y, dout=dout, dx=x.grad)

x = torch.randn(5, 7, requires_grad=True)
lin = torch.nn.Linear(7, 3)
y = lin(x)
dout = torch.randn_like(y)
y.backward(dout)
put("linear", x=x, w=lin.weight, b=lin.bias, y=y, dout=dout, dx=x.grad, dw=lin.weight.grad, db=lin.bias.grad)

logits = (torch.randn(6, 3) * 3).requires_grad_(True)
targets = torch.tensor([0, 2, 1, 1, 0, 2])
loss = F.cross_entropy(logits, targets)
loss.backward()
put("ce", logits=logits, targets=targets, loss=loss.reshape(1), dlogits=logits.grad)

x = torch.randn(2, 3, 4, 4)
put("relu", x=x, y=F.relu(x))


path = os.path.join(os.path.dirname(__file__), "..", "Tests", "Fixtures", "nn", "layers.safetensors")
save(out, path, {"generator": "tools/make_nn_fixtures.py", "torch": torch.__version__})
print(f"{path}: {len(out)} tensors")
