"""Checks that PNG screenshots are not blank: the share of pixels that are not near-white.

    python3 tools/png_ink.py A.png B.png ...

Standard library only (zlib); reads 8-bit RGB/RGBA PNGs as Chromium writes them. Prints each
file's share and exits 1 when one is under 0.5%.
"""
import struct
import sys
import zlib


def pixels(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path}: not a PNG"
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and color in (2, 6), f"{path}: only 8-bit RGB/RGBA"
            channels = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = width * channels
    prev = bytearray(stride)
    rows = []
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b = prev[i]
            c = prev[i - channels] if i >= channels else 0
            if f == 1: line[i] = (line[i] + a) & 255
            elif f == 2: line[i] = (line[i] + b) & 255
            elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, channels, rows


def ink(path):
    w, h, ch, rows = pixels(path)
    step = 4  # every 4th pixel of every 4th row is plenty
    seen = inked = 0
    for y in range(0, h, step):
        r = rows[y]
        for x in range(0, w, step):
            seen += 1
            if min(r[x * ch], r[x * ch + 1], r[x * ch + 2]) < 235:
                inked += 1
    return inked / max(seen, 1)


bad = 0
for p in sys.argv[1:]:
    share = ink(p)
    print(f"{p}: {share * 100:.1f}% ink")
    if share < 0.005:
        print(f"{p}: blank", file=sys.stderr)
        bad += 1
sys.exit(1 if bad else 0)
