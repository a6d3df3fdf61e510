#!/usr/bin/python3
"""Generates the torchvision oracle models used by convfix's oracle tests and
benchmark: ONNX export, TorchScript trace, preprocessed photographs and
PyTorch's own logits for them.

No pretrained weights can be downloaded here, so every network starts from
torchvision's random initialisation (seeded, so the files are reproducible)
and is then calibrated on real photographs:
  1. BatchNorm running statistics: forward passes in train mode with
     momentum=None (cumulative average) over the photographs and their
     mirror images, then eval(). Without this ResNet and Inception logits
     explode (about -1e4 and -7e11).
  2. Residual branches: the last BatchNorm of every residual block (ResNet,
     MobileNetV2, EfficientNet) gets gamma RESIDUAL_GAMMA instead of 1, as
     trained networks have small gammas there. With gamma 1 a random
     ResNet-101 is so ill-conditioned that float32 PyTorch itself is 1.5e-4
     (relative) away from float64 on some photos; with 0.3 it is about 1e-5,
     and the labels depend more on the picture.
  3. Classifier: the last Linear (or 1x1 Conv for SqueezeNet) gets its input
     features whitened (divided by their spread over the calibration
     photographs), is shifted so each class's logit has zero mean over them
     and scaled so the logits have a standard deviation of LOGIT_STD;
     otherwise a random classifier sees mostly the mean feature and gives
     the same label for every picture.

Per model, under OUT/<name>/:
  model.onnx    torch.onnx.export, dynamic batch dimension ("batch")
  model.pt      torch.jit.trace of the same eval-mode module
  input.npy     [N,3,H,W] float32: photos resized (shorter side), centre
                cropped, /255, normalised with the ImageNet mean/std
  logits.npy    [N,1000] float32: PyTorch's eval-mode output for input.npy
  logits64.npy  [N,1000] float64: the same model run by PyTorch in float64,
                the accurate reference the oracle tests compare against
  meta.json     opset, shapes, photo names, top-1 labels, stamp
A model is regenerated only when a file is missing or meta.json's stamp (a
hash of this script, tools/model_cache.py and the torch/torchvision versions) differs.

Usage: /usr/bin/python3 tools/gen_torchvision.py --out DIR [--models a,b] [--force]
Photos: python3-skimage's data folder and opencv-doc's examples/data (both
Debian packages; see docs/TESTING.md for their licences).
"""
import hashlib
import os
import sys
import time

import numpy as np
import torch
import torchvision
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import model_cache  # noqa: E402

SKIMAGE_DATA = "/usr/lib/python3/dist-packages/skimage/data"
OPENCV_DATA = "/usr/share/doc/opencv-doc/examples/data"

# The photos whose logits are recorded (the tests' batch), in order.
TEST_PHOTOS = [
    (SKIMAGE_DATA, "astronaut.png"),
    (SKIMAGE_DATA, "chelsea.png"),
    (SKIMAGE_DATA, "coffee.png"),
    (SKIMAGE_DATA, "rocket.jpg"),
    (OPENCV_DATA, "baboon.jpg"),
    (OPENCV_DATA, "fruits.jpg"),
    (OPENCV_DATA, "butterfly.jpg"),
    (OPENCV_DATA, "apple.jpg"),
]
# Extra photos used only for BatchNorm / classifier calibration.
CALIB_PHOTOS = TEST_PHOTOS + [
    (SKIMAGE_DATA, "motorcycle_left.png"),
    (SKIMAGE_DATA, "hubble_deep_field.jpg"),
    (OPENCV_DATA, "building.jpg"),
    (OPENCV_DATA, "HappyFish.jpg"),
    (OPENCV_DATA, "orange.jpg"),
    (OPENCV_DATA, "messi5.jpg"),
    (OPENCV_DATA, "home.jpg"),
    (OPENCV_DATA, "aero1.jpg"),
    (OPENCV_DATA, "starry_night.jpg"),
    (OPENCV_DATA, "smarties.png"),
    (OPENCV_DATA, "chicky_512.png"),
    (OPENCV_DATA, "graf1.png"),
]

MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
LOGIT_STD = 3.0
RESIDUAL_GAMMA = 0.3

# name -> (builder, crop size, opset). One model at opset 11, one at 17,
# the rest at 13.
MODELS = {
    "mobilenet_v2": (lambda: torchvision.models.mobilenet_v2(weights=None), 224, 13),
    "resnet50": (lambda: torchvision.models.resnet50(weights=None), 224, 11),
    "resnet101": (lambda: torchvision.models.resnet101(weights=None), 224, 13),
    "inception_v3": (lambda: torchvision.models.inception_v3(weights=None, aux_logits=False, init_weights=True),
                     299, 13),
    "squeezenet1_1": (lambda: torchvision.models.squeezenet1_1(weights=None), 224, 13),
    "densenet121": (lambda: torchvision.models.densenet121(weights=None), 224, 13),
    "efficientnet_b0": (lambda: torchvision.models.efficientnet_b0(weights=None), 224, 17),
}


def script_stamp():
    h = hashlib.sha256()
    for fn in (os.path.abspath(__file__), os.path.abspath(model_cache.__file__)):
        with open(fn, "rb") as f:
            h.update(f.read())
    h.update(torch.__version__.encode())
    h.update(torchvision.__version__.encode())
    return h.hexdigest()[:16]


def load_photo(folder, name, crop):
    """Resize the shorter side to crop/0.875 (256 for 224), centre crop,
    scale to [0,1], normalise; returns [3,crop,crop] float32."""
    img = Image.open(os.path.join(folder, name)).convert("RGB")
    short = int(round(crop / 0.875))
    w, h = img.size
    if w <= h:
        nw, nh = short, int(round(h * short / w))
    else:
        nw, nh = int(round(w * short / h)), short
    img = img.resize((nw, nh), Image.BILINEAR)
    left, top = (nw - crop) // 2, (nh - crop) // 2
    img = img.crop((left, top, left + crop, top + crop))
    a = np.asarray(img, dtype=np.float32) / 255.0
    a = (a - MEAN) / STD
    return np.ascontiguousarray(a.transpose(2, 0, 1))


def photos(lst, crop):
    return np.stack([load_photo(d, n, crop) for d, n in lst]).astype(np.float32)


def last_classifier(model):
    last = None
    for m in model.modules():
        if isinstance(m, torch.nn.Linear) or (isinstance(m, torch.nn.Conv2d) and m.kernel_size == (1, 1)):
            last = m
    return last


def scale_residual_branches(model):
    for m in model.modules():
        bn = None
        if isinstance(m, torchvision.models.resnet.Bottleneck):
            bn = m.bn3
        elif isinstance(m, torchvision.models.resnet.BasicBlock):
            bn = m.bn2
        elif getattr(m, "use_res_connect", False):
            bns = [b for b in m.modules() if isinstance(b, torch.nn.BatchNorm2d)]
            bn = bns[-1] if bns else None
        if bn is not None:
            with torch.no_grad():
                bn.weight.fill_(RESIDUAL_GAMMA)


def calibrate(model, calib):
    """Residual branches, BatchNorm statistics, then the classifier (see
    module doc)."""
    scale_residual_branches(model)
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.reset_running_stats()
            m.momentum = None
    model.train()
    with torch.no_grad():
        model(calib)
        model(torch.flip(calib, dims=[3]))
    model.eval()

    cls = last_classifier(model)
    feats = []
    hook = cls.register_forward_hook(lambda mod, inp, out: feats.append(inp[0].detach()))
    with torch.no_grad():
        model(calib)
    hook.remove()
    x = feats[0]
    if x.dim() == 4:  # 1x1 conv: every position is a sample
        x = x.permute(0, 2, 3, 1).reshape(-1, x.shape[1])
    with torch.no_grad():
        mu = x.mean(0)
        sigma = x.std(0) + 1e-3 * x.std()
        # Per-feature whitening: every feature gets an equal say, so the
        # label depends on the picture rather than on a few loud channels.
        shape = [1, -1] + [1] * (cls.weight.dim() - 2)
        cls.weight.div_(sigma.reshape(shape))
        w = cls.weight.reshape(cls.weight.shape[0], -1).clone()
        z = (x - mu) @ w.t()
        scale = LOGIT_STD / max(float(z.std()), 1e-12)
        if cls.bias is None:
            raise RuntimeError("classifier without bias")
        cls.weight.mul_(scale)
        cls.bias.copy_(-(w * scale) @ mu)


def generate(name, out_dir, stamp, n_test):
    builder, crop, opset = MODELS[name]
    t0 = time.time()
    torch.manual_seed(1000 + sorted(MODELS).index(name))
    model = builder()
    calib = torch.from_numpy(photos(CALIB_PHOTOS, crop))
    calibrate(model, calib)
    x = photos(TEST_PHOTOS[:n_test], crop)
    with torch.no_grad():
        logits = model(torch.from_numpy(x)).numpy().astype(np.float32)
    if not np.all(np.isfinite(logits)):
        raise RuntimeError(f"{name}: non-finite logits")
    import copy
    with torch.no_grad():
        logits64 = copy.deepcopy(model).double()(torch.from_numpy(x).double()).numpy()
    rel32 = float(np.abs(logits - logits64).max() / np.abs(logits64).max())

    tmp = model_cache.staging_dir(out_dir)
    x1 = torch.from_numpy(x[:1])
    torch.onnx.export(model, x1, os.path.join(tmp, "model.onnx"), opset_version=opset,
                      input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
                      do_constant_folding=True)
    import onnx
    onnx.checker.check_model(onnx.load(os.path.join(tmp, "model.onnx")))
    with torch.no_grad():
        traced = torch.jit.trace(model, x1)
    traced.save(os.path.join(tmp, "model.pt"))
    np.save(os.path.join(tmp, "input.npy"), x)
    np.save(os.path.join(tmp, "logits.npy"), logits)
    np.save(os.path.join(tmp, "logits64.npy"), logits64)

    top = np.argsort(-logits, axis=1)
    gap = logits[np.arange(len(x)), top[:, 0]] - logits[np.arange(len(x)), top[:, 1]]
    meta = {
        "name": name,
        "stamp": stamp,
        "opset": opset,
        "input_shape": list(x.shape),
        "photos": [n for _, n in TEST_PHOTOS[:n_test]],
        "top1": top[:, 0].tolist(),
        "top1_gap": [float(g) for g in gap],
        "logit_max_abs": float(np.abs(logits).max()),
        "logit_std": float(logits.std()),
        "torch_f32_vs_f64_rel_err": rel32,
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "seconds": round(time.time() - t0, 1),
    }
    model_cache.publish(tmp, out_dir, meta)
    return meta


def main():
    model_cache.main(
        __doc__, list(MODELS), script_stamp, generate,
        summary=lambda m: (f"opset {m['opset']} input {m['input_shape']} |logit|max {m['logit_max_abs']:.2f} "
                           f"std {m['logit_std']:.2f} f32-vs-f64 {m['torch_f32_vs_f64_rel_err']:.1e} "
                           f"top1 {m['top1']} min gap {min(m['top1_gap']):.3f}"),
        needed=lambda meta: ["model.onnx", "model.pt", "input.npy", "logits.npy", "logits64.npy", "meta.json"],
        default_batch=len(TEST_PHOTOS), max_batch=len(TEST_PHOTOS))


if __name__ == "__main__":
    main()
