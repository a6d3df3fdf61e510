#!/usr/bin/python3
"""check_config_patch.py — config patching of the Keras / TF.js layers-model writers.

  check_config_patch.py KERAS_PATCH_TOOL REPO

A small network (Conv2D valid/relu/no bias, BatchNormalization, Conv2D same/
linear, MaxPooling2D, DepthwiseConv2D relu6, GlobalAveragePooling2D, Dense
relu without bias, Dense softmax) is written by hand with h5py following the
Keras layouts (tools/gen_keras_models.py) as Keras 2 HDF5, Keras 3 .keras,
architecture JSON + weights HDF5 and a TF.js layers-model. Each edit of the IR
is written back in every flavour by keras_patch_tool, which re-reads the file
and checks the same nodes and outputs; here the written config is checked for
the Keras field the edit means, and the written TF.js model is run in the
TF.js runtime against the edited graph's outputs (<= 1e-4 x max|ref|).
Unexpressible edits must be refused (exit 3) naming the node and attribute.
Exit 77 (skip) when node, @tensorflow/tfjs or h5py are missing.
"""
import glob
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

try:
    import h5py
    import numpy as np
except ImportError as e:
    print("SKIP: %s (Debian python3-numpy / python3-h5py)" % e)
    sys.exit(77)

TOOL, REPO = sys.argv[1:3]
TFJS_RUN = os.path.join(REPO, "tests", "tfjs", "tfjs_layers_run.js")
if not shutil.which("node") or not os.path.isdir(os.path.join(REPO, "node_modules", "@tensorflow", "tfjs")):
    print("SKIP: node or node_modules/@tensorflow/tfjs missing (npm install --ignore-scripts)")
    sys.exit(77)
spec = importlib.util.spec_from_file_location("gen_keras_models", os.path.join(REPO, "tools", "gen_keras_models.py"))
gen = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gen)
failures = []


def patch_net():
    n = gen.Net("patch_net")
    w = gen.w
    x = n.input("image", [10, 10, 3])
    x = n.add("Conv2D", "c1", x, {"filters": 4, "kernel_size": [3, 3], "strides": [1, 1], "padding": "valid", "data_format": "channels_last",
                                   "dilation_rate": [1, 1], "activation": "relu", "use_bias": False}, [("kernel", w(3, 3, 3, 4))])
    x = n.add("BatchNormalization", "bn", x, {"axis": -1, "momentum": 0.99, "epsilon": 0.001, "center": True, "scale": True},
              [("gamma", w(4) + 1), ("beta", w(4)), ("moving_mean", w(4)), ("moving_variance", np.abs(w(4)) * 0.01 + 0.001)])
    x = n.add("Conv2D", "c2", x, {"filters": 6, "kernel_size": [3, 3], "strides": [1, 1], "padding": "same", "data_format": "channels_last",
                                   "dilation_rate": [1, 1], "activation": "linear", "use_bias": True}, [("kernel", w(3, 3, 4, 6)), ("bias", w(6))])
    x = n.add("MaxPooling2D", "mp", x, {"pool_size": [2, 2], "padding": "valid", "strides": [2, 2], "data_format": "channels_last"})
    x = n.add("DepthwiseConv2D", "dw", x, {"kernel_size": [3, 3], "strides": [1, 1], "padding": "same", "depth_multiplier": 1,
                                           "data_format": "channels_last", "dilation_rate": [1, 1], "activation": "relu6", "use_bias": True},
              [("depthwise_kernel", w(3, 3, 6, 1) * 4), ("bias", w(6))])
    x = n.add("GlobalAveragePooling2D", "gap", x, {"data_format": "channels_last"})
    x = n.add("Dense", "d", x, {"units": 5, "activation": "relu", "use_bias": False}, [("kernel", w(6, 5) + 0.3)])
    x = n.add("Dense", "out", x, {"units": 3, "activation": "softmax", "use_bias": True}, [("kernel", w(5, 3)), ("bias", w(3))])
    n.outputs = [(x, 0)]
    return n


def run(cmd):
    return subprocess.run(cmd, capture_output=True, text=True)


def config_of(path):
    """The model config JSON of a written file (any flavour)."""
    if os.path.isdir(path):
        return json.load(open(os.path.join(path, "model.json")))["modelTopology"]["model_config"]
    if path.endswith(".json"):
        return json.load(open(path))
    if zipfile.is_zipfile(path):
        return json.loads(zipfile.ZipFile(path).read("config.json"))
    with h5py.File(path, "r") as f:
        c = f.attrs["model_config"]
        return json.loads(c.decode() if isinstance(c, bytes) else c)


def layer_cfg(path, name):
    """A layer's config; "model/layer" for a layer of a nested model."""
    layers = config_of(path)["config"]["layers"]
    for part in name.split("/")[:-1]:
        layers = [l for l in layers if l.get("name", l["config"].get("name")) == part][0]["config"]["layers"]
    for l in layers:
        if l.get("name", l["config"].get("name")) == name.split("/")[-1]:
            return l["config"]
    raise KeyError(name)


def weight_names(path, layer):
    """A written layer's weight names (h5 weight_names, .keras vars, TF.js manifest)."""
    if os.path.isdir(path):
        mj = json.load(open(os.path.join(path, "model.json")))
        return [w["name"] for g in mj["weightsManifest"] for w in g["weights"] if w["name"].startswith(layer + "/")]
    if path.endswith(".json"):
        path = path[:-5] + ".weights.h5"
        with h5py.File(path, "r") as f:
            return [n.decode() for n in f[layer].attrs["weight_names"]]
    if zipfile.is_zipfile(path):
        tmp = path + ".w.h5"
        open(tmp, "wb").write(zipfile.ZipFile(path).read("model.weights.h5"))
        with h5py.File(tmp, "r") as f:
            names = sorted(f["layers"][layer]["vars"].keys())
        os.remove(tmp)
        return names
    with h5py.File(path, "r") as f:
        return [n.decode() for n in f["model_weights"][layer].attrs["weight_names"]]


def tfjs_outputs(model_json, x, out):
    r = run(["node", TFJS_RUN, model_json, x, out])
    if r.returncode != 0:
        raise RuntimeError("TF.js runtime failed on %s: %s" % (model_json, r.stderr.strip()[-400:]))
    return [np.load(f) for f in sorted(glob.glob(os.path.join(out, "output_*.npy")))]


# (net, label, edits, {layer: {config field: expected value}}, bias layers[, {flavour refusing it: error must hold}])
CASES = [
    ("patch_net", "padding valid->same (auto_pad)", ["str:c1:auto_pad=SAME_UPPER"], {"c1": {"padding": "same"}}, []),
    ("patch_net", "padding valid->same (explicit pads)", ["pads:c1=1,1,1,1"], {"c1": {"padding": "same"}}, []),
    ("patch_net", "padding same->valid (zero pads)", ["pads:c2=0,0,0,0"], {"c2": {"padding": "valid"}}, []),
    ("patch_net", "strides 1->2", ["attr:c2:strides=2,2"], {"c2": {"strides": [2, 2]}}, []),
    ("patch_net", "dilation 1->2", ["attr:c1:dilations=2,2"], {"c1": {"dilation_rate": [2, 2]}}, []),
    ("patch_net", "BN epsilon 1e-3 -> 0.01", ["const:bn/epsilon=0.01"], {"bn": {"epsilon": 0.01}}, []),
    ("patch_net", "activation relu->relu6", ["relu6:c1/relu"], {"c1": {"activation": "relu6"}}, []),
    ("patch_net", "activation relu6->relu", ["op:dw/relu6=Relu"], {"dw": {"activation": "relu"}}, []),
    ("patch_net", "activation relu->linear (Dense)", ["bypass:d/relu"], {"d": {"activation": "linear"}}, []),
    ("patch_net", "activation linear->sigmoid (new node)", ["insert:c2/to_nhwc=Sigmoid"], {"c2": {"activation": "sigmoid"}}, []),
    ("patch_net", "pooling 2/2 valid -> 3/1 same", ["attr:mp:kernel_shape=3,3", "attr:mp:strides=1,1", "str:mp:auto_pad=SAME_UPPER"],
     {"mp": {"pool_size": [3, 3], "strides": [1, 1], "padding": "same"}}, []),
    ("patch_net", "bias added (Conv2D)", ["bias:c1=4"], {"c1": {"use_bias": True}}, ["c1"]),
    ("patch_net", "bias added (Dense)", ["bias:d=5"], {"d": {"use_bias": True}}, ["d"]),
    ("patch_net", "all at once", ["str:c1:auto_pad=SAME_UPPER", "relu6:c1/relu", "bias:c1=4", "const:bn/epsilon=0.005", "attr:c2:strides=2,2",
                                  "op:dw/relu6=Relu", "bypass:d/relu"],
     {"c1": {"padding": "same", "activation": "relu6", "use_bias": True}, "bn": {"epsilon": 0.005}, "c2": {"strides": [2, 2]},
      "dw": {"activation": "relu"}, "d": {"activation": "linear"}}, ["c1"]),
    ("conv_net", "SeparableConv2D dilation 1->2", ["attr:sep/depthwise:dilations=2,2"], {"sep": {"dilation_rate": [2, 2]}}, []),
    ("conv_net", "Conv2DTranspose activation sigmoid->relu", ["op:deconv/sigmoid=Relu"], {"deconv": {"activation": "relu"}}, []),
    ("conv_net", "Conv2D activation elu->linear", ["bypass:conv_dil/elu"], {"conv_dil": {"activation": "linear"}}, []),
    ("conv_net", "AveragePooling2D pool 2->3", ["attr:avgpool:kernel_shape=3,3"], {"avgpool": {"pool_size": [3, 3]}}, []),
    ("conv_net", "Activation layer softplus->tanh", ["op:act_softplus=Tanh"], {"act_softplus": {"activation": "tanh"}}, []),
    ("dense_net", "ReLU max_value 1.5 -> none", ["op:relu_full=Relu"], {"relu_full": {"max_value": None}}, []),
    ("dense_net", "ReLU max_value 1.5 -> 0.5", ["const:relu_full/max=0.5"], {"relu_full": {"max_value": 0.5}}, []),
    # TF.js: tfjs-layers 4.9's ReLU ignores negative_slope, its ELU refuses alpha != 1: refused there.
    ("dense_net", "ReLU -> negative_slope 0.1", ["op:relu_full=LeakyRelu", "float:relu_full:alpha=0.1"],
     {"relu_full": {"negative_slope": 0.1, "max_value": None}}, [], {"TF.js": ["'relu_full'", "LeakyRelu"]}),
    ("dense_net", "ELU alpha 1 -> 0.5 (config check only)", ["float:elu:alpha=0.5"], {"elu": {"alpha": 0.5}}, [], {"TF.js": ["'elu'", "alpha"]}),
    # tfjs-layers 4.9: "Softmax along a non-last dimension is not yet supported".
    ("dense_net", "Softmax axis -1 -> 0", ["int:softmax:axis=0"], {"softmax": {"axis": 0}}, [], {"TF.js": ["'softmax'", "axis"]}),
    ("dense_net", "LayerNormalization epsilon -> 0.5", ["const:ln/epsilon=0.5"], {"ln": {"epsilon": 0.5}}, []),
    ("dense_net", "Dense activation selu->tanh", ["op:d1/selu=Tanh"], {"d1": {"activation": "tanh"}}, []),
    # A layer of a nested Sequential called twice: both calls edited.
    ("misc_net", "nested shared Conv2D relu->sigmoid (both calls)", ["op:tower_conv/relu=Sigmoid", "op:tower_conv/call1/relu=Sigmoid"],
     {"tower/tower_conv": {"activation": "sigmoid"}}, []),
    ("misc_net", "nested shared Conv2D, one call edited", ["relu6:tower_conv/relu"], {}, [],
     {fl: ["'tower_conv/call1/relu'", "Relu"] for fl in ("TF.js", "HDF5", "arch JSON")}),
]
# (label, edits, strings the one-line error must hold)
REFUSED = [
    ("asymmetric pads no padding value gives", ["pads:c1=2,0,0,1"], ["'c1'", "pads"]),
    ("a new node after a pooling layer", ["insert:mp/to_nhwc=Tanh"], ["Tanh", "mp/to_nhwc/inserted"]),
    ("an op changed inside BatchNormalization", ["op:bn/std=Exp"], ["'bn/std'", "Exp"]),
    ("a bias removed", ["inputs:c2=2"], ["'c2'", "inputs"]),
    ("Softmax activation axis 0", ["int:out/softmax:axis=0"], ["'out/softmax'", "axis"]),
    ("Clip(0, 4) as a Conv2D activation", ["relu6:c1/relu", "const:c1/relu/hi=4"], ["'c1/relu'", "Clip"]),
]
# Shared models (../shared/models): (file, input shape, edits, {layer: {field: value}})
SHARED = [
    ("tfjs_layers/tiny_mnist_cnn/model.json", (2, 28, 28, 1), ["relu6:conv2d/relu", "const:batch_normalization/epsilon=0.01",
                                                              "attr:max_pooling2d:kernel_shape=3,3"],
     {"conv2d": {"activation": "relu6"}, "batch_normalization": {"epsilon": 0.01}, "max_pooling2d": {"pool_size": [3, 3]}}),
    ("keras/tiny_mnist_cnn.h5", (2, 28, 28, 1), ["relu6:conv2d/relu", "const:batch_normalization/epsilon=0.01"],
     {"conv2d": {"activation": "relu6"}, "batch_normalization": {"epsilon": 0.01}}),
    ("keras/mlperftiny_ic_resnet8_cifar10.h5", (1, 32, 32, 3), ["relu6:activation", "const:batch_normalization_1/epsilon=0.01", "pads:conv2d=1,1,1,1"],
     {"activation": {"activation": "relu6"}, "batch_normalization_1": {"epsilon": 0.01}, "conv2d": {"padding": "same"}}),
]


def check_written(tag, out, od, x, fields, biased, tfjs_file):
    """Runs the tool's result checks: config fields, bias weights, TF.js runtime."""
    bad = []
    for layer, kv in fields.items():
        cfg = layer_cfg(out, layer)
        for key, want in kv.items():
            got = cfg.get(key)
            if not (got == want or (isinstance(want, float) and isinstance(got, float) and abs(got - want) <= 1e-7 * abs(want))):
                bad.append("%s.%s = %r, want %r" % (layer, key, got, want))
    for layer in biased:
        if not any(n.endswith("/bias") or n.endswith("/bias:0") or n == "1" for n in weight_names(out, layer)):
            bad.append("%s: no bias weight written (%s)" % (layer, weight_names(out, layer)))
    msg = ""
    if tfjs_file:
        ref = [np.load(f) for f in sorted(glob.glob(os.path.join(od, "edited_*.npy")))]
        try:
            got = tfjs_outputs(os.path.join(out, "model.json"), x, od + "_js")
        except RuntimeError as e:
            bad.append(str(e))
            got = []
        for a, b in zip(got, ref):
            err = float(np.abs(a.reshape(b.shape) - b).max())
            scale = float(np.abs(b).max())
            msg += "; TF.js runtime vs edited graph max|err| %.3g (max|ref| %.3g)" % (err, scale)
            if err > 1e-4 * max(scale, 1e-30):
                bad.append("TF.js runtime output differs from the edited graph: %.3g > 1e-4 x %.3g" % (err, scale))
    if bad:
        failures.append("%s: %s" % (tag, "; ".join(bad)))
    return bad, msg


def expect_refusal(tag, r, must, out):
    lines = [l for l in r.stderr.strip().split("\n") if l]
    ok = r.returncode == 3 and len(lines) == 1 and all(m in lines[0] for m in must) and not os.path.exists(out)
    print("%s exit %d %s %s" % (tag, r.returncode, lines[0] if lines else "", "ok" if ok else "FAIL"))
    if not ok:
        failures.append("%s: exit %d, stderr %r (want exit 3, one line holding %s, no file)" % (tag, r.returncode, r.stderr, must))


def write_all(net, d, keras3=True):
    """The net in every flavour (gen_keras_models' .keras writer lays out flat models only)."""
    os.makedirs(d)
    gen.write_tfjs(net, os.path.join(d, "tfjs"))
    gen.write_h5(net, os.path.join(d, "model.h5"))
    gen.write_arch_and_weights(net, d)
    fl = [("TF.js", os.path.join(d, "tfjs", "model.json"), "js"), ("HDF5", os.path.join(d, "model.h5"), "p.h5"),
          ("arch JSON", os.path.join(d, "arch.json"), "p.json")]
    if keras3:
        gen.write_keras3(net, os.path.join(d, "model.keras"))
        fl.append((".keras", os.path.join(d, "model.keras"), "p.keras"))
    return fl


def main():
    tmp = tempfile.mkdtemp(prefix="convfix-cfgpatch-")
    try:
        nets = {}
        for name, make in (("patch_net", lambda: (patch_net(), [np.random.RandomState(5).standard_normal((2, 10, 10, 3)).astype(np.float32)])),
                           ("conv_net", gen.conv_net), ("dense_net", gen.dense_net), ("misc_net", gen.misc_net)):
            net, inputs = make()
            d = os.path.join(tmp, name)
            flavours = write_all(net, d, keras3=name != "misc_net")
            xs = []
            for i, a in enumerate(inputs):
                xs.append(os.path.join(d, "x%d.npy" % i))
                np.save(xs[-1], a)
            x = ",".join(xs)
            base = os.path.join(d, "base")
            r = run([TOOL, os.path.join(d, "model.h5"), os.path.join(d, "base.h5"), x, base])
            if r.returncode != 0:
                failures.append("%s: unedited write failed: %s" % (name, r.stderr.strip()))
            elif config_of(os.path.join(d, "base.h5")) != config_of(os.path.join(d, "model.h5")):
                failures.append("%s: an unedited write changed the HDF5 model_config" % name)
            nets[name] = (flavours, x, os.path.join(base, "edited_0.npy"))
        checked = 0
        # No false refusals: every gen_keras_models.py fixture, unedited, in every flavour it has.
        r = run(["/usr/bin/python3", os.path.join(REPO, "tools", "gen_keras_models.py"), os.path.join(tmp, "gen")])
        for d in sorted(glob.glob(os.path.join(tmp, "gen", "*", ""))):
            ins = ",".join(sorted(glob.glob(os.path.join(d, "input_*.npy"))))
            for src in ("tfjs/model.json", "model.h5", "model.keras", "arch.json", "tfjs_q/model.json"):
                if not os.path.exists(os.path.join(d, src)):
                    continue
                out = os.path.join(d, "w_" + src.replace("/", "_").replace("model_json", "js"))
                r = run([TOOL, os.path.join(d, src), out, ins, out + "_o"])
                tag = "%-42s %-9s" % ("unedited " + os.path.basename(d[:-1]), src)
                print(tag, "ok" if r.returncode == 0 else "FAIL", (r.stdout + r.stderr).strip())
                if r.returncode != 0:
                    failures.append("%s: %s" % (tag, (r.stdout + r.stderr).strip()))
                checked += 1
        for k, (net, label, edits, fields, biased, *refusing) in enumerate(CASES):
            refusing = refusing[0] if refusing else {}
            flavours, x, orig = nets[net]
            for fl, src, out_name in flavours:
                out = os.path.join(tmp, "c%d" % k, out_name)
                od = os.path.join(tmp, "c%d" % k, "o_" + out_name.replace(".", "_"))
                os.makedirs(os.path.dirname(out), exist_ok=True)
                r = run([TOOL, src, out, x, od] + edits)
                tag = "%-42s %-9s" % (label, fl)
                if fl in refusing:
                    expect_refusal(tag, r, refusing[fl], out)
                    continue
                if r.returncode != 0:
                    failures.append("%s: exit %d: %s" % (tag, r.returncode, (r.stderr + r.stdout).strip()))
                    print(tag, "FAIL", (r.stderr + r.stdout).strip())
                    continue
                bad, msg = check_written(tag, out, od, x, fields, biased, fl == "TF.js")
                print(tag, "FAIL" if bad else "ok", r.stdout.strip() + msg)
                checked += 1
                if fl == "HDF5" and "config check only" not in label:
                    # The edit must change something: its outputs differ from the original's.
                    e, o = np.load(os.path.join(od, "edited_0.npy")), np.load(orig)
                    if e.shape == o.shape and np.abs(e - o).max() < 1e-7:
                        failures.append("%s: the edit does not change the outputs (vacuous case)" % label)
        flavours, x, _ = nets["patch_net"]
        for k, (label, edits, must) in enumerate(REFUSED):
            for fl, src, out_name in flavours:
                out = os.path.join(tmp, "r%d" % k, out_name)
                os.makedirs(os.path.dirname(out), exist_ok=True)
                r = run([TOOL, src, out, x, os.path.join(tmp, "r%d" % k, "o")] + edits)
                expect_refusal("%-42s %-9s" % (label, fl), r, must, out)
        shared = os.path.join(REPO, "..", "shared", "models")
        if not os.path.isdir(shared):
            print("note: %s missing; shared-model checks skipped" % shared)
        for k, (rel, shape, edits, fields) in enumerate(SHARED if os.path.isdir(shared) else []):
            src = os.path.join(shared, rel)
            x = os.path.join(tmp, "s%d.npy" % k)
            np.save(x, np.random.RandomState(k).rand(*shape).astype(np.float32))
            js = rel.endswith("model.json")
            out = os.path.join(tmp, "s%d" % k, "js" if js else os.path.basename(rel))
            od = os.path.join(tmp, "s%d" % k, "o")
            os.makedirs(os.path.dirname(out), exist_ok=True)
            r = run([TOOL, src, out, x, od] + edits)
            tag = "%-42s %-9s" % ("shared " + rel, "")
            if r.returncode != 0:
                failures.append("%s: exit %d: %s" % (tag, r.returncode, (r.stderr + r.stdout).strip()))
                print(tag, "FAIL", (r.stderr + r.stdout).strip())
                continue
            bad, msg = check_written(tag, out, od, x, fields, [], js)
            print(tag, "FAIL" if bad else "ok", r.stdout.strip() + msg)
            checked += 1
        print("%d written models checked" % checked)
    except RuntimeError as e:
        failures.append(str(e))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print("\nFAILED:\n  " + "\n  ".join(failures))
        sys.exit(1)
    print("all config-patch checks passed")


if __name__ == "__main__":
    main()
