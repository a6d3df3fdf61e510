#!/usr/bin/env python3
"""Bad-input test (labels tf;badinput): broken TensorFlow / TF.js files make
`convfix inspect` exit 2 with exactly one line on stderr naming the file (and
node/op where relevant), never crash.

GraphDefs are written by hand (protobuf wire format); the SavedModel cases
corrupt a copy of ../shared/models/tf_savedmodel/tf2onnx_regression when it is
present. Usage: check_badinput.py CONVFIX REPO_ROOT [SHARED_MODELS_DIR]"""
import os
import shutil
import struct
import subprocess
import sys
import tempfile


def varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def fld(num, payload):  # length-delimited field
    return varint((num << 3) | 2) + varint(len(payload)) + payload


def attr(key, value):  # map entry of NodeDef.attr
    return fld(5, fld(1, key.encode()) + fld(2, value))


def node(name, op, inputs=(), attrs=b""):
    b = fld(1, name.encode()) + fld(2, op.encode())
    for i in inputs:
        b += fld(3, i.encode())
    return fld(1, b + attrs)


DT_FLOAT = attr("dtype", varint((6 << 3) | 0) + varint(1))


def graph(*nodes):
    return b"".join(nodes)


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    convfix, root = sys.argv[1], sys.argv[2]
    shared = sys.argv[3] if len(sys.argv) > 3 else ""
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        good = graph(node("x", "Placeholder", attrs=DT_FLOAT), node("y", "Relu", ["x"]))
        cases = {
            "truncated.pb": (good[: len(good) - 3], []),
            "garbage.pb": (b"\xff\xfe\x01\x02garbage\x00\x10" * 3, []),
            "empty.pb": (b"", []),
            "dangling.pb": (graph(node("x", "Placeholder", attrs=DT_FLOAT), node("y", "Relu", ["nope"])),
                            ["'y'", "nope"]),
            "cycle.pb": (graph(node("x", "Placeholder", attrs=DT_FLOAT), node("a", "AddV2", ["x", "b"]),
                               node("b", "Relu", ["a"]), node("out", "Relu", ["a"])), ["cycle"]),
            "unsupported.pb": (graph(node("x", "Placeholder", attrs=DT_FLOAT), node("weird", "FooBarOp", ["x"])),
                               ["'weird'", "FooBarOp"]),
            "badref.pb": (graph(node("x", "Placeholder", attrs=DT_FLOAT), node("y", "Relu", ["x:zz"])), ["x:zz"]),
        }
        paths = {}
        for name, (data, _) in cases.items():
            p = os.path.join(tmp, name)
            with open(p, "wb") as f:
                f.write(data)
            paths[name] = p
        # A TF.js graph-model whose shard is too short, and one with broken JSON.
        gen = os.path.join(tmp, "gen")
        subprocess.run([sys.executable, os.path.join(root, "tools", "gen_tf_graph_models.py"), gen], check=True,
                       stdout=subprocess.DEVNULL)
        short = os.path.join(gen, "conv_same_s2_bias_relu")
        with open(os.path.join(short, "group1-shard1of1.bin"), "r+b") as f:
            f.truncate(40)
        paths["short_shard/model.json"] = os.path.join(short, "model.json")
        cases["short_shard/model.json"] = (None, ["shard"])
        broken = os.path.join(gen, "slice", "model.json")
        with open(broken, "r+b") as f:
            f.truncate(200)
        paths["broken_json/model.json"] = broken
        cases["broken_json/model.json"] = (None, [])
        sm = os.path.join(shared, "tf_savedmodel", "tf2onnx_regression") if shared else ""
        if sm and os.path.isdir(sm):
            def copy(name):
                d = os.path.join(tmp, name)
                shutil.copytree(sm, d)
                for dp, _, fs in os.walk(d):
                    os.chmod(dp, 0o755)
                    for f in fs:
                        os.chmod(os.path.join(dp, f), 0o644)
                return d
            d = copy("sm_bad_magic")
            with open(os.path.join(d, "variables", "variables.index"), "r+b") as f:
                f.seek(-1, 2)
                f.write(b"\x00")
            paths["sm_bad_magic"], cases["sm_bad_magic"] = d, (None, ["variables.index"])
            d = copy("sm_truncated_index")
            with open(os.path.join(d, "variables", "variables.index"), "r+b") as f:
                f.truncate(20)
            paths["sm_truncated_index"], cases["sm_truncated_index"] = d, (None, ["variables.index"])
            d = copy("sm_short_shard")
            with open(os.path.join(d, "variables", "variables.data-00000-of-00001"), "r+b") as f:
                f.truncate(2)
            paths["sm_short_shard"], cases["sm_short_shard"] = d, (None, ["shard"])
            d = copy("sm_flipped_block")
            with open(os.path.join(d, "variables", "variables.index"), "r+b") as f:
                f.seek(5)
                f.write(b"\x7f")
            paths["sm_flipped_block"], cases["sm_flipped_block"] = d, (None, ["variables.index"])
            d = copy("sm_truncated_pb")
            with open(os.path.join(d, "saved_model.pb"), "r+b") as f:
                f.truncate(1000)
            paths["sm_truncated_pb"], cases["sm_truncated_pb"] = d, (None, ["saved_model.pb"])
        else:
            print("note: ../shared/models absent: SavedModel cases skipped")
        for name, (_, needles) in cases.items():
            p = paths[name]
            r = subprocess.run([convfix, "inspect", p], capture_output=True, text=True)
            lines = r.stderr.strip().splitlines()
            ok = r.returncode == 2 and len(lines) == 1 and all(n in lines[0] for n in needles)
            ok = ok and (os.path.basename(p) in lines[0] or os.path.basename(os.path.dirname(p)) in lines[0])
            print(f"{'ok  ' if ok else 'FAIL'} {name}: exit {r.returncode}: {r.stderr.strip()[:300]}")
            failed += 0 if ok else 1
    print(f"{failed} failure(s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
