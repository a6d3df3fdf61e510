#!/usr/bin/env python3
"""gen_tf_graph_models.py OUT_DIR — writes small TF.js graph-models by hand
(GraphDef as JSON + one weight shard, numpy only) that cover the TensorFlow
ops convfix's TF importer maps; tests/tf/check_tfjs_graph.py runs each in the
TF.js runtime and in convfix. Every model: one Placeholder "x", weights as
Const nodes in the manifest, output node "y" (Identity). OUT_DIR/<case>/model.json
and OUT_DIR/cases.json (name -> input shape)."""
import base64
import json
import os
import sys

import numpy as np

RNG = np.random.default_rng(42)


def b64(s):
    return base64.b64encode(s.encode()).decode()


def a_i(v):
    return {"i": str(int(v))}


def a_f(v):
    return {"f": float(v)}


def a_b(v):
    return {"b": bool(v)}


def a_s(v):
    return {"s": b64(v)}


def a_t(v):
    return {"type": v}


def a_li(v):
    return {"list": {"i": [str(int(x)) for x in v]}}


def a_ls(v):
    return {"list": {"s": [b64(x) for x in v]}}


DT = {np.float32: "DT_FLOAT", np.int32: "DT_INT32"}


class G:
    def __init__(self, shape):
        self.nodes = [{"name": "x", "op": "Placeholder",
                       "attr": {"dtype": a_t("DT_FLOAT"),
                                "shape": {"shape": {"dim": [{"size": str(d)} for d in shape]}}}}]
        self.weights = []
        self.k = 0

    def const(self, arr, name=None):
        arr = np.asarray(arr)
        arr = arr.astype(np.int32 if arr.dtype.kind in "iu" else np.float32)
        self.k += 1
        name = name or f"c{self.k}"
        dt = DT[arr.dtype.type]
        self.nodes.append({"name": name, "op": "Const", "attr": {
            "value": {"tensor": {"dtype": dt, "tensorShape": {"dim": [{"size": str(d)} for d in arr.shape]}}},
            "dtype": a_t(dt)}})
        self.weights.append((name, arr))
        return name

    def w(self, *shape, lo=-1.0, hi=1.0):
        return self.const(RNG.uniform(lo, hi, size=shape).astype(np.float32))

    def op(self, name, op, inputs, **attrs):
        a = dict(attrs)
        if "T" not in a and op not in ("Shape", "Pack", "Cast", "Fill"):
            a["T"] = a_t("DT_FLOAT")
        self.nodes.append({"name": name, "op": op, "input": list(inputs), "attr": a})
        return name

    def save(self, d, out="y"):
        self.nodes.append({"name": "y", "op": "Identity", "input": [out], "attr": {"T": a_t("DT_FLOAT")}})
        os.makedirs(d, exist_ok=True)
        blob = b"".join(a.tobytes() for _, a in self.weights)
        with open(os.path.join(d, "group1-shard1of1.bin"), "wb") as f:
            f.write(blob)
        man = [{"paths": ["group1-shard1of1.bin"], "weights": [
            {"name": n, "shape": list(a.shape), "dtype": "int32" if a.dtype == np.int32 else "float32"}
            for n, a in self.weights]}]
        j = {"format": "graph-model", "generatedBy": "gen_tf_graph_models.py", "convertedBy": None,
             "modelTopology": {"node": self.nodes, "versions": {"producer": 440}}, "weightsManifest": man}
        with open(os.path.join(d, "model.json"), "w") as f:
            json.dump(j, f, indent=1)


NHWC = (1, 8, 8, 4)
CASES = {}


def case(name, shape=NHWC):
    def deco(fn):
        CASES[name] = (shape, fn)
        return fn
    return deco


def conv_attrs(strides=(1, 1, 1, 1), padding="SAME", dil=(1, 1, 1, 1)):
    return dict(strides=a_li(strides), padding=a_s(padding), dilations=a_li(dil), data_format=a_s("NHWC"))


@case("conv_same_s2_bias_relu")
def _(g):
    c = g.op("conv", "Conv2D", ["x", g.w(3, 3, 4, 6)], **conv_attrs((1, 2, 2, 1)))
    b = g.op("bias", "BiasAdd", [c, g.w(6)], data_format=a_s("NHWC"))
    return g.op("relu", "Relu", [b])


@case("conv_valid_dilated_relu6", (1, 9, 10, 4))
def _(g):
    c = g.op("conv", "Conv2D", ["x", g.w(3, 2, 4, 5)], **conv_attrs((1, 1, 1, 1), "VALID", (1, 2, 2, 1)))
    return g.op("relu6", "Relu6", [g.op("scale", "Mul", [c, g.const(np.float32(4.0))])])


@case("depthwise_same_elu", (1, 7, 9, 4))
def _(g):
    c = g.op("dw", "DepthwiseConv2dNative", ["x", g.w(3, 3, 4, 2)], **conv_attrs((1, 2, 2, 1)))
    return g.op("elu", "Elu", [c])


@case("conv2d_backprop_input_same_s2")
def _(g):
    sizes = g.const(np.array([1, 16, 16, 6], np.int32))
    return g.op("deconv", "Conv2DBackpropInput", [sizes, g.w(3, 3, 6, 4), "x"], **conv_attrs((1, 2, 2, 1)))


@case("conv2d_backprop_input_valid_s2", (1, 5, 5, 4))
def _(g):
    sizes = g.const(np.array([1, 11, 12, 3], np.int32))
    return g.op("deconv", "Conv2DBackpropInput", [sizes, g.w(3, 4, 3, 4), "x"], **conv_attrs((1, 2, 2, 1), "VALID"))


@case("fused_conv_bias_relu")
def _(g):
    return g.op("fc", "_FusedConv2D", ["x", g.w(3, 3, 4, 6), g.w(6)], num_args=a_i(1),
                fused_ops=a_ls(["BiasAdd", "Relu"]), epsilon=a_f(0), **conv_attrs((1, 1, 1, 1), "SAME"))


@case("fused_conv_bias_prelu")
def _(g):
    return g.op("fc", "_FusedConv2D", ["x", g.w(1, 1, 4, 6), g.w(6), g.w(6, lo=0, hi=0.5)], num_args=a_i(2),
                fused_ops=a_ls(["BiasAdd", "Prelu"]), epsilon=a_f(0), **conv_attrs((1, 2, 2, 1), "VALID"))


@case("fused_depthwise_bias_relu6")
def _(g):
    return g.op("fdw", "FusedDepthwiseConv2dNative", ["x", g.w(3, 3, 4, 1, lo=-3, hi=3), g.w(4)], num_args=a_i(1),
                fused_ops=a_ls(["BiasAdd", "Relu6"]), **conv_attrs((1, 1, 1, 1), "SAME"))


@case("fused_batchnorm_v3_sigmoid")
def _(g):
    bn = g.op("bn", "FusedBatchNormV3", ["x", g.w(4), g.w(4), g.w(4), g.w(4, lo=0.5, hi=2)], epsilon=a_f(1e-3),
              is_training=a_b(False), data_format=a_s("NHWC"), U=a_t("DT_FLOAT"))
    return g.op("sig", "Sigmoid", [bn])


@case("fused_batchnorm_tanh")
def _(g):
    bn = g.op("bn", "FusedBatchNorm", ["x", g.w(4), g.w(4), g.w(4), g.w(4, lo=0.5, hi=2)], epsilon=a_f(1e-4),
              is_training=a_b(False), data_format=a_s("NHWC"))
    return g.op("tanh", "Tanh", [bn])


@case("matmul_bias_softplus", (3, 5))
def _(g):
    m = g.op("mm", "MatMul", ["x", g.w(4, 5)], transpose_a=a_b(False), transpose_b=a_b(True))
    return g.op("sp", "Softplus", [g.op("b", "BiasAdd", [m, g.w(4)])])


@case("fused_matmul_relu", (3, 5))
def _(g):
    return g.op("fm", "_FusedMatMul", ["x", g.w(5, 4), g.w(4)], num_args=a_i(1), fused_ops=a_ls(["BiasAdd", "Relu"]),
                transpose_a=a_b(False), transpose_b=a_b(False), epsilon=a_f(0))


@case("batchmatmul_v2_adj_y", (2, 3, 5))
def _(g):
    return g.op("bmm", "BatchMatMulV2", ["x", g.w(2, 4, 5)], adj_x=a_b(False), adj_y=a_b(True))


@case("binary_ops")
def _(g):
    v = "x"
    for i, op in enumerate(["Add", "AddV2", "Sub", "Mul", "RealDiv", "Maximum", "Minimum", "SquaredDifference"]):
        c = g.w(4, lo=0.5, hi=1.5)
        v = g.op(f"b{i}_{op}", op, [v, c])
    return v


@case("unary_ops")
def _(g):
    v = g.op("selu", "Selu", ["x"])
    v = g.op("leaky", "LeakyRelu", [v], alpha=a_f(0.1))
    s = g.op("sq", "Square", [v])
    s = g.op("sq1", "AddV2", [s, g.const(np.float32(1.0))])
    r = g.op("rsqrt", "Rsqrt", [s])
    q = g.op("sqrt", "Sqrt", [s])
    return g.op("out", "Mul", [r, q])


@case("pool_avg_same_max_valid", (1, 9, 9, 4))
def _(g):
    a = g.op("avg", "AvgPool", ["x"], ksize=a_li((1, 3, 3, 1)), strides=a_li((1, 2, 2, 1)), padding=a_s("SAME"),
             data_format=a_s("NHWC"))
    return g.op("max", "MaxPool", [a], ksize=a_li((1, 2, 2, 1)), strides=a_li((1, 2, 2, 1)), padding=a_s("VALID"),
                data_format=a_s("NHWC"))


@case("reduce_mean_sum_max")
def _(g):
    m = g.op("mean", "Mean", ["x", g.const(np.array([1, 2], np.int32))], keep_dims=a_b(True), Tidx=a_t("DT_INT32"))
    s = g.op("sum", "Sum", ["x", g.const(np.array([3], np.int32))], keep_dims=a_b(True), Tidx=a_t("DT_INT32"))
    mx = g.op("max", "Max", ["x", g.const(np.array([-1], np.int32))], keep_dims=a_b(True), Tidx=a_t("DT_INT32"))
    return g.op("o", "AddV2", [g.op("o1", "AddV2", [m, s]), mx])


@case("pads")
def _(g):
    p = g.op("pad", "Pad", ["x", g.const(np.array([[0, 0], [1, 2], [0, 1], [0, 0]], np.int32))])
    p = g.op("padv2", "PadV2", [p, g.const(np.array([[0, 0], [2, 0], [1, 1], [0, 0]], np.int32)), g.const(np.float32(0.5))])
    return g.op("mirror", "MirrorPad", [p, g.const(np.array([[0, 0], [2, 1], [1, 2], [0, 0]], np.int32))],
                mode=a_s("REFLECT"))


@case("concat_reshape_squeeze_expand_transpose_softmax")
def _(g):
    r = g.op("relu", "Relu", ["x"])
    c = g.op("cat", "ConcatV2", ["x", r, g.const(np.int32(3))], N=a_i(2), Tidx=a_t("DT_INT32"))
    t = g.op("tr", "Transpose", [c, g.const(np.array([0, 3, 1, 2], np.int32))])
    rs = g.op("rs", "Reshape", [t, g.const(np.array([1, 8, -1], np.int32))])
    e = g.op("ed", "ExpandDims", [rs, g.const(np.int32(0))])
    s = g.op("sq", "Squeeze", [e], squeeze_dims=a_li([0]))
    return g.op("sm", "Softmax", [s])


@case("strided_slice_masks", (2, 6, 7, 5))
def _(g):
    a = g.op("ss1", "StridedSlice", ["x", g.const(np.array([0, 1, -1, 0], np.int32)),
                                     g.const(np.array([0, 5, 0, 4], np.int32)),
                                     g.const(np.array([1, 2, -2, 1], np.int32))],
             begin_mask=a_i(1), end_mask=a_i(5), ellipsis_mask=a_i(0), new_axis_mask=a_i(0), shrink_axis_mask=a_i(0),
             Index=a_t("DT_INT32"))
    b = g.op("ss2", "StridedSlice", [a, g.const(np.array([1, 0, 0], np.int32)), g.const(np.array([2, 0, 0], np.int32)),
                                     g.const(np.array([1, 1, 1], np.int32))],
             begin_mask=a_i(0), end_mask=a_i(0), ellipsis_mask=a_i(2), new_axis_mask=a_i(4), shrink_axis_mask=a_i(1),
             Index=a_t("DT_INT32"))
    return b


@case("slice")
def _(g):
    return g.op("sl", "Slice", ["x", g.const(np.array([0, 1, 2, 0], np.int32)), g.const(np.array([-1, 4, -1, 2], np.int32))],
                Index=a_t("DT_INT32"))


@case("shape_pack_reshape_fill")
def _(g):
    sh = g.op("shape", "Shape", ["x"], out_type=a_t("DT_INT32"), T=a_t("DT_FLOAT"))
    n = g.op("n", "StridedSlice", [sh, g.const(np.array([0], np.int32)), g.const(np.array([1], np.int32)),
                                   g.const(np.array([1], np.int32))],
             begin_mask=a_i(0), end_mask=a_i(0), ellipsis_mask=a_i(0), new_axis_mask=a_i(0), shrink_axis_mask=a_i(1),
             Index=a_t("DT_INT32"), T=a_t("DT_INT32"))
    pk = g.op("pack", "Pack", [n, g.const(np.int32(-1))], N=a_i(2), axis=a_i(0), T=a_t("DT_INT32"))
    fl = g.op("flat", "Reshape", ["x", pk])
    f = g.op("fill", "Fill", [g.const(np.array([1, 256], np.int32)), g.const(np.float32(0.25))], T=a_t("DT_FLOAT"))
    return g.op("o", "AddV2", [fl, f])


for _ac, _hp in [(True, False), (False, True), (False, False)]:
    def _mk(ac, hp):
        def f(g):
            sz = g.const(np.array([13, 11], np.int32))
            a = g.op("bil", "ResizeBilinear", ["x", sz], align_corners=a_b(ac), half_pixel_centers=a_b(hp))
            b = g.op("nn", "ResizeNearestNeighbor", ["x", sz], align_corners=a_b(ac), half_pixel_centers=a_b(hp))
            return g.op("o", "AddV2", [a, b])
        return f
    CASES[f"resize_ac{int(_ac)}_hp{int(_hp)}"] = ((1, 5, 6, 3), _mk(_ac, _hp))


@case("space_batch_dilated_conv", (1, 9, 10, 4))
def _(g):
    # TF's dilated-convolution pattern: SpaceToBatchND -> Conv2D VALID -> BatchToSpaceND.
    blk = g.const(np.array([2, 2], np.int32))
    s = g.op("s2b", "SpaceToBatchND", ["x", blk, g.const(np.array([[2, 3], [2, 2]], np.int32))],
             Tblock_shape=a_t("DT_INT32"), Tpaddings=a_t("DT_INT32"))
    c = g.op("conv", "Conv2D", [s, g.w(3, 3, 4, 3)], **conv_attrs((1, 1, 1, 1), "VALID"))
    return g.op("b2s", "BatchToSpaceND", [c, blk, g.const(np.array([[0, 1], [0, 0]], np.int32))],
                Tblock_shape=a_t("DT_INT32"), Tcrops=a_t("DT_INT32"))


@case("nchw_conv", (1, 4, 8, 7))
def _(g):
    c = g.op("conv", "Conv2D", ["x", g.w(3, 3, 4, 5)], strides=a_li((1, 1, 1, 1)), padding=a_s("SAME"),
             dilations=a_li((1, 1, 1, 1)), data_format=a_s("NCHW"))
    # (TF.js applies BiasAdd and FusedBatchNorm along the last axis whatever
    # their data_format and reads NCHW strides as NHWC ones, so only a
    # stride-1 convolution is checked in NCHW here.)
    return c


@case("cast_roundtrip")
def _(g):
    s = g.op("scale", "Mul", ["x", g.const(np.float32(5.0))])
    c = g.op("toint", "Cast", [s], SrcT=a_t("DT_FLOAT"), DstT=a_t("DT_INT32"), Truncate=a_b(False))
    return g.op("tofloat", "Cast", [c], SrcT=a_t("DT_INT32"), DstT=a_t("DT_FLOAT"), Truncate=a_b(False))


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    out = sys.argv[1]
    shapes = {}
    for name, (shape, fn) in CASES.items():
        g = G(shape)
        y = fn(g)
        g.save(os.path.join(out, name), y)
        shapes[name] = list(shape)
    with open(os.path.join(out, "cases.json"), "w") as f:
        json.dump(shapes, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
