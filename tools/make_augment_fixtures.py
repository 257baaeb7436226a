#!/usr/bin/env python3
"""Golden fixtures for facet's augmentation: torchvision's tensor semantics, run by PyTorch.

The functions below are torchvision's `transforms/_functional_tensor.py` (adjust_brightness,
adjust_contrast, adjust_saturation, adjust_hue, gaussian_blur, hflip, vflip and their
helpers), copied in a few lines because torchvision's wheel does not load here; they run on
uint8 CHW tensors exactly as torchvision's ColorJitter, GaussianBlur and RandomHorizontalFlip
do once their random parameters are drawn. facet, given the same parameters, must match
within 1 level per pixel.

    pip install torch==2.13.0+cpu numpy
    python3 tools/make_augment_fixtures.py

Writes Tests/Fixtures/augment/: inputs (input-N.ppm), expected outputs (case-K.ppm) and
cases.json (input, ops in order with their parameters).
"""
import json
import pathlib

import numpy as np
import torch
from torch.nn.functional import conv2d, pad as torch_pad

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "Tests/Fixtures/augment"


def _blend(img1, img2, ratio):
    ratio = float(ratio)
    return (ratio * img1 + (1.0 - ratio) * img2).clamp(0, 255).to(img1.dtype)


def rgb_to_grayscale(img):
    r, g, b = img.unbind(dim=-3)
    return (0.2989 * r + 0.587 * g + 0.114 * b).to(img.dtype).unsqueeze(dim=-3)


def adjust_brightness(img, f):
    return _blend(img, torch.zeros_like(img), f)


def adjust_contrast(img, f):
    mean = torch.mean(rgb_to_grayscale(img).to(torch.float32), dim=(-3, -2, -1), keepdim=True)
    return _blend(img, mean, f)


def adjust_saturation(img, f):
    return _blend(img, rgb_to_grayscale(img), f)


def _rgb2hsv(img):
    r, g, b = img.unbind(dim=-3)
    maxc = torch.max(img, dim=-3).values
    minc = torch.min(img, dim=-3).values
    eqc = maxc == minc
    cr = maxc - minc
    ones = torch.ones_like(maxc)
    s = cr / torch.where(eqc, ones, maxc)
    cr_divisor = torch.where(eqc, ones, cr)
    rc = (maxc - r) / cr_divisor
    gc = (maxc - g) / cr_divisor
    bc = (maxc - b) / cr_divisor
    hr = (maxc == r) * (bc - gc)
    hg = ((maxc == g) & (maxc != r)) * (2.0 + rc - bc)
    hb = ((maxc != g) & (maxc != r)) * (4.0 + gc - rc)
    h = torch.fmod((hr + hg + hb) / 6.0 + 1.0, 1.0)
    return torch.stack((h, s, maxc), dim=-3)


def _hsv2rgb(img):
    h, s, v = img.unbind(dim=-3)
    i = torch.floor(h * 6.0)
    f = (h * 6.0) - i
    i = i.to(dtype=torch.int32)
    p = torch.clamp((v * (1.0 - s)), 0.0, 1.0)
    q = torch.clamp((v * (1.0 - s * f)), 0.0, 1.0)
    t = torch.clamp((v * (1.0 - s * (1.0 - f))), 0.0, 1.0)
    i = i % 6
    mask = i.unsqueeze(dim=-3) == torch.arange(6).view(-1, 1, 1)
    a1 = torch.stack((v, q, p, p, t, v), dim=-3)
    a2 = torch.stack((t, v, v, q, p, p), dim=-3)
    a3 = torch.stack((p, p, t, v, v, q), dim=-3)
    a4 = torch.stack((a1, a2, a3), dim=-4)
    return torch.einsum("...ijk, ...xijk -> ...xjk", mask.to(dtype=img.dtype), a4)


def adjust_hue(img, f):
    x = img.to(torch.float32) / 255.0
    h, s, v = _rgb2hsv(x).unbind(dim=-3)
    h = (h + f) % 1.0
    x = _hsv2rgb(torch.stack((h, s, v), dim=-3))
    return x.mul(255.0 + 1.0 - 1e-3).to(torch.uint8)


def gaussian_blur(img, kernel_size, sigma):
    ksize_half = (kernel_size - 1) * 0.5
    x = torch.linspace(-ksize_half, ksize_half, steps=kernel_size, dtype=torch.float32)
    pdf = torch.exp(-0.5 * (x / sigma).pow(2))
    k1 = pdf / pdf.sum()
    kernel = torch.mm(k1[:, None], k1[None, :]).expand(img.shape[-3], 1, kernel_size, kernel_size)
    x = img.unsqueeze(0).to(torch.float32)
    p = kernel_size // 2
    x = torch_pad(x, [p, p, p, p], mode="reflect")
    x = conv2d(x, kernel, groups=x.shape[-3])
    return torch.round(x.squeeze(0)).to(torch.uint8)


OPS = {
    "hflip": lambda img, a: img.flip(-1),
    "vflip": lambda img, a: img.flip(-2),
    "gaussian_blur": lambda img, a: gaussian_blur(img, a["kernel"], a["sigma"]),
    "brightness": lambda img, a: adjust_brightness(img, a["factor"]),
    "contrast": lambda img, a: adjust_contrast(img, a["factor"]),
    "saturation": lambda img, a: adjust_saturation(img, a["factor"]),
    "hue": lambda img, a: adjust_hue(img, a["factor"]),
}


def ppm(a):
    h, w, _ = a.shape
    return b"P6\n%d %d\n255\n" % (w, h) + np.ascontiguousarray(a, dtype=np.uint8).tobytes()


def inputs():
    rng = np.random.default_rng(2024)
    out = []
    for w, h in [(40, 32), (33, 27), (64, 48)]:
        noise = rng.integers(0, 256, size=(h // 4 + 2, w // 4 + 2, 3)).astype(np.float64)
        big = np.kron(noise, np.ones((4, 4, 1)))[:h, :w]  # blocky colour field
        y, x = np.mgrid[0:h, 0:w]
        big[..., 0] = 0.6 * big[..., 0] + 0.4 * (x * 255 / (w - 1))
        big[..., 2] = 0.7 * big[..., 2] + 0.3 * (y * 255 / (h - 1))
        out.append(np.clip(big, 0, 255).astype(np.uint8))
    gray = np.repeat(out[0][..., :1], 3, axis=2)  # an image with no colour, for hue and saturation
    out.append(gray)
    return out


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    images = inputs()
    for n, a in enumerate(images):
        (OUT / f"input-{n}.ppm").write_bytes(ppm(a))
    rng = np.random.default_rng(7)
    cases = []
    for k in range(24):
        n = k % len(images)
        ops = []
        if rng.random() < 0.5:
            ops.append({"op": "hflip"})
        if rng.random() < 0.5:
            ops.append({"op": "vflip"})
        if rng.random() < 0.6:
            ops.append({"op": "gaussian_blur", "kernel": int(rng.choice([3, 5, 7])), "sigma": float(rng.uniform(0.1, 2.0))})
        jitter = [
            {"op": "brightness", "factor": float(rng.uniform(0.6, 1.4))},
            {"op": "contrast", "factor": float(rng.uniform(0.6, 1.4))},
            {"op": "saturation", "factor": float(rng.uniform(0.6, 1.4))},
            {"op": "hue", "factor": float(rng.uniform(-0.1, 0.1))},
        ]
        ops += [jitter[i] for i in rng.permutation(4)]  # ColorJitter: the four in a random order
        img = torch.from_numpy(images[n]).permute(2, 0, 1).contiguous()
        for op in ops:
            img = OPS[op["op"]](img, op)
        (OUT / f"case-{k}.ppm").write_bytes(ppm(img.permute(1, 2, 0).numpy()))
        cases.append({"input": n, "ops": ops, "expected": f"case-{k}.ppm"})
    (OUT / "cases.json").write_text(json.dumps({"torch": torch.__version__, "cases": cases}, indent=1) + "\n")
    print(f"wrote {len(cases)} cases on {len(images)} inputs to {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
