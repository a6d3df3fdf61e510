#!/usr/bin/python3
"""Writes the demo pair: a faithful MobileNetV2 (the source) and a faulty
"conversion" of it (the target) that `convfix demo` compares, diagnoses and
repairs.

Usage: tools/make_demo_pair.py [OUT_DIR] [--force] [--no-check]
       (Debian's /usr/bin/python3 with python3-torch, python3-onnx, numpy, PIL;
        the check needs node and node_modules/onnxruntime-node)

OUT_DIR defaults to build/demo in the repository. Files written there:
  mobilenet_v2.onnx            the source, written by tools/make_demo_model.py
                               (torchvision's MobileNetV2, random weights
                               calibrated on the photos in assets/images)
  mobilenet_v2_converted.onnx  the target: the source with the faults below
                               injected with the onnx package, as a faulty
                               converter would have written it
  pair.json                    ground truth: every injected fault (class of
                               ../shared/FAULTS.md, node, change) and what ONNX
                               Runtime measured on the bundled photos
  README.txt                   what the pair is
  pair.stamp                   inputs of this run; when it matches, nothing is done

Faults (one per FAULTS.md class, each in a different block):
  18 ReLU6 bounds lost     the Clip of features.3's expansion conv loses its
                           max input (the upper bound 6); its input reaches
                           about 9.7 on the photos
  3  pad order swapped     the symmetric pads (1,1,1,1) of features.4's stride-2
                           depthwise conv read as TF-SAME (0,0,1,1): same
                           shape, the map shifted by one pixel
  23 precision reduced     features.10's expansion conv weights rounded to
                           float16
  22 bias dropped          the classifier's Gemm bias input removed

Check: ONNX Runtime (bench/faults/ort_batch.js, graph optimizations off) runs
the source and the target on the bundled photos with the torch preprocessing
(computed here with PIL and numpy, independently of convfix) and prints on how
many photos the target's top-1 class differs from the source's; exit 1 when
on none (the pair would not show anything). Without node_modules the check is
skipped with a note.
"""
import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "assets" / "images"
IMAGE_EXTS = {".jpg", ".jpeg", ".png"}
SOURCE = "mobilenet_v2.onnx"
TARGET = "mobilenet_v2_converted.onnx"
ORT_BATCH = ROOT / "bench" / "faults" / "ort_batch.js"

B = "/features/features.%d/conv/conv.%s"
FAULTS = [
    dict(cls=18, name="ReLU6 bounds lost", category="hyperparameters", kind="clip_max_dropped",
         node=B % (3, "0/conv.0.2/Clip")),
    dict(cls=3, name="pad order/direction swapped", category="hyperparameters", kind="pads_tf_same",
         node=B % (4, "1/conv.1.0/Conv")),
    dict(cls=23, name="precision reduced (fp16, int8)", category="parameters", kind="weights_fp16",
         node=B % (10, "0/conv.0.0/Conv")),
    dict(cls=22, name="bias dropped", category="parameters", kind="bias_dropped",
         node="/classifier/classifier.1/Gemm"),
]

README = """\
The convfix demo pair (made by tools/make_demo_pair.py; `convfix demo` runs on it).

  {source}  the SOURCE: torchvision's MobileNetV2 exported by PyTorch to ONNX
      (opset 13, BatchNorm folded) by tools/make_demo_model.py. No pretrained
      weights can be downloaded here, so its weights are random (seed 0),
      shaped so the network is not chaotic and calibrated on the photos in
      assets/images; the class names it predicts are not meaningful.
  {target}  the TARGET: a faulty "conversion" of the source,
      made by editing the source with the onnx Python package to inject {n}
      fault classes of ../shared/FAULTS.md that real converters introduce:
{faults}
  pair.json  the same list (ground truth) and what ONNX Runtime measured.

Check (ONNX Runtime, independent of convfix, torch preprocessing): {check}
Both models take 'input' [N,3,224,224] with the torch preset (Resize 256,
CenterCrop 224, ImageNet mean/std) and give 'logits' [N,1000].
"""


def image_files():
    return sorted(p for p in IMAGES.iterdir() if p.suffix.lower() in IMAGE_EXTS and not p.name.startswith("."))


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def atomic_write(path, data):
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix="." + path.name + ".")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def stamp_text(source):
    from importlib import metadata
    h = hashlib.sha256()
    h.update(Path(__file__).read_bytes())
    h.update(sha256(source).encode())
    for f in image_files():
        h.update(f.name.encode())
        h.update(hashlib.sha256(f.read_bytes()).digest())
    try:
        v = metadata.version("onnx")
    except metadata.PackageNotFoundError:
        v = "?"
    return f"{h.hexdigest()} onnx {v}\n"


# ---------------------------------------------------------------------------
# Fault injection (the onnx package only)

def node_by_name(m, name):
    for n in m.graph.node:
        if n.name == name:
            return n
    raise KeyError(f"make_demo_pair: the source has no node {name!r} (did tools/make_demo_model.py change?)")


def get_attr(n, key, default=None):
    from onnx import helper
    for a in n.attribute:
        if a.name == key:
            return helper.get_attribute_value(a)
    return default


def set_attr(n, key, value):
    from onnx import helper
    for i, a in enumerate(n.attribute):
        if a.name == key:
            del n.attribute[i]
            break
    n.attribute.append(helper.make_attribute(key, value))


def initializer(m, name):
    for k, t in enumerate(m.graph.initializer):
        if t.name == name:
            return k, t
    raise KeyError(name)


def inject(m, fault):
    """Applies one fault to model m in place; returns a sentence saying what
    changed and the nodes it concerns (a Clip also names the Conv it follows:
    a layer that ends in an activation is one row of convfix's alignment)."""
    import numpy as np
    from onnx import numpy_helper
    n = node_by_name(m, fault["node"])
    kind = fault["kind"]
    if kind == "clip_max_dropped":
        assert n.op_type == "Clip" and len(n.input) == 3, n.name
        dropped = n.input[2]
        del n.input[2]
        # The Constant that fed the bound is left without a reader: drop it,
        # as a converter that never emitted the bound would.
        if not any(dropped in x.input for x in m.graph.node) and dropped not in {o.name for o in m.graph.output}:
            for x in list(m.graph.node):
                if x.op_type == "Constant" and list(x.output) == [dropped]:
                    m.graph.node.remove(x)
        conv = [x.name for x in m.graph.node if n.input[0] in x.output]
        return "Clip(min 0, max 6) -> Clip(min 0): the upper bound of this ReLU6 is lost", [n.name] + conv
    if kind == "pads_tf_same":
        assert n.op_type == "Conv", n.name
        old = list(get_attr(n, "pads"))
        set_attr(n, "pads", [0, 0, 1, 1])
        return f"pads {old} -> [0, 0, 1, 1] (stride-2 depthwise conv: symmetric pads read as TF SAME)", [n.name]
    if kind == "weights_fp16":
        assert n.op_type == "Conv", n.name
        k, t = initializer(m, n.input[1])
        w = numpy_helper.to_array(t)
        w16 = w.astype(np.float16).astype(np.float32)
        m.graph.initializer[k].CopyFrom(numpy_helper.from_array(w16, t.name))
        rel = float(np.abs(w16 - w).max() / np.abs(w).max())
        return f"weights {list(w.shape)} rounded to float16 (largest change {rel:.1e} of the largest weight)", [n.name]
    if kind == "bias_dropped":
        assert n.op_type == "Gemm" and len(n.input) == 3, n.name
        k, t = initializer(m, n.input[2])
        del n.input[2]
        if not any(t.name in x.input for x in m.graph.node):
            del m.graph.initializer[k]
        return "Gemm bias input removed (the classifier's per-class offsets are lost)", [n.name]
    raise ValueError(kind)


def make_target(source, target):
    import onnx
    m = onnx.load(str(source))
    done = []
    for f in FAULTS:
        change, nodes = inject(m, f)
        done.append(dict(f, change=change, nodes=nodes))
    m.producer_name = "make_demo_pair (faulty conversion of " + SOURCE + ")"
    onnx.checker.check_model(m)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix="." + target.name + ".", suffix=".onnx")
    os.close(fd)
    try:
        onnx.save(m, tmp)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return done


# ---------------------------------------------------------------------------
# Independent check: ONNX Runtime on the bundled photos

def have_ort():
    return (ROOT / "node_modules" / "onnxruntime-node").is_dir() and ORT_BATCH.exists() and \
        subprocess.run(["node", "--version"], capture_output=True).returncode == 0


def torch_batch(files):
    """[N,3,224,224] float32 with the torch preset, computed with PIL + numpy
    (bench/faults/make_faults.py's preprocessing)."""
    sys.path.insert(0, str(ROOT / "bench" / "faults"))
    import make_faults
    return make_faults.batch([str(f) for f in files], 224, 224, 3, "torch", "NCHW")


def ort_logits(model, x, work):
    import numpy as np
    xf, of = os.path.join(work, "x.npy"), os.path.join(work, "out.npy")
    np.save(xf, x)
    p = subprocess.run(["node", str(ORT_BATCH), str(model), xf, of], capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"onnxruntime-node failed on {model}: {p.stderr.strip()}")
    return np.load(of)


def check(source, target, files):
    import numpy as np
    with tempfile.TemporaryDirectory(prefix="demo-pair-") as work:
        x = torch_batch(files)
        a = ort_logits(source, x, work)
        b = ort_logits(target, x, work)
    ta, tb = a.argmax(1), b.argmax(1)
    differs = [f.name for f, i, j in zip(files, ta, tb) if i != j]
    return dict(runtime="onnxruntime-node (graph optimizations off)", preprocessing="torch", images=len(files),
                top1_differs=len(differs), discrepancy_rate=len(differs) / len(files), images_differing=differs,
                source_top1=[int(i) for i in ta], target_top1=[int(i) for i in tb],
                rel_max_abs_diff=float(np.abs(a - b).max() / np.abs(a).max()))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out_dir", nargs="?", default=str(ROOT / "build" / "demo"))
    ap.add_argument("--force", action="store_true", help="rebuild even when up to date")
    ap.add_argument("--no-check", action="store_true", help="skip the ONNX Runtime check")
    args = ap.parse_args()
    out = Path(args.out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    files = image_files()
    if not files:
        print(f"make_demo_pair: no photos in {IMAGES}", file=sys.stderr)
        return 2

    # The source: tools/make_demo_model.py has its own up-to-date check.
    cmd = [sys.executable, str(ROOT / "tools" / "make_demo_model.py"), str(out)] + (["--force"] if args.force else [])
    if subprocess.run(cmd).returncode != 0:
        print("make_demo_pair: tools/make_demo_model.py failed", file=sys.stderr)
        return 1
    source, target = out / SOURCE, out / TARGET
    stamp_path, pair_path, readme_path = out / "pair.stamp", out / "pair.json", out / "README.txt"
    stamp = stamp_text(source)
    if (not args.force and target.exists() and pair_path.exists() and stamp_path.exists()
            and stamp_path.read_text() == stamp and readme_path.exists()
            and readme_path.read_text().startswith("The convfix demo pair")):
        rate = json.loads(pair_path.read_text()).get("check", {})
        print(f"make_demo_pair: {target} is up to date"
              + (f" (top-1 differs on {rate['top1_differs']}/{rate['images']} photos)" if "images" in rate else ""))
        return 0

    faults = make_target(source, target)
    result = None
    if args.no_check:
        note = "not run (--no-check)"
    elif not have_ort():
        note = "not run (node or node_modules/onnxruntime-node missing)"
        print("make_demo_pair: note: " + note, file=sys.stderr)
    else:
        result = check(source, target, files)
        note = (f"the target's top-1 class differs from the source's on {result['top1_differs']} of "
                f"{result['images']} photos ({', '.join(result['images_differing']) or 'none'}); largest output "
                f"difference {result['rel_max_abs_diff']:.2f} of the source's largest logit")
    pair = dict(schema_version=1, source=SOURCE, target=TARGET, preprocessing="torch",
                images=[str(f.relative_to(ROOT)) for f in files], source_sha256=sha256(source),
                target_sha256=sha256(target), faults=faults, check=result or {"note": note})
    atomic_write(pair_path, json.dumps(pair, indent=1) + "\n")
    lines = "\n".join(f"        - class {f['cls']} ({f['name']}), {f['node']}: {f['change']}" for f in faults)
    atomic_write(readme_path, README.format(source=SOURCE, target=TARGET, n=len(faults), faults=lines, check=note))
    if result is not None and result["top1_differs"] == 0:
        print(f"make_demo_pair: {target}: the faults change no top-1 class on the photos; the pair shows nothing",
              file=sys.stderr)
        return 1
    atomic_write(stamp_path, stamp)
    print(f"make_demo_pair: wrote {target} ({len(faults)} injected faults); check: {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
