#!/usr/bin/python3
"""Diagnose performance bound (issue 5): on N images (default 1000), the time
of `convfix diagnose SOURCE TARGET` against the time to run SOURCE and TARGET
once each over the same images (`convfix run --images`), all in one run of
this script so the ratio sees one machine state; peak RSS of each.

The N images are made from the real photographs of skimage and opencv-doc
(each photo cropped at several offsets and scales and mirrored, written as
PNG) into a folder that is reused between runs.

    bench/diagnose/perf.py --convfix build/convfix --source S.onnx --target T.onnx [--images N]

Defaults: MobileNetV2 from tools/gen_torchvision.py (build/oracle-models) and
a target with the middle ReLU6's bound lowered to 2 (a real fault, so the
preprocessing and activation stages run). Prints a table and one JSON line.
Every command runs with an empty output cache (--no-cache for diagnose) so
nothing is served from an earlier run.
"""
import argparse
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SKIMAGE = "/usr/lib/python3/dist-packages/skimage/data"
OPENCV = "/usr/share/doc/opencv-doc/examples/data"


def make_images(folder, n):
    from PIL import Image
    os.makedirs(folder, exist_ok=True)
    have = [f for f in os.listdir(folder) if f.endswith(".png")]
    if len(have) >= n:
        return
    photos = []
    for d in (SKIMAGE, OPENCV):
        if os.path.isdir(d):
            for f in sorted(os.listdir(d)):
                if f.lower().endswith((".png", ".jpg", ".jpeg")):
                    try:
                        im = Image.open(os.path.join(d, f)).convert("RGB")
                    except Exception:
                        continue
                    if min(im.size) >= 128:
                        photos.append(im)
    if not photos:
        raise SystemExit("no photographs found (python3-skimage, opencv-doc)")
    k = 0
    while k < n:
        im = photos[k % len(photos)]
        v = k // len(photos)
        w, h = im.size
        s = 0.6 + 0.4 * ((v * 7) % 5) / 4.0
        cw, ch = int(w * s), int(h * s)
        x0 = ((v * 13) % 7) * (w - cw) // 6
        y0 = ((v * 5) % 7) * (h - ch) // 6
        c = im.crop((x0, y0, x0 + cw, y0 + ch)).resize((256, 256))
        if v % 2:
            c = c.transpose(Image.FLIP_LEFT_RIGHT)
        c.save(os.path.join(folder, "img%05d.png" % k))
        k += 1


def timed(cmd, env):
    """Wall time and peak RSS (MiB) of one command; its output goes to files
    (a pipe left unread would block it)."""
    import tempfile
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=out, stderr=err, env=env)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        o, e = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)}: exit code {p.returncode}\n{e[-2000:]}")
    return wall, ru.ru_maxrss / 1024.0, o, e


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--convfix", default=os.path.join(ROOT, "build", "convfix"))
    ap.add_argument("--source", default=os.path.join(ROOT, "build", "oracle-models", "mobilenet_v2", "model.onnx"))
    ap.add_argument("--target")
    ap.add_argument("--images", type=int, default=1000)
    ap.add_argument("--folder", default=os.path.join(ROOT, "build", "bench-images"))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=8)
    args = ap.parse_args()
    if not os.path.exists(args.source):
        raise SystemExit(f"{args.source} missing: run tools/gen_torchvision.py --models mobilenet_v2")
    target = args.target
    if not target:
        import numpy as np
        import onnx
        from onnx import numpy_helper
        m = onnx.load(args.source)
        clips = [n for n in m.graph.node if n.op_type == "Clip"]
        clip = clips[len(clips) // 2]
        m.graph.initializer.append(numpy_helper.from_array(np.array(2.0, dtype=np.float32), "bench_clip_max"))
        clip.input[2] = "bench_clip_max"
        target = os.path.join(os.path.dirname(args.folder), "bench_clip_target.onnx")
        onnx.save(m, target)
    folder = os.path.join(args.folder, str(args.images))
    make_images(folder, args.images)
    env = dict(os.environ)
    env["CONVFIX_CACHE_DIR"] = os.path.join(os.path.dirname(args.folder), "bench-cache-unused")
    common = ["--images", folder, "--threads", str(args.threads), "--batch", str(args.batch)]
    rows = []
    ts, ms, _, e1 = timed([args.convfix, "run", args.source, "--top", "5"] + common, env)
    tt, mt, _, e2 = timed([args.convfix, "run", target, "--top", "5"] + common, env)
    td, md, out, e3 = timed([args.convfix, "diagnose", args.source, target, "--no-cache",
                             "--report", os.path.join(os.path.dirname(args.folder), "bench-report")] + common, env)
    for e in (e1, e2, e3):
        if "error" in e:
            print(e, file=sys.stderr)
    ratio = td / (ts + tt)
    print(f"images: {args.images}, threads {args.threads}, batch {args.batch}")
    print(f"run source          {ts:8.2f} s   peak RSS {ms:7.1f} MiB")
    print(f"run target          {tt:8.2f} s   peak RSS {mt:7.1f} MiB")
    print(f"diagnose            {td:8.2f} s   peak RSS {md:7.1f} MiB")
    print(f"ratio diagnose / (source + target) = {ratio:.2f}  (bound 1.5)")
    try:
        j = json.load(open(os.path.join(os.path.dirname(args.folder), "bench-report", "diagnose.json")))
        print("diagnose stages (s):", json.dumps({k: round(v, 2) for k, v in j["timings_s"].items()}))
        print("verdict:", j["verdict"]["code"])
    except Exception:
        pass
    print(json.dumps({"images": args.images, "run_source_s": ts, "run_target_s": tt, "diagnose_s": td,
                      "ratio": ratio, "rss_source_mib": ms, "rss_target_mib": mt, "rss_diagnose_mib": md}))
    return 0 if ratio <= 1.5 else 1


if __name__ == "__main__":
    sys.exit(main())
