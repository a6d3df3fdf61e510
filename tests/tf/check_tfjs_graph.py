#!/usr/bin/env python3
"""Oracle test (labels tf;oracles): TF.js graph-models run by convfix against
the TF.js runtime (@tensorflow/tfjs 4.9.0, tests/tf/tfjs_graph_run.js).

Models: ../shared/models/tfjs_graph/{tiny_mnist_cnn,automl_flowers} (when
present) and the op-coverage models written by tools/gen_tf_graph_models.py.
Pass: max |convfix - tfjs| <= 1e-4 * max |tfjs| for every output.
Usage: check_tfjs_graph.py CONVFIX REPO_ROOT [SHARED_MODELS_DIR] [CASE_FILTER]
Exit 77 when node or @tensorflow/tfjs is missing."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

TOL = 1e-4


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    convfix, root = sys.argv[1], sys.argv[2]
    shared = sys.argv[3] if len(sys.argv) > 3 else ""
    filt = sys.argv[4] if len(sys.argv) > 4 else ""
    if not shutil.which("node") or not os.path.isdir(os.path.join(root, "node_modules", "@tensorflow", "tfjs")):
        print("SKIP: node or node_modules/@tensorflow/tfjs is missing (npm ci)")
        return 77
    runner = os.path.join(root, "tests", "tf", "tfjs_graph_run.js")
    rng = np.random.default_rng(3)
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        gen = os.path.join(tmp, "gen")
        subprocess.run([sys.executable, os.path.join(root, "tools", "gen_tf_graph_models.py"), gen], check=True)
        cases = [(n, os.path.join(gen, n, "model.json"), s, (-2, 2))
                 for n, s in json.load(open(os.path.join(gen, "cases.json"))).items()]
        if shared and os.path.isdir(os.path.join(shared, "tfjs_graph")):
            cases.append(("shared tiny_mnist_cnn", os.path.join(shared, "tfjs_graph/tiny_mnist_cnn/model.json"),
                          [1, 28, 28, 1], (0, 1)))
            cases.append(("shared automl_flowers", os.path.join(shared, "tfjs_graph/automl_flowers/model.json"),
                          [1, 224, 224, 3], (0, 1)))
        else:
            print("note: ../shared/models absent, only the generated models are checked")
        for k, (name, model, shape, (lo, hi)) in enumerate(cases):
            if filt and filt not in name:
                continue
            x = rng.uniform(lo, hi, size=shape).astype(np.float32)
            xp = os.path.join(tmp, f"x{k}.npy")
            np.save(xp, x)
            od, cd = os.path.join(tmp, f"o{k}"), os.path.join(tmp, f"c{k}")
            r = subprocess.run(["node", runner, model, xp, od], capture_output=True, text=True)
            if r.returncode:
                print(f"FAIL {name}: TF.js runtime: {r.stderr.strip().splitlines()[-1:]}")
                failed += 1
                continue
            names = json.load(open(os.path.join(od, "outputs.json")))
            r = subprocess.run([convfix, "run", model, "--input", xp, "--save-outputs", cd],
                               capture_output=True, text=True)
            if r.returncode:
                print(f"FAIL {name}: convfix: {r.stderr.strip()}")
                failed += 1
                continue
            for i, n in enumerate(names):
                ref = np.load(os.path.join(od, f"output_{i}.npy")).astype(np.float64)
                got = np.load(os.path.join(cd, n.split(":")[0].replace("/", "_") + ".npy")).astype(np.float64)
                if got.shape != ref.shape:
                    print(f"FAIL {name}: output '{n}' shape {got.shape}, TF.js {ref.shape}")
                    failed += 1
                    continue
                err = float(np.max(np.abs(got - ref))) if ref.size else 0.0
                scale = float(np.max(np.abs(ref))) if ref.size else 0.0
                ok = err <= TOL * max(scale, 1e-30)
                print(f"{'ok  ' if ok else 'FAIL'} {name}: output '{n}' {list(ref.shape)} max err {err:.3g}, "
                      f"max |ref| {scale:.3g}")
                failed += 0 if ok else 1
    print(f"{failed} failure(s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
