#!/usr/bin/python3
"""Elementwise, activation, comparison, reduction, softmax, arg, cumsum, cast
and einsum ops: convfix against ONNX Runtime on single-node models.

The ONNX backend test data has one or two small cases per op; this script
covers what it leaves out: f16 and f64 inputs, integer types, every
broadcasting pattern the kernels special-case (same shape, scalar, channel,
both sides broadcast, three-way Where), tensors large enough to run on
several threads, Softmax with both axis semantics (opset 11 vs 13), every
Reduce op with one/several/all/no axes in attribute and input form, ties in
ArgMax/Hardmax, the Cast matrix, opset 18/20 ops (Mish, Bitwise*, Gelu) and
Einsum equations with diagonals and ellipses.

Each case is a one-node ONNX model built with onnx.helper and fed seeded
random inputs; `convfix run --threads 2` and ONNX Runtime (tools/ort_run.js,
npm onnxruntime-node) must agree: same shape and dtype, integers and bools
exactly, floats within the case's tolerance (default rtol 1e-5, atol 1e-6;
f16 outputs within one f16 rounding step).

Prints one FAIL line per disagreement and `N passed, N failed, N skipped`;
exit 1 on a failure, 77 when ONNX Runtime (Node) is unavailable.

  tests/oracles/ops_elementwise_ort.py --convfix BUILD/convfix [--filter REGEX] [--verbose]
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
ONNX_TYPE = {np.dtype(k): v for k, v in [
    (np.float32, TensorProto.FLOAT), (np.float16, TensorProto.FLOAT16), (np.float64, TensorProto.DOUBLE),
    (np.int8, TensorProto.INT8), (np.uint8, TensorProto.UINT8), (np.int16, TensorProto.INT16),
    (np.uint16, TensorProto.UINT16), (np.int32, TensorProto.INT32), (np.uint32, TensorProto.UINT32),
    (np.int64, TensorProto.INT64), (np.uint64, TensorProto.UINT64), (np.bool_, TensorProto.BOOL)]}

RNG = np.random.default_rng(20240611)


def rand(*shape, dtype=np.float32, lo=-3.0, hi=3.0):
    dt = np.dtype(dtype)
    if dt == np.bool_:
        return RNG.random(shape) < 0.5
    if dt.kind in "iu":
        return RNG.integers(int(lo), int(hi) + 1, size=shape).astype(dt)
    return RNG.uniform(lo, hi, size=shape).astype(dt)


def arr(values, dtype=np.float32):
    return np.array(values, dtype=dtype)


def f16_quiet(x):
    with np.errstate(over="ignore"):
        return x.astype(np.float16)


def hardmax_ref(x, axis):
    idx = np.expand_dims(np.argmax(x, axis=axis), axis)
    out = np.zeros_like(x)
    np.put_along_axis(out, idx, 1, axis=axis)
    return out


class Case:
    # ref: where ONNX Runtime itself is less accurate than convfix aims to
    # be, a numpy function of the input arrays (in float64 or longdouble)
    # gives the expected output instead; the case says why.
    def __init__(self, name, op, inputs, attrs=None, opset=17, outputs=1, rtol=1e-5, atol=1e-6, ref=None):
        self.name, self.op, self.inputs = name, op, inputs  # inputs: list of (name, array) or None
        self.attrs = attrs or {}
        self.opset = opset
        self.outputs = [f"y{i}" for i in range(outputs)]
        self.rtol, self.atol = rtol, atol
        self.ref = ref

    def model(self):
        ins, names = [], []
        for item in self.inputs:
            if item is None:
                names.append("")
                continue
            n, a = item
            names.append(n)
            ins.append(helper.make_tensor_value_info(n, ONNX_TYPE[a.dtype], list(a.shape)))
        node = helper.make_node(self.op, names, self.outputs, name="n0", **self.attrs)
        outs = [helper.make_empty_tensor_value_info(o) for o in self.outputs]
        g = helper.make_graph([node], self.name, ins, outs)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", self.opset)])
        m.ir_version = 8
        return m


def unary_cases():
    c = []
    big = rand(3, 40, 33, 17)  # 67320 elements: more than one parallel task
    domains = {
        "Abs": (-5, 5), "Neg": (-5, 5), "Reciprocal": (0.1, 5), "Sqrt": (0, 9), "Exp": (-80, 80),
        "Log": (1e-3, 50), "Floor": (-5, 5), "Ceil": (-5, 5), "Sign": (-2, 2), "Sin": (-7, 7), "Cos": (-7, 7),
        "Tan": (-1.4, 1.4), "Asin": (-1, 1), "Acos": (-1, 1), "Atan": (-9, 9), "Sinh": (-5, 5), "Cosh": (-5, 5),
        "Asinh": (-9, 9), "Acosh": (1, 9), "Atanh": (-0.99, 0.99), "Erf": (-3, 3), "Sigmoid": (-100, 100),
        "Tanh": (-10, 10), "Relu": (-3, 3), "Softsign": (-9, 9), "Softplus": (-90, 90),
    }
    for op, (lo, hi) in domains.items():
        c.append(Case(f"{op.lower()}_f32", op, [("x", rand(4, 5, 6, lo=lo, hi=hi))], opset=13))
    for op in ["Exp", "Sigmoid", "Tanh", "Relu", "Abs", "Neg"]:
        lo, hi = domains[op]
        c.append(Case(f"{op.lower()}_f32_big", op, [("x", rand(3, 40, 33, 17, lo=lo, hi=hi))], opset=13))
        ref = None
        if op == "Sigmoid":  # ONNX Runtime's f64 Sigmoid goes through tanh and loses relative accuracy for x << 0
            ref = lambda x: (1 / (1 + np.exp(-x.astype(np.longdouble)))).astype(np.float64)  # noqa: E731
        c.append(Case(f"{op.lower()}_f64", op, [("x", rand(5, 7, lo=lo, hi=hi, dtype=np.float64))], opset=13,
                      rtol=1e-12, atol=1e-300, ref=ref))
        c.append(Case(f"{op.lower()}_f16", op, [("x", rand(5, 7, lo=max(lo, -10), hi=min(hi, 10), dtype=np.float16))],
                      opset=13))
    ties = arr([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, -0.49999997, 0.49999997, 1e8 + 0.5, -0.0, 7.25])
    c.append(Case("round_ties_even", "Round", [("x", ties)], opset=11))
    specials = arr([np.inf, -np.inf, np.nan, 0.0, -1.0, 3.0])
    c.append(Case("isnan", "IsNaN", [("x", specials)], opset=13))
    for pos, neg in [(1, 1), (1, 0), (0, 1)]:
        c.append(Case(f"isinf_{pos}{neg}", "IsInf", [("x", specials)],
                      {"detect_positive": pos, "detect_negative": neg}, opset=10))
    c.append(Case("exp_overflow_underflow", "Exp", [("x", arr([88.7, 88.8, 100, -87.3, -100, -103.9, -104.5, -200, np.nan]))],
                  opset=13, atol=1e-44))
    c.append(Case("not_bool", "Not", [("x", rand(3, 4, dtype=np.bool_))], opset=1))
    for dt in [np.int8, np.int32, np.int64]:
        n = np.dtype(dt).name
        c.append(Case(f"abs_{n}", "Abs", [("x", rand(4, 5, dtype=dt, lo=-100, hi=100))], opset=13))
        c.append(Case(f"neg_{n}", "Neg", [("x", rand(4, 5, dtype=dt, lo=-100, hi=100))], opset=13))
        c.append(Case(f"sign_{n}", "Sign", [("x", rand(4, 5, dtype=dt, lo=-2, hi=2))], opset=13))
        # ONNX Runtime has no int64 Relu kernel: numpy is the reference there.
        c.append(Case(f"relu_{n}", "Relu", [("x", rand(4, 5, dtype=dt, lo=-100, hi=100))], opset=14,
                      ref=(lambda x: np.maximum(x, 0)) if dt == np.int64 else None))
    c.append(Case("sign_f32_zero", "Sign", [("x", arr([-0.0, 0.0, -3, 5e-30]))], opset=13))

    # Activations with attributes.
    x = rand(3, 4, 5, lo=-4, hi=4)
    c.append(Case("leakyrelu_alpha", "LeakyRelu", [("x", x)], {"alpha": 0.2}, opset=16))
    c.append(Case("leakyrelu_f16", "LeakyRelu", [("x", x.astype(np.float16))], {"alpha": 0.3}, opset=16))
    c.append(Case("hardsigmoid_attrs", "HardSigmoid", [("x", x)], {"alpha": 0.3, "beta": 0.4}, opset=6))
    c.append(Case("hardswish", "HardSwish", [("x", rand(3, 4, 5, lo=-5, hi=5))], opset=14))
    c.append(Case("elu_alpha", "Elu", [("x", x)], {"alpha": 0.7}, opset=6))
    # ONNX Runtime computes alpha * (exp(x) - 1) in f32, losing most digits near 0; expm1 in longdouble is the reference.
    c.append(Case("elu_small", "Elu", [("x", rand(50, lo=-1e-4, hi=1e-4))], opset=6, rtol=1e-6, atol=1e-12,
                  ref=lambda x: np.where(x < 0, np.expm1(x.astype(np.longdouble)), x).astype(np.float32)))
    c.append(Case("selu_attrs", "Selu", [("x", x)], {"alpha": 1.5, "gamma": 2.0}, opset=6))
    c.append(Case("selu_default", "Selu", [("x", x)], opset=6))
    c.append(Case("celu_alpha", "Celu", [("x", x)], {"alpha": 2.0}, opset=12))
    c.append(Case("thresholdedrelu", "ThresholdedRelu", [("x", x)], {"alpha": 0.5}, opset=10))
    # No f64 Softplus in ONNX Runtime: numpy's logaddexp(0, x) is the reference.
    c.append(Case("softplus_f64", "Softplus", [("x", rand(40, lo=-800, hi=800, dtype=np.float64))], opset=1,
                  rtol=1e-12, atol=1e-300, ref=lambda x: np.logaddexp(0.0, x)))
    c.append(Case("mish", "Mish", [("x", rand(3, 4, 5, lo=-30, hi=30))], opset=18))
    c.append(Case("gelu_none", "Gelu", [("x", x)], {"approximate": "none"}, opset=20))
    c.append(Case("gelu_tanh", "Gelu", [("x", x)], {"approximate": "tanh"}, opset=20))
    c.append(Case("shrink_f32", "Shrink", [("x", x)], {"lambd": 1.0, "bias": 0.25}, opset=9))
    c.append(Case("shrink_int8", "Shrink", [("x", rand(20, dtype=np.int8, lo=-9, hi=9))], {"lambd": 2.0, "bias": 1.0},
                  opset=9))
    # PRelu: numpy broadcasting of the slope.
    x4 = rand(2, 3, 4, 5)
    c.append(Case("prelu_channel", "PRelu", [("x", x4), ("s", rand(3, 1, 1))], opset=16))
    c.append(Case("prelu_scalar", "PRelu", [("x", x4), ("s", arr([0.25]))], opset=16))
    c.append(Case("prelu_full", "PRelu", [("x", x4), ("s", rand(2, 3, 4, 5))], opset=16))
    c.append(Case("prelu_int32", "PRelu", [("x", rand(4, 5, dtype=np.int32, lo=-9, hi=9)),
                                           ("s", rand(5, dtype=np.int32, lo=-3, hi=3))], opset=16))
    # Clip
    c.append(Case("clip6_attrs", "Clip", [("x", x)], {"min": -1.0, "max": 2.0}, opset=6))
    c.append(Case("clip6_min_only", "Clip", [("x", x)], {"min": -1.0}, opset=6))
    c.append(Case("clip11_inputs", "Clip", [("x", x), ("lo", arr(-0.5)), ("hi", arr(0.7))], opset=11))
    c.append(Case("clip11_max_only", "Clip", [("x", x), None, ("hi", arr(0.7))], opset=11))
    c.append(Case("clip13_min_gt_max", "Clip", [("x", x), ("lo", arr(1.0)), ("hi", arr(-1.0))], opset=13))
    c.append(Case("clip13_f16", "Clip", [("x", x.astype(np.float16)), ("lo", arr(-1, np.float16)),
                                         ("hi", arr(1.5, np.float16))], opset=13))
    for dt in [np.int32, np.uint8, np.int64]:
        n = np.dtype(dt).name
        c.append(Case(f"clip13_{n}", "Clip", [("x", rand(5, 6, dtype=dt, lo=0, hi=100)), ("lo", arr(10, dt)),
                                              ("hi", arr(60, dt))], opset=13))
    c.append(Case("clip13_big", "Clip", [("x", big), ("lo", arr(0.0)), ("hi", arr(6.0))], opset=13))
    return c


def binary_cases():
    c = []
    shapes = {
        "same": ((2, 3, 4, 5), (2, 3, 4, 5)),
        "scalar": ((2, 3, 4, 5), ()),
        "scalar_left": ((), (2, 3, 4, 5)),
        "channel": ((2, 3, 4, 5), (1, 3, 1, 1)),
        "channel_rank3": ((2, 3, 4, 5), (3, 1, 1)),
        "lastdim": ((2, 3, 4, 5), (5,)),
        "both": ((2, 1, 4, 1), (1, 3, 1, 5)),
        "middle": ((4, 1, 6), (4, 5, 6)),
        "zero": ((0, 3), (1, 3)),
    }
    for op in ["Add", "Sub", "Mul", "Div"]:
        for sk, (sa, sb) in shapes.items():
            b = rand(*sb, lo=0.5, hi=3) if op == "Div" else rand(*sb)
            c.append(Case(f"{op.lower()}_{sk}", op, [("a", rand(*sa)), ("b", b)], opset=14))
        c.append(Case(f"{op.lower()}_big_channel", op, [("a", rand(2, 32, 40, 41)), ("b", rand(32, 1, 1, lo=0.5))],
                      opset=14))
        c.append(Case(f"{op.lower()}_f16", op, [("a", rand(3, 4, dtype=np.float16)), ("b", rand(4, dtype=np.float16, lo=0.5))],
                      opset=14))
        c.append(Case(f"{op.lower()}_f64", op, [("a", rand(3, 4, dtype=np.float64)), ("b", rand(3, 1, dtype=np.float64, lo=0.5))],
                      opset=14, rtol=1e-14, atol=0))
        for dt in [np.int8, np.uint8, np.int32, np.int64]:
            lo = 0 if np.dtype(dt).kind == "u" else -100
            b = rand(3, 4, dtype=dt, lo=1, hi=20)
            if op == "Div" and lo < 0:
                b = b * np.where(rand(3, 4, dtype=np.bool_), 1, -1).astype(dt)
            c.append(Case(f"{op.lower()}_{np.dtype(dt).name}", op, [("a", rand(3, 4, dtype=dt, lo=lo, hi=100)), ("b", b)],
                          opset=14))
    # Mod: both sign conventions, ints and floats.
    mi = rand(5, 6, dtype=np.int32, lo=-50, hi=50)
    md = rand(5, 6, dtype=np.int32, lo=1, hi=9) * np.where(rand(5, 6, dtype=np.bool_), 1, -1).astype(np.int32)
    c.append(Case("mod_int32", "Mod", [("a", mi), ("b", md)], opset=13))
    c.append(Case("mod_int32_fmod", "Mod", [("a", mi), ("b", md)], {"fmod": 1}, opset=13))
    c.append(Case("mod_int64_bcast", "Mod", [("a", mi.astype(np.int64)), ("b", arr([7, -7, 3, -3, 5, 2], np.int64))],
                  opset=13))
    c.append(Case("mod_f32_fmod", "Mod", [("a", rand(5, 6, lo=-9, hi=9)), ("b", rand(6, lo=0.5, hi=3))], {"fmod": 1},
                  opset=13))
    c.append(Case("mod_uint8", "Mod", [("a", rand(5, 6, dtype=np.uint8, lo=0, hi=255)), ("b", rand(6, dtype=np.uint8, lo=1, hi=30))],
                  opset=13))
    # Pow with mixed types.
    c.append(Case("pow_f32", "Pow", [("a", rand(3, 4, lo=0.1, hi=3)), ("b", rand(3, 4, lo=-2, hi=2))], opset=15))
    c.append(Case("pow_f32_square", "Pow", [("a", rand(3, 4)), ("b", arr(2.0))], opset=15))
    c.append(Case("pow_f32_int64_exp", "Pow", [("a", rand(3, 4)), ("b", arr([0, 1, 2, 3], np.int64))], opset=15))
    c.append(Case("pow_int64_int64", "Pow", [("a", rand(3, 4, dtype=np.int64, lo=-5, hi=5)),
                                             ("b", rand(4, dtype=np.int64, lo=0, hi=5))], opset=15))
    c.append(Case("pow_int32_f32", "Pow", [("a", rand(3, 4, dtype=np.int32, lo=1, hi=6)), ("b", arr([0.5, 1, 2, 2.5]))],
                  opset=15))
    c.append(Case("pow_f16", "Pow", [("a", rand(3, 4, dtype=np.float16, lo=0.1, hi=2)), ("b", rand(3, 4, dtype=np.float16))],
                  opset=15))
    # Variadic Max/Min/Sum/Mean with three-way broadcasting.
    va, vb, vc = rand(2, 1, 4), rand(3, 1), rand(4)
    for op in ["Max", "Min", "Sum", "Mean"]:
        c.append(Case(f"{op.lower()}_three", op, [("a", va), ("b", vb), ("c", vc)], opset=13))
        c.append(Case(f"{op.lower()}_one", op, [("a", va)], opset=13))
    c.append(Case("max_int32", "Max", [("a", rand(3, 4, dtype=np.int32)), ("b", rand(4, dtype=np.int32))], opset=13))
    c.append(Case("min_uint64", "Min", [("a", rand(3, 4, dtype=np.uint64, lo=0, hi=9)), ("b", rand(4, dtype=np.uint64, lo=0, hi=9))],
                  opset=13))
    c.append(Case("max_f16", "Max", [("a", rand(3, 4, dtype=np.float16)), ("b", rand(1, 4, dtype=np.float16))], opset=13))
    # Bit ops.
    for dt in [np.uint8, np.uint32, np.uint64]:
        n = np.dtype(dt).name
        bits = np.dtype(dt).itemsize * 8
        a, s = rand(4, 5, dtype=dt, lo=0, hi=200), rand(5, dtype=dt, lo=0, hi=bits - 1)
        c.append(Case(f"bitshift_left_{n}", "BitShift", [("a", a), ("s", s)], {"direction": "LEFT"}, opset=11))
        c.append(Case(f"bitshift_right_{n}", "BitShift", [("a", a), ("s", s)], {"direction": "RIGHT"}, opset=11))
    for op in ["BitwiseAnd", "BitwiseOr", "BitwiseXor"]:
        for dt in [np.int32, np.uint8]:
            c.append(Case(f"{op.lower()}_{np.dtype(dt).name}", op,
                          [("a", rand(4, 5, dtype=dt, lo=0, hi=255)), ("b", rand(5, dtype=dt, lo=0, hi=255))], opset=18))
    c.append(Case("bitwisenot_int32", "BitwiseNot", [("a", rand(4, 5, dtype=np.int32, lo=-300, hi=300))], opset=18))
    c.append(Case("bitwisenot_uint8", "BitwiseNot", [("a", rand(4, 5, dtype=np.uint8, lo=0, hi=255))], opset=18))
    return c


def compare_cases():
    c = []
    for op in ["Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual"]:
        a = rand(3, 4, 5, dtype=np.int32, lo=-2, hi=2)
        c.append(Case(f"{op.lower()}_int32_bcast", op, [("a", a), ("b", rand(4, 1, dtype=np.int32, lo=-2, hi=2))], opset=16))
        af = a.astype(np.float32)
        c.append(Case(f"{op.lower()}_f32_same", op, [("a", af), ("b", rand(3, 4, 5, dtype=np.int32, lo=-2, hi=2).astype(np.float32))],
                      opset=16))
        c.append(Case(f"{op.lower()}_f16", op, [("a", af.astype(np.float16)), ("b", arr(0.0, np.float16))], opset=16))
        c.append(Case(f"{op.lower()}_uint8", op, [("a", rand(6, dtype=np.uint8, lo=0, hi=3)), ("b", rand(6, dtype=np.uint8, lo=0, hi=3))],
                      opset=16))
    c.append(Case("equal_bool", "Equal", [("a", rand(3, 4, dtype=np.bool_)), ("b", rand(4, dtype=np.bool_))], opset=13))
    for op in ["And", "Or", "Xor"]:
        c.append(Case(f"{op.lower()}_bcast", op, [("a", rand(2, 3, 1, dtype=np.bool_)), ("b", rand(1, 4, dtype=np.bool_))], opset=7))
        c.append(Case(f"{op.lower()}_big", op, [("a", rand(300, 250, dtype=np.bool_)), ("b", rand(300, 250, dtype=np.bool_))],
                      opset=7))
    cond = rand(2, 1, 4, dtype=np.bool_)
    for dt in [np.float32, np.float16, np.int64, np.uint8, np.bool_, np.float64]:
        c.append(Case(f"where_{np.dtype(dt).name}_3way", "Where",
                      [("c", cond), ("x", rand(3, 1, dtype=dt)), ("y", rand(1, 1, 1, dtype=dt))], opset=16,
                      ref=np.where if dt == np.bool_ else None))  # no bool Where in ONNX Runtime
    c.append(Case("where_big_same", "Where", [("c", rand(4, 100, 200, dtype=np.bool_)), ("x", rand(4, 100, 200)),
                                              ("y", rand(4, 100, 200))], opset=16))
    c.append(Case("where_scalar_y", "Where", [("c", rand(5, 7, dtype=np.bool_)), ("x", rand(5, 7)), ("y", arr(-1.0))], opset=16))
    return c


def softmax_cases():
    c = []
    x = rand(2, 3, 4, 5, lo=-6, hi=6)
    for op in ["Softmax", "LogSoftmax", "Hardmax"]:
        for opset in [11, 13]:
            for axis in [0, 1, 2, 3, -1, -3]:
                c.append(Case(f"{op.lower()}{opset}_axis{axis}", op, [("x", x)], {"axis": axis}, opset=opset))
            c.append(Case(f"{op.lower()}{opset}_default", op, [("x", x)], opset=opset))
        c.append(Case(f"{op.lower()}_big_lastdim", op, [("x", rand(64, 1000, lo=-20, hi=20))], {"axis": -1}, opset=13))
        c.append(Case(f"{op.lower()}_big_channel", op, [("x", rand(2, 19, 30, 31, lo=-20, hi=20))], {"axis": 1}, opset=13))
        c.append(Case(f"{op.lower()}_f64", op, [("x", rand(3, 7, dtype=np.float64, lo=-9, hi=9))], {"axis": 1}, opset=13,
                      rtol=1e-12, atol=1e-300,  # no f64 Hardmax in ONNX Runtime
                      ref=(lambda x: hardmax_ref(x, 1)) if op == "Hardmax" else None))
        c.append(Case(f"{op.lower()}_f16", op, [("x", rand(3, 7, dtype=np.float16))], {"axis": 1}, opset=13))
    ties = rand(4, 6, dtype=np.int32, lo=0, hi=2).astype(np.float32)
    c.append(Case("hardmax_ties_last", "Hardmax", [("x", ties)], {"axis": -1}, opset=13))
    c.append(Case("hardmax_ties_axis0", "Hardmax", [("x", ties)], {"axis": 0}, opset=13))
    c.append(Case("softmax_large", "Softmax", [("x", arr([[1000, 1001, 1002], [-1e30, 0, 1e30]]))], {"axis": 1}, opset=13))
    c.append(Case("logsoftmax_large", "LogSoftmax", [("x", arr([[1000, 1001, 1002], [-50, 0, 50]]))], {"axis": 1}, opset=13))
    return c


def reduce_cases():
    c = []
    ops = ["ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
           "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"]
    x = rand(3, 4, 5, 6, lo=0.5, hi=1.5)  # positive, near 1: LogSum and Prod stay finite
    xs = rand(3, 4, 5, 6, lo=-3, hi=3)
    axes_sets = {"a1": [1], "a02": [0, 2], "a13": [1, 3], "a_last": [-1], "a01": [0, 1], "a3": [3], "a023": [0, 2, 3]}
    for op in ops:
        data = x if op in ("ReduceLogSum", "ReduceProd") else xs
        for ak, axes in axes_sets.items():
            for keep in [0, 1]:
                c.append(Case(f"{op.lower()}13_{ak}_k{keep}", op,
                              [("x", data), ("a", np.array(axes, np.int64))] if op == "ReduceSum" else [("x", data)],
                              {"keepdims": keep} if op == "ReduceSum" else {"axes": axes, "keepdims": keep}, opset=13,
                              rtol=1e-5, atol=1e-5))
        c.append(Case(f"{op.lower()}13_all", op, [("x", data)], {"keepdims": 0}, opset=13, atol=1e-5))
        # Opset 18: axes as an input for every Reduce op; empty axes with and without noop.
        c.append(Case(f"{op.lower()}18_axes_input", op, [("x", data), ("a", np.array([2, 0], np.int64))], opset=18, atol=1e-5))
        c.append(Case(f"{op.lower()}18_noop", op, [("x", data), ("a", np.zeros(0, np.int64))],
                      {"noop_with_empty_axes": 1}, opset=18, atol=1e-5))
        c.append(Case(f"{op.lower()}18_empty_axes_all", op, [("x", data), ("a", np.zeros(0, np.int64))], opset=18, atol=1e-5))
        c.append(Case(f"{op.lower()}11_f64", op, [("x", data.astype(np.float64))], {"axes": [1, 2]}, opset=11,
                      rtol=1e-12, atol=1e-12))
        c.append(Case(f"{op.lower()}13_f16", op, [("x", data[:, :2, :3].astype(np.float16))], {"axes": [1]} if op != "ReduceSum" else {},
                      opset=13))
    big = rand(4, 64, 33, 35)
    c.append(Case("reducemean_big_hw", "ReduceMean", [("x", big)], {"axes": [2, 3]}, opset=13, atol=1e-6))
    c.append(Case("reducemean_big_channel", "ReduceMean", [("x", big)], {"axes": [1]}, opset=13, atol=1e-6))
    c.append(Case("reducemax_big_all", "ReduceMax", [("x", big)], {"keepdims": 0}, opset=13))
    c.append(Case("reducesum_big_rows", "ReduceSum", [("x", big.reshape(4 * 64, 33 * 35)), ("a", np.array([1], np.int64))],
                  opset=13, rtol=1e-5, atol=1e-4))
    for dt in [np.int32, np.int64]:
        n = np.dtype(dt).name
        xi = rand(3, 4, 5, dtype=dt, lo=-9, hi=9)
        c.append(Case(f"reducesum_{n}", "ReduceSum", [("x", xi), ("a", np.array([1], np.int64))], opset=13))
        c.append(Case(f"reducemax_{n}", "ReduceMax", [("x", xi)], {"axes": [0, 2]}, opset=13))
        c.append(Case(f"reducemin_{n}", "ReduceMin", [("x", xi)], {"axes": [2]}, opset=13))
        c.append(Case(f"reduceprod_{n}", "ReduceProd", [("x", rand(3, 4, 3, dtype=dt, lo=-3, hi=3))], {"axes": [1]}, opset=13))
        c.append(Case(f"reducemean_{n}", "ReduceMean", [("x", xi)], {"axes": [1]}, opset=13))
        c.append(Case(f"reducesumsquare_{n}", "ReduceSumSquare", [("x", xi)], {"axes": [1]}, opset=13))
        c.append(Case(f"reducel1_{n}", "ReduceL1", [("x", xi)], {"axes": [1]}, opset=13))
    c.append(Case("reducemax_uint8", "ReduceMax", [("x", rand(3, 4, 5, dtype=np.uint8, lo=0, hi=255))], {"axes": [1]}, opset=13))
    c.append(Case("reducemin_int8", "ReduceMin", [("x", rand(3, 4, 5, dtype=np.int8, lo=-128, hi=127))], {"axes": [2]}, opset=13))
    return c


def arg_cumsum_cases():
    c = []
    ties = rand(3, 4, 5, dtype=np.int32, lo=0, hi=3).astype(np.float32)
    for op in ["ArgMax", "ArgMin"]:
        for axis in [0, 1, 2, -1]:
            for keep in [0, 1]:
                for last in [0, 1]:
                    c.append(Case(f"{op.lower()}_ax{axis}_k{keep}_l{last}", op, [("x", ties)],
                                  {"axis": axis, "keepdims": keep, "select_last_index": last}, opset=13))
        c.append(Case(f"{op.lower()}_int32", op, [("x", rand(4, 7, dtype=np.int32, lo=-3, hi=3))], {"axis": 1}, opset=13))
        c.append(Case(f"{op.lower()}_f16", op, [("x", ties.astype(np.float16))], {"axis": 2}, opset=13))
        c.append(Case(f"{op.lower()}_big", op, [("x", rand(8, 1000, 9))], {"axis": 1}, opset=13))
        c.append(Case(f"{op.lower()}_uint8_default", op, [("x", rand(6, 3, dtype=np.uint8, lo=0, hi=4))], opset=13))
    x = rand(3, 4, 5)
    for axis in [0, 1, -1]:
        for ex in [0, 1]:
            for rev in [0, 1]:
                c.append(Case(f"cumsum_ax{axis}_e{ex}_r{rev}", "CumSum", [("x", x), ("a", np.array(axis, np.int64))],
                              {"exclusive": ex, "reverse": rev}, opset=14))
    c.append(Case("cumsum_int32_axis_i32", "CumSum", [("x", rand(4, 6, dtype=np.int32, lo=-50, hi=50)),
                                                      ("a", np.array(1, np.int32))], opset=14))
    c.append(Case("cumsum_int64_rev", "CumSum", [("x", rand(4, 6, dtype=np.int64, lo=-50, hi=50)),
                                                 ("a", np.array(0, np.int64))], {"reverse": 1}, opset=14))
    c.append(Case("cumsum_f64", "CumSum", [("x", rand(50, dtype=np.float64)), ("a", np.array(0, np.int64))], opset=14,
                  rtol=1e-12, atol=1e-12))
    c.append(Case("cumsum_big", "CumSum", [("x", rand(64, 500, 3)), ("a", np.array(1, np.int64))], opset=14, rtol=1e-5, atol=1e-4))
    return c


def cast_cases():
    c = []
    types = [np.float32, np.float64, np.float16, np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.int64,
             np.uint64, np.bool_]
    # Values valid in every type: small non-negative integers and halves (float -> int truncates).
    vals = {np.dtype(t): None for t in types}
    for src in types:
        sd = np.dtype(src)
        if sd == np.bool_:
            x = rand(3, 5, dtype=np.bool_)
        elif sd.kind == "f":
            x = (rand(3, 5, dtype=np.int32, lo=0, hi=100) / 2).astype(sd)
        else:
            x = rand(3, 5, dtype=sd, lo=0, hi=100)
        vals[sd] = x
        for dst in types:
            dd = np.dtype(dst)
            if dd == sd:
                continue
            c.append(Case(f"cast_{sd.name}_to_{dd.name}", "Cast", [("x", x)], {"to": ONNX_TYPE[dd]}, opset=13))
    # Signed values into signed types; wrap-around when narrowing integers.
    c.append(Case("cast_f32_neg_to_int32", "Cast", [("x", arr([-3.7, -0.5, 0.5, 3.7, -100.2, 2e9]))], {"to": TensorProto.INT32},
                  opset=13))
    c.append(Case("cast_int32_to_int8_wrap", "Cast", [("x", arr([300, -300, 127, 128, -129, 65535], np.int32))],
                  {"to": TensorProto.INT8}, opset=13))
    c.append(Case("cast_int64_to_uint8_wrap", "Cast", [("x", arr([-1, 256, 511, -255], np.int64))], {"to": TensorProto.UINT8},
                  opset=13))
    c.append(Case("cast_f32_to_bool_specials", "Cast", [("x", arr([0.0, -0.0, 1e-30, np.inf, -2.0]))], {"to": TensorProto.BOOL},
                  opset=13))
    # f16 rounding: from f32 and f64 near midpoints, overflow to inf, subnormals.
    h = np.arange(0x3c00, 0x3c40, dtype=np.uint16).view(np.float16).astype(np.float64)
    mids = np.concatenate([(h[:-1] + h[1:]) / 2, (h[:-1] + h[1:]) / 2 + 1e-9, [65519.0, 65520.0, 1e6, 3e-8, 5.9604644775390625e-08]])
    # ONNX Runtime casts f64 -> f32 -> f16 (two roundings: values just above a midpoint round down); numpy's
    # direct rounding is the reference.
    c.append(Case("cast_f64_to_f16_midpoints", "Cast", [("x", mids.astype(np.float64))], {"to": TensorProto.FLOAT16}, opset=13,
                  rtol=0, atol=0, ref=f16_quiet))
    c.append(Case("cast_f32_to_f16_midpoints", "Cast", [("x", mids.astype(np.float32))], {"to": TensorProto.FLOAT16}, opset=13,
                  rtol=0, atol=0))
    c.append(Case("cast_big_f32_to_f16", "Cast", [("x", rand(3, 100, 300))], {"to": TensorProto.FLOAT16}, opset=13, rtol=0, atol=0))
    c.append(Case("castlike_f32_to_int64", "CastLike", [("x", arr([1.5, -2.5, 7.9])), ("like", arr([0], np.int64))], opset=15))
    c.append(Case("castlike_int32_to_f16", "CastLike", [("x", arr([1, 2049, -70000], np.int32)), ("like", arr([0], np.float16))],
                  opset=15))
    return c


def einsum_cases():
    c = []
    a, b = rand(3, 4), rand(4, 5)
    eqs = [
        ("matmul", "ij,jk->ik", [a, b]),
        ("matmul_implicit", "ij,jk", [a, b]),
        ("batch_matmul", "bij,bjk->bik", [rand(2, 3, 4), rand(2, 4, 5)]),
        ("attention", "bhqd,bhkd->bhqk", [rand(2, 2, 3, 4), rand(2, 2, 5, 4)]),
        ("outer", "i,j->ij", [rand(3), rand(4)]),
        ("trace", "ii->", [rand(4, 4)]),
        ("diag", "ii->i", [rand(4, 4)]),
        ("implicit_transpose", "ba", [rand(3, 4)]),
        ("ellipsis_matmul", "...ij,...jk->...ik", [rand(2, 3, 4), rand(4, 5)]),  # ONNX Runtime refuses it: numpy
        ("ellipsis_bmm", "...ij,...jk->...ik", [rand(2, 3, 4), rand(2, 4, 5)]),
        ("ellipsis_sum", "...i->...", [rand(2, 3, 4)]),
        ("sum_all", "ijk->", [rand(2, 3, 4)]),
        ("three_inputs", "ij,jk,kl->il", [rand(2, 3), rand(3, 4), rand(4, 2)]),
        ("contract_two", "abc,cbd->ad", [rand(2, 3, 4), rand(4, 3, 5)]),
        ("spaces", " ij , jk -> ik ", [a, b]),
    ]
    for name, eq, ins in eqs:
        ref = None
        if name == "ellipsis_matmul":
            ref = lambda *xs, eq=eq: np.einsum(eq, *[t.astype(np.float64) for t in xs]).astype(np.float32)  # noqa: E731
        c.append(Case(f"einsum_{name}", "Einsum", [(f"x{i}", t) for i, t in enumerate(ins)], {"equation": eq}, opset=12,
                      ref=ref))
    c.append(Case("einsum_int32", "Einsum", [("x0", rand(3, 4, dtype=np.int32)), ("x1", rand(4, 2, dtype=np.int32))],
                  {"equation": "ij,jk->ik"}, opset=12))
    c.append(Case("einsum_f64", "Einsum", [("x0", rand(3, 4, dtype=np.float64)), ("x1", rand(4, 2, dtype=np.float64))],
                  {"equation": "ij,jk->ki"}, opset=12, rtol=1e-12, atol=1e-12))
    return c


def cases():
    return unary_cases() + binary_cases() + compare_cases() + softmax_cases() + reduce_cases() + arg_cumsum_cases() + \
        cast_cases() + einsum_cases()


def compare(case, exp, got):
    if exp.shape != got.shape:
        return f"shape {got.shape} != ORT {exp.shape}"
    if exp.dtype != got.dtype:
        return f"dtype {got.dtype} != ORT {exp.dtype}"
    if exp.dtype.kind == "f":
        e, g = exp.astype(np.float64), got.astype(np.float64)
        rtol, atol = case.rtol, case.atol
        if exp.dtype == np.float16 and (rtol or atol):
            rtol, atol = max(rtol, 2.0 ** -10), max(atol, 2.0 ** -24)  # one f16 rounding step
        same_inf = np.isinf(e) == np.isinf(g)
        ok = np.allclose(g, e, rtol=rtol, atol=atol, equal_nan=True) and np.all(same_inf) and \
            np.array_equal(np.isnan(e), np.isnan(g))
        if not ok:
            with np.errstate(invalid="ignore"):
                dd = np.abs(g - e)
            same = (g == e) | (np.isnan(e) & np.isnan(g))
            dd = np.where(same, 0.0, np.where(np.isnan(dd), np.inf, dd))
            i = int(np.argmax(dd)) if dd.size else 0
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
    if case.ref:
        os.makedirs(ort_out)
        np.save(os.path.join(ort_out, case.outputs[0] + ".npy"), case.ref(*[a for _, a in filter(None, case.inputs)]))
    else:
        cmd = ["node", ORT_RUN, path, "--out", ort_out]
        for f in feeds:
            cmd += ["--input", f]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            lines = r.stderr.strip().splitlines() or ["(no message)"]
            return "skip", "ONNX Runtime refused it: " + lines[-1][:200]
    cmd = [convfix, "run", path, "--threads", "2", "--save-outputs", cf_out]
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
        msg = compare(case, exp, np.load(p))
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
        print("ops_elementwise_ort: node or onnxruntime-node missing; skipped")
        sys.exit(SKIP_EXIT)
    tmp = args.keep or tempfile.mkdtemp(prefix="cf_ops_elementwise_")
    counts = {"pass": 0, "fail": 0, "skip": 0}
    try:
        for case in cases():
            if args.filter and not re.search(args.filter, case.name):
                continue
            kind, msg = run_case(case, args.convfix, tmp)
            counts[kind] += 1
            if kind == "fail":
                print(f"FAIL {case.name}: {msg}", flush=True)
            elif kind == "skip" and args.verbose:
                print(f"SKIP {case.name}: {msg}", flush=True)
            elif args.verbose:
                print(f"ok   {case.name}", flush=True)
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
