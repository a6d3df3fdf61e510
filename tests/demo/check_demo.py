#!/usr/bin/python3
"""`convfix demo` end to end, checked against ONNX Runtime (independent of convfix).

  tests/demo/check_demo.py --convfix build/convfix --dir BUILD/demo-test

1. tools/make_demo_pair.py DIR writes the default pair (a no-op when current).
2. sha256 of the two models and of the bundled photos is taken.
3. `convfix demo --dir DIR --out DIR/results --threads 2` must exit 0 and
   write compare.json, diagnose/{diagnose.json,report.html},
   repair/{repair.json,report.html} and repaired.onnx, and print where the
   repaired model is.
4. ONNX Runtime (onnxruntime-node, graph optimizations off) runs the source,
   the faulty target and the repaired model on the bundled photos with the
   torch preprocessing computed by PIL + numpy: the repaired model's top-1
   must equal the source's on every photo, while the target's differs on at
   least one.
5. The input files are unchanged (sha256 before == after).
Exit 0 pass, 1 fail, 77 skipped (python3 onnx/torch or node_modules missing).
"""
import argparse
import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT / "tools"))


def skip(msg):
    print("SKIP: " + msg)
    sys.exit(77)


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def sha(p):
    return hashlib.sha256(Path(p).read_bytes()).hexdigest()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--convfix", required=True)
    ap.add_argument("--dir", required=True)
    a = ap.parse_args()
    for mod in ("onnx", "torch", "torchvision", "numpy", "PIL"):
        if importlib.util.find_spec(mod) is None:
            skip(f"python3 module {mod} is missing (apt-get install python3-{mod.lower()})")
    if not (ROOT / "node_modules" / "onnxruntime-node").is_dir() or shutil.which("node") is None:
        skip("node or node_modules/onnxruntime-node missing (run `npm install --ignore-scripts`)")

    import make_demo_pair as mdp
    d = Path(a.dir)
    gen = subprocess.run([sys.executable, str(ROOT / "tools" / "make_demo_pair.py"), str(d)],
                         capture_output=True, text=True)
    print(gen.stdout + gen.stderr, end="")
    if gen.returncode != 0:
        fail("tools/make_demo_pair.py failed")
    source, target = d / mdp.SOURCE, d / mdp.TARGET
    photos = mdp.image_files()
    inputs = [source, target] + photos
    before = {str(p): sha(p) for p in inputs}

    out = d / "results"
    if out.exists():
        shutil.rmtree(out)
    cmd = [a.convfix, "demo", "--dir", str(d), "--out", str(out), "--threads", "2", "--images",
           str(ROOT / "assets" / "images")]
    print("$ " + " ".join(cmd))
    p = subprocess.run(cmd, capture_output=True, text=True)
    print(p.stdout + p.stderr, end="")
    if p.returncode != 0:
        fail(f"convfix demo exited with {p.returncode}")
    repaired = out / "repaired.onnx"
    for f in [out / "compare.json", out / "diagnose" / "diagnose.json", out / "diagnose" / "report.html",
              out / "repair" / "repair.json", out / "repair" / "report.html", repaired]:
        if not f.is_file() or f.stat().st_size == 0:
            fail(f"{f} was not written")
    if str(repaired) not in p.stdout:
        fail("the demo does not say where the repaired model is")
    rep = json.loads((out / "repair" / "repair.json").read_text())
    print(f"repair verdict: {rep['verdict']['code']}; discrepancy {rep.get('discrepancy_before')} -> "
          f"{rep.get('discrepancy_after')}")

    with tempfile.TemporaryDirectory(prefix="demo-check-") as work:
        x = mdp.torch_batch(photos)
        ls = mdp.ort_logits(source, x, work).argmax(1)
        lt = mdp.ort_logits(target, x, work).argmax(1)
        lr = mdp.ort_logits(repaired, x, work).argmax(1)
    names = [f.name for f in photos]
    print("ONNX Runtime top-1 per photo (source / target / repaired):")
    for n, i, j, k in zip(names, ls, lt, lr):
        print(f"  {n:16s} {i:5d} {j:5d} {k:5d}")
    if (ls == lt).all():
        fail("the faulty target agrees with the source on every photo: the pair shows nothing")
    bad = [n for n, i, k in zip(names, ls, lr) if i != k]
    if bad:
        print("repair log (repair.json):")
        for x in rep.get("repairs") or []:
            print(f"  {'kept' if x.get('kept') else 'undone'}: [{x.get('strategy')}] {x.get('target_node')}: "
                  f"{x.get('change')} -- discrepant {x.get('discrepant_before')} -> {x.get('discrepant_after')}, "
                  f"error {x.get('error_before')} -> {x.get('error_after')} ({x.get('reason')})")
        fail("the repaired model's top-1 differs from the source's on " + ", ".join(bad))

    after = {str(p): sha(p) for p in inputs}
    changed = [k for k in before if before[k] != after[k]]
    if changed:
        fail("input files changed: " + ", ".join(changed))
    print(f"PASS: target differed on {int((ls != lt).sum())}/{len(names)} photos; repaired agrees on all "
          f"{len(names)}; inputs unchanged")


if __name__ == "__main__":
    main()
