"""Real faces in scenes, with known conditions: Tests/Fixtures/scenes, and the benchmark's dumps.

Each scene is one of the committed real face photos (Tests/Fixtures/faces, CC0) cut out with a
soft oval and placed in a 640x480 frame whose background is either plain (a painted wall: one
colour, a light gradient, sensor noise) or cluttered (a CC0 or public-domain photo from
scikit-image's data: a cafe table, a cat on a sofa, a launch pad, and brick,
gravel and grass textures tinted). Some scenes are dimmed (exposure x0.28 with noise), some
turned grayscale, and a third of the faces get an occluder: a patch of another photo's skin
(a hand) or of the cafe's cup over the mouth or one eye. The faces that are covered in their
own photo keep their cover. truth.csv: file, lighting, background, occlusion, gray, face photo.

    python3 tools/make_scenes.py SCIKIT_IMAGE_CHECKOUT [OUT] [--size 640x480] [--copies 2]

SCIKIT_IMAGE_CHECKOUT: a clone of scikit-image/scikit-image (its images are read with git show
from src/_skimage2/data or skimage/data). Needs Pillow and NumPy. The same seed gives the same
scenes.
"""
import argparse
import io
import os
import random
import subprocess

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageOps

here = os.path.dirname(os.path.abspath(__file__))
faces = os.path.join(here, "..", "Tests", "Fixtures", "faces")

# name → (licence words, tint for grayscale textures)
CLUTTER = {
    "coffee.png": "CC0 (Rachel Michetti)",
    "chelsea.png": "CC0 (Stefan van der Walt)",
    "rocket.jpg": "public domain (SpaceX)",
    "brick.png": "CC0 (CC0Textures Bricks25)",
    "gravel.png": "CC0 (CC0Textures Gravel04)",
    "grass.png": "CC0 (linolafett, DeviantArt)",
}
WALLS = [(214, 206, 190), (180, 196, 210), (236, 236, 232), (120, 132, 140), (198, 170, 150), (90, 100, 80), (240, 226, 200)]


def skimage_image(repo, name):
    for folder in ("src/_skimage2/data", "skimage/data"):
        r = subprocess.run(["git", "-C", repo, "show", f"HEAD:{folder}/{name}"], capture_output=True)
        if r.returncode == 0:
            return Image.open(io.BytesIO(r.stdout)).convert("RGB")
    raise SystemExit(f"{name}: not in {repo}")


def face_photos():
    rows = [l.split(",") for l in open(os.path.join(faces, "truth.csv")).read().splitlines()[1:]]
    # The photos of one face each, as taken (not the derived dim, gray, two-face, small or turned-by-EXIF files).
    return [(r[0], r[1]) for r in rows if "/" not in r[0] and "-" not in r[0] and r[1] not in ("none", "turned")]


def plain(size, rng):
    w, h = size
    base = np.array(rng.choice(WALLS), float)
    gx, gy = rng.uniform(-0.12, 0.12), rng.uniform(-0.15, 0.05)
    yy, xx = np.mgrid[0:h, 0:w]
    shade = 1 + gx * (xx / w - 0.5) + gy * (yy / h - 0.5)
    img = base[None, None, :] * shade[..., None] + np.random.default_rng(rng.randrange(1 << 30)).normal(0, 2.0, (h, w, 3))
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))


def cluttered(size, rng, backgrounds):
    name = rng.choice(sorted(backgrounds))
    im = backgrounds[name]
    if name in ("brick.png", "gravel.png", "grass.png"):
        tint = np.array(rng.choice([(1.0, 0.8, 0.6), (0.7, 0.9, 0.7), (0.9, 0.9, 1.0)]))
        im = Image.fromarray(np.clip(np.asarray(im, float) * tint, 0, 255).astype(np.uint8))
    w, h = size
    scale = max(w / im.width, h / im.height) * rng.uniform(1.0, 1.3)
    im = im.resize((round(im.width * scale), round(im.height * scale)), Image.BICUBIC)
    x, y = rng.randrange(im.width - w + 1), rng.randrange(im.height - h + 1)
    return im.crop((x, y, x + w, y + h)), name


def oval(size, feather):
    m = Image.new("L", size, 0)
    w, h = size
    ImageDraw.Draw(m).ellipse((w * 0.1, h * 0.02, w * 0.9, h * 1.02), fill=255)
    return m.filter(ImageFilter.GaussianBlur(feather))


def occluder(face, rng, donors, cup):
    """A hand (another photo's cheek skin, a rounded blob) or the cup, over the mouth or one eye."""
    w, h = face.size
    kind = rng.choice(["hand", "hand", "cup"])
    where = rng.choice(["mouth", "left eye", "right eye", "lower left", "lower right"])
    ow, oh = int(w * rng.uniform(0.34, 0.46)), int(h * rng.uniform(0.28, 0.38))
    cx, cy = {"mouth": (0.5, 0.74), "left eye": (0.36, 0.44), "right eye": (0.64, 0.44),
              "lower left": (0.34, 0.68), "lower right": (0.66, 0.68)}[where]
    if kind == "hand":
        donor = rng.choice(donors)
        dw = donor.width
        patch = donor.crop((int(dw * 0.28), int(dw * 0.55), int(dw * 0.72), int(dw * 0.8))).resize((ow, oh))
        patch = Image.fromarray(np.clip(np.asarray(patch, float) * rng.uniform(0.75, 0.95), 0, 255).astype(np.uint8))
    else:
        patch = cup.resize((ow, oh))
    mask = Image.new("L", (ow, oh), 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, ow - 1, oh - 1), radius=min(ow, oh) // 3, fill=255)
    out = face.copy()
    out.paste(patch, (int(w * cx - ow / 2), int(h * cy - oh / 2)), mask.filter(ImageFilter.GaussianBlur(1.5)))
    return out, f"{kind} over the {where}"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("skimage")
    p.add_argument("out", nargs="?", default=os.path.join(here, "..", "Tests", "Fixtures", "scenes"))
    p.add_argument("--size", default="640x480")
    p.add_argument("--copies", type=int, default=2)
    p.add_argument("--seed", type=int, default=26)
    p.add_argument("--quality", type=int, default=85)
    a = p.parse_args()
    size = tuple(int(v) for v in a.size.split("x"))
    rng = random.Random(a.seed)
    backgrounds = {n: skimage_image(a.skimage, n) for n in CLUTTER}
    coffee = backgrounds["coffee.png"]
    cup = coffee.crop((int(coffee.width * 0.3), int(coffee.height * 0.2), int(coffee.width * 0.75), int(coffee.height * 0.65)))
    photos = face_photos()
    donors = [Image.open(os.path.join(faces, f)).convert("RGB") for f, k in photos if k == "frontal"]
    os.makedirs(a.out, exist_ok=True)
    rows = []
    n = 0
    for copy in range(a.copies):
        for file, kind in photos:
            n += 1
            face = ImageOps.exif_transpose(Image.open(os.path.join(faces, file))).convert("RGB")
            covered = kind == "covered"
            note = "covered in its photo" if covered else ""
            if not covered and rng.random() < 0.34:
                face, note = occluder(face, rng, donors, cup)
                covered = True
            side = int(min(size) * rng.uniform(0.42, 0.62))
            face = face.resize((side, side), Image.LANCZOS)
            cluttered_bg = n % 2 == 0
            if cluttered_bg:
                scene, bg_name = cluttered(size, rng, backgrounds)
            else:
                scene, bg_name = plain(size, rng), "wall"
            x = rng.randrange(int(size[0] * 0.12), int(size[0] * 0.88) - side)
            y = rng.randrange(int(size[1] * 0.05), max(int(size[1] * 0.95) - side, int(size[1] * 0.05) + 1))
            scene.paste(face, (x, y), oval((side, side), side / 40))
            dim = rng.random() < 0.4
            if dim:
                arr = np.asarray(scene, float) * rng.uniform(0.22, 0.32)
                arr += np.random.default_rng(n).normal(0, 1.5, arr.shape)
                scene = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
            gray = rng.random() < 0.25
            if gray:
                scene = scene.convert("L").convert("RGB")
            name = f"scene-{n:03d}.jpg"
            scene.save(os.path.join(a.out, name), quality=a.quality)
            rows.append(f"{name},{'dim' if dim else 'bright'},{'cluttered' if cluttered_bg else 'plain'},"
                        f"{'partial' if covered else 'none'},{int(gray)},{file},{kind},{bg_name},{note}")
    with open(os.path.join(a.out, "truth.csv"), "w") as f:
        f.write("file,lighting,background,occlusion,gray,face_photo,face_kind,background_photo,note\n" + "\n".join(rows) + "\n")
    print(f"{len(rows)} scenes in {a.out}")


if __name__ == "__main__":
    main()
