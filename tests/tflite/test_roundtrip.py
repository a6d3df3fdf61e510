#!/usr/bin/python3
"""Round-trip and edit tests for convfix's TFLite reader and writer, with the
real TFLite runtime as the oracle (tools/tflite_run.js: TFLite's kernels in
WebAssembly, @tensorflow/tfjs-tflite 0.0.1-alpha.10).

Models: every .tflite in ../shared/models/tflite without custom ops (skipped
with a message when ../shared is absent) and the op-coverage models from
tools/gen_tflite_models.py (generated into --work).

  generated   each generated model runs on the runtime and matches its numpy
              reference (checks the fixtures themselves)
  roundtrip   tflite_tool roundtrip: convfix reads, writes, re-reads an
              identical graph (dump, constants' bytes, quantization, notes,
              metadata, signatures, subgraphs); also with constants stored
              after the FlatBuffer (--external; this runtime predates that
              layout, so that file is checked by convfix's re-read only)
  runtime     original and written file give bit-identical outputs on the
              runtime, for random inputs and real photographs (skimage and
              opencv-doc images resized to the input size)
  edits       IR edits written back, checked against numpy on the original's
              outputs: SOFTMAX removed (softmax(new) == old), MUL by 2
              inserted (== 2 x logits, bit-exact), SOFTMAX beta changed,
              last FULLY_CONNECTED zeroed (all classes equal)

Usage: test_roundtrip.py --convfix BUILD/convfix --tool BUILD/tests/tflite_tool
                         --work DIR [--filter REGEX] [--verbose]
Exit: 0 pass, 1 failure, 77 when Node or the npm packages are missing.
"""
import os
import re
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import (NP_DTYPE, Result, fixture_inputs, generate_fixtures, has_custom_ops, inspect,  # noqa: E402
                    input_sets, parse_args, load_photos, run, runtime_available, runtime_info, runtime_run,
                    shared_models)

PHOTO_NAMES = ("astronaut", "chelsea", "baboon")


def to_input(x01, info, quant, rng):
    """Float data in [0, 1] (or None for random) -> the input's dtype."""
    dt = NP_DTYPE[info["dtype"]]
    shape = [max(d, 1) for d in info["shape"]]
    if x01 is None:
        if dt == np.float32:
            return rng.standard_normal(shape).astype(np.float32)
        if dt == np.bool_:
            return rng.integers(0, 2, shape).astype(np.bool_)
        lo, hi = (np.iinfo(dt).min, np.iinfo(dt).max) if dt in (np.int8, np.uint8) else (-5, 6)
        return rng.integers(lo, hi, shape, endpoint=dt in (np.int8, np.uint8)).astype(dt)
    if dt == np.float32:
        return x01.astype(np.float32)
    if quant:
        scale, zp = quant["scale"][0], quant["zero_point"][0]
        info_ = np.iinfo(dt)
        return np.clip(np.round(x01 / scale) + zp, info_.min, info_.max).astype(dt)
    return np.clip(np.round(x01 * 255), np.iinfo(dt).min, np.iinfo(dt).max).astype(dt)


def make_sets(name, model, info, quants, photos, work, extra_inputs=None):
    """[(label, [npy files])]: the model's own inputs (generated), random and photographs."""
    return input_sets(name, info, quants, photos, work, extra_inputs,
                      lambda t, q, rng, pixels: to_input(None if pixels is None else (pixels / 255.0).astype(np.float32),
                                                         t, q, rng))


def input_quant(convfix, model):
    meta = inspect(convfix, model)
    return [v.get("quant") for v in meta["inputs"]] if meta else []


def same_bits(a, b):
    return len(a) == len(b) and all(x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes()
                                    for x, y in zip(a, b))


def softmax(x, beta=1.0):
    z = beta * x.astype(np.float64)
    z -= z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def dequant(q, quant):
    if quant is None:
        return q.astype(np.float64)
    return (q.astype(np.float64) - quant["zero_point"][0]) * quant["scale"][0]


def check_generated(res, gen_dir, manifest, work):
    for name, e in manifest.items():
        if not e["runtime"]:
            continue
        ins = [os.path.join(gen_dir, f"{name}.input_{i}.npy") for i in range(e["inputs"])]
        outs, err = runtime_run(os.path.join(gen_dir, name + ".tflite"), ins, os.path.join(work, "out", name + ".gen"))
        if err:
            res.add("fail", f"generated {name}", f"the runtime refused the fixture: {err}")
            continue
        bad = []
        for i, f in enumerate(e["expect"]):
            if f is None:
                continue
            want = np.load(os.path.join(gen_dir, f))
            got = outs[i]
            if got.shape != want.shape:
                bad.append(f"output {i}: shape {got.shape}, numpy {want.shape}")
                continue
            d = float(np.abs(got.astype(np.float64) - want.astype(np.float64)).max()) if got.size else 0.0
            if d > e["atol"]:
                bad.append(f"output {i}: max |runtime - numpy| = {d:.3g} > {e['atol']:.3g}")
        res.add("fail" if bad else "pass", f"generated {name} vs numpy ({e['what']})", "; ".join(bad))


def check_model(res, a, name, model, photos, work, extra_inputs=None, runtime_expected=True):
    out = os.path.join(work, name + ".rt.tflite")
    r = run([a.tool, "roundtrip", model, out])
    if r.returncode != 0:
        res.add("fail", f"{name} roundtrip", (r.stdout + r.stderr).strip()[:800])
        return
    res.add("pass", f"{name} roundtrip (convfix re-reads an identical graph)")
    ext = os.path.join(work, name + ".ext.tflite")
    r = run([a.tool, "roundtrip", model, ext, "--external"])
    res.add("pass" if r.returncode == 0 else "fail", f"{name} roundtrip with constants after the FlatBuffer",
            (r.stdout + r.stderr).strip()[:800])
    if not runtime_expected:
        res.add("skip", f"{name} runtime", "not runnable by the TFLite runtime (custom op / INT4); convfix round trip only")
        return
    info, err = runtime_info(model)
    if err:
        info2, err2 = runtime_info(out)
        res.add("skip", f"{name} runtime", f"the runtime refuses the original ({err}); the written file "
                + ("loads" if info2 else f"is refused too ({err2})"))
        return
    quants = input_quant(a.convfix, model)
    for label, files in make_sets(name, model, info, quants, photos, work, extra_inputs):
        o1, e1 = runtime_run(model, files, os.path.join(work, "out", name + ".orig"))
        o2, e2 = runtime_run(out, files, os.path.join(work, "out", name + ".rt"))
        if e1 or e2:
            res.add("fail", f"{name} runtime {label}", f"original: {e1 or 'ok'}; written: {e2 or 'ok'}")
            continue
        res.add("pass" if same_bits(o1, o2) else "fail", f"{name} runtime {label}: written file bit-identical",
                "" if same_bits(o1, o2) else "outputs differ")


def check_edits(res, a, name, model, photos, work):
    """Edits on a classifier ending in FULLY_CONNECTED (+ RESHAPE) + SOFTMAX."""
    info, err = runtime_info(model)
    if err:
        return
    j = inspect(a.convfix, model)
    out_quant = j["outputs"][0].get("quant")
    quants = [v.get("quant") for v in j["inputs"]]
    sets = make_sets(name + ".edit", model, info, quants, photos, work)[:3]

    def edited(tag, *edit):
        path = os.path.join(work, f"{name}.{tag}.tflite")
        r = run([a.tool, "edit", model, path] + list(edit))
        if r.returncode != 0:
            res.add("fail", f"{name} edit {tag}", (r.stdout + r.stderr).strip()[:600])
            return None
        return path

    is_float = info["outputs"][0]["dtype"] == "float32"
    logits_m = edited("nosoftmax", "remove-softmax")
    scaled_m = edited("times2", "remove-softmax", "mul-output", "2") if is_float else logits_m
    beta_m = edited("beta05", "set-attr", "@SOFTMAX", "beta", "0.5")
    zero_m = edited("zerofc", "zero-param", "@FULLY_CONNECTED", "1", "zero-param", "@FULLY_CONNECTED", "2")
    if not all([logits_m, scaled_m, beta_m, zero_m]):
        return
    logit_quant = inspect(a.convfix, logits_m)["outputs"][0].get("quant")
    probs_step = out_quant["scale"][0] if out_quant else 0.0
    for label, files in sets:
        o, e0 = runtime_run(model, files, os.path.join(work, "out", "e.orig"))
        lg, e1 = runtime_run(logits_m, files, os.path.join(work, "out", "e.logits"))
        sc, e2 = runtime_run(scaled_m, files, os.path.join(work, "out", "e.scaled"))
        bt, e3 = runtime_run(beta_m, files, os.path.join(work, "out", "e.beta"))
        zr, e4 = runtime_run(zero_m, files, os.path.join(work, "out", "e.zero"))
        if any([e0, e1, e2, e3, e4]):
            res.add("fail", f"{name} edits {label}", "; ".join(x for x in [e0, e1, e2, e3, e4] if x))
            continue
        p = dequant(o[0], out_quant)
        L = dequant(lg[0], logit_quant)
        # Softmax removed: softmax(logits) is the original output (within the output's quantization step).
        tol = 1e-5 if is_float else probs_step * 1.01 + 1e-6
        d = float(np.abs(softmax(L) - p).max())
        res.add("pass" if d <= tol else "fail", f"{name} edit remove SOFTMAX {label}: softmax(new) == old",
                f"max diff {d:.3g} > {tol:.3g}")
        # MUL by 2 inserted after the logits: exactly twice the logits (float models only).
        if is_float:
            ok = sc[0].dtype == lg[0].dtype and np.array_equal(sc[0], lg[0] * np.float32(2))
            res.add("pass" if ok else "fail", f"{name} edit insert MUL 2 {label}: == 2 x logits (bit-exact)")
        # SOFTMAX beta 0.5.
        d = float(np.abs(softmax(L, 0.5) - dequant(bt[0], out_quant)).max())
        tol_b = 1e-5 if is_float else probs_step * 2 + 1e-6
        res.add("pass" if d <= tol_b else "fail", f"{name} edit SOFTMAX beta=0.5 {label}: == softmax(0.5 logits)",
                f"max diff {d:.3g} > {tol_b:.3g}")
        # Last FULLY_CONNECTED weights and bias zeroed: every class gets the same probability.
        z = dequant(zr[0], out_quant)
        n = z.shape[-1]
        tol_z = 1e-6 if is_float else probs_step * 1.01
        d = float(np.abs(z - 1.0 / n).max())
        res.add("pass" if d <= tol_z else "fail", f"{name} edit zero last FULLY_CONNECTED {label}: all classes 1/{n}",
                f"max |p - 1/{n}| = {d:.3g}")


def main():
    a = parse_args(__doc__, tool_required=True)
    ok, why = runtime_available()
    if not ok:
        print("SKIP: " + why)
        return 77
    res = Result(a.verbose)
    os.makedirs(a.work, exist_ok=True)
    gen_dir = os.path.join(a.work, "generated")
    manifest, err = generate_fixtures(gen_dir)
    if err:
        print("FAIL: " + err)
        return 1
    flt = re.compile(a.filter)
    check_generated(res, gen_dir, {k: v for k, v in manifest.items() if flt.search(k)}, a.work)
    photos = load_photos(PHOTO_NAMES)
    if not photos:
        print("note: no photographs found (python3-skimage / opencv-doc); random inputs only")

    for name, e in manifest.items():
        if not flt.search(name):
            continue
        check_model(res, a, name, os.path.join(gen_dir, name + ".tflite"), photos, a.work,
                    fixture_inputs(gen_dir, name, e), e["runtime"] or bool(e.get("divergence")))

    shared = shared_models("real-model round trips")
    for m in shared:
        name = os.path.splitext(os.path.basename(m))[0]
        if not flt.search(name):
            continue
        if has_custom_ops(inspect(a.convfix, m)):
            res.add("skip", f"{name}", "has custom ops")
            continue
        check_model(res, a, name, m, photos, a.work)
        if re.search(r"mlperftiny_(ic|vww|kws)", name):
            check_edits(res, a, name, m, photos, a.work)
    return res.summary()


if __name__ == "__main__":
    sys.exit(main())
