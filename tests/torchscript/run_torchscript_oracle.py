#!/usr/bin/python3
"""TorchScript oracle tests: convfix's TorchScript import against PyTorch.

Per model made by tools/gen_torchscript.py (MODELS_DIR/<name>/):
  torch   `convfix run model.pt --input input.npy` vs PyTorch running the
          same TorchScript file (torch.jit.load, here, in float32) on the
          same photos: max |convfix - torch| <= 1e-4 * max |torch| and the
          same top-1 for every photo. Also for model_script.pt where the
          generator wrote one (torch.jit.script).
  onnx    the same network exported by torch.onnx, run by convfix: the
          TorchScript import and the ONNX import agree within 1e-4
          (relative to max |output|), same top-1.
  inspect `convfix inspect --json model.pt`: format "torchscript", and the
          parameter names are the module's attribute paths (every name in
          PyTorch's state_dict that convfix lists is one of them; Conv
          weights are found by their state_dict names).

Prints one line per case and `N passed, N failed, N skipped`; exit 0, 1 on a
failure, 77 when python3-torch is missing.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

SKIP = 77
REL = 1e-4


def run_convfix(convfix, model, x_path, out_dir):
    r = subprocess.run([convfix, "run", model, "--input", x_path, "--save-outputs", out_dir],
                       capture_output=True, text=True)
    if r.returncode != 0:
        return None, (r.stderr.strip() or r.stdout.strip())[:400]
    files = sorted(f for f in os.listdir(out_dir) if f.endswith(".npy"))
    if len(files) != 1:
        return None, f"expected one output, got {files}"
    return np.load(os.path.join(out_dir, files[0])), ""


def check(got, ref, what):
    if got.shape != ref.shape:
        return f"{what}: shape {got.shape} vs {ref.shape}"
    err = float(np.abs(got.astype(np.float64) - ref).max())
    scale = float(np.abs(ref).max())
    msg = f"max abs err {err:.2e} = {err / max(scale, 1e-30):.1e} x max|ref|"
    if not err <= REL * scale:
        return f"{what}: {msg} (limit {REL:.0e})"
    if ref.ndim == 2 and ref.shape[1] > 1:
        a, b = np.argmax(got, 1), np.argmax(ref, 1)
        if not np.array_equal(a, b):
            return f"{what}: top-1 {a.tolist()} vs {b.tolist()} ({msg})"
    return "ok " + msg


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--convfix", required=True)
    ap.add_argument("--models-dir", required=True)
    ap.add_argument("--models", required=True)
    ap.add_argument("--dump", required=True, help="tests' torchscript_dump binary")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    try:
        import torch
    except ImportError:
        print("SKIP: python3-torch is not installed")
        return SKIP
    torch.set_num_threads(args.threads)
    n = {"pass": 0, "fail": 0}

    def report(ok, case, msg):
        n["pass" if ok else "fail"] += 1
        print(f"{'PASS' if ok else 'FAIL'} {case}: {msg}", flush=True)

    for name in args.models.split(","):
        d = os.path.join(args.models_dir, name)
        x_path = os.path.join(d, "input.npy")
        if not os.path.exists(os.path.join(d, "meta.json")):
            report(False, name, f"fixture missing in {d} (run tools/gen_torchscript.py)")
            continue
        x = np.load(x_path)
        outs = {}
        for variant in ("model.pt", "model_script.pt"):
            pt = os.path.join(d, variant)
            if not os.path.exists(pt):
                continue
            with torch.no_grad():
                ref = torch.jit.load(pt).eval()(torch.from_numpy(x)).numpy().astype(np.float64)
            with tempfile.TemporaryDirectory() as tmp:
                got, err = run_convfix(args.convfix, pt, x_path, tmp)
            case = f"{name}/{variant} vs torch"
            if got is None:
                report(False, case, err)
                continue
            outs[variant] = got
            msg = check(got, ref, case)
            report(msg.startswith("ok"), case, msg)
        onnx = os.path.join(d, "model.onnx")
        if "model.pt" in outs and os.path.exists(onnx):
            with tempfile.TemporaryDirectory() as tmp:
                got, err = run_convfix(args.convfix, onnx, x_path, tmp)
            case = f"{name}: convfix(model.pt) vs convfix(model.onnx)"
            if got is None:
                report(False, case, err)
            else:
                msg = check(outs["model.pt"], got.astype(np.float64), case)
                report(msg.startswith("ok"), case, msg)
        # inspect: format and parameter count; names and provenance (dump)
        pt = os.path.join(d, "model.pt")
        sd = torch.jit.load(pt).state_dict()
        r = subprocess.run([args.convfix, "inspect", "--json", pt], capture_output=True, text=True)
        case = f"{name}: inspect model.pt"
        try:
            info = json.loads(r.stdout) if r.returncode == 0 else None
        except ValueError:
            info = None
        if info is None:
            report(False, case, (r.stderr.strip() or "output is not JSON")[:300])
            continue
        # every state_dict entry but BatchNorm's step counters is used
        n_params = sum(v.numel() for k, v in sd.items() if not k.endswith("num_batches_tracked"))
        # (convfix also counts the small constants the import adds: shapes, scalars)
        ok = info.get("format") == "torchscript" and n_params <= info.get("parameters", -1) <= n_params + 4096
        report(ok, case, f"format {info.get('format')}, {info.get('parameters')} parameters (state_dict: {n_params})")
        r = subprocess.run([args.dump, pt], capture_output=True, text=True)
        case = f"{name}: parameter names and provenance"
        if r.returncode != 0:
            report(False, case, r.stderr.strip()[:300])
            continue
        g = json.loads(r.stdout)
        inits = g["initializers"]
        problems = []
        for k, v in sd.items():
            if k.endswith("num_batches_tracked"):
                continue
            if k not in inits:
                problems.append(f"state_dict key {k} is not an initializer")
            elif inits[k] != list(v.shape):
                problems.append(f"{k}: dims {inits[k]} vs {list(v.shape)}")
        for nd in g["nodes"]:
            if nd["format"] != "torchscript" or not nd["original_op"]:
                problems.append(f"node {nd['name']}: provenance {nd['format']}/{nd['original_op']}")
            if nd["op"] == "Conv":
                w = nd["inputs"][1]
                if not nd["name"].startswith(w[:-len(".weight")]):
                    problems.append(f"Conv node {nd['name']} is not named after its module ({w})")
        report(not problems, case, "; ".join(problems[:3]) if problems else
               f"{len(sd)} state_dict names are initializers with the same dims; Conv nodes named by module path")
    print(f"{n['pass']} passed, {n['fail']} failed, 0 skipped", flush=True)
    return 1 if n["fail"] else 0


if __name__ == "__main__":
    sys.exit(main())
