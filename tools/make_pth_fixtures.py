#!/usr/bin/env python3
"""PyTorch files that test the .pth reader's corners (development only; `pip install torch==2.13.0+cpu`):

    python3 tools/make_pth_fixtures.py

- strided.pth / strided_legacy.pth: a transposed tensor, a slice at a storage offset, a
  float64, an int64 and a float16 tensor, wrapped as a checkpoint {"state_dict": …, "epoch": 3};
  strided.safetensors holds the same values, contiguous, as the expected result.
- malicious.pth (zip) and malicious_legacy.pth: pickles whose loading would call os.system.
"""
import io
import os
import pickle
import sys
import zipfile

import torch

sys.path.insert(0, os.path.dirname(__file__))
from safetensors_io import save  # noqa: E402

here = os.path.join(os.path.dirname(__file__), "..", "Tests", "Fixtures", "nn")
base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
sd = {
    "transposed": base.t(),                      # stride (1, 6)
    "sliced": base.flatten()[5:17].view(3, 4),   # storage offset 5
    "double": torch.linspace(-1, 1, 5, dtype=torch.float64),
    "long": torch.tensor([3, -2, 7]),
    "half": torch.tensor([0.5, -1.25, 3.0], dtype=torch.float16),
}
ckpt = {"state_dict": sd, "epoch": 3, "note": "not a tensor"}
torch.save(ckpt, os.path.join(here, "strided.pth"))
torch.save(ckpt, os.path.join(here, "strided_legacy.pth"), _use_new_zipfile_serialization=False)
save({k: v.float().contiguous() for k, v in sd.items()}, os.path.join(here, "strided.safetensors"), {"generator": "tools/make_pth_fixtures.py"})


class Exploit:
    def __reduce__(self):
        return (os.system, ("echo facet-was-exploited > /tmp/facet-exploited",))


payload = pickle.dumps({"weight": Exploit()}, protocol=2)
with zipfile.ZipFile(os.path.join(here, "malicious.pth"), "w", zipfile.ZIP_STORED) as z:
    z.writestr("archive/data.pkl", payload)
    z.writestr("archive/version", "3\n")
with open(os.path.join(here, "malicious_legacy.pth"), "wb") as f:
    f.write(payload)
print("wrote strided.pth, strided_legacy.pth, strided.safetensors, malicious.pth, malicious_legacy.pth")
