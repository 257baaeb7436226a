#!/usr/bin/env python3
"""The peer of `facet ingest --faces`: face detection and landmarks with dlib's Python binding
(the same HOG detector and 68-point model) and Pillow, on a process pool of one worker per
core, as a careful user writes it.

Per file: read, SHA-256, decode with Pillow, EXIF transpose, RGB; then either
  --as-documented: dlib's own example (face_detector.py): detector(image, 1) on the photo as
                   decoded, landmarks of the best face;
  --downscaled:    what facet does: Pillow's draft mode and a resize to a shorter side of 480,
                   the search without enlargement (once more enlarged when nothing is found),
                   threshold -0.5, landmarks of the best face.
It does none of ingest's other work (quality, features, perceptual hash, grouping).

    python3 bench/faces_dlib.py DUMP --repeats 3 [--downscaled]
"""
import argparse
import hashlib
import multiprocessing
import os
import pathlib
import statistics
import time

import dlib
import numpy as np
from PIL import Image, ImageOps

MODEL = "/usr/share/dlib/shape_predictor_68_face_landmarks.dat"
detector = predictor = None
downscaled = False


def init(scaled):
    global detector, predictor, downscaled
    detector, predictor, downscaled = dlib.get_frontal_face_detector(), dlib.shape_predictor(MODEL), scaled


def analyse(path):
    data = open(path, "rb").read()
    digest = hashlib.sha256(data).hexdigest()
    try:
        im = Image.open(path)
        if downscaled:
            im.draft("RGB", (480, 480))
        im = ImageOps.exif_transpose(im).convert("RGB")
    except Exception:
        return digest, None
    if downscaled and min(im.size) > 480:
        s = 480 / min(im.size)
        im = im.resize((round(im.width * s), round(im.height * s)), Image.BILINEAR)
    a = np.asarray(im)
    if downscaled:
        up = 1 if min(im.size) < 480 else 0
        dets, scores, _ = detector.run(a, up, -0.5)
        if not dets and up == 0:
            dets, scores, _ = detector.run(a, 1, -0.5)
    else:
        dets = detector(a, 1)
        scores = [0] * len(dets)
    if not dets:
        return digest, 0
    best = max(range(len(dets)), key=lambda i: scores[i])
    shape = predictor(a, dets[best])
    return digest, len(dets) + 0 * shape.num_parts


def main():
    p = argparse.ArgumentParser()
    p.add_argument("dump")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--downscaled", action="store_true")
    a = p.parse_args()
    files = sorted(str(f) for f in pathlib.Path(a.dump).rglob("*") if f.is_file() and f.suffix.lower() in (".jpg", ".jpeg", ".png"))
    rates, found = [], 0
    with multiprocessing.Pool(os.cpu_count(), initializer=init, initargs=(a.downscaled,)) as pool:
        pool.map(analyse, files[: os.cpu_count()])
        for _ in range(a.repeats):
            start = time.perf_counter()
            results = pool.map(analyse, files, chunksize=4)
            rates.append(len(files) / (time.perf_counter() - start))
            found = sum(1 for _, n in results if n)
    way = "downscaled to 480 like facet" if a.downscaled else "as dlib's example: detector(image, 1)"
    print(f"dlib+pillow ({way}): {len(files)} files, {found} with a face, {os.cpu_count()} processes, "
          f"median {statistics.median(rates):.2f} files/s over {len(rates)} runs ({', '.join(f'{r:.2f}' for r in rates)})")


if __name__ == "__main__":
    main()
