#!/usr/bin/python3
"""`convfix compare` on real conversion pairs from ../shared/models: Keras
models converted by TFLiteConverter to a float .tflite and to an int8
(post-training quantized) .tflite (MLPerf Tiny P1 ResNet-8 / CIFAR-10 and
P2 MobileNetV1 visual wake words).

Independent reference: the TFLite runtime itself (tools/tflite_run.js, real
TFLite kernels in WebAssembly) runs both models on the same preprocessed
photos (written by `convfix run --save-inputs` from the float model, and
quantized here with the int8 input's scale and zero point,
q = clip(round(x / scale) + zero_point)); top-1 agreement and the
dequantized output differences are computed with numpy and compared with
convfix compare's JSON. Differences of one output quantization step between
convfix's int8 kernels and TFLite's are tolerated; images whose top-1 is
within such a step of a tie are not held against either side.

Exit 0 pass, 1 fail, 77 skip (models or the TFLite runtime missing).
"""
import argparse
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
                                              "motorcycle_left.png", "camera.png", "horse.png"]] + \
         [os.path.join(OPENCV, n) for n in ["baboon.jpg", "fruits.jpg", "butterfly.jpg", "apple.jpg", "building.jpg",
                                            "HappyFish.jpg", "orange.jpg", "messi5.jpg", "home.jpg", "aero1.jpg",
                                            "starry_night.jpg", "smarties.png", "squirrel_cls.jpg", "basketball1.png",
                                            "Blender_Suzanne1.jpg", "board.jpg", "leuvenA.jpg"]]
PAIRS = [  # name, float model, int8 model, preset
    ("resnet8_cifar10", "mlperftiny_ic_resnet8_cifar10_float.tflite", "mlperftiny_ic_resnet8_cifar10_int8.tflite",
     "raw"),
    ("vww_mobilenetv1_96", "mlperftiny_vww_mobilenetv1_96_float.tflite", "mlperftiny_vww_mobilenetv1_96_int8.tflite",
     "unit"),
]
failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print("FAIL:", msg, flush=True)


def run(cmd, env=None):
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        print("command:", " ".join(cmd))
        print(p.stdout[-3000:], p.stderr[-3000:])
        raise SystemExit(f"exit code {p.returncode}")
    return p


def tflite_outputs(model, x, work, tag):
    """Runs the TFLite runtime image by image; returns [N, classes] float."""
    rows = []
    for i in range(x.shape[0]):
        inp = os.path.join(work, f"{tag}_in{i}.npy")
        np.save(inp, x[i:i + 1])
        out = os.path.join(work, f"{tag}_out{i}")
        run(["node", os.path.join(ROOT, "tools", "tflite_run.js"), model, inp, out])
        meta = json.load(open(os.path.join(out, "outputs.json")))
        files = sorted(f for f in os.listdir(out) if f.startswith("output_0_"))
        rows.append(np.load(os.path.join(out, files[0])).reshape(-1))
        del meta
    return np.stack(rows)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--convfix", required=True)
    args = ap.parse_args()
    if not os.path.isdir(SHARED):
        print("SKIP:", SHARED, "missing")
        return 77
    if not os.path.isdir(os.path.join(ROOT, "node_modules", "@tensorflow", "tfjs-tflite")):
        print("SKIP: @tensorflow/tfjs-tflite is not installed")
        return 77
    photos = [p for p in PHOTOS if os.path.exists(p)]
    work = tempfile.mkdtemp(prefix="convfix-compare-tflite-")
    try:
        img = os.path.join(work, "photos")
        os.makedirs(img)
        for p in photos:
            shutil.copy(p, img)
        names = sorted(os.listdir(img))
        n = len(names)
        env = dict(os.environ, CONVFIX_CACHE_DIR=os.path.join(work, "cache"))
        for name, fm, qm, preset in PAIRS:
            fpath, qpath = os.path.join(SHARED, fm), os.path.join(SHARED, qm)
            if not (os.path.exists(fpath) and os.path.exists(qpath)):
                print("skip pair", name, "(files missing)")
                continue
            out_json = os.path.join(work, name + ".json")
            p = run([args.convfix, "compare", fpath, qpath, "--images", img, "--source-preprocess", preset,
                     "--json", out_json], env=env)
            print(p.stdout)
            j = json.load(open(out_json))
            mq = j["models"][1]
            check(mq["input"]["dtype"] == "i8" and mq["input"]["quant"] is not None, f"{name}: int8 input seen")
            check(mq["outputs_dequantized"], f"{name}: int8 output dequantized")
            scale, zp = mq["input"]["quant"]["scale"], mq["input"]["quant"]["zero_point"]

            inputs = os.path.join(work, name + "_inputs")
            run([args.convfix, "run", fpath, "--images", img, "--preprocess", preset, "--save-inputs", inputs,
                 "--json"])
            x = np.concatenate([np.load(os.path.join(inputs, f + ".npy")) for f in names]).astype(np.float32)
            # The file's own quantization parameters (the TFLite runtime's --info does not list them).
            ins = json.loads(run([args.convfix, "inspect", "--json", qpath]).stdout)
            qin, qout = ins["inputs"][0]["quant"], ins["outputs"][0]["quant"]
            check(abs(qin["scale"][0] - scale) < 1e-9 and qin["zero_point"][0] == zp, f"{name}: input quantization")
            xq = np.clip(np.round(x.astype(np.float64) / qin["scale"][0]) + qin["zero_point"][0], -128, 127).astype(np.int8)
            ref_f = tflite_outputs(fpath, x, work, name + "_f").astype(np.float64)
            ref_q_raw = tflite_outputs(qpath, xq, work, name + "_q").astype(np.float64)
            o_scale, o_zp = qout["scale"][0], qout["zero_point"][0]
            ref_q = (ref_q_raw - o_zp) * o_scale
            step = o_scale
            agree_ref = ref_f.argmax(1) == ref_q.argmax(1)
            s = np.sort(ref_q, axis=1)
            unsure = (s[:, -1] - s[:, -2] <= 1.01 * step)
            sf = np.sort(ref_f, axis=1)
            unsure |= (sf[:, -1] - sf[:, -2] <= 1e-4)
            cf_agree = np.array([r["top1_agree"] for r in j["images"]])
            mism = np.nonzero((cf_agree != agree_ref) & ~unsure)[0]
            check(len(mism) == 0, f"{name}: top-1 agreement differs from TFLite's on {[names[i] for i in mism]}")
            pair = j["pairs"][0]
            ref_rate = float(np.mean(~agree_ref))
            print(f"{name}: discrepancy rate convfix {pair['discrepancy_rate']:.3f} ({pair['discrepant_images']}/{n}), "
                  f"TFLite runtime {ref_rate:.3f} ({int((~agree_ref).sum())}/{n}); {int(unsure.sum())} near-tie image(s)")
            check(abs(pair["discrepancy_rate"] - ref_rate) <= unsure.sum() / n + 1e-12, f"{name}: discrepancy rate")
            d = np.abs(ref_f - ref_q)
            o = pair["outputs"][0]
            print(f"{name}: max|diff| convfix {o['max_abs_diff']:.4f} TFLite {d.max():.4f}; "
                  f"mean|diff| convfix {o['mean_abs_diff']:.4f} TFLite {d.mean():.4f}")
            check(abs(o["max_abs_diff"] - d.max()) <= 2 * step + 1e-3, f"{name}: max|diff| within two output steps")
            check(abs(o["mean_abs_diff"] - d.mean()) <= step + 1e-3, f"{name}: mean|diff| within one output step")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
