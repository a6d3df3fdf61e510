#!/usr/bin/env python3
"""Oracle test (label tf): TensorFlow NCHW data_format paths in convfix's TF
importer against a numpy oracle written from TensorFlow's documented semantics.

TF.js ignores data_format on BiasAdd / FusedBatchNorm and reads NCHW strides as
NHWC ones, so tests/tf/check_tfjs_graph.py cannot check these paths. Here the
graphs are written with the GraphDef-JSON writer of tools/gen_tf_graph_models.py
(imported, class G) and the expected outputs are computed in float64 numpy:
  Conv2D     SAME: out = ceil(in / s), pad_total = max((out-1)*s + (k-1)*d+1 - in, 0),
             pad_before = pad_total // 2; VALID: out = ceil((in - (k-1)*d) / s)
  BiasAdd    bias along the C axis of data_format
  FusedBatchNorm/V2/V3 (is_training false): (x-mean)/sqrt(var+eps)*scale+offset
  MaxPool    padding never wins (-inf); AvgPool SAME divides by the number of
             valid (unpadded) elements in the window
  Mean       over H, W
Chain per variant: x -> Conv2D -> BiasAdd -> FusedBatchNorm* -> Relu -> MaxPool(SAME)
-> AvgPool(SAME) -> Mean(H,W), in NCHW and in NHWC (control); one model is written
per chain prefix so a failure names the first op that is wrong. Plus MaxPool /
AvgPool SAME directly on the (signed) input, where padding matters most.
Pass: max |convfix - numpy| <= 1e-5 * max |numpy| for every model.
Usage: check_nchw.py CONVFIX REPO_ROOT [CASE_FILTER]"""
import importlib.util
import os
import subprocess
import sys
import tempfile

import numpy as np

TOL = 1e-5


def load_writer(root):
    path = os.path.join(root, "tools", "gen_tf_graph_models.py")
    spec = importlib.util.spec_from_file_location("gen_tf_graph_models", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# ---- numpy oracle, all in NHWC float64; NCHW = same op on the transposed tensor ----

def _out_pad(n, k, s, d, padding):
    ek = (k - 1) * d + 1
    if padding == "SAME":
        out = -(-n // s)
        total = max((out - 1) * s + ek - n, 0)
        return out, total // 2, total - total // 2
    out = -(-(n - ek + 1) // s)
    return out, 0, 0


def conv2d(x, w, s, d, padding):
    n, h, wd, _ = x.shape
    kh, kw, _, co = w.shape
    oh, pt, pb = _out_pad(h, kh, s[0], d[0], padding)
    ow, pl, pr = _out_pad(wd, kw, s[1], d[1], padding)
    xp = np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    y = np.zeros((n, oh, ow, co))
    for i in range(kh):
        for j in range(kw):
            patch = xp[:, i * d[0]: i * d[0] + (oh - 1) * s[0] + 1: s[0],
                       j * d[1]: j * d[1] + (ow - 1) * s[1] + 1: s[1], :]
            y += patch @ w[i, j]
    return y


def pool(x, k, s, padding, kind):
    n, h, wd, c = x.shape
    oh, pt, pb = _out_pad(h, k[0], s[0], 1, padding)
    ow, pl, pr = _out_pad(wd, k[1], s[1], 1, padding)
    pads = ((0, 0), (pt, pb), (pl, pr), (0, 0))
    xp = np.pad(x, pads, constant_values=(-np.inf if kind == "max" else 0.0))
    ones = np.pad(np.ones_like(x), pads)
    acc = np.full((n, oh, ow, c), -np.inf) if kind == "max" else np.zeros((n, oh, ow, c))
    cnt = np.zeros((n, oh, ow, c))
    for i in range(k[0]):
        for j in range(k[1]):
            sl = (slice(None), slice(i, i + (oh - 1) * s[0] + 1, s[0]), slice(j, j + (ow - 1) * s[1] + 1, s[1]))
            if kind == "max":
                acc = np.maximum(acc, xp[sl])
            else:
                acc += xp[sl]
                cnt += ones[sl]
    return acc if kind == "max" else acc / cnt


# ---- cases ----

# (name, conv padding, strides (h, w), dilations (h, w), batch-norm op)
VARIANTS = [
    ("same_s2", "SAME", (2, 2), (1, 1), "FusedBatchNormV3"),
    ("valid_s2", "VALID", (2, 2), (1, 1), "FusedBatchNorm"),
    ("same_d2", "SAME", (1, 1), (2, 2), "FusedBatchNormV2"),
    ("valid_d2", "VALID", (1, 1), (2, 2), "FusedBatchNormV3"),
    ("same_s2x1", "SAME", (2, 1), (1, 1), "FusedBatchNormV2"),
]
STAGES = ["conv", "bias", "bn", "relu", "maxpool", "avgpool", "mean"]
N, C, H, W, CO, KH, KW = 2, 3, 11, 10, 4, 3, 2
EPS = 1e-3


def to_fmt(shape4_nhwc, fmt):
    n, h, w, c = shape4_nhwc
    return (n, c, h, w) if fmt == "NCHW" else (n, h, w, c)


def quad(hw, fmt, fill=1):
    return (1, fill, hw[0], hw[1]) if fmt == "NCHW" else (1, hw[0], hw[1], fill)


def build_chain(gm, fmt, variant, upto, p):
    _, padding, s, d, bn_op = variant
    a_li, a_s, a_f, a_b, a_t = gm.a_li, gm.a_s, gm.a_f, gm.a_b, gm.a_t
    g = gm.G(to_fmt((N, H, W, C), fmt))
    df = dict(data_format=a_s(fmt))
    y = g.op("conv", "Conv2D", ["x", g.const(p["w"])], strides=a_li(quad(s, fmt)), padding=a_s(padding),
             dilations=a_li(quad(d, fmt)), **df)
    if upto == "conv":
        return g, y
    y = g.op("bias", "BiasAdd", [y, g.const(p["b"])], **df)
    if upto == "bias":
        return g, y
    extra = {} if bn_op == "FusedBatchNorm" else dict(U=a_t("DT_FLOAT"))
    y = g.op("bn", bn_op, [y, g.const(p["scale"]), g.const(p["offset"]), g.const(p["mean"]), g.const(p["var"])],
             epsilon=a_f(EPS), is_training=a_b(False), **extra, **df)
    if upto == "bn":
        return g, y
    y = g.op("relu", "Relu", [y])
    if upto == "relu":
        return g, y
    y = g.op("maxpool", "MaxPool", [y], ksize=a_li(quad((3, 3), fmt)), strides=a_li(quad((2, 2), fmt)),
             padding=a_s("SAME"), **df)
    if upto == "maxpool":
        return g, y
    y = g.op("avgpool", "AvgPool", [y], ksize=a_li(quad((3, 2), fmt)), strides=a_li(quad((2, 2), fmt)),
             padding=a_s("SAME"), **df)
    if upto == "avgpool":
        return g, y
    axes = np.array([2, 3] if fmt == "NCHW" else [1, 2], np.int32)
    y = g.op("mean", "Mean", [y, g.const(axes)], keep_dims=a_b(False), Tidx=a_t("DT_INT32"))
    return g, y


def oracle_chain(x_nhwc, variant, upto, p):
    _, padding, s, d, _ = variant
    y = conv2d(x_nhwc, p["w"].astype(np.float64), s, d, padding)
    if upto == "conv":
        return y
    y = y + p["b"]
    if upto == "bias":
        return y
    y = (y - p["mean"]) / np.sqrt(p["var"].astype(np.float64) + np.float64(np.float32(EPS))) * p["scale"] + p["offset"]
    if upto == "bn":
        return y
    y = np.maximum(y, 0.0)
    if upto == "relu":
        return y
    y = pool(y, (3, 3), (2, 2), "SAME", "max")
    if upto == "maxpool":
        return y
    y = pool(y, (3, 2), (2, 2), "SAME", "avg")
    if upto == "avgpool":
        return y
    return y.mean(axis=(1, 2))


def build_pool(gm, fmt, kind, k, s):
    g = gm.G(to_fmt((N, H, W, C), fmt))
    y = g.op("pool", "MaxPool" if kind == "max" else "AvgPool", ["x"], ksize=gm.a_li(quad(k, fmt)),
             strides=gm.a_li(quad(s, fmt)), padding=gm.a_s("SAME"), data_format=gm.a_s(fmt))
    return g, y


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    convfix, root = sys.argv[1], sys.argv[2]
    filt = sys.argv[3] if len(sys.argv) > 3 else ""
    gm = load_writer(root)
    rng = np.random.default_rng(11)
    p = {"w": rng.uniform(-1, 1, (KH, KW, C, CO)).astype(np.float32),
         "b": rng.uniform(-1, 1, CO).astype(np.float32),
         "scale": rng.uniform(0.5, 1.5, CO).astype(np.float32),
         "offset": rng.uniform(-0.5, 0.5, CO).astype(np.float32),
         "mean": rng.uniform(-0.5, 0.5, CO).astype(np.float32),
         "var": rng.uniform(0.5, 2.0, CO).astype(np.float32)}
    x_nhwc = rng.uniform(-2, 2, (N, H, W, C)).astype(np.float32)
    cases = []  # (name, builder, expected NHWC-or-2D float64)
    for v in VARIANTS:
        for st in STAGES:
            for fmt in ("NCHW", "NHWC"):
                cases.append((f"{fmt} {v[0]} {v[4]} ..{st}", fmt,
                              lambda fmt=fmt, v=v, st=st: build_chain(gm, fmt, v, st, p),
                              lambda v=v, st=st: oracle_chain(x_nhwc.astype(np.float64), v, st, p)))
    for kind, k, s in (("max", (3, 3), (2, 2)), ("avg", (3, 3), (2, 2)), ("avg", (2, 3), (3, 2))):
        for fmt in ("NCHW", "NHWC"):
            cases.append((f"{fmt} {kind}pool SAME k{k} s{s} on input", fmt,
                          lambda fmt=fmt, kind=kind, k=k, s=s: build_pool(gm, fmt, kind, k, s),
                          lambda kind=kind, k=k, s=s: pool(x_nhwc.astype(np.float64), k, s, "SAME", kind)))
    failed = 0
    worst = {}
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, fmt, build, expect) in enumerate(cases):
            if filt and filt not in name:
                continue
            g, y = build()
            md = os.path.join(tmp, f"m{i}")
            g.save(md, y)
            x = x_nhwc.transpose(0, 3, 1, 2).copy() if fmt == "NCHW" else x_nhwc
            xp = os.path.join(tmp, f"x{i}.npy")
            np.save(xp, x)
            od = os.path.join(tmp, f"o{i}")
            r = subprocess.run([convfix, "run", os.path.join(md, "model.json"), "--input", xp,
                                "--save-outputs", od], capture_output=True, text=True)
            if r.returncode:
                print(f"FAIL {name}: convfix exit {r.returncode}: {r.stderr.strip()}")
                failed += 1
                continue
            ref = expect()
            if ref.ndim == 4 and fmt == "NCHW":
                ref = ref.transpose(0, 3, 1, 2)
            got = np.load(os.path.join(od, "y.npy")).astype(np.float64)
            if got.shape != ref.shape:
                print(f"FAIL {name}: shape {list(got.shape)}, expected {list(ref.shape)}")
                failed += 1
                continue
            err = float(np.max(np.abs(got - ref)))
            scale = float(np.max(np.abs(ref)))
            ok = err <= TOL * max(scale, 1e-30)
            worst[fmt] = max(worst.get(fmt, 0.0), err / max(scale, 1e-30))
            print(f"{'ok  ' if ok else 'FAIL'} {name}: {list(ref.shape)} max err {err:.3g}, max |ref| {scale:.3g}")
            failed += 0 if ok else 1
    print("worst relative error: " + ", ".join(f"{k} {v:.3g}" for k, v in sorted(worst.items())))
    print(f"{failed} failure(s) of {len(cases) if not filt else 'filtered'} model(s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
