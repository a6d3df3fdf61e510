#!/usr/bin/python3
"""Checks `convfix run --images` preprocessing against independent implementations.

For each case convfix is run as a user would (`convfix run MODEL --images ...
--preprocess P --save-inputs DIR`) on a one-op model (input * 1) whose input
shape sets the layout, channels and size; the tensors it saved are compared
with:
  - torchvision's evaluation transform (Resize(256), CenterCrop(224),
    ToTensor, Normalize) for the `torch` preset, and
  - PIL's Image.resize(BILINEAR) + crop + the preset arithmetic written out
    here in numpy for the others (and for non-square / gray / NHWC inputs).
Differences are measured in 8-bit levels (the saved tensor mapped back to
pixel values with the preset's constants). PIL rounds to 8 bits after each
resampling pass and convfix does not, so PNG inputs must agree within one
level; JPEG inputs are also decoded differently (stb_image vs libjpeg-turbo)
and get a looser bound. The CLI's error handling (missing folder, empty
folder, non-image file: one line naming it, exit 2) is checked too, and the
scores: a model ending in Softmax is reported as is, logits get a softmax
(compared with numpy's), a 1000-line label file on a 1001-class output is
read as "class 0 is background".

Usage: check_preprocess.py --convfix PATH [--verbose]
Exit 0 when everything holds, 1 otherwise.
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
ASSETS = ROOT / "assets" / "images"

# The presets as docs/PREPROCESSING.md states them: (bgr, scale, mean, std, crop fraction).
PRESETS = {
    "torch": (False, 1 / 255, [0.485, 0.456, 0.406], [0.229, 0.224, 0.225], 0.875),
    "tf": (False, 1 / 127.5, [1.0, 1.0, 1.0], [1.0, 1.0, 1.0], 1.0),
    "caffe": (True, 1.0, [103.939, 116.779, 123.68], [1.0, 1.0, 1.0], 1.0),
    "unit": (False, 1 / 255, [0.0, 0.0, 0.0], [1.0, 1.0, 1.0], 1.0),
    "raw": (False, 1.0, [0.0, 0.0, 0.0], [1.0, 1.0, 1.0], 1.0),
}

failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print("FAIL", msg)
    return cond


def make_model(path, shape, dtype=TensorProto.FLOAT):
    x = helper.make_tensor_value_info("x", dtype, shape)
    y = helper.make_tensor_value_info("y", dtype, None)
    one = helper.make_tensor("one", dtype, [], [1.0])
    g = helper.make_graph([helper.make_node("Mul", ["x", "one"], ["y"])], "img", [x], [y], [one])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), str(path))


def run(convfix, args):
    p = subprocess.run([convfix, "run"] + [str(a) for a in args], capture_output=True, text=True, timeout=300)
    return p.returncode, p.stdout, p.stderr


# ---- the reference pipeline, independent of convfix -------------------------

def py_round(x):
    return int(round(x))  # Python rounds halves to even, like torchvision's CenterCrop


def reference_pixels(path, preset, h, w, channels):
    """Resampled pixels (H, W, C) in 0..255 following docs/PREPROCESSING.md, computed with PIL."""
    img = Image.open(path)
    img = img.convert("L" if channels == 1 else "RGB")
    f = PRESETS[preset][4]
    bh, bw = math.floor(h / f), math.floor(w / f)
    iw, ih = img.size
    if iw * bh >= ih * bw:
        rh, rw = bh, max(bw, math.floor(bh * iw / ih))
    else:
        rw, rh = bw, max(bh, math.floor(bw * ih / iw))
    r = img.resize((rw, rh), Image.BILINEAR)
    top, left = py_round((rh - h) / 2), py_round((rw - w) / 2)
    a = np.asarray(r.crop((left, top, left + w, top + h)), dtype=np.float64)
    return a.reshape(h, w, channels)


def torchvision_pixels(path):
    """torchvision's own evaluation transform, mapped back to 0..255 pixels (H, W, 3)."""
    import torch
    import torchvision.transforms as T

    bgr, scale, mean, std, _ = PRESETS["torch"]
    t = T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(), T.Normalize(mean, std)])
    x = t(Image.open(path).convert("RGB")).to(torch.float64)
    x = x * torch.tensor(std, dtype=torch.float64)[:, None, None] + torch.tensor(mean, dtype=torch.float64)[:, None, None]
    return (x / scale).permute(1, 2, 0).numpy()


def to_pixels(tensor, preset, layout, channels):
    """convfix's saved tensor [1, ...] mapped back to pixels (H, W, C) in RGB/gray order."""
    bgr, scale, mean, std, _ = PRESETS[preset]
    a = tensor[0].astype(np.float64)
    if layout == "nchw":
        a = a.transpose(1, 2, 0)
    mean, std = np.array(mean), np.array(std)
    if channels == 1:
        mean, std = mean.mean(keepdims=True), std.mean(keepdims=True)
    a = (a * std + mean) / scale
    if bgr and channels == 3:
        a = a[..., ::-1]
    return a


# ---- checks --------------------------------------------------------------------

def compare(name, got, want, max_levels, mean_levels, verbose):
    if not check(got.shape == want.shape, f"{name}: shape {got.shape} != {want.shape}"):
        return
    d = np.abs(got - want)
    ok = d.max() <= max_levels and d.mean() <= mean_levels
    check(ok, f"{name}: max {d.max():.3f} mean {d.mean():.3f} levels (limits {max_levels}, {mean_levels})")
    if verbose or not ok:
        print(f"  {name}: max {d.max():.3f}, mean {d.mean():.4f}, 99.9th pct {np.percentile(d, 99.9):.3f} levels")
    return d


def check_scores(cf, tmp, verbose):
    """Probability detection, softmax and labels on two small classifiers."""
    rng = np.random.default_rng(1)
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 64, 64])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    # probs: GlobalAveragePool -> Flatten -> Gemm(3 -> 5) -> Softmax
    # logits: GlobalAveragePool -> Flatten -> Gemm(3 -> 1001)
    for name, classes, softmax in [("probs", 5, True), ("logits", 1001, False)]:
        w = rng.normal(0, 2, (3, classes)).astype(np.float32)
        b = rng.normal(0, 1, classes).astype(np.float32)
        nodes = [helper.make_node("GlobalAveragePool", ["x"], ["p"]),
                 helper.make_node("Flatten", ["p"], ["f"]),
                 helper.make_node("Gemm", ["f", "w", "b"], ["g" if softmax else "y"])]
        if softmax:
            nodes.append(helper.make_node("Softmax", ["g"], ["y"], axis=1))
        inits = [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")]
        g = helper.make_graph(nodes, name, [x], [y], inits)
        onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), str(tmp / f"{name}.onnx"))
    labels = tmp / "labels.txt"
    labels.write_text("".join(f"name{i}\n" for i in range(1000)))
    for name, classes in [("probs", 5), ("logits", 1001)]:
        inputs = tmp / f"scores_{name}"
        rc, so, se = run(cf, [tmp / f"{name}.onnx", "--images", ASSETS, "--top", "5", "--labels", labels, "--json",
                              "--save-inputs", inputs, "--save-outputs", inputs / "out"])
        if rc != 0 and "not implemented" in se:
            print(f"skipped the {name} scores check: {se.strip()}")
            continue
        if not check(rc == 0, f"scores/{name}: convfix exited {rc}: {se.strip()}"):
            continue
        j = json.loads(so)
        want_kind = "model" if name == "probs" else "softmax"
        check(j["scores"] == want_kind, f"scores/{name}: JSON scores {j['scores']!r}, want {want_kind!r}")
        out = np.load(inputs / "out" / "y.npy").astype(np.float64)
        if name == "logits":
            e = np.exp(out - out.max(axis=1, keepdims=True))
            out = e / e.sum(axis=1, keepdims=True)
        for i, img in enumerate(j["images"]):
            order = np.argsort(-out[i], kind="stable")[:5]
            got = [t["index"] for t in img["top"]]
            check(got == [int(k) for k in order], f"scores/{name}/{img['file']}: top-5 {got}, numpy {order.tolist()}")
            for t in img["top"]:
                check(abs(t["score"] - out[i][t["index"]]) < 1e-5,
                      f"scores/{name}/{img['file']}: class {t['index']} score {t['score']} vs {out[i][t['index']]}")
                # 5 classes: fewer than 1000 names, class i is line i; 1001 classes: class 0 is background.
                if classes == 5:
                    want_label = f"name{t['index']}"
                else:
                    want_label = "background" if t["index"] == 0 else f"name{t['index'] - 1}"
                check(t.get("label") == want_label, f"scores/{name}: class {t['index']} label {t.get('label')!r}, "
                                                      f"want {want_label!r}")
        if verbose:
            print(f"  scores/{name}: {j['scores']}, first image top {j['images'][0]['top'][:2]}")
        # Text mode names the choice.
        rc, so, se = run(cf, [tmp / f"{name}.onnx", "--images", ASSETS / "chelsea.png"])
        phrase = "as is" if name == "probs" else "softmax of output"
        check(rc == 0 and phrase in so, f"scores/{name}: text output lacks {phrase!r}: {so[:300]!r}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--convfix", required=True)
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    cf = args.convfix
    tmp = Path(tempfile.mkdtemp(prefix="convfix_images_"))

    # Extra images made here: a small one (enlarged, not shrunk), one with alpha, one palette.
    rng = np.random.default_rng(0)
    small = tmp / "gen" / "small_rgb.png"
    small.parent.mkdir()
    Image.fromarray(rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)).save(small)
    rgba = tmp / "gen" / "alpha.png"
    a = np.asarray(Image.open(ASSETS / "chelsea.png").convert("RGBA")).copy()
    a[..., 3] = rng.integers(0, 256, a.shape[:2], dtype=np.uint8)
    Image.fromarray(a, "RGBA").save(rgba)
    pal = tmp / "gen" / "palette.png"
    Image.open(ASSETS / "coffee.png").convert("P", palette=Image.ADAPTIVE, colors=64).save(pal)

    pngs = [ASSETS / "chelsea.png", ASSETS / "coffee.png", ASSETS / "camera.png", small, rgba, pal]
    jpgs = [ASSETS / "rocket.jpg"]
    # Limits in 8-bit levels. PIL rounds after each pass (up to 1 level apart);
    # gray models add PIL's fixed-point luma vs convfix's float luma (one more
    # rounding step); JPEG adds decoder differences, mostly averaged away by
    # the downscale (measured here: max 1.7, mean 0.27 levels on rocket.jpg).
    PNG_MAX, PNG_MEAN = 1.01, 0.35
    GRAY_MAX = 1.5
    JPG_MAX, JPG_MEAN = 4.0, 0.5

    models = {
        "nchw224": (["N", 3, 224, 224], "nchw", 3, 224, 224, []),
        "nhwc224": (["N", 224, 224, 3], "nhwc", 3, 224, 224, []),
        "gray": ([1, 1, 224, 224], "nchw", 1, 224, 224, []),
        "rect": ([1, 3, 160, 200], "nchw", 3, 160, 200, []),
        "dynsize": (["N", "H", "W", 3], "nhwc", 3, 96, 128, ["--size", "96x128"]),
    }
    for mname, (shape, *_rest) in models.items():
        make_model(tmp / f"{mname}.onnx", shape)

    cases = [("torch", m) for m in models] + [(p, "nchw224") for p in ("tf", "caffe", "unit", "raw")]
    cases += [("caffe", "nhwc224"), ("tf", "rect")]
    stats = []
    for preset, mname in cases:
        shape, layout, ch, h, w, extra = models[mname]
        out = tmp / f"in_{preset}_{mname}"
        rc, so, se = run(cf, [tmp / f"{mname}.onnx", "--images"] + pngs + jpgs +
                         ["--preprocess", preset, "--save-inputs", out, "--json", "--top", "1"] + extra)
        if not check(rc == 0, f"{preset}/{mname}: convfix exited {rc}: {se.strip()}"):
            continue
        j = json.loads(so)
        check(j["preset"] == preset and j["layout"] == layout,
              f"{preset}/{mname}: JSON says preset {j['preset']} layout {j['layout']}")
        check([Path(i["file"]).name for i in j["images"]] == [p.name for p in pngs + jpgs],
              f"{preset}/{mname}: JSON images are not the files in order")
        for img in pngs + jpgs:
            t = np.load(out / (img.name + ".npy"))
            want_shape = (1, ch, h, w) if layout == "nchw" else (1, h, w, ch)
            if not check(t.shape == want_shape and t.dtype == np.float32,
                         f"{preset}/{mname}/{img.name}: saved {t.shape} {t.dtype}, want {want_shape} float32"):
                continue
            got = to_pixels(t, preset, layout, ch)
            is_jpg = img.suffix == ".jpg"
            lim = (JPG_MAX, JPG_MEAN) if is_jpg else (GRAY_MAX if ch == 1 else PNG_MAX, PNG_MEAN)
            name = f"{preset}/{mname}/{img.name}"
            d = compare(name + " vs PIL", got, reference_pixels(img, preset, h, w, ch), *lim, args.verbose)
            if d is not None:
                stats.append((is_jpg, d.max(), d.mean()))
            if preset == "torch" and mname == "nchw224":
                compare(name + " vs torchvision", got, torchvision_pixels(img), *lim, args.verbose)

    # --batch on a fixed-batch-1 model runs one by one and says so.
    rc, so, se = run(cf, [tmp / "gray.onnx", "--images", ASSETS, "--batch", "4", "--json"])
    check(rc == 0 and "one by one" in se, f"fixed batch 1 with --batch 4: rc {rc}, stderr {se.strip()!r}")
    if rc == 0:
        check(len(json.loads(so)["images"]) == 4, "fixed batch 1: not every image was run")

    # Same tensors whatever the batch size.
    o1, o3 = tmp / "b1", tmp / "b3"
    run(cf, [tmp / "nchw224.onnx", "--images", ASSETS, "--batch", "1", "--save-outputs", o1])
    run(cf, [tmp / "nchw224.onnx", "--images", ASSETS, "--batch", "3", "--save-outputs", o3])
    try:
        y1, y3 = np.load(o1 / "y.npy"), np.load(o3 / "y.npy")
        check(y1.shape == (4, 3, 224, 224) and np.array_equal(y1, y3), "--save-outputs differs between --batch 1 and 3")
    except OSError as e:
        check(False, f"--save-outputs did not write y.npy: {e}")

    # Errors: one line naming the path, exit 2.
    empty = tmp / "empty"
    empty.mkdir()
    (empty / "readme.txt").write_text("not an image\n")
    fake = tmp / "fake"
    fake.mkdir()
    (fake / "a.png").write_bytes((ASSETS / "chelsea.png").read_bytes())
    (fake / "b.jpg").write_text("this is not a JPEG\n")
    trunc = tmp / "trunc.png"
    trunc.write_bytes((ASSETS / "coffee.png").read_bytes()[:5000])
    for what, imgs, needle in [
        ("missing folder", [tmp / "does_not_exist"], "does_not_exist"),
        ("empty folder", [empty], str(empty)),
        ("non-image in folder", [fake], "b.jpg"),
        ("non-image file", [ASSETS / "LICENSES.md"], "LICENSES.md"),
        ("truncated PNG", [trunc], "trunc.png"),
    ]:
        rc, so, se = run(cf, [tmp / "nchw224.onnx", "--images"] + imgs)
        lines = [l for l in se.splitlines() if l.strip()]
        check(rc == 2 and len(lines) == 1 and needle in lines[0] and so == "",
              f"{what}: want exit 2 and one stderr line naming {needle}; got rc {rc}, stderr {se!r}, stdout {so[:80]!r}")

    check_scores(cf, tmp, args.verbose)

    png = [s for s in stats if not s[0]]
    jpg = [s for s in stats if s[0]]
    if png:
        print(f"PNG vs PIL: {len(png)} comparisons, worst max {max(s[1] for s in png):.3f} levels, "
              f"worst mean {max(s[2] for s in png):.4f} levels")
    if jpg:
        print(f"JPEG vs PIL (different decoders): {len(jpg)} comparisons, worst max {max(s[1] for s in jpg):.3f} "
              f"levels, worst mean {max(s[2] for s in jpg):.4f} levels")
    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    print("all preprocessing checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
