#!/usr/bin/python3
"""End-to-end test of `convfix diagnose` on pairs whose fault is known by construction.

Source: torchvision MobileNetV2 exported by torch.onnx (tools/gen_torchvision.py).
Targets: copies edited with the onnx package, one fault each, so the ground
truth (which node, which category) comes from the edit, not from convfix:
  clip      the middle ReLU6's upper bound 6 -> 2         hyperparameters at that Conv's layer
  f16       one Conv's weights rounded to float16          parameters (float16_rounding)
  bias      one Conv's bias zeroed                         parameters (missing_bias)
  pads      one stride-2 Conv's pads (1,1,1,1)->(0,0,2,2)  hyperparameters (pads)
  renamed   every node and tensor renamed                  faithful, no suspect
  identity  Identity nodes inserted after every Relu6      faithful, no suspect
  caffe     the source itself fed with the caffe preset    preprocessing suspect first
  odd_op    an op convfix has no kernel for                verdict target_cannot_run naming the node
ONNX Runtime (tools/ort_run.js) confirms on the same input that each fault
changes the logits (so no case passes by being a no-op). Also checked: the JSON
has the documented top-level keys, the report folder gets diagnose.json, the
input files are unchanged (SHA-256 before and after), and with ../shared the
real TFLite pairs: float vs itself faithful, float vs int8 fed [0,1] while the
int8 input expects 0..255 -> an `input` suspect first.

Exit 0 pass, 1 fail, 77 skip.
"""
import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.path.join(os.path.dirname(ROOT), "shared", "models", "tflite")
SKIMAGE = "/usr/lib/python3/dist-packages/skimage/data"
OPENCV = "/usr/share/doc/opencv-doc/examples/data"
PHOTOS = [os.path.join(SKIMAGE, n) for n in ["astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg",
                                              "motorcycle_left.png", "horse.png"]] + \
         [os.path.join(OPENCV, n) for n in ["baboon.jpg", "fruits.jpg", "butterfly.jpg", "apple.jpg",
                                            "building.jpg", "orange.jpg"]]
failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print("FAIL:", msg, flush=True)
    else:
        print("ok:", msg, flush=True)


def sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def make_cases(src, work):
    import onnx
    from onnx import helper, numpy_helper
    cases = {}

    def load():
        return onnx.load(src)

    def conv_layer_name(m, conv):
        return conv.name

    m = load()
    clips = [n for n in m.graph.node if n.op_type == "Clip"]
    clip = clips[len(clips) // 2]
    producer = {o: n for n in m.graph.node for o in n.output}
    conv = producer[clip.input[0]]
    m.graph.initializer.append(numpy_helper.from_array(np.array(2.0, dtype=np.float32), "clip_max_2"))
    clip.input[2] = "clip_max_2"
    cases["clip"] = (m, "hyperparameters", conv.name, None)

    m = load()
    init = {i.name: i for i in m.graph.initializer}
    conv = [n for n in m.graph.node if n.op_type == "Conv"][20]
    w = init[conv.input[1]]
    a = numpy_helper.to_array(w)
    w.CopyFrom(numpy_helper.from_array(a.astype(np.float16).astype(np.float32), w.name))
    cases["f16"] = (m, "parameters", conv.name, "float16_rounding")

    m = load()
    init = {i.name: i for i in m.graph.initializer}
    conv = [n for n in m.graph.node if n.op_type == "Conv"][10]
    b = init[conv.input[2]]
    b.CopyFrom(numpy_helper.from_array(np.zeros_like(numpy_helper.to_array(b)), b.name))
    cases["bias"] = (m, "parameters", conv.name, "missing_bias")

    m = load()
    conv = [n for n in m.graph.node if n.op_type == "Conv" and
            any(a.name == "strides" and list(a.ints) == [2, 2] for a in n.attribute)][1]
    for a in conv.attribute:
        if a.name == "pads":
            a.ints[:] = [0, 0, 2, 2]
    cases["pads"] = (m, "hyperparameters", conv.name, None)

    m = load()
    ren = {}
    for k, n in enumerate(m.graph.node):
        for o in n.output:
            ren[o] = "t%d" % len(ren)
        n.name = "n%d" % k
    for n in m.graph.node:
        n.input[:] = [ren.get(x, x) for x in n.input]
        n.output[:] = [ren.get(x, x) for x in n.output]
    for o in m.graph.output:
        o.name = ren.get(o.name, o.name)
    cases["renamed"] = (m, None, None, None)

    m = load()
    nodes = list(m.graph.node)
    del m.graph.node[:]
    for n in nodes:
        if n.op_type == "Clip":
            old = n.output[0]
            n.output[0] = old + "_pre_identity"
            m.graph.node.append(n)  # (append copies the message: edit first)
            m.graph.node.append(helper.make_node("Identity", [n.output[0]], [old], name=n.name + "_identity"))
        else:
            m.graph.node.append(n)
    cases["identity"] = (m, None, None, None)

    m = load()
    first = m.graph.node[0]
    old = first.input[0]
    first.input[0] = "frob_out"
    m.graph.node.insert(0, helper.make_node("FrobnicateTensor", [old], ["frob_out"], name="frob1"))
    cases["odd_op"] = (m, "cannot_run", "frob1", None)

    out = {}
    for name, (model, cat, node, pattern) in cases.items():
        path = os.path.join(work, name + ".onnx")
        onnx.save(model, path)
        out[name] = (path, cat, node, pattern)
    return out


def ort_changes(source, target, x_npy, work):
    """max |logits_source - logits_target| with ONNX Runtime on x."""
    outs = []
    for tag, model in (("s", source), ("t", target)):
        d = os.path.join(work, "ort_" + tag)
        os.makedirs(d, exist_ok=True)
        p = subprocess.run(["node", os.path.join(ROOT, "tools", "ort_run.js"), model, "--input", x_npy, "--out", d],
                           capture_output=True, text=True)
        if p.returncode != 0:
            return None
        files = sorted(f for f in os.listdir(d) if f.endswith(".npy"))
        outs.append(np.load(os.path.join(d, files[0])))
    return float(np.abs(outs[0] - outs[1]).max())


def diagnose(convfix, source, target, images, work, name, extra=()):
    rep = os.path.join(work, "report_" + name)
    cmd = [convfix, "diagnose", source, target, "--images", images, "--report", rep, "--no-cache"] + list(extra)
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        print(p.stdout[-2000:], p.stderr[-2000:])
        return None, p
    return json.load(open(os.path.join(rep, "diagnose.json"))), p


def setup(models_dir, prefix):
    """The MobileNetV2 source and a work folder with the photos in images/;
    None (the reason printed) when the model or python3-onnx is missing.
    Shared with tests/repair/check_repair.py."""
    src = os.path.join(models_dir, "mobilenet_v2", "model.onnx")
    if not os.path.exists(src):
        print("SKIP:", src, "missing (tools/gen_torchvision.py --models mobilenet_v2)")
        return None
    try:
        import onnx  # noqa: F401
    except ImportError:
        print("SKIP: python3-onnx missing")
        return None
    work = tempfile.mkdtemp(prefix=prefix)
    images = os.path.join(work, "images")
    os.makedirs(images)
    for p in PHOTOS:
        if os.path.exists(p):
            shutil.copy(p, images)
    return src, work, images


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--convfix", required=True)
    ap.add_argument("--models-dir", required=True)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    ready = setup(args.models_dir, "convfix-diagnose-")
    if ready is None:
        return 77
    src, work, images = ready
    cases = make_cases(src, work)
    before = {p: sha(p) for p in [src] + [c[0] for c in cases.values()]}
    have_node = shutil.which("node") and os.path.isdir(os.path.join(ROOT, "node_modules", "onnxruntime-node"))
    x_npy = os.path.join(args.models_dir, "mobilenet_v2", "input.npy")

    for name, (target, cat, node, pattern) in cases.items():
        print("---", name)
        if have_node and os.path.exists(x_npy) and cat not in (None, "cannot_run"):
            d = ort_changes(src, target, x_npy, os.path.join(work, "ort_" + name))
            check(d is not None and d > 1e-5, f"{name}: ONNX Runtime sees the fault change the logits (max diff {d})")
        j, p = diagnose(args.convfix, src, target, images, work, name)
        if j is None:
            check(False, f"{name}: diagnose exit code {p.returncode}")
            continue
        for key in ["schema_version", "verdict", "discrepancy_rate", "image_count", "alignment", "layers",
                    "suspects", "compare", "preprocessing", "activation_analysis", "timings_s", "errors"]:
            if key not in j:
                check(False, f"{name}: JSON has '{key}'")
        s = j["suspects"]
        top = s[0] if s else {}
        if cat is None:
            check(j["verdict"]["code"] == "faithful", f"{name}: verdict faithful (got {j['verdict']['code']})")
            check(not [x for x in s if x["category"] != "quantization"], f"{name}: no suspect ({len(s)})")
            check(j["alignment"]["matched"] == len(j["alignment"]["rows"]), f"{name}: every layer matched")
        elif cat == "cannot_run":
            check(j["verdict"]["code"] == "target_cannot_run", f"{name}: verdict target_cannot_run")
            check(top.get("target_node") == node, f"{name}: first suspect names '{node}' (got {top.get('target_node')})")
            check(j["alignment"]["rows"], f"{name}: static analyses still ran")
        else:
            check(j["verdict"]["code"] in ("discrepant", "differs"), f"{name}: verdict reports a fault")
            check(top.get("category") == cat, f"{name}: first suspect category {cat} (got {top.get('category')})")
            check(top.get("target_node") == node, f"{name}: first suspect is the edited layer {node} (got {top.get('target_node')})")
            if pattern:
                check(top.get("evidence", {}).get("pattern") == pattern, f"{name}: pattern {pattern}")
            row = j["layers"][top["row"]] if top.get("row") is not None else None
            if row and cat == "hyperparameters":
                check(row["hyperparameters"]["differences"], f"{name}: the row lists the differing attribute")

    # Preprocessing: the same model fed caffe instead of torch.
    print("--- caffe")
    j, p = diagnose(args.convfix, src, src, images, work, "caffe", ["--target-preprocess", "caffe"])
    if j is None:
        check(False, "caffe: diagnose ran")
    else:
        check(j["discrepancy_rate"] and j["discrepancy_rate"] > 0, "caffe: the preset change makes labels differ")
        check(j["suspects"] and j["suspects"][0]["category"] == "preprocessing", "caffe: preprocessing suspect first")
        check(j["preprocessing"]["best"] == "target_uses_source_preprocessing", "caffe: best hypothesis is the source's preset")

    # Bad input: a missing image folder is an error (exit 2), not a verdict.
    p = subprocess.run([args.convfix, "diagnose", src, src, "--images", os.path.join(work, "nope")],
                       capture_output=True, text=True)
    check(p.returncode == 2 and p.stderr.count("\n") == 1, "missing image folder: exit 2, one line")

    after = {p: sha(p) for p in before}
    check(before == after, "input model files unchanged")

    # Real TFLite pairs (../shared).
    if os.path.isdir(SHARED):
        f = os.path.join(SHARED, "mlperftiny_ic_resnet8_cifar10_float.tflite")
        q = os.path.join(SHARED, "mlperftiny_ic_resnet8_cifar10_int8.tflite")
        print("--- tflite float vs itself")
        j, _ = diagnose(args.convfix, f, f, images, work, "tfl_self", ["--source-preprocess", "raw"])
        check(j is not None and j["verdict"]["code"] == "faithful", "resnet8 float vs itself: faithful")
        print("--- tflite float vs int8, [0,1] input")
        j, _ = diagnose(args.convfix, f, q, images, work, "tfl_unit", ["--source-preprocess", "unit"])
        check(j is not None and j["suspects"] and j["suspects"][0]["category"] == "input",
              "resnet8 int8 fed [0,1]: input suspect first (its input quantization expects 0..255)")
        print("--- tflite float vs int8, raw input")
        j, _ = diagnose(args.convfix, f, q, images, work, "tfl_raw", ["--source-preprocess", "raw"])
        check(j is not None and j["target"]["quantized"] and
              all(s["category"] == "quantization" for s in j["suspects"]),
              "resnet8 int8 fed 0..255: only quantization suspects")
    else:
        print("note: ../shared/models absent; TFLite pairs skipped")

    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print("work folder:", work)
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
