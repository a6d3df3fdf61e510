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
"atol": float, "runtime": bool (the runtime can run it), "what": text}}.
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
          SQUARED_DIFFERENCE=99, ABS=101, SPLIT_V=102, ELU=111, LESS=58, WHILE=119)
# BuiltinOptions union codes
OPT = dict(Conv2D=1, DepthwiseConv2D=2, Pool2D=5, FullyConnected=8, Softmax=9, Concatenation=10, Add=11,
           L2Norm=12, LocalResponseNormalization=13, ResizeBilinear=15, Reshape=17, SpaceToDepth=19, Mul=21,
           Pad=22, Gather=23, Transpose=26, Reducer=27, Sub=28, Div=29, Squeeze=30, StridedSlice=32,
           Split=35, Dequantize=38, MaximumMinimum=39, ArgMax=40, PadV2=43, TransposeConv=49, Pack=59,
           ResizeNearestNeighbor=74, LeakyRelu=75, MirrorPad=77, Quantize=89, HardSwish=91, If=92,
           DepthToSpace=94, Densify=99, BatchMatMul=101, Gelu=116,
           BatchToSpaceND=24, SpaceToBatchND=25, Exp=33, LogSoftmax=36, Cast=37, Slice=48, Tile=51,
           ExpandDims=52, Neg=42, Shape=55, ArgMin=57, Unpack=64, Square=66, SquaredDifference=76, Abs=78,
           SplitV=79, While=93)


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


def pool(x, k, stride, padding, kind, a=NONE):
    n, ih, iw, c = x.shape
    if padding == SAME:
        oh, ph = same_pad(ih, k[0], stride[0], 1)
        ow, pw = same_pad(iw, k[1], stride[1], 1)
    else:
        oh, ow, ph, pw = (ih - k[0]) // stride[0] + 1, (iw - k[1]) // stride[1] + 1, 0, 0
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
    ta = op("ADD", [ti, tc], s, q(0.08, -10), opts_act(OPT["Add"], RELU))
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
}


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
    with open(os.path.join(a.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    print(f"gen_tflite_models.py: wrote {len(manifest)} models to {a.out}")


if __name__ == "__main__":
    main()
