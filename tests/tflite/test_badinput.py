#!/usr/bin/python3
"""Bad-input tests for convfix's TFLite reader (ctest label badinput, so the
ASan/UBSan configuration runs them too).

Every broken .tflite must make `convfix inspect` exit 2 (never a signal,
never a sanitizer report) with exactly one line on stderr that starts
"convfix: error:", names the file and, where there is one, the offending
tensor / operator / buffer index. Fixtures are built here with the
FlatBuffer writer of tools/gen_tflite_models.py (valid FlatBuffers with
invalid contents) or by damaging the bytes of a valid model (truncation,
identifier, random corruption). MediaPipe custom ops with broken custom_options
import and make `convfix run` exit 2 with one line naming the node. Also checks
the writer side with tflite_tool:
an edit that leaves an unknown attribute or a foreign-domain node fails
cleanly.

Usage: test_badinput.py --convfix BUILD/convfix [--tool BUILD/tests/tflite_tool]
                        [--filter REGEX] [--verbose]
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import gen_tflite_models as G  # noqa: E402

BUGGY = os.path.normpath(os.path.join(ROOT, "..", "shared", "models", "buggy", "coral_model_invoking_error.tflite"))
TIMEOUT_S = 60


def base_model():
    """input -> CONV_2D(weights, bias) -> ADD(const) -> output."""
    m = G.Model()
    g = m.subgraph("main")
    ti = g.tensor("input", [1, 4, 4, 2])
    tw = g.const("w", np.ones((3, 1, 1, 2), np.float32))
    tb = g.const("b", np.zeros(3, np.float32))
    t1 = g.tensor("conv", [1, 4, 4, 3])
    g.op("CONV_2D", [ti, tw, tb], [t1], G.opts_conv(G.SAME, 1, 1))
    tc = g.const("c", np.ones(3, np.float32))
    to = g.tensor("out", [1, 4, 4, 3])
    g.op("ADD", [t1, tc], [to], G.opts_act(G.OPT["Add"], G.NONE))
    g.inputs, g.outputs = [ti], [to]
    return m, g


def cases():
    """(name, bytes, [regexes the error line must match])."""
    out = []
    good = base_model()[0].serialize()

    for n in (0, 3, 7, 16, len(good) // 2, len(good) - 40):
        out.append((f"truncated_{n}", good[:n], [r"truncated|corrupt|empty"]))
    out.append(("wrong_identifier", good[:4] + b"ABCD" + good[8:], [r"not a TFLite model", r"ABCD"]))

    def variant(name, edit, patterns):
        m, g = base_model()
        edit(m, g)
        out.append((name, m.serialize(), patterns))

    variant("opcode_index_out_of_range", lambda m, g: g.ops[1].update(opcode=7),
            [r"operator 1", r"operator code index 7 out of range"])
    variant("input_tensor_out_of_range", lambda m, g: g.ops[0].update(inputs=[0, 1, 42]),
            [r"operator 0 \(CONV_2D\)", r"input 2", r"tensor index 42 out of range"])
    variant("input_tensor_below_minus_one", lambda m, g: g.ops[1].update(inputs=[3, -5]),
            [r"operator 1 \(ADD\)", r"input 1", r"-5 out of range"])
    variant("output_tensor_out_of_range", lambda m, g: g.ops[1].update(outputs=[99]),
            [r"operator 1", r"output 0", r"99 out of range"])
    variant("graph_input_out_of_range", lambda m, g: setattr(g, "inputs", [17]),
            [r"subgraph 0", r"input 0", r"17 out of range"])
    variant("graph_output_out_of_range", lambda m, g: setattr(g, "outputs", [-1]),
            [r"subgraph 0", r"output 0", r"out of range"])
    variant("buffer_index_out_of_range", lambda m, g: g.tensors[1].update(buffer=500),
            [r"tensor 1 'w'", r"buffer 500 out of range"])

    def cycle(m, g):
        # CONV_2D reads the ADD's output, which is computed after it.
        g.ops[0]["inputs"] = [5, 1, 2]
    variant("cycle_later_producer", cycle, [r"operator 0 \(CONV_2D\)", r"input 0", r"tensor 5 'out'", r"operator 1"])

    def self_loop(m, g):
        g.ops[1]["inputs"] = [5, 4]
    variant("cycle_self_loop", self_loop, [r"operator 1 \(ADD\)", r"own output"])

    def two_producers(m, g):
        g.ops[1]["outputs"] = [3]
    variant("tensor_written_twice", two_producers, [r"operator 1", r"tensor 3 'conv'", r"also written by operator 0"])

    def no_data(m, g):
        g.tensors[4]["buffer"] = 0  # ADD's constant loses its data
    variant("input_without_producer", no_data, [r"operator 1 \(ADD\)", r"input 1", r"tensor 4 'c'", r"no producer"])

    def short_buffer(m, g):
        g.tensors[1]["shape"] = [3, 2, 2, 2]  # 24 floats declared, 6 stored
    variant("shape_vs_buffer_size", short_buffer, [r"tensor 1 'w'", r"holds 24 bytes", r"needs 96"])

    def negative_dim(m, g):
        g.tensors[2]["shape"] = [-3]
    variant("negative_dimension", negative_dim, [r"tensor 2 'b'", r"negative dimension"])

    def external_outside(m, g):
        g.tensors[1]["buffer"] = m.buffer(("external", 1 << 40, 24))
    variant("buffer_offset_outside_file", external_outside, [r"tensor 1 'w'", r"outside the file"])

    def external_size(m, g):
        g.tensors[1]["buffer"] = m.buffer(("external", 16, 1 << 62))
    variant("buffer_size_outside_file", external_size, [r"tensor 1 'w'", r"outside the file"])

    def quant_mismatch(m, g):
        g.tensors[1]["quant"] = dict(scale=[0.1, 0.2, 0.3], zero_point=[0, 0])
    variant("quant_scales_vs_zero_points", quant_mismatch, [r"tensor 1 'w'", r"3 scales but 2 zero points"])

    def quant_axis(m, g):
        g.tensors[1]["quant"] = dict(scale=[0.1, 0.2], zero_point=[0, 0], axis=0)
    variant("quant_axis_mismatch", quant_axis, [r"tensor 1 'w'", r"2 scales along dimension 0"])

    def bad_version(m, g):
        m.version = 2
    variant("schema_version", bad_version, [r"schema version 2"])

    def no_subgraphs(m, g):
        m.subgraphs = []
    variant("no_subgraphs", no_subgraphs, [r"no subgraphs"])

    def bad_subgraph_index(m, g):
        g.ops[1]["opcode"] = m.opcode(G.OP["IF"], 1, None)
        g.ops[1]["options"] = (G.OPT["If"], [(0, "i32", 1), (1, "i32", 9)])
    variant("if_subgraph_out_of_range", bad_subgraph_index, [r"operator 1 \(IF\)", r"else_subgraph_index = 9", r"out of range"])

    def bad_options_type(m, g):
        g.ops[0]["options"] = (250, [])
    variant("unknown_options_type", bad_options_type, [r"operator 0 \(CONV_2D\)", r"options type 250"])

    def signature_out_of_range(m, g):
        m.signatures = [("serving_default", 0, [("x", 0)], [("y", 77)])]
    variant("signature_tensor_out_of_range", signature_out_of_range, [r"signature 0 'serving_default'", r"output 0", r"77 out of range"])

    def signature_subgraph(m, g):
        m.signatures = [("serving_default", 3, [], [])]
    variant("signature_subgraph_out_of_range", signature_subgraph, [r"signature 0", r"subgraph index 3"])

    def huge_variable(m, g):
        g.tensors[4]["buffer"] = 0
        g.tensors[4]["variable"] = True
        g.tensors[4]["shape"] = [1 << 30, 1 << 30]
    variant("huge_variable", huge_variable, [r"tensor 4 'c'", r"too large"])

    def sparse_bad_indices(m, g):
        sp = dict(order=[0], block_map=[], dims=[("csr", [0, 2], [1, 9])])
        g.tensors[4].update(sparsity=sp, buffer=m.buffer(np.ones(2, np.float32).tobytes()))
    variant("sparse_index_out_of_range", sparse_bad_indices, [r"tensor 4 'c'", r"array_indices", r"out of range"])

    def sparse_bad_segments(m, g):
        sp = dict(order=[0], block_map=[], dims=[("csr", [0, 5], [0, 1])])
        g.tensors[4].update(sparsity=sp, buffer=m.buffer(np.ones(2, np.float32).tobytes()))
    variant("sparse_segments_past_indices", sparse_bad_segments, [r"tensor 4 'c'", r"array_segments"])

    def sparse_few_values(m, g):
        sp = dict(order=[0], block_map=[], dims=[("csr", [0, 3], [0, 1, 2])])
        g.tensors[4].update(sparsity=sp, buffer=m.buffer(np.ones(1, np.float32).tobytes()))
    variant("sparse_fewer_values", sparse_few_values, [r"tensor 4 'c'", r"fewer values"])

    def string_offsets(m, g):
        raw = np.array([2, 16, 40, 18], np.int32).tobytes() + b"ab"
        g.tensors[4].update(type=G.STRING, shape=[2], buffer=m.buffer(raw))
    variant("string_offsets", string_offsets, [r"tensor 4 'c'", r"string buffer"])

    def newline_in_name(m, g):
        g.tensors[1]["name"] = "w\nsecond line\x01"
        g.tensors[1]["buffer"] = 300
    variant("newline_in_tensor_name", newline_in_name, [r"tensor 1 'w\\nsecond line\\x01'", r"buffer 300"])

    def custom_without_code(m, g):
        g.ops[1]["opcode"] = m.opcode(G.OP["CUSTOM"], 1, None)
    variant("custom_without_code", custom_without_code, [r"operator 1", r"custom_code"])

    # Random corruption of a valid file: any outcome but a crash is fine
    # (exit 0 when the damage hits data only, else exit 2 with one line).
    rng = np.random.default_rng(7)
    for k in range(40):
        b = bytearray(good)
        for _ in range(1 + k % 4):
            b[int(rng.integers(0, len(b)))] = int(rng.integers(0, 256))
        out.append((f"corrupt_{k}", bytes(b), None))
    return out


def check(convfix, path, patterns, name, verbose):
    t0 = time.time()
    try:
        r = subprocess.run([convfix, "inspect", path], capture_output=True, text=True, errors="replace",
                           timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return f"timed out after {TIMEOUT_S} s"
    dt = time.time() - t0
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    if r.returncode < 0:
        return f"killed by signal {-r.returncode}: {r.stderr.strip()[:600]}"
    if patterns is None and r.returncode == 0 and not lines:
        return None
    if r.returncode != 2:
        return f"exit code {r.returncode}, expected 2; stderr: {r.stderr.strip()[:600]}"
    if len(lines) != 1:
        return f"{len(lines)} lines on stderr, expected 1: {r.stderr.strip()[:800]}"
    line = lines[0]
    if not line.startswith("convfix: error:"):
        return f"stderr does not start with 'convfix: error:': {line}"
    if path not in line:
        return f"the message does not name the file: {line}"
    for p in patterns or []:
        if not re.search(p, line):
            return f"the message does not match /{p}/: {line}"
    if verbose:
        print(f"  {name} ({dt * 1000:.0f} ms): {line}")
    return None


def run_cases(convfix, work, verbose):
    """MediaPipe custom ops with broken custom_options read fine and fail clearly when run: exit 2,
    one line naming the file, the node and the problem."""
    problems = []
    x = np.zeros((1, 4, 4, 2), np.float32)
    xin = os.path.join(work, "run_x.npy")
    np.save(xin, x)
    pool = G.custom_pool_options(G.SAME, 2, 2, 2, 2)
    for name, code, opts, pattern in [
        ("pool_options_short", "MaxPoolingWithArgmax2D", pool[:12], r"custom_options hold 12 bytes, expected at least 24"),
        ("pool_padding_unknown", "MaxPoolingWithArgmax2D", np.array([7, 2, 2, 2, 2, 0], "<i4").tobytes(),
         r"padding 7 is neither SAME"),
        ("pool_zero_filter", "MaxPoolingWithArgmax2D", G.custom_pool_options(G.SAME, 2, 2, 0, 2), r"must be positive"),
        ("unpool_no_options", "MaxUnpooling2D", b"", r"custom_options"),
        ("tconv_options_short", "Convolution2DTransposeBias", b"\x01\x00", r"expected at least 12"),
        ("tconv_huge_stride", "Convolution2DTransposeBias", G.custom_tconv_options(G.VALID, 2000000000, 2000000000),
         r"too large"),
        ("unpool_huge_filter", "MaxUnpooling2D", G.custom_pool_options(G.SAME, 1, 1, 1 << 30, 1 << 30), r"too large"),
    ]:
        m = G.Model()
        g = m.subgraph("main")
        ti = g.tensor("input", x.shape)
        if code == "MaxPoolingWithArgmax2D":
            outs = [g.tensor("values", [1, 2, 2, 2]), g.tensor("indices", [1, 2, 2, 2])]
            ins = [ti]
        elif code == "MaxUnpooling2D":
            outs = [g.tensor("unpooled", [1, 8, 8, 2])]
            ins = [ti, g.const("indices", np.zeros((1, 4, 4, 2), np.float32))]
        else:
            outs = [g.tensor("tconv", [1, 8, 8, 3])]
            ins = [ti, g.const("w", np.ones((3, 2, 2, 2), np.float32)), g.const("b", np.zeros(3, np.float32))]
        g.op(code, ins, outs, custom=code, custom_options=opts)
        g.inputs, g.outputs = [ti], outs
        path = os.path.join(work, f"run_{name}.tflite")
        with open(path, "wb") as f:
            f.write(m.serialize())
        r = subprocess.run([convfix, "run", path, "--input", xin, "--save-outputs", os.path.join(work, "run_out")],
                           capture_output=True, text=True, errors="replace", timeout=TIMEOUT_S)
        lines = [l for l in r.stderr.splitlines() if l.strip()]
        if r.returncode != 2 or len(lines) != 1 or path not in lines[0] or code not in lines[0] \
                or not re.search(pattern, lines[0]):
            problems.append(f"run {name}: exit {r.returncode}, stderr {r.stderr.strip()[:500]}")
        elif verbose:
            print(f"  run {name}: {lines[0]}")
    return problems


def writer_cases(tool, work, verbose):
    """The writer refuses graphs it cannot express, with a message."""
    problems = []
    m, g = base_model()
    src = os.path.join(work, "writer_src.tflite")
    with open(src, "wb") as f:
        f.write(m.serialize())
    for name, edit, pattern in [
        ("unknown_attribute", ["set-attr", "conv", "no_such_field", "3"], r"attribute 'no_such_field' is not a field of its options \(Conv2DOptions\)"),
        ("bad_enum_value", ["set-attr", "conv", "padding", "DIAGONAL"], r"'DIAGONAL' is not a value of its enum"),
        ("int_out_of_range", ["set-attr", "conv", "stride_w", "9999999999"], r"stride_w.*out of range"),
    ]:
        r = subprocess.run([tool, "edit", src, os.path.join(work, f"w_{name}.tflite")] + edit,
                           capture_output=True, text=True, timeout=TIMEOUT_S)
        lines = [l for l in r.stderr.splitlines() if l.strip()]
        if r.returncode != 2 or len(lines) != 1 or not re.search(pattern, lines[0]):
            problems.append(f"writer {name}: exit {r.returncode}, stderr {r.stderr.strip()[:400]}")
        elif verbose:
            print(f"  writer {name}: {lines[0]}")
    return problems


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--convfix", required=True)
    p.add_argument("--tool")
    p.add_argument("--filter", default="")
    p.add_argument("--verbose", action="store_true")
    a = p.parse_args()
    flt = re.compile(a.filter)
    failed = passed = 0
    with tempfile.TemporaryDirectory(prefix="tflite_badinput_") as work:
        todo = [(n, b, pats) for n, b, pats in cases() if flt.search(n)]
        for name, data, patterns in todo:
            path = os.path.join(work, name + ".tflite")
            with open(path, "wb") as f:
                f.write(data)
            err = check(a.convfix, path, patterns, name, a.verbose)
            if err:
                failed += 1
                print(f"FAIL: {name}: {err}")
            else:
                passed += 1
        if flt.search("coral_model_invoking_error"):
            if os.path.exists(BUGGY):
                err = check(a.convfix, BUGGY, [r"tensor 0", r"buffer 0 out of range"], "coral_model_invoking_error", a.verbose)
                if err:
                    failed += 1
                    print(f"FAIL: coral_model_invoking_error: {err}")
                else:
                    passed += 1
            else:
                print(f"SKIP: {BUGGY} not found (a fresh clone has no ../shared)")
        if flt.search("run_custom"):
            probs = run_cases(a.convfix, work, a.verbose)
            for prob in probs:
                print(f"FAIL: {prob}")
            failed += len(probs)
            passed += 7 - len(probs)
        if a.tool and flt.search("writer"):
            probs = writer_cases(a.tool, work, a.verbose)
            for prob in probs:
                print(f"FAIL: {prob}")
            failed += len(probs)
            passed += 3 - len(probs)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
