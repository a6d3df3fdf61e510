#!/usr/bin/python3
"""Shape, data-movement, resize, pad and quantization ops: convfix against
ONNX Runtime on single-node models.

The ONNX backend test data covers one or two settings per op; this script
covers the rest of each op's settings (every Resize coordinate and nearest
mode, antialias, Resize opset 10 and Upsample, Pad modes with negative pads,
Slice clamping, Split num_outputs, per-axis quantization with ties and
saturation, TopK ties, Gather on f16/bool, ...). Each case is a one-node
ONNX model built here with onnx.helper, fed seeded random inputs; convfix
(`convfix run`) and ONNX Runtime (tools/ort_run.js, npm onnxruntime-node)
must agree: same shape and dtype, integers and bools exactly, floats within
rtol 1e-4 / atol 1e-5.

Known divergence, left out on purpose: Resize align_corners with scales
where input_size * scale is fractional (ONNX Runtime uses the integer output
size, the ONNX reference and test data the fractional one; convfix follows
the ONNX test data).

Prints one FAIL line per disagreement and `N passed, N failed, N skipped`;
exit 1 on a failure, 77 when ONNX Runtime (Node) is unavailable.

  tests/oracles/ops_tensor_ort.py --convfix BUILD/convfix [--filter REGEX] [--verbose]
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper

REPO = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
ORT_RUN = os.path.join(REPO, "tools", "ort_run.js")
SKIP_EXIT = 77
NP_TO_ONNX = {np.dtype(k): v for k, v in [
    (np.float32, TensorProto.FLOAT), (np.float16, TensorProto.FLOAT16), (np.float64, TensorProto.DOUBLE),
    (np.int8, TensorProto.INT8), (np.uint8, TensorProto.UINT8), (np.int16, TensorProto.INT16),
    (np.int32, TensorProto.INT32), (np.int64, TensorProto.INT64), (np.bool_, TensorProto.BOOL)]}

RNG = np.random.default_rng(1234)


def rand(*shape, dtype=np.float32, lo=-3, hi=3):
    if np.dtype(dtype) == np.bool_:
        return RNG.random(shape) < 0.5
    if np.issubdtype(dtype, np.integer):
        return RNG.integers(lo, hi + 1, size=shape).astype(dtype)
    return RNG.uniform(lo, hi, size=shape).astype(dtype)


def i64(*v):
    return np.array(v, dtype=np.int64)


def f32(*v):
    return np.array(v, dtype=np.float32)


class Case:
    def __init__(self, name, op, inputs, attrs=None, opset=17, outputs=1):
        self.name, self.op, self.inputs = name, op, inputs  # inputs: list of (name, array) or None
        self.attrs = attrs or {}
        self.opset = opset
        self.outputs = [f"y{i}" for i in range(outputs)] if isinstance(outputs, int) else outputs

    def model(self):
        ins, names = [], []
        for item in self.inputs:
            if item is None:
                names.append("")
                continue
            n, a = item
            names.append(n)
            ins.append(helper.make_tensor_value_info(n, NP_TO_ONNX[a.dtype], list(a.shape)))
        node = helper.make_node(self.op, names, self.outputs, name="n0", **self.attrs)
        outs = [helper.make_empty_tensor_value_info(o) for o in self.outputs]
        g = helper.make_graph([node], self.name, ins, outs)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", self.opset)])
        m.ir_version = 8
        inferred = onnx.shape_inference.infer_shapes(m)
        known = {v.name: v for v in inferred.graph.value_info}
        for o in m.graph.output:
            if o.name in known:
                o.CopyFrom(known[o.name])
        return m


def cases():
    c = []
    x4 = rand(1, 2, 5, 7)
    u8 = rand(1, 2, 5, 7, dtype=np.uint8, lo=0, hi=255)
    coords = ["half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_half_pixel_for_nn"]
    nearest_modes = ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"]
    scale_sets = {"up": f32(1, 1, 2.0, 1.5), "down": f32(1, 1, 0.6, 0.4), "mixed": f32(1, 1, 0.8, 2.3)}
    # align_corners with scales: ONNX Runtime divides by (output_size - 1), the
    # ONNX reference (and its test data, which convfix follows) by
    # (input_size * scale - 1); they agree when input_size * scale is whole.
    x4e = rand(1, 2, 4, 8)
    exact_sets = {"up": f32(1, 1, 2.0, 1.5), "down": f32(1, 1, 0.5, 0.25), "mixed": f32(1, 1, 0.75, 2.5)}
    for cm in coords:
        for nm in nearest_modes:
            for sk, sc in (exact_sets if cm == "align_corners" else scale_sets).items():
                xin = x4e if cm == "align_corners" else x4
                c.append(Case(f"resize_nearest_{cm}_{nm}_{sk}", "Resize", [("x", xin), None, ("s", sc)],
                              {"mode": "nearest", "coordinate_transformation_mode": cm, "nearest_mode": nm}, 13))
        c.append(Case(f"resize_nearest_{cm}_sizes_u8", "Resize", [("x", u8), None, None, ("z", i64(1, 2, 9, 4))],
                      {"mode": "nearest", "coordinate_transformation_mode": cm}, 13))
    for mode in ["linear", "cubic"]:
        for cm in ["half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric"]:
            for sk, sc in (exact_sets if cm == "align_corners" else scale_sets).items():
                xin = x4e if cm == "align_corners" else x4
                c.append(Case(f"resize_{mode}_{cm}_{sk}", "Resize", [("x", xin), None, ("s", sc)],
                              {"mode": mode, "coordinate_transformation_mode": cm}, 13))
            c.append(Case(f"resize_{mode}_{cm}_sizes", "Resize", [("x", x4), None, None, ("z", i64(1, 2, 3, 11))],
                          {"mode": mode, "coordinate_transformation_mode": cm}, 13))
        c.append(Case(f"resize_{mode}_crop_and_resize", "Resize",
                      [("x", x4), ("roi", f32(0, 0, 0.1, -0.2, 1, 1, 0.9, 1.3)), None, ("z", i64(1, 2, 4, 6))],
                      {"mode": mode, "coordinate_transformation_mode": "tf_crop_and_resize",
                       "extrapolation_value": 7.5}, 13))
        for sk, sc in scale_sets.items():
            c.append(Case(f"resize_{mode}_half_pixel_symmetric_{sk}", "Resize", [("x", x4), None, ("s", sc)],
                          {"mode": mode, "coordinate_transformation_mode": "half_pixel_symmetric"}, 19))
            c.append(Case(f"resize_{mode}_antialias_{sk}", "Resize", [("x", x4), None, ("s", sc)],
                          {"mode": mode, "antialias": 1}, 18))
        c.append(Case(f"resize_{mode}_opset11_sizes", "Resize",
                      [("x", x4), ("roi", np.zeros(0, np.float32)), ("s", np.zeros(0, np.float32)),
                       ("z", i64(1, 2, 8, 3))], {"mode": mode}, 11))
    c.append(Case("resize_cubic_a05_exclude_outside", "Resize", [("x", x4), None, ("s", f32(1, 1, 1.7, 0.45))],
                  {"mode": "cubic", "cubic_coeff_a": -0.5, "exclude_outside": 1}, 13))
    c.append(Case("resize_nearest_crop_and_resize", "Resize",
                  [("x", x4), ("roi", f32(0, 0, -0.1, 0.2, 1, 1, 0.7, 1.2)), None, ("z", i64(1, 2, 6, 5))],
                  {"mode": "nearest", "coordinate_transformation_mode": "tf_crop_and_resize",
                   "extrapolation_value": -1.0}, 13))
    for pol in ["not_larger", "not_smaller"]:
        c.append(Case(f"resize_linear_axes_{pol}", "Resize", [("x", x4), None, None, ("z", i64(8, 9))],
                      {"mode": "linear", "axes": [2, 3], "keep_aspect_ratio_policy": pol}, 18))
    c.append(Case("resize_nearest_f16", "Resize", [("x", x4.astype(np.float16)), None, ("s", f32(1, 1, 1.5, 0.5))],
                  {"mode": "nearest"}, 13))
    for sk, sc in scale_sets.items():
        c.append(Case(f"resize10_nearest_{sk}", "Resize", [("x", x4), ("s", sc)], {"mode": "nearest"}, 10))
        c.append(Case(f"resize10_linear_{sk}", "Resize", [("x", x4), ("s", sc)], {"mode": "linear"}, 10))
    c.append(Case("upsample9_nearest_up", "Upsample", [("x", x4), ("s", f32(1, 1, 2.0, 1.5))], {"mode": "nearest"}, 9))
    c.append(Case("upsample9_linear_up", "Upsample", [("x", x4), ("s", f32(1, 1, 2, 3))], {"mode": "linear"}, 9))
    c.append(Case("upsample7_nearest_attr", "Upsample", [("x", x4)], {"mode": "nearest", "scales": [1.0, 1.0, 3.0, 2.0]}, 7))
    c.append(Case("upsample7_linear_attr", "Upsample", [("x", x4)], {"mode": "linear", "scales": [1.0, 1.0, 2.0, 2.5]}, 7))

    # Pad
    x3 = rand(2, 4, 5)
    for mode in ["constant", "reflect", "edge"]:
        c.append(Case(f"pad2_{mode}", "Pad", [("x", x3)], {"mode": mode, "pads": [0, 1, 2, 0, 3, 1], "value": 1.5}, 2))
        c.append(Case(f"pad11_{mode}_negative", "Pad", [("x", x3), ("p", i64(0, -1, 2, 1, 2, -2)), ("v", f32(2.5))],
                      {"mode": mode}, 11))
        c.append(Case(f"pad18_{mode}_axes", "Pad", [("x", x3), ("p", i64(2, 3, 1, 2)), None, ("a", i64(-1, 1))],
                      {"mode": mode}, 18))
    c.append(Case("pad19_wrap", "Pad", [("x", x3), ("p", i64(0, 2, 3, 1, 3, 4))], {"mode": "wrap"}, 19))
    c.append(Case("pad13_constant_int8", "Pad", [("x", rand(3, 4, dtype=np.int8)), ("p", i64(1, 2, 0, 1)),
                                                 ("v", np.array(-7, dtype=np.int8))], {}, 13))
    c.append(Case("pad13_edge_bool", "Pad", [("x", rand(3, 4, dtype=np.bool_)), ("p", i64(1, 2, 0, 1))],
                  {"mode": "edge"}, 13))

    # Slice
    x = rand(5, 6, 7)
    c.append(Case("slice1_attrs", "Slice", [("x", x)], {"starts": [1, -5], "ends": [100, -1], "axes": [0, 2]}, 1))
    big, small = np.iinfo(np.int64).max, np.iinfo(np.int64).min
    c.append(Case("slice13_neg_steps_clamp", "Slice",
                  [("x", x), ("s", i64(big, -2, 100)), ("e", i64(small, 0, -100)), ("a", i64(0, 1, 2)),
                   ("t", i64(-2, -1, -3))], {}, 13))
    c.append(Case("slice13_empty", "Slice", [("x", x), ("s", i64(4)), ("e", i64(2)), ("a", i64(1))], {}, 13))
    c.append(Case("slice13_int32_idx", "Slice",
                  [("x", x), ("s", np.array([-100, 1], np.int32)), ("e", np.array([3, 100], np.int32)),
                   ("a", np.array([2, 0], np.int32)), ("t", np.array([2, 3], np.int32))], {}, 13))

    # Split / Concat
    c.append(Case("split18_num_outputs_uneven", "Split", [("x", rand(7, 3))], {"axis": 0, "num_outputs": 3}, 18, 3))
    c.append(Case("split11_attr", "Split", [("x", rand(2, 9))], {"axis": 1, "split": [2, 3, 4]}, 11, 3))
    c.append(Case("split13_input", "Split", [("x", rand(2, 9)), ("p", i64(5, 0, 4))], {"axis": -1}, 13, 3))
    c.append(Case("split13_equal_bool", "Split", [("x", rand(6, 2, dtype=np.bool_))], {}, 13, 3))
    c.append(Case("concat_f16_axis_neg", "Concat", [("a", rand(2, 3, dtype=np.float16)), ("b", rand(2, 1, dtype=np.float16)),
                                                     ("c", rand(2, 0, dtype=np.float16))], {"axis": -1}, 13))

    # Squeeze / Unsqueeze / Reshape / Flatten / Transpose
    s = rand(1, 3, 1, 2)
    c.append(Case("squeeze11_attr", "Squeeze", [("x", s)], {"axes": [-2, 0]}, 11))
    c.append(Case("squeeze13_noaxes", "Squeeze", [("x", s)], {}, 13))
    c.append(Case("unsqueeze11_attr", "Unsqueeze", [("x", s)], {"axes": [5, 0]}, 11))
    c.append(Case("unsqueeze13_input", "Unsqueeze", [("x", s), ("a", i64(-1, 1))], {}, 13))
    c.append(Case("reshape14_allowzero", "Reshape", [("x", rand(2, 0, 3)), ("z", i64(0, 3, 0))], {"allowzero": 1}, 14))
    c.append(Case("reshape13_bool", "Reshape", [("x", rand(2, 3, 4, dtype=np.bool_)), ("z", i64(0, -1))], {}, 13))
    c.append(Case("flatten13_axis0_i8", "Flatten", [("x", rand(2, 3, 4, dtype=np.int8))], {"axis": 0}, 13))
    for dt in [np.float16, np.bool_, np.int64, np.uint8]:
        c.append(Case(f"transpose_{np.dtype(dt).name}", "Transpose", [("x", rand(2, 3, 4, 5, dtype=dt))],
                      {"perm": [3, 0, 2, 1]}, 13))

    # Large enough for the tiled copy path (both tile dims >= 8).
    for dt in [np.float32, np.float16, np.uint8]:
        c.append(Case(f"transpose_nhwc_{np.dtype(dt).name}", "Transpose", [("x", rand(2, 19, 33, 41, dtype=dt))],
                      {"perm": [0, 2, 3, 1]}, 13))
        c.append(Case(f"transpose_nchw_{np.dtype(dt).name}", "Transpose", [("x", rand(2, 33, 41, 19, dtype=dt))],
                      {"perm": [0, 3, 1, 2]}, 13))
    c.append(Case("transpose_3d_mixed", "Transpose", [("x", rand(9, 40, 70))], {"perm": [2, 0, 1]}, 13))
    c.append(Case("expand_tiled", "Expand", [("x", rand(37, 1, 1)), ("z", i64(37, 9, 50))], {}, 13))

    # Gather family / Scatter family
    d = rand(4, 5, 3)
    c.append(Case("gather_f16_neg", "Gather", [("x", d.astype(np.float16)), ("i", i64(-1, 0, 3, -4).reshape(2, 2))],
                  {"axis": 0}, 13))
    c.append(Case("gather_bool_axis2", "Gather", [("x", rand(4, 5, 3, dtype=np.bool_)), ("i", np.array([2, 0], np.int32))],
                  {"axis": 2}, 13))
    c.append(Case("gather_scalar_index", "Gather", [("x", d), ("i", np.array(3, np.int64))], {"axis": 1}, 13))
    c.append(Case("gather_elements_neg", "GatherElements", [("x", d), ("i", rand(4, 2, 3, dtype=np.int64, lo=-5, hi=4))],
                  {"axis": 1}, 13))
    c.append(Case("gathernd_batch1", "GatherND", [("x", rand(2, 3, 4, 5)), ("i", rand(2, 6, 2, dtype=np.int64, lo=0, hi=2))],
                  {"batch_dims": 1}, 13))
    c.append(Case("gathernd_full", "GatherND", [("x", rand(3, 4)), ("i", rand(5, 2, dtype=np.int64, lo=-3, hi=2))], {}, 13))
    c.append(Case("scatternd_add", "ScatterND", [("x", rand(4, 3)), ("i", i64(1, 3, 1).reshape(3, 1)), ("u", rand(3, 3))],
                  {"reduction": "add"}, 16))
    c.append(Case("scatternd_mul_int", "ScatterND", [("x", rand(4, 3, dtype=np.int32)), ("i", i64(0, 2, 0, 2).reshape(2, 2)),
                                                      ("u", rand(2, dtype=np.int32))], {"reduction": "mul"}, 16))
    c.append(Case("scatter_elements_max", "ScatterElements",
                  [("x", rand(3, 4)), ("i", i64(1, 1, 0, 2, 2, 0).reshape(2, 3)), ("u", rand(2, 3))],
                  {"axis": 0, "reduction": "max"}, 18))
    c.append(Case("scatter_elements_none_neg", "ScatterElements",
                  [("x", rand(3, 4)), ("i", i64(-1, 1, -4, 2).reshape(2, 2)), ("u", rand(2, 2))], {"axis": 1}, 13))

    # Expand / Tile / DepthToSpace / SpaceToDepth
    c.append(Case("expand_bidirectional", "Expand", [("x", rand(3, 1, 2)), ("z", i64(2, 1, 4, 1))], {}, 13))
    c.append(Case("tile_int64", "Tile", [("x", rand(2, 3, dtype=np.int64)), ("r", i64(3, 2))], {}, 13))
    c.append(Case("tile_zero", "Tile", [("x", rand(2, 3)), ("r", i64(0, 2))], {}, 13))
    c.append(Case("depthtospace_crd_big", "DepthToSpace", [("x", rand(2, 18, 3, 4))], {"blocksize": 3, "mode": "CRD"}, 13))
    c.append(Case("depthtospace_dcr_big", "DepthToSpace", [("x", rand(2, 8, 3, 4))], {"blocksize": 2, "mode": "DCR"}, 13))
    c.append(Case("spacetodepth_big", "SpaceToDepth", [("x", rand(2, 3, 6, 9))], {"blocksize": 3}, 13))

    # Quantization
    ties = f32(-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, 300, -300, 0.49, 127.6, -129.2)
    c.append(Case("quantize_u8_ties", "QuantizeLinear", [("x", ties), ("s", f32(1.0)), ("z", np.array(3, np.uint8))], {}, 13))
    c.append(Case("quantize_i8_ties", "QuantizeLinear", [("x", ties), ("s", f32(1.0)), ("z", np.array(-2, np.int8))], {}, 13))
    c.append(Case("quantize_default_zp", "QuantizeLinear", [("x", ties), ("s", f32(0.5))], {}, 10))
    qx = rand(2, 3, 4, lo=-20, hi=20)
    c.append(Case("quantize_axis1_i8", "QuantizeLinear",
                  [("x", qx), ("s", f32(0.1, 0.25, 0.07)), ("z", np.array([0, -5, 9], np.int8))], {"axis": 1}, 13))
    c.append(Case("quantize_axis_neg_u8", "QuantizeLinear",
                  [("x", qx), ("s", f32(0.1, 0.2, 0.3, 0.4)), ("z", np.array([128, 100, 0, 255], np.uint8))],
                  {"axis": -1}, 13))
    c.append(Case("dequantize_axis0_u8", "DequantizeLinear",
                  [("x", rand(2, 3, dtype=np.uint8, lo=0, hi=255)), ("s", f32(0.5, 0.03)), ("z", np.array([10, 200], np.uint8))],
                  {"axis": 0}, 13))
    c.append(Case("dequantize_i32", "DequantizeLinear", [("x", rand(5, dtype=np.int32, lo=-1000, hi=1000)), ("s", f32(0.01))], {}, 13))

    # TopK, OneHot, NonZero, Trilu, Compress, ReverseSequence, Range, EyeLike, ConstantOfShape, Dropout, Shape, Size
    tk = rand(3, 8, dtype=np.int32, lo=0, hi=3).astype(np.float32)
    c.append(Case("topk_ties_largest", "TopK", [("x", tk), ("k", i64(5))], {"axis": 1}, 11, 2))
    c.append(Case("topk_ties_smallest", "TopK", [("x", tk), ("k", i64(4))], {"axis": 1, "largest": 0}, 11, 2))
    c.append(Case("topk_axis0_int64", "TopK", [("x", rand(6, 4, dtype=np.int64)), ("k", i64(3))], {"axis": 0}, 11, 2))
    c.append(Case("topk1_attr", "TopK", [("x", rand(3, 7))], {"k": 2}, 1, 2))
    c.append(Case("onehot_float_indices", "OneHot",
                  [("i", f32(0, 2.7, -1, 5, -3)), ("d", f32(4)), ("v", f32(-1, 2))], {"axis": 0}, 11))
    c.append(Case("onehot_int_values", "OneHot",
                  [("i", rand(2, 3, dtype=np.int64, lo=-4, hi=4)), ("d", i64(4)), ("v", i64(0, 9))], {"axis": 1}, 11))
    c.append(Case("nonzero_bool", "NonZero", [("x", rand(3, 4, 2, dtype=np.bool_))], {}, 13))
    c.append(Case("nonzero_int", "NonZero", [("x", rand(5, 4, dtype=np.int32, lo=-1, hi=1))], {}, 13))
    c.append(Case("trilu_lower_k", "Trilu", [("x", rand(2, 4, 6)), ("k", i64(-1))], {"upper": 0}, 14))
    c.append(Case("trilu_upper_k", "Trilu", [("x", rand(2, 5, 3, dtype=np.int64)), ("k", i64(1))], {}, 14))
    c.append(Case("compress_axis", "Compress",
                  [("x", rand(3, 4)), ("c", np.array([True, False, True], np.bool_))], {"axis": 1}, 11))
    c.append(Case("compress_flat", "Compress", [("x", rand(3, 4)), ("c", rand(7, dtype=np.bool_))], {}, 11))
    c.append(Case("reversesequence_time1", "ReverseSequence", [("x", rand(3, 5, 2)), ("l", i64(5, 1, 3))],
                  {"time_axis": 1, "batch_axis": 0}, 10))
    c.append(Case("range_int64_neg", "Range", [("a", np.array(10, np.int64)), ("b", np.array(-7, np.int64)),
                                                ("d", np.array(-3, np.int64))], {}, 11))
    c.append(Case("range_float", "Range", [("a", np.array(0.5, np.float32)), ("b", np.array(4.1, np.float32)),
                                            ("d", np.array(0.3, np.float32))], {}, 11))
    c.append(Case("eyelike_dtype_k", "EyeLike", [("x", rand(4, 6))], {"k": -2, "dtype": TensorProto.INT32}, 9))
    c.append(Case("constantofshape_int32", "ConstantOfShape", [("z", i64(2, 3))],
                  {"value": helper.make_tensor("v", TensorProto.INT32, [1], [7])}, 9))
    c.append(Case("dropout13_mask", "Dropout", [("x", rand(3, 4))], {}, 13, 2))
    c.append(Case("dropout7_inference", "Dropout", [("x", rand(3, 4))], {"ratio": 0.3}, 7))
    c.append(Case("shape15_start_end", "Shape", [("x", rand(2, 3, 4, 5))], {"start": -3, "end": -1}, 15))
    c.append(Case("size_bool", "Size", [("x", rand(2, 3, dtype=np.bool_))], {}, 13))
    boxes = np.concatenate([RNG.uniform(0, 5, (2, 12, 2)), RNG.uniform(5, 10, (2, 12, 2))], axis=2).astype(np.float32)
    c.append(Case("nms_random", "NonMaxSuppression",
                  [("b", boxes), ("s", rand(2, 3, 12, lo=0, hi=1)), ("m", i64(4)), ("iou", f32(0.3)), ("st", f32(0.2))],
                  {}, 11))
    c.append(Case("nms_center", "NonMaxSuppression",
                  [("b", np.abs(rand(1, 10, 4)) + 0.1), ("s", rand(1, 2, 10, lo=0, hi=1)), ("m", i64(10)), ("iou", f32(0.1))],
                  {"center_point_box": 1}, 11))
    return c


def compare(exp, got):
    if exp.shape != got.shape:
        return f"shape {got.shape} != ORT {exp.shape}"
    if exp.dtype != got.dtype:
        return f"dtype {got.dtype} != ORT {exp.dtype}"
    if exp.dtype.kind == "f":
        e, g = exp.astype(np.float64), got.astype(np.float64)
        if not np.allclose(g, e, rtol=1e-4, atol=1e-5, equal_nan=True):
            dd = np.abs(g - e)
            i = int(np.nanargmax(dd))
            return f"max abs diff {dd.flat[i]:.3g} at {i} (got {g.flat[i]!r}, ORT {e.flat[i]!r})"
        return None
    if not np.array_equal(exp, got):
        i = int(np.argmax(exp != got)) if exp.size else 0
        return f"values differ at {i}: got {got.flat[i]!r}, ORT {exp.flat[i]!r}"
    return None


def run_case(case, convfix, tmp):
    d = os.path.join(tmp, case.name)
    os.makedirs(d)
    path = os.path.join(d, "model.onnx")
    onnx.save(case.model(), path)
    feeds = []
    for item in case.inputs:
        if item is None:
            continue
        n, a = item
        f = os.path.join(d, f"in_{n}.npy")
        np.save(f, a)
        feeds.append(f"{n}={f}")
    ort_out, cf_out = os.path.join(d, "ort"), os.path.join(d, "cf")
    cmd = ["node", ORT_RUN, path, "--out", ort_out]
    for f in feeds:
        cmd += ["--input", f]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        return "skip", "ONNX Runtime refused it: " + r.stderr.strip().splitlines()[-1][:200]
    cmd = [convfix, "run", path, "--save-outputs", cf_out]
    for f in feeds:
        cmd += ["--input", f]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        return "fail", f"convfix exit {r.returncode}: " + r.stderr.strip()[:300]
    for o in case.outputs:
        exp = np.load(os.path.join(ort_out, o + ".npy"))
        p = os.path.join(cf_out, o + ".npy")
        if not os.path.exists(p):
            return "fail", f"output {o} not written"
        msg = compare(exp, np.load(p))
        if msg:
            return "fail", f"output {o}: {msg}"
    return "pass", ""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--convfix", required=True)
    ap.add_argument("--filter", default="")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--keep", help="keep the generated models and outputs in this folder")
    args = ap.parse_args()
    if not shutil.which("node") or not os.path.isdir(os.path.join(REPO, "node_modules", "onnxruntime-node")):
        print("ops_tensor_ort: node or onnxruntime-node missing; skipped")
        sys.exit(SKIP_EXIT)
    tmp = args.keep or tempfile.mkdtemp(prefix="cf_ops_tensor_")
    counts = {"pass": 0, "fail": 0, "skip": 0}
    try:
        for case in cases():
            if args.filter and not re.search(args.filter, case.name):
                continue
            kind, msg = run_case(case, args.convfix, tmp)
            counts[kind] += 1
            if kind == "fail":
                print(f"FAIL {case.name}: {msg}")
            elif kind == "skip" and args.verbose:
                print(f"SKIP {case.name}: {msg}")
            elif args.verbose:
                print(f"ok   {case.name}")
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"{counts['pass']} passed, {counts['fail']} failed, {counts['skip']} skipped")
    if counts["fail"]:
        sys.exit(1)
    if counts["pass"] == 0:
        sys.exit(SKIP_EXIT)


if __name__ == "__main__":
    main()
