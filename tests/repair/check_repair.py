#!/usr/bin/python3
"""End-to-end test of `convfix repair`: every repaired model is checked by a
runtime that is not convfix (ONNX Runtime, the TFLite runtime, the TF.js
runtime, or h5py reading the repaired Keras file), against the source.

ONNX (MobileNetV2 from tools/gen_torchvision.py, faults injected with the onnx
package as in tests/diagnose/check_diagnose.py):
  clip f16 bias pads   repaired: verdict "repaired", a kept change on the
                       edited layer, ONNX Runtime's logits of the written model
                       equal the source's (<= 1e-4 x max |logit|)
  renamed identity     faithful: nothing kept, the written model = the target
  caffe                the source fed caffe: preprocessing_required = torch; with
                       --embed-preprocessing, ONNX Runtime on the written model
                       fed caffe values = the source fed torch values
Safety: input files unchanged (SHA-256), -o equal to an input refused (exit 2).
With ../shared: TFLite targets (a zeroed bias, a lost fused ReLU: the TFLite
runtime on the written .tflite = on the source), a Keras target (a zeroed
bias in a copy of tiny_mnist_cnn.h5: the repaired file's dataset equals the
original's, read with h5py) and a TF.js layers-model target (the TF.js
runtime on the repaired model = on the original).
Exit 0 pass, 1 fail, 77 skip.
"""
import argparse
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SHARED = os.path.join(os.path.dirname(ROOT), "shared", "models")
sys.path.insert(0, os.path.join(ROOT, "tests", "diagnose"))
sys.path.insert(0, os.path.join(ROOT, "bench", "faults"))
import check_diagnose as cd  # noqa: E402

failures = []


def check(cond, msg):
    (failures.append(msg) if not cond else None)
    print(("ok: " if cond else "FAIL: ") + msg, flush=True)


def sha(path):
    if os.path.isdir(path):
        h = hashlib.sha256()
        for root, _, files in sorted(os.walk(path)):
            for f in sorted(files):
                h.update(open(os.path.join(root, f), "rb").read())
        return h.hexdigest()
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def repair(convfix, source, target, images, out, work, name, extra=()):
    rep = os.path.join(work, "report_" + name)
    cmd = [convfix, "repair", source, target, "--images", images, "-o", out, "--report", rep, "--no-cache"] + list(extra)
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        print(" ".join(cmd))
        print(p.stdout[-2000:], p.stderr[-2000:])
        return None, p
    return json.load(open(os.path.join(rep, "repair.json"))), p


def ort(model, x_npy, work):
    d = tempfile.mkdtemp(dir=work)
    p = subprocess.run(["node", os.path.join(ROOT, "tools", "ort_run.js"), model, "--input", x_npy, "--out", d],
                       capture_output=True, text=True)
    if p.returncode != 0:
        print(p.stderr[-500:])
        return None
    files = sorted(f for f in os.listdir(d) if f.endswith(".npy"))
    return np.load(os.path.join(d, files[0])).astype(np.float64)


def close(a, b, rel=1e-4):
    return a is not None and b is not None and a.shape == b.shape and np.abs(a - b).max() <= rel * max(np.abs(b).max(), 1e-30)


def kept(j):
    return [r for r in j["repairs"] if r.get("kept")]


def onnx_cases(args, work, images, have_node):
    src = os.path.join(args.models_dir, "mobilenet_v2", "model.onnx")
    x_npy = os.path.join(args.models_dir, "mobilenet_v2", "input.npy")
    cases = cd.make_cases(src, work)
    before = {p: sha(p) for p in [src] + [c[0] for c in cases.values()]}
    ref = ort(src, x_npy, work) if have_node else None
    expected = {"clip": "hyperparameters", "f16": "parameters", "bias": "parameters", "pads": "hyperparameters"}
    for name, (target, cat, node, pattern) in cases.items():
        if name == "odd_op":
            continue
        print("---", name)
        out = os.path.join(work, name + "_repaired.onnx")
        j, p = repair(args.convfix, src, target, images, out, work, name)
        if j is None:
            check(False, f"{name}: repair exit code {p.returncode}")
            continue
        for key in ["schema_version", "command", "verdict", "output_model", "discrepancy_before", "discrepancy_after",
                    "repairs", "verification", "diagnosis", "diagnosis_after", "layers", "timings_s"]:
            check(key in j, f"{name}: JSON has '{key}'")
        for r in j["repairs"]:
            for key in ["strategy", "category", "target_node", "source_node", "change", "discrepancy_before",
                        "discrepancy_after", "kept"]:
                if key not in r:
                    check(False, f"{name}: repair entry has '{key}'")
        check(os.path.exists(out), f"{name}: {out} written")
        check(j["verification"].get("reload_ok") is True, f"{name}: the written model reproduces the repaired outputs")
        if cat is None:
            check(j["verdict"]["code"] == "faithful", f"{name}: verdict faithful (got {j['verdict']['code']})")
            check(not kept(j), f"{name}: no change kept")
            if have_node:
                check(close(ort(out, x_npy, work), ort(target, x_npy, work), 1e-6),
                      f"{name}: ONNX Runtime: the written model = the target")
            continue
        check(j["verdict"]["code"] == "repaired", f"{name}: verdict repaired (got {j['verdict']['code']}: {j['verdict']['summary']})")
        k = kept(j)
        check(any(r["strategy"] == expected[name] for r in k), f"{name}: a kept {expected[name]} change ({[r['strategy'] for r in k]})")
        check(any(r["target_node"] == node or node in json.dumps(r.get("details", {})) for r in k),
              f"{name}: the kept change is on the edited layer {node}")
        check(j["discrepancy_after"] == 0, f"{name}: discrepancy after = 0 (got {j['discrepancy_after']})")
        if have_node:
            t = ort(target, x_npy, work)
            o = ort(out, x_npy, work)
            check(not close(t, ref, 1e-6), f"{name}: ONNX Runtime sees the fault in the target")
            check(close(o, ref), f"{name}: ONNX Runtime: repaired logits = source logits "
                                 f"(max diff {None if o is None else float(np.abs(o - ref).max())})")

    # Preprocessing: the source itself fed caffe.
    print("--- caffe")
    out = os.path.join(work, "caffe_repaired.onnx")
    j, p = repair(args.convfix, src, src, images, out, work, "caffe", ["--target-preprocess", "caffe"])
    check(j is not None, "caffe: repair ran")
    if j:
        pr = j.get("preprocessing_required") or {}
        check(pr.get("preset") == "torch" and pr.get("embedded") is False,
              f"caffe: preprocessing_required = torch, not embedded ({pr})")
        check(j["verdict"]["code"] == "repaired", f"caffe: verdict repaired ({j['verdict']['summary']})")
        if have_node:
            check(close(ort(out, x_npy, work), ref, 1e-6), "caffe: the model itself is unchanged")
    out = os.path.join(work, "caffe_embedded.onnx")
    j, p = repair(args.convfix, src, src, images, out, work, "caffe_embed", ["--target-preprocess", "caffe", "--embed-preprocessing"])
    check(j is not None, "caffe embedded: repair ran")
    if j and have_node:
        pr = j.get("preprocessing_required") or {}
        check(pr.get("embedded") is True, f"caffe embedded: preprocessing embedded ({pr})")
        # caffe values of the same pixels, computed here from the torch input.
        x = np.load(x_npy).astype(np.float64)
        mean, std = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])
        pix = (x * std[None, :, None, None] + mean[None, :, None, None]) * 255.0
        xc = pix[:, ::-1] - np.array([103.939, 116.779, 123.68])[None, :, None, None]
        xc_npy = os.path.join(work, "x_caffe.npy")
        np.save(xc_npy, xc.astype(np.float32))
        check(close(ort(out, xc_npy, work), ref), "caffe embedded: ONNX Runtime, written model fed caffe = source fed torch")
        check(not close(ort(src, xc_npy, work), ref, 1e-3), "caffe embedded: the source fed caffe differs (the fix matters)")

    # Safety.
    print("--- safety")
    tgt = cases["bias"][0]
    p = subprocess.run([args.convfix, "repair", src, tgt, "--images", images, "-o", tgt, "--no-cache"],
                       capture_output=True, text=True)
    check(p.returncode == 2 and "input" in p.stderr, f"-o equal to the target: exit 2 naming it ({p.returncode}: {p.stderr.strip()[:160]})")
    p = subprocess.run([args.convfix, "repair", src, tgt, "--images", images, "-o",
                        os.path.join(work, "no", "such", "dir", "x.onnx"), "--no-cache", "--no-verify-full"],
                       capture_output=True, text=True)
    check(p.returncode == 2 and "error" in p.stderr, f"unwritable output: exit 2 ({p.returncode}: {p.stderr.strip()[:160]})")
    for path, h in before.items():
        check(sha(path) == h, f"input unchanged: {os.path.basename(path)}")


def tflite_cases(args, work, images):
    import tflite_cases as tc
    import make_faults as mf
    tc._accessors(work)
    for cid, base, fn, node_kind in [("bias", "tfl_resnet8", tc.t_bias_zero(("CONV_2D",), 5), "CONV_2D"),
                                     ("relu", "tfl_vww_mobilenet", tc.t_activation_none(("DEPTHWISE_CONV_2D",), 4), None)]:
        f, pp = tc.MODELS[base]
        src = os.path.join(SHARED, "tflite", f)
        c = dict(id="tfl_" + cid, fn=fn, source_path=src)
        _, rel, names, _, what = tc.make_case(c, work)
        tgt = os.path.join(work, rel)
        h = {src: sha(src), tgt: sha(tgt)}
        out = os.path.join(work, cid + "_repaired.tflite")
        print("--- tflite", cid, what)
        j, p = repair(args.convfix, src, tgt, images, out, work, "tfl_" + cid,
                      ["--source-preprocess", pp, "--target-preprocess", pp])
        if j is None:
            check(False, f"tflite {cid}: repair exit code {p.returncode}")
            continue
        check(j["output_format"] == "tflite", f"tflite {cid}: written as .tflite")
        check(bool(kept(j)) and any(r["target_node"] in names for r in kept(j)),
              f"tflite {cid}: a kept change on {names} ({[r['target_node'] for r in kept(j)]})")
        imgs = sorted(os.path.join(images, x) for x in os.listdir(images))
        ys, e1 = tc.run_tflite(src, imgs, pp, work)
        yo, e2 = tc.run_tflite(out, imgs, pp, work)
        yt, _ = tc.run_tflite(tgt, imgs, pp, work)
        check(e2 is None, f"tflite {cid}: the TFLite runtime loads the written model ({e2})")
        if ys is not None and yo is not None:
            check(not close(yt, ys, 1e-6), f"tflite {cid}: the TFLite runtime sees the fault")
            check(close(yo, ys, 1e-5), f"tflite {cid}: TFLite runtime, repaired = source (max diff {float(np.abs(yo - ys).max())})")
        for path, v in h.items():
            check(sha(path) == v, f"tflite {cid}: input unchanged {os.path.basename(path)}")


def dequantize_case(args, work, images):
    """An int8 target with one badly quantized layer (its weight scales x1.5,
    as a converter that mis-reads the scales would leave them): with
    --allow-dequantize naming that layer, repair runs it in float with the
    source's weights; the TFLite runtime loads the written model and its
    error against the float source falls."""
    import tflite_cases as tc
    tc._accessors(work)
    src = os.path.join(SHARED, "tflite", "mlperftiny_ic_resnet8_cifar10_float.tflite")
    orig = os.path.join(SHARED, "tflite", "mlperftiny_ic_resnet8_cifar10_int8.tflite")
    m = tc.load(orig)
    op = tc.ops_of(m, ("CONV_2D",))[3]
    name = tc.op_name(m, op)
    q = m.subgraphs[0].tensors[op.inputs[1]].quantization
    q.scale = [float(x) * 1.5 for x in q.scale]
    tgt = os.path.join(work, "r8_int8_bad_scale.tflite")
    tc.save(m, tgt)
    print("--- dequantize (int8 target, one layer's weight scales x1.5)")
    out = os.path.join(work, "r8_dequantized.tflite")
    j, p = repair(args.convfix, src, tgt, images, out, work, "dequantize",
                  ["--source-preprocess", "raw", "--target-preprocess", "raw", "--allow-dequantize", name])
    if j is None:
        check(False, f"dequantize: repair exit code {p.returncode}")
        return
    k = [r for r in kept(j) if r["strategy"] == "dequantize"]
    check(bool(k) and k[0]["target_node"] == name, f"dequantize: the named layer runs in float ({j['verdict']['summary']})")
    import make_faults as mf
    imgs = sorted(os.path.join(images, x) for x in os.listdir(images))
    x = mf.batch(imgs, 32, 32, 3, "raw", "NHWC").astype(np.float32)
    ys, _ = tc.run_tflite(src, imgs, "raw", work)

    def int8_run(model):
        """The int8 model on the TFLite runtime, one image at a time: input
        quantized as its parameters say (scale 1, zero point -128), output
        in its real-valued view (scale 1/256, zero point -128)."""
        rows = []
        for i in range(x.shape[0]):
            xi = os.path.join(work, "x_int8.npy")
            np.save(xi, np.clip(np.rint(x[i:i + 1]) - 128, -128, 127).astype(np.int8))
            d = tempfile.mkdtemp(dir=work)
            p = subprocess.run(["node", os.path.join(ROOT, "tools", "tflite_run.js"), model, xi, d],
                               capture_output=True, text=True)
            if p.returncode != 0:
                return None, p.stderr.strip()[-200:]
            f = sorted(f for f in os.listdir(d) if f.endswith(".npy"))[0]
            rows.append((np.load(os.path.join(d, f)).astype(np.float64) + 128) / 256.0)
        return np.concatenate(rows), None

    yt, _ = int8_run(tgt)
    yo, e = int8_run(out)
    check(e is None, f"dequantize: the TFLite runtime loads the written model ({e})")
    if ys is not None and yo is not None and yt is not None:
        et, eo = np.abs(yt - ys).mean(), np.abs(yo - ys).mean()
        check(eo < 0.8 * et, f"dequantize: TFLite runtime, mean |error| vs the float model falls ({et:.4g} -> {eo:.4g})")


def torchscript_case(args, work, images, have_node):
    """A TorchScript target (issue 7): one conv's weights of the .pt scaled by
    0.5 with PyTorch; repair writes ONNX (convfix has no TorchScript writer),
    which ONNX Runtime must find equal to the source."""
    try:
        import torch
    except ImportError:
        print("skip torchscript: python3-torch missing")
        return
    d = os.path.join(args.models_dir, "mobilenet_v2")
    src, pt = os.path.join(d, "model.onnx"), os.path.join(d, "model.pt")
    if not os.path.exists(pt):
        print("skip torchscript:", pt, "missing")
        return
    m = torch.jit.load(pt)
    convs = [(n, p) for n, p in m.named_parameters() if p.dim() == 4]
    name, param = convs[len(convs) // 2]
    with torch.no_grad():
        param.mul_(0.5)
    tgt = os.path.join(work, "mobilenet_v2_faulty.pt")
    m.save(tgt)
    print("--- torchscript target, scaled", name)
    out = os.path.join(work, "pt_repaired.onnx")
    h = {tgt: sha(tgt), src: sha(src)}
    j, p = repair(args.convfix, src, tgt, images, out, work, "torchscript")
    if j is None:
        check(False, f"torchscript: repair exit code {p.returncode}")
        return
    check(j["output_format"] == "onnx" and os.path.exists(out), "torchscript: a .pt target is written as ONNX")
    check(any(r["strategy"] == "parameters" for r in kept(j)), f"torchscript: a kept parameters change ({j['verdict']['summary']})")
    if have_node:
        x_npy = os.path.join(d, "input.npy")
        check(close(ort(out, x_npy, work), ort(src, x_npy, work)), "torchscript: ONNX Runtime, repaired = source")
    for path, v in h.items():
        check(sha(path) == v, f"torchscript: input unchanged {os.path.basename(path)}")


def keras_case(args, work, images):
    import h5py
    src = os.path.join(SHARED, "tfjs_layers", "tiny_mnist_cnn", "model.json")
    orig = os.path.join(SHARED, "keras", "tiny_mnist_cnn.h5")
    if not os.path.exists(src) or not os.path.exists(orig):
        print("skip keras: tiny_mnist_cnn missing")
        return
    tgt = os.path.join(work, "tiny_mnist_cnn_faulty.h5")
    shutil.copy(orig, tgt)
    with h5py.File(tgt, "r+") as f:
        biases = []
        f["model_weights"].visit(lambda n: biases.append(n) if n.endswith("bias:0") else None)
        name = biases[0]
        ds = f["model_weights"][name]
        ds[...] = np.zeros(ds.shape, ds.dtype)
    print("--- keras target, zeroed", name)
    out = os.path.join(work, "keras_repaired.h5")
    h = {tgt: sha(tgt), src: sha(src)}
    j, p = repair(args.convfix, src, tgt, images, out, work, "keras", ["--source-preprocess", "unit", "--target-preprocess", "unit"])
    if j is None:
        check(False, f"keras: repair exit code {p.returncode}")
        return
    check(j["output_format"] == "keras" and os.path.exists(out), "keras: written as a Keras HDF5 file")
    check(any(r["strategy"] == "parameters" for r in kept(j)), f"keras: a kept parameters change ({j['verdict']['summary']})")
    with h5py.File(out, "r") as a, h5py.File(orig, "r") as b:
        ra, rb = np.array(a["model_weights"][name]), np.array(b["model_weights"][name])
        check(np.abs(ra - rb).max() <= 1e-6 * max(1e-30, np.abs(rb).max()), f"keras: h5py reads the original {name} back from the repaired file")
    for path, v in h.items():
        check(sha(path) == v, f"keras: input unchanged {os.path.basename(path)}")

    # A hyperparameter: the first Conv2D's padding "same" -> "valid" in the
    # config (the target cannot run: the Dense no longer fits). The repair
    # must write the config back with "same" (read with h5py).
    tgt2 = os.path.join(work, "tiny_mnist_cnn_valid.h5")
    shutil.copy(orig, tgt2)
    with h5py.File(tgt2, "r+") as f:
        raw = f.attrs["model_config"]
        cfg = json.loads(raw.decode() if isinstance(raw, bytes) else raw)
        conv = next(l for l in cfg["config"]["layers"] if l["class_name"] == "Conv2D")
        conv["config"]["padding"] = "valid"
        f.attrs["model_config"] = json.dumps(cfg).encode() if isinstance(raw, bytes) else json.dumps(cfg)
    print("--- keras target, padding valid in", conv["config"]["name"])
    out2 = os.path.join(work, "keras_repaired_padding.h5")
    j, p = repair(args.convfix, src, tgt2, images, out2, work, "keras_padding",
                  ["--source-preprocess", "unit", "--target-preprocess", "unit"])
    if j is None:
        check(False, f"keras padding: repair exit code {p.returncode}")
        return
    check(j["verdict"]["code"] == "repaired", f"keras padding: verdict repaired ({j['verdict']['summary']})")
    with h5py.File(out2, "r") as f:
        raw = f.attrs["model_config"]
        cfg2 = json.loads(raw.decode() if isinstance(raw, bytes) else raw)
        conv2 = next(l for l in cfg2["config"]["layers"] if l["config"]["name"] == conv["config"]["name"])
        check(conv2["config"]["padding"] == "same", f"keras padding: h5py reads padding 'same' from the repaired config ({conv2['config']['padding']})")


def tfjs_case(args, work, images):
    src = os.path.join(SHARED, "keras", "tiny_mnist_cnn.h5")
    orig_dir = os.path.join(SHARED, "tfjs_layers", "tiny_mnist_cnn")
    if not os.path.exists(src) or not os.path.isdir(orig_dir):
        print("skip tfjs: tiny_mnist_cnn missing")
        return
    tdir = os.path.join(work, "tfjs_faulty")
    shutil.copytree(orig_dir, tdir)
    mj = json.load(open(os.path.join(tdir, "model.json")))
    group = mj["weightsManifest"][0]
    off = 0
    target_w = None
    for w in group["weights"]:
        n = int(np.prod(w["shape"])) if w["shape"] else 1
        if w["name"].endswith("kernel") and w.get("dtype", "float32") == "float32" and "quantization" not in w:
            target_w = (w["name"], off, n)
            break
        off += n * 4
    shard = os.path.join(tdir, group["paths"][0])
    data = bytearray(open(shard, "rb").read())
    name, o, n = target_w
    vals = np.frombuffer(bytes(data[o:o + 4 * n]), dtype=np.float32)[::-1].copy()
    data[o:o + 4 * n] = vals.tobytes()
    open(shard, "wb").write(bytes(data))
    print("--- tfjs target, reversed", name)
    out = os.path.join(work, "tfjs_repaired")
    h = {src: sha(src), tdir: sha(tdir)}
    j, p = repair(args.convfix, src, os.path.join(tdir, "model.json"), images, out, work, "tfjs",
                  ["--source-preprocess", "unit", "--target-preprocess", "unit"])
    if j is None:
        check(False, f"tfjs: repair exit code {p.returncode}")
        return
    check(j["output_format"] == "tfjs", "tfjs: written as TF.js")
    check(any(r["strategy"] == "parameters" for r in kept(j)), f"tfjs: a kept parameters change ({j['verdict']['summary']})")
    x = np.random.RandomState(0).rand(2, 28, 28, 1).astype(np.float32)
    xf = os.path.join(work, "x_mnist.npy")
    np.save(xf, x)
    outs = []
    for model in (os.path.join(orig_dir, "model.json"), os.path.join(out, "model.json"), os.path.join(tdir, "model.json")):
        d = tempfile.mkdtemp(dir=work)
        p = subprocess.run(["node", os.path.join(ROOT, "tests", "tfjs", "tfjs_layers_run.js"), model, xf, d],
                           capture_output=True, text=True)
        outs.append(np.load(os.path.join(d, "output_0.npy")).astype(np.float64) if p.returncode == 0 else None)
        if p.returncode != 0:
            print(p.stderr[-400:])
    check(outs[1] is not None and close(outs[1], outs[0], 1e-5), "tfjs: TF.js runtime, repaired = original")
    check(outs[2] is not None and not close(outs[2], outs[0], 1e-6), "tfjs: TF.js runtime sees the fault in the target")
    for path, v in h.items():
        check(sha(path) == v, f"tfjs: input unchanged {os.path.basename(path)}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--convfix", required=True)
    ap.add_argument("--models-dir", required=True)
    ap.add_argument("--only", default="")
    args = ap.parse_args()
    ready = cd.setup(args.models_dir, "convfix-repair-")
    if ready is None:
        return 77
    _, work, images = ready
    have_node = bool(shutil.which("node")) and os.path.isdir(os.path.join(ROOT, "node_modules", "onnxruntime-node"))
    if not have_node:
        print("note: node_modules missing: the runtime oracles are skipped")
    only = set(filter(None, args.only.split(",")))
    if not only or "onnx" in only:
        onnx_cases(args, work, images, have_node)
    if not only or "torchscript" in only:
        torchscript_case(args, work, images, have_node)
    if os.path.isdir(SHARED) and have_node:
        if not only or "tflite" in only:
            tflite_cases(args, work, images)
        if not only or "dequantize" in only:
            dequantize_case(args, work, images)
        if not only or "keras" in only:
            keras_case(args, work, images)
        if not only or "tfjs" in only:
            tfjs_case(args, work, images)
    else:
        print("note: ../shared/models or node_modules missing: TFLite / Keras / TF.js targets skipped")
    shutil.rmtree(work, ignore_errors=True)
    print("%d failure(s)" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
