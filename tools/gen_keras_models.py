#!/usr/bin/python3
"""gen_keras_models.py — writes small Keras / TF.js layers-model fixtures by
hand (numpy + h5py; no Keras or TensorFlow needed), following the public file
layouts:

  OUT/<name>/tfjs/model.json + group1-shard1of1.bin   TF.js layers-model
  OUT/<name>/model.h5                                 Keras 2 HDF5 (model.save)
  OUT/<name>/input_<i>.npy                            test inputs
and for the first model also
  OUT/<name>/arch.json + arch.weights.h5              architecture JSON + weights-only HDF5
  OUT/<name>/model.keras                              Keras 3 zip (config.json, metadata.json, model.weights.h5)
  OUT/<name>/tfjs_q/                                  the TF.js model with uint8-quantized / float16 weights

Each network is the same in both formats, so the TF.js runtime checks the
Keras readers too. Usage: gen_keras_models.py OUT_DIR
"""
import json
import os
import sys
import zipfile

import h5py
import numpy as np

RNG = np.random.RandomState(7)


def w(*shape, scale=0.5):
    return (RNG.standard_normal(shape) * scale).astype(np.float32)


class Net:
    def __init__(self, name):
        self.name = name
        self.layers = []  # dicts: class_name, name, config, inbound, weights [(short, array)]
        self.inputs = []
        self.outputs = []
        self.shapes = {}

    def input(self, name, shape):
        self.layers.append(dict(class_name="InputLayer", name=name,
                                config={"batch_input_shape": [None] + list(shape), "dtype": "float32", "sparse": False, "name": name},
                                inbound=[], weights=[]))
        self.inputs.append(name)
        self.shapes[name] = shape
        return name

    def add(self, cls, name, ins, config=None, weights=None, calls=None):
        cfg = {"name": name, "trainable": True, "dtype": "float32"}
        cfg.update(config or {})
        ins = ins if isinstance(ins, list) else [ins]
        inbound = [[[i, 0, 0, {}] if isinstance(i, str) else [i[0], i[1], 0, {}] for i in ins]]
        for extra in calls or []:
            inbound.append([[i, 0, 0, {}] for i in extra])
        self.layers.append(dict(class_name=cls, name=name, config=cfg, inbound=inbound, weights=weights or []))
        return name

    def model_config(self):
        return {"class_name": "Model", "config": {
            "name": self.name,
            "layers": [{"class_name": l["class_name"], "config": l["config"], "name": l["name"], "inbound_nodes": l["inbound"]}
                       for l in self.layers],
            "input_layers": [[i, 0, 0] for i in self.inputs],
            "output_layers": [[o, n, 0] for (o, n) in self.outputs]}}

    def all_weights(self):
        """(layer name, full weight name without :0, array) in layer order."""
        out = []
        for l in self.layers:
            for short, arr in l["weights"]:
                full = short if "/" in short else l["name"] + "/" + short
                out.append((l["name"], full, arr))
        return out


def write_tfjs(net, d, quantize=False):
    os.makedirs(d, exist_ok=True)
    specs, data = [], b""
    for i, (_, full, arr) in enumerate(net.all_weights()):
        spec = {"name": full, "shape": list(arr.shape), "dtype": "float32"}
        if quantize and i % 2 == 0:
            mn, mx = float(arr.min()), float(arr.max())
            scale = (mx - mn) / 255.0 if mx > mn else 1.0
            q = np.round((arr - mn) / scale).astype(np.uint8)
            spec["quantization"] = {"dtype": "uint8", "min": mn, "scale": scale}
            data += q.tobytes()
        elif quantize:
            spec["quantization"] = {"dtype": "float16"}
            data += arr.astype(np.float16).tobytes()
        else:
            data += arr.astype("<f4").tobytes()
        specs.append(spec)
    mj = {"format": "layers-model", "generatedBy": "keras v2.4.0", "convertedBy": "convfix gen_keras_models.py",
          "modelTopology": {"keras_version": "2.4.0", "backend": "tensorflow", "model_config": net.model_config()},
          "weightsManifest": [{"paths": ["group1-shard1of1.bin"], "weights": specs}]}
    with open(os.path.join(d, "model.json"), "w") as f:
        json.dump(mj, f)
    with open(os.path.join(d, "group1-shard1of1.bin"), "wb") as f:
        f.write(data)


def write_weights_group(g, net):
    names = [l["name"] for l in net.layers]
    g.attrs["layer_names"] = np.array([n.encode() for n in names])
    g.attrs["backend"] = b"tensorflow"
    g.attrs["keras_version"] = b"2.4.0"
    by_layer = {}
    for layer, full, arr in net.all_weights():
        by_layer.setdefault(layer, []).append((full + ":0", arr))
    for n in names:
        lg = g.create_group(n)
        ws = by_layer.get(n, [])
        lg.attrs["weight_names"] = np.array([a.encode() for a, _ in ws]) if ws else np.array([], dtype=np.float64)
        for wn, arr in ws:
            lg.create_dataset(wn, data=arr)


def write_h5(net, path):
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = b"2.4.0"
        f.attrs["backend"] = b"tensorflow"
        f.attrs["model_config"] = json.dumps(net.model_config()).encode()
        write_weights_group(f.create_group("model_weights"), net)


def write_arch_and_weights(net, d):
    with open(os.path.join(d, "arch.json"), "w") as f:
        json.dump(dict(net.model_config(), keras_version="2.4.0", backend="tensorflow"), f)
    with h5py.File(os.path.join(d, "arch.weights.h5"), "w") as f:
        write_weights_group(f, net)


def keras3_config(net):
    layers = []
    for l in net.layers:
        cfg = dict(l["config"])
        if l["class_name"] == "InputLayer":
            cfg = {"batch_shape": cfg["batch_input_shape"], "dtype": "float32", "sparse": False, "name": l["name"]}
        nodes = []
        for call in l["inbound"]:
            args = [{"class_name": "__keras_tensor__", "config": {"shape": [None], "dtype": "float32",
                                                                  "keras_history": [r[0], r[1], r[2]]}} for r in call]
            nodes.append({"args": args if len(args) == 1 else [args], "kwargs": {}})
        layers.append({"module": "keras.layers", "class_name": l["class_name"], "config": cfg, "registered_name": None,
                       "name": l["name"], "inbound_nodes": nodes})
    return {"module": "keras", "class_name": "Functional", "config": {
        "name": net.name, "trainable": True, "layers": layers,
        "input_layers": [[i, 0, 0] for i in net.inputs], "output_layers": [[o, n, 0] for (o, n) in net.outputs]},
        "registered_name": "Functional"}


def write_keras3(net, path):
    tmp = path + ".weights.h5"
    with h5py.File(tmp, "w") as f:
        lg = f.create_group("layers")
        by_layer = {}
        for layer, _, arr in net.all_weights():
            by_layer.setdefault(layer, []).append(arr)
        for l in net.layers:
            g = lg.create_group(l["name"])
            v = g.create_group("vars")
            for i, arr in enumerate(by_layer.get(l["name"], [])):
                v.create_dataset(str(i), data=arr)
        f.create_group("optimizer").create_group("vars")
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("metadata.json", json.dumps({"keras_version": "3.3.3", "date_saved": "2024-01-01@00:00:00"}))
        z.writestr("config.json", json.dumps(keras3_config(net)))
        z.write(tmp, "model.weights.h5")
    os.remove(tmp)


def conv_net():
    n = Net("conv_net")
    x = n.input("image", [9, 9, 3])
    x = n.add("Conv2D", "conv_same", x, {"filters": 4, "kernel_size": [3, 3], "strides": [1, 1], "padding": "same",
                                          "data_format": "channels_last", "dilation_rate": [1, 1], "activation": "relu", "use_bias": True},
              [("kernel", w(3, 3, 3, 4)), ("bias", w(4))])
    x = n.add("Conv2D", "conv_stride", x, {"filters": 6, "kernel_size": [3, 3], "strides": [2, 2], "padding": "same",
                                            "data_format": "channels_last", "dilation_rate": [1, 1], "activation": "linear", "use_bias": True},
              [("kernel", w(3, 3, 4, 6)), ("bias", w(6))])
    x = n.add("BatchNormalization", "bn", x, {"axis": -1, "momentum": 0.99, "epsilon": 0.001, "center": True, "scale": True},
              [("gamma", w(6) + 1), ("beta", w(6)), ("moving_mean", w(6)), ("moving_variance", np.abs(w(6)) + 0.5)])
    x = n.add("DepthwiseConv2D", "dw", x, {"kernel_size": [3, 3], "strides": [1, 1], "padding": "valid", "depth_multiplier": 2,
                                            "data_format": "channels_last", "dilation_rate": [1, 1], "activation": "relu6", "use_bias": True},
              [("depthwise_kernel", w(3, 3, 6, 2)), ("bias", w(12))])
    x = n.add("SeparableConv2D", "sep", x, {"filters": 5, "kernel_size": [2, 2], "strides": [1, 1], "padding": "same", "depth_multiplier": 1,
                                             "data_format": "channels_last", "dilation_rate": [1, 1], "activation": "tanh", "use_bias": True},
              [("depthwise_kernel", w(2, 2, 12, 1)), ("pointwise_kernel", w(1, 1, 12, 5)), ("bias", w(5))])
    x = n.add("Conv2DTranspose", "deconv", x, {"filters": 3, "kernel_size": [3, 3], "strides": [2, 2], "padding": "same",
                                                "data_format": "channels_last", "dilation_rate": [1, 1], "activation": "sigmoid", "use_bias": True},
              [("kernel", w(3, 3, 3, 5)), ("bias", w(3))])
    x = n.add("ZeroPadding2D", "pad", x, {"padding": [[1, 0], [2, 1]], "data_format": "channels_last"})
    x = n.add("Cropping2D", "crop", x, {"cropping": [[1, 1], [0, 2]], "data_format": "channels_last"})
    x = n.add("MaxPooling2D", "maxpool", x, {"pool_size": [2, 2], "padding": "same", "strides": [2, 2], "data_format": "channels_last"})
    x = n.add("Conv2D", "conv_dil", x, {"filters": 4, "kernel_size": [2, 2], "strides": [1, 1], "padding": "same",
                                         "data_format": "channels_last", "dilation_rate": [2, 2], "activation": "elu", "use_bias": False},
              [("kernel", w(2, 2, 3, 4))])
    x = n.add("AveragePooling2D", "avgpool", x, {"pool_size": [2, 2], "padding": "same", "strides": [1, 1], "data_format": "channels_last"})
    x = n.add("Activation", "act_softplus", x, {"activation": "softplus"})
    x = n.add("Flatten", "flatten", x, {"data_format": "channels_last"})
    x = n.add("Dropout", "dropout", x, {"rate": 0.5})
    x = n.add("Dense", "logits", x, {"units": 7, "activation": "softmax", "use_bias": True}, [("kernel", w(3 * 4 * 4, 7, scale=0.2)), ("bias", w(7))])
    n.outputs = [(x, 0)]
    return n, [RNG.rand(2, 9, 9, 3).astype(np.float32)]


def dense_net():
    n = Net("dense_net")
    x = n.input("features", [6])
    x = n.add("Dense", "d1", x, {"units": 8, "activation": "selu", "use_bias": True}, [("kernel", w(6, 8)), ("bias", w(8))])
    x = n.add("ReLU", "relu_full", x, {"max_value": 1.5})
    x = n.add("LeakyReLU", "leaky", x, {"alpha": 0.2})
    x = n.add("PReLU", "prelu", x, {"shared_axes": None}, [("alpha", w(8))])
    x = n.add("ELU", "elu", x, {"alpha": 1.0})
    x = n.add("Dense", "d2", x, {"units": 8, "activation": "hard_sigmoid", "use_bias": False}, [("kernel", w(8, 8))])
    x = n.add("Activation", "act_swish", x, {"activation": "swish"})
    x = n.add("LayerNormalization", "ln", x, {"axis": [-1], "epsilon": 0.001, "center": True, "scale": True},
              [("gamma", w(8) + 1), ("beta", w(8))])
    x = n.add("ThresholdedReLU", "thr", x, {"theta": 0.1})
    x = n.add("ReLU", "relu6", x, {"max_value": 6.0})
    x = n.add("Softmax", "softmax", x, {"axis": -1})
    n.outputs = [(x, 0)]
    return n, [RNG.standard_normal((3, 6)).astype(np.float32)]


def merge_net():
    n = Net("merge_net")
    a = n.input("in_a", [4, 4, 3])
    b = n.input("in_b", [4, 4, 3])
    s = n.add("Add", "add", [a, b])
    m = n.add("Multiply", "mul", [a, b, s])
    mx = n.add("Maximum", "max", [a, b])
    mn = n.add("Minimum", "min", [a, b])
    av = n.add("Average", "avg", [mx, mn])
    shared = n.add("Conv2D", "shared_conv", [m], {"filters": 2, "kernel_size": [1, 1], "strides": [1, 1], "padding": "valid",
                                                   "data_format": "channels_last", "dilation_rate": [1, 1], "activation": "linear", "use_bias": True},
                   [("kernel", w(1, 1, 3, 2)), ("bias", w(2))], calls=[[av]])
    c = n.add("Concatenate", "concat", [(shared, 0), (shared, 1), s], {"axis": -1})
    g = n.add("GlobalAveragePooling2D", "gap", c, {"data_format": "channels_last"})
    gm = n.add("GlobalMaxPooling2D", "gmp", c, {"data_format": "channels_last"})
    up = n.add("UpSampling2D", "up", c, {"size": [2, 2], "data_format": "channels_last", "interpolation": "nearest"})
    p = n.add("Permute", "perm", up, {"dims": [3, 1, 2]})
    r = n.add("Reshape", "reshape", p, {"target_shape": [7, -1]})
    n.outputs = [(g, 0), (gm, 0), (r, 0)]
    return n, [RNG.standard_normal((2, 4, 4, 3)).astype(np.float32), RNG.standard_normal((2, 4, 4, 3)).astype(np.float32)]


def seq1d_net():
    n = Net("seq1d_net")
    x = n.input("signal", [12, 3])
    x = n.add("Conv1D", "causal", x, {"filters": 4, "kernel_size": [3], "strides": [1], "padding": "same", "data_format": "channels_last",
                                       "dilation_rate": [2], "activation": "relu", "use_bias": True}, [("kernel", w(3, 3, 4)), ("bias", w(4))])
    x = n.add("Conv1D", "c1d", x, {"filters": 5, "kernel_size": [2], "strides": [2], "padding": "valid", "data_format": "channels_last",
                                    "dilation_rate": [1], "activation": "linear", "use_bias": True}, [("kernel", w(2, 4, 5)), ("bias", w(5))])
    x = n.add("MaxPooling1D", "mp1", x, {"pool_size": [2], "padding": "valid", "strides": [1], "data_format": "channels_last"})
    x = n.add("GlobalAveragePooling1D", "gap1", x, {"data_format": "channels_last"})
    n.outputs = [(x, 0)]
    return n, [RNG.standard_normal((2, 12, 3)).astype(np.float32)]


def misc_net():
    """Nested Sequential shared on two inputs, Rescaling, channels_first, Conv2DTranspose valid."""
    n = Net("misc_net")
    a = n.input("in_a", [6, 6, 2])
    b = n.input("in_b", [6, 6, 2])
    tower = {"class_name": "Sequential", "config": {"name": "tower", "layers": [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 6, 6, 2], "dtype": "float32", "sparse": False, "name": "tower_in"}},
        {"class_name": "Conv2D", "config": {"name": "tower_conv", "trainable": True, "dtype": "float32", "filters": 3, "kernel_size": [3, 3],
                                            "strides": [1, 1], "padding": "same", "data_format": "channels_last", "dilation_rate": [1, 1],
                                            "activation": "relu", "use_bias": True}},
        {"class_name": "Dense", "config": {"name": "tower_dense", "trainable": True, "dtype": "float32", "units": 4, "activation": "tanh",
                                           "use_bias": True}}]}}
    n.layers.append(dict(class_name="Sequential", name="tower", config=tower["config"],
                         inbound=[[[a, 0, 0, {}]], [[b, 0, 0, {}]]],
                         weights=[("tower_conv/kernel", w(3, 3, 2, 3)), ("tower_conv/bias", w(3)),
                                  ("tower_dense/kernel", w(3, 4)), ("tower_dense/bias", w(4))]))
    # Keras numbers a nested model's calls from 1 (node 0 is its own construction).
    s = n.add("Maximum", "towers_max", [("tower", 1), ("tower", 2)])
    r = n.add("Rescaling", "rescale", s, {"scale": 0.5, "offset": 0.25})
    p = n.add("Permute", "to_cf", r, {"dims": [3, 1, 2]})
    c = n.add("Conv2D", "conv_cf", p, {"filters": 5, "kernel_size": [3, 3], "strides": [1, 1], "padding": "valid",
                                        "data_format": "channels_first", "dilation_rate": [1, 1], "activation": "relu", "use_bias": True},
              [("kernel", w(3, 3, 4, 5)), ("bias", w(5))])
    # No BatchNormalization(axis=1) here: the TF.js CPU kernel cycles the
    # parameters along the flat index (last axis) whatever their shape, so
    # TF.js is no oracle for it (docs/FORMATS.md, "TF.js layers-model").
    c = n.add("MaxPooling2D", "pool_cf", c, {"pool_size": [2, 2], "padding": "valid", "strides": [1, 1], "data_format": "channels_first"})
    f = n.add("Flatten", "flatten_cf", c, {"data_format": "channels_first"})
    t = n.add("Conv2DTranspose", "deconv_valid", r, {"filters": 2, "kernel_size": [3, 3], "strides": [2, 2], "padding": "valid",
                                                      "data_format": "channels_last", "dilation_rate": [1, 1], "activation": "linear", "use_bias": True},
              [("kernel", w(3, 3, 2, 4)), ("bias", w(2))])
    g = n.add("GlobalMaxPooling2D", "gmp", t, {"data_format": "channels_last"})
    n.outputs = [(f, 0), (g, 0)]
    return n, [RNG.standard_normal((2, 6, 6, 2)).astype(np.float32), RNG.standard_normal((2, 6, 6, 2)).astype(np.float32)]


def resize_net():
    """TF.js only (its bilinear upsampling differs from Keras'): UpSampling2D bilinear and nearest."""
    n = Net("resize_net")
    x = n.input("img", [5, 4, 3])
    u = n.add("UpSampling2D", "up_bilinear", x, {"size": [2, 3], "data_format": "channels_last", "interpolation": "bilinear"})
    # (Resizing is left out: tfjs-layers 4.9's Resizing fails when loaded from
    # a model ("resizeBilinear: x must be rank 3 or 4, but got rank 1").)
    r = n.add("UpSampling2D", "up_nearest", x, {"size": [3, 2], "data_format": "channels_last", "interpolation": "nearest"})
    n.outputs = [(u, 0), (r, 0)]
    return n, [RNG.rand(2, 5, 4, 3).astype(np.float32)]


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    nets = [conv_net(), dense_net(), merge_net(), seq1d_net(), misc_net(), resize_net()]
    for k, (net, inputs) in enumerate(nets):
        d = os.path.join(out, net.name)
        os.makedirs(d, exist_ok=True)
        write_tfjs(net, os.path.join(d, "tfjs"))
        if net.name != "resize_net":
            write_h5(net, os.path.join(d, "model.h5"))
        for i, x in enumerate(inputs):
            np.save(os.path.join(d, "input_%d.npy" % i), x)
        if k == 0:
            write_arch_and_weights(net, d)
            write_keras3(net, os.path.join(d, "model.keras"))
            write_tfjs(net, os.path.join(d, "tfjs_q"), quantize=True)
    print("wrote %d networks to %s" % (len(nets), out))


if __name__ == "__main__":
    main()
