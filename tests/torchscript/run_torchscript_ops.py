#!/usr/bin/python3
"""Op-level TorchScript oracle: small traced modules, one ATen op (or mode)
each, run by convfix (`convfix run m.pt`) and by PyTorch on the same
random input [1, 6, 11, 13]; max |convfix - torch| <= 1e-5 * max |torch|.
Covers modes the whole-network fixtures do not: avg_pool2d ceil_mode with
count_include_pad, bicubic / align_corners / nearest-exact / downsampling
interpolate, adaptive_max_pool2d, non-divisible adaptive_avg_pool2d to a
larger grid, replicate/reflect pad and flatten of an input of unknown rank,
dilated max_pool2d, log_softmax, tanh-GELU, floor division, chunk/split/
stack/squeeze, size-dependent view, rsub/pow/clamp, ELU/LeakyReLU/tanh,
Conv1d and ConvTranspose2d. Exit 0, 1 on a failure, 77 without python3-torch.
"""
import argparse
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
CASES = {
 "avg_ceil_cip": lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=True),
 "avg_ceil_nopad": lambda x: F.avg_pool2d(x, 2, 2, 0, ceil_mode=True),
 "bicubic": lambda x: F.interpolate(x, scale_factor=1.5, mode="bicubic", align_corners=False),
 "bilinear_ac": lambda x: F.interpolate(x, size=(7, 9), mode="bilinear", align_corners=True),
 "nearest_exact": lambda x: F.interpolate(x, scale_factor=2, mode="nearest-exact"),
 "nearest_down": lambda x: F.interpolate(x, size=(5, 4), mode="nearest"),
 "adapt_max": lambda x: F.adaptive_max_pool2d(x, (3, 2)),
 "adapt_avg_big": lambda x: F.adaptive_avg_pool2d(x, (16, 20)),
 "pad_replicate": lambda x: F.pad(x, (1, 2, 3, 0), mode="replicate"),
 "pad_reflect": lambda x: F.pad(x, (2, 1, 1, 2), mode="reflect"),
 "maxpool_dil": lambda x: F.max_pool2d(x, 3, 1, 1, dilation=2),
 "softmax_neg": lambda x: F.log_softmax(x, dim=-1),
 "gelu_tanh": lambda x: F.gelu(x, approximate="tanh"),
 "div_floor": lambda x: torch.div(x, 0.7, rounding_mode="floor"),
 "flatten_mid": lambda x: torch.flatten(x, 1, 2).sum(dim=1),
 "chunk3": lambda x: torch.cat(list(torch.chunk(x, 3, dim=1))[::-1], 1),
 "split_size": lambda x: torch.cat(list(torch.split(x, 4, dim=3))[::-1], 3),
 "stack_sq": lambda x: torch.stack([x, x * 2], 1).squeeze(0).unsqueeze(2).mean(2),
 "view_size": lambda x: x.view(x.size(0), -1, x.size(3)).permute(0, 2, 1).contiguous(),
 "rsub_pow": lambda x: (1 - x).pow(2) + torch.clamp(x, min=-0.2),
 "elu_leaky": lambda x: F.elu(x, 0.5) + F.leaky_relu(x, 0.2) + torch.tanh(x),
}
class M(nn.Module):
    def __init__(s, f): super().__init__(); s.f = f
    def forward(s, x): return s.f(x)
class Conv1dT(nn.Module):
    def __init__(s):
        super().__init__(); s.c = nn.Conv1d(3, 4, 3, padding=2, dilation=2); s.t = nn.ConvTranspose2d(3, 5, 3, stride=2, padding=1, output_padding=1)
    def forward(s, x): return s.t(x).mean() + s.c(x.mean(3)).sum()


class M(nn.Module):
    def __init__(self, f):
        super().__init__()
        self.f = f

    def forward(self, x):
        return self.f(x)


class Conv1dT(nn.Module):
    def __init__(self):
        super().__init__()
        self.c = nn.Conv1d(3, 4, 3, padding=2, dilation=2)
        self.t = nn.ConvTranspose2d(3, 5, 3, stride=2, padding=1, output_padding=1)

    def forward(self, x):
        return self.t(x).mean() + self.c(x.mean(3)).sum()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--convfix", required=True)
    args = ap.parse_args()
    torch.manual_seed(0)
    x = torch.randn(1, 6, 11, 13)
    mods = {k: M(f) for k, f in CASES.items()}
    mods["conv1d_convtranspose2d"] = Conv1dT()
    fails = 0
    with tempfile.TemporaryDirectory() as d:
        for name, m in mods.items():
            xi = x[:, :3] if name.startswith("conv1d") else x
            xp, pt, od = os.path.join(d, name + ".npy"), os.path.join(d, name + ".pt"), os.path.join(d, name)
            np.save(xp, xi.numpy())
            with torch.no_grad():
                t = torch.jit.trace(m.eval(), xi)
                t.save(pt)
                ref = torch.jit.load(pt)(xi).numpy()
            r = subprocess.run([args.convfix, "run", pt, "--input", xp, "--save-outputs", od],
                               capture_output=True, text=True)
            if r.returncode:
                fails += 1
                print(f"FAIL {name}: {r.stderr.strip()[:300]}")
                continue
            got = np.load(os.path.join(od, os.listdir(od)[0]))
            if got.shape != ref.shape:
                fails += 1
                print(f"FAIL {name}: shape {got.shape} vs {ref.shape}")
                continue
            e = float(np.abs(got - ref).max() / max(np.abs(ref).max(), 1e-12))
            ok = e <= REL
            fails += not ok
            print(f"{'PASS' if ok else 'FAIL'} {name}: max err {e:.1e} x max|torch|", flush=True)
    print(f"{len(mods) - fails} passed, {fails} failed")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
