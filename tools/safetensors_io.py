"""A safetensors writer in a few lines (the format: an 8-byte little-endian header length, a JSON
header, the raw data), so the fixture scripts need only PyTorch."""
import json
import os
import struct


def save(tensors, path, metadata):
    header, offset, blobs = {}, 0, []
    for name in sorted(tensors):
        t = tensors[name]
        raw = t.numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        blobs.append(raw)
    header["__metadata__"] = metadata
    h = json.dumps(header, sort_keys=True).encode()
    h += b" " * ((8 - (8 + len(h)) % 8) % 8)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
