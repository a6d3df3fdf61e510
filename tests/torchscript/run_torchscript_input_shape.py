#!/usr/bin/python3
"""Input-shape inference of the TorchScript importer (a .pt file declares no
input shape; docs/FORMATS.md, TorchScript, "Input shape").

Small modules, traced (and scripted where noted), each with the shape the
importer must infer, known by construction (`convfix inspect --json`).
Then, against PyTorch as the oracle:
  usable   PyTorch runs the same .pt on a random input of the inferred shape
           (batch 2, a free H/W as 40) and convfix gives the same output
           (max |diff| <= 1e-5 * max |torch|);
  images   `convfix run m.pt --images PHOTO` exits 0 for an image-shaped
           input; a fixed size and another --size, or a non-image input,
           exit 2 with one line naming the input;
  size     a free H/W takes `--size 40` (exit 0); a size the importer
           cannot find (non_square) takes `--size 32x48`, and without it
           the run fails with exit 2 and one line, no crash.
Exit 0, 1 on a failure, 77 without python3-torch.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError:
    print("SKIP: python3-torch is not installed")
    sys.exit(77)

REL = 1e-5
FREE = 40  # the side used for a dimension the model leaves free


class LeNet(nn.Module):  # H/W fixed to 32 by fc(16*5*5); 32..35 all fit, 32 divides exactly
    def __init__(s):
        super().__init__(); s.c1 = nn.Conv2d(1, 6, 5); s.c2 = nn.Conv2d(6, 16, 5); s.fc = nn.Linear(400, 10)
    def forward(s, x):
        x = F.max_pool2d(F.relu(s.c1(x)), 2); x = F.max_pool2d(F.relu(s.c2(x)), 2)
        return s.fc(torch.flatten(x, 1))


class CeilNet(nn.Module):  # ceil_mode pools and a strided conv, fixed by fc; 45..52 fit, 48 is the roundest
    def __init__(s):
        super().__init__(); s.c1 = nn.Conv2d(3, 8, 3, padding=1); s.c2 = nn.Conv2d(8, 8, 3, stride=2, padding=1)
        s.p = nn.AvgPool2d(3, 2, ceil_mode=True); s.fc = nn.Linear(8 * 6 * 6, 5)
    def forward(s, x):
        x = F.max_pool2d(torch.relu(s.c1(x)), 2, ceil_mode=True)
        return s.fc(s.p(s.c2(x)).flatten(1))


class NormConv(nn.Module):  # normalisation before the conv; H/W free (global pool)
    def __init__(s):
        super().__init__(); s.register_buffer("mean", torch.tensor([0.5, 0.4, 0.3]).view(1, 3, 1, 1))
        s.c = nn.Conv2d(3, 4, 3)
    def forward(s, x): return F.adaptive_avg_pool2d(s.c((x - s.mean) / 0.25), 1).flatten(1)


class PadConv(nn.Module):  # pad, then conv; H/W free
    def __init__(s): super().__init__(); s.c = nn.Conv2d(3, 4, 3)
    def forward(s, x): return s.c(F.pad(x, (1, 1, 2, 0))).mean((2, 3))


class TConv(nn.Module):  # transposed conv first: C from the weight's first dim
    def __init__(s): super().__init__(); s.t = nn.ConvTranspose2d(3, 5, 3, stride=2)
    def forward(s, x): return s.t(x).mean((2, 3))


class Mlp(nn.Module):  # flatten -> Linear(784): an MNIST-shaped [1, 28, 28]
    def __init__(s): super().__init__(); s.fc = nn.Linear(784, 10)
    def forward(s, x): return s.fc(torch.flatten(x, 1))


class ViewMlp(nn.Module):  # view(-1, 3*32*32) -> Linear: [3, 32, 32]
    def __init__(s): super().__init__(); s.fc = nn.Linear(3072, 10)
    def forward(s, x): return s.fc(x.view(-1, 3072))


class Lin(nn.Module):  # Linear on the input: [batch, 20]
    def __init__(s): super().__init__(); s.fc = nn.Linear(20, 5)
    def forward(s, x): return torch.tanh(s.fc(x * 2.0))


class MatMul(nn.Module):  # matmul with a parameter: [batch, 12]
    def __init__(s): super().__init__(); s.w = nn.Parameter(torch.randn(12, 4))
    def forward(s, x): return torch.matmul(x, s.w)


class ConstView(nn.Module):  # reshape to constant sizes first: exactly [1, 3, 16, 16]
    def __init__(s): super().__init__(); s.c = nn.Conv2d(3, 4, 3)
    def forward(s, x): return s.c(x.reshape(1, 3, 16, 16)).flatten(1)


class Conv1dFc(nn.Module):  # 1-D: length fixed to 64 by fc(8*60)
    def __init__(s): super().__init__(); s.c = nn.Conv1d(4, 8, 5); s.fc = nn.Linear(8 * 60, 3)
    def forward(s, x): return s.fc(torch.relu(s.c(x)).flatten(1))


class NonSquare(nn.Module):  # fixed to 32x48 by fc: no square side fits, so H/W stay unknown
    def __init__(s):
        super().__init__(); s.c1 = nn.Conv2d(3, 4, 3, 2, 1); s.c2 = nn.Conv2d(4, 4, 3, 2, 1); s.fc = nn.Linear(4 * 8 * 12, 2)
    def forward(s, x): return s.fc(s.c2(s.c1(x)).flatten(1))


def resnet18_fixed():  # torchvision's ResNet-18 with a fixed 7x7 average pool: 193..416 fit, 224 is taken
    import torchvision
    m = torchvision.models.resnet18(weights=None)
    m.avgpool = nn.AvgPool2d(7)
    return m


# name -> (module, example input shape, expected inferred shape, script too?)
CASES = {
    "lenet": (LeNet, [2, 1, 32, 32], ["batch", 1, 32, 32], True),
    "ceil_net": (CeilNet, [2, 3, 48, 48], ["batch", 3, 48, 48], False),
    "norm_conv": (NormConv, [2, 3, 20, 20], ["batch", 3, "?", "?"], True),
    "pad_conv": (PadConv, [2, 3, 20, 20], ["batch", 3, "?", "?"], False),
    "tconv": (TConv, [2, 3, 9, 9], ["batch", 3, "?", "?"], False),
    "mlp": (Mlp, [2, 1, 28, 28], ["batch", 1, 28, 28], True),
    "view_mlp": (ViewMlp, [2, 3, 32, 32], ["batch", 3, 32, 32], False),
    "linear": (Lin, [2, 20], ["batch", 20], False),
    "matmul": (MatMul, [2, 12], ["batch", 12], False),
    "const_view": (ConstView, [1, 3, 16, 16], [1, 3, 16, 16], False),
    "conv1d_fc": (Conv1dFc, [2, 4, 64], ["batch", 4, 64], False),
    "non_square": (NonSquare, [2, 3, 32, 48], ["batch", 3, "?", "?"], False),
    "resnet18_fixed": (resnet18_fixed, [1, 3, 224, 224], ["batch", 3, 224, 224], False),
}


def concrete(shape):
    return [2 if d == "batch" else FREE if d == "?" else d for d in shape]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--convfix", required=True)
    ap.add_argument("--image", required=True, help="a JPEG/PNG photo")
    args = ap.parse_args()
    torch.manual_seed(0)
    failures = []

    def check(ok, what):
        print(("ok    " if ok else "FAIL  ") + what, flush=True)
        if not ok:
            failures.append(what)

    def convfix(*a):
        return subprocess.run([args.convfix, *a], capture_output=True, text=True)

    with tempfile.TemporaryDirectory() as tmp:
        for name, (cls, example, expected, script) in CASES.items():
            m = cls().eval()
            files = {"traced": os.path.join(tmp, name + ".pt")}
            with torch.no_grad():
                torch.jit.trace(m, torch.randn(*example)).save(files["traced"])
            if script:
                files["scripted"] = os.path.join(tmp, name + "_script.pt")
                torch.jit.script(m).save(files["scripted"])
            for kind, pt in files.items():
                tag = f"{name} ({kind})"
                r = convfix("inspect", "--json", pt)
                if r.returncode != 0:
                    check(False, f"{tag}: inspect: {r.stderr.strip()}")
                    continue
                inp = json.loads(r.stdout)["inputs"][0]
                check(inp.get("shape") == expected, f"{tag}: inferred shape {inp.get('shape')} == {expected}")
                if inp.get("shape") != expected:
                    continue
                if name == "non_square":  # H/W fixed by the model but not found: --size gives them
                    r = convfix("run", pt, "--images", args.image, "--size", "32x48", "--top", "1")
                    check(r.returncode == 0, f"{tag}: --size 32x48: exit {r.returncode} {r.stderr.strip()[:120]}")
                    r = convfix("run", pt, "--images", args.image, "--top", "1")
                    check(r.returncode == 2 and r.stderr.strip().count("\n") == 0 and pt in r.stderr,
                          f"{tag}: without --size: exit {r.returncode}, '{r.stderr.strip()[:160]}'")
                    continue
                # usable: the inferred shape runs in PyTorch and in convfix alike
                x = torch.randn(*concrete(expected))
                with torch.no_grad():
                    ref = torch.jit.load(pt)(x).numpy()
                xin, out_dir = os.path.join(tmp, "x.npy"), os.path.join(tmp, "out_" + name + kind)
                np.save(xin, x.numpy())
                r = convfix("run", pt, "--input", xin, "--save-outputs", out_dir)
                if r.returncode != 0:
                    check(False, f"{tag}: convfix run on {list(x.shape)}: {r.stderr.strip()}")
                    continue
                got = np.load(os.path.join(out_dir, os.listdir(out_dir)[0]))
                err = float(np.abs(got - ref).max() / max(np.abs(ref).max(), 1e-12)) if got.shape == ref.shape else 1e9
                check(err <= REL, f"{tag}: runs on {list(x.shape)}, convfix vs torch {err:.1e}")
                # images: image-shaped inputs take a photo at their own size
                image_like = len(expected) == 4 and expected[1] in (1, 3)
                r = convfix("run", pt, "--images", args.image, "--top", "1")
                if image_like:
                    check(r.returncode == 0, f"{tag}: --images exit {r.returncode} {r.stderr.strip()[:120]}")
                else:
                    one_line = r.stderr.strip().count("\n") == 0
                    check(r.returncode == 2 and f"'{inp['name']}'" in r.stderr and one_line,
                          f"{tag}: --images on a non-image input: exit {r.returncode}, '{r.stderr.strip()[:140]}'")
                if image_like and expected[2] == "?":
                    r = convfix("run", pt, "--images", args.image, "--size", "40", "--top", "1")
                    check(r.returncode == 0, f"{tag}: --size 40 on a free H/W: exit {r.returncode}")
                elif image_like:
                    r = convfix("run", pt, "--images", args.image, "--size", "40", "--top", "1")
                    check(r.returncode == 2 and f"'{inp['name']}'" in r.stderr and "--size" in r.stderr,
                          f"{tag}: --size 40 on a fixed size: exit {r.returncode}, '{r.stderr.strip()[:140]}'")
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
