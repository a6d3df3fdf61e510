"""Independent verification of a `convfix repair` result for one case of the
fault benchmark (bench/faults/run.py --mode repair uses it).

The source, the faulty target and the repaired model are run by an
independent runtime — ONNX Runtime (ort_batch.js, graph optimizations off)
for .onnx files, the TFLite runtime (tflite_batch.js, WASM) for .tflite
files — on the full image set, preprocessed with PIL + numpy
(make_faults.load_image: the presets' arithmetic of docs/PREPROCESSING.md),
never by convfix. Preprocessing:
  source    the case's source_preprocess
  target    the case's target_preprocess
  repaired  the case's target_preprocess, unless the repair JSON's
            preprocessing_required says a different input pipeline is needed
            and it was NOT embedded in the model: then the preset it names.
Per image, top-1 of the first output (argmax over everything but the batch
axis). Measures:
  disagree_before / disagree_after  images whose top-1 differs from the source's
  repaired      the repaired model runs and disagree_after == 0
  regressions   images whose top-1 agreed with the source's before the repair
                and not after (a target that cannot run agreed on none)
  rel_max_abs_diff_after   max|repaired - source| / max|source|
  for controls: kept_changes (must be 0) and rel_max_abs_diff_vs_target
                (the output must equal the target's, within noise_rel)
"""
import os
import threading

import numpy as np

import make_faults as mf

_lock = threading.Lock()
_cache = {}


def _ensure_preset(name):
    """make_faults.PRESETS plus the '+swap-rb' variants convfix accepts."""
    with _lock:
        if name in mf.PRESETS:
            return name
        base, _, mod = name.partition("+")
        if base not in mf.PRESETS or mod != "swap-rb":
            raise ValueError(f"unknown preset {name!r}")
        p = dict(mf.PRESETS[base])
        p["order"] = "BGR" if p["order"] == "RGB" else "RGB"
        mf.PRESETS[name] = p
        return name


def run_model(path, images, preset, work, threads=1):
    """(outputs [N, ...] float64, None) or (None, error)."""
    preset = _ensure_preset(preset)
    os.makedirs(work, exist_ok=True)
    if path.endswith(".tflite"):
        import tflite_cases
        return tflite_cases.run_tflite(path, images, preset, work)
    try:
        layout, h, w, c = mf.onnx_input_info(path)
    except Exception as e:  # noqa: BLE001 - an unreadable file is a result
        return None, f"{path}: {str(e).splitlines()[0] if str(e) else type(e).__name__}"
    x = mf.batch(images, h, w, c, preset, layout)
    return mf.ort_run(path, x, work, threads)


def source_outputs(path, images, preset, work):
    """The source's outputs, computed once per (file, preset)."""
    key = (path, preset, os.path.getmtime(path))
    with _lock:
        if key in _cache:
            return _cache[key]
    r = run_model(path, images, preset, work)
    with _lock:
        _cache[key] = r
    return r


def image_files(folder):
    """The images convfix reads from a folder: .jpg/.jpeg/.png, sorted, not recursive."""
    if os.path.isfile(folder):
        return [folder]
    return sorted(os.path.join(folder, f) for f in os.listdir(folder)
                  if f.lower().endswith((".jpg", ".jpeg", ".png")) and not f.startswith("."))


def top1(a):
    return a.reshape(len(a), -1).argmax(1)


def repaired_preset(case, rj):
    """The preset the repaired model is fed: the one preprocessing_required
    names when the fix was not embedded; when it was embedded, the target's
    own preset values with the crop fraction the JSON asks the pipeline for
    (geometry cannot live in a model)."""
    pr = (rj or {}).get("preprocessing_required")
    if isinstance(pr, dict) and not pr.get("embedded") and pr.get("preset"):
        return pr["preset"]
    name = case["target_preprocess"]
    if isinstance(pr, dict) and pr.get("embedded") and pr.get("crop_fraction"):
        crop = float(pr["crop_fraction"])
        base = _ensure_preset(name)
        if abs(mf.PRESETS[base]["crop"] - crop) > 1e-6:
            derived = "%s@crop%.6g" % (base, crop)
            mf.PRESETS[derived] = dict(mf.PRESETS[base], crop=crop)
            return derived
    return name


def verify(case, faults, rj, out_model, images, work, noise_rel):
    """images: a folder or a list of files."""
    if isinstance(images, str):
        images = image_files(images)
    src = os.path.join(faults, case["source"])
    tgt = os.path.join(faults, case["target"])
    r = {}
    a, err = source_outputs(src, images, case["source_preprocess"], os.path.join(work, "src"))
    if err:
        return dict(check_error="source failed in the independent runtime: " + err)
    b, err_b = run_model(tgt, images, case["target_preprocess"], os.path.join(work, "tgt"))
    ta = top1(a)
    n = len(ta)
    if err_b or b.shape != a.shape:
        agree_before = np.zeros(n, bool)
        r["target_runs"] = err_b is None
    else:
        agree_before = top1(b) == ta
        r["target_runs"] = True
    r["images"] = n
    r["disagree_before"] = int(n - agree_before.sum())
    kept = [x for x in (rj or {}).get("repairs") or [] if x.get("kept")]
    r["kept_changes"] = len(kept)
    r["kept"] = [f"[{x.get('strategy')}] {x.get('target_node')}: {x.get('change')}" for x in kept]
    if not out_model or not os.path.exists(out_model):
        r.update(output_written=False, repaired=False, regressions=0, disagree_after=None)
        if case["kind"] == "control":
            r["control_ok"] = len(kept) == 0  # nothing changed, nothing to write
        return r
    r["output_written"] = True
    preset = repaired_preset(case, rj)
    r["repaired_preprocess"] = preset
    c, err_c = run_model(out_model, images, preset, os.path.join(work, "rep"))
    if err_c or c.shape != a.shape:
        r.update(repaired_runs=False, repaired=False, disagree_after=n,
                 regressions=int(agree_before.sum()),
                 repaired_error=err_c or f"output shape {list(c.shape)} vs source {list(a.shape)}")
    else:
        agree_after = top1(c) == ta
        r.update(repaired_runs=True, disagree_after=int(n - agree_after.sum()),
                 regressions=int((agree_before & ~agree_after).sum()),
                 rel_max_abs_diff_after=float(np.abs(c - a).max() / max(np.abs(a).max(), 1e-30)))
        r["repaired"] = r["disagree_after"] == 0
    if case["kind"] == "control":
        same = False
        if r.get("repaired_runs") and b is not None and b.shape == c.shape:
            rel = float(np.abs(c - b).max() / max(np.abs(b).max(), 1e-30))
            r["rel_max_abs_diff_vs_target"] = rel
            same = rel <= noise_rel
        r["control_ok"] = len(kept) == 0 and same
    return r
