#!/usr/bin/python3
"""Writes the demo model: torchvision's MobileNetV2 exported to ONNX.

Usage: tools/make_demo_model.py [OUT_DIR] [--force]
       (Debian's /usr/bin/python3 with python3-torch 1.13 and python3-torchvision 0.14)

OUT_DIR defaults to build/demo in the repository. Files written there:
  mobilenet_v2.onnx                 the model (input 'input' [N,3,224,224], output 'logits' [N,1000])
  mobilenet_v2.reference.json       PyTorch's own top-5 for each bundled photo (an oracle for tests)
  mobilenet_v2.reference_logits.npy PyTorch's logits for the same photos, in the same order
  README.txt                        what the weights are
  mobilenet_v2.stamp                inputs of this run; when it matches, the script does nothing

No pretrained weights can be downloaded here, so the weights are random
(torch.manual_seed(0), torchvision's own initialisation), shaped a little so
the network is not chaotic, and calibrated on the photos in assets/images so
that activations and outputs have a realistic scale:
  1. Plain random MobileNetV2 weights make a chaotic network: an input change
     of one 8-bit level (PIL's rounding vs none) moved softmax scores by up to
     0.54 and changed the top-1 class of 2 of the 4 photos, which would make
     every converter look broken. Two changes tame it (measured: scores then
     move by at most 0.005): each depthwise 3x3 kernel becomes a random
     positive blur (uniform weights in [0.5, 1.5], normalised to sum 1) —
     trained depthwise filters are mostly smooth, zero-mean random ones
     amplify pixel noise layer after layer — and the BatchNorm layers that
     feed a ReLU6 get a shift (beta) of 2, so ReLU6 works mostly in its
     linear range instead of cutting half of every channel.
  2. BatchNorm running statistics are reset and re-estimated in train mode
     with momentum=None (a cumulative average over all batches) on a few
     passes of augmented crops of the photos, then the model goes to eval().
  3. The classifier is centred and rescaled: its bias cancels the mean
     feature of the calibration crops and its weights are scaled so the
     logits have a standard deviation of about 3 across classes — the spread
     of a trained ImageNet classifier — so softmax scores look plausible.
The class labels are therefore not meaningful.

The PyTorch reference uses torchvision's standard evaluation transform
(Resize(256), CenterCrop(224), ToTensor, Normalize with the ImageNet mean and
std), i.e. the `torch` preset of `convfix run --images`.
"""
import argparse
import hashlib
import io
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "assets" / "images"
IMAGE_EXTS = {".jpg", ".jpeg", ".png"}
SEED = 0
PASSES = 2
VIEWS_PER_IMAGE = 6
LOGIT_STD = 3.0
BN_SHIFT = 2.0
MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]


def image_files():
    return sorted(p for p in IMAGES.iterdir() if p.suffix.lower() in IMAGE_EXTS and not p.name.startswith("."))


def stamp_text(files):
    h = hashlib.sha256()
    h.update(Path(__file__).read_bytes())
    for f in files:
        h.update(f.name.encode())
        h.update(hashlib.sha256(f.read_bytes()).digest())
    # Package versions without importing torch (which alone takes seconds).
    from importlib import metadata

    versions = []
    for pkg in ("torch", "torchvision"):
        try:
            versions.append(f"{pkg} {metadata.version(pkg)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{pkg} ?")
    return f"{h.hexdigest()} {' '.join(versions)}\n"


def atomic_write(path, data):
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix="." + path.name + ".")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out_dir", nargs="?", default=str(ROOT / "build" / "demo"))
    ap.add_argument("--force", action="store_true", help="rebuild even when up to date")
    args = ap.parse_args()
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model_path = out / "mobilenet_v2.onnx"
    stamp_path = out / "mobilenet_v2.stamp"
    files = image_files()
    if not files:
        print(f"make_demo_model: no photos in {IMAGES}", file=sys.stderr)
        return 2
    stamp = stamp_text(files)
    needed = [model_path, out / "mobilenet_v2.reference.json", out / "mobilenet_v2.reference_logits.npy"]
    if (not args.force and all(p.exists() for p in needed) and stamp_path.exists()
            and stamp_path.read_text() == stamp):
        print(f"make_demo_model: {model_path} is up to date")
        return 0

    import numpy as np
    import torch
    import torchvision
    import torchvision.transforms as T
    from PIL import Image

    torch.manual_seed(SEED)
    model = torchvision.models.mobilenet_v2(weights=None)

    # --- 1. Smooth depthwise kernels, BatchNorm shift before ReLU6 -----------
    from torchvision.ops.misc import Conv2dNormActivation

    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.Conv2d) and m.groups > 1 and m.groups == m.in_channels:
                w = torch.rand_like(m.weight) + 0.5
                m.weight.copy_(w / w.sum(dim=(2, 3), keepdim=True))
            if isinstance(m, Conv2dNormActivation) and isinstance(m[-1], torch.nn.ReLU6):
                m[1].bias.fill_(BN_SHIFT)

    # --- 2. BatchNorm statistics from augmented crops of the photos ---------
    photos = [Image.open(f).convert("RGB") for f in files]
    normalize = T.Compose([T.ToTensor(), T.Normalize(MEAN, STD)])
    augment = T.Compose([T.RandomResizedCrop(224, scale=(0.2, 1.0)), T.RandomHorizontalFlip()])
    evaluate = T.Compose([T.Resize(256), T.CenterCrop(224)])
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.reset_running_stats()
            m.momentum = None  # cumulative average over every calibration batch
    calib = []
    for _ in range(PASSES):
        views = [normalize(evaluate(p)) for p in photos]
        views += [normalize(augment(p)) for p in photos for _ in range(VIEWS_PER_IMAGE - 1)]
        calib.append(torch.stack(views))
    model.train()
    with torch.no_grad():
        for batch in calib:
            model(batch)
    model.eval()

    # --- 3. Centre and rescale the classifier ---------------------------------
    linear = model.classifier[-1]
    with torch.no_grad():
        # One pass of crops is enough to centre and scale the logits.
        feats = torch.flatten(torch.nn.functional.adaptive_avg_pool2d(model.features(calib[0]), 1), 1)
        mean_feat = feats.mean(0)
        linear.bias.copy_(-linear.weight @ mean_feat)
        factor = LOGIT_STD / linear(feats).std(dim=1).mean()
        linear.weight.mul_(factor)
        linear.bias.mul_(factor)

    # --- reference outputs on the standard evaluation transform ---------------
    with torch.no_grad():
        x = torch.stack([normalize(evaluate(p)) for p in photos])
        ref = model(x)
    probs = torch.softmax(ref, dim=1)
    reference = {
        "transform": "Resize(256), CenterCrop(224), ToTensor(), Normalize(mean=%s, std=%s)" % (MEAN, STD),
        "images": [],
    }
    for f, p in zip(files, probs):
        top = torch.topk(p, 5)
        reference["images"].append({
            "file": f.name,
            "top": [{"index": int(i), "score": float(s)} for s, i in zip(top.values, top.indices)],
        })

    # --- export -----------------------------------------------------------------
    fd, tmp = tempfile.mkstemp(dir=out, prefix=".mobilenet_v2.", suffix=".onnx")
    os.close(fd)
    try:
        torch.onnx.export(model, torch.zeros(1, 3, 224, 224), tmp, input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}}, opset_version=13,
                          do_constant_folding=True)
        os.replace(tmp, model_path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    atomic_write(out / "mobilenet_v2.reference.json", json.dumps(reference, indent=2) + "\n")
    buf = io.BytesIO()
    np.save(buf, ref.numpy().astype(np.float32))
    atomic_write(out / "mobilenet_v2.reference_logits.npy", buf.getvalue())
    atomic_write(out / "README.txt",
                 "mobilenet_v2.onnx: torchvision's MobileNetV2 architecture with RANDOM weights (seed %d; depthwise "
                 "kernels made random positive blurs and a BatchNorm shift before each ReLU6, so the network is not "
                 "chaotic), calibrated on the photos in assets/images (BatchNorm statistics re-estimated, classifier "
                 "centred and rescaled) so its outputs have a realistic scale. The weights are random-calibrated: "
                 "the class labels it predicts are not meaningful. Made by tools/make_demo_model.py.\n" % SEED)
    atomic_write(stamp_path, stamp)
    print(f"make_demo_model: wrote {model_path} ({model_path.stat().st_size // 1024} KiB), "
          f"calibrated on {len(files)} photos")
    return 0


if __name__ == "__main__":
    sys.exit(main())
