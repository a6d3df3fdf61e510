#!/usr/bin/python3
"""Generates small .tflite models that cover the ops, options and file
features convfix's TFLite reader and writer must handle, each with a fixed
input and (where one is practical) a numpy reference output.

The files are written with python3-flatbuffers' low-level Builder, table by
table, with the field slots and union codes of the TFLite schema written out
here independently of convfix's own schema (src/formats/tflite/), so a slip
in either shows up: the real TFLite runtime (tools/tflite_run.js) runs the
generated file and its output is checked against numpy before the file is
used to test convfix's round trip (tests/tflite/test_roundtrip.py).

Usage: gen_tflite_models.py --out DIR [--only NAME...]
Writes DIR/NAME.tflite, DIR/NAME.input_<i>.npy, DIR/NAME.expect_<i>.npy and
DIR/manifest.json: {NAME: {"inputs": n, "expect": [file or null per output],
"atol": float, "runtime": bool (the runtime can run it), "what": text,
["twin": {"model": NAME2, "reference": FUNCTION}]}}: a model the runtime cannot
run (custom ops) names a builtin twin the runtime runs and a function here
that turns (inputs, the twin's runtime outputs) into the expected outputs.
Needs Debian's python3-flatbuffers and python3-numpy.
"""
import argparse
import json
import math
import os
import sys

import numpy as np

try:
    import flatbuffers
except ImportError:  # pragma: no cover
    sys.exit("gen_tflite_models.py: needs Debian's python3-flatbuffers")

# ------------------------------------------------------------ schema facts
# TensorType
F32, F16, I32, U8, I64, STRING, BOOL, I16, I8, INT4 = 0, 1, 2, 3, 4, 5, 6, 7, 9, 17
NP_OF = {F32: np.float32, I32: np.int32, U8: np.uint8, I64: np.int64, BOOL: np.bool_, I16: np.int16, I8: np.int8}
# ActivationFunctionType, Padding
NONE, RELU, RELU_N1_TO_1, RELU6, TANH = 0, 1, 2, 3, 4
SAME, VALID = 0, 1
# BuiltinOperator codes
OP = dict(ADD=0, AVERAGE_POOL_2D=1, CONCATENATION=2, CONV_2D=3, DEPTHWISE_CONV_2D=4, DEPTH_TO_SPACE=5,
          DEQUANTIZE=6, FULLY_CONNECTED=9, L2_NORMALIZATION=11, LOCAL_RESPONSE_NORMALIZATION=13, LOGISTIC=14,
          MAX_POOL_2D=17, MUL=18, RELU=19, RELU6=21, RESHAPE=22, RESIZE_BILINEAR=23, SOFTMAX=25,
          SPACE_TO_DEPTH=26, TANH=28, CUSTOM=32, PAD=34, GATHER=36, TRANSPOSE=39, MEAN=40, SUB=41, DIV=42,
          SQUEEZE=43, STRIDED_SLICE=45, SPLIT=49, PRELU=54, MAXIMUM=55, ARG_MAX=56, PADV2=60,
          TRANSPOSE_CONV=67, PACK=83, RESIZE_NEAREST_NEIGHBOR=97, LEAKY_RELU=98, MIRROR_PAD=100,
          QUANTIZE=114, HARD_SWISH=117, IF=118, DENSIFY=124, BATCH_MATMUL=126, GELU=150,
          FLOOR=8, L2_POOL_2D=12, RELU_N1_TO_1=20, BATCH_TO_SPACE_ND=37, SPACE_TO_BATCH_ND=38, EXP=47,
          LOG_SOFTMAX=50, CAST=53, MINIMUM=57, NEG=59, SLICE=65, TILE=69, EXPAND_DIMS=70, LOG=73, SUM=74,
          SQRT=75, RSQRT=76, SHAPE=77, ARG_MIN=79, REDUCE_MAX=82, UNPACK=88, REDUCE_MIN=89, SQUARE=92,
          SQUARED_DIFFERENCE=99, ABS=101, SPLIT_V=102, ELU=111, LESS=58, WHILE=119,
          GREATER=61, GREATER_EQUAL=62, LESS_EQUAL=63, SELECT=64, EQUAL=71, NOT_EQUAL=72, LOGICAL_OR=84,
          LOGICAL_AND=86, LOGICAL_NOT=87, SELECT_V2=123, REDUCE_PROD=81, POW=78, FLOOR_DIV=90, FLOOR_MOD=95,
          RELU_0_TO_1=152, SIN=66, COS=108, CEIL=104, ROUND=116)
# BuiltinOptions union codes
OPT = dict(Conv2D=1, DepthwiseConv2D=2, Pool2D=5, FullyConnected=8, Softmax=9, Concatenation=10, Add=11,
           L2Norm=12, LocalResponseNormalization=13, ResizeBilinear=15, Reshape=17, SpaceToDepth=19, Mul=21,
           Pad=22, Gather=23, Transpose=26, Reducer=27, Sub=28, Div=29, Squeeze=30, StridedSlice=32,
           Split=35, Dequantize=38, MaximumMinimum=39, ArgMax=40, PadV2=43, TransposeConv=49, Pack=59,
           ResizeNearestNeighbor=74, LeakyRelu=75, MirrorPad=77, Quantize=89, HardSwish=91, If=92,
           DepthToSpace=94, Densify=99, BatchMatMul=101, Gelu=116,
           BatchToSpaceND=24, SpaceToBatchND=25, Exp=33, LogSoftmax=36, Cast=37, Slice=48, Tile=51,
           ExpandDims=52, Neg=42, Shape=55, ArgMin=57, Unpack=64, Square=66, SquaredDifference=76, Abs=78,
           SplitV=79, While=93,
           Less=41, Greater=44, GreaterEqual=45, LessEqual=46, Select=47, Equal=53, NotEqual=54, LogicalOr=60,
           LogicalAnd=62, LogicalNot=63, SelectV2=98, Pow=56, FloorDiv=65, FloorMod=72)


# ------------------------------------------------------------ FlatBuffer writing
class Fb:
    """Thin helpers over flatbuffers.Builder; tables take (slot, kind, value)."""

    def __init__(self):
        self.b = flatbuffers.Builder(1 << 16)
        self.b.ForceDefaults(True)  # every field given is stored

    def string(self, s):
        return self.b.CreateString(s)

    def vec(self, values, dtype):
        return self.b.CreateNumpyVector(np.asarray(values, dtype=dtype).reshape(-1))

    def bytes16(self, data):
        """A [ubyte] vector aligned to 16 (Buffer.data is force_align: 16)."""
        b = self.b
        n = len(data)
        b.StartVector(1, n, 16)
        b.head = b.head - n
        b.Bytes[b.Head():b.Head() + n] = data
        b.vectorNumElems = n
        return b.EndVector()

    def offsets(self, offs):
        b = self.b
        b.StartVector(4, len(offs), 4)
        for o in reversed(offs):
            b.PrependUOffsetTRelative(o)
        return b.EndVector()

    def table(self, fields):
        b = self.b
        nslots = 1 + max((f[0] for f in fields), default=-1)
        b.StartObject(nslots)
        for slot, kind, v in fields:
            if v is None:
                continue
            {"bool": lambda: b.PrependBoolSlot(slot, bool(v), False),
             "i8": lambda: b.PrependInt8Slot(slot, int(v), 0),
             "u8": lambda: b.PrependUint8Slot(slot, int(v), 0),
             "i32": lambda: b.PrependInt32Slot(slot, int(v), 0),
             "u32": lambda: b.PrependUint32Slot(slot, int(v), 0),
             "i64": lambda: b.PrependInt64Slot(slot, int(v), 0),
             "u64": lambda: b.PrependUint64Slot(slot, int(v), 0),
             "f32": lambda: b.PrependFloat32Slot(slot, float(v), 0.0),
             "off": lambda: b.PrependUOffsetTRelativeSlot(slot, v, 0)}[kind]()
        return b.EndObject()


class Subgraph:
    def __init__(self, model, name=""):
        self.m = model
        self.name = name
        self.tensors = []
        self.ops = []
        self.inputs = []
        self.outputs = []

    def tensor(self, name, shape, ttype=F32, data=None, quant=None, signature=None, sparsity=None,
               variable=False, raw=None):
        """data: numpy array (stored little-endian); raw: bytes stored as is."""
        buf = 0
        if raw is not None:
            buf = self.m.buffer(raw)
        elif data is not None:
            buf = self.m.buffer(np.ascontiguousarray(data).astype(NP_OF[ttype]).tobytes())
        self.tensors.append(dict(name=name, shape=list(shape), type=ttype, buffer=buf, quant=quant,
                                 signature=signature, sparsity=sparsity, variable=variable))
        return len(self.tensors) - 1

    def const(self, name, array, ttype=F32, quant=None):
        array = np.asarray(array)
        return self.tensor(name, array.shape, ttype, data=array, quant=quant)

    def op(self, name, inputs, outputs, options=None, version=1, custom=None, custom_options=None,
           mutating=None, intermediates=None):
        """options: (union code, [(slot, kind, value)]) with vector values as ('vi32', list)."""
        code = OP[name] if custom is None else OP["CUSTOM"]
        self.ops.append(dict(opcode=self.m.opcode(code, version, custom), inputs=inputs, outputs=outputs,
                             options=options, custom_options=custom_options, mutating=mutating,
                             intermediates=intermediates))


class Model:
    def __init__(self, description="convfix gen_tflite_models.py"):
        self.description = description
        self.version = 3
        self.buffers = [b""]  # bytes, or ("external", offset, size) for data after the FlatBuffer
        self.opcodes = []
        self.subgraphs = []
        self.metadata = []
        self.signatures = []

    def subgraph(self, name=""):
        s = Subgraph(self, name)
        self.subgraphs.append(s)
        return s

    def buffer(self, data):
        self.buffers.append(data if isinstance(data, tuple) else bytes(data))
        return len(self.buffers) - 1

    def opcode(self, code, version, custom):
        key = (code, version, custom)
        if key not in self.opcodes:
            self.opcodes.append(key)
        return self.opcodes.index(key)

    def serialize(self):
        fb = Fb()

        def quant(q):
            if q is None:
                return None
            scale = fb.vec(q["scale"], np.float32)
            zp = fb.vec(q.get("zero_point", [0] * len(q["scale"])), np.int64)
            # QuantizationParameters: 0 min, 1 max, 2 scale, 3 zero_point, 4/5 details, 6 quantized_dimension
            return fb.table([(2, "off", scale), (3, "off", zp), (6, "i32", q.get("axis", 0))])

        def index_vector(values):
            # Int32Vector: 0 values
            return fb.table([(0, "off", fb.vec(values, np.int32))])

        def sparsity(sp):
            dims = []
            for d in sp["dims"]:
                if d[0] == "dense":
                    # DimensionMetadata: 0 format, 1 dense_size, 2/3 array_segments, 4/5 array_indices
                    dims.append(fb.table([(0, "i8", 0), (1, "i32", d[1])]))
                else:
                    seg, idx = index_vector(d[1]), index_vector(d[2])
                    dims.append(fb.table([(0, "i8", 1), (2, "u8", 1), (3, "off", seg), (4, "u8", 1), (5, "off", idx)]))
            order = fb.vec(sp["order"], np.int32)
            bmap = fb.vec(sp["block_map"], np.int32) if sp.get("block_map") else None
            dimv = fb.offsets(dims)
            # SparsityParameters: 0 traversal_order, 1 block_map, 2 dim_metadata
            return fb.table([(0, "off", order), (1, "off", bmap), (2, "off", dimv)])

        def options(opts):
            code, fields = opts
            made = []
            for slot, kind, v in fields:
                if kind == "vi32":
                    made.append((slot, "off", fb.vec(v, np.int32)))
                else:
                    made.append((slot, kind, v))
            return code, fb.table(made)

        sg_offs = []
        for sg in self.subgraphs:
            t_offs = []
            for t in sg.tensors:
                name = fb.string(t["name"])
                shape = fb.vec(t["shape"], np.int32)
                sig = fb.vec(t["signature"], np.int32) if t["signature"] is not None else None
                q = quant(t["quant"])
                sp = sparsity(t["sparsity"]) if t["sparsity"] else None
                # Tensor: 0 shape, 1 type, 2 buffer, 3 name, 4 quantization, 5 is_variable,
                #         6 sparsity, 7 shape_signature, 8 has_rank
                t_offs.append(fb.table([(0, "off", shape), (1, "i8", t["type"]), (2, "u32", t["buffer"]),
                                        (3, "off", name), (4, "off", q), (5, "bool", t["variable"] or None),
                                        (6, "off", sp), (7, "off", sig), (8, "bool", True)]))
            o_offs = []
            for op in sg.ops:
                ins = fb.vec(op["inputs"], np.int32)
                outs = fb.vec(op["outputs"], np.int32)
                fields = [(0, "u32", op["opcode"]), (1, "off", ins), (2, "off", outs)]
                if op["options"] is not None:
                    code, off = options(op["options"])
                    # Operator: 3 builtin_options_type, 4 builtin_options
                    fields += [(3, "u8", code), (4, "off", off)]
                if op["custom_options"] is not None:
                    fields.append((5, "off", fb.vec(np.frombuffer(op["custom_options"], np.uint8), np.uint8)))
                if op["mutating"] is not None:
                    fields.append((7, "off", fb.vec(op["mutating"], np.uint8)))
                if op["intermediates"] is not None:
                    fields.append((8, "off", fb.vec(op["intermediates"], np.int32)))
                o_offs.append(fb.table(fields))
            tv, ov = fb.offsets(t_offs), fb.offsets(o_offs)
            iv, outv = fb.vec(sg.inputs, np.int32), fb.vec(sg.outputs, np.int32)
            nm = fb.string(sg.name) if sg.name else None
            # SubGraph: 0 tensors, 1 inputs, 2 outputs, 3 operators, 4 name
            sg_offs.append(fb.table([(0, "off", tv), (1, "off", iv), (2, "off", outv), (3, "off", ov), (4, "off", nm)]))
        codes = []
        for code, version, custom in self.opcodes:
            cc = fb.string(custom) if custom else None
            # OperatorCode: 0 deprecated_builtin_code, 1 custom_code, 2 version, 3 builtin_code
            codes.append(fb.table([(0, "i8", min(code, 127)), (1, "off", cc), (2, "i32", version), (3, "i32", code)]))
        metas = []
        for name, data in self.metadata:
            idx = self.buffer(data)
            # Metadata: 0 name, 1 buffer
            metas.append(fb.table([(0, "off", fb.string(name)), (1, "u32", idx)]))
        sigs = []
        for key, sub, ins, outs in self.signatures:
            def maps(pairs):
                # TensorMap: 0 name, 1 tensor_index
                return fb.offsets([fb.table([(0, "off", fb.string(a)), (1, "u32", t)]) for a, t in pairs])
            iv, ov = maps(ins), maps(outs)
            # SignatureDef: 0 inputs, 1 outputs, 2 signature_key, 3 (deprecated), 4 subgraph_index
            sigs.append(fb.table([(0, "off", iv), (1, "off", ov), (2, "off", fb.string(key)), (4, "u32", sub)]))
        bufs = []
        for data in self.buffers:
            # Buffer: 0 data, 1 offset, 2 size
            if isinstance(data, tuple):
                bufs.append(fb.table([(1, "u64", data[1]), (2, "u64", data[2])]))
            else:
                bufs.append(fb.table([(0, "off", fb.bytes16(data))]) if data else fb.table([]))
        codesv, sgv, bufv = fb.offsets(codes), fb.offsets(sg_offs), fb.offsets(bufs)
        desc = fb.string(self.description)
        metav = fb.offsets(metas) if metas else None
        sigv = fb.offsets(sigs) if sigs else None
        # Model: 0 version, 1 operator_codes, 2 subgraphs, 3 description, 4 buffers,
        #        5 metadata_buffer, 6 metadata, 7 signature_defs
        root = fb.table([(0, "u32", self.version), (1, "off", codesv), (2, "off", sgv), (3, "off", desc), (4, "off", bufv),
                         (6, "off", metav), (7, "off", sigv)])
        fb.b.Finish(root, file_identifier=b"TFL3")
        return bytes(fb.b.Output())


# ------------------------------------------------------------ numpy references
def act(x, a):
    if a == RELU:
        return np.maximum(x, 0)
    if a == RELU6:
        return np.clip(x, 0, 6)
    if a == RELU_N1_TO_1:
        return np.clip(x, -1, 1)
    if a == TANH:
        return np.tanh(x)
    return x


def same_pad(n, k, s, d):
    """TFLite SAME: output ceil(n / s); the odd pixel of padding goes after."""
    out = -(-n // s)
    total = max((out - 1) * s + (k - 1) * d + 1 - n, 0)
    return out, total // 2


def conv2d(x, w, b, stride, dil, padding, a=NONE, depthwise_mult=None):
    """x NHWC, w OHWI (or 1HWO for depthwise), stride/dil (h, w)."""
    n, ih, iw, ic = x.shape
    if depthwise_mult is None:
        oc, kh, kw, _ = w.shape
    else:
        _, kh, kw, oc = w.shape
    if padding == SAME:
        oh, ph = same_pad(ih, kh, stride[0], dil[0])
        ow, pw = same_pad(iw, kw, stride[1], dil[1])
    else:
        oh = (ih - (kh - 1) * dil[0] - 1) // stride[0] + 1
        ow = (iw - (kw - 1) * dil[1] - 1) // stride[1] + 1
        ph = pw = 0
    y = np.zeros((n, oh, ow, oc), np.float64)
    for oy in range(oh):
        for ox in range(ow):
            for ky in range(kh):
                for kx in range(kw):
                    iy = oy * stride[0] - ph + ky * dil[0]
                    ix = ox * stride[1] - pw + kx * dil[1]
                    if 0 <= iy < ih and 0 <= ix < iw:
                        v = x[:, iy, ix, :].astype(np.float64)
                        if depthwise_mult is None:
                            y[:, oy, ox, :] += v @ w[:, ky, kx, :].T
                        else:
                            y[:, oy, ox, :] += np.repeat(v, depthwise_mult, axis=1) * w[0, ky, kx, :]
    if b is not None:
        y += b
    return act(y, a).astype(np.float32)


def pool_geometry(ih, iw, k, stride, padding):
    """Output size and leading padding (oh, ow, ph, pw) of a k window with TFLite's SAME / VALID rule."""
    if padding == SAME:
        oh, ph = same_pad(ih, k[0], stride[0], 1)
        ow, pw = same_pad(iw, k[1], stride[1], 1)
        return oh, ow, ph, pw
    return (ih - k[0]) // stride[0] + 1, (iw - k[1]) // stride[1] + 1, 0, 0


def pool(x, k, stride, padding, kind, a=NONE):
    n, ih, iw, c = x.shape
    oh, ow, ph, pw = pool_geometry(ih, iw, k, stride, padding)
    y = np.zeros((n, oh, ow, c), np.float32)
    for oy in range(oh):
        for ox in range(ow):
            y0, x0 = oy * stride[0] - ph, ox * stride[1] - pw
            win = x[:, max(y0, 0):min(y0 + k[0], ih), max(x0, 0):min(x0 + k[1], iw), :]
            y[:, oy, ox, :] = win.max(axis=(1, 2)) if kind == "max" else win.mean(axis=(1, 2))
    return act(y, a)


def resize_bilinear(x, oh, ow, align, half):
    n, ih, iw, c = x.shape

    def src(o, insz, outsz):
        if align and outsz > 1:
            return o * (insz - 1) / (outsz - 1)
        scale = insz / outsz
        return (o + 0.5) * scale - 0.5 if half else o * scale

    y = np.zeros((n, oh, ow, c), np.float32)
    for oy in range(oh):
        fy = src(oy, ih, oh)
        y0 = max(int(math.floor(fy)), 0)
        y1 = min(y0 + 1, ih - 1)
        dy = fy - math.floor(fy) if fy > 0 else 0.0
        for ox in range(ow):
            fx = src(ox, iw, ow)
            x0 = max(int(math.floor(fx)), 0)
            x1 = min(x0 + 1, iw - 1)
            dx = fx - math.floor(fx) if fx > 0 else 0.0
            y[:, oy, ox, :] = (x[:, y0, x0] * (1 - dy) * (1 - dx) + x[:, y1, x0] * dy * (1 - dx) +
                               x[:, y0, x1] * (1 - dy) * dx + x[:, y1, x1] * dy * dx)
    return y


def resize_nearest(x, oh, ow, align, half):
    n, ih, iw, c = x.shape

    def src(o, insz, outsz):
        scale = (insz - 1) / (outsz - 1) if align and outsz > 1 else insz / outsz
        off = 0.5 if half else 0.0
        v = (o + off) * scale
        v = math.floor(v + 0.5) if align else math.floor(v)  # TFLite rounds half away from zero
        return min(max(int(v), 0), insz - 1)

    ys = [src(o, ih, oh) for o in range(oh)]
    xs = [src(o, iw, ow) for o in range(ow)]
    return x[:, ys][:, :, xs]


def softmax(x, beta=1.0, axis=-1):
    z = beta * x.astype(np.float64)
    z = z - z.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return (e / e.sum(axis=axis, keepdims=True)).astype(np.float32)


def quantize(x, scale, zp, dtype):
    info = np.iinfo(dtype)
    return np.clip(np.round(x / scale) + zp, info.min, info.max).astype(dtype)


# ------------------------------------------------------------ the models
RNG = np.random.default_rng(20240611)


def rnd(*shape, scale=1.0):
    return (RNG.standard_normal(shape) * scale).astype(np.float32)


def opts_conv(padding, sw, sh, a=NONE, dw=1, dh=1):
    return (OPT["Conv2D"], [(0, "i8", padding), (1, "i32", sw), (2, "i32", sh), (3, "i8", a), (4, "i32", dw), (5, "i32", dh)])


def opts_dw(padding, sw, sh, mult, a=NONE, dw=1, dh=1):
    return (OPT["DepthwiseConv2D"], [(0, "i8", padding), (1, "i32", sw), (2, "i32", sh), (3, "i32", mult), (4, "i8", a),
                                     (5, "i32", dw), (6, "i32", dh)])


def opts_pool(padding, sw, sh, fw, fh, a=NONE):
    return (OPT["Pool2D"], [(0, "i8", padding), (1, "i32", sw), (2, "i32", sh), (3, "i32", fw), (4, "i32", fh), (5, "i8", a)])


def opts_act(code, a):
    return (code, [(0, "i8", a)])


def model_conv2d():
    m = Model()
    g = m.subgraph("main")
    x = rnd(1, 9, 11, 3)
    w1, b1 = rnd(4, 3, 2, 3, scale=0.5), rnd(4)
    w2, b2 = rnd(5, 2, 3, 4, scale=0.5), rnd(5)
    ti = g.tensor("input", x.shape)
    tw1, tb1 = g.const("conv1/weights", w1), g.const("conv1/bias", b1)
    y1 = conv2d(x, w1, b1, (1, 2), (2, 1), SAME, RELU6)
    t1 = g.tensor("conv1/out", y1.shape)
    g.op("CONV_2D", [ti, tw1, tb1], [t1], opts_conv(SAME, sw=2, sh=1, a=RELU6, dw=1, dh=2), version=2)
    tw2, tb2 = g.const("conv2/weights", w2), g.const("conv2/bias", b2)
    y2 = conv2d(y1, w2, b2, (2, 1), (1, 2), VALID, NONE)
    t2 = g.tensor("conv2/out", y2.shape)
    g.op("CONV_2D", [t1, tw2, tb2], [t2], opts_conv(VALID, sw=1, sh=2, a=NONE, dw=2, dh=1), version=2)
    g.inputs, g.outputs = [ti], [t2]
    return m, [x], [y2], 1e-4, "CONV_2D: SAME/VALID, asymmetric strides and dilations, RELU6"


def model_depthwise():
    m = Model()
    g = m.subgraph("main")
    x = rnd(1, 8, 7, 2)
    w, b = rnd(1, 3, 3, 4, scale=0.5), rnd(4)
    ti = g.tensor("input", x.shape)
    y = conv2d(x, w, b, (2, 1), (1, 2), SAME, RELU, depthwise_mult=2)
    to = g.tensor("dw/out", y.shape)
    g.op("DEPTHWISE_CONV_2D", [ti, g.const("dw/weights", w), g.const("dw/bias", b)], [to],
         opts_dw(SAME, sw=1, sh=2, mult=2, a=RELU, dw=2, dh=1), version=2)
    g.inputs, g.outputs = [ti], [to]
    return m, [x], [y], 1e-4, "DEPTHWISE_CONV_2D: depth multiplier 2, asymmetric stride and dilation"


def model_pools():
    m = Model()
    g = m.subgraph("main")
    x = rnd(1, 7, 8, 3)
    ti = g.tensor("input", x.shape)
    y1 = pool(x, (2, 3), (1, 2), SAME, "max")
    t1 = g.tensor("maxpool", y1.shape)
    g.op("MAX_POOL_2D", [ti], [t1], opts_pool(SAME, sw=2, sh=1, fw=3, fh=2))
    y2 = pool(y1, (3, 2), (2, 1), VALID, "avg", RELU)
    t2 = g.tensor("avgpool", y2.shape)
    g.op("AVERAGE_POOL_2D", [t1], [t2], opts_pool(VALID, sw=1, sh=2, fw=2, fh=3, a=RELU))
    g.inputs, g.outputs = [ti], [t2]
    return m, [x], [y2], 1e-5, "MAX_POOL_2D / AVERAGE_POOL_2D: asymmetric windows and strides"


def model_fully_connected():
    m = Model()
    g = m.subgraph("main")
    x = rnd(2, 3, 4)
    w1, b1 = rnd(5, 4), rnd(5)
    w2 = rnd(3, 15)
    ti = g.tensor("input", x.shape, signature=[-1, 3, 4])
    y1 = np.maximum(x @ w1.T + b1, 0).astype(np.float32)
    t1 = g.tensor("fc1", y1.shape)
    g.op("FULLY_CONNECTED", [ti, g.const("fc1/w", w1), g.const("fc1/b", b1)], [t1],
         (OPT["FullyConnected"], [(0, "i8", RELU), (1, "i8", 0), (2, "bool", True)]), version=5)
    y2 = (y1.reshape(2, 15) @ w2.T).astype(np.float32)
    t2 = g.tensor("fc2", y2.shape)
    # No bias (optional input -1), keep_num_dims false: input flattened to [2, 15].
    g.op("FULLY_CONNECTED", [t1, g.const("fc2/w", w2), -1], [t2],
         (OPT["FullyConnected"], [(0, "i8", NONE), (2, "bool", False)]), version=1)
    g.inputs, g.outputs = [ti], [t2]
    return m, [x], [y2], 1e-4, "FULLY_CONNECTED: keep_num_dims, omitted bias (-1), shape_signature"


def model_elementwise():
    m = Model()
    g = m.subgraph("main")
    x = rnd(1, 4, 4, 3)
    c = rnd(3)
    ti = g.tensor("input", x.shape)

    def unary(op, inp, ref, options=None, name=None):
        t = g.tensor(name or op.lower(), ref.shape)
        g.op(op, inp, [t], options)
        return t, ref

    t, v = unary("ADD", [ti, g.const("add/c", c)], act(x + c, RELU_N1_TO_1), opts_act(OPT["Add"], RELU_N1_TO_1))
    # Fused TANH is in the schema but TFLite kernels only clamp (RELU*), so it is not used here.
    t, v = unary("MUL", [t, g.const("mul/c", c)], act(v * c, RELU6), opts_act(OPT["Mul"], RELU6))
    ts, vs = unary("SUB", [t, ti], act(v - x, RELU), opts_act(OPT["Sub"], RELU), "sub")
    td, vd = unary("DIV", [ti, g.const("div/c", np.abs(c) + 0.5)], x / (np.abs(c) + 0.5), opts_act(OPT["Div"], NONE), "div")
    t2, v2 = unary("MAXIMUM", [ts, td], np.maximum(vs, vd), (OPT["MaximumMinimum"], []))
    t, v = unary("LOGISTIC", [t2], 1 / (1 + np.exp(-v2)))
    t, v = unary("HARD_SWISH", [t2], v2 * np.clip(v2 + 3, 0, 6) / 6, (OPT["HardSwish"], []))
    t, v = unary("LEAKY_RELU", [t], np.where(v > 0, v, 0.2 * v), (OPT["LeakyRelu"], [(0, "f32", 0.2)]))
    alpha = np.abs(rnd(3)) * 0.3
    t, v = unary("PRELU", [t, g.const("prelu/alpha", alpha)], np.where(v > 0, v, alpha * v))
    t, v = unary("TANH", [t], np.tanh(v))
    t, v = unary("RELU6", [t], np.clip(v, 0, 6))
    g.inputs, g.outputs = [ti], [t]
    return m, [x], [v.astype(np.float32)], 1e-5, "ADD/MUL/SUB/DIV with fused activations and broadcast, activations"


def model_shapes():
    m = Model()
    g = m.subgraph("main")
    x = rnd(1, 4, 6, 2)
    ti = g.tensor("input", x.shape)
    outs, refs = [], []

    def add(op, inp, ref, options=None, name=None, version=1):
        t = g.tensor(name or op.lower(), ref.shape, I32 if ref.dtype == np.int32 else F32)
        g.op(op, inp, [t], options, version=version)
        return t, ref

    # RESHAPE with both the options' new_shape and the shape input.
    t, v = add("RESHAPE", [ti, g.const("reshape/shape", np.array([1, 8, 6], np.int32), I32)], x.reshape(1, 8, 6),
               (OPT["Reshape"], [(0, "vi32", [1, 8, 6])]))
    t, v = add("TRANSPOSE", [t, g.const("transpose/perm", np.array([0, 2, 1], np.int32), I32)], v.transpose(0, 2, 1),
               (OPT["Transpose"], []))
    t, v = add("SQUEEZE", [t], v.reshape(6, 8), (OPT["Squeeze"], [(0, "vi32", [0])]))
    t, v = add("STRIDED_SLICE", [t, g.const("ss/begin", np.array([1, 6], np.int32), I32),
                                 g.const("ss/end", np.array([5, 1], np.int32), I32),
                                 g.const("ss/strides", np.array([2, -2], np.int32), I32)],
               v[:5:2, 6:1:-2], (OPT["StridedSlice"], [(0, "i32", 1), (1, "i32", 0), (4, "i32", 0)]))
    outs.append(t)
    refs.append(v)
    pads = np.array([[0, 0], [1, 2], [2, 1], [0, 0]], np.int32)
    t, v = add("PAD", [ti, g.const("pad/p", pads, I32)], np.pad(x, pads), (OPT["Pad"], []))
    t, v = add("PADV2", [ti, g.const("padv2/p", pads, I32), g.const("padv2/v", np.array([0.5], np.float32))],
               np.pad(x, pads, constant_values=0.5), (OPT["PadV2"], []), name="padv2")
    mp = np.array([[0, 0], [2, 1], [1, 2], [0, 0]], np.int32)
    t, v = add("MIRROR_PAD", [t, g.const("mirror/p", mp, I32)], np.pad(v, mp, mode="symmetric"),
               (OPT["MirrorPad"], [(0, "i8", 1)]))
    outs.append(t)
    refs.append(v)
    t1, v1 = add("SPACE_TO_DEPTH", [ti], x.reshape(1, 2, 2, 3, 2, 2).transpose(0, 1, 3, 2, 4, 5).reshape(1, 2, 3, 8),
                 (OPT["SpaceToDepth"], [(0, "i32", 2)]))
    t2, v2 = add("DEPTH_TO_SPACE", [t1], v1.reshape(1, 2, 3, 2, 2, 2).transpose(0, 1, 3, 2, 4, 5).reshape(1, 4, 6, 2),
                 (OPT["DepthToSpace"], [(0, "i32", 2)]))
    # TFLite's CONCATENATION refuses fused activations other than NONE.
    t3, v3 = add("CONCATENATION", [t2, ti], np.concatenate([v2, x], axis=-1),
                 (OPT["Concatenation"], [(0, "i32", -1), (1, "i8", NONE)]))
    t4, v4 = add("GATHER", [t3, g.const("gather/idx", np.array([3, 0, 2], np.int32), I32)], v3[:, :, [3, 0, 2], :],
                 (OPT["Gather"], [(0, "i32", 2), (1, "i32", 0)]))
    ta, tb = g.tensor("split/0", (1, 2, 3, 4)), g.tensor("split/1", (1, 2, 3, 4))
    g.op("SPLIT", [g.const("split/axis", np.array(1, np.int32), I32), t4], [ta, tb], (OPT["Split"], [(0, "i32", 2)]))
    va, vb = v4[:, :2], v4[:, 2:]
    tp = g.tensor("pack", (1, 2, 2, 3, 4))
    g.op("PACK", [tb, ta], [tp], (OPT["Pack"], [(0, "i32", 2), (1, "i32", 1)]))
    outs.append(tp)
    refs.append(np.stack([vb, va], axis=1))
    g.inputs, g.outputs = [ti], outs
    return m, [x], refs, 1e-6, "RESHAPE/TRANSPOSE/SQUEEZE/STRIDED_SLICE/PAD/PADV2/MIRROR_PAD/SPACE_TO_DEPTH/DEPTH_TO_SPACE/CONCATENATION/GATHER/SPLIT/PACK"


def model_reduce_norm():
    m = Model()
    g = m.subgraph("main")
    x = rnd(1, 5, 4, 6)
    ti = g.tensor("input", x.shape)
    outs, refs = [], []
    v = x.mean(axis=(1, 2), keepdims=True)
    t = g.tensor("mean", v.shape)
    g.op("MEAN", [ti, g.const("mean/axes", np.array([1, 2], np.int32), I32)], [t], (OPT["Reducer"], [(0, "bool", True)]))
    outs.append(t)
    refs.append(v)
    v = softmax(x, 0.5)
    t = g.tensor("softmax", v.shape)
    g.op("SOFTMAX", [ti], [t], (OPT["Softmax"], [(0, "f32", 0.5)]))
    outs.append(t)
    refs.append(v)
    v = (x / np.sqrt(np.maximum((x.astype(np.float64) ** 2).sum(axis=-1, keepdims=True), 1e-6))).astype(np.float32)
    t = g.tensor("l2norm", v.shape)
    g.op("L2_NORMALIZATION", [ti], [t], opts_act(OPT["L2Norm"], NONE))
    outs.append(t)
    refs.append(v)
    radius, bias, alpha, beta = 2, 1.5, 0.3, 0.75
    sq = np.pad(x.astype(np.float64) ** 2, [(0, 0), (0, 0), (0, 0), (radius, radius)])
    acc = sum(sq[..., k:k + 6] for k in range(2 * radius + 1))
    v = (x / (bias + alpha * acc) ** beta).astype(np.float32)
    t = g.tensor("lrn", v.shape)
    g.op("LOCAL_RESPONSE_NORMALIZATION", [ti], [t],
         (OPT["LocalResponseNormalization"], [(0, "i32", radius), (1, "f32", bias), (2, "f32", alpha), (3, "f32", beta)]))
    outs.append(t)
    refs.append(v)
    v = x.argmax(axis=3).astype(np.int32)
    t = g.tensor("argmax", v.shape, I32)
    g.op("ARG_MAX", [ti, g.const("argmax/axis", np.array([3], np.int32), I32)], [t], (OPT["ArgMax"], [(0, "i8", I32)]))
    outs.append(t)
    refs.append(v)
    g.inputs, g.outputs = [ti], outs
    return m, [x], refs, 1e-5, "MEAN keep_dims, SOFTMAX beta, L2_NORMALIZATION, LOCAL_RESPONSE_NORMALIZATION, ARG_MAX output_type"


def model_resize():
    m = Model()
    g = m.subgraph("main")
    x = rnd(1, 4, 5, 2)
    ti = g.tensor("input", x.shape)
    v1 = resize_bilinear(x, 7, 9, False, True)
    t1 = g.tensor("bilinear", v1.shape)
    g.op("RESIZE_BILINEAR", [ti, g.const("bilinear/size", np.array([7, 9], np.int32), I32)], [t1],
         (OPT["ResizeBilinear"], [(2, "bool", False), (3, "bool", True)]), version=3)
    v2 = resize_nearest(x, 8, 3, True, False)
    t2 = g.tensor("nearest", v2.shape)
    g.op("RESIZE_NEAREST_NEIGHBOR", [ti, g.const("nearest/size", np.array([8, 3], np.int32), I32)], [t2],
         (OPT["ResizeNearestNeighbor"], [(0, "bool", True), (1, "bool", False)]), version=3)
    g.inputs, g.outputs = [ti], [t1, t2]
    return m, [x], [v1, v2], 1e-5, "RESIZE_BILINEAR half_pixel_centers, RESIZE_NEAREST_NEIGHBOR align_corners"


def model_transpose_conv():
    m = Model()
    g = m.subgraph("main")
    x = rnd(1, 4, 3, 3)
    w, b = rnd(2, 3, 3, 3, scale=0.5), rnd(2)  # OHWI: 2 output channels, 3x3 kernel, 3 input channels
    oh, ow = 8, 6
    full = np.zeros((1, (4 - 1) * 2 + 3, (3 - 1) * 2 + 3, 2), np.float64)
    for iy in range(4):
        for ix in range(3):
            full[0, iy * 2:iy * 2 + 3, ix * 2:ix * 2 + 3, :] += np.einsum("c,ohwc->hwo", x[0, iy, ix], w)
    ph = (full.shape[1] - oh) // 2
    pw = (full.shape[2] - ow) // 2
    y = (full[:, ph:ph + oh, pw:pw + ow, :] + b).astype(np.float32)
    ti = g.tensor("input", x.shape)
    to = g.tensor("tconv", y.shape)
    g.op("TRANSPOSE_CONV", [g.const("tconv/output_shape", np.array([1, oh, ow, 2], np.int32), I32),
                            g.const("tconv/weights", w), ti, g.const("tconv/bias", b)], [to],
         (OPT["TransposeConv"], [(0, "i8", SAME), (1, "i32", 2), (2, "i32", 2), (3, "i8", NONE)]), version=3)
    g.inputs, g.outputs = [ti], [to]
    return m, [x], [y], 1e-4, "TRANSPOSE_CONV SAME stride 2 with bias"


def model_batch_matmul_gelu():
    m = Model()
    g = m.subgraph("main")
    a, bm = rnd(2, 3, 4), rnd(2, 5, 4)
    ta, tb = g.tensor("a", a.shape), g.tensor("b", bm.shape)
    v = a @ bm.transpose(0, 2, 1)
    t = g.tensor("matmul", v.shape)
    g.op("BATCH_MATMUL", [ta, tb], [t], (OPT["BatchMatMul"], [(0, "bool", False), (1, "bool", True)]))
    erf = np.vectorize(math.erf)
    y = (0.5 * v * (1 + erf(v / math.sqrt(2)))).astype(np.float32)
    to = g.tensor("gelu", y.shape)
    g.op("GELU", [t], [to], (OPT["Gelu"], [(0, "bool", False)]))  # builtin code 150 (> 127)
    g.inputs, g.outputs = [ta, tb], [to]
    return m, [a, bm], [y], 1e-4, "BATCH_MATMUL adj_y; GELU (operator code above 127)"


def model_quant_int8():
    """QUANTIZE -> int8 CONV_2D (per-channel weights) -> int8 DEPTHWISE (per-channel) -> MEAN -> FC -> DEQUANTIZE."""
    m = Model()
    g = m.subgraph("main")
    x = RNG.uniform(-1, 1, (1, 6, 6, 3)).astype(np.float32)
    ti = g.tensor("input", x.shape)
    s_in = 2.0 / 255
    tq = g.tensor("input_q", x.shape, I8, quant=dict(scale=[s_in], zero_point=[0]))
    g.op("QUANTIZE", [ti], [tq], (OPT["Quantize"], []))
    xq = quantize(x, s_in, 0, np.int8).astype(np.float32) * s_in
    w = rnd(4, 3, 3, 3, scale=0.4)
    ws = np.abs(w).reshape(4, -1).max(axis=1) / 127
    wq = np.round(w / ws[:, None, None, None]).astype(np.int8)
    b = rnd(4, scale=0.1)
    bq = np.round(b / (s_in * ws)).astype(np.int32)
    y1 = conv2d(xq, wq.astype(np.float32) * ws[:, None, None, None], bq * s_in * ws, (1, 1), (1, 1), SAME, RELU)
    s1 = float(y1.max()) / 127 + 1e-6
    t1 = g.tensor("conv_q", y1.shape, I8, quant=dict(scale=[s1], zero_point=[-128]))
    g.op("CONV_2D", [tq, g.const("conv/w_q", wq, I8, quant=dict(scale=ws, zero_point=[0] * 4, axis=0)),
                     g.const("conv/b_q", bq, I32, quant=dict(scale=s_in * ws, zero_point=[0] * 4))], [t1],
         opts_conv(SAME, 1, 1, RELU), version=3)
    y1q = (quantize(y1, s1, -128, np.int8).astype(np.float32) + 128) * s1
    dw = rnd(1, 3, 3, 4, scale=0.4)
    dws = np.abs(dw).reshape(-1, 4).max(axis=0) / 127
    dwq = np.round(dw / dws).astype(np.int8)
    db = rnd(4, scale=0.1)
    dbq = np.round(db / (s1 * dws)).astype(np.int32)
    y2 = conv2d(y1q, dwq.astype(np.float32) * dws, dbq * s1 * dws, (2, 2), (1, 1), VALID, NONE, depthwise_mult=1)
    s2, z2 = float(y2.max() - y2.min()) / 255 + 1e-6, 0
    z2 = int(np.clip(np.round(-128 - y2.min() / s2), -128, 127))
    t2 = g.tensor("dw_q", y2.shape, I8, quant=dict(scale=[s2], zero_point=[z2]))
    g.op("DEPTHWISE_CONV_2D", [t1, g.const("dw/w_q", dwq, I8, quant=dict(scale=dws, zero_point=[0] * 4, axis=3)),
                               g.const("dw/b_q", dbq, I32, quant=dict(scale=s1 * dws, zero_point=[0] * 4))], [t2],
         opts_dw(VALID, 2, 2, 1, NONE), version=3)
    y2q = (quantize(y2, s2, z2, np.int8).astype(np.float32) - z2) * s2
    y3 = y2q.mean(axis=(1, 2))
    t3 = g.tensor("mean_q", y3.shape, I8, quant=dict(scale=[s2], zero_point=[z2]))
    g.op("MEAN", [t2, g.const("mean/axes", np.array([1, 2], np.int32), I32)], [t3], (OPT["Reducer"], [(0, "bool", False)]),
         version=2)
    y3q = (quantize(y3, s2, z2, np.int8).astype(np.float32) - z2) * s2
    fw = rnd(3, 4, scale=0.5)
    fs = float(np.abs(fw).max()) / 127
    fwq = np.round(fw / fs).astype(np.int8)
    y4 = y3q @ (fwq.astype(np.float32) * fs).T
    s4 = float(np.abs(y4).max()) / 100 + 1e-6
    t4 = g.tensor("fc_q", y4.shape, I8, quant=dict(scale=[s4], zero_point=[3]))
    g.op("FULLY_CONNECTED", [t3, g.const("fc/w_q", fwq, I8, quant=dict(scale=[fs], zero_point=[0])), -1], [t4],
         (OPT["FullyConnected"], [(0, "i8", NONE)]), version=4)
    t5 = g.tensor("output", y4.shape)
    g.op("DEQUANTIZE", [t4], [t5], (OPT["Dequantize"], []), version=2)
    g.inputs, g.outputs = [ti], [t5]
    # Requantization rounding differs from this float model by a few steps.
    return m, [x], [y4.astype(np.float32)], 4 * s4 + 0.02, "int8: QUANTIZE, per-channel CONV_2D/DEPTHWISE_CONV_2D, MEAN, FULLY_CONNECTED, DEQUANTIZE"


def model_quant_uint8():
    """Legacy uint8 asymmetric quantization: uint8 input and output, weights with a zero point."""
    m = Model()
    g = m.subgraph("main")
    s_in, z_in = 1.0 / 128, 128
    xq = RNG.integers(0, 256, (1, 5, 5, 2)).astype(np.uint8)
    x = (xq.astype(np.float32) - z_in) * s_in
    w = rnd(3, 3, 3, 2, scale=0.4)
    ws, wz = float(w.max() - w.min()) / 255, 0
    wz = int(np.round(-w.min() / ws))
    wq = np.clip(np.round(w / ws) + wz, 0, 255).astype(np.uint8)
    b = rnd(3, scale=0.1)
    bq = np.round(b / (s_in * ws)).astype(np.int32)
    y = conv2d(x, (wq.astype(np.float32) - wz) * ws, bq * s_in * ws, (1, 1), (1, 1), SAME, RELU6)
    so, zo = 6.0 / 255, 0
    ti = g.tensor("input", xq.shape, U8, quant=dict(scale=[s_in], zero_point=[z_in]))
    to = g.tensor("output", y.shape, U8, quant=dict(scale=[so], zero_point=[zo]))
    g.op("CONV_2D", [ti, g.const("conv/w", wq, U8, quant=dict(scale=[ws], zero_point=[wz])),
                     g.const("conv/b", bq, I32, quant=dict(scale=[s_in * ws], zero_point=[0]))], [to],
         opts_conv(SAME, 1, 1, RELU6))
    g.inputs, g.outputs = [ti], [to]
    yq = quantize(y, so, zo, np.uint8)
    return m, [xq], [yq], 2.0, "uint8 asymmetric CONV_2D (weights with a zero point)"


def model_control_flow():
    """IF with two branch subgraphs, signature defs and metadata."""
    m = Model()
    g = m.subgraph("main")
    then_g = m.subgraph("then_branch")
    else_g = m.subgraph("else_branch")
    tc, tx = g.tensor("cond", [1], BOOL), g.tensor("x", [2, 3])
    to = g.tensor("y", [2, 3])
    g.op("IF", [tc, tx], [to], (OPT["If"], [(0, "i32", 1), (1, "i32", 2)]))
    g.inputs, g.outputs = [tc, tx], [to]
    for sg, op, k in ((then_g, "MUL", 2.0), (else_g, "ADD", 1.0)):
        i = sg.tensor("x", [2, 3])
        o = sg.tensor("y", [2, 3])
        sg.op(op, [i, sg.const("k", np.array([k], np.float32))], [o], opts_act(OPT[op.capitalize()], NONE))
        sg.inputs, sg.outputs = [i], [o]
    m.metadata = [("min_runtime_version", b"2.5.0\0\0\0\0\0\0\0\0\0\0\0"), ("convfix_test", bytes(range(40)))]
    m.signatures = [("serving_default", 0, [("cond", tc), ("x", tx)], [("y", to)])]
    x = rnd(2, 3)
    return m, [np.array([True]), x], [x * 2], 1e-6, "IF with branch subgraphs, signature defs, metadata buffers"


def model_sparse():
    """DENSIFY of a block-sparse constant (1x4 blocks, CSR over blocks), added to the input."""
    m = Model()
    g = m.subgraph("main")
    dense = np.zeros((4, 8), np.float32)
    blocks = {(0, 1), (1, 0), (1, 1), (3, 0)}  # (row, block column) pairs that are non-zero
    for r, bc in blocks:
        dense[r, bc * 4:bc * 4 + 4] = rnd(4)
    segs, idx, vals = [0], [], []
    for r in range(4):
        for bc in range(2):
            if (r, bc) in blocks:
                idx.append(bc)
                vals.append(dense[r, bc * 4:bc * 4 + 4])
        segs.append(len(idx))
    sp = dict(order=[0, 1, 2], block_map=[1], dims=[("dense", 4), ("csr", segs, idx), ("dense", 4)])
    ts = g.tensor("sparse_w", [4, 8], F32, raw=np.concatenate(vals).astype(np.float32).tobytes(), sparsity=sp)
    td = g.tensor("dense_w", [4, 8])
    g.op("DENSIFY", [ts], [td], (OPT["Densify"], []))
    ti = g.tensor("input", [4, 8])
    to = g.tensor("output", [4, 8])
    g.op("ADD", [ti, td], [to], opts_act(OPT["Add"], NONE))
    g.inputs, g.outputs = [ti], [to]
    x = rnd(4, 8)
    return m, [x], [x + dense], 1e-6, "DENSIFY of a block-sparse constant (TACO format)"


def model_file_features():
    """What the runtime cannot run but the reader/writer must keep: a custom op with options, string,
    INT4 and variable constants, mutating_variable_inputs, intermediates, duplicate tensor names."""
    m = Model()
    g = m.subgraph("main")
    ti = g.tensor("x", [1, 4])
    strings = [b"cat", b"", b"dog house"]
    offs = [4 * (len(strings) + 2)]
    for s in strings:
        offs.append(offs[-1] + len(s))
    raw = np.array([len(strings)] + offs, np.int32).tobytes() + b"".join(strings)
    tstr = g.tensor("labels", [3], STRING, raw=raw)
    int4 = np.array([-8, -1, 0, 7, 3], np.int8)
    packed = bytes(((int(int4[i]) & 15) | ((int(int4[i + 1]) & 15) << 4 if i + 1 < len(int4) else 0)) for i in range(0, len(int4), 2))
    t4 = g.tensor("int4_w", [5], INT4, raw=packed, quant=dict(scale=[0.5], zero_point=[0]))
    tv = g.tensor("state", [1, 4], F32, variable=True)
    tim = g.tensor("x", [1, 4], I16, quant=dict(scale=[0.01], zero_point=[0]))  # duplicate name on purpose
    to = g.tensor("y", [1, 4])
    g.op("MyCustomOp", [ti, tstr, t4, tv], [to], custom="MyCustomOp", custom_options=b"\x01\x02opaque\x00\xff",
         mutating=[0, 0, 0, 1], intermediates=[tim])
    tz = g.tensor("empty_shape", [0], I32, raw=b"")
    to2 = g.tensor("z", [1, 4])
    g.op("RESHAPE", [to, tz], [to2], (OPT["Reshape"], [(0, "vi32", [1, 4])]))
    g.inputs, g.outputs = [ti], [to2]
    m.description = "convfix file-feature fixture"
    return m, [rnd(1, 4)], [None], 0.0, "custom op, string/INT4/variable constants, intermediates, duplicate names"


# ------------------------------------------------------------ kernel coverage (oracle: the runtime)
# These have no numpy reference (expect None); tests/tflite/test_oracle.py
# compares convfix with the TFLite runtime on them.
def q(scale, zp, axis=None):
    d = dict(scale=list(np.atleast_1d(np.asarray(scale, np.float64))), zero_point=list(np.atleast_1d(zp)))
    if axis is not None:
        d["axis"] = axis
    return d


def model_float_ops():
    """Float ops not covered above: unary math, reductions, slicing, tiling, batch/space, casts."""
    m = Model()
    g = m.subgraph("main")
    x = rnd(1, 6, 8, 4)
    ti = g.tensor("input", x.shape)
    outs = []

    def op(name, inputs, shape, options=None, ttype=F32, out=True, n_out=1, version=1):
        ts = [g.tensor(f"{name.lower()}_{len(g.tensors)}_{k}", shape if n_out == 1 else shape[k], ttype)
              for k in range(n_out)]
        g.op(name, inputs, ts, options, version=version)
        if out:
            outs.extend(ts)
        return ts[0] if n_out == 1 else ts

    i32 = lambda name, v: g.const(name, np.array(v, np.int32), I32)
    s = list(x.shape)
    op("EXP", [ti], s, (OPT["Exp"], []))
    ta = op("ABS", [ti], s, (OPT["Abs"], []))
    tp = op("ADD", [ta, g.const("eps", np.array([0.1], np.float32))], s, opts_act(OPT["Add"], NONE), out=False)
    op("SQRT", [tp], s)
    op("RSQRT", [tp], s)
    op("LOG", [tp], s)
    op("ELU", [ti], s)
    op("NEG", [ti], s, (OPT["Neg"], []))
    op("SQUARE", [ti], s, (OPT["Square"], []))
    op("RELU_N1_TO_1", [ti], s)
    op("FLOOR", [ti], s)
    c = rnd(4)
    op("SQUARED_DIFFERENCE", [ti, g.const("sqd/c", c)], s, (OPT["SquaredDifference"], []))
    op("MINIMUM", [ti, g.const("min/c", c)], s, (OPT["MaximumMinimum"], []))
    op("LOG_SOFTMAX", [ti], s, (OPT["LogSoftmax"], []))
    op("SUM", [ti, i32("sum/axes", [1])], [1, 8, 4], (OPT["Reducer"], [(0, "bool", False)]))
    op("REDUCE_MAX", [ti, i32("max/axes", [3])], [1, 6, 8, 1], (OPT["Reducer"], [(0, "bool", True)]))
    op("REDUCE_MIN", [ti, i32("min/axes", [1, 2])], [1, 4], (OPT["Reducer"], [(0, "bool", False)]))
    op("SLICE", [ti, i32("slice/begin", [0, 1, 2, 0]), i32("slice/size", [1, 3, -1, 2])], [1, 3, 6, 2], (OPT["Slice"], []))
    op("SPLIT_V", [ti, i32("splitv/sizes", [1, -1]), i32("splitv/axis", [3])], [[1, 6, 8, 1], [1, 6, 8, 3]],
       (OPT["SplitV"], [(0, "i32", 2)]), n_out=2)
    op("UNPACK", [ti], [[1, 6, 8]] * 4, (OPT["Unpack"], [(0, "i32", 4), (1, "i32", 3)]), n_out=4)
    op("TILE", [ti, i32("tile/m", [1, 1, 2, 1])], [1, 6, 16, 4], (OPT["Tile"], []))
    op("EXPAND_DIMS", [ti, i32("expand/axis", [0])], [1, 1, 6, 8, 4], (OPT["ExpandDims"], []))
    op("L2_POOL_2D", [ti], [1, 3, 4, 4], opts_pool(VALID, 2, 2, 2, 2))
    tb = op("SPACE_TO_BATCH_ND", [ti, i32("s2b/block", [2, 2]), i32("s2b/pad", [[1, 1], [0, 2]])], [4, 4, 5, 4],
            (OPT["SpaceToBatchND"], []))
    op("BATCH_TO_SPACE_ND", [tb, i32("b2s/block", [2, 2]), i32("b2s/crops", [[1, 1], [0, 2]])], s,
       (OPT["BatchToSpaceND"], []))
    op("ARG_MIN", [ti, i32("argmin/axis", [3])], [1, 6, 8], (OPT["ArgMin"], [(0, "i8", I32)]), ttype=I32)
    op("CAST", [ti], s, (OPT["Cast"], [(0, "i8", F32), (1, "i8", I32)]), ttype=I32)
    op("SHAPE", [ti], [4], (OPT["Shape"], [(0, "i8", I32)]), ttype=I32)
    # STRIDED_SLICE: negative stride on H, shrink on N, begin/end masks.
    op("STRIDED_SLICE", [ti, i32("ss/b", [0, -1, 1, 0]), i32("ss/e", [1, 0, 7, 4]), i32("ss/s", [1, -2, 3, 1])], [3, 2, 4],
       (OPT["StridedSlice"], [(0, "i32", 8), (1, "i32", 8), (4, "i32", 1)]), version=2)
    # x[..., newaxis, 1:3]: ellipsis and new-axis masks.
    op("STRIDED_SLICE", [ti, i32("ss2/b", [0, 0, 1]), i32("ss2/e", [0, 0, 3]), i32("ss2/s", [1, 1, 1])], [1, 6, 8, 1, 2],
       (OPT["StridedSlice"], [(2, "i32", 1), (3, "i32", 2)]), version=6)
    g.inputs, g.outputs = [ti], outs
    return m, [x], [None] * len(outs), 0.0, "float unary math, SUM/REDUCE_MAX/REDUCE_MIN, SLICE, SPLIT_V, UNPACK, TILE, EXPAND_DIMS, L2_POOL_2D, SPACE_TO_BATCH_ND/BATCH_TO_SPACE_ND, ARG_MIN, CAST, SHAPE, STRIDED_SLICE masks"


def model_quant_ops_int8():
    """int8 activation ops: ADD/SUB/MUL with different scales, pools, CONCATENATION requantising,
    PAD, RESIZE, LOGISTIC/TANH/HARD_SWISH/LEAKY_RELU/RELU/RELU6, SOFTMAX, MEAN, MAXIMUM/MINIMUM,
    depthwise multiplier 2, FULLY_CONNECTED, QUANTIZE (requantise), shape ops on int8."""
    m = Model()
    g = m.subgraph("main")
    sx, zx = 0.05, -3
    x = RNG.integers(-128, 128, (1, 8, 8, 4)).astype(np.int8)
    ti = g.tensor("input", x.shape, I8, quant=q(sx, zx))
    outs = []

    def op(name, inputs, shape, quant, options=None, ttype=I8, version=2, out=True):
        t = g.tensor(f"{name.lower()}_{len(g.tensors)}", shape, ttype, quant=quant)
        g.op(name, inputs, [t], options, version=version)
        if out:
            outs.append(t)
        return t

    i32 = lambda name, v: g.const(name, np.array(v, np.int32), I32)
    s = [1, 8, 8, 4]
    cq = RNG.integers(-128, 128, (4,)).astype(np.int8)
    tc = g.const("c_q", cq, I8, quant=q(0.03, 5))
    op("ADD", [ti, tc], s, q(0.08, -10), opts_act(OPT["Add"], RELU))
    op("SUB", [ti, tc], s, q(0.07, 2), opts_act(OPT["Sub"], NONE), version=3)
    op("MUL", [ti, ti], s, q(0.1, -100), opts_act(OPT["Mul"], NONE))
    op("MUL", [ti, tc], s, q(0.004, 7), opts_act(OPT["Mul"], RELU6))
    op("AVERAGE_POOL_2D", [ti], [1, 4, 4, 4], q(sx, zx), opts_pool(SAME, 2, 2, 3, 3))
    op("MAX_POOL_2D", [ti], [1, 4, 4, 4], q(sx, zx), opts_pool(SAME, 2, 2, 3, 3))
    # int8 CONCATENATION needs equal parameters in TFLite (uint8 may requantise: see the uint8 model).
    op("CONCATENATION", [ti, ti], [1, 8, 8, 8], q(sx, zx), (OPT["Concatenation"], [(0, "i32", 3), (1, "i8", NONE)]))
    op("PAD", [ti, i32("pad/p", [[0, 0], [1, 2], [0, 1], [0, 0]])], [1, 11, 9, 4], q(sx, zx), (OPT["Pad"], []))
    op("RESIZE_BILINEAR", [ti, i32("rb/size", [12, 10])], [1, 12, 10, 4], q(sx, zx),
       (OPT["ResizeBilinear"], [(2, "bool", False), (3, "bool", True)]), version=3)
    op("RESIZE_NEAREST_NEIGHBOR", [ti, i32("rn/size", [5, 5])], [1, 5, 5, 4], q(sx, zx),
       (OPT["ResizeNearestNeighbor"], [(0, "bool", False), (1, "bool", False)]), version=3)
    op("LOGISTIC", [ti], s, q(1 / 256, -128))
    op("TANH", [ti], s, q(1 / 128, 0))
    op("HARD_SWISH", [ti], s, q(0.04, -40), (OPT["HardSwish"], []), version=1)
    op("LEAKY_RELU", [ti], s, q(0.04, 20), (OPT["LeakyRelu"], [(0, "f32", 0.1)]))
    op("RELU", [ti], s, q(sx, zx))
    op("RELU6", [ti], s, q(0.03, -128))
    op("SOFTMAX", [ti], s, q(1 / 256, -128), (OPT["Softmax"], [(0, "f32", 1.0)]))
    op("MEAN", [ti, i32("mean/axes", [1, 2])], [1, 1, 1, 4], q(0.02, 1), (OPT["Reducer"], [(0, "bool", True)]))
    op("MEAN", [ti, i32("mean3/axes", [3])], [1, 8, 8], q(0.03, -2), (OPT["Reducer"], [(0, "bool", False)]))
    op("MAXIMUM", [ti, g.const("mx/c", cq, I8, quant=q(sx, zx))], s, q(sx, zx), (OPT["MaximumMinimum"], []))
    op("MINIMUM", [ti, g.const("mn/c", cq, I8, quant=q(sx, zx))], s, q(sx, zx), (OPT["MaximumMinimum"], []))
    dw = RNG.integers(-127, 128, (1, 3, 3, 8)).astype(np.int8)
    dws = RNG.uniform(0.005, 0.02, 8)
    db = RNG.integers(-2000, 2000, (8,)).astype(np.int32)
    op("DEPTHWISE_CONV_2D", [ti, g.const("dw/w", dw, I8, quant=q(dws, [0] * 8, axis=3)),
                             g.const("dw/b", db, I32, quant=q(sx * dws, [0] * 8))], [1, 4, 4, 8], q(0.06, 4),
       opts_dw(SAME, 2, 2, 2, RELU6), version=3)
    fw = RNG.integers(-127, 128, (5, 256)).astype(np.int8)
    fb = RNG.integers(-3000, 3000, (5,)).astype(np.int32)
    op("FULLY_CONNECTED", [ti, g.const("fc/w", fw, I8, quant=q(0.01, 0)), g.const("fc/b", fb, I32, quant=q(sx * 0.01, 0))],
       [1, 5], q(0.5, -5), (OPT["FullyConnected"], [(0, "i8", NONE)]), version=4)
    op("QUANTIZE", [ti], s, q(0.07, 9), (OPT["Quantize"], []))
    tt = op("TRANSPOSE", [ti, i32("tr/perm", [0, 3, 1, 2])], [1, 4, 8, 8], q(sx, zx), (OPT["Transpose"], []))
    op("RESHAPE", [tt, i32("rs/shape", [1, 32, 8])], [1, 32, 8], q(sx, zx), (OPT["Reshape"], [(0, "vi32", [1, 32, 8])]),
       version=1)
    op("SPACE_TO_DEPTH", [ti], [1, 4, 4, 16], q(sx, zx), (OPT["SpaceToDepth"], [(0, "i32", 2)]))
    tw = RNG.integers(-127, 128, (3, 3, 3, 4)).astype(np.int8)
    tws = RNG.uniform(0.005, 0.02, 3)
    tb = RNG.integers(-2000, 2000, (3,)).astype(np.int32)
    op("TRANSPOSE_CONV", [i32("tconv/shape", [1, 16, 16, 3]), g.const("tconv/w", tw, I8, quant=q(tws, [0] * 3, axis=0)), ti,
                          g.const("tconv/b", tb, I32, quant=q(sx * tws, [0] * 3))], [1, 16, 16, 3], q(0.1, -2),
       (OPT["TransposeConv"], [(0, "i8", SAME), (1, "i32", 2), (2, "i32", 2)]), version=3)
    g.inputs, g.outputs = [ti], outs
    return m, [x], [None] * len(outs), 0.0, "int8 ADD/SUB/MUL/pools/CONCATENATION/PAD/RESIZE/activations/SOFTMAX/MEAN/MAXIMUM/MINIMUM/DEPTHWISE x2/FC/QUANTIZE/TRANSPOSE/RESHAPE/SPACE_TO_DEPTH/TRANSPOSE_CONV"


def model_quant_ops_uint8():
    """Legacy uint8: depthwise with a weight zero point, ADD, AVERAGE_POOL_2D, FULLY_CONNECTED, SOFTMAX, LOGISTIC,
    CONCATENATION (axis -1)."""
    m = Model()
    g = m.subgraph("main")
    sx, zx = 1 / 128, 128
    x = RNG.integers(0, 256, (1, 6, 6, 3)).astype(np.uint8)
    ti = g.tensor("input", x.shape, U8, quant=q(sx, zx))
    outs = []

    def op(name, inputs, shape, quant, options=None, version=1):
        t = g.tensor(f"{name.lower()}_{len(g.tensors)}", shape, U8, quant=quant)
        g.op(name, inputs, [t], options, version=version)
        outs.append(t)
        return t

    dw = RNG.integers(0, 256, (1, 3, 3, 3)).astype(np.uint8)
    db = RNG.integers(-500, 500, (3,)).astype(np.int32)
    td = op("DEPTHWISE_CONV_2D", [ti, g.const("dw/w", dw, U8, quant=q(0.01, 120)),
                                  g.const("dw/b", db, I32, quant=q(sx * 0.01, 0))], [1, 6, 6, 3], q(0.05, 100),
            opts_dw(SAME, 1, 1, 1, RELU))
    ta = op("ADD", [ti, td], [1, 6, 6, 3], q(0.06, 60), opts_act(OPT["Add"], NONE))
    op("AVERAGE_POOL_2D", [ta], [1, 3, 3, 3], q(0.06, 60), opts_pool(VALID, 2, 2, 2, 2))
    fw = RNG.integers(0, 256, (4, 108)).astype(np.uint8)
    fb = RNG.integers(-500, 500, (4,)).astype(np.int32)
    tf_ = op("FULLY_CONNECTED", [ta, g.const("fc/w", fw, U8, quant=q(0.02, 131)), g.const("fc/b", fb, I32, quant=q(0.06 * 0.02, 0))],
             [1, 4], q(0.3, 128), (OPT["FullyConnected"], [(0, "i8", NONE)]))
    op("SOFTMAX", [tf_], [1, 4], q(1 / 256, 0), (OPT["Softmax"], [(0, "f32", 1.0)]))
    op("LOGISTIC", [ta], [1, 6, 6, 3], q(1 / 256, 0))
    # (Inputs with other parameters than the output: this runtime's XNNPACK delegate copies the
    # raw values without requantising, unlike TFLite's own kernel, so only equal ones are compared.)
    op("CONCATENATION", [ta, ta], [1, 6, 6, 6], q(0.06, 60), (OPT["Concatenation"], [(0, "i32", -1), (1, "i8", NONE)]))
    g.inputs, g.outputs = [ti], outs
    return m, [x], [None] * len(outs), 0.0, "uint8 DEPTHWISE_CONV_2D (weight zero point), ADD, AVERAGE_POOL_2D, FULLY_CONNECTED, SOFTMAX, LOGISTIC, CONCATENATION"


def model_hybrid():
    """Dynamic-range quantisation: f32 activations, int8 weights (CONV_2D, FULLY_CONNECTED symmetric and asymmetric inputs)."""
    m = Model()
    g = m.subgraph("main")
    x = rnd(1, 5, 5, 3)
    ti = g.tensor("input", x.shape)
    cw = RNG.integers(-127, 128, (4, 3, 3, 3)).astype(np.int8)
    tc = g.tensor("conv", [1, 5, 5, 4])
    g.op("CONV_2D", [ti, g.const("conv/w", cw, I8, quant=q(0.01, 0)), g.const("conv/b", rnd(4))], [tc],
         opts_conv(SAME, 1, 1, RELU), version=2)
    fw = RNG.integers(-127, 128, (6, 100)).astype(np.int8)
    t1 = g.tensor("fc_sym", [1, 6])
    g.op("FULLY_CONNECTED", [tc, g.const("fc/w", fw, I8, quant=q(0.02, 0)), g.const("fc/b", rnd(6))], [t1],
         (OPT["FullyConnected"], [(0, "i8", NONE)]), version=3)
    t2 = g.tensor("fc_asym", [1, 6])
    g.op("FULLY_CONNECTED", [tc, g.const("fc2/w", fw, I8, quant=q(0.02, 0)), g.const("fc2/b", rnd(6))], [t2],
         (OPT["FullyConnected"], [(0, "i8", NONE), (3, "bool", True)]), version=9)
    cw2 = RNG.integers(-127, 128, (5, 3, 3, 3)).astype(np.int8)
    tc2 = g.tensor("conv_per_channel", [1, 3, 3, 5])
    g.op("CONV_2D", [ti, g.const("conv2/w", cw2, I8, quant=q(RNG.uniform(0.005, 0.02, 5), [0] * 5, axis=0)),
                     g.const("conv2/b", rnd(5))], [tc2], opts_conv(SAME, 2, 2, NONE), version=5)
    dw = RNG.integers(-127, 128, (1, 3, 3, 6)).astype(np.int8)
    td = g.tensor("dw_per_channel", [1, 5, 5, 6])
    g.op("DEPTHWISE_CONV_2D", [ti, g.const("dw/w", dw, I8, quant=q(RNG.uniform(0.005, 0.02, 6), [0] * 6, axis=3)),
                               g.const("dw/b", rnd(6))], [td], opts_dw(SAME, 1, 1, 2, RELU6), version=6)
    g.inputs, g.outputs = [ti], [tc, t1, t2, tc2, td]
    return m, [x], [None] * 5, 0.0, "hybrid CONV_2D (per-tensor and per-channel weights), DEPTHWISE_CONV_2D / FULLY_CONNECTED (f32 activations, int8 weights), symmetric and asymmetric input quantisation"


def model_fp16_weights():
    """float16 weights behind DEQUANTIZE (TFLiteConverter's float16 quantisation)."""
    m = Model()
    g = m.subgraph("main")
    x = rnd(1, 6, 6, 3)
    ti = g.tensor("input", x.shape)
    w = rnd(4, 3, 3, 3, scale=0.5).astype(np.float16)
    tw16 = g.tensor("conv/w_f16", w.shape, F16, raw=w.tobytes())
    tw = g.tensor("conv/w", w.shape)
    g.op("DEQUANTIZE", [tw16], [tw], (OPT["Dequantize"], []), version=3)
    to = g.tensor("conv", [1, 6, 6, 4])
    g.op("CONV_2D", [ti, tw, g.const("conv/b", rnd(4))], [to], opts_conv(SAME, 1, 1, NONE))
    g.inputs, g.outputs = [ti], [to]
    return m, [x], [None], 0.0, "DEQUANTIZE of float16 weights into CONV_2D"


def model_while():
    """WHILE loop: cond i < 3, body (i + 1, x * 1.5 + 1)."""
    m = Model()
    g = m.subgraph("main")
    cond = m.subgraph("cond")
    body = m.subgraph("body")
    ti, tx = g.tensor("i", [1], I32), g.tensor("x", [2, 3])
    oi, ox = g.tensor("i_out", [1], I32), g.tensor("x_out", [2, 3])
    g.op("WHILE", [ti, tx], [oi, ox], (OPT["While"], [(0, "i32", 1), (1, "i32", 2)]))
    g.inputs, g.outputs = [ti, tx], [oi, ox]
    ci, cx = cond.tensor("i", [1], I32), cond.tensor("x", [2, 3])
    cb = cond.tensor("go", [1], BOOL)
    cond.op("LESS", [ci, cond.const("limit", np.array([3], np.int32), I32)], [cb])
    cond.inputs, cond.outputs = [ci, cx], [cb]
    bi, bx = body.tensor("i", [1], I32), body.tensor("x", [2, 3])
    bi2, bx1, bx2 = body.tensor("i2", [1], I32), body.tensor("x1", [2, 3]), body.tensor("x2", [2, 3])
    body.op("ADD", [bi, body.const("one", np.array([1], np.int32), I32)], [bi2], opts_act(OPT["Add"], NONE))
    body.op("MUL", [bx, body.const("k", np.array([1.5], np.float32))], [bx1], opts_act(OPT["Mul"], NONE))
    body.op("ADD", [bx1, body.const("b", np.array([1.0], np.float32))], [bx2], opts_act(OPT["Add"], NONE))
    body.inputs, body.outputs = [bi, bx], [bi2, bx2]
    x = rnd(2, 3)
    y = x.copy()
    for _ in range(3):
        y = y * np.float32(1.5) + np.float32(1.0)
    return m, [np.array([0], np.int32), x], [np.array([3], np.int32), y.astype(np.float32)], 1e-5, "WHILE with cond/body subgraphs (LESS)"


def model_quant_int16():
    """16x8 quantisation: int16 activations (zero point 0), int8 per-channel weights, int64 bias."""
    m = Model()
    g = m.subgraph("main")
    x = RNG.uniform(-2, 2, (1, 6, 6, 3)).astype(np.float32)
    ti = g.tensor("input", x.shape)
    s_in = 2.0 / 32767
    tq = g.tensor("input_q", x.shape, I16, quant=q(s_in, 0))
    g.op("QUANTIZE", [ti], [tq], (OPT["Quantize"], []), version=3)
    w = RNG.integers(-127, 128, (4, 3, 3, 3)).astype(np.int8)
    ws = RNG.uniform(0.002, 0.01, 4)
    b = RNG.integers(-20000, 20000, (4,)).astype(np.int64)
    tc = g.tensor("conv_q", [1, 6, 6, 4], I16, quant=q(0.5 / 32767, 0))
    g.op("CONV_2D", [tq, g.const("conv/w", w, I8, quant=q(ws, [0] * 4, axis=0)),
                     g.const("conv/b", b, I64, quant=q(s_in * ws, [0] * 4))], [tc], opts_conv(SAME, 1, 1, RELU), version=4)
    fw = RNG.integers(-127, 128, (3, 144)).astype(np.int8)
    tf_ = g.tensor("fc_q", [1, 3], I16, quant=q(4.0 / 32767, 0))
    g.op("FULLY_CONNECTED", [tc, g.const("fc/w", fw, I8, quant=q(0.01, 0)), -1], [tf_],
         (OPT["FullyConnected"], [(0, "i8", NONE)]), version=7)
    g.inputs, g.outputs = [ti], [tq, tc, tf_]
    return m, [x], [None] * 3, 0.0, "int16 activations (16x8): QUANTIZE to int16, CONV_2D with int64 bias, FULLY_CONNECTED"


# ------------------------------------------------------------ MediaPipe custom ops
def custom_pool_options(padding, sw, sh, fw, fh, a=NONE):
    """MediaPipe's custom_options: the raw TfLitePoolParams struct (int32 padding (1 SAME, 2 VALID),
    stride_width, stride_height, filter_width, filter_height, activation, then 4 int32 of computed padding)."""
    return np.array([1 if padding == SAME else 2, sw, sh, fw, fh, a, 0, 0, 0, 0], "<i4").tobytes()


def custom_tconv_options(padding, sw, sh):
    """TfLiteTransposeConvParams: int32 padding (1 SAME, 2 VALID), stride_width, stride_height."""
    return np.array([1 if padding == SAME else 2, sw, sh], "<i4").tobytes()


def np_tconv_bias(x, w, b, stride, padding):
    """MediaPipe Convolution2DTransposeBias in float64: full transposed convolution, SAME crops
    P = max(0, K - (in - 1) % s - 1) (P // 2 first), plus bias."""
    n, ih, iw, _ = x.shape
    oc, kh, kw, _ = w.shape
    full = np.zeros((n, (ih - 1) * stride[0] + kh, (iw - 1) * stride[1] + kw, oc))
    for iy in range(ih):
        for ix in range(iw):
            full[:, iy * stride[0]:iy * stride[0] + kh, ix * stride[1]:ix * stride[1] + kw, :] += \
                np.einsum("nc,ohwc->nhwo", x[:, iy, ix].astype(np.float64), w.astype(np.float64))
    ph = max(0, kh - (ih - 1) % stride[0] - 1) if padding == SAME else 0
    pw = max(0, kw - (iw - 1) % stride[1] - 1) if padding == SAME else 0
    oh, ow = full.shape[1] - ph, full.shape[2] - pw
    return (full[:, ph // 2:ph // 2 + oh, pw // 2:pw // 2 + ow, :] + b).astype(np.float32)


def np_pool_argmax(x, k, stride, padding, a=NONE):
    """Max pool values and MediaPipe's indices (ky * filter_w + kx + 0.1, first max of the window)."""
    n, ih, iw, c = x.shape
    oh, ow, ph, pw = pool_geometry(ih, iw, k, stride, padding)
    vals = np.zeros((n, oh, ow, c), np.float32)
    idx = np.zeros((n, oh, ow, c), np.float32)
    for oy in range(oh):
        for ox in range(ow):
            y0, x0 = oy * stride[0] - ph, ox * stride[1] - pw
            best = np.full((n, c), -np.inf, np.float32)
            bi = np.zeros((n, c), np.int64)
            for ky in range(k[0]):
                for kx in range(k[1]):
                    yy, xx = y0 + ky, x0 + kx
                    if 0 <= yy < ih and 0 <= xx < iw:
                        v = x[:, yy, xx, :]
                        better = v > best
                        best = np.where(better, v, best)
                        bi = np.where(better, ky * k[1] + kx, bi)
            vals[:, oy, ox] = act(best, a)
            idx[:, oy, ox] = bi.astype(np.float32) + np.float32(0.1)
    return vals, idx


def np_unpool(vals, idx, k, stride):
    n, h, w, c = vals.shape
    oh, ow = h * k[0], w * k[1]
    ph = max(0, ((h - 1) * stride[0] + k[0] - oh) // 2)
    pw = max(0, ((w - 1) * stride[1] + k[1] - ow) // 2)
    y = np.zeros((n, oh, ow, c), np.float32)
    for b in range(n):
        for iy in range(h):
            for ix in range(w):
                for ch in range(c):
                    i = int(idx[b, iy, ix, ch])
                    yy, xx = iy * stride[0] - ph + i // k[1], ix * stride[1] - pw + i % k[1]
                    if 0 <= yy < oh and 0 <= xx < ow:
                        y[b, yy, xx, ch] = vals[b, iy, ix, ch]
    return y


MP_X = None


def mediapipe_params():
    global MP_X
    r = np.random.default_rng(777)
    x = r.standard_normal((1, 7, 9, 3)).astype(np.float32)
    w1, b1 = (r.standard_normal((4, 3, 3, 3)) * 0.5).astype(np.float32), r.standard_normal(4).astype(np.float32)
    w2, b2 = (r.standard_normal((2, 2, 3, 3)) * 0.5).astype(np.float32), r.standard_normal(2).astype(np.float32)
    return x, w1, b1, w2, b2


def model_mediapipe_custom():
    """MediaPipe custom ops: Convolution2DTransposeBias (SAME stride 2 with odd crops; VALID strides 1x2),
    MaxPoolingWithArgmax2D (2x2/2 with fused RELU; 3x3/2 SAME with padded windows), MaxUnpooling2D.
    The runtime cannot run them; tests/tflite/test_oracle.py compares convfix with the runtime on the
    builtin twin model mediapipe_builtin (values) and with the numpy references here (indices, unpooling)."""
    m = Model()
    g = m.subgraph("main")
    x, w1, b1, w2, b2 = mediapipe_params()
    ti = g.tensor("input", x.shape)
    y1 = np_tconv_bias(x, w1, b1, (2, 2), SAME)
    t1 = g.tensor("tconv_same", y1.shape)
    g.op("Convolution2DTransposeBias", [ti, g.const("tconv1/w", w1), g.const("tconv1/b", b1)], [t1], custom="Convolution2DTransposeBias",
         custom_options=custom_tconv_options(SAME, 2, 2))
    y2 = np_tconv_bias(x, w2, b2, (1, 2), VALID)
    t2 = g.tensor("tconv_valid", y2.shape)
    g.op("Convolution2DTransposeBias", [ti, g.const("tconv2/w", w2), g.const("tconv2/b", b2)], [t2], custom="Convolution2DTransposeBias",
         custom_options=custom_tconv_options(VALID, 2, 1))
    v1, i1 = np_pool_argmax(y1, (2, 2), (2, 2), SAME, RELU)
    tv1, ti1 = g.tensor("pool_values", v1.shape), g.tensor("pool_indices", i1.shape)
    g.op("MaxPoolingWithArgmax2D", [t1], [tv1, ti1], custom="MaxPoolingWithArgmax2D",
         custom_options=custom_pool_options(SAME, 2, 2, 2, 2, RELU))
    u1 = np_unpool(v1, i1, (2, 2), (2, 2))
    tu1 = g.tensor("unpooled", u1.shape)
    g.op("MaxUnpooling2D", [tv1, ti1], [tu1], custom="MaxUnpooling2D", custom_options=custom_pool_options(SAME, 2, 2, 2, 2))
    v3, i3 = np_pool_argmax(x, (3, 3), (2, 2), SAME)
    tv3, ti3 = g.tensor("pool3_values", v3.shape), g.tensor("pool3_indices", i3.shape)
    g.op("MaxPoolingWithArgmax2D", [ti], [tv3, ti3], custom="MaxPoolingWithArgmax2D",
         custom_options=custom_pool_options(SAME, 2, 2, 3, 3))
    u3 = np_unpool(v3, i3, (3, 3), (2, 2))
    tu3 = g.tensor("unpooled3", u3.shape)
    g.op("MaxUnpooling2D", [tv3, ti3], [tu3], custom="MaxUnpooling2D", custom_options=custom_pool_options(SAME, 2, 2, 3, 3))
    g.inputs, g.outputs = [ti], [t1, t2, tv1, ti1, tu1, tv3, ti3, tu3]
    return m, [x], [y1, y2, v1, i1, u1, v3, i3, u3], 1e-4, "MediaPipe custom ops Convolution2DTransposeBias, MaxPoolingWithArgmax2D, MaxUnpooling2D"


def model_mediapipe_builtin():
    """The values of mediapipe_custom with builtin ops the runtime runs: TRANSPOSE_CONV (output shape as
    MediaPipe computes it) + ADD for Convolution2DTransposeBias, MAX_POOL_2D for the pooled values."""
    m = Model()
    g = m.subgraph("main")
    x, w1, b1, w2, b2 = mediapipe_params()
    ti = g.tensor("input", x.shape)
    i32 = lambda name, v: g.const(name, np.array(v, np.int32), I32)

    def tconv(tag, w, b, stride, padding):
        shape = np_tconv_bias(x, w, b, stride, padding).shape
        tc = g.tensor(tag + "_nobias", shape)
        g.op("TRANSPOSE_CONV", [i32(tag + "/shape", list(shape)), g.const(tag + "/w", w), ti], [tc],
             (OPT["TransposeConv"], [(0, "i8", padding), (1, "i32", stride[1]), (2, "i32", stride[0])]))
        to = g.tensor(tag, shape)
        g.op("ADD", [tc, g.const(tag + "/b", b)], [to], opts_act(OPT["Add"], NONE))
        return to, shape

    t1, s1 = tconv("tconv_same", w1, b1, (2, 2), SAME)
    t2, _ = tconv("tconv_valid", w2, b2, (1, 2), VALID)
    tv1 = g.tensor("pool_values", [1, -(-s1[1] // 2), -(-s1[2] // 2), 4])
    g.op("MAX_POOL_2D", [t1], [tv1], opts_pool(SAME, 2, 2, 2, 2, RELU))
    tv3 = g.tensor("pool3_values", [1, 4, 5, 3])
    g.op("MAX_POOL_2D", [ti], [tv3], opts_pool(SAME, 2, 2, 3, 3))
    g.inputs, g.outputs = [ti], [t1, t2, tv1, tv3]
    return m, [x], [None] * 4, 0.0, "builtin twin of mediapipe_custom (TRANSPOSE_CONV + ADD, MAX_POOL_2D)"


def twin_reference_mediapipe(inputs, twin_outputs):
    """Expected outputs of mediapipe_custom from the runtime's outputs on mediapipe_builtin (transposed
    convolutions, pooled values) and numpy (argmax indices from the runtime's values, unpooling)."""
    t1, t2, v1, v3 = twin_outputs
    x = inputs[0]
    _, i1 = np_pool_argmax(t1, (2, 2), (2, 2), SAME, RELU)
    _, i3 = np_pool_argmax(x, (3, 3), (2, 2), SAME)
    return [t1, t2, v1, i1, np_unpool(v1, i1, (2, 2), (2, 2)), v3, i3, np_unpool(v3, i3, (3, 3), (2, 2))]


# Models the runtime cannot run, checked through a builtin twin: name -> (twin, reference function).
TWINS = {"mediapipe_custom": ("mediapipe_builtin", "twin_reference_mediapipe")}


# ------------------------------------------------------------ quantized op coverage
def quant_cover(dtype, sx, zx, shape=(1, 6, 8, 4)):
    """A model whose input is `dtype` (I8 / U8) or f32 quantised to int16 first (I16); returns
    (model, graph, input tensor, data tensor, x, op helper, outs, i32 const helper, const helper)."""
    m = Model()
    g = m.subgraph("main")
    outs = []
    if dtype == I16:
        x = RNG.uniform(-3, 3, shape).astype(np.float32)
        tin = g.tensor("input", shape)
        ti = g.tensor("input_q", shape, I16, quant=q(sx, 0))
        g.op("QUANTIZE", [tin], [ti], (OPT["Quantize"], []), version=3)
    else:
        info = np.iinfo(NP_OF[dtype])
        x = RNG.integers(info.min, info.max, shape, endpoint=True).astype(NP_OF[dtype])
        tin = ti = g.tensor("input", shape, dtype, quant=q(sx, zx))

    def op(name, inputs, oshape, quant, options=None, ttype=dtype, version=2, n_out=1, out=True):
        ts = [g.tensor(f"{name.lower()}_{len(g.tensors)}_{k}", oshape if n_out == 1 else oshape[k], ttype,
                       quant=quant if ttype in (I8, U8, I16) else None) for k in range(n_out)]
        g.op(name, inputs, ts, options, version=version)
        if out:
            outs.extend(ts)
        return ts[0] if n_out == 1 else ts

    def qconst(name, values, quant, ttype=dtype):
        return g.const(name, np.asarray(values).astype(NP_OF[ttype]), ttype, quant=quant)

    i32 = lambda name, v: g.const(name, np.array(v, np.int32), I32)
    return m, g, tin, ti, x, op, outs, i32, qconst


def movement_ops(op, ti, i32, qconst, dtype, qs, skip=()):
    """Data-movement ops on a [1, 6, 8, 4] quantised tensor with parameters qs (kept); `skip`: op names
    the runtime refuses for this type."""
    inner = op

    def op(name, *a, **k):
        return None if name in skip else inner(name, *a, **k)

    op("SQUEEZE", [ti], [6, 8, 4], qs, (OPT["Squeeze"], [(0, "vi32", [0])]), version=1)
    op("EXPAND_DIMS", [ti, i32("expand/axis", [1])], [1, 1, 6, 8, 4], qs, (OPT["ExpandDims"], []), version=1)
    op("SLICE", [ti, i32("slice/b", [0, 1, 2, 0]), i32("slice/s", [1, 3, -1, 2])], [1, 3, 6, 2], qs, (OPT["Slice"], []))
    op("STRIDED_SLICE", [ti, i32("ss/b", [0, -1, 1, 0]), i32("ss/e", [1, 0, 7, 4]), i32("ss/s", [1, -2, 3, 1])], [3, 2, 4], qs,
       (OPT["StridedSlice"], [(0, "i32", 8), (1, "i32", 8), (4, "i32", 1)]))
    op("SPLIT", [i32("split/axis", 3), ti], [[1, 6, 8, 2]] * 2, qs, (OPT["Split"], [(0, "i32", 2)]), n_out=2)
    op("SPLIT_V", [ti, i32("splitv/sizes", [1, -1]), i32("splitv/axis", [2])], [[1, 6, 1, 4], [1, 6, 7, 4]], qs,
       (OPT["SplitV"], [(0, "i32", 2)]), n_out=2)
    op("PACK", [ti, ti], [1, 2, 6, 8, 4], qs, (OPT["Pack"], [(0, "i32", 2), (1, "i32", 1)]))
    op("UNPACK", [ti], [[1, 6, 8]] * 4, qs, (OPT["Unpack"], [(0, "i32", 4), (1, "i32", 3)]), n_out=4)
    op("TILE", [ti, i32("tile/m", [1, 2, 1, 2])], [1, 12, 8, 8], qs, (OPT["Tile"], []))
    op("GATHER", [ti, i32("gather/idx", [3, 0, 2])], [1, 6, 8, 3], qs, (OPT["Gather"], [(0, "i32", 3), (1, "i32", 0)]))
    op("DEPTH_TO_SPACE", [ti], [1, 12, 16, 1], qs, (OPT["DepthToSpace"], [(0, "i32", 2)]))
    op("SPACE_TO_DEPTH", [ti], [1, 3, 4, 16], qs, (OPT["SpaceToDepth"], [(0, "i32", 2)]))
    tb = op("SPACE_TO_BATCH_ND", [ti, i32("s2b/block", [2, 2]), i32("s2b/pad", [[1, 1], [0, 2]])], [4, 4, 5, 4], qs,
            (OPT["SpaceToBatchND"], []))
    op("BATCH_TO_SPACE_ND" if tb is not None else "-", [tb, i32("b2s/block", [2, 2]), i32("b2s/crops", [[1, 1], [0, 2]])], [1, 6, 8, 4], qs,
       (OPT["BatchToSpaceND"], []))
    pads = [[0, 0], [1, 2], [2, 1], [0, 0]]
    op("PAD", [ti, i32("pad/p", pads)], [1, 9, 11, 4], qs, (OPT["Pad"], []))
    op("PADV2", [ti, i32("padv2/p", pads), qconst("padv2/v", [7], qs)], [1, 9, 11, 4], qs, (OPT["PadV2"], []))
    op("MIRROR_PAD", [ti, i32("mirror/p", [[0, 0], [2, 1], [1, 2], [0, 0]])], [1, 9, 11, 4], qs, (OPT["MirrorPad"], [(0, "i8", 0)]))
    op("MIRROR_PAD", [ti, i32("mirror2/p", [[0, 0], [2, 1], [1, 2], [0, 0]])], [1, 9, 11, 4], qs, (OPT["MirrorPad"], [(0, "i8", 1)]))
    op("TRANSPOSE", [ti, i32("tr/perm", [0, 3, 1, 2])], [1, 4, 6, 8], qs, (OPT["Transpose"], []))
    op("RESHAPE", [ti, i32("rs/shape", [1, 48, 4])], [1, 48, 4], qs, (OPT["Reshape"], [(0, "vi32", [1, 48, 4])]), version=1)
    op("CONCATENATION", [ti, ti], [1, 6, 16, 4], qs, (OPT["Concatenation"], [(0, "i32", 2), (1, "i8", NONE)]))
    op("ARG_MAX", [ti, i32("argmax/axis", [3])], [1, 6, 8], None, (OPT["ArgMax"], [(0, "i8", I32)]), ttype=I32)
    op("ARG_MIN", [ti, i32("argmin/axis", [2])], [1, 6, 4], None, (OPT["ArgMin"], [(0, "i8", I32)]), ttype=I32)
    op("MAX_POOL_2D", [ti], [1, 3, 4, 4], qs, opts_pool(SAME, 2, 2, 3, 3))
    op("AVERAGE_POOL_2D", [ti], [1, 3, 4, 4], qs, opts_pool(SAME, 2, 2, 3, 3))
    op("REDUCE_MAX", [ti, i32("rmax/axes", [1, 2])], [1, 1, 1, 4], qs, (OPT["Reducer"], [(0, "bool", True)]))
    op("REDUCE_MIN", [ti, i32("rmin/axes", [3])], [1, 6, 8], qs, (OPT["Reducer"], [(0, "bool", False)]))
    op("RESIZE_BILINEAR", [ti, i32("rb/size", [9, 12])], [1, 9, 12, 4], qs,
       (OPT["ResizeBilinear"], [(2, "bool", False), (3, "bool", True)]), version=3)
    op("RESIZE_NEAREST_NEIGHBOR", [ti, i32("rn/size", [12, 5])], [1, 12, 5, 4], qs,
       (OPT["ResizeNearestNeighbor"], [(0, "bool", True), (1, "bool", False)]), version=3)


def model_quant_more_int8():
    """int8 ops not in quant_ops_int8: SUM, REDUCE_MAX/MIN, PRELU, SQUARED_DIFFERENCE, RELU_N1_TO_1, ELU,
    LOG_SOFTMAX, L2_NORMALIZATION, comparisons, SELECT_V2 and the data-movement ops."""
    sx, zx = 0.05, -3
    m, g, tin, ti, x, op, outs, i32, qc = quant_cover(I8, sx, zx)
    qs = q(sx, zx)
    movement_ops(op, ti, i32, qc, I8, qs)
    op("SUM", [ti, i32("sum/axes", [1, 2])], [1, 1, 1, 4], q(0.5, 2), (OPT["Reducer"], [(0, "bool", True)]))
    op("SUM", [ti, i32("sum2/axes", [3])], [1, 6, 8], q(0.15, -1), (OPT["Reducer"], [(0, "bool", False)]))
    op("SUM", [ti, i32("sum3/axes", [2])], [1, 6, 4], qs, (OPT["Reducer"], [(0, "bool", False)]))
    op("PRELU", [ti, qc("prelu/alpha", RNG.integers(-100, 100, (4,)), q(0.01, 0))], [1, 6, 8, 4], q(0.04, 10), version=1)
    op("SQUARED_DIFFERENCE", [ti, qc("sqd/c", RNG.integers(-128, 128, (4,)), q(0.03, 5))], [1, 6, 8, 4], q(0.1, -128),
       (OPT["SquaredDifference"], []), version=1)
    op("RELU_N1_TO_1", [ti], [1, 6, 8, 4], q(1 / 127, 0), version=1)
    op("ELU", [ti], [1, 6, 8, 4], q(0.05, 0), version=1)
    op("LOG_SOFTMAX", [ti], [1, 6, 8, 4], q(16 / 256, 127), (OPT["LogSoftmax"], []))
    op("L2_NORMALIZATION", [ti], [1, 6, 8, 4], q(1 / 128, 0), opts_act(OPT["L2Norm"], NONE))
    cmp_c = qc("cmp/c", RNG.integers(-128, 128, (4,)), q(0.03, 5))
    same_c = qc("cmp/same", RNG.integers(-20, 20, (4,)), qs)
    tl = op("LESS", [ti, cmp_c], [1, 6, 8, 4], None, (OPT["Less"], []), ttype=BOOL)
    op("GREATER", [ti, cmp_c], [1, 6, 8, 4], None, (OPT["Greater"], []), ttype=BOOL)
    op("GREATER_EQUAL", [ti, same_c], [1, 6, 8, 4], None, (OPT["GreaterEqual"], []), ttype=BOOL)
    op("LESS_EQUAL", [ti, same_c], [1, 6, 8, 4], None, (OPT["LessEqual"], []), ttype=BOOL)
    op("EQUAL", [ti, same_c], [1, 6, 8, 4], None, (OPT["Equal"], []), ttype=BOOL)
    op("NOT_EQUAL", [ti, same_c], [1, 6, 8, 4], None, (OPT["NotEqual"], []), ttype=BOOL)
    op("SELECT_V2", [tl, ti, same_c], [1, 6, 8, 4], qs, (OPT["SelectV2"], []), version=1)
    op("SELECT", [tl, ti, ti], [1, 6, 8, 4], qs, (OPT["Select"], []))
    g.inputs, g.outputs = [ti], outs
    return m, [x], [None] * len(outs), 0.0, "int8 data movement, SUM/REDUCE_MAX/MIN, PRELU, SQUARED_DIFFERENCE, RELU_N1_TO_1, ELU, LOG_SOFTMAX, L2_NORMALIZATION, comparisons, SELECT/SELECT_V2"


def model_quant_more_uint8():
    """uint8 ops not in quant_ops_uint8: DIV, SUB, MUL, MAXIMUM/MINIMUM, activations, PRELU, MEAN, SUM,
    MAX_POOL_2D, LOG_SOFTMAX, L2_NORMALIZATION, QUANTIZE, DEQUANTIZE, comparisons, SELECT and data movement."""
    sx, zx = 1 / 32, 128
    m, g, tin, ti, x, op, outs, i32, qc = quant_cover(U8, sx, zx)
    qs = q(sx, zx)
    s = [1, 6, 8, 4]
    movement_ops(op, ti, i32, qc, U8, qs)
    c = qc("c", RNG.integers(1, 256, (4,)), q(0.02, 0))
    # Quantised DIV: TFLite's fixed-point reciprocal kernel shifts by more than 31 bits (undefined; the
    # runtime then saturates) when the divisor's integer needs more bits than the exponent of
    # s1 / (s2 * s_out) provides and |x - zp| is small; divisors 16..31 and that exponent >= 5 stay defined.
    op("DIV", [ti, qc("div/c", RNG.integers(16, 32, (4,)), q(0.02, 0))], s, q(0.04, 128), opts_act(OPT["Div"], NONE), version=1)
    op("SUB", [ti, c], s, q(0.05, 120), opts_act(OPT["Sub"], RELU6))
    op("MUL", [ti, c], s, q(0.1, 128), opts_act(OPT["Mul"], NONE))
    op("ADD", [ti, c], s, q(0.04, 10), opts_act(OPT["Add"], RELU))
    op("MAXIMUM", [ti, qc("mx/c", RNG.integers(0, 256, (4,)), qs)], s, qs, (OPT["MaximumMinimum"], []))
    op("MINIMUM", [ti, qc("mn/c", RNG.integers(0, 256, (4,)), qs)], s, qs, (OPT["MaximumMinimum"], []))
    op("RELU", [ti], s, q(0.02, 0), version=2)
    op("RELU6", [ti], s, q(6 / 255, 0), version=2)
    op("RELU_N1_TO_1", [ti], s, q(2 / 255, 128), version=1)
    op("LEAKY_RELU", [ti], s, q(0.03, 140), (OPT["LeakyRelu"], [(0, "f32", 0.15)]))
    op("TANH", [ti], s, q(1 / 128, 128))
    op("HARD_SWISH", [ti], s, q(0.03, 20), (OPT["HardSwish"], []), version=1)
    op("PRELU", [ti, qc("prelu/alpha", RNG.integers(0, 256, (4,)), q(0.004, 128))], s, q(0.03, 150), version=1)
    op("MEAN", [ti, i32("mean/axes", [1, 2])], [1, 1, 1, 4], q(0.02, 128), (OPT["Reducer"], [(0, "bool", True)]))
    op("MEAN", [ti, i32("mean2/axes", [3])], [1, 6, 8], q(0.03, 120), (OPT["Reducer"], [(0, "bool", False)]))
    op("SUM", [ti, i32("sum/axes", [3])], [1, 6, 8], q(0.1, 50), (OPT["Reducer"], [(0, "bool", False)]))
    op("LOG_SOFTMAX", [ti], s, q(16 / 256, 255), (OPT["LogSoftmax"], []))
    op("L2_NORMALIZATION", [ti], s, q(1 / 128, 128), opts_act(OPT["L2Norm"], NONE))
    op("QUANTIZE", [ti], s, q(0.05, 100), (OPT["Quantize"], []))
    op("QUANTIZE", [ti], s, q(sx, 0), (OPT["Quantize"], []), ttype=I8)
    op("DEQUANTIZE", [ti], s, None, (OPT["Dequantize"], []), ttype=F32)
    same_c = qc("cmp/same", RNG.integers(100, 156, (4,)), qs)
    tl = op("LESS", [ti, c], s, None, (OPT["Less"], []), ttype=BOOL)
    op("GREATER_EQUAL", [ti, same_c], s, None, (OPT["GreaterEqual"], []), ttype=BOOL)
    op("EQUAL", [ti, same_c], s, None, (OPT["Equal"], []), ttype=BOOL)
    op("SELECT_V2", [tl, ti, same_c], s, qs, (OPT["SelectV2"], []), version=1)
    tw = RNG.integers(0, 256, (3, 3, 3, 4)).astype(np.uint8)
    tb = RNG.integers(-2000, 2000, (3,)).astype(np.int32)
    op("TRANSPOSE_CONV", [i32("tconv/shape", [1, 12, 16, 3]), qc("tconv/w", tw, q(0.01, 127)), ti,
                          g.const("tconv/b", tb, I32, quant=q(sx * 0.01, 0))], [1, 12, 16, 3], q(0.2, 128),
       (OPT["TransposeConv"], [(0, "i8", SAME), (1, "i32", 2), (2, "i32", 2)]), version=3)
    g.inputs, g.outputs = [ti], outs
    return m, [x], [None] * len(outs), 0.0, "uint8 data movement, DIV/SUB/MUL/ADD/MAXIMUM/MINIMUM, activations, PRELU, MEAN, SUM, pools, LOG_SOFTMAX, L2_NORMALIZATION, QUANTIZE/DEQUANTIZE, comparisons, SELECT_V2, TRANSPOSE_CONV"


# int16 ops this runtime refuses ("failed to prepare"): checked by hand, see docs/FORMATS.md.
INT16_REFUSED = {"MIRROR_PAD", "SPACE_TO_BATCH_ND", "TILE", "ARG_MIN", "ARG_MAX", "SPACE_TO_DEPTH", "DEPTH_TO_SPACE", "-"}


def model_quant_more_int16():
    """int16 activations (16x8, zero point 0): elementwise, activations, pools, reductions, SOFTMAX,
    data movement, DEQUANTIZE."""
    sx = 3.0 / 32767
    m, g, tin, ti, x, op, outs, i32, qc = quant_cover(I16, sx, 0)
    qs = q(sx, 0)
    s = [1, 6, 8, 4]
    movement_ops(op, ti, i32, qc, I16, qs, skip=INT16_REFUSED)
    c = qc("c", RNG.integers(-30000, 30000, (4,)), q(2.0 / 32767, 0))
    op("ADD", [ti, c], s, q(5.0 / 32767, 0), opts_act(OPT["Add"], NONE), version=3)
    op("SUB", [ti, c], s, q(5.0 / 32767, 0), opts_act(OPT["Sub"], RELU), version=3)
    op("MUL", [ti, c], s, q(6.0 / 32767, 0), opts_act(OPT["Mul"], NONE), version=4)
    op("MAXIMUM", [ti, qc("mx/c", RNG.integers(-30000, 30000, (4,)), qs)], s, qs, (OPT["MaximumMinimum"], []), version=3)
    op("MINIMUM", [ti, qc("mn/c", RNG.integers(-30000, 30000, (4,)), qs)], s, qs, (OPT["MaximumMinimum"], []), version=3)
    op("RELU", [ti], s, q(3.0 / 32767, 0), version=3)
    op("RELU6", [ti], s, q(6.0 / 32767, 0), version=3)
    op("LEAKY_RELU", [ti], s, q(3.0 / 32767, 0), (OPT["LeakyRelu"], [(0, "f32", 0.2)]), version=2)
    op("LOGISTIC", [ti], s, q(1.0 / 32768, 0), version=3)
    # (int16 TANH: model quant_int16_tanh.)
    op("SOFTMAX", [ti], s, q(1.0 / 32768, 0), (OPT["Softmax"], [(0, "f32", 1.0)]), version=3)
    op("MEAN", [ti, i32("mean/axes", [1, 2])], [1, 1, 1, 4], q(1.0 / 32767, 0), (OPT["Reducer"], [(0, "bool", True)]), version=3)
    # (int16 SUM: this runtime fails to invoke it.)
    op("DEQUANTIZE", [ti], s, None, (OPT["Dequantize"], []), ttype=F32, version=4)
    op("QUANTIZE", [ti], s, q(2.5 / 32767, 0), (OPT["Quantize"], []), version=3)
    g.inputs, g.outputs = [tin], outs
    return m, [x], [None] * len(outs), 0.0, "int16 (16x8) data movement, ADD/SUB/MUL/MAXIMUM/MINIMUM, RELU/RELU6/LEAKY_RELU/LOGISTIC/TANH, SOFTMAX, MEAN, pools, DEQUANTIZE, QUANTIZE"


def model_quant_int16_tanh():
    """int16 TANH alone: TFLite's int16 kernel interpolates a 256-entry sigmoid table (convfix builds
    the table from its definition; the runtime's differs by one unit in some entries)."""
    sx = 3.0 / 32767
    m, g, tin, ti, x, op, outs, i32, qc = quant_cover(I16, sx, 0)
    op("TANH", [ti], [1, 6, 8, 4], q(1.0 / 32768, 0), version=3)
    g.inputs, g.outputs = [tin], outs
    return m, [x], [None], 0.0, "int16 TANH (TFLite's table interpolation)"


def model_concat_uint8_rescale():
    """uint8 CONCATENATION of inputs whose scale / zero point differ from the output's. TFLite's kernel
    requantises each input (round(q * s_in / s_out - zp_in * s_in / s_out) + zp_out, f32); this runtime
    (its XNNPACK delegate) copies the bytes unchanged. The expected output is the requantised one;
    tests/tflite/test_oracle.py checks convfix against it and records that the runtime still copies."""
    m = Model()
    g = m.subgraph("main")
    qa, qb, qo = (0.1, 100), (0.05, 30), (0.2, 120)
    a = RNG.integers(0, 256, (1, 3, 4, 8)).astype(np.uint8)
    b = RNG.integers(0, 256, (1, 3, 4, 8)).astype(np.uint8)
    ta, tb = g.tensor("a", a.shape, U8, quant=q(*qa)), g.tensor("b", b.shape, U8, quant=q(*qb))
    to = g.tensor("concat", [1, 3, 4, 16], U8, quant=q(*qo))
    g.op("CONCATENATION", [ta, tb], [to], (OPT["Concatenation"], [(0, "i32", 3), (1, "i8", NONE)]))
    g.inputs, g.outputs = [ta, tb], [to]

    def requant(x, qi):
        sc = np.float32(qi[0]) / np.float32(qo[0])
        v = x.astype(np.float32) * sc + np.float32(-qi[1]) * sc
        v = np.sign(v) * np.floor(np.abs(v) + np.float32(0.5)) + qo[1]  # round half away from zero
        return np.clip(v, 0, 255).astype(np.uint8)

    y = np.concatenate([requant(a, qa), requant(b, qb)], axis=3)
    return m, [a, b], [y], 0.0, "uint8 CONCATENATION requantising its inputs (runtime: raw copy, documented divergence)"


def model_float_more():
    """Float ops not in float_ops: REDUCE_PROD, POW, FLOOR_DIV, FLOOR_MOD, SIN, COS, CEIL, ROUND."""
    m = Model()
    g = m.subgraph("main")
    x = rnd(1, 4, 5, 3) * np.float32(2)
    ti = g.tensor("input", x.shape)
    outs = []

    def op(name, inputs, shape, options=None, ttype=F32):
        t = g.tensor(f"{name.lower()}_{len(g.tensors)}", shape, ttype)
        g.op(name, inputs, [t], options)
        outs.append(t)
        return t

    s = list(x.shape)
    op("REDUCE_PROD", [ti, g.const("prod/axes", np.array([2], np.int32), I32)], [1, 4, 3], (OPT["Reducer"], [(0, "bool", False)]))
    ta = g.tensor("abs", s)
    g.op("ABS", [ti], [ta], (OPT["Abs"], []))
    op("POW", [ta, g.const("pow/e", np.array([0.5, 2.0, 3.0], np.float32))], s, (OPT["Pow"], []))
    d = g.const("div/d", np.array([0.7, -1.3, 2.1], np.float32))
    op("FLOOR_DIV", [ti, d], s, (OPT["FloorDiv"], []))
    op("FLOOR_MOD", [ti, d], s, (OPT["FloorMod"], []))
    op("SIN", [ti], s)
    op("COS", [ti], s)
    op("CEIL", [ti], s)
    op("ROUND", [ti], s)
    op("RELU_0_TO_1", [ti], s)
    g.inputs, g.outputs = [ti], outs
    return m, [x], [None] * len(outs), 0.0, "REDUCE_PROD, POW, FLOOR_DIV, FLOOR_MOD, SIN, COS, CEIL, ROUND, RELU_0_TO_1"


def model_quant_unary_int8():
    """Quantised unary ops this runtime has kernels for: int8 ABS and GELU (input 0.05 / -3)."""
    sx, zx = 0.05, -3
    m, g, tin, ti, x, op, outs, i32, qc = quant_cover(I8, sx, zx)
    s = [1, 6, 8, 4]
    op("ABS", [ti], s, q(0.04, -128), (OPT["Abs"], []), version=2)
    op("GELU", [ti], s, q(0.05, -20), (OPT["Gelu"], [(0, "bool", False)]), version=1)
    op("GELU", [ti], s, q(0.05, -20), (OPT["Gelu"], [(0, "bool", True)]), version=1)
    op("RELU_0_TO_1", [ti], s, q(1 / 255, -128), version=1)
    g.inputs, g.outputs = [ti], outs
    return m, [x], [None] * len(outs), 0.0, "int8 ABS, GELU (exact and tanh approximation), RELU_0_TO_1"


def model_quant_unary_uint8():
    """uint8 GELU and RELU_0_TO_1."""
    m, g, tin, ti, x, op, outs, i32, qc = quant_cover(U8, 1 / 32, 128)
    op("GELU", [ti], [1, 6, 8, 4], q(0.05, 60), (OPT["Gelu"], [(0, "bool", False)]), version=1)
    op("RELU_0_TO_1", [ti], [1, 6, 8, 4], q(1 / 255, 0), version=1)
    g.inputs, g.outputs = [ti], outs
    return m, [x], [None] * len(outs), 0.0, "uint8 GELU, RELU_0_TO_1"


def model_quant_unary_int16():
    """int16 ABS (other quantised unary ops are float-only or int8-only in this runtime)."""
    m, g, tin, ti, x, op, outs, i32, qc = quant_cover(I16, 3.0 / 32767, 0)
    op("ABS", [ti], [1, 6, 8, 4], q(2.5 / 32767, 0), (OPT["Abs"], []), version=2)
    g.inputs, g.outputs = [tin], outs
    return m, [x], [None], 0.0, "int16 ABS"


def model_compare_select():
    """Float comparisons, LOGICAL_AND/OR/NOT, SELECT (rank-1 condition) and SELECT_V2 (broadcast),
    int32 comparisons."""
    m = Model()
    g = m.subgraph("main")
    x, y = rnd(2, 3, 4), rnd(2, 3, 4)
    tx, ty = g.tensor("x", x.shape), g.tensor("y", y.shape)
    outs = []

    def op(name, inputs, shape, ttype=BOOL, options=None, version=1):
        t = g.tensor(f"{name.lower()}_{len(g.tensors)}", shape, ttype)
        g.op(name, inputs, [t], options, version=version)
        outs.append(t)
        return t

    s = list(x.shape)
    c = g.const("c", rnd(4))
    tl = op("LESS", [tx, ty], s, options=(OPT["Less"], []))
    tle = op("LESS_EQUAL", [tx, c], s, options=(OPT["LessEqual"], []))
    tg = op("GREATER", [tx, c], s, options=(OPT["Greater"], []))
    op("GREATER_EQUAL", [tx, ty], s, options=(OPT["GreaterEqual"], []))
    op("EQUAL", [tx, tx], s, options=(OPT["Equal"], []))
    op("NOT_EQUAL", [tx, ty], s, options=(OPT["NotEqual"], []))
    ta = op("LOGICAL_AND", [tl, tg], s, options=(OPT["LogicalAnd"], []))
    op("LOGICAL_OR", [ta, tle], s, options=(OPT["LogicalOr"], []))
    op("LOGICAL_NOT", [tl], s, options=(OPT["LogicalNot"], []))
    op("SELECT", [tl, tx, ty], s, F32, (OPT["Select"], []))
    cond1 = g.const("cond_rank1", np.array([True, False]), BOOL)
    op("SELECT", [cond1, tx, ty], s, F32, (OPT["Select"], []))
    op("SELECT_V2", [tg, tx, g.const("zero", np.array([0.0], np.float32))], s, F32, (OPT["SelectV2"], []))
    ti = g.tensor("xi", [2, 3, 4], I32)
    g.op("CAST", [tx], [ti], (OPT["Cast"], [(0, "i8", F32), (1, "i8", I32)]))
    op("LESS", [ti, g.const("ci", np.array([0, 1, -1, 0], np.int32), I32)], s, options=(OPT["Less"], []))
    g.inputs, g.outputs = [tx, ty], outs
    return m, [x, y], [None] * len(outs), 0.0, "LESS/LESS_EQUAL/GREATER/GREATER_EQUAL/EQUAL/NOT_EQUAL, LOGICAL_AND/OR/NOT, SELECT (rank-1 condition), SELECT_V2 (broadcast), int32 LESS"


MODELS = {
    "conv2d": (model_conv2d, True),
    "depthwise": (model_depthwise, True),
    "pools": (model_pools, True),
    "fully_connected": (model_fully_connected, True),
    "elementwise": (model_elementwise, True),
    "shapes": (model_shapes, True),
    "reduce_norm": (model_reduce_norm, True),
    "resize": (model_resize, True),
    "transpose_conv": (model_transpose_conv, True),
    "batch_matmul_gelu": (model_batch_matmul_gelu, True),
    "quant_int8": (model_quant_int8, True),
    "quant_uint8": (model_quant_uint8, True),
    "control_flow": (model_control_flow, True),
    "sparse": (model_sparse, True),
    "file_features": (model_file_features, False),
    "float_ops": (model_float_ops, True),
    "quant_ops_int8": (model_quant_ops_int8, True),
    "quant_ops_uint8": (model_quant_ops_uint8, True),
    "hybrid": (model_hybrid, True),
    "fp16_weights": (model_fp16_weights, True),
    "while": (model_while, True),
    "quant_int16": (model_quant_int16, True),
    "mediapipe_custom": (model_mediapipe_custom, False),
    "mediapipe_builtin": (model_mediapipe_builtin, True),
    "quant_more_int8": (model_quant_more_int8, True),
    "quant_more_uint8": (model_quant_more_uint8, True),
    "quant_more_int16": (model_quant_more_int16, True),
    "compare_select": (model_compare_select, True),
    "quant_int16_tanh": (model_quant_int16_tanh, True),
    "concat_uint8_rescale": (model_concat_uint8_rescale, False),
    "float_more": (model_float_more, True),
    "quant_unary_int8": (model_quant_unary_int8, True),
    "quant_unary_uint8": (model_quant_unary_uint8, True),
    "quant_unary_int16": (model_quant_unary_int16, True),
}
# Known divergences of the runtime (tests/tflite/test_oracle.py checks both sides): name -> kind.
DIVERGENCES = {"concat_uint8_rescale": "raw_copy"}
# Looser oracle tolerances (tests/tflite/test_oracle.py): integer outputs within this many quanta.
ORACLE_QTOL = {}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True)
    p.add_argument("--only", nargs="*")
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    manifest = {}
    for name, (fn, runtime) in MODELS.items():
        if a.only and name not in a.only:
            continue
        model, inputs, expects, atol, what = fn()
        with open(os.path.join(a.out, name + ".tflite"), "wb") as f:
            f.write(model.serialize())
        for i, x in enumerate(inputs):
            np.save(os.path.join(a.out, f"{name}.input_{i}.npy"), x)
        files = []
        for i, y in enumerate(expects):
            if y is None:
                files.append(None)
                continue
            fn_ = f"{name}.expect_{i}.npy"
            np.save(os.path.join(a.out, fn_), y)
            files.append(fn_)
        manifest[name] = dict(inputs=len(inputs), expect=files, atol=atol, runtime=runtime, what=what)
        if name in DIVERGENCES:
            manifest[name]["divergence"] = DIVERGENCES[name]
        if name in ORACLE_QTOL:
            manifest[name]["oracle_qtol"] = ORACLE_QTOL[name]
        if name in TWINS:
            manifest[name]["twin"] = dict(model=TWINS[name][0], reference=TWINS[name][1])
    with open(os.path.join(a.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    print(f"gen_tflite_models.py: wrote {len(manifest)} models to {a.out}")


if __name__ == "__main__":
    main()
