#!/usr/bin/python3
"""Fault benchmark generator (issue 5): faithful source models and faulty
targets with ONE known injected fault each, plus faithful controls, and a
manifest that is the ground truth for `convfix diagnose` (bench/faults/run.py
scores it). See bench/faults/README.md and docs/DIAGNOSIS.md, "Fault benchmark".

  /usr/bin/python3 bench/faults/make_faults.py [--out build/faults] [--quick]
      [--cases REGEX] [--no-validate] [--threads 2]

Writes, under OUT (nothing of it is committed):
  images/               16 real photographs (copies) the cases are run on
  bases/<base>/source.onnx    faithful torch.onnx exports (BatchNorm kept)
  cases/<id>/target.*   one faulty (or faithful control) target per case
  manifest.json         per case: id, base, format, fault class (number and
                        name from ../shared/FAULTS.md), category, kind
                        (fault | crash | control), source, target (paths
                        relative to OUT), presets, injected target node(s),
                        matching source node(s), expected effect, expected
                        verdict, and `validation`: what an independent
                        runtime (ONNX Runtime via bench/faults/ort_batch.js, TFLite via
                        bench/faults/tflite_batch.js) measured on the images.

Validation: every target is run by the independent runtime on the same
preprocessed photos as its source. A fault case is kept only when its outputs
differ beyond float noise (max|diff|/max|source| > NOISE_REL, or a top-1
change, or NaN) or, for a crash class, when the runtime refuses to load or
run it; a control must stay within NOISE_REL. The script exits 1 when a case
fails its validation (so the ctest catches a generator that stopped
producing real faults).

Bases are regenerated only when missing or when this script's stamp changed.
"""
import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tools"))
sys.path.insert(0, HERE)

SKIMAGE = "/usr/lib/python3/dist-packages/skimage/data"
OPENCV = "/usr/share/doc/opencv-doc/examples/data"
ASSETS = os.path.join(ROOT, "assets", "images")
# 16 photographs: the 4 bundled ones, then skimage's and opencv-doc's.
PHOTOS = [(ASSETS, n) for n in ["camera.png", "chelsea.png", "coffee.png", "rocket.jpg"]] + \
    [(SKIMAGE, n) for n in ["astronaut.png", "motorcycle_left.png", "hubble_deep_field.jpg", "coins.png"]] + \
    [(OPENCV, n) for n in ["baboon.jpg", "fruits.jpg", "butterfly.jpg", "apple.jpg", "building.jpg",
                           "HappyFish.jpg", "orange.jpg", "messi5.jpg"]]

SHARED_TFLITE = os.path.normpath(os.path.join(ROOT, "..", "shared", "models", "tflite"))

# Relative output difference below which two runs count as the same model
# (float noise: reordered sums, fused kernels). Controls measure ~1e-6.
NOISE_REL = 1e-4

# Preset arithmetic, as in docs/PREPROCESSING.md: (p*scale - mean)/std.
PRESETS = {
    "torch": dict(order="RGB", scale=1 / 255.0, mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225], crop=0.875),
    "tf": dict(order="RGB", scale=1 / 127.5, mean=[1, 1, 1], std=[1, 1, 1], crop=1.0),
    "caffe": dict(order="BGR", scale=1.0, mean=[103.939, 116.779, 123.68], std=[1, 1, 1], crop=1.0),
    "unit": dict(order="RGB", scale=1 / 255.0, mean=[0, 0, 0], std=[1, 1, 1], crop=1.0),
    "raw": dict(order="RGB", scale=1.0, mean=[0, 0, 0], std=[1, 1, 1], crop=1.0),
}

CLASSES = {  # number -> name, from ../shared/FAULTS.md
    1: "SAME padding lost", 2: "asymmetric pads made symmetric or partly dropped", 3: "pad order/direction swapped",
    4: "MaxPool padded with zeros", 5: "AveragePool count_include_pad flipped", 6: "pooling ceil_mode lost",
    7: "BatchNorm epsilon changed", 8: "BatchNorm statistics mis-mapped", 10: "exported in training mode",
    11: "wrong feature order into Flatten/Dense", 13: "input layout contract broken",
    14: "depthwise group/multiplier mapped wrongly", 15: "dilation lost or mis-sized",
    16: "kernel layout or flip wrong", 17: "Gemm transB ignored or inverted", 18: "ReLU6 bounds lost",
    19: "Softmax axis or opset semantics", 22: "bias dropped", 23: "precision reduced (fp16, int8)",
    24: "preprocessing mismatch", 25: "shape hard-coding, Flatten <-> Reshape", 27: "redundant or extra nodes",
}


# Classes FAULTS.md gives two categories (G/H, H/P): a diagnosis naming the
# other one is also right. The case's `category` is the first.
ALT_CATEGORIES = {4: ["hyperparameters"], 14: ["hyperparameters"], 17: ["parameters"]}


def log(*a):
    print(*a, flush=True)


# ---------------------------------------------------------------------------
# Images and preprocessing (independent of convfix: PIL + numpy)

def load_image(path, h, w, channels, preset):
    from PIL import Image
    p = PRESETS[preset]
    img = Image.open(path)
    img = img.convert("L" if channels == 1 else "RGB")
    f = p["crop"]
    bh, bw = int(h // f), int(w // f)
    iw, ih = img.size
    if iw * bh >= ih * bw:
        nh, nw = bh, max(bw, int(bh * iw // ih))
    else:
        nw, nh = bw, max(bh, int(bw * ih // iw))
    img = img.resize((nw, nh), Image.BILINEAR)
    top, left = int(round((nh - h) / 2)), int(round((nw - w) / 2))
    img = img.crop((left, top, left + w, top + h))
    a = np.asarray(img, dtype=np.float32)
    if channels == 1:
        a = a[:, :, None]
        mean = np.float32(np.mean(p["mean"]))
        std = np.float32(np.mean(p["std"]))
    else:
        if p["order"] == "BGR":
            a = a[:, :, ::-1]
        mean = np.array(p["mean"], np.float32)
        std = np.array(p["std"], np.float32)
    a = (a * np.float32(p["scale"]) - mean) / std
    return a.astype(np.float32)  # HWC


def batch(images, h, w, c, preset, layout):
    x = np.stack([load_image(f, h, w, c, preset) for f in images])  # NHWC
    if layout == "NCHW":
        x = x.transpose(0, 3, 1, 2)
    return np.ascontiguousarray(x)


# ---------------------------------------------------------------------------
# Bases

BASE_VERSION = 1  # bump when the bases must be regenerated


def script_stamp():
    """Stamp of the bases: the code that builds them (not the case table, so
    editing a case does not regenerate every base)."""
    import inspect
    import torch
    h = hashlib.sha256()
    h.update(str(BASE_VERSION).encode())
    h.update(torch.__version__.encode())
    for fn in (small_cnn_class, base_specs, export, build_base):
        h.update(inspect.getsource(fn).encode())
    with open(os.path.join(ROOT, "tools", "gen_torchvision.py"), "rb") as fh:
        h.update(fh.read())
    return h.hexdigest()[:16]


def small_cnn_class():
    import torch.nn as nn

    class SmallCNN(nn.Module):
        """64x64x3 -> 10 classes: conv/BN stages (conv-ReLU-BN, then a MaxPool
        padded with 1 on the signed BatchNorm output, a dilated conv, a
        stride-2 conv after an asymmetric TF-SAME ZeroPad), AvgPool,
        a real Flatten -> Linear stack (one square 64x64 Linear), Softmax."""

        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 16, 3, padding=1)
            self.bn1 = nn.BatchNorm2d(16)
            self.pool1 = nn.MaxPool2d(3, 2, 1)
            self.conv2 = nn.Conv2d(16, 32, 3, padding=2, dilation=2)
            self.bn2 = nn.BatchNorm2d(32)
            self.pad3 = nn.ZeroPad2d((0, 1, 0, 1))  # TF SAME for k3 s2 on an even map
            self.conv3 = nn.Conv2d(32, 32, 3, stride=2)
            self.bn3 = nn.BatchNorm2d(32)
            self.pool3 = nn.AvgPool2d(2)
            self.flatten = nn.Flatten()
            self.fc1 = nn.Linear(32 * 8 * 8, 64)
            self.fc2 = nn.Linear(64, 64)
            self.fc3 = nn.Linear(64, 10)
            self.relu = nn.ReLU()
            self.softmax = nn.Softmax(dim=1)

        def forward(self, x):
            x = self.pool1(self.bn1(self.relu(self.conv1(x))))
            x = self.relu(self.bn2(self.conv2(x)))
            x = self.relu(self.bn3(self.conv3(self.pad3(x))))
            x = self.flatten(self.pool3(x))
            x = self.relu(self.fc1(x))
            x = self.relu(self.fc2(x))
            return self.softmax(self.fc3(x))

    return SmallCNN


def base_specs():
    import gen_torchvision as gt
    specs = {}
    for name in ["mobilenet_v2", "resnet50", "inception_v3", "efficientnet_b0"]:
        builder, crop, opset = gt.MODELS[name]
        specs[name] = dict(builder=builder, crop=crop, opset=opset, seed=1000 + sorted(gt.MODELS).index(name))
    specs["small_cnn"] = dict(builder=lambda: small_cnn_class()(), crop=64, opset=13, seed=77)
    return specs


def export(model, crop, opset, path, preserve_bn=True):
    import torch
    import onnx
    from onnx_edit import strip_param_identities
    x1 = torch.zeros(1, 3, crop, crop)
    kw = dict(opset_version=opset, input_names=["input"], output_names=["logits"],
              dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, do_constant_folding=True)
    if preserve_bn:
        # Exporting an eval-mode module with PRESERVE skips the eval peephole
        # that folds BatchNorm into Conv: BatchNormalization nodes stay.
        kw["training"] = torch.onnx.TrainingMode.PRESERVE
    tmp = path + ".tmp"
    torch.onnx.export(model, x1, tmp, **kw)
    m = onnx.load(tmp)
    strip_param_identities(m)
    onnx.checker.check_model(m)
    onnx.save(m, path)
    os.remove(tmp)


def build_base(name, out, stamp, threads):
    """Calibrated, faithful torch.onnx export (BatchNorm kept) at
    bases/<name>/source.onnx; meta.json records the ReLU6 input maxima
    (in call order = Clip order) used to pick a ReLU6 whose bound matters."""
    import torch
    import gen_torchvision as gt
    d = os.path.join(out, "bases", name)
    meta_f = os.path.join(d, "meta.json")
    if os.path.exists(meta_f):
        with open(meta_f) as f:
            meta = json.load(f)
        if meta.get("stamp") == stamp and os.path.exists(os.path.join(d, "source.onnx")):
            return meta
    os.makedirs(d, exist_ok=True)
    torch.set_num_threads(threads)
    spec = base_specs()[name]
    t0 = time.time()
    torch.manual_seed(spec["seed"])
    model = spec["builder"]()
    calib = torch.from_numpy(gt.photos(gt.CALIB_PHOTOS, spec["crop"]))
    gt.calibrate(model, calib)
    relu6 = []
    # A pre-hook: torchvision's ReLU6 is in place, a forward hook would see
    # the clipped values.
    hooks = [mod.register_forward_pre_hook(lambda mod, i: relu6.append(float(i[0].max())))
             for mod in model.modules() if isinstance(mod, torch.nn.ReLU6)]
    with torch.no_grad():
        model(calib)
    for hk in hooks:
        hk.remove()
    export(model, spec["crop"], spec["opset"], os.path.join(d, "source.onnx"))
    extra = {}
    if name == "mobilenet_v2":
        # Faithful variants for the controls: BatchNorm folded (torch.onnx's
        # default eval export) and another opset.
        export(model, spec["crop"], spec["opset"], os.path.join(d, "folded_bn.onnx"), preserve_bn=False)
        export(model, spec["crop"], 17, os.path.join(d, "opset17.onnx"))
        extra = {"folded_bn": "folded_bn.onnx", "opset17": "opset17.onnx"}
    if name == "small_cnn":
        export(model, spec["crop"], 11, os.path.join(d, "opset11.onnx"))
        extra = {"opset11": "opset11.onnx"}
    meta = dict(name=name, stamp=stamp, crop=spec["crop"], opset=spec["opset"], relu6_input_max=relu6,
                variants=extra, seconds=round(time.time() - t0, 1))
    with open(meta_f, "w") as f:
        json.dump(meta, f, indent=1)
    log(f"base {name}: exported in {meta['seconds']} s")
    return meta


# ---------------------------------------------------------------------------
# ONNX fault injections. Each takes the loaded source model (a copy), mutates
# it and returns (target_nodes, source_nodes, what it did).

def conv_named(m, name):
    from onnx_edit import node_by_name
    n = node_by_name(m, name)
    assert n.op_type == "Conv", name
    return n


def f_pads(name, pads, what):
    def f(m, meta):
        from onnx_edit import attr, set_attr
        n = conv_named(m, name)
        old = attr(n, "pads")
        set_attr(n, "pads", pads)
        return [name], [name], f"{what}: pads {old} -> {pads}"
    return f


def f_pool_attr(op, index, key, value):
    def f(m, meta):
        from onnx_edit import attr, nodes, set_attr
        n = nodes(m, op)[index]
        old = attr(n, key, 0)
        set_attr(n, key, value)
        return [n.name], [n.name], f"{op} {key} {old} -> {value}"
    return f


def f_maxpool_zero_pad(m, meta):
    """Zero Pad inserted in front of a padded MaxPool (its pads moved into
    the Pad): zero beats every negative value at the border."""
    from onnx import helper, numpy_helper
    from onnx_edit import attr, insert_before, nodes, set_attr
    mp = nodes(m, "MaxPool")[0]
    p = attr(mp, "pads")
    name = mp.name.rsplit("/", 1)[0] + "/ZeroPad"
    pads = numpy_helper.from_array(np.array([0, 0, p[0], p[1], 0, 0, p[2], p[3]], np.int64), name + "_pads")
    m.graph.initializer.append(pads)
    pad = helper.make_node("Pad", [mp.input[0], pads.name], [name + "_output_0"], name=name, mode="constant")
    insert_before(m, mp, 0, [pad], name + "_output_0")
    set_attr(mp, "pads", [0, 0, 0, 0])
    return [name, mp.name], [mp.name], f"zero Pad {p} inserted before MaxPool, MaxPool pads -> 0"


def f_avgpool_count_pad(index):
    """torch exports avg_pool2d(count_include_pad=True) as a zero Pad and an
    AveragePool; the faulty converter keeps the pads on the pool and
    excludes them from the count."""
    def f(m, meta):
        from onnx_edit import attr, nodes, producer, set_attr, get_init
        pools = [n for n in nodes(m, "AveragePool") if producer(m, n.input[0]) is not None
                 and producer(m, n.input[0]).op_type == "Pad"]
        ap = pools[index]
        pad = producer(m, ap.input[0])
        pv = get_init(m, pad.input[1]) if pad.input[1] in {i.name for i in m.graph.initializer} else None
        if pv is None:  # pads from a Constant node
            from onnx import numpy_helper
            pv = numpy_helper.to_array(attr(producer(m, pad.input[1]), "value"))
        pv = [int(v) for v in pv]
        ap.input[0] = pad.input[0]
        m.graph.node.remove(pad)
        set_attr(ap, "pads", [pv[2], pv[3], pv[6], pv[7]])
        set_attr(ap, "count_include_pad", 0)
        return [ap.name], [ap.name, pad.name], "Pad removed, AveragePool pads %s count_include_pad 1 -> 0" % (
            [pv[2], pv[3], pv[6], pv[7]],)
    return f


def f_pad_fused_symmetric(m, meta):
    """An asymmetric zero Pad (0,0 begin; 1,1 end) in front of a stride-2
    conv is fused into the conv as symmetric pads (1,1,1,1)."""
    from onnx_edit import attr, nodes, producer, set_attr
    for c in nodes(m, "Conv"):
        p = producer(m, c.input[0])
        if p is not None and p.op_type == "Pad":
            break
    else:
        raise RuntimeError("no Pad -> Conv")
    c.input[0] = p.input[0]
    m.graph.node.remove(p)
    old = attr(c, "pads", [0, 0, 0, 0])
    set_attr(c, "pads", [1, 1, 1, 1])
    return [c.name], [c.name, p.name], f"Pad (0,0,1,1) removed, Conv pads {old} -> [1, 1, 1, 1]"


def f_bn(name, how):
    def f(m, meta):
        from onnx_edit import attr, get_init, node_by_name, set_attr, set_init
        n = node_by_name(m, name)
        assert n.op_type == "BatchNormalization"
        if how == "epsilon":
            old = attr(n, "epsilon", 1e-5)
            set_attr(n, "epsilon", 1e-3)
            return [name], [name], f"epsilon {old:.0e} -> 1e-3"
        if how == "gamma_beta":
            g, b = get_init(m, n.input[1]), get_init(m, n.input[2])
            set_init(m, n.input[1], b.copy(), n)
            set_init(m, n.input[2], g.copy(), n)
            return [name], [name], "scale (gamma) and bias (beta) swapped"
        if how == "stats_reversed":
            mean, var = get_init(m, n.input[3]), get_init(m, n.input[4])
            set_init(m, n.input[3], mean[::-1].copy(), n)
            set_init(m, n.input[4], var[::-1].copy(), n)
            return [name], [name], "running mean and variance in reversed channel order"
        raise ValueError(how)
    return f


def f_relu6_unbounded(to_relu):
    def f(m, meta):
        from onnx import helper
        from onnx_edit import nodes
        clips = nodes(m, "Clip")
        mx = meta["relu6_input_max"]
        if len(mx) != len(clips):
            raise RuntimeError("ReLU6 count differs from Clip count")
        lo, hi = len(clips) // 4, 3 * len(clips) // 4  # mid-network
        k = max(range(lo, hi), key=lambda i: mx[i]) if not to_relu else \
            sorted(range(lo, hi), key=lambda i: -mx[i])[1]
        n = clips[k]
        if to_relu:
            pos = list(m.graph.node).index(n)
            r = helper.make_node("Relu", [n.input[0]], [n.output[0]], name=n.name)
            m.graph.node.remove(n)
            m.graph.node.insert(pos, r)
            return [n.name], [n.name], f"Clip(0, 6) replaced by Relu (input max {mx[k]:.2f} on the calibration photos)"
        del n.input[2]
        return [n.name], [n.name], f"Clip max input dropped (upper bound lost; input max {mx[k]:.2f})"
    return f


def f_input_nhwc_reshape(m, meta):
    """The input is declared NHWC and turned into NCHW with a Reshape
    instead of a Transpose (tensorflow-onnx#993)."""
    from onnx import helper, numpy_helper
    inp = m.graph.input[0]
    dims = inp.type.tensor_type.shape.dim
    n_, c, h, w = [d.dim_param or d.dim_value for d in dims]
    old = inp.name
    inp.name = "input_nhwc"
    dims[1].dim_value, dims[2].dim_value, dims[3].dim_value = h, w, c
    shape = numpy_helper.from_array(np.array([-1, c, h, w], np.int64), "input_reshape_shape")
    m.graph.initializer.append(shape)
    r = helper.make_node("Reshape", ["input_nhwc", shape.name], [old], name="/input_layout/Reshape")
    m.graph.node.insert(0, r)
    first = [n.name for n in m.graph.node if old in n.input and n.name != r.name]
    return ["/input_layout/Reshape"] + first, first, "input declared NHWC, Reshape (not Transpose) to NCHW"


def f_conv_weights(name, how):
    def f(m, meta):
        from onnx_edit import get_init, node_by_name, set_init
        n = node_by_name(m, name)
        w = get_init(m, n.input[1])
        if how == "flip":
            w2 = w[:, :, ::-1, ::-1]
            what = "kernel flipped spatially (convolution vs correlation)"
        elif how == "fp16":
            w2 = w.astype(np.float16).astype(np.float32)
            what = "weights rounded to float16"
        elif how == "dw_interleave":
            c = w.shape[0]
            idx = np.arange(c).reshape(2, c // 2).T.reshape(-1)  # c -> interleaved order
            w2 = w[idx]
            what = "depthwise kernels in multiplier-interleaved channel order"
        else:
            raise ValueError(how)
        set_init(m, n.input[1], np.ascontiguousarray(w2), n)
        return [name], [name], what
    return f


def f_fp16_all(m, meta):
    from onnx import numpy_helper
    changed = []
    names = {}
    for n in m.graph.node:
        if n.op_type in ("Conv", "Gemm"):
            for i in n.input[1:]:
                names[i] = n.name
    for k, init in enumerate(m.graph.initializer):
        if init.name in names:
            a = numpy_helper.to_array(init)
            if a.dtype == np.float32:
                m.graph.initializer[k].CopyFrom(numpy_helper.from_array(a.astype(np.float16).astype(np.float32), init.name))
                changed.append(names[init.name])
    changed = sorted(set(changed))
    return changed, changed, f"weights and biases of all {len(changed)} Conv/Gemm layers rounded to float16"


def f_bias_dropped(name):
    def f(m, meta):
        from onnx_edit import node_by_name
        n = node_by_name(m, name)
        assert len(n.input) == 3
        del n.input[2]
        return [name], [name], f"{n.op_type} bias input removed"
    return f


def f_dropout_training(m, meta):
    """A Dropout with training_mode = true left in front of the classifier."""
    from onnx import helper, numpy_helper
    from onnx_edit import insert_before, nodes
    g = nodes(m, "Gemm")[-1]
    name = g.name.rsplit("/", 1)[0] + "/Dropout"
    m.graph.initializer.append(numpy_helper.from_array(np.array(0.2, np.float32), name + "_ratio"))
    m.graph.initializer.append(numpy_helper.from_array(np.array(True), name + "_training_mode"))
    d = helper.make_node("Dropout", [g.input[0], name + "_ratio", name + "_training_mode"], [name + "_output_0"],
                         name=name, seed=1)
    insert_before(m, g, 0, [d], name + "_output_0")
    return [name, g.name], [g.name], "Dropout(ratio 0.2, training_mode true) inserted before the classifier"


def f_flatten_nhwc(m, meta):
    """Flatten in NHWC order (a Transpose to NHWC in front of Flatten) while
    the Dense rows stay in NCHW order."""
    from onnx import helper
    from onnx_edit import insert_before, nodes
    fl = nodes(m, "Flatten")[0]
    gemm = [n for n in m.graph.node if fl.output[0] in n.input][0]
    name = fl.name.rsplit("/", 1)[0] + "/Transpose_nhwc"
    t = helper.make_node("Transpose", [fl.input[0]], [name + "_output_0"], name=name, perm=[0, 2, 3, 1])
    insert_before(m, fl, 0, [t], name + "_output_0")
    return [name, fl.name, gemm.name], [fl.name, gemm.name], "Transpose(0,2,3,1) before Flatten, Gemm rows not permuted"


def f_dilation_lost(m, meta):
    from onnx_edit import attr, nodes, set_attr
    n = [c for c in nodes(m, "Conv") if max(attr(c, "dilations", [1])) > 1][0]
    old = attr(n, "dilations")
    set_attr(n, "dilations", [1, 1])
    return [n.name], [n.name], f"dilations {old} -> [1, 1] (pads kept: the map grows by 2)"


def f_gemm_transB(index):
    def f(m, meta):
        from onnx_edit import attr, nodes, set_attr
        g = nodes(m, "Gemm")[index]
        old = attr(g, "transB", 0)
        set_attr(g, "transB", 1 - old)
        return [g.name], [g.name], f"transB {old} -> {1 - old} (square 64x64 weight used untransposed)"
    return f


def f_softmax_axis(m, meta):
    from onnx_edit import attr, nodes, set_attr
    s = nodes(m, "Softmax")[0]
    old = attr(s, "axis", -1)
    set_attr(s, "axis", 0)
    return [s.name], [s.name], f"Softmax axis {old} -> 0 (the batch axis)"


def f_flatten_to_reshape(m, meta):
    """Flatten traced as a Reshape to a constant [1, C]: runs at batch 1
    only (pytorch#41893)."""
    from onnx import helper, numpy_helper
    from onnx_edit import nodes
    fl = nodes(m, "Flatten")[0]
    gemm = [n for n in m.graph.node if fl.output[0] in n.input][0]
    from onnx_edit import get_init
    c = get_init(m, gemm.input[1]).shape[1]
    shape = numpy_helper.from_array(np.array([1, c], np.int64), fl.name + "_shape")
    m.graph.initializer.append(shape)
    pos = list(m.graph.node).index(fl)
    r = helper.make_node("Reshape", [fl.input[0], shape.name], [fl.output[0]], name=fl.name.replace("Flatten", "Reshape"))
    m.graph.node.remove(fl)
    m.graph.node.insert(pos, r)
    return [r.name, gemm.name], [fl.name, gemm.name], f"Flatten -> Reshape to constant [1, {c}]"


def f_redundant(m, meta):
    """Faithful but different: an Identity chain and a Transpose pair that
    cancels, inserted mid-network (class 27 as a control: no fault)."""
    from onnx import helper
    from onnx_edit import insert_before, nodes
    convs = nodes(m, "Conv")
    c = convs[len(convs) // 2]
    base = c.name.rsplit("/", 1)[0]
    x = c.input[0]
    n1 = helper.make_node("Identity", [x], [base + "/Identity_extra_output_0"], name=base + "/Identity_extra")
    n2 = helper.make_node("Transpose", [n1.output[0]], [base + "/Transpose_a_output_0"], name=base + "/Transpose_a",
                          perm=[0, 2, 3, 1])
    n3 = helper.make_node("Transpose", [n2.output[0]], [base + "/Transpose_b_output_0"], name=base + "/Transpose_b",
                          perm=[0, 3, 1, 2])
    insert_before(m, c, 0, [n1, n2, n3], n3.output[0])
    return [], [], "Identity + Transpose(0,2,3,1) + Transpose(0,3,1,2) inserted before " + c.name


# Case table. kind: fault (outputs must differ), crash (target must fail to
# load/run in the runtime), control (must agree). `quick`: in --quick mode.
def onnx_cases():
    M = "/features/features.%d/conv/conv.%s/Conv"
    R = "/layer%d/layer%d.%d/conv%d/Conv"
    C = []

    def add(cid, base, cls, cat, fn, kind="fault", quick=False, src_pp="torch", tgt_pp="torch", effect="",
            variant=None, verdicts=None):
        C.append(dict(id=cid, base=base, format="onnx", cls=cls, category=cat, fn=fn, kind=kind, quick=quick,
                      verdicts=verdicts,
                      source_preprocess=src_pp, target_preprocess=tgt_pp, effect=effect, variant=variant))

    # MobileNetV2 (opset 13)
    add("mnv2_pads_lost_dw", "mobilenet_v2", 1, "hyperparameters", f_pads(M % (11, "1/conv.1.0"), [0, 0, 0, 0],
        "explicit pads of a stride-1 depthwise conv dropped"), quick=True,
        effect="14x14 map shrinks to 12x12 from block 11 on; labels change")
    add("mnv2_pad_shift", "mobilenet_v2", 3, "hyperparameters", f_pads(M % (7, "1/conv.1.0"), [0, 0, 1, 1],
        "symmetric pads of a stride-2 depthwise conv read as TF SAME"), quick=True,
        effect="same shape, map shifted by one pixel")
    add("mnv2_bn_gamma_beta", "mobilenet_v2", 8, "parameters",
        f_bn("/features/features.9/conv/conv.1/conv.1.1/BatchNormalization", "gamma_beta"),
        effect="large error from block 9 on")
    add("mnv2_relu6_max_lost", "mobilenet_v2", 18, "hyperparameters", f_relu6_unbounded(False), quick=True,
        effect="activations above 6 pass through one ReLU6")
    add("mnv2_relu6_to_relu", "mobilenet_v2", 18, "hyperparameters", f_relu6_unbounded(True),
        effect="activations above 6 pass through one ReLU6")
    add("mnv2_input_nhwc_reshape", "mobilenet_v2", 13, "input", f_input_nhwc_reshape, quick=True,
        effect="scrambled input, accuracy collapses")
    add("mnv2_preprocess_caffe", "mobilenet_v2", 24, "preprocessing", None, tgt_pp="caffe", quick=True,
        effect="the same model fed caffe (BGR, mean-subtracted 0-255) instead of torch preprocessing")
    add("mnv2_flatten_reshape_batch1", "mobilenet_v2", 25, "graph", f_flatten_to_reshape, kind="crash",
        effect="runs at batch 1, fails at any other batch size")
    add("ctl_mnv2_roundtrip", "mobilenet_v2", 27, "graph", "roundtrip", kind="control", quick=True,
        effect="faithful: source re-saved with onnx.save")
    add("ctl_mnv2_opset17", "mobilenet_v2", 27, "graph", "variant", kind="control", variant="opset17",
        effect="faithful: the same module exported at opset 17")
    add("ctl_mnv2_folded_bn", "mobilenet_v2", 27, "graph", "variant", kind="control", variant="folded_bn",
        effect="faithful: torch.onnx's default export, BatchNorm folded into Conv")
    add("ctl_mnv2_redundant_nodes", "mobilenet_v2", 27, "graph", f_redundant, kind="control",
        effect="faithful: Identity and a cancelling Transpose pair inserted")
    # ResNet-50 (opset 11)
    # (Dropping the end pads of ResNet-50's stride-2 3x3 convs was tried and
    # removed: on an even map the end pad is never read, nothing changes.)
    add("r50_maxpool_ceil", "resnet50", 6, "hyperparameters", f_pool_attr("MaxPool", 0, "ceil_mode", 1),
        effect="56x56 -> 57x57 after the stem pool; every later map one larger")
    add("r50_bn_stats_reversed", "resnet50", 8, "parameters",
        f_bn("/layer3/layer3.1/bn2/BatchNormalization", "stats_reversed"), effect="large error from layer3.1 on")
    add("r50_kernel_flip", "resnet50", 16, "parameters", f_conv_weights(R % (3, 3, 2, 2), "flip"),
        effect="wrong from layer3.2 on")
    add("r50_fc_bias_dropped", "resnet50", 22, "parameters", f_bias_dropped("/fc/Gemm"),
        effect="constant offset on the logits")
    add("r50_pads_lost_crash", "resnet50", 1, "hyperparameters", f_pads(R % (3, 3, 1, 2), [0, 0, 0, 0],
        "explicit pads of a residual 3x3 conv dropped"), kind="crash",
        effect="14x14 branch shrinks to 12x12: the residual Add fails")
    # InceptionV3 (opset 13)
    add("inc3_avgpool_count_pad", "inception_v3", 5, "hyperparameters", f_avgpool_count_pad(4),
        effect="border averages rescaled in one branch pool (Mixed_6c)")
    add("inc3_fp16_one_layer", "inception_v3", 23, "parameters",
        f_conv_weights("/Mixed_6b/branch7x7dbl_3/conv/Conv", "fp16"), effect="small drift from Mixed_6b on")
    add("inc3_pad_shift", "inception_v3", 3, "hyperparameters",
        f_pads("/Mixed_5c/branch3x3dbl_2/conv/Conv", [0, 0, 2, 2], "symmetric pads (1,1) read as (0,2)"),
        effect="same shape, branch map shifted by one pixel")
    # EfficientNet-B0 (opset 17)
    add("effb0_dw_interleave", "efficientnet_b0", 14, "parameters",
        f_conv_weights("/features/features.4/features.4.1/block/block.1/block.1.0/Conv", "dw_interleave"),
        effect="depthwise channels mixed in block 4.1")
    add("effb0_fp16_all", "efficientnet_b0", 23, "parameters", f_fp16_all,
        effect="all weights rounded to float16: small drift everywhere")
    add("effb0_bn_epsilon", "efficientnet_b0", 7, "hyperparameters",
        f_bn("/features/features.5/features.5.0/block/block.1/block.1.1/BatchNormalization", "epsilon"),
        effect="drift from block 5.0 on")
    add("effb0_dropout_training", "efficientnet_b0", 10, "graph", f_dropout_training,
        effect="random classifier input, labels vary per run",
        verdicts=["differs", "discrepant", "target_cannot_run"])  # refusing a random op is a diagnosis too
    # Small CNN with Flatten -> Linear (opset 13)
    add("scnn_flatten_nhwc", "small_cnn", 11, "graph", f_flatten_nhwc, quick=True,
        effect="conv stack matches, classifier sees permuted features")
    add("scnn_dilation_lost", "small_cnn", 15, "hyperparameters", f_dilation_lost, quick=True,
        effect="receptive field of conv2 shrinks, maps grow by 2")
    add("scnn_gemm_transB", "small_cnn", 17, "hyperparameters", f_gemm_transB(1), quick=True,
        effect="square fc2 applied with transposed weights")
    add("scnn_softmax_axis", "small_cnn", 19, "hyperparameters", f_softmax_axis,
        effect="softmax over the batch axis: every probability 1 at batch 1")
    add("scnn_maxpool_zero_pad", "small_cnn", 4, "graph", f_maxpool_zero_pad, quick=True,
        effect="zero beats negative BatchNorm outputs on the pool's border")
    add("scnn_asym_pad_symmetric", "small_cnn", 2, "hyperparameters", f_pad_fused_symmetric, quick=True,
        effect="TF-SAME pads (0,1) before the stride-2 conv3 fused as (1,1): map shifted by one pixel")
    add("scnn_conv_bias_dropped", "small_cnn", 22, "parameters", f_bias_dropped("/conv3/Conv"),
        effect="per-channel offset missing after conv3")
    add("scnn_preprocess_tf", "small_cnn", 24, "preprocessing", None, tgt_pp="tf",
        effect="the same model fed [-1,1] (tf) instead of ImageNet mean/std (torch)")
    add("ctl_scnn_roundtrip", "small_cnn", 27, "graph", "roundtrip", kind="control",
        effect="faithful: source re-saved with onnx.save")
    add("ctl_scnn_opset11", "small_cnn", 27, "graph", "variant", kind="control", variant="opset11",
        effect="faithful: the same module exported at opset 11")
    return C


def make_onnx_case(c, out, meta):
    import onnx
    src_rel = os.path.join("bases", c["base"], "source.onnx")
    src = os.path.join(out, src_rel)
    d = os.path.join(out, "cases", c["id"])
    os.makedirs(d, exist_ok=True)
    tgt = os.path.join(d, "target.onnx")
    tn, sn, what = [], [], ""
    if c["fn"] is None:  # preprocessing: identical copy
        shutil.copyfile(src, tgt)
        what = f"identical model; target preprocessing {c['target_preprocess']} instead of {c['source_preprocess']}"
    elif c["fn"] == "roundtrip":
        onnx.save(onnx.load(src), tgt)
        what = "onnx.load + onnx.save of the source"
    elif c["fn"] == "variant":
        shutil.copyfile(os.path.join(out, "bases", c["base"], meta["variants"][c["variant"]]), tgt)
        what = "faithful export variant: " + c["variant"]
    else:
        m = onnx.load(src)
        tn, sn, what = c["fn"](m, meta)
        if c["id"] not in ("r50_pads_lost_crash",):
            try:
                onnx.checker.check_model(m)
            except Exception as e:  # noqa: BLE001 - record, the runtime decides
                what += f" (onnx.checker: {str(e).splitlines()[0]})"
        onnx.save(m, tgt)
    return src_rel, os.path.relpath(tgt, out), tn, sn, what


# ---------------------------------------------------------------------------
# Independent runtimes

def have_node_packages():
    return os.path.isdir(os.path.join(ROOT, "node_modules", "onnxruntime-node")) and \
        os.path.isdir(os.path.join(ROOT, "node_modules", "@tensorflow", "tfjs-tflite"))


def ort_run(model, x, work, threads):
    """Returns (output array, None) or (None, error message)."""
    os.makedirs(work, exist_ok=True)
    xf = os.path.join(work, "x.npy")
    np.save(xf, x)
    of = os.path.join(work, "ort_out.npy")
    if os.path.exists(of):
        os.remove(of)
    # bench/faults/ort_batch.js: graph optimizations off (ORT fuses a zero Pad
    # into MaxPool, which would hide class 4).
    p = subprocess.run(["node", os.path.join(HERE, "ort_batch.js"), model, xf, of, "--threads", str(threads)],
                       capture_output=True, text=True)
    if p.returncode != 0:
        return None, (p.stderr.strip().splitlines() or ["exit %d" % p.returncode])[-1][:300]
    return np.load(of).astype(np.float64), None


def onnx_input_info(path):
    import onnx
    m = onnx.load(path, load_external_data=False)
    d = [x.dim_value for x in m.graph.input[0].type.tensor_type.shape.dim]
    if d[1] in (1, 3):
        return "NCHW", d[2], d[3], d[1]
    return "NHWC", d[1], d[2], d[3]


def measure(a, b):
    """Output difference of b (target) against a (source), per image."""
    if a.shape != b.shape:
        return dict(shape_source=list(a.shape), shape_target=list(b.shape), changed=True,
                    note="output shapes differ")
    nan = bool(np.isnan(b).any() and not np.isnan(a).any())
    diff = np.abs(a - b)
    rel = float(np.nanmax(diff) / max(np.abs(a).max(), 1e-30)) if not np.isnan(diff).all() else float("nan")
    t1a, t1b = a.reshape(len(a), -1).argmax(1), b.reshape(len(b), -1).argmax(1)
    disc = float(np.mean(t1a != t1b))
    return dict(rel_max_abs_diff=rel, max_abs_diff=float(np.nanmax(diff)) if not np.isnan(diff).all() else None,
                discrepancy_rate=disc, nan=nan,
                changed=bool(nan or disc > 0 or not (rel <= NOISE_REL)))


class Validator:
    def __init__(self, out, images, threads):
        self.out, self.images, self.threads = out, images, threads
        self.cache = {}
        self.work = tempfile.mkdtemp(prefix="faults-val-")

    def onnx_outputs(self, model, preset):
        layout, h, w, c = onnx_input_info(model)
        key = (model, preset, os.path.getmtime(model))
        if key in self.cache:
            return self.cache[key]
        x = batch(self.images, h, w, c, preset, layout)
        r = ort_run(model, x, self.work, self.threads)
        if r[0] is not None and os.path.basename(model) == "source.onnx":
            self.cache[key] = r
        return r

    def validate(self, case):
        src = os.path.join(self.out, case["source"])
        tgt = os.path.join(self.out, case["target"])
        if case["format"] == "onnx":
            a, err_a = self.onnx_outputs(src, case["source_preprocess"])
            b, err_b = self.onnx_outputs(tgt, case["target_preprocess"])
        else:
            import tflite_cases
            a, err_a = tflite_cases.run_tflite(src, self.images, case["source_preprocess"], self.work)
            b, err_b = tflite_cases.run_tflite(tgt, self.images, case["target_preprocess"], self.work)
        runtime = "onnxruntime-node" if case["format"] == "onnx" else "tfjs-tflite (TFLite WASM)"
        if err_a:
            return dict(runtime=runtime, ok=False, note="source failed: " + err_a)
        if err_b:
            v = dict(runtime=runtime, target_runs=False, error=err_b, changed=True)
        else:
            v = dict(runtime=runtime, target_runs=True, **measure(a, b))
        v["nodes_ok"] = self.nodes_exist(case, src, tgt)
        if case["kind"] == "crash":
            v["ok"] = not v["target_runs"]
        elif case["kind"] == "control":
            v["ok"] = v["target_runs"] and not v["changed"]
        else:
            v["ok"] = v["target_runs"] and v["changed"]
        v["ok"] = v["ok"] and v["nodes_ok"]
        v["images"] = len(self.images)
        return v

    @staticmethod
    def nodes_exist(case, src, tgt):
        """The ground truth names real nodes: every recorded target node is a
        node of the target file, every source node one of the source file."""
        if case["format"] == "onnx":
            import onnx
            names = lambda f: {n.name for n in onnx.load(f, load_external_data=False).graph.node}
        else:
            import tflite_cases
            names = tflite_cases.node_names
        return set(case["target_nodes"]) <= names(tgt) and set(case["source_nodes"]) <= names(src)


# ---------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "faults"))
    ap.add_argument("--quick", action="store_true", help="only the quick subset (MobileNetV2, small CNN, TFLite)")
    ap.add_argument("--cases", default="", help="regular expression on case ids")
    ap.add_argument("--no-validate", action="store_true")
    ap.add_argument("--no-tflite", action="store_true")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    if not args.no_validate and not have_node_packages():
        print("SKIP: node_modules/onnxruntime-node or @tensorflow/tfjs-tflite missing "
              "(run `npm install --ignore-scripts` in the repository root)")
        sys.exit(77)

    imgdir = os.path.join(out, "images")
    os.makedirs(imgdir, exist_ok=True)
    images = []
    for d, n in PHOTOS:
        dst = os.path.join(imgdir, n)
        if not os.path.exists(dst):
            shutil.copyfile(os.path.join(d, n), dst)
        images.append(dst)

    cases = onnx_cases()
    if not args.no_tflite:
        import tflite_cases
        if os.path.isdir(SHARED_TFLITE):
            cases += tflite_cases.cases(SHARED_TFLITE)
        else:
            log(f"note: {SHARED_TFLITE} absent: TFLite cases skipped")
    if args.quick:
        cases = [c for c in cases if c["quick"]]
    if args.cases:
        cases = [c for c in cases if re.search(args.cases, c["id"])]
    stamp = script_stamp()
    metas = {}
    manifest = []
    val = None if args.no_validate else Validator(out, images, args.threads)
    failures = []
    t_all = time.time()
    for c in cases:
        t0 = time.time()
        if c["format"] == "onnx":
            if c["base"] not in metas:
                metas[c["base"]] = build_base(c["base"], out, stamp, args.threads)
            src, tgt, tn, sn, what = make_onnx_case(c, out, metas[c["base"]])
        else:
            import tflite_cases
            src, tgt, tn, sn, what = tflite_cases.make_case(c, out)
        entry = dict(id=c["id"], base=c["base"], format=c["format"], quick=c["quick"],
                     fault_class=dict(number=c["cls"], name=CLASSES[c["cls"]]), category=c["category"],
                     categories_accepted=[c["category"]] + ALT_CATEGORIES.get(c["cls"], []),
                     kind=c["kind"], source=src, target=tgt, source_preprocess=c["source_preprocess"],
                     target_preprocess=c["target_preprocess"], target_nodes=tn, source_nodes=sn,
                     injection=what, expected_effect=c["effect"],
                     expected_verdicts=c.get("verdicts") or {"fault": ["differs", "discrepant"],
                                                             "crash": ["target_cannot_run"],
                                                             "control": ["faithful", "differs"]}[c["kind"]])
        if val is not None:
            entry["validation"] = val.validate(entry)
            v = entry["validation"]
            if not v.get("ok"):
                failures.append(c["id"])
            log(f"{c['id']:28s} {c['kind']:7s} {'ok ' if v.get('ok') else 'BAD'} "
                + ("" if v.get("nodes_ok", True) else "(recorded node names missing) ")
                + (f"rel {v.get('rel_max_abs_diff', float('nan')):.2e} top1-diff {v.get('discrepancy_rate', 0):.2f}"
                   if v.get("target_runs") else f"target fails: {v.get('error', v.get('note', ''))[:90]}")
                + f"  ({time.time() - t0:.1f} s)")
        else:
            log(f"{c['id']:28s} written")
        manifest.append(entry)
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(dict(schema_version=1, images="images", noise_rel=NOISE_REL, cases=manifest), f, indent=1)
    n_cls = len({(e["fault_class"]["number"]) for e in manifest if e["kind"] != "control"})
    log(f"{len(manifest)} cases ({n_cls} fault classes) in {time.time() - t_all:.0f} s; manifest: "
        f"{os.path.join(out, 'manifest.json')}")
    if failures:
        log("validation FAILED for: " + ", ".join(failures))
        sys.exit(1)


if __name__ == "__main__":
    main()
