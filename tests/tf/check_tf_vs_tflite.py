#!/usr/bin/env python3
"""Oracle test (labels tf;oracles): TensorFlow models in ../shared/models run by
convfix's TF reader against their real TFLite conversions run by convfix's
TFLite reader (which matches the TFLite runtime; see tests/tflite).

Pairs: P3 SavedModel DS-CNN vs its float .tflite, P6 frozen CPM pose .pb vs its
.tflite, P7 the regression frozen .pb and SavedModel vs the .tflite.
Tolerance: max |a - b| <= 1e-5 * max(|b|) (a faithful float conversion).
Usage: check_tf_vs_tflite.py CONVFIX SHARED_MODELS_DIR. Exit 77 when absent."""
import os
import subprocess
import sys
import tempfile

import numpy as np

TOL = 1e-5
PAIRS = [
    # (name, TF model, tflite, input shape, input range)
    ("P7 frozen", "tf_frozen/tf2onnx_regression_frozen.pb", "tflite/tf2onnx_regression.tflite", (), (-2, 2)),
    ("P7 savedmodel", "tf_savedmodel/tf2onnx_regression", "tflite/tf2onnx_regression.tflite", (), (-2, 2)),
    ("P3 savedmodel", "tf_savedmodel/mlperftiny_kws_dscnn", "tflite/mlperftiny_kws_dscnn_float.tflite",
     (1, 49, 10, 1), (-30, 30)),
    ("P6 frozen", "tf_frozen/pose_cpm_mobilenet.pb", "tflite/pose_cpm_mobilenet.tflite", (1, 192, 192, 3), (0, 1)),
]


def run(convfix, model, x, out_dir):
    subprocess.run([convfix, "run", model, "--input", x, "--save-outputs", out_dir], check=True,
                   stdout=subprocess.DEVNULL)
    files = sorted(f for f in os.listdir(out_dir) if f.endswith(".npy"))
    return [np.load(os.path.join(out_dir, f)) for f in files]


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    convfix, shared = sys.argv[1], sys.argv[2]
    if not os.path.isdir(shared):
        print(f"SKIP: {shared} is absent (the shared model set is not part of a clone)")
        return 77
    rng = np.random.default_rng(7)
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, tfm, tfl, shape, (lo, hi) in PAIRS:
            x = rng.uniform(lo, hi, size=shape).astype(np.float32)
            xp = os.path.join(tmp, name.replace(" ", "_") + ".npy")
            np.save(xp, x)
            a = run(convfix, os.path.join(shared, tfm), xp, os.path.join(tmp, name + "_tf"))
            b = run(convfix, os.path.join(shared, tfl), xp, os.path.join(tmp, name + "_tflite"))
            if len(a) != len(b) or any(p.shape != q.shape for p, q in zip(a, b)):
                print(f"FAIL {name}: output shapes {[p.shape for p in a]} vs {[q.shape for q in b]}")
                failed += 1
                continue
            for p, q in zip(a, b):
                err = float(np.max(np.abs(p.astype(np.float64) - q)))
                ref = float(np.max(np.abs(q)))
                ok = err <= TOL * max(ref, 1e-30)
                print(f"{'ok  ' if ok else 'FAIL'} {name}: max|tf - tflite| = {err:.3g}, max|tflite| = {ref:.3g}, "
                      f"rel {err / max(ref, 1e-30):.3g} (tol {TOL})")
                failed += 0 if ok else 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
