"""The model-fixture cache shared by tools/gen_torchvision.py and
tools/gen_torchscript.py: one folder per model under --out, written through
a staging folder so a crash never leaves a half-written model, and skipped
when its meta.json carries the current stamp and every needed file exists.

Both generators call main() with their own model list, stamp, generate()
and summary line; nothing here changes what a model's files contain.
"""
import argparse
import json
import os
import sys
import tempfile


def staging_dir(out_dir):
    """A fresh hidden folder inside out_dir to write one model's files to."""
    os.makedirs(out_dir, exist_ok=True)
    return tempfile.mkdtemp(dir=out_dir, prefix=".tmp-")


def publish(tmp, out_dir, meta):
    """Writes meta.json to the staging folder, moves every file of it into
    out_dir, then removes it."""
    with open(os.path.join(tmp, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
    for fn in os.listdir(tmp):
        os.replace(os.path.join(tmp, fn), os.path.join(out_dir, fn))
    os.rmdir(tmp)


def up_to_date(d, stamp, needed):
    """True when d/meta.json has this stamp and every file needed(meta) exists."""
    try:
        with open(os.path.join(d, "meta.json")) as f:
            meta = json.load(f)
    except (OSError, ValueError):
        return False
    return meta.get("stamp") == stamp and all(os.path.exists(os.path.join(d, f)) for f in needed(meta))


def main(doc, models, stamp, generate, summary, needed, default_batch, max_batch):
    """Command line: --out DIR [--models a,b] [--batch N] [--force] [--threads N].
    generate(name, out_dir, stamp, n_photos) -> meta; summary(meta) -> str."""
    import torch

    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="cache folder (one sub-folder per model)")
    ap.add_argument("--models", default=",".join(models), help="comma-separated subset")
    ap.add_argument("--batch", type=int, default=default_batch, help="photos per model (<= %d)" % max_batch)
    ap.add_argument("--force", action="store_true", help="regenerate even when up to date")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    st = stamp()
    names = [m for m in args.models.split(",") if m]
    for n in names:
        if n not in models:
            sys.exit(f"unknown model '{n}' (known: {', '.join(models)})")
    for n in names:
        d = os.path.join(args.out, n)
        if not args.force and up_to_date(d, st, needed):
            print(f"{n}: up to date ({d})")
            continue
        m = generate(n, d, st, min(args.batch, max_batch))
        print(f"{n}: {summary(m)} ({m['seconds']} s)", flush=True)
