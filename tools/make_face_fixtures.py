"""Real face photos for the face tests: Tests/Fixtures/faces.

Originals: 256x256 crops from cjdowner/interfaces ("inter-faces", version 1.4, commit 2166b22),
Pexels photos released under CC0 (the repository's README; each photo's Pexels page is in its
CREDITS.md, copied to SOURCES.md here). Derived files are made from those originals and from
Tests/Fixtures/exif-orientation/Landscape_1.jpg (MIT) with Pillow, as below.

    python3 tools/make_face_fixtures.py PATH_TO_INTERFACES_CHECKOUT

Needs Pillow. The truth (truth.csv) is written by hand from the photos; see CORPORA.md.
"""
import os
import re
import subprocess
import sys

from PIL import Image, ImageDraw, ImageEnhance

ORIGINALS = {
    "frontal": "001 005 006 007 009 010 011 013 014 016 018 020 021 022 023 025 027 028 030 031 064 070",
    "sunglasses": "004 026 038 099",
    "covered": "003 051 052",
    "turned": "002 012 017 019 024 048 055 063",
    "small": "015",
}

here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "..", "Tests", "Fixtures", "faces")


def original(repo, name):
    data = subprocess.run(["git", "-C", repo, "show", f"HEAD:256 x 256/{name}.jpg"], check=True, capture_output=True).stdout
    path = os.path.join(out, f"{name}.jpg")
    with open(path, "wb") as f:
        f.write(data)
    return path


def main():
    repo = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for names in ORIGINALS.values():
        for n in names.split():
            original(repo, n)
    load = lambda n: Image.open(os.path.join(out, f"{n}.jpg")).convert("RGB")
    # A dim photo: 001 at a quarter of its brightness.
    ImageEnhance.Brightness(load("001")).enhance(0.25).save(os.path.join(out, "dim-001.jpg"), quality=92)
    # A grayscale JPEG (one channel): 010.
    load("010").convert("L").save(os.path.join(out, "gray-010.jpg"), quality=92)
    # The mouth and chin of 021 covered by a flat dark patch (as a hand or a mask would).
    covered = load("021")
    ImageDraw.Draw(covered).rectangle([92, 138, 168, 205], fill=(52, 44, 40))
    covered.save(os.path.join(out, "covered-021.jpg"), quality=92)
    # Two faces in one frame: 007 and 009 side by side.
    two = Image.new("RGB", (512, 256))
    two.paste(load("007"), (0, 0))
    two.paste(load("009"), (256, 0))
    two.save(os.path.join(out, "two-007-009.jpg"), quality=92)
    # A small face in a scene: 005 at 96 px on the landscape at 640x427.
    scene = Image.open(os.path.join(here, "..", "Tests", "Fixtures", "exif-orientation", "Landscape_1.jpg")).convert("RGB").resize((640, 427))
    scene.paste(load("005").resize((96, 96)), (420, 150))
    scene.save(os.path.join(out, "small-005.jpg"), quality=92)
    # Stored turned a quarter, with EXIF orientation 6 (rotate 90° clockwise to display): 011.
    exif = Image.Exif()
    exif[0x0112] = 6
    load("011").transpose(Image.Transpose.ROTATE_90).save(os.path.join(out, "exif6-011.jpg"), quality=92, exif=exif.tobytes())
    # The sources of the originals, from the repository's credits.
    credits = subprocess.run(["git", "-C", repo, "show", "HEAD:CREDITS.md"], check=True, capture_output=True, text=True).stdout
    kept = {n for names in ORIGINALS.values() for n in names.split()}
    lines = [l for l in credits.splitlines() if (m := re.match(r"- \[(\d{3})\.jpg\]", l)) and m.group(1) in kept]
    with open(os.path.join(out, "SOURCES.md"), "w") as f:
        f.write("# Sources\n\nFrom cjdowner/interfaces 1.4 (commit 2166b22), `256 x 256/`: Pexels photos under CC0 1.0\n"
                "(https://creativecommons.org/publicdomain/zero/1.0/). Each file's Pexels page:\n\n")
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
