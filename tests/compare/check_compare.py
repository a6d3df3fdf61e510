#!/usr/bin/python3
"""Integration test of `convfix compare` on a real model pair.

Source: torchvision MobileNetV2 exported by torch.onnx (tools/gen_torchvision.py,
calibrated random weights). Faulty conversions made with the onnx package:
  f16.onnx     every float initializer rounded to float16 and back
  via.onnx     f16.onnx with the upper bound of the middle ReLU6 Clip 6 -> 3
  faulty.onnx  f16.onnx with that bound 6 -> 2
`convfix compare SOURCE faulty.onnx --via via.onnx` runs over 40 real photos,
and `convfix compare SOURCE f16.onnx` (error statistics of the rounding).

Independent reference: the same preprocessed tensors (written by
`convfix run --save-inputs`, so both sides see the same numbers; preprocessing
has its own tests against PIL) are run by ONNX Runtime (tools/ort_run.js),
and top-1 agreement, top-5 lists, Kendall's tau (written out here from the
definition in docs/DIAGNOSIS.md and cross-checked with scipy), output error
statistics and the chain table are computed with numpy and compared with
convfix's JSON. Also checked: the second run is served from the cache with
identical results, the model hash equals hashlib's SHA-256, and bad input
(missing folder, a non-image file, mismatching input shapes, an unsupported
op) gives one line on stderr and exit code 2.

Exit 0 pass, 1 fail, 77 skip (a prerequisite is missing).
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
SKIMAGE = "/usr/lib/python3/dist-packages/skimage/data"
OPENCV = "/usr/share/doc/opencv-doc/examples/data"
PHOTOS = [
    (SKIMAGE, n) for n in ["astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "motorcycle_left.png",
                           "hubble_deep_field.jpg", "camera.png", "coins.png", "ihc.png", "grass.png", "gravel.png",
                           "brick.png", "color.png", "horse.png", "moon.png"]
] + [
    (OPENCV, n) for n in ["baboon.jpg", "fruits.jpg", "butterfly.jpg", "apple.jpg", "building.jpg", "HappyFish.jpg",
                          "orange.jpg", "messi5.jpg", "home.jpg", "aero1.jpg", "starry_night.jpg", "smarties.png",
                          "chicky_512.png", "graf1.png", "squirrel_cls.jpg", "stuff.jpg", "Blender_Suzanne1.jpg",
                          "aero3.jpg", "aloeL.jpg", "basketball1.png", "leuvenA.jpg", "rubberwhale1.png", "board.jpg",
                          "box_in_scene.png", "ellipses.jpg"]
]
failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print("FAIL:", msg, flush=True)


def skip(msg):
    print("SKIP:", msg)
    sys.exit(77)


def run(cmd, env=None, expect=0):
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if expect is not None and p.returncode != expect:
        print("command:", " ".join(cmd))
        print(p.stdout[-3000:])
        print(p.stderr[-3000:])
        raise SystemExit(f"exit code {p.returncode}, expected {expect}")
    return p


# ---- faulty variants ---------------------------------------------------------

def set_clip_max(m, bound):
    """Replaces the upper bound of the middle Clip (a ReLU6) of model m by `bound`."""
    from onnx import numpy_helper
    clips = [n for n in m.graph.node if n.op_type == "Clip"]
    if not clips:
        skip("no Clip node in the exported MobileNetV2")
    target = clips[len(clips) // 2]
    consts = {i.name for i in m.graph.initializer} | {o for n in m.graph.node if n.op_type == "Constant"
                                                       for o in n.output}
    if len(target.input) >= 3 and target.input[2] in consts:
        new_name = target.input[2] + "_flipped"
        m.graph.initializer.append(numpy_helper.from_array(np.array(bound, dtype=np.float32), new_name))
        target.input[2] = new_name
    else:
        attrs = [a for a in target.attribute if a.name == "max"]
        if not attrs:
            skip("cannot find the Clip bound")
        attrs[0].f = bound
    return target.name


def make_variants(src, work, clip_max, via_clip_max):
    """f16.onnx: weights rounded to float16 and back. via.onnx: f16 plus the
    middle Clip's bound 6 -> via_clip_max. faulty.onnx: f16 plus that bound
    -> clip_max (a lower bound changes more labels)."""
    import onnx
    from onnx import numpy_helper
    m = onnx.load(src)
    for init in m.graph.initializer:
        a = numpy_helper.to_array(init)
        if a.dtype == np.float32:
            init.CopyFrom(numpy_helper.from_array(a.astype(np.float16).astype(np.float32), init.name))
    f16 = os.path.join(work, "f16.onnx")
    onnx.save(m, f16)
    via = os.path.join(work, "via.onnx")
    mv = onnx.load(f16)
    set_clip_max(mv, via_clip_max)
    onnx.save(mv, via)
    faulty = os.path.join(work, "faulty.onnx")
    clip_node = set_clip_max(m, clip_max)
    onnx.save(m, faulty)
    # Bad-input variants: other input size; an op convfix does not know.
    m2 = onnx.load(src)
    d = m2.graph.input[0].type.tensor_type.shape.dim
    d[2].dim_value = 192
    d[3].dim_value = 192
    small = os.path.join(work, "input192.onnx")
    onnx.save(m2, small)
    m3 = onnx.load(src)
    first = m3.graph.node[0]
    old = first.input[0]
    first.input[0] = "frob_out"
    m3.graph.node.insert(0, onnx.helper.make_node("FrobnicateTensor", [old], ["frob_out"], name="frob1",
                                                  domain=""))
    odd = os.path.join(work, "odd_op.onnx")
    onnx.save(m3, odd)
    return f16, via, faulty, small, odd, clip_node


# ---- the reference computations ----------------------------------------------

def softmax(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def topk(row, k):
    # largest first, equal values by lower index (a stable sort of -row)
    return [int(i) for i in np.argsort(-row, kind="stable")[:k]]


def tau_topk(a, b):
    """Kendall's tau-b over the union of two ranked lists; a class missing
    from a list ranks len(list) (tied below the list)."""
    if a == b:
        return 1.0
    u = list(dict.fromkeys(a + b))
    ra = [a.index(c) if c in a else len(a) for c in u]
    rb = [b.index(c) if c in b else len(b) for c in u]
    conc = disc = ta = tb = 0
    for i in range(len(u)):
        for j in range(i + 1, len(u)):
            sa = np.sign(ra[i] - ra[j])
            sb = np.sign(rb[i] - rb[j])
            ta += sa == 0
            tb += sb == 0
            if sa == 0 or sb == 0:
                continue
            if sa == sb:
                conc += 1
            else:
                disc += 1
    n0 = len(u) * (len(u) - 1) // 2
    den = np.sqrt((n0 - ta) * (n0 - tb))
    return float((conc - disc) / den) if den else 0.0


def tau_scipy(a, b):
    from scipy.stats import kendalltau
    if a == b:
        return 1.0
    u = list(dict.fromkeys(a + b))
    ra = [a.index(c) if c in a else len(a) for c in u]
    rb = [b.index(c) if c in b else len(b) for c in u]
    return float(kendalltau(ra, rb).statistic)


def ort_logits(model, x_npy, work, tag):
    out = os.path.join(work, "ort_" + tag)
    os.makedirs(out, exist_ok=True)
    run(["node", os.path.join(ROOT, "tools", "ort_run.js"), model, "--input", x_npy, "--out", out, "--threads", "2"])
    files = [f for f in os.listdir(out) if f.endswith(".npy")]
    if len(files) != 1:
        raise SystemExit(f"{tag}: expected one ORT output, got {files}")
    return np.load(os.path.join(out, files[0])).astype(np.float64)


def near_tie(logits, k=2, rel=1e-4):
    """True when the top-1 decision is closer than numerical noise."""
    s = np.sort(logits)[::-1]
    return (s[0] - s[1]) <= rel * max(1.0, abs(s[0]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--convfix", required=True)
    ap.add_argument("--models-dir", required=True, help="tools/gen_torchvision.py cache (mobilenet_v2/model.onnx)")
    ap.add_argument("--clip-max", type=float, default=2.0, help="the target's Clip bound (6 in the source)")
    ap.add_argument("--via-clip-max", type=float, default=3.0, help="the via model's Clip bound")
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    args = ap.parse_args()

    src = os.path.join(args.models_dir, "mobilenet_v2", "model.onnx")
    if not os.path.exists(src):
        skip(f"{src} missing (run tools/gen_torchvision.py --models mobilenet_v2)")
    if not os.path.isdir(os.path.join(ROOT, "node_modules", "onnxruntime-node")):
        skip("onnxruntime-node is not installed")
    photos = [(d, n) for d, n in PHOTOS if os.path.exists(os.path.join(d, n))]
    if len(photos) < 20:
        skip("photos missing (python3-skimage, opencv-doc)")

    work = tempfile.mkdtemp(prefix="convfix-compare-")
    try:
        img_dir = os.path.join(work, "photos")
        os.makedirs(img_dir)
        for d, n in photos:
            shutil.copy(os.path.join(d, n), os.path.join(img_dir, n))
        f16, via, faulty, small, odd, clip_node = make_variants(src, work, args.clip_max, args.via_clip_max)
        env = dict(os.environ, CONVFIX_CACHE_DIR=os.path.join(work, "cache"))

        # convfix compare, twice (the second run from the cache).
        out_json = os.path.join(work, "compare.json")
        cmd = [args.convfix, "compare", src, faulty, "--via", via, "--images", img_dir, "--batch", "8",
               "--threads", "2", "--json", out_json]
        p = run(cmd, env=env)
        print(p.stdout)
        j = json.load(open(out_json))
        p2 = run(cmd[:-1] + [out_json + ".2"], env=env)
        j2 = json.load(open(out_json + ".2"))

        # Independent reference on the same input tensors.
        inputs = os.path.join(work, "inputs")
        run([args.convfix, "run", src, "--images", img_dir, "--save-inputs", inputs, "--json"])
        names = sorted(os.listdir(img_dir))
        x = np.concatenate([np.load(os.path.join(inputs, n + ".npy")) for n in names])
        x_npy = os.path.join(work, "x.npy")
        np.save(x_npy, x.astype(np.float32))
        ref = [ort_logits(m, x_npy, work, t) for m, t in [(src, "src"), (via, "via"), (faulty, "faulty"), (f16, "f16")]]

        n = len(names)
        check(j["schema_version"] == 1, "schema_version is 1")
        check(j["image_count"] == n and len(j["images"]) == n, f"{n} images in the JSON")
        check([os.path.basename(r["file"]) for r in j["images"]] == names, "images in sorted order")
        with open(src, "rb") as fh:
            check(j["models"][0]["sha256"] == hashlib.sha256(fh.read()).hexdigest(), "model sha256 = hashlib's")
        check([m["role"] for m in j["models"]] == ["source", "via", "target"], "roles")

        top1 = [r.argmax(axis=1) for r in ref]
        ties = [set(i for i in range(n) if near_tie(r[i])) for r in ref]
        unsure = ties[0] | ties[1] | ties[2]
        # Pair source-target.
        pair = j["pairs"][0]
        check(pair["kind"] == "source-target" and pair["a"] == 0 and pair["b"] == 2, "pairs[0] is source-target")
        ref_disc = [i for i in range(n) if top1[0][i] != top1[2][i]]
        cf_disc = [i for i, r in enumerate(j["images"]) if r["top1_agree"] is False]
        diff = set(ref_disc) ^ set(cf_disc)
        check(diff <= unsure, f"discrepant images differ from ONNX Runtime's beyond near-ties: {sorted(diff - unsure)}")
        ref_rate = len(ref_disc) / n
        print(f"discrepancy rate source->target: convfix {pair['discrepancy_rate']:.4f} "
              f"({pair['discrepant_images']}/{n}), ONNX Runtime {ref_rate:.4f} ({len(ref_disc)}/{n}); "
              f"clip node '{clip_node}' max -> {args.clip_max}")
        check(abs(pair["discrepancy_rate"] - ref_rate) <= len(unsure) / n + 1e-12, "discrepancy rate = ORT's")
        check(len(ref_disc) > 0, "the flipped Clip bound changes at least one label (else the test proves little)")
        check(len(ref_disc) < n, "... but not every label")

        # Per-image top-5 and tau, where ORT's top-5 lists are the same as convfix's.
        taus_checked = 0
        for i in range(n):
            lists = []
            for m in range(3):
                cf = [e["index"] for e in j["images"][i]["top"][m]]
                orl = topk(ref[m][i], 5)
                lists.append((cf, orl))
            if all(cf == orl for cf, orl in lists):
                want = tau_topk(lists[0][1], lists[2][1])
                check(abs(want - tau_scipy(lists[0][1], lists[2][1])) < 1e-12, f"image {i}: tau = scipy's")
                check(abs(j["images"][i]["tau"] - want) < 1e-9, f"image {names[i]}: tau {j['images'][i]['tau']} != {want}")
                taus_checked += 1
                probs = softmax(ref[0][i:i + 1])[0]
                cf_scores = [e["score"] for e in j["images"][i]["top"][0]]
                check(np.allclose(cf_scores, probs[lists[0][1]], atol=2e-4), f"image {names[i]}: softmax scores")
        print(f"tau checked on {taus_checked}/{n} images (the rest have a near-tie at rank 5)")
        check(taus_checked >= 0.8 * n, "tau checked on at least 80% of the images")

        # Error statistics (logits), against ORT's.
        for pj in j["pairs"]:
            a, b = ref[pj["a"]], ref[pj["b"]]
            d = np.abs(a - b)
            o = pj["outputs"][0]
            scale = np.abs(ref[0]).max()
            check(abs(o["max_abs_diff"] - d.max()) <= 1e-3 * scale + 0.02 * d.max(),
                  f"pair {pj['a']}-{pj['b']}: max|diff| {o['max_abs_diff']} vs ORT {d.max()}")
            check(abs(o["mean_abs_diff"] - d.mean()) <= 1e-4 * scale + 0.02 * d.mean(),
                  f"pair {pj['a']}-{pj['b']}: mean|diff| {o['mean_abs_diff']} vs ORT {d.mean()}")
            check(abs(o["max_abs_a"] - np.abs(a).max()) <= 1e-4 * scale, f"pair {pj['a']}-{pj['b']}: max|a|")
            print(f"pair {pj['kind']} {pj['a']}->{pj['b']}: discrepancy {pj['discrepancy_rate']:.3f}, "
                  f"max|diff| {o['max_abs_diff']:.4g} (ORT {d.max():.4g}), mean|diff| {o['mean_abs_diff']:.4g} "
                  f"(ORT {d.mean():.4g}), tau mean {pj['tau']['mean']:.3f}")

        # Chain table: the first model whose top-1 differs from the source's.
        rows = {r["image"]: r for r in j["chain"]["rows"]}
        for i in ref_disc:
            if i in unsure:
                continue
            want = 1 if top1[1][i] != top1[0][i] else 2
            check(i in rows and rows[i]["first_changed"] == want, f"chain row for {names[i]}: first changed {want}")
        counts = j["chain"]["first_changed_counts"]
        print(f"chain: first changed at via {counts[1]}, at target {counts[2]}")
        check(counts[1] + counts[2] == pair["discrepant_images"], "every discrepant image has a chain row")

        # Cache: the second run computed nothing and agrees.
        check(all(m["computed"] == 0 and m["cache_hits"] == n for m in j2["models"]), "second run served from the cache")
        check(all(m["computed"] == n for m in j["models"]), "first run computed every output")
        check(j["pairs"] == j2["pairs"] and j["images"] == j2["images"], "cached run gives identical results")
        check(p.stdout == p2.stdout.replace(f"{3 * n} from the cache", "0 from the cache").replace(
            "outputs: 0 computed", f"outputs: {3 * n} computed"), "cached run prints the same summary")

        # Faithful pair: a model against a byte copy of itself.
        copy = os.path.join(work, "copy.onnx")
        shutil.copy(src, copy)
        p = run([args.convfix, "compare", src, copy, "--images", img_dir, "--json", out_json], env=env)
        jj = json.load(open(out_json))
        check(jj["discrepancy_rate"] == 0 and jj["pairs"][0]["outputs"][0]["max_abs_diff"] == 0,
              "a model against its copy: no discrepancy")
        # Weights rounded to float16: error statistics and (usually no) label changes, against ORT.
        run([args.convfix, "compare", src, f16, "--images", img_dir, "--threads", "2", "--json", out_json], env=env)
        jf = json.load(open(out_json))
        d = np.abs(ref[0] - ref[3])
        o = jf["pairs"][0]["outputs"][0]
        ref_rate = float(np.mean(top1[0] != top1[3]))
        print(f"f16 rounding: discrepancy convfix {jf['discrepancy_rate']:.4f} ORT {ref_rate:.4f}; "
              f"max|diff| {o['max_abs_diff']:.4g} (ORT {d.max():.4g}), mean|diff| {o['mean_abs_diff']:.4g} "
              f"(ORT {d.mean():.4g})")
        check(abs(jf["discrepancy_rate"] - ref_rate) <= len(unsure | ties[3]) / n + 1e-12, "f16: discrepancy = ORT's")
        check(abs(o["max_abs_diff"] - d.max()) <= 0.05 * d.max() + 1e-4, "f16: max|diff| = ORT's within 5%")
        check(abs(o["mean_abs_diff"] - d.mean()) <= 0.05 * d.mean() + 1e-5, "f16: mean|diff| = ORT's within 5%")
        check(jf["models"][0]["cache_hits"] == n, "f16 run: the source outputs came from the cache")
        check(run([args.convfix, "compare", src, faulty, "--images", img_dir, "--fail-on-discrepancy"], env=env,
                  expect=None).returncode == 1, "--fail-on-discrepancy exits 1")

        # Bad input: one line on stderr, exit 2, never a crash.
        def bad(cmd, must, label):
            r = run(cmd, env=env, expect=None)
            lines = r.stderr.strip().splitlines()
            ok = r.returncode == 2 and len(lines) == 1 and lines[0].startswith("convfix: error:") and all(
                s in lines[0] for s in must)
            check(ok, f"bad input ({label}): exit {r.returncode}, stderr {r.stderr.strip()!r}")

        bad([args.convfix, "compare", src, faulty, "--images", os.path.join(work, "nope")], ["nope"], "missing folder")
        junk = os.path.join(work, "junk")
        os.makedirs(junk)
        shutil.copy(os.path.join(img_dir, names[0]), junk)
        with open(os.path.join(junk, "zz_notes.jpg"), "w") as fh:
            fh.write("this is not a photograph\n")
        bad([args.convfix, "compare", src, faulty, "--images", junk], ["zz_notes.jpg"], "non-image file")
        one = os.path.join(work, "one")
        os.makedirs(one)
        shutil.copy(os.path.join(img_dir, names[0]), one)
        bad([args.convfix, "compare", src, small, "--images", one], ["input192.onnx"], "input shapes differ")
        bad([args.convfix, "compare", src, odd, "--images", one], ["odd_op.onnx", "FrobnicateTensor", "frob1"],
            "unsupported op")
        bad([args.convfix, "compare", src, os.path.join(work, "missing.onnx"), "--images", one],
            ["missing.onnx"], "missing model")
    finally:
        if args.keep:
            print("work folder:", work)
        else:
            shutil.rmtree(work, ignore_errors=True)

    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
