#!/usr/bin/python3
"""More torchvision architectures, traced and scripted, convfix vs PyTorch.

Seeded random weights (torchvision's default init; these small networks
stay in a sane range without calibration) and a seeded random
[1, 3, 128, 128] input; each network is saved with torch.jit.trace and
torch.jit.script, PyTorch runs the saved file, convfix runs it with
`convfix run`; max |convfix - torch| <= 1e-4 * max |torch| and the same
arg-max. Exit 0, 1 on a failure, 77 without python3-torch/torchvision.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np

try:
    import torch
    import torchvision
except ImportError:
    print("SKIP: python3-torch / python3-torchvision are not installed")
    sys.exit(77)

MODELS = ["resnet18", "shufflenet_v2_x0_5", "regnet_y_400mf", "mnasnet0_5", "mobilenet_v3_large",
          "convnext_tiny", "efficientnet_b0", "vgg11"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--convfix", required=True)
    ap.add_argument("--models", default=",".join(MODELS))
    args = ap.parse_args()
    torch.set_num_threads(2)
    fails = total = 0
    with tempfile.TemporaryDirectory() as d:
        for name in args.models.split(","):
            torch.manual_seed(7)
            m = getattr(torchvision.models, name)(weights=None).eval()
            x = torch.randn(1, 3, 128, 128)
            xp = os.path.join(d, "x.npy")
            np.save(xp, x.numpy())
            for how in ("trace", "script"):
                total += 1
                pt = os.path.join(d, f"{name}_{how}.pt")
                with torch.no_grad():
                    (torch.jit.trace(m, x) if how == "trace" else torch.jit.script(m)).save(pt)
                    ref = torch.jit.load(pt)(x).numpy()
                od = os.path.join(d, f"{name}_{how}")
                r = subprocess.run([args.convfix, "run", pt, "--input", xp, "--save-outputs", od],
                                   capture_output=True, text=True)
                if r.returncode:
                    fails += 1
                    print(f"FAIL {name} ({how}): {r.stderr.strip()[:300]}", flush=True)
                    continue
                got = np.load(os.path.join(od, os.listdir(od)[0]))
                e = float(np.abs(got - ref).max() / np.abs(ref).max()) if got.shape == ref.shape else float("inf")
                ok = e <= 1e-4 and np.argmax(got) == np.argmax(ref)
                fails += not ok
                print(f"{'PASS' if ok else 'FAIL'} {name} ({how}): max err {e:.1e} x max|torch|", flush=True)
    print(f"{total - fails} passed, {fails} failed")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
