#!/usr/bin/env python3
"""Oracle test (labels tf;oracles): TensorFlow models in ../shared/models run by
convfix's TF reader against their real TFLite conversions run by convfix's
TFLite reader (which matches the TFLite runtime; see tests/tflite).

Pairs: P3 SavedModel DS-CNN vs its float .tflite, P6 frozen CPM pose .pb vs its
.tflite, P7 the regression frozen .pb and SavedModel vs the .tflite.
Tolerance: max |a - b| <= 1e-5 * max(|b|) (a faithful float conversion).
Two pairs do not meet it; the test checks the documented cause instead of
loosening the tolerance (docs/FORMATS.md, "TensorFlow", oracle results):
- P3: the "float" .tflite stores its convolution filters as int8 (dynamic-
  range quantization by the converter): checked from the file (convfix
  inspect: quantized, under 2 bytes per parameter); the disagreement must
  stay below 1e-2 relative (int8 weight rounding).
- P6: the pose network amplifies float32 rounding: a 1-ulp relative change of
  the input moves either model's output by ~1e-5 relative. The disagreement
  must stay within 2x the larger of the two models' own 1-ulp sensitivity.
Usage: check_tf_vs_tflite.py CONVFIX SHARED_MODELS_DIR. Exit 77 when absent."""
import json
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


def inspect(convfix, model):
    r = subprocess.run([convfix, "inspect", "--json", model], check=True, capture_output=True, text=True)
    return json.loads(r.stdout)


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
                rel = err / max(ref, 1e-30)
                ok = rel <= TOL
                verdict = "ok  " if ok else "FAIL"
                note = ""
                if not ok and name.startswith("P3"):
                    info = inspect(convfix, os.path.join(shared, tfl))
                    bpp = info["parameter_bytes"] / max(info["parameters"], 1)
                    if info.get("quantized") and bpp < 2 and rel < 1e-2:
                        verdict, ok = "EXPL", True
                        note = f" -- conversion fault: .tflite has int8 weights ({bpp:.2f} bytes/parameter)"
                if not ok and name.startswith("P6"):
                    xe = (x * (1 + np.float32(2.0 ** -23) * rng.choice([-1, 1], size=x.shape))).astype(np.float32)
                    xep = os.path.join(tmp, "p6_eps.npy")
                    np.save(xep, xe)
                    ae = run(convfix, os.path.join(shared, tfm), xep, os.path.join(tmp, "p6e_tf"))[0]
                    be = run(convfix, os.path.join(shared, tfl), xep, os.path.join(tmp, "p6e_tflite"))[0]
                    s_tf = float(np.max(np.abs(ae.astype(np.float64) - p))) / ref
                    s_tfl = float(np.max(np.abs(be.astype(np.float64) - q))) / ref
                    if rel <= 2 * max(s_tf, s_tfl):
                        verdict, ok = "EXPL", True
                    note = (f" -- 1-ulp input change moves TF by {s_tf:.3g}, TFLite by {s_tfl:.3g} relative "
                            f"(float32 noise floor of this network)")
                print(f"{verdict} {name}: max|tf - tflite| = {err:.3g}, max|tflite| = {ref:.3g}, "
                      f"rel {rel:.3g} (tol {TOL}){note}")
                failed += 0 if ok else 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
