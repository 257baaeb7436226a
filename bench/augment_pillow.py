#!/usr/bin/env python3
"""The peer of `facet augment`: Pillow + torchvision transforms on a process pool.

Per photo: open (draft mode), EXIF transpose, Resize(224) + CenterCrop(224), then
RandomHorizontalFlip, RandomVerticalFlip, GaussianBlur(5, (0.1, 2.0)) applied with p=0.5
and ColorJitter(0.4, 0.4, 0.4, 0.1), then JPEG (quality 95) to disk. torchvision's own
transforms are used when torchvision imports; where its wheel does not load (as on the
development machines), the same PIL code path is run from the functions below, which are
torchvision's `_functional_pil` (ImageEnhance for brightness, contrast and saturation, an
HSV shift for hue) and its `gaussian_blur` for PIL images (tensor conv2d through torch).

    python3 bench/augment_pillow.py FOLDER OUT --repeats 3
    python3 bench/augment_pillow.py --ops PHOTO      (each step alone on one photo, median ms)
"""
import argparse
import multiprocessing
import os
import pathlib
import random
import statistics
import time

import numpy as np
from PIL import Image, ImageEnhance, ImageOps

SIZE = 224

def adjust_hue(img, f):
    """torchvision's `_functional_pil.adjust_hue`: an HSV shift of the hue channel."""
    h, s, v = img.convert("HSV").split()
    np_h = np.array(h, dtype=np.uint8)
    with np.errstate(over="ignore"):
        np_h += np.int32(f * 255).astype(np.uint8)
    return Image.merge("HSV", (Image.fromarray(np_h, "L"), s, v)).convert("RGB")


def gaussian_blur(img, sigma):
    """torchvision's `gaussian_blur` for a PIL image: 5 taps, reflect padding, through torch's conv2d."""
    import torch
    from torch.nn.functional import conv2d, pad as torch_pad

    t = torch.from_numpy(np.array(img)).permute(2, 0, 1).unsqueeze(0).float()
    x = torch.linspace(-2.0, 2.0, steps=5)
    k1 = torch.exp(-0.5 * (x / sigma) ** 2)
    k1 = k1 / k1.sum()
    k = torch.mm(k1[:, None], k1[None, :]).expand(3, 1, 5, 5)
    t = conv2d(torch_pad(t, [2, 2, 2, 2], mode="reflect"), k, groups=3)
    return Image.fromarray(torch.round(t.squeeze(0)).to(torch.uint8).permute(1, 2, 0).numpy())


try:
    from torchvision import transforms as T  # noqa: F401

    AUG = T.Compose([T.RandomHorizontalFlip(), T.RandomVerticalFlip(), T.RandomApply([T.GaussianBlur(5, (0.1, 2.0))], p=0.5),
                     T.ColorJitter(0.4, 0.4, 0.4, 0.1)])
    PEER = "torchvision"
except Exception:
    import torch

    torch.set_num_threads(1)

    def AUG(img):
        if random.random() < 0.5:
            img = img.transpose(Image.FLIP_LEFT_RIGHT)
        if random.random() < 0.5:
            img = img.transpose(Image.FLIP_TOP_BOTTOM)
        if random.random() < 0.5:
            img = gaussian_blur(img, random.uniform(0.1, 2.0))
        ops = [lambda i: ImageEnhance.Brightness(i).enhance(random.uniform(0.6, 1.4)),
               lambda i: ImageEnhance.Contrast(i).enhance(random.uniform(0.6, 1.4)),
               lambda i: ImageEnhance.Color(i).enhance(random.uniform(0.6, 1.4)),
               lambda i: adjust_hue(i, random.uniform(-0.1, 0.1))]
        for k in random.sample(range(4), 4):
            img = ops[k](img)
        return img

    PEER = "pillow+torchvision-pil-path"


def load(path):
    """Decoded at the DCT scale `draft` picks for SIZE, upright, RGB."""
    with Image.open(path) as im:
        im.draft("RGB", (SIZE, SIZE))
        return ImageOps.exif_transpose(im).convert("RGB")


def to_square(im):
    """Resize(SIZE) + CenterCrop(SIZE)."""
    w, h = im.size
    s = SIZE / min(w, h)
    nw, nh = max(SIZE, int(w * s)), max(SIZE, int(h * s))
    left, top = round((nw - SIZE) / 2), round((nh - SIZE) / 2)
    return im.resize((nw, nh), Image.BILINEAR).crop((left, top, left + SIZE, top + SIZE))


def work(args):
    path, out = args
    AUG(to_square(load(path))).save(out, quality=95)


def ops(photo, repeats=31):
    """Each step of `work` alone on one photo, single-threaded, as `facet bench ops` times facet's."""
    import io
    import torch

    torch.set_num_threads(1)
    im = load(photo)
    square = to_square(im)
    steps = [("decode", lambda: load(photo)), ("resize", lambda: to_square(im)),
             ("hflip", lambda: square.transpose(Image.FLIP_LEFT_RIGHT)), ("vflip", lambda: square.transpose(Image.FLIP_TOP_BOTTOM)),
             ("blur", lambda: gaussian_blur(square, 1.2)), ("brightness", lambda: ImageEnhance.Brightness(square).enhance(1.2)),
             ("contrast", lambda: ImageEnhance.Contrast(square).enhance(1.2)), ("saturation", lambda: ImageEnhance.Color(square).enhance(1.2)),
             ("hue", lambda: adjust_hue(square, 0.07)), ("jpeg", lambda: square.save(io.BytesIO(), "JPEG", quality=95))]
    for name, step in steps:
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            step()
            times.append((time.perf_counter() - start) * 1e3)
        print(f"pillow {name:<10} {statistics.median(times):8.3f} ms")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("folder", nargs="?")
    p.add_argument("out", nargs="?")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--ops", metavar="PHOTO")
    a = p.parse_args()
    if a.ops:
        return ops(a.ops)
    if not a.folder or not a.out:
        p.error("FOLDER and OUT are needed (or --ops PHOTO)")
    files = sorted(str(f) for f in pathlib.Path(a.folder).rglob("*") if f.suffix.lower() in (".jpg", ".jpeg", ".png"))
    good = []
    for f in files:
        try:
            with Image.open(f) as im:
                im.load()
            good.append(f)
        except Exception:
            pass
    os.makedirs(a.out, exist_ok=True)
    jobs = [(f, os.path.join(a.out, f"{i}.jpg")) for i, f in enumerate(good)]
    rates = []
    with multiprocessing.Pool(os.cpu_count()) as pool:
        pool.map(work, jobs[: os.cpu_count()])
        for _ in range(a.repeats):
            start = time.perf_counter()
            pool.map(work, jobs, chunksize=8)
            rates.append(len(jobs) / (time.perf_counter() - start))
    print(f"{PEER} augment {SIZE} px: {len(jobs)} photos, {os.cpu_count()} processes, median {statistics.median(rates):.1f} photos/s "
          f"over {len(rates)} runs (min {min(rates):.1f}, max {max(rates):.1f})")


if __name__ == "__main__":
    main()
