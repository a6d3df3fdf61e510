#!/usr/bin/python3
"""Oracle tests: convfix against real runtimes on whole models.

Subcommands (each prints one line per case and ends with
`N passed, N failed, N skipped`; exit 0 when nothing failed, 1 on a
failure, 77 when every case was skipped, e.g. /work/shared or Node absent):

  torchvision  convfix vs ONNX Runtime vs PyTorch on the models made by
               tools/gen_torchvision.py (batch 1 and the full photo batch, the
               latter also with convfix --threads 2);
               the PyTorch reference is the model run in float64
               (logits64.npy), so each float32 runtime's own error is seen.
  shared       convfix vs ONNX Runtime on every .onnx in ../shared/models/onnx
               (relative to the repository root), with seeded random inputs
               and with real photos resized to the model's input shape.
  roundtrip    convfix's ONNX reader+writer (tests/tools/onnx_roundtrip):
               the written model must load in ONNX Runtime and give the same
               outputs as the original (bitwise, or within 1e-6 relative).

Pass criteria for a run (torchvision, shared): every output has the
reference's shape, max |got - ref| <= 1e-4 * max |ref|, and for [N, C]
outputs (C > 1) the arg-max of every row is identical.

convfix is driven as a user would: `convfix run MODEL --input NAME=x.npy
--save-outputs DIR`. ONNX Runtime runs through tools/ort_run.js (Node,
onnxruntime-node from the repository's node_modules). Input shapes and
names come from the ONNX file itself (python3-onnx), not from convfix.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import numpy as np

REPO = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
ORT_RUN = os.path.join(REPO, "tools", "ort_run.js")
REL_TOL = 1e-4
SKIP_EXIT = 77

SKIMAGE_DATA = "/usr/lib/python3/dist-packages/skimage/data"
OPENCV_DATA = "/usr/share/doc/opencv-doc/examples/data"
PHOTOS = [
    os.path.join(SKIMAGE_DATA, "astronaut.png"),
    os.path.join(SKIMAGE_DATA, "coffee.png"),
    os.path.join(OPENCV_DATA, "fruits.jpg"),
    os.path.join(OPENCV_DATA, "baboon.jpg"),
]
ONNX_DTYPES = {1: np.float32, 2: np.uint8, 3: np.int8, 5: np.int16, 6: np.int32, 7: np.int64,
               9: np.bool_, 10: np.float16, 11: np.float64}


def sanitize(name):
    r = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
    if r in ("", ".", ".."):
        r = "_" + r
    return r


class Tally:
    def __init__(self):
        self.n = {"pass": 0, "fail": 0, "skip": 0}

    def add(self, kind, case, msg=""):
        self.n[kind] += 1
        print(f"{kind.upper():4} {case}" + (f": {msg}" if msg else ""), flush=True)

    def finish(self):
        print(f"{self.n['pass']} passed, {self.n['fail']} failed, {self.n['skip']} skipped", flush=True)
        if self.n["fail"]:
            return 1
        if self.n["pass"] == 0 and self.n["skip"]:
            return SKIP_EXIT
        return 0


class RunError(Exception):
    pass


def node_available():
    if not shutil.which("node"):
        return "node (Node.js) is not on PATH"
    if not os.path.isdir(os.path.join(REPO, "node_modules", "onnxruntime-node")):
        return f"{REPO}/node_modules/onnxruntime-node is missing (npm install --ignore-scripts)"
    return None


def model_io(path):
    """[(name, numpy dtype, dims with None for symbolic)] for runtime inputs,
    and the output names, read with python3-onnx."""
    import onnx
    m = onnx.load(path, load_external_data=False)
    inits = {i.name for i in m.graph.initializer}
    ins = []
    for vi in m.graph.input:
        if vi.name in inits:
            continue
        tt = vi.type.tensor_type
        dims = [d.dim_value if d.HasField("dim_value") else None for d in tt.shape.dim]
        ins.append((vi.name, ONNX_DTYPES.get(tt.elem_type), dims))
    return ins, [o.name for o in m.graph.output]


def _save_inputs(tmp, feeds):
    specs = []
    for k, (name, arr) in enumerate(feeds.items()):
        p = os.path.join(tmp, f"in{k}.npy")
        np.save(p, arr)
        specs.append(f"{name}={p}")
    return specs


def _read_outputs(d, names):
    out = {}
    for n in names:
        p = os.path.join(d, sanitize(n) + ".npy")
        if not os.path.exists(p):
            raise RunError(f"output '{n}' was not written")
        out[n] = np.load(p)
    return out


def run_convfix(convfix, model, feeds, out_names, threads):
    with tempfile.TemporaryDirectory(prefix="cf-oracle-") as tmp:
        cmd = [convfix, "run", model, "--save-outputs", os.path.join(tmp, "out"), "--threads", str(threads)]
        for s in _save_inputs(tmp, feeds):
            cmd += ["--input", s]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise RunError(f"convfix exit {r.returncode}: {r.stderr.strip()[:500]}")
        return _read_outputs(os.path.join(tmp, "out"), out_names)


def run_ort(model, feeds, out_names, threads=1):
    with tempfile.TemporaryDirectory(prefix="ort-oracle-") as tmp:
        cmd = ["node", ORT_RUN, model, "--out", os.path.join(tmp, "out"), "--threads", str(threads)]
        for s in _save_inputs(tmp, feeds):
            cmd += ["--input", s]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise RunError(f"ONNX Runtime exit {r.returncode}: {r.stderr.strip()[:500]}")
        return _read_outputs(os.path.join(tmp, "out"), out_names)


def compare(ref, got, rel_tol=REL_TOL, check_top1=True):
    """None when `got` matches `ref`, else a message. Also returns a short
    summary of the error."""
    if ref.shape != got.shape:
        return f"shape {got.shape} != reference {ref.shape}", ""
    if ref.dtype.kind not in "fc":
        if not np.array_equal(ref, got):
            return f"integer outputs differ ({int((ref != got).sum())} elements)", ""
        return None, "exact"
    r = ref.astype(np.float64)
    g = got.astype(np.float64)
    scale = float(np.abs(r).max()) if r.size else 0.0
    tol = rel_tol * scale
    d = np.abs(g - r)
    d = np.where(np.isnan(d), np.inf, d)
    err = float(d.max()) if d.size else 0.0
    summary = f"max err {err:.3g} (tol {tol:.3g}, max|ref| {scale:.3g})"
    if err > tol:
        i = int(np.argmax(d))
        return f"{summary}; worst at flat index {i}: got {g.flat[i]!r}, reference {r.flat[i]!r}", summary
    if check_top1 and r.ndim == 2 and r.shape[1] > 1:
        a, b = r.argmax(1), g.argmax(1)
        bad = np.nonzero(a != b)[0]
        if bad.size:
            return (f"{summary}; top-1 differs for rows {bad.tolist()} (reference {a[bad].tolist()}, "
                    f"got {b[bad].tolist()})"), summary
        summary += f", top-1 {len(a)}/{len(a)} same"
    return None, summary


def compare_all(refs, gots, **kw):
    msgs, sums = [], []
    for name, ref in refs.items():
        m, s = compare(ref, gots[name], **kw)
        if m:
            msgs.append(f"output '{name}': {m}")
        sums.append(s)
    return ("; ".join(msgs) or None), "; ".join(sums)


# ---- torchvision -------------------------------------------------------------

def cmd_torchvision(args):
    t = Tally()
    why = node_available()
    models = [m for m in args.models.split(",") if m] if args.models else sorted(
        d for d in os.listdir(args.models_dir) if os.path.exists(os.path.join(args.models_dir, d, "meta.json")))
    if not models:
        t.add("fail", "torchvision", f"no generated models in {args.models_dir} (run tools/gen_torchvision.py)")
    for name in models:
        d = os.path.join(args.models_dir, name)
        model = os.path.join(d, "model.onnx")
        if not os.path.exists(model):
            t.add("fail", name, f"{model} is missing (run tools/gen_torchvision.py --out {args.models_dir})")
            continue
        x = np.load(os.path.join(d, "input.npy"))
        # PyTorch run in float64: the accurate reference; every float32
        # runtime (ORT, convfix) is compared against it and against each other.
        torch_logits = np.load(os.path.join(d, "logits64.npy"))
        ins, outs = model_io(model)
        for batch in (1, x.shape[0]):
            case = f"{name} batch {batch}"
            feeds = {ins[0][0]: np.ascontiguousarray(x[:batch])}
            ref_torch = {outs[0]: torch_logits[:batch]}
            ort = None
            if why:
                t.add("skip", f"{case} ONNX Runtime vs PyTorch-f64", why)
            else:
                try:
                    ort = run_ort(model, feeds, outs)
                    m, s = compare_all(ref_torch, ort)
                    t.add("fail" if m else "pass", f"{case} ONNX Runtime vs PyTorch-f64", m or s)
                except RunError as e:
                    t.add("fail", f"{case} ONNX Runtime", str(e))
            try:
                got = run_convfix(args.convfix, model, feeds, outs, args.threads)
            except RunError as e:
                t.add("fail", f"{case} convfix", str(e))
                continue
            m, s = compare_all(ref_torch, got)
            t.add("fail" if m else "pass", f"{case} convfix vs PyTorch-f64", m or s)
            if ort is not None:
                m, s = compare_all(ort, got)
                t.add("fail" if m else "pass", f"{case} convfix vs ONNX Runtime", m or s)
            if batch > 1 and args.parallel_threads > 1 and args.parallel_threads != args.threads:
                # Multi-threaded kernels must give the same answer (races, split reductions).
                try:
                    got_mt = run_convfix(args.convfix, model, feeds, outs, args.parallel_threads)
                    m, s = compare_all(ref_torch, got_mt)
                    t.add("fail" if m else "pass",
                          f"{case} convfix --threads {args.parallel_threads} vs PyTorch-f64", m or s)
                except RunError as e:
                    t.add("fail", f"{case} convfix --threads {args.parallel_threads}", str(e))
    return t.finish()


# ---- shared models -----------------------------------------------------------

def shared_dir(args):
    if args.shared_dir:
        return args.shared_dir
    return os.path.join(os.path.dirname(REPO), "shared", "models", "onnx")


def concrete(dims, batch):
    return [batch if (d is None or d <= 0) and k == 0 else (1 if d is None or d <= 0 else d)
            for k, d in enumerate(dims)]


def photo_batch(dims, dtype, n):
    """n photos resized to an image-shaped input: NCHW when dim 1 is 1 or 3,
    else NHWC when the last dim is; grayscale for one channel; values in
    [0, 1]. None when the input does not look like an image."""
    from PIL import Image
    if len(dims) != 4:
        return None
    if dims[1] in (1, 3):
        layout, c, h, w = "nchw", dims[1], dims[2], dims[3]
    elif dims[3] in (1, 3):
        layout, c, h, w = "nhwc", dims[3], dims[1], dims[2]
    else:
        return None
    imgs = []
    for p in PHOTOS[:n]:
        im = Image.open(p).convert("L" if c == 1 else "RGB").resize((w, h), Image.BILINEAR)
        a = np.asarray(im, dtype=np.float32).reshape(h, w, c) / 255.0
        imgs.append(a.transpose(2, 0, 1) if layout == "nchw" else a)
    return np.stack(imgs).astype(dtype)


def shared_feeds(model):
    """[(label, feeds)] for a shared model: one seeded random input and real
    photos (a batch of 4 when the batch is dynamic, else one photo a run)."""
    ins, outs = model_io(model)
    rng = np.random.default_rng(1234)
    cases = []
    dyn = all(d[0] is None for _, _, d in ins if d)
    batch = 4 if dyn else 1
    feeds = {}
    for name, dt, dims in ins:
        if dt is None:
            return None, outs, f"input '{name}' has an unsupported element type"
        shape = concrete(dims, batch)
        if np.issubdtype(dt, np.floating):
            feeds[name] = rng.standard_normal(shape).astype(dt)
        elif dt == np.bool_:
            feeds[name] = rng.integers(0, 2, shape).astype(dt)
        else:
            feeds[name] = rng.integers(0, 10, shape).astype(dt)
    cases.append((f"random batch {batch}", feeds))
    if len(ins) == 1 and ins[0][1] is not None and np.issubdtype(ins[0][1], np.floating):
        name, dt, dims = ins[0]
        if dyn:
            ph = photo_batch(concrete(dims, 4), dt, 4)
            if ph is not None:
                cases.append(("photos batch 4", {name: ph}))
        else:
            for k in range(len(PHOTOS)):
                ph = photo_batch(concrete(dims, 1), dt, k + 1)
                if ph is not None:
                    cases.append((f"photo {os.path.basename(PHOTOS[k])}", {name: ph[k:k + 1]}))
    return cases, outs, None


def cmd_shared(args):
    t = Tally()
    d = shared_dir(args)
    if not os.path.isdir(d):
        t.add("skip", "shared ONNX models", f"{d} is absent (it holds the real-converter models; "
              "CI has it at ../shared relative to the repository)")
        return t.finish()
    why = node_available()
    for f in sorted(os.listdir(d)):
        if not f.endswith(".onnx"):
            continue
        model = os.path.join(d, f)
        cases, outs, err = shared_feeds(model)
        if err:
            t.add("fail", f, err)
            continue
        for label, feeds in cases:
            case = f"{f} {label}"
            if why:
                t.add("skip", case, why)
                continue
            try:
                ref = run_ort(model, feeds, outs)
            except RunError as e:
                t.add("fail", f"{case} ONNX Runtime", str(e))
                continue
            try:
                got = run_convfix(args.convfix, model, feeds, outs, args.threads)
            except RunError as e:
                t.add("fail", f"{case} convfix", str(e))
                continue
            m, s = compare_all(ref, got)
            t.add("fail" if m else "pass", f"{case} convfix vs ONNX Runtime", m or s)
    return t.finish()


# ---- round trip --------------------------------------------------------------

def cmd_roundtrip(args):
    t = Tally()
    why = node_available()
    models = []
    if args.models_dir:
        for n in sorted(os.listdir(args.models_dir)) if os.path.isdir(args.models_dir) else []:
            p = os.path.join(args.models_dir, n, "model.onnx")
            if os.path.exists(p):
                x = np.load(os.path.join(args.models_dir, n, "input.npy"))
                ins, outs = model_io(p)
                models.append((n, p, [("photos", {ins[0][0]: x[:2]})], outs))
        if not models:
            t.add("fail", "roundtrip", f"no generated models in {args.models_dir}")
    if args.shared:
        d = shared_dir(args)
        if not os.path.isdir(d):
            t.add("skip", "roundtrip shared ONNX models", f"{d} is absent")
        else:
            for f in sorted(os.listdir(d)):
                if f.endswith(".onnx"):
                    p = os.path.join(d, f)
                    cases, outs, err = shared_feeds(p)
                    if err:
                        t.add("fail", f, err)
                    else:
                        models.append((f, p, cases[:1], outs))
    for name, path, cases, outs in models:
        if why:
            t.add("skip", f"{name} roundtrip", why)
            continue
        with tempfile.TemporaryDirectory(prefix="cf-roundtrip-") as tmp:
            written = os.path.join(tmp, "written.onnx")
            r = subprocess.run([args.roundtrip, path, written], capture_output=True, text=True)
            if r.returncode != 0:
                t.add("fail", f"{name} roundtrip", f"onnx_roundtrip exit {r.returncode}: {r.stderr.strip()[:500]}")
                continue
            for label, feeds in cases:
                case = f"{name} roundtrip {label}"
                try:
                    ref = run_ort(path, feeds, outs)
                except RunError as e:
                    t.add("fail", case, f"original: {e}")
                    continue
                try:
                    got = run_ort(written, feeds, outs)
                except RunError as e:
                    t.add("fail", case, f"written model: {e}")
                    continue
                bitwise = all(np.array_equal(ref[k], got[k]) for k in ref)
                if bitwise:
                    t.add("pass", case, "outputs bitwise equal")
                    continue
                m, s = compare_all(ref, got, rel_tol=1e-6, check_top1=False)
                t.add("fail" if m else "pass", case, m or ("within 1e-6 relative: " + s))
    return t.finish()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("torchvision")
    p.add_argument("--convfix", required=True)
    p.add_argument("--models-dir", required=True)
    p.add_argument("--models", default="", help="comma-separated subset (default: all generated)")
    p.add_argument("--threads", type=int, default=int(os.environ.get("CONVFIX_TEST_THREADS", "1")))
    p.add_argument("--parallel-threads", type=int, default=2,
                   help="also run the full batch with this many threads (0: no)")
    p = sub.add_parser("shared")
    p.add_argument("--convfix", required=True)
    p.add_argument("--shared-dir", default="", help="default: <repo>/../shared/models/onnx")
    p.add_argument("--threads", type=int, default=int(os.environ.get("CONVFIX_TEST_THREADS", "1")))
    p = sub.add_parser("roundtrip")
    p.add_argument("--roundtrip", required=True, help="the onnx_roundtrip test program")
    p.add_argument("--models-dir", default="")
    p.add_argument("--shared", action="store_true", help="also the ../shared ONNX models")
    p.add_argument("--shared-dir", default="")
    args = ap.parse_args()
    sys.exit({"torchvision": cmd_torchvision, "shared": cmd_shared, "roundtrip": cmd_roundtrip}[args.cmd](args))


if __name__ == "__main__":
    main()
