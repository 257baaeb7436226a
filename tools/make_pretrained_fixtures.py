"""Small weight files with the real key layouts of the study's two pretrained networks, for the
end-to-end test of the pretrained and VGGFace paths (random weights: only the layout is real).

    pip install torch==2.13.0+cpu
    python3 tools/make_pretrained_fixtures.py

Writes Tests/Fixtures/nn/
  resnet18_imagenet_w4.pth   torchvision's ResNet18 keys and 1000-class head, channel width 4,
                             in the zip format torchvision's resnet18-f37072fd.pth uses
  vggface_w2_legacy.pth      the VGG-Face port's keys (conv1_1 … conv5_3, fc6, fc7, fc8 with 2622
                             identities), channels 2/64 of VGG16's, hidden 128, in the legacy
                             (pre-1.6) format vgg_face_dag.pth uses
"""
import collections
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
from torch_models import ResNet18  # noqa: E402

here = os.path.join(os.path.dirname(__file__), "..", "Tests", "Fixtures", "nn")
torch.manual_seed(7)

resnet = ResNet18(1000, 4)
for m in resnet.modules():  # running statistics that are not the defaults, as a trained network has
    if isinstance(m, torch.nn.BatchNorm2d):
        m.running_mean.uniform_(-0.1, 0.1)
        m.running_var.uniform_(0.5, 1.5)
        m.num_batches_tracked.fill_(1000)
torch.save(resnet.state_dict(), os.path.join(here, "resnet18_imagenet_w4.pth"))

width, hidden = 2, 128
state = collections.OrderedDict()
inp, block, index = 3, 1, 1
for v in [64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0]:
    if v == 0:
        block, index = block + 1, 1
        continue
    c = v * width // 64
    conv = torch.nn.Conv2d(inp, c, 3, padding=1)
    state[f"conv{block}_{index}.weight"] = conv.weight.detach().clone()
    state[f"conv{block}_{index}.bias"] = conv.bias.detach().clone()
    inp, index = c, index + 1
for name, (i, o) in [("fc6", (inp * 7 * 7, hidden)), ("fc7", (hidden, hidden)), ("fc8", (hidden, 2622))]:
    fc = torch.nn.Linear(i, o)
    state[name + ".weight"] = fc.weight.detach().clone()
    state[name + ".bias"] = fc.bias.detach().clone()
torch.save(state, os.path.join(here, "vggface_w2_legacy.pth"), _use_new_zipfile_serialization=False)
print("wrote resnet18_imagenet_w4.pth and vggface_w2_legacy.pth")
