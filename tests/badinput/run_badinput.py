#!/usr/bin/python3
"""Bad-input tests for the convfix command line.

Every case feeds convfix a broken model or input file and checks that it
  * exits with code 2 (never a signal, never an ASan/UBSan report),
  * prints exactly ONE non-empty line on stderr, starting "convfix: error:",
  * names the offending file (and the node / op / tensor where relevant),
  * finishes quickly (no huge allocation before a size check).
The whole run also checks that convfix never modifies its input files
(SHA-256 of every fixture before and after) and that outputs are written
atomically (a replaced output is a new inode; no temporary files are left).

Fixtures are generated here, in a temporary folder, with onnx.helper and
numpy (Debian's /usr/bin/python3). Usage:
  run_badinput.py --convfix BUILD/convfix [--filter REGEX] [--verbose] [--keep]
"""
import argparse
import hashlib
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zlib

try:
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper
except ImportError as e:  # pragma: no cover
    print(f"run_badinput.py: needs Debian's python3-onnx and python3-numpy ({e}); run scripts/setup")
    sys.exit(1)

TIMEOUT_S = 60


# ---------------------------------------------------------------- fixtures
def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    return path


def save_model(path, graph, opset=17, ir_version=8):
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                          producer_name="convfix-badinput")
    m.ir_version = ir_version
    os.makedirs(os.path.dirname(path), exist_ok=True)
    # SerializeToString, not onnx.save: onnx.save would try to resolve external data.
    write(path, m.SerializeToString())
    return path


def f32_info(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def add_model(path, w=None):
    """y = x + w, x: f32[1,4] (a model every build of convfix can run)."""
    if w is None:
        w = np.arange(4, dtype=np.float32).reshape(1, 4)
    g = helper.make_graph([helper.make_node("Add", ["x", "w"], ["y"], name="add0")], "add",
                          [f32_info("x", [1, 4])], [f32_info("y", [1, 4])],
                          [numpy_helper.from_array(w, "w")])
    return save_model(path, g)


def png_bytes(width=4, height=3):
    """A tiny valid RGB PNG, encoded by hand (signature, IHDR, IDAT, IEND)."""
    def chunk(kind, body):
        return (struct.pack(">I", len(body)) + kind + body +
                struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))
    raw = b"".join(b"\x00" + bytes((x * 60 + y * 20) % 256 for x in range(width) for _ in range(3))
                   for y in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def npy_raw(header_dict_text, payload=b""):
    """A .npy v1.0 file with a hand-written header (for broken headers)."""
    h = header_dict_text.encode("latin1")
    pad = (64 - (10 + len(h) + 1) % 64) % 64
    h = h + b" " * pad + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h + payload


def external_model(path, location, offset=None, length=None, shape=(1, 4)):
    """y = x + w where w lives in an external data file at `location`."""
    w = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=list(shape))
    w.data_location = TensorProto.EXTERNAL
    for k, v in (("location", location), ("offset", offset), ("length", length)):
        if v is not None:
            e = w.external_data.add()
            e.key, e.value = k, str(v)
    g = helper.make_graph([helper.make_node("Add", ["x", "w"], ["y"], name="add0")], "ext",
                          [f32_info("x", list(shape))], [f32_info("y", list(shape))], [w])
    return save_model(path, g)


def raw_initializer_model(path, dims, raw, name="w"):
    """A model whose initializer `name` has the given dims and raw bytes."""
    t = TensorProto()
    t.name = name
    t.data_type = TensorProto.FLOAT
    t.dims.extend(dims)
    t.raw_data = raw
    g = helper.make_graph([helper.make_node("Identity", [name], ["y"], name="id0")], "raw",
                          [], [f32_info("y", None)], [t])
    return save_model(path, g)


class Case:
    def __init__(self, name, args, must=(), any_of=(), needs_op=None, max_s=TIMEOUT_S):
        self.name = name
        self.max_s = max_s          # wall-clock limit: catches work done before a size check
        self.args = args            # argv after the convfix binary
        self.must = list(must)      # substrings the error line must contain
        self.any_of = list(any_of)  # at least one of these must appear (e.g. shape words)
        self.needs_op = needs_op    # op that must be implemented for the case to mean anything
        self.ok_codes = (2,)        # accepted exit codes (mutants may still be valid models)


def build_cases(d, convfix):
    """Writes every fixture under d and returns the list of cases."""
    j = lambda *p: os.path.join(d, *p)  # noqa: E731
    cases = []

    # A good model and input, reused by the input-file cases.
    good = add_model(j("good", "model.onnx"))
    x = np.linspace(-1, 1, 4, dtype=np.float32).reshape(1, 4)
    np.save(j("good", "x.npy"), x)
    good_x = j("good", "x.npy")

    # ---- broken model files (inspect and run both must refuse them) ----
    write(j("m", "empty.onnx"), b"")
    full = open(good, "rb").read()
    big = add_model(j("m", "big_src.onnx"), w=np.ones((1, 4), np.float32))
    big_bytes = open(big, "rb").read()
    os.remove(big)
    write(j("m", "truncated.onnx"), big_bytes[: len(big_bytes) // 2])
    write(j("m", "truncated_one_byte.onnx"), full[:-1])
    rng = np.random.default_rng(1234)
    write(j("m", "random.onnx"), rng.integers(0, 256, 4096, dtype=np.uint8).tobytes())
    write(j("m", "random_noext"), rng.integers(0, 256, 1000, dtype=np.uint8).tobytes())
    write(j("m", "image.onnx"), png_bytes())
    write(j("m", "notes.onnx"), b"This is a text file, not a model.\nSecond line.\n")
    write(j("m", "notes.txt"), b"hello\n")
    write(j("m", "fake.tflite"), b"\x1c\x00\x00\x00TFL3" + b"\x00" * 64)
    os.makedirs(j("m", "empty_folder"), exist_ok=True)
    for stem in ("empty.onnx", "truncated.onnx", "truncated_one_byte.onnx", "random.onnx", "random_noext",
                 "image.onnx", "notes.onnx", "notes.txt", "fake.tflite", "empty_folder", "missing.onnx"):
        p = j("m", stem)
        key = re.sub(r"\W", "_", stem)
        cases.append(Case(f"model_{key}_inspect", ["inspect", p], must=[p]))
        cases.append(Case(f"model_{key}_run", ["run", p, "--input", good_x], must=[p]))

    # ---- graph structure problems ----
    p = save_model(j("g", "undefined_value.onnx"), helper.make_graph(
        [helper.make_node("Add", ["x", "nowhere"], ["y"], name="adder")], "g",
        [f32_info("x", [1, 4])], [f32_info("y", [1, 4])]))
    cases.append(Case("graph_undefined_value", ["inspect", p], must=[p, "adder", "nowhere"]))
    p = save_model(j("g", "cycle.onnx"), helper.make_graph(
        [helper.make_node("Add", ["x", "b"], ["a"], name="n_a"),
         helper.make_node("Add", ["x", "a"], ["b"], name="n_b")], "g",
        [f32_info("x", [1, 4])], [f32_info("a", [1, 4])]))
    cases.append(Case("graph_cycle", ["inspect", p], must=[p]))
    p = save_model(j("g", "double_producer.onnx"), helper.make_graph(
        [helper.make_node("Add", ["x", "x"], ["y"], name="first"),
         helper.make_node("Add", ["x", "x"], ["y"], name="second")], "g",
        [f32_info("x", [1, 4])], [f32_info("y", [1, 4])]))
    cases.append(Case("graph_double_producer", ["inspect", p], must=[p, "'y'"]))
    p = save_model(j("g", "output_not_produced.onnx"), helper.make_graph(
        [helper.make_node("Add", ["x", "x"], ["y"], name="a0")], "g",
        [f32_info("x", [1, 4])], [f32_info("z", [1, 4])]))
    cases.append(Case("graph_output_not_produced", ["inspect", p], must=[p, "'z'"]))
    p = save_model(j("g", "unsupported_op.onnx"), helper.make_graph(
        [helper.make_node("FrobnicateTensor", ["x"], ["y"], name="frob1")], "g",
        [f32_info("x", [1, 4])], [f32_info("y", [1, 4])]))
    cases.append(Case("graph_unsupported_op", ["run", p, "--input", good_x],
                      must=[p, "frob1", "FrobnicateTensor"]))
    p = save_model(j("g", "unsupported_domain.onnx"), helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"], name="custom1", domain="com.example")], "g",
        [f32_info("x", [1, 4])], [f32_info("y", [1, 4])]))
    cases.append(Case("graph_unsupported_domain", ["run", p, "--input", good_x],
                      must=[p, "custom1", "com.example"]))
    shape = numpy_helper.from_array(np.array([3, 5], dtype=np.int64), "shape")
    p = save_model(j("g", "reshape_bad.onnx"), helper.make_graph(
        [helper.make_node("Reshape", ["x", "shape"], ["y"], name="reshape_to_3x5")], "g",
        [f32_info("x", [1, 4])], [f32_info("y", [3, 5])], [shape]))
    cases.append(Case("graph_reshape_impossible", ["run", p, "--input", good_x],
                      must=[p, "reshape_to_3x5", "Reshape"], any_of=["3", "15", "shape", "element"],
                      needs_op="Reshape"))
    shape2 = numpy_helper.from_array(np.array([-1, -1], dtype=np.int64), "shape")
    p = save_model(j("g", "reshape_two_minus_one.onnx"), helper.make_graph(
        [helper.make_node("Reshape", ["x", "shape"], ["y"], name="reshape_two_inferred")], "g",
        [f32_info("x", [1, 4])], [f32_info("y", None)], [shape2]))
    cases.append(Case("graph_reshape_two_inferred_dims", ["run", p, "--input", good_x],
                      must=[p, "reshape_two_inferred", "Reshape"], needs_op="Reshape"))

    # ---- tensors inside the model ----
    p = raw_initializer_model(j("t", "huge_dims.onnx"), [1 << 40, 1 << 40], b"\x00" * 16)
    cases.append(Case("tensor_huge_dims", ["inspect", p], must=[p, "'w'"]))
    p = raw_initializer_model(j("t", "huge_dims_with_zero.onnx"), [1 << 62, 1 << 62, 0], b"")
    cases.append(Case("tensor_huge_dims_with_zero", ["inspect", p], must=[p, "'w'"]))
    # 16 GiB claimed, 16 bytes present: must be refused before allocating.
    p = raw_initializer_model(j("t", "16gib_claimed.onnx"), [4, 1 << 30], b"\x00" * 16)
    cases.append(Case("tensor_16gib_claimed_small_data", ["inspect", p], must=[p, "'w'"], max_s=10))
    p = raw_initializer_model(j("t", "raw_size_mismatch.onnx"), [2, 3], b"\x00" * 20)
    cases.append(Case("tensor_raw_size_mismatch", ["inspect", p], must=[p, "'w'"]))
    p = raw_initializer_model(j("t", "negative_dim.onnx"), [2, -3], b"")
    cases.append(Case("tensor_negative_dim", ["inspect", p], must=[p, "'w'"]))
    t = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[2, 3])
    t.float_data.extend([1.0, 2.0])  # 2 values for 6 elements
    g = helper.make_graph([helper.make_node("Identity", ["w"], ["y"], name="id0")], "g", [],
                          [f32_info("y", None)], [t])
    p = save_model(j("t", "float_data_count.onnx"), g)
    cases.append(Case("tensor_value_count_mismatch", ["inspect", p], must=[p, "'w'"]))
    t = TensorProto(name="w", data_type=TensorProto.COMPLEX64, dims=[1])
    t.raw_data = b"\x00" * 8
    g = helper.make_graph([helper.make_node("Identity", ["w"], ["y"], name="id0")], "g", [],
                          [f32_info("y", None)], [t])
    p = save_model(j("t", "complex_dtype.onnx"), g)
    cases.append(Case("tensor_unsupported_dtype", ["inspect", p], must=[p, "'w'"]))

    # ---- external data ----
    ed = j("ext")
    os.makedirs(os.path.join(ed, "model"), exist_ok=True)
    write(os.path.join(ed, "outside.bin"), np.ones(4, np.float32).tobytes())
    write(os.path.join(ed, "model", "w.bin"), np.ones(4, np.float32).tobytes())
    write(os.path.join(ed, "model", "short.bin"), np.ones(2, np.float32).tobytes())
    specs = [
        ("escape_parent", "../outside.bin", {}, ["'w'", "../outside.bin"]),
        ("escape_nested", "sub/../../outside.bin", {}, ["'w'", "outside.bin"]),
        ("absolute_path", os.path.join(ed, "outside.bin"), {}, ["'w'", "outside.bin"]),
        ("missing_file", "no_such_weights.bin", {}, ["'w'", "no_such_weights.bin"]),
        ("short_file", "short.bin", {}, ["'w'", "short.bin"]),
        ("offset_past_end", "w.bin", {"offset": 64}, ["'w'"]),
        ("offset_not_a_number", "w.bin", {"offset": "twelve"}, ["'w'", "offset"]),
        ("length_huge", "w.bin", {"offset": 0, "length": 1 << 62}, ["'w'"]),
        ("offset_negative", "w.bin", {"offset": -8, "length": 16}, ["'w'"]),
        ("location_is_folder", ".", {}, ["'w'"]),
        ("location_empty", "", {}, ["'w'"]),
    ]
    for key, loc, kw, must in specs:
        p = external_model(os.path.join(ed, "model", f"{key}.onnx"), loc, **kw)
        cases.append(Case(f"external_{key}", ["inspect", p], must=[p] + must))

    # ---- input tensor files (convfix run good/model.onnx --input FILE) ----
    idir = j("in")
    os.makedirs(idir, exist_ok=True)
    def in_case(key, fname, data, must=(), any_of=(), names_file=True):
        fp = os.path.join(idir, fname)
        if data is not None:
            write(fp, data)
        # names_file=False: the file is fine as a tensor but does not fit the
        # model; the error names the model and the graph input instead.
        must = ([fname] if names_file else [good]) + list(must)
        cases.append(Case(f"input_{key}", ["run", good, "--input", fp], must=must, any_of=any_of))
    in_case("text_file", "x.txt", b"1 2 3 4\n", any_of=[".npy"])
    in_case("no_extension", "x", np.float32(1).tobytes())
    in_case("npy_not_npy", "garbage.npy", b"definitely not numpy data\n" * 3)
    in_case("npy_empty", "empty.npy", b"")
    good_npy = open(good_x, "rb").read()
    in_case("npy_truncated_data", "truncated.npy", good_npy[:-3], any_of=["truncat"])
    in_case("npy_truncated_header", "truncated_header.npy", good_npy[:40], any_of=["truncat", "header"])
    np.save(os.path.join(idir, "f64.npy"), x.astype(np.float64))
    in_case("wrong_dtype", "f64.npy", None, must=["'x'"], any_of=["f64", "f32"], names_file=False)
    np.save(os.path.join(idir, "rank3.npy"), x.reshape(1, 1, 4))
    in_case("wrong_rank", "rank3.npy", None, must=["'x'"], names_file=False)
    np.save(os.path.join(idir, "int32.npy"), x.astype(np.int32))
    in_case("wrong_dtype_int", "int32.npy", None, must=["'x'"], names_file=False)
    in_case("npy_huge_dims", "huge.npy",
            npy_raw("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000, 1000000000000), }"))
    in_case("npy_huge_dims_with_zero", "huge_zero.npy",
            npy_raw("{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, "
                    "4611686018427387904, 0), }"))
    in_case("npy_dim_too_many_digits", "many_digits.npy",
            npy_raw("{'descr': '<f4', 'fortran_order': False, 'shape': (123456789012345678901234567890,), }"))
    in_case("npy_negative_dim", "negative.npy",
            npy_raw("{'descr': '<f4', 'fortran_order': False, 'shape': (1, -4), }", b"\x00" * 16))
    in_case("npy_fortran", "fortran.npy",
            npy_raw("{'descr': '<f4', 'fortran_order': True, 'shape': (1, 4), }", b"\x00" * 16),
            any_of=["ortran"])
    in_case("npy_big_endian", "big_endian.npy",
            npy_raw("{'descr': '>f4', 'fortran_order': False, 'shape': (1, 4), }", b"\x00" * 16),
            any_of=["endian"])
    in_case("npy_object", "object.npy",
            npy_raw("{'descr': '|O', 'fortran_order': False, 'shape': (1, 4), }", b"\x00" * 32))
    in_case("npy_structured", "structured.npy",
            npy_raw("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1, 4), }", b"\x00" * 16))
    in_case("npy_bad_version", "version9.npy", b"\x93NUMPY\x09\x00" + b"\x00" * 64, any_of=["version"])
    in_case("npy_header_len_past_end", "header_len.npy", b"\x93NUMPY\x01\x00\xff\xff{'descr': '<f4'")
    in_case("pb_garbage", "x.pb", b"\xff\xff\xff\xff not a tensor proto")
    in_case("missing_file", "does_not_exist.npy", None)
    cases.append(Case("input_unknown_name", ["run", good, "--input", "nosuchinput=" + good_x],
                      must=["nosuchinput"]))
    cases.append(Case("input_too_many", ["run", good, "--input", good_x, "--input", good_x], must=[good_x]))
    cases.append(Case("input_missing", ["run", good, "--input", "y=" + good_x], must=["y"]))

    # ---- usage errors (option parser): one line too, pointing at --help ----
    cases.append(Case("usage_no_command", [], must=["--help"]))
    cases.append(Case("usage_unknown_command", ["frobnicate", good], must=["frobnicate", "--help"]))
    cases.append(Case("usage_run_without_model", ["run"], must=["model", "convfix run --help"]))
    cases.append(Case("usage_unknown_option", ["inspect", "--no-such-option", good], must=["--no-such-option"]))
    cases.append(Case("usage_threads_out_of_range", ["run", good, "--input", good_x, "--threads", "0"],
                      must=["threads"]))
    cases.append(Case("usage_threads_not_a_number", ["run", good, "--input", good_x, "--threads", "many"],
                      must=["many"]))
    cases.append(Case("usage_run_without_inputs", ["run", good], must=["--input"]))

    # ---- output destination problems ----
    blocker = write(j("out", "a_file"), b"I am a file, not a folder\n")
    cases.append(Case("output_dir_is_a_file", ["run", good, "--input", good_x, "--save-outputs", blocker],
                      must=[blocker]))

    # ---- images (only once `convfix run --images` exists) ----
    help_text = subprocess.run([convfix, "run", "--help"], capture_output=True, text=True).stdout
    if "--images" in help_text:
        # y = x + 0 over an NCHW image input: the model itself is fine.
        g = helper.make_graph([helper.make_node("Add", ["x", "zero"], ["y"], name="add0")], "img",
                              [f32_info("x", [1, 3, 8, 8])], [f32_info("y", [1, 3, 8, 8])],
                              [numpy_helper.from_array(np.zeros(1, np.float32), "zero")])
        good = save_model(j("img", "model.onnx"), g)
        fake = write(j("img", "not_an_image.jpg"), b"This is text pretending to be a JPEG.\n")
        cases.append(Case("image_not_an_image", ["run", good, "--images", fake], must=[fake]))
        cases.append(Case("image_missing_folder", ["run", good, "--images", j("img", "no_such_dir")],
                          must=[j("img", "no_such_dir")]))
        os.makedirs(j("img", "empty_dir"), exist_ok=True)
        cases.append(Case("image_empty_folder", ["run", good, "--images", j("img", "empty_dir")],
                          must=[j("img", "empty_dir")]))
        write(j("img", "truncated.png"), png_bytes(64, 64)[:60])
        cases.append(Case("image_truncated_png", ["run", good, "--images", j("img", "truncated.png")],
                          must=[j("img", "truncated.png")]))
    return cases


# ---------------------------------------------------------------- mutations
SHARED_MODELS = ["onnx/winml_cntk_mnist.onnx", "tflite/tf2onnx_regression.tflite",
                 "tflite/mlperftiny_kws_dscnn_int8.tflite"]


def shared_models_dir():
    here = os.path.dirname(os.path.abspath(__file__))
    for cand in (os.path.join(here, "..", "..", "..", "shared", "models"), "/work/shared/models"):
        if os.path.isdir(cand):
            return os.path.abspath(cand)
    return None


def build_mutants(d, per_model=16):
    """Truncated and byte-flipped copies of real model files (fixed seed).

    A mutant may still be a valid model (a flipped weight byte), so these
    cases accept exit 0 as well as 2 — but never a crash, a sanitizer report
    or a multi-line error."""
    sources = [os.path.join(d, "good", "model.onnx")]
    shared = shared_models_dir()
    if shared:
        sources += [os.path.join(shared, m) for m in SHARED_MODELS if os.path.isfile(os.path.join(shared, m))]
    else:
        print("note: no shared models (../shared/models or /work/shared/models): mutating generated models only")
    rng = np.random.default_rng(99)
    cases = []
    for src in sources:
        data = open(src, "rb").read()
        stem, ext = os.path.splitext(os.path.basename(src))
        for k in range(per_model):
            b = bytearray(data)
            if k < per_model // 3:
                b = b[: int(rng.integers(1, len(b)))]
                kind = "cut"
            else:
                for _ in range(int(rng.integers(1, 9))):
                    b[int(rng.integers(0, len(b)))] = int(rng.integers(0, 256))
                kind = "flip"
            p = write(os.path.join(d, "mut", f"{stem}_{kind}{k}{ext}"), bytes(b))
            c = Case(f"mutant_{stem}_{kind}{k}", ["inspect", p], must=[p])
            c.ok_codes = (0, 2)
            cases.append(c)
            if src.endswith("good/model.onnx"):
                c = Case(f"mutant_{stem}_{kind}{k}_run", ["run", p, "--input", os.path.join(d, "good", "x.npy")],
                         must=[])
                c.ok_codes = (0, 2)
                cases.append(c)
    return cases


# ---------------------------------------------------------------- checks
def op_supported(convfix, d, op):
    """True when convfix has a kernel for `op` (inspect reports unsupported ops)."""
    g = helper.make_graph([helper.make_node(op, ["x"], ["y"], name="probe")], "probe",
                          [f32_info("x", [1])], [f32_info("y", None)])
    p = save_model(os.path.join(d, "probe", op + ".onnx"), g)
    r = subprocess.run([convfix, "inspect", "--json", p], capture_output=True, text=True, timeout=TIMEOUT_S)
    return r.returncode == 0 and f'"{op}"' not in r.stdout.split('"unsupported_ops"', 1)[-1]


def run_case(convfix, c, verbose):
    cmd = [convfix] + c.args
    t0 = time.monotonic()
    try:
        r = subprocess.run(cmd, capture_output=True, timeout=TIMEOUT_S, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return [f"timed out after {TIMEOUT_S}s"], ""
    elapsed = time.monotonic() - t0
    err = r.stderr.decode("utf-8", "replace")
    problems = []
    if elapsed > c.max_s:
        problems.append(f"took {elapsed:.1f}s, limit {c.max_s}s")
    if r.returncode < 0:
        problems.append(f"killed by signal {-r.returncode}")
    elif r.returncode not in c.ok_codes:
        problems.append(f"exit code {r.returncode}, expected {' or '.join(map(str, c.ok_codes))}")
    if r.returncode == 0 and 0 in c.ok_codes:
        if err.strip():
            problems.append("exit 0 but stderr is not empty")
        return problems, (f"    $ {' '.join(cmd)}\n    rc=0" if verbose or problems else "")
    lines = [ln for ln in err.split("\n") if ln.strip()]
    if len(lines) != 1:
        problems.append(f"stderr has {len(lines)} lines, expected exactly one")
    elif not lines[0].startswith("convfix: error: "):
        problems.append("stderr line does not start with 'convfix: error: '")
    for s in c.must:
        if s not in err:
            problems.append(f"error does not mention {s!r}")
    if c.any_of and not any(s in err for s in c.any_of):
        problems.append(f"error mentions none of {c.any_of}")
    if verbose or problems:
        shown = err if len(err) < 2000 else err[:2000] + "...(cut)"
        return problems, f"    $ {' '.join(cmd)}\n    rc={r.returncode} stderr: {shown.rstrip()}"
    return problems, ""


def tree_hashes(root, skip_dir):
    out = {}
    for dp, dns, fns in os.walk(root):
        if os.path.abspath(dp).startswith(skip_dir):
            continue
        for fn in fns:
            p = os.path.join(dp, fn)
            with open(p, "rb") as f:
                out[os.path.relpath(p, root)] = hashlib.sha256(f.read()).hexdigest()
    return out


def check_outputs_atomic(convfix, d):
    """Successful runs: outputs correct (numpy oracle), written by rename, no temp files left."""
    problems = []
    model = os.path.join(d, "good", "model.onnx")
    xin = os.path.join(d, "good", "x.npy")
    out = os.path.join(d, "results")
    os.makedirs(out, exist_ok=True)
    y = os.path.join(out, "y.npy")
    # A pre-existing output with a second hard link: an atomic replace gives
    # y.npy a new inode and leaves the other link's old bytes untouched; an
    # in-place rewrite would change both.
    write(y, b"old contents")
    os.link(y, os.path.join(out, "keep_old_link"))
    ino_before = os.stat(y).st_ino
    r = subprocess.run([convfix, "run", model, "--input", xin, "--save-outputs", out],
                       capture_output=True, timeout=TIMEOUT_S)
    if r.returncode != 0:
        return [f"good run failed: rc={r.returncode} {r.stderr.decode(errors='replace').strip()}"]
    if os.stat(y).st_ino == ino_before:
        problems.append("y.npy was rewritten in place (same inode), not replaced atomically")
    if open(os.path.join(out, "keep_old_link"), "rb").read() != b"old contents":
        problems.append("the old output's other hard link changed: the write was not atomic")
    expected = np.load(xin) + np.arange(4, dtype=np.float32).reshape(1, 4)
    got = np.load(y)
    if got.dtype != np.float32 or got.shape != (1, 4) or not np.array_equal(got, expected):
        problems.append(f"y.npy = {got!r}, numpy says {expected!r}")
    leftovers = [f for f in os.listdir(out) if f not in ("y.npy", "keep_old_link")]
    if leftovers:
        problems.append(f"unexpected files left in the output folder: {leftovers}")
    # A failing run must not leave partial outputs behind.
    out2 = os.path.join(d, "results_fail")
    bad_in = os.path.join(d, "in", "f64.npy")
    subprocess.run([convfix, "run", model, "--input", bad_in, "--save-outputs", out2],
                   capture_output=True, timeout=TIMEOUT_S)
    if os.path.isdir(out2) and os.listdir(out2):
        problems.append(f"a failed run left files in its output folder: {os.listdir(out2)}")
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--convfix", required=True)
    ap.add_argument("--filter", default="", help="run only cases whose name matches this regex")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the fixture folder")
    a = ap.parse_args()
    convfix = os.path.abspath(a.convfix)
    d = tempfile.mkdtemp(prefix="convfix-badinput-")
    failed = passed = skipped = 0
    try:
        cases = build_cases(d, convfix) + build_mutants(d)
        cases = [c for c in cases if re.search(a.filter, c.name)]
        results_dir = os.path.abspath(os.path.join(d, "results"))
        before = tree_hashes(d, results_dir)
        supported = {}
        for c in cases:
            if c.needs_op:
                if c.needs_op not in supported:
                    supported[c.needs_op] = op_supported(convfix, d, c.needs_op)
                if not supported[c.needs_op]:
                    print(f"SKIP {c.name}: op {c.needs_op} is not implemented yet")
                    skipped += 1
                    continue
            problems, detail = run_case(convfix, c, a.verbose)
            if problems:
                failed += 1
                print(f"FAIL {c.name}: {'; '.join(problems)}")
            else:
                passed += 1
                if a.verbose:
                    print(f"ok   {c.name}")
            if detail:
                print(detail)
        if not a.filter or re.search(a.filter, "outputs_atomic"):
            problems = check_outputs_atomic(convfix, d)
            if problems:
                failed += 1
                print(f"FAIL outputs_atomic: {'; '.join(problems)}")
            else:
                passed += 1
        after = tree_hashes(d, results_dir)
        changed = sorted(k for k in before if after.get(k) != before[k])
        if changed:
            failed += 1
            print(f"FAIL inputs_unchanged: convfix modified or removed input files: {changed}")
        else:
            passed += 1
    finally:
        if a.keep:
            print(f"fixtures kept in {d}")
        else:
            shutil.rmtree(d, ignore_errors=True)
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
