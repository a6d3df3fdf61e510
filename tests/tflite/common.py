"""Shared driver code of the TFLite script tests (test_oracle.py, test_roundtrip.py):
the TFLite runtime (tools/tflite_run.js) and convfix invocations, the fixture
generator (tools/gen_tflite_models.py), photographs, and a pass/fail tally.

Contract: every function returns data or (None, one-line error); nothing here
exits. `runtime_available()` is False (with a reason) when Node or the npm
package @tensorflow/tfjs-tflite is missing, so tests can exit 77.
"""
import glob
import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RUNNER = os.path.join(ROOT, "tools", "tflite_run.js")
GEN = os.path.join(ROOT, "tools", "gen_tflite_models.py")
SHARED = os.path.normpath(os.path.join(ROOT, "..", "shared", "models", "tflite"))
PHOTOS = ["/usr/lib/python3/dist-packages/skimage/data/astronaut.png",
          "/usr/lib/python3/dist-packages/skimage/data/chelsea.png",
          "/usr/lib/python3/dist-packages/skimage/data/coffee.png",
          "/usr/lib/python3/dist-packages/skimage/data/motorcycle_left.png",
          "/usr/lib/python3/dist-packages/skimage/data/horse.png",
          "/usr/share/doc/opencv-doc/examples/data/baboon.jpg",
          "/usr/share/doc/opencv-doc/examples/data/fruits.jpg",
          "/usr/share/doc/opencv-doc/examples/data/butterfly.jpg",
          "/usr/share/doc/opencv-doc/examples/data/apple.jpg"]
NP_DTYPE = {"float32": np.float32, "int8": np.int8, "uint8": np.uint8, "int32": np.int32, "int16": np.int16,
            "int64": np.int64, "bool": np.bool_}


class Result:
    """Counts pass / fail / skip; prints every non-pass (and passes with verbose)."""

    def __init__(self, verbose):
        self.verbose = verbose
        self.counts = {"pass": 0, "fail": 0, "skip": 0}

    def add(self, status, name, detail=""):
        self.counts[status] += 1
        if status != "pass" or self.verbose:
            print(f"{status.upper()}: {name}" + (f": {detail}" if detail else ""), flush=True)

    def summary(self):
        c = self.counts
        print(f"{c['pass']} passed, {c['fail']} failed, {c['skip']} skipped")
        return 1 if c["fail"] else 0


def run(cmd, timeout=900):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def last_line(s):
    lines = [l for l in s.strip().splitlines() if l.strip()]
    return lines[-1] if lines else ""


def parse_args(doc, tool_required):
    """The options both tests take: --convfix, --tool, --work, --filter, --verbose."""
    import argparse
    p = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    p.add_argument("--convfix", required=True)
    p.add_argument("--tool", required=tool_required, default="",
                   help="tflite_tool (round trips; re-writes files the runtime refuses)")
    p.add_argument("--work", required=True)
    p.add_argument("--filter", default="")
    p.add_argument("--verbose", action="store_true")
    return p.parse_args()


def runtime_available():
    """(True, "") or (False, reason)."""
    if shutil.which("node") is None or not os.path.isdir(os.path.join(ROOT, "node_modules", "@tensorflow", "tfjs-tflite")):
        return False, "Node.js or @tensorflow/tfjs-tflite missing (run scripts/setup: npm install --ignore-scripts)"
    return True, ""


def runtime_info(model):
    r = run(["node", RUNNER, "--info", model])
    if r.returncode != 0:
        return None, last_line(r.stderr)
    return json.loads(r.stdout), None


def runtime_run(model, files, out_dir):
    """Outputs of the TFLite runtime on the .npy inputs `files`, in output order."""
    shutil.rmtree(out_dir, ignore_errors=True)
    r = run(["node", RUNNER, model] + list(files) + [out_dir])
    if r.returncode != 0:
        return None, last_line(r.stderr)
    listing = json.load(open(os.path.join(out_dir, "outputs.json")))
    return [np.load(os.path.join(out_dir, o["file"])) for o in listing], None


def convfix_run(convfix, model, files, out_dir, output_names):
    """Outputs of `convfix run MODEL --input F... --save-outputs DIR`, in the order of output_names."""
    shutil.rmtree(out_dir, ignore_errors=True)
    cmd = [convfix, "run", model]
    for f in files:
        cmd += ["--input", f]
    r = run(cmd + ["--save-outputs", out_dir])
    if r.returncode != 0:
        return None, last_line(r.stderr)
    outs = []
    for n in output_names:
        cands = [p for p in glob.glob(os.path.join(out_dir, "*.npy"))
                 if os.path.basename(p)[:-4] == n or os.path.basename(p)[:-4] == re.sub(r"[^A-Za-z0-9._-]", "_", n)]
        if not cands:
            return None, f"output {n!r} not written (files: {sorted(os.listdir(out_dir))})"
        outs.append(np.load(cands[0]))
    return outs, None


def inspect(convfix, model):
    """`convfix inspect --json MODEL` as a dict, or None."""
    r = run([convfix, "inspect", "--json", model])
    if r.returncode != 0:
        return None
    return json.loads(r.stdout)


def has_custom_ops(meta):
    return bool(meta) and any(k.startswith("tflite.custom:") for k in meta["op_histogram"])


def generate_fixtures(gen_dir):
    """Runs tools/gen_tflite_models.py into gen_dir; (manifest, None) or (None, error)."""
    r = run([sys.executable, GEN, "--out", gen_dir])
    if r.returncode != 0:
        return None, "gen_tflite_models.py: " + (r.stdout + r.stderr).strip()
    return json.load(open(os.path.join(gen_dir, "manifest.json"))), None


def shared_models(what):
    """The .tflite files of ../shared/models/tflite, sorted; prints a SKIP line naming `what` when absent."""
    if not os.path.isdir(SHARED):
        print(f"SKIP: {SHARED} not found: {what} skipped (a fresh clone has no ../shared)")
        return []
    return sorted(os.path.join(SHARED, f) for f in os.listdir(SHARED) if f.endswith(".tflite"))


def fixture_inputs(gen_dir, name, entry):
    return [os.path.join(gen_dir, f"{name}.input_{i}.npy") for i in range(entry["inputs"])]


def load_photos(names=None):
    """[(name, HxWx3 uint8)] for the PHOTOS present (those whose base name is in `names`, if given)."""
    try:
        from skimage import io
    except ImportError:
        return []
    out = []
    for p in PHOTOS:
        name = os.path.splitext(os.path.basename(p))[0]
        if os.path.exists(p) and (names is None or name in names):
            img = io.imread(p)
            if img.ndim == 3 and img.shape[2] == 4:
                img = img[:, :, :3]
            out.append((name, img))
    return out


def photo_pixels(img, shape):
    """The photo resized to NHWC `shape`, pixel values 0..255 (float64), gray when C == 1."""
    from skimage.color import rgb2gray
    from skimage.transform import resize
    n, h, w, c = shape
    x = img.astype(np.float64) / 255.0
    if c == 1:
        x = rgb2gray(x)[..., None] if x.ndim == 3 else x[..., None]
    elif x.ndim == 2:
        x = np.repeat(x[..., None], 3, axis=2)
    x = resize(x, (h, w), anti_aliasing=True) * 255.0
    return np.repeat(x[None], n, axis=0)


def is_image_input(ins):
    """One NHWC input with 1 or 3 channels and at least 8x8 pixels."""
    return (len(ins) == 1 and len(ins[0]["shape"]) == 4 and ins[0]["shape"][3] in (1, 3)
            and min(ins[0]["shape"][1:3]) >= 8)


def input_sets(name, info, quants, photos, work, own_inputs, make):
    """[(label, [npy files])]: the fixture's own inputs (if any), two random sets and, for an image
    input, every photograph. make(input_info, quant, rng, pixels) returns one input's array: random
    when pixels is None, else from the photo resized to the input (0..255 float64)."""
    import zlib
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    sets = [("fixture input", own_inputs)] if own_inputs else []
    for k in range(2):
        files = []
        for i, t in enumerate(info["inputs"]):
            p = os.path.join(work, f"{name}.random{k}.in{i}.npy")
            np.save(p, make(t, quants[i] if i < len(quants) else None, rng, None))
            files.append(p)
        sets.append((f"random {k}", files))
    ins = info["inputs"]
    if is_image_input(ins):
        shape = [max(d, 1) for d in ins[0]["shape"]]
        for pname, img in photos:
            p = os.path.join(work, f"{name}.{pname}.npy")
            np.save(p, make(ins[0], quants[0] if quants else None, rng, photo_pixels(img, shape)))
            sets.append((f"photo {pname}", [p]))
    return sets
