#!/usr/bin/env python3
"""The peer of `facet bench decode`: Pillow decoding photos to a SIZE x SIZE square.

Each photo: open, EXIF transpose, resize the shorter side to SIZE (BILINEAR, antialiased),
centre crop - what torchvision's Resize(SIZE) + CenterCrop(SIZE) over Pillow's loader does.
Mode "plain" decodes at full size (as ImageFolder's default loader); mode "draft" first asks
libjpeg for a reduced DCT scale with Image.draft, as a careful Pillow user would. Work is
spread over a process pool of one worker per core, as a DataLoader with workers would.

    python3 bench/decode_pillow.py FOLDER --size 224 --repeats 5 --mode draft
"""
import argparse
import multiprocessing
import os
import pathlib
import statistics
import time

from PIL import Image, ImageOps


def load(args):
    path, size, draft = args
    with Image.open(path) as im:
        if draft:
            im.draft("RGB", (size, size))
        im = ImageOps.exif_transpose(im).convert("RGB")
        w, h = im.size
        if w <= h:
            nw, nh = size, int(size * h / w)
        else:
            nw, nh = int(size * w / h), size
        im = im.resize((nw, nh), Image.BILINEAR)
        left, top = round((nw - size) / 2), round((nh - size) / 2)
        return im.crop((left, top, left + size, top + size)).size


def main():
    p = argparse.ArgumentParser()
    p.add_argument("folder")
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--mode", choices=["plain", "draft"], default="draft")
    a = p.parse_args()
    files = sorted(str(f) for f in pathlib.Path(a.folder).rglob("*") if f.suffix.lower() in (".jpg", ".jpeg", ".png"))
    work = []
    for f in files:  # the broken files of a synth dump are left out, as facet counts them failed
        try:
            with Image.open(f) as im:
                im.load()
            work.append((f, a.size, a.mode == "draft"))
        except Exception:
            pass
    cores = os.cpu_count()
    rates = []
    with multiprocessing.Pool(cores) as pool:
        pool.map(load, work[:cores])  # start the workers before timing
        for _ in range(a.repeats):
            start = time.perf_counter()
            pool.map(load, work, chunksize=4)
            rates.append(len(work) / (time.perf_counter() - start))
    print(f"pillow-{a.mode} decode+resize {a.size} px: {len(work)} files, {cores} processes, "
          f"median {statistics.median(rates):.1f} images/s over {len(rates)} runs (min {min(rates):.1f}, max {max(rates):.1f})")


if __name__ == "__main__":
    main()
