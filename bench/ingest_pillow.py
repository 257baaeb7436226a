#!/usr/bin/env python3
"""The peer of `facet ingest` + `facet tag`: the same per-photo work written with Pillow,
NumPy and SciPy by a careful user, on a process pool of one worker per core.

Per file: read, SHA-256, decode (Pillow's draft mode for JPEG DCT scaling), EXIF transpose,
shorter side to 256; quality statistics (cleanvision's brightness, FIND_EDGES variance,
gray entropy, colour spread); a DCT perceptual hash and a 16x16 thumbnail; condition
features (border edges and chromaticity at 64 px, skin-region asymmetry at 128 px).
Then grouping by hash and near-duplicate search, as ingest does.

    python3 bench/ingest_pillow.py DUMP --repeats 3
"""
import argparse
import hashlib
import multiprocessing
import os
import pathlib
import statistics
import time

import numpy as np
from PIL import Image, ImageFilter, ImageOps, ImageStat
from scipy import ndimage
from scipy.fft import dct


def resize_short(im, side):
    w, h = im.size
    s = side / min(w, h)
    return im.resize((max(1, round(w * s)), max(1, round(h * s))), Image.BILINEAR)


def border_mask(h, w):
    m = np.zeros((h, w), bool)
    bw, bh = max(w // 6, 1), max(h // 6, 1)
    m[:bh, :] = True
    m[: h * 2 // 3, :bw] = True
    m[: h * 2 // 3, w - bw:] = True
    m[h - 1, :] = False
    m[:, w - 1] = False
    return m


def analyse(path):
    data = open(path, "rb").read()
    digest = hashlib.sha256(data).hexdigest()
    try:
        im = Image.open(path)
        im.draft("RGB", (256, 256))
        im = ImageOps.exif_transpose(im).convert("RGB")
    except Exception as e:  # quarantined
        return digest, None
    im = resize_short(im, 256)
    stat = ImageStat.Stat(im)
    r, g, b = stat.mean
    brightness = (0.241 * r * r + 0.691 * g * g + 0.068 * b * b) ** 0.5 / 255
    gray = im.convert("L")
    edges = ImageStat.Stat(gray.filter(ImageFilter.FIND_EDGES)).var[0]
    entropy = gray.entropy()
    a = np.asarray(im, dtype=np.int16)
    spread = float((a.max(2) - a.min(2)).mean())
    g32 = np.asarray(gray.resize((32, 32), Image.BILINEAR), dtype=np.float64)
    c = dct(dct(g32, axis=0, norm=None), axis=1, norm=None)[:8, :8].ravel()
    phash = int("".join("1" if v > np.median(c[1:]) else "0" for v in c), 2)
    thumb = np.asarray(im.resize((16, 16), Image.BILINEAR))
    tiny = np.asarray(resize_short(im, 64), dtype=np.float64)
    h, w, _ = tiny.shape
    m = border_mask(h, w)
    tg = tiny @ [0.299, 0.587, 0.114]
    grad = np.zeros_like(tg)
    grad[:-1, :-1] = np.abs(np.diff(tg, axis=1))[:-1, :] + np.abs(np.diff(tg, axis=0))[:, :-1]
    border_edges = float((grad[m] / max(tg[m].mean(), 8) > 0.2).mean())
    chroma = tiny / np.maximum(tiny.sum(2, keepdims=True), 1)
    border_chroma = float(chroma[m][:, :2].std(0).sum())
    small = np.asarray(resize_short(im, 128), dtype=np.float64)
    R, G, B = small[..., 0], small[..., 1], small[..., 2]
    S = R + G + B
    rn, gn = R / np.maximum(S, 1), G / np.maximum(S, 1)
    skin = (S > 40) & (R > G) & (G > B) & (rn > 0.37) & (rn < 0.52) & (gn > 0.28) & (gn < 0.35)
    lab, n = ndimage.label(skin)
    asym = 0.0
    if n:
        comp = lab == (np.argmax(ndimage.sum(skin, lab, range(1, n + 1))) + 1)
        ys, xs = np.nonzero(comp)
        if len(xs) > 50:
            mx, my = xs.mean(), ys.mean()
            dx, dy = xs - mx, ys - my
            theta = 0.5 * np.arctan2(2 * (dx * dy).mean(), (dx * dx).mean() - (dy * dy).mean())
            ax, ay = np.cos(theta), np.sin(theta)
            along = dx * ax + dy * ay
            px = np.rint(mx + 2 * along * ax - dx).astype(int)
            py = np.rint(my + 2 * along * ay - dy).astype(int)
            ok = (px >= 0) & (px < comp.shape[1]) & (py >= 0) & (py < comp.shape[0])
            asym = 1 - comp[py[ok], px[ok]].sum() / len(xs)
    return digest, (brightness, edges, entropy, spread, phash, thumb, border_edges, border_chroma, asym)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("dump")
    p.add_argument("--repeats", type=int, default=3)
    a = p.parse_args()
    files = sorted(str(f) for f in pathlib.Path(a.dump).rglob("*") if f.is_file())
    rates = []
    with multiprocessing.Pool(os.cpu_count()) as pool:
        pool.map(analyse, files[: os.cpu_count()])
        for _ in range(a.repeats):
            start = time.perf_counter()
            results = pool.map(analyse, files, chunksize=8)
            photos = [r for r in results if r[1] is not None]
            hashes = np.array([r[1][4] for r in photos], dtype=np.uint64)
            near = 0
            for i in range(len(hashes)):  # the near-duplicate search, vectorised per row
                x = np.bitwise_xor(hashes[i + 1:], hashes[i])
                near += int((np.unpackbits(x.view(np.uint8).reshape(-1, 8), axis=1).sum(1) <= 6).sum())
            rates.append(len(files) / (time.perf_counter() - start))
    print(f"pillow-numpy ingest+tag: {len(files)} files, {os.cpu_count()} processes, median {statistics.median(rates):.1f} files/s "
          f"over {len(rates)} runs (min {min(rates):.1f}, max {max(rates):.1f})")


if __name__ == "__main__":
    main()
