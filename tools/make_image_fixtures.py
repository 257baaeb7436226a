#!/usr/bin/env python3
"""Reference fixtures for FacetImageTests, made with Pillow (a trusted decoder).

    pip install pillow numpy
    python3 tools/make_image_fixtures.py

Writes, under Tests/Fixtures:
- pngsuite-expected/NAME.ppm: Pillow's decode of every valid PngSuite file, as 8-bit RGB.
  The conversion is convert("RGB") (alpha and tRNS dropped, gray copied to R, G, B);
  16-bit gray, which Pillow keeps as an integer mode, is scaled as round(v * 255 / 65535).
- resize/: a deterministic pattern and Pillow's BILINEAR resizes of it (antialiased when
  shrinking), to check facet's resize within 1 level.
- jpeg-variants/: baseline, progressive, grayscale, CMYK and YCCK (Adobe) JPEGs of one picture,
  a PNG with an eXIf orientation, and the picture itself (source.ppm).
All images are binary PPM (P6) or PGM (P5) so the tests need no decoder of their own.
"""
import io
import pathlib
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIX = ROOT / "Tests/Fixtures"


def ppm(array):
    h, w, _ = array.shape
    return b"P6\n%d %d\n255\n" % (w, h) + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def rgb(path):
    im = Image.open(path)
    im.load()
    if im.mode in ("I", "I;16", "I;16B", "I;16L"):
        a = np.asarray(im).astype(np.float64)
        g = np.clip(np.round(a * 255.0 / 65535.0), 0, 255).astype(np.uint8)
        return np.stack([g, g, g], axis=-1)
    return np.asarray(im.convert("RGB"), dtype=np.uint8)


def pngsuite():
    out = FIX / "pngsuite-expected"
    out.mkdir(parents=True, exist_ok=True)
    count = 0
    for path in sorted((FIX / "pngsuite").glob("*.png")):
        if path.name.startswith("x"):
            continue
        (out / (path.stem + ".ppm")).write_bytes(ppm(rgb(path)))
        count += 1
    return count


def pattern(w, h):
    y, x = np.mgrid[0:h, 0:w]
    r = (x * 255 // max(w - 1, 1))
    g = ((x * 7 + y * 13) % 256)
    b = np.where(((x // 4) + (y // 4)) % 2 == 0, 230, 20)
    return np.stack([r, g, b], axis=-1).astype(np.uint8)


def resize():
    out = FIX / "resize"
    out.mkdir(parents=True, exist_ok=True)
    src = pattern(64, 48)
    (out / "source.ppm").write_bytes(ppm(src))
    im = Image.fromarray(src, "RGB")
    for w, h in [(20, 15), (32, 24), (7, 40), (100, 70), (64, 13)]:
        (out / f"bilinear_{w}x{h}.ppm").write_bytes(ppm(np.asarray(im.resize((w, h), Image.BILINEAR))))


def smooth_picture(w, h):
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 128 + 100 * np.sin(x / 9.0)
    g = 128 + 100 * np.cos(y / 7.0)
    b = 128 + 90 * np.sin((x + y) / 13.0)
    return np.clip(np.stack([r, g, b], axis=-1), 0, 255).astype(np.uint8)


def jpeg_variants():
    out = FIX / "jpeg-variants"
    out.mkdir(parents=True, exist_ok=True)
    src = smooth_picture(96, 64)
    (out / "source.ppm").write_bytes(ppm(src))
    im = Image.fromarray(src, "RGB")
    im.save(out / "baseline.jpg", quality=95)
    im.save(out / "progressive.jpg", quality=95, progressive=True)
    im.convert("L").save(out / "gray.jpg", quality=95)
    im.convert("CMYK").save(out / "cmyk.jpg", quality=95)
    # Pillow cannot write YCCK; libjpeg can (tools/make_ycck_jpeg.c, needs gcc and libjpeg-dev).
    tool = pathlib.Path(tempfile.mkdtemp()) / "make_ycck"
    subprocess.run(["gcc", "-O2", "-o", str(tool), str(ROOT / "tools/make_ycck_jpeg.c"), "-ljpeg"], check=True)
    subprocess.run([str(tool), str(out / "source.ppm"), str(out / "ycck.jpg")], check=True)
    # Pillow's own decode of each, as the reference.
    for name in ["baseline", "progressive", "gray", "cmyk", "ycck"]:
        (out / f"{name}.ppm").write_bytes(ppm(np.asarray(Image.open(out / f"{name}.jpg").convert("RGB"))))
    exif = Image.Exif()
    exif[0x0112] = 6
    im.save(out / "exif-orientation-6.png", exif=exif.tobytes())


def main():
    count = pngsuite()
    resize()
    jpeg_variants()
    print(f"wrote {count} PngSuite references, resize and JPEG variant fixtures", file=sys.stderr)


if __name__ == "__main__":
    main()
