#!/usr/bin/python3
"""Generates the TorchScript fixtures of convfix's TorchScript oracle tests.

Per model, under OUT/<name>/ (the same layout tools/gen_torchvision.py
writes, whose calibration this reuses: BatchNorm statistics and classifier
calibrated on real photographs, random weights otherwise explode):
  model.pt         torch.jit.trace of the eval-mode module
  model_script.pt  torch.jit.script of the same module (small models only,
                   where scripting works)
  model.onnx       torch.onnx.export of the same module
  input.npy        [N,3,H,W] photos, ImageNet-normalised
  logits.npy       PyTorch's float32 output for input.npy
  logits64.npy     the same in float64
  meta.json        shapes, photos, top-1, stamp

Models: the seven torchvision architectures of tools/gen_torchvision.py
(mobilenet_v2, resnet50, resnet101, inception_v3, squeezenet1_1,
densenet121, efficientnet_b0), mobilenet_v3_small, and small_cnn: a
hand-written CNN whose ops cover what torchvision's classifiers do not
(grouped/dilated/padded convs, padding='same', reflect pad, PReLU, ELU,
LeakyReLU, GELU, avg_pool2d with ceil_mode / count_include_pad=False /
divisor_override, non-divisible adaptive_avg_pool2d, bilinear and nearest
interpolate, chunk, split, cat, permute/transpose, view with size-dependent
shape, a real Flatten -> Linear, matmul, addmm, softmax, mean).

Usage: /usr/bin/python3 tools/gen_torchscript.py --out DIR [--models a,b] [--batch N] [--force]
"""
import copy
import hashlib
import os
import sys
import time

import numpy as np

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    import torchvision
except ImportError as e:  # the tests skip (77) without python3-torch
    print(f"SKIP: {e} (install python3-torch python3-torchvision)")
    sys.exit(77)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_torchvision as tv  # noqa: E402
import model_cache  # noqa: E402


def adaptive_avg_pool_cells(x, oh, ow):
    """adaptive_avg_pool2d written out cell by cell (PyTorch's rule: cell i
    of O over length L covers [floor(i*L/O), ceil((i+1)*L/O)))."""
    H, W = int(x.shape[2]), int(x.shape[3])
    rows = []
    for i in range(oh):
        h0, h1 = (i * H) // oh, -((-(i + 1) * H) // oh)
        cols = [x[:, :, h0:h1, (j * W) // ow:-((-(j + 1) * W) // ow)].mean(dim=(2, 3), keepdim=True)
                for j in range(ow)]
        rows.append(torch.cat(cols, 3))
    return torch.cat(rows, 2)


class SmallCNN(nn.Module):
    """Covers the ATen ops torchvision's classifiers leave out."""

    def __init__(self, classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, stride=2, padding=1), nn.BatchNorm2d(16), nn.PReLU(16))
        self.dw = nn.Conv2d(16, 16, 3, padding=2, dilation=2, groups=4, bias=False)
        self.same = nn.Conv2d(16, 16, 3, padding="same")
        self.refl = nn.Conv2d(16, 24, 3, padding=1, padding_mode="reflect")
        self.bn = nn.BatchNorm2d(24)
        self.branch_a = nn.Conv2d(12, 12, 1)
        self.branch_b = nn.Conv2d(12, 12, 1)
        self.up = nn.Conv2d(24, 24, 1)
        self.pool_ceil = nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)
        self.adapt = nn.AdaptiveAvgPool2d((5, 3))
        self.fc1 = nn.Linear(24 * 5 * 3, 64)
        self.prelu1 = nn.PReLU()
        self.fc2 = nn.Linear(64, classes)
        self.proj = nn.Parameter(torch.randn(64, 64) * 0.05)
        self.bias2 = nn.Parameter(torch.randn(64) * 0.05)
        self.onnx_compat = False

    @torch.jit.unused
    def cells(self, x):
        return adaptive_avg_pool_cells(x, 5, 3)

    def forward(self, x):
        x = self.stem(x)
        x = F.leaky_relu(self.dw(x), 0.1)
        x = F.elu(self.same(x))
        x = self.bn(self.refl(x))
        a, b = torch.chunk(x, 2, dim=1)
        a = F.gelu(self.branch_a(a))
        b = torch.sigmoid(self.branch_b(b)) * b
        x = torch.cat([a, b], dim=1)
        p, q = torch.split(x, [8, 16], dim=1)
        x = torch.cat([q, p], dim=1)
        y = F.max_pool2d(x, 3, stride=2, ceil_mode=True)
        y = F.interpolate(y, scale_factor=2.0, mode="bilinear", align_corners=False)
        if self.onnx_compat:  # constants, so torch.onnx knows the shapes after it
            y = F.interpolate(y, size=(int(x.shape[2]), int(x.shape[3])), mode="nearest")
        else:
            y = F.interpolate(y, size=(x.shape[2], x.shape[3]), mode="nearest")
        x = x + self.up(y) * 0.5
        x = F.hardswish(x) - 0.25 * F.hardsigmoid(x)
        x = F.pad(x, (1, 2, 0, 1))
        x = self.pool_ceil(x)
        if self.onnx_compat:  # torch.onnx cannot export divisor_override; same numbers
            x = x + F.avg_pool2d(x, 3, stride=1, padding=1) * (9.0 / 4.0) * 0.1
        else:
            x = x + F.avg_pool2d(x, 3, stride=1, padding=1, divisor_override=4) * 0.1
        n, c, h, w = x.shape
        if self.onnx_compat:  # constants, so torch.onnx knows the shapes below
            n, c, h, w = int(n), int(c), int(h), int(w)
        t = x.view(n, c, h * w).transpose(1, 2)        # [n, hw, c]
        t = t.permute(0, 2, 1).reshape(n, c, h, w)      # back
        x = x + t.mean(dim=(2, 3), keepdim=True)
        if self.onnx_compat:  # torch.onnx: the same cells written out
            x = self.cells(x)
        else:
            x = self.adapt(x)
        x = torch.flatten(x, 1)
        x = self.prelu1(self.fc1(x))
        x = torch.addmm(self.bias2, x, self.proj) + torch.matmul(x, self.proj.t()) * 0.5
        x = F.relu6(x)
        return F.softmax(self.fc2(x), dim=1) * 10.0


# name -> (builder, crop size, onnx opset, also script?)
EXTRA = {
    "mobilenet_v3_small": (lambda: torchvision.models.mobilenet_v3_small(weights=None), 224, 17),
    "small_cnn": (lambda: SmallCNN(), 96, 17),
}
SCRIPTED = {"small_cnn", "mobilenet_v3_small"}
ALL = list(tv.MODELS) + list(EXTRA)


def stamp():
    h = hashlib.sha256()
    for f in (os.path.abspath(__file__), os.path.abspath(tv.__file__), os.path.abspath(model_cache.__file__)):
        with open(f, "rb") as fh:
            h.update(fh.read())
    h.update(torch.__version__.encode())
    return h.hexdigest()[:16]


def build(name):
    if name in tv.MODELS:
        b, crop, opset = tv.MODELS[name]
    else:
        b, crop, opset = EXTRA[name]
    return b, crop, opset


def generate(name, out_dir, st, n_test):
    builder, crop, opset = build(name)
    t0 = time.time()
    torch.manual_seed(2000 + ALL.index(name))
    model = builder()
    calib = torch.from_numpy(tv.photos(tv.CALIB_PHOTOS, crop))
    tv.calibrate(model, calib)
    x = tv.photos(tv.TEST_PHOTOS[:n_test], crop)
    xt = torch.from_numpy(x)
    with torch.no_grad():
        logits = model(xt).numpy().astype(np.float32)
        logits64 = copy.deepcopy(model).double()(xt.double()).numpy()
    if not np.all(np.isfinite(logits)):
        raise RuntimeError(f"{name}: non-finite logits")
    tmp = model_cache.staging_dir(out_dir)
    with torch.no_grad():
        traced = torch.jit.trace(model, xt[:1])
    traced.save(os.path.join(tmp, "model.pt"))
    if name in SCRIPTED:
        torch.jit.script(model).save(os.path.join(tmp, "model_script.pt"))
    onnx_model = model
    if name == "small_cnn":
        # torch.onnx cannot export padding="same" (aten::_convolution_mode);
        # for a 3x3 kernel it is the same as padding=1.
        onnx_model = copy.deepcopy(model)
        onnx_model.same.padding = (1, 1)
        onnx_model.onnx_compat = True
    # small_cnn: static shapes (torch.onnx exports a non-divisible
    # adaptive_avg_pool2d only when the input size is known).
    dyn = None if name == "small_cnn" else {"input": {0: "batch"}, "logits": {0: "batch"}}
    torch.onnx.export(onnx_model, xt if dyn is None else xt[:1], os.path.join(tmp, "model.onnx"),
                      opset_version=opset, input_names=["input"], output_names=["logits"], dynamic_axes=dyn)
    np.save(os.path.join(tmp, "input.npy"), x)
    np.save(os.path.join(tmp, "logits.npy"), logits)
    np.save(os.path.join(tmp, "logits64.npy"), logits64)
    meta = {"name": name, "stamp": st, "input_shape": list(x.shape), "opset": opset,
            "photos": [p for _, p in tv.TEST_PHOTOS[:n_test]],
            "top1": np.argmax(logits, 1).tolist(), "logit_max_abs": float(np.abs(logits).max()),
            "torch_f32_vs_f64_rel_err": float(np.abs(logits - logits64).max() / np.abs(logits64).max()),
            "scripted": name in SCRIPTED, "seconds": round(time.time() - t0, 1)}
    model_cache.publish(tmp, out_dir, meta)
    return meta


def main():
    model_cache.main(
        __doc__, ALL, stamp, generate,
        summary=lambda m: (f"input {m['input_shape']} |logit|max {m['logit_max_abs']:.2f} top1 {m['top1']} "
                           f"f32-vs-f64 {m['torch_f32_vs_f64_rel_err']:.1e}"),
        needed=lambda meta: ["model.pt", "model.onnx", "input.npy", "logits.npy"] +
                            (["model_script.pt"] if meta.get("scripted") else []),
        default_batch=4, max_batch=len(tv.TEST_PHOTOS))


if __name__ == "__main__":
    main()
