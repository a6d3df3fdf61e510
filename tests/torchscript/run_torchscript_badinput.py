#!/usr/bin/python3
"""Bad TorchScript input: every case must give exit code 2 and exactly one
line on stderr, `convfix: error: ...`, that names the file and says what is
wrong (checked by a phrase per case). Files are made here with PyTorch
(python3-torch) in a temporary folder:

  zip_not_torchscript  a zip of text files renamed .pt
  truncated            the first half of a real TorchScript file
  truncated_tail       a TorchScript file missing its last 100 bytes
  state_dict           torch.save(model.state_dict())        -> says "state_dict"
  state_dict_legacy    the same, legacy non-zip format        -> says "state_dict"
  pickled_module       torch.save(model)                      -> says "nn.Module"
  unmapped_op          a traced module using torch.cumsum     -> names aten::cumsum and the node
  data_dependent_if    a scripted module branching on data    -> says "control flow"
  corrupt_code         TorchScript zip whose code is garbage  -> libtorch's error, one line
Exit 0 when every case passes, 1 otherwise, 77 without python3-torch.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import zipfile

SKIP = 77


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--convfix", required=True)
    ap.add_argument("--plugin-built", default="1")
    args = ap.parse_args()
    try:
        import torch
        import torch.nn as nn
    except ImportError:
        print("SKIP: python3-torch is not installed")
        return SKIP
    plugin = args.plugin_built.lower() in ("1", "on", "true", "yes")

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3)
            self.fc = nn.Linear(4, 2)

        def forward(self, x):
            return self.fc(self.conv(x).mean(dim=(2, 3)))

    class Cumsum(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Conv2d(3, 4, 1)

        def forward(self, x):
            return torch.cumsum(self.body(x), dim=1)

    class Branchy(nn.Module):
        def forward(self, x):
            if bool(x.sum() > 0):
                return x * 2
            return x

    failures = 0
    with tempfile.TemporaryDirectory() as d:
        p = lambda n: os.path.join(d, n)  # noqa: E731
        torch.manual_seed(0)
        net = Net().eval()
        x = torch.randn(1, 3, 8, 8)
        good = p("good.pt")
        torch.jit.trace(net, x).save(good)
        data = open(good, "rb").read()
        with zipfile.ZipFile(p("zip_not_torchscript.pt"), "w") as z:
            z.writestr("readme.txt", "hello")
            z.writestr("weights/notes.txt", "not a model")
        open(p("truncated.pt"), "wb").write(data[: len(data) // 2])
        open(p("truncated_tail.pt"), "wb").write(data[:-100])
        torch.save(net.state_dict(), p("state_dict.pt"))
        torch.save(net.state_dict(), p("state_dict_legacy.pth"), _use_new_zipfile_serialization=False)
        torch.save(nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU()), p("pickled_module.pt"))
        torch.jit.trace(Cumsum().eval(), x).save(p("unmapped_op.pt"))
        torch.jit.script(Branchy()).save(p("data_dependent_if.pt"))
        with zipfile.ZipFile(good) as zin, zipfile.ZipFile(p("corrupt_code.pt"), "w") as zout:
            for item in zin.infolist():
                buf = zin.read(item.filename)
                if "/code/" in item.filename and item.filename.endswith(".py"):
                    buf = b"def forward(self, x):\n    return )(\n"
                zout.writestr(item, buf)

        # (file, phrase that must appear, needs the plugin)
        cases = [
            ("zip_not_torchscript.pt", "zip archive that is not TorchScript", False),
            ("truncated.pt", "truncated", False),
            ("truncated_tail.pt", "truncated", False),
            ("state_dict.pt", "state_dict", False),
            ("state_dict_legacy.pth", "state_dict", False),
            ("pickled_module.pt", "nn.Module", False),
            ("unmapped_op.pt", "(aten::cumsum)", True),
            ("data_dependent_if.pt", "control flow", True),
            ("corrupt_code.pt", "cannot load it as TorchScript", True),
        ]
        if not plugin:
            cases = [c for c in cases if not c[2]] + [("good.pt", "built without TorchScript support", False)]
        for name, phrase, _ in cases:
            path = p(name)
            for cmd in (["inspect"], ["run", "--input", p("x.npy")]):
                if cmd[0] == "run" and not os.path.exists(p("x.npy")):
                    import numpy as np
                    np.save(p("x.npy"), x.numpy())
                r = subprocess.run([args.convfix] + [cmd[0], path] + cmd[1:], capture_output=True, text=True)
                lines = r.stderr.strip().splitlines()
                problems = []
                if r.returncode != 2:
                    problems.append(f"exit {r.returncode}")
                if len(lines) != 1:
                    problems.append(f"{len(lines)} stderr lines")
                msg = lines[0] if lines else ""
                if not msg.startswith("convfix: error: ") or path not in msg:
                    problems.append("message does not start with 'convfix: error: <file>'")
                if phrase not in msg:
                    problems.append(f"no '{phrase}'")
                if name == "unmapped_op.pt" and "node 'body'" not in msg and "node '" not in msg:
                    problems.append("node not named")
                ok = not problems
                failures += not ok
                print(f"{'PASS' if ok else 'FAIL'} {name} ({cmd[0]}): {msg[:300]}" +
                      ("" if ok else "  <-- " + "; ".join(problems)), flush=True)
        # the good file still works (the checks above did not break loading)
        if plugin:
            r = subprocess.run([args.convfix, "run", good, "--input", p("x.npy")], capture_output=True, text=True)
            ok = r.returncode == 0
            failures += not ok
            print(f"{'PASS' if ok else 'FAIL'} good.pt runs: exit {r.returncode} {r.stderr.strip()[:200]}")
    print(f"{'all passed' if not failures else str(failures) + ' failed'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
