#!/usr/bin/python3
"""check_keras.py — Keras / TF.js layers-model oracle, round-trip and bad-input tests.

  check_keras.py CONVFIX KERAS_TOOL REPO SHARED_MODELS [oracles|roundtrip|badinput]

oracles:   fixtures of tools/gen_keras_models.py (TF.js layers-model, Keras HDF5,
           arch JSON + weights HDF5, .keras, quantized TF.js) and ../shared models
           against the TF.js runtime (tests/tfjs/tfjs_layers_run.js) and the
           TFLite runtime (tools/tflite_run.js): max abs err <= 1e-4 x max|ref|
           (TF.js) and <= 1e-5 x max|ref| (faithful float .tflite conversions).
roundtrip: read -> scale one weight -> write (keras_tool) -> re-read: same
           initializer names, patched outputs equal the TF.js runtime's on the
           patched TF.js file; an unpatched write re-imports to the same outputs.
badinput:  truncated HDF5, missing model_config, kernel shape mismatch, missing
           weight, missing / short shard: exit 2, one stderr line naming the file.
Exit 77 (skip) when node, @tensorflow/tfjs or h5py are missing.
"""
import glob
import os
import shutil
import subprocess
import sys
import tempfile

try:
    import h5py
    import numpy as np
except ImportError as e:
    print("SKIP: %s (Debian python3-numpy / python3-h5py)" % e)
    sys.exit(77)

CONVFIX, TOOL, REPO, SHARED = sys.argv[1:5]
MODE = sys.argv[5] if len(sys.argv) > 5 else "oracles"
TFJS_RUN = os.path.join(REPO, "tests", "tfjs", "tfjs_layers_run.js")
TFLITE_RUN = os.path.join(REPO, "tools", "tflite_run.js")
failures = []


def need_node():
    if not shutil.which("node") or not os.path.isdir(os.path.join(REPO, "node_modules", "@tensorflow", "tfjs")):
        print("SKIP: node or node_modules/@tensorflow/tfjs missing (npm install --ignore-scripts)")
        sys.exit(77)


def run(cmd):
    return subprocess.run(cmd, capture_output=True, text=True)


def tfjs(model_json, inputs, out):
    r = run(["node", TFJS_RUN, model_json, ",".join(inputs), out])
    if r.returncode != 0:
        raise RuntimeError("TF.js runtime failed on %s: %s" % (model_json, r.stderr.strip()[-400:]))
    return [np.load(f) for f in sorted(glob.glob(os.path.join(out, "output_*.npy")), key=lambda p: int(p.split("_")[-1][:-4]))]


def convfix(model, inputs, out):
    cmd = [CONVFIX, "run", model, "--save-outputs", out]
    for i in inputs:
        cmd += ["--input", i]
    r = run(cmd)
    if r.returncode != 0:
        raise RuntimeError("convfix run failed on %s: %s" % (model, r.stderr.strip()))
    # Output files in graph output order: inspect --json lists them.
    import json
    info = json.loads(run([CONVFIX, "inspect", "--json", model]).stdout)
    names = [o["name"] for o in info["outputs"]]
    return [np.load(os.path.join(out, n.replace("/", "_").replace(":", "_") + ".npy")) for n in names]


def compare(label, got, ref, rel):
    if len(got) != len(ref):
        failures.append("%s: %d outputs, reference has %d" % (label, len(got), len(ref)))
        return
    for k, (g, r) in enumerate(zip(got, ref)):
        if g.size != r.size:
            failures.append("%s: output %d has shape %s, reference %s" % (label, k, g.shape, r.shape))
            continue
        err = float(np.abs(g.reshape(r.shape) - r).max())
        scale = float(np.abs(r).max())
        ok = err <= rel * max(scale, 1e-30)
        print("%-58s out%d max|err| %.3g  max|ref| %.3g  rel %.3g  %s" % (label, k, err, scale, err / max(scale, 1e-30), "ok" if ok else "FAIL"))
        if not ok:
            failures.append("%s: output %d rel err %.3g > %g" % (label, k, err / max(scale, 1e-30), rel))


def fixtures(tmp):
    r = run(["/usr/bin/python3", os.path.join(REPO, "tools", "gen_keras_models.py"), tmp])
    if r.returncode != 0:
        print(r.stderr)
        sys.exit(1)
    return sorted(d for d in glob.glob(os.path.join(tmp, "*")) if os.path.isdir(d))


def oracles(tmp):
    need_node()
    for d in fixtures(os.path.join(tmp, "gen")):
        n = os.path.basename(d)
        ins = sorted(glob.glob(os.path.join(d, "input_*.npy")))
        ref = tfjs(os.path.join(d, "tfjs", "model.json"), ins, os.path.join(d, "o_js"))
        compare(n + " tfjs layers-model vs TF.js", convfix(os.path.join(d, "tfjs", "model.json"), ins, os.path.join(d, "o1")), ref, 1e-4)
        if os.path.exists(os.path.join(d, "model.h5")):
            compare(n + " Keras HDF5 vs TF.js", convfix(os.path.join(d, "model.h5"), ins, os.path.join(d, "o2")), ref, 1e-4)
        if os.path.exists(os.path.join(d, "model.keras")):
            compare(n + " .keras (Keras 3) vs TF.js", convfix(os.path.join(d, "model.keras"), ins, os.path.join(d, "o3")), ref, 1e-4)
            compare(n + " arch JSON + weights HDF5 vs TF.js", convfix(os.path.join(d, "arch.json"), ins, os.path.join(d, "o4")), ref, 1e-4)
            refq = tfjs(os.path.join(d, "tfjs_q", "model.json"), ins, os.path.join(d, "o_jsq"))
            compare(n + " quantized (uint8/f16) TF.js vs TF.js", convfix(os.path.join(d, "tfjs_q", "model.json"), ins, os.path.join(d, "o5")), refq, 1e-4)
    if not os.path.isdir(SHARED):
        print("note: %s missing; shared-model checks skipped" % SHARED)
        return
    rng = np.random.RandomState(3)
    x = os.path.join(tmp, "mnist.npy")
    np.save(x, rng.rand(4, 28, 28, 1).astype(np.float32))
    ref = tfjs(os.path.join(SHARED, "tfjs_layers", "tiny_mnist_cnn", "model.json"), [x], os.path.join(tmp, "mn_js"))
    compare("shared tfjs_layers/tiny_mnist_cnn vs TF.js", convfix(os.path.join(SHARED, "tfjs_layers", "tiny_mnist_cnn", "model.json"), [x], os.path.join(tmp, "mn1")), ref, 1e-4)
    compare("P8 keras/tiny_mnist_cnn.h5 vs its TF.js layers-model", convfix(os.path.join(SHARED, "keras", "tiny_mnist_cnn.h5"), [x], os.path.join(tmp, "mn2")), ref, 1e-4)
    for name, shape in (("mlperftiny_ic_resnet8_cifar10", (1, 32, 32, 3)), ("mlperftiny_vww_mobilenetv1_96", (1, 96, 96, 3))):
        for s in range(2):
            xi = os.path.join(tmp, "%s_%d.npy" % (name, s))
            np.save(xi, rng.rand(*shape).astype(np.float32))
            out = os.path.join(tmp, name + "_tfl%d" % s)
            r = run(["node", TFLITE_RUN, os.path.join(SHARED, "tflite", name + "_float.tflite"), xi, out])
            if r.returncode != 0:
                failures.append("TFLite runtime failed on %s: %s" % (name, r.stderr[-300:]))
                continue
            tref = [np.load(f) for f in sorted(glob.glob(os.path.join(out, "output_*.npy")))]
            compare("%s.h5 vs its float .tflite (input %d)" % (name, s), convfix(os.path.join(SHARED, "keras", name + ".h5"), [xi], os.path.join(tmp, name + "_cf%d" % s)), tref, 1e-5)
    # Legacy Keras 2.0.8 HDF5 named .keras: one Add of two inputs.
    a, b = os.path.join(tmp, "wa.npy"), os.path.join(tmp, "wb.npy")
    np.save(a, rng.rand(1, 224, 224, 3).astype(np.float32))
    np.save(b, rng.rand(1, 224, 224, 3).astype(np.float32))
    got = convfix(os.path.join(SHARED, "keras", "winml_keras_Add_legacy_hdf5_with_keras_ext.keras"), [a, b], os.path.join(tmp, "winml"))
    compare("winml legacy-HDF5 .keras (Add) vs numpy a+b", got, [np.load(a) + np.load(b)], 1e-6)


def roundtrip(tmp):
    need_node()
    d = fixtures(os.path.join(tmp, "gen"))[0]  # conv_net
    ins = sorted(glob.glob(os.path.join(d, "input_*.npy")))
    # Reference: the patched TF.js file (written by convfix) in the TF.js runtime.
    r = run([TOOL, "write", os.path.join(d, "tfjs", "model.json"), os.path.join(tmp, "js_patched"), "--scale", "conv_same/kernel", "1.5"])
    if r.returncode != 0:
        failures.append("write_tfjs: " + r.stderr.strip())
        return
    ref = tfjs(os.path.join(tmp, "js_patched", "model.json"), ins, os.path.join(tmp, "o_jsp"))
    compare("TF.js written by convfix: convfix vs TF.js runtime", convfix(os.path.join(tmp, "js_patched", "model.json"), ins, os.path.join(tmp, "o_p0")), ref, 1e-4)
    orig = tfjs(os.path.join(d, "tfjs", "model.json"), ins, os.path.join(tmp, "o_js"))
    if all(np.abs(a - b).max() < 1e-6 for a, b in zip(ref, orig)):
        failures.append("patching conv_same/kernel did not change the outputs (test is vacuous)")
    for src, out, wname in (("model.h5", "patched.h5", "conv_same/kernel:0"), ("model.keras", "patched.keras", "layers/conv_same/vars/0")):
        r = run([TOOL, "write", os.path.join(d, src), os.path.join(tmp, out), "--scale", wname, "1.5"])
        if r.returncode != 0:
            failures.append("write_keras %s: %s" % (src, r.stderr.strip()))
            continue
        compare("%s patched, re-read vs TF.js on patched TF.js" % src, convfix(os.path.join(tmp, out), ins, os.path.join(tmp, "o_" + out)), ref, 1e-4)
        same = os.path.join(tmp, "same_" + src)
        r = run([TOOL, "write", os.path.join(d, src), same])
        a = run([TOOL, "list", os.path.join(d, src)]).stdout
        b = run([TOOL, "list", same]).stdout
        if r.returncode != 0 or a != b or not a:
            failures.append("%s: unpatched write does not re-import with the same initializers" % src)
        ia = run([CONVFIX, "inspect", os.path.join(d, src)]).stdout.split("\n", 1)[1]
        ib = run([CONVFIX, "inspect", same]).stdout.split("\n", 1)[1]
        if ia != ib:
            failures.append("%s: unpatched write re-imports to a different graph summary" % src)
        compare("%s written unpatched, re-read vs TF.js original" % src, convfix(same, ins, os.path.join(tmp, "o_same_" + src)), orig, 1e-4)
    # Writers never write over their input.
    r = run([TOOL, "write", os.path.join(d, "model.h5"), os.path.join(d, "model.h5")])
    if r.returncode != 2:
        failures.append("write_keras over its own input was not refused")


def expect_bad(label, model, must_name, *extra):
    r = run([CONVFIX, "run", model] + list(extra))
    lines = [l for l in r.stderr.strip().split("\n") if l]
    ok = r.returncode == 2 and len(lines) == 1 and must_name in lines[0]
    print("%-50s exit %d  %s  %s" % (label, r.returncode, lines[0] if lines else "", "ok" if ok else "FAIL"))
    if not ok:
        failures.append("%s: exit %d, stderr %r (want exit 2, one line naming %r)" % (label, r.returncode, r.stderr, must_name))


def badinput(tmp):
    d = fixtures(os.path.join(tmp, "gen"))[0]
    x = os.path.join(d, "input_0.npy")
    data = open(os.path.join(d, "model.h5"), "rb").read()
    t = os.path.join(tmp, "truncated.h5")
    open(t, "wb").write(data[: len(data) // 2])
    expect_bad("truncated HDF5", t, "truncated.h5", "--input", x)
    t = os.path.join(tmp, "garbage.h5")
    open(t, "wb").write(b"\x89HDF\r\n\x1a\n" + b"\0" * 100)
    expect_bad("HDF5 magic, garbage body", t, "garbage.h5", "--input", x)
    t = os.path.join(tmp, "no_config.h5")
    shutil.copy(os.path.join(d, "model.h5"), t)
    with h5py.File(t, "a") as f:
        del f.attrs["model_config"]
    expect_bad("missing model_config", t, "model_config", "--input", x)
    t = os.path.join(tmp, "bad_types.h5")
    shutil.copy(os.path.join(d, "model.h5"), t)
    with h5py.File(t, "a") as f:
        f.attrs["model_config"] = b'{"class_name": "Model", "config": {"layers": [{"class_name": 3}]}}'
    expect_bad("model_config with wrong JSON types", t, "bad_types.h5", "--input", x)
    import json as _json
    cyc = os.path.join(tmp, "js_cycle")
    shutil.copytree(os.path.join(d, "tfjs"), cyc)
    mj = _json.load(open(os.path.join(cyc, "model.json")))
    mj["modelTopology"]["model_config"]["config"]["layers"][1]["inbound_nodes"] = [[["logits", 0, 0, {}]]]
    _json.dump(mj, open(os.path.join(cyc, "model.json"), "w"))
    expect_bad("layer graph with a cycle", os.path.join(cyc, "model.json"), "conv_same", "--input", x)
    t = os.path.join(tmp, "bad_shape.h5")
    shutil.copy(os.path.join(d, "model.h5"), t)
    with h5py.File(t, "a") as f:
        g = f["model_weights"]["conv_stride"]
        del g["conv_stride/kernel:0"]
        g.create_dataset("conv_stride/kernel:0", data=np.zeros((3, 3, 4, 5), np.float32))
    expect_bad("kernel shape != config", t, "conv_stride", "--input", x)
    t = os.path.join(tmp, "missing_weight.h5")
    shutil.copy(os.path.join(d, "model.h5"), t)
    with h5py.File(t, "a") as f:
        g = f["model_weights"]["bn"]
        g.attrs["weight_names"] = np.array([b"bn/gamma:0", b"bn/beta:0", b"bn/moving_mean:0"])
    expect_bad("config references a missing weight", t, "bn", "--input", x)
    js = os.path.join(tmp, "js_short")
    shutil.copytree(os.path.join(d, "tfjs"), js)
    shard = os.path.join(js, "group1-shard1of1.bin")
    open(shard, "r+b").truncate(os.path.getsize(shard) - 8)
    expect_bad("TF.js shard too short", os.path.join(js, "model.json"), "model.json", "--input", x)
    os.remove(shard)
    expect_bad("TF.js shard missing", os.path.join(js, "model.json"), "model.json", "--input", x)
    k = os.path.join(tmp, "trunc.keras")
    kd = open(os.path.join(d, "model.keras"), "rb").read()
    open(k, "wb").write(kd[: len(kd) - 30])
    expect_bad("truncated .keras zip", k, "trunc.keras", "--input", x)
    # A Lambda layer imports (inspect exit 0) but cannot run: the message names it.
    import json
    mj = json.load(open(os.path.join(d, "tfjs", "model.json")))
    for l in mj["modelTopology"]["model_config"]["config"]["layers"]:
        if l["name"] == "dropout":
            l["class_name"] = "Lambda"
            l["config"]["function"] = "lambda x: x * 2"
    lam = os.path.join(tmp, "lambda")
    shutil.copytree(os.path.join(d, "tfjs"), lam)
    json.dump(mj, open(os.path.join(lam, "model.json"), "w"))
    r = run([CONVFIX, "inspect", os.path.join(lam, "model.json")])
    if r.returncode != 0:
        failures.append("Lambda layer model does not import: " + r.stderr)
    expect_bad("Lambda layer at run time", os.path.join(lam, "model.json"), "dropout", "--input", x)


def main():
    tmp = tempfile.mkdtemp(prefix="convfix-keras-")
    try:
        {"oracles": oracles, "roundtrip": roundtrip, "badinput": badinput}[MODE](tmp)
    except RuntimeError as e:
        failures.append(str(e))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print("\nFAILED:\n  " + "\n  ".join(failures))
        sys.exit(1)
    print("all %s checks passed" % MODE)


if __name__ == "__main__":
    main()
