#!/usr/bin/python3
"""Runs `convfix diagnose` on every case of the fault benchmark
(bench/faults/make_faults.py writes the cases and manifest.json) and scores
it against the ground truth.

  /usr/bin/python3 bench/faults/run.py [--faults build/faults] [--convfix build/convfix]
      [--cases REGEX] [--quick] [--images DIR] [--jobs N] [--json FILE] [--cache]
      [--mode auto|diagnose|compare|repair]

Per case: `convfix diagnose SOURCE TARGET --images DIR --source-preprocess P
--target-preprocess P --report REPORTS/<id> --no-cache`, then
REPORTS/<id>/diagnose.json is read (docs/DIAGNOSIS.md, schema version 1).

Scores (fault and crash cases):
  detected   verdict.code is not "faithful", or at least one suspect.
  rank-1     the suspect of rank 1 locates the injected layer (below).
  top-3      a suspect of rank <= 3 locates it.
  category   the rank-1 suspect's category is the case's category, or the
             other category FAULTS.md gives the class (4: graph/hyperparameters,
             14 and 17: hyperparameters/parameters): manifest field
             categories_accepted.
  verdict    verdict.code is one of the case's expected_verdicts (fault cases:
             "differs" or "discrepant"; crash cases: "target_cannot_run"; the
             training-mode Dropout case also accepts "target_cannot_run").
A suspect LOCATES the injected layer when
  - its target_node is one of the case's target_nodes, or its source_node one
    of the case's source_nodes (exact names as in the files), or
  - its `row` is an alignment row (alignment.rows[row]) whose target_node or
    any of whose target_nodes (nodes folded into the row) is one of the
    case's target_nodes, or whose source_node is one of its source_nodes
    ("the row that contains it"), or
  - the case has no injected node (preprocessing: the model is identical) or
    its category is "input", and the suspect's category equals the case's.
Controls (faithful pairs): a FALSE ALARM is a verdict "discrepant" or
"target_cannot_run", or any suspect. A "differs" verdict without suspects is
reported but not counted as a false alarm.
Errors (convfix exit code other than 0, or no diagnose.json) count as not
detected / false alarm.

--mode compare (automatic while `convfix diagnose` does not exist): runs
`convfix compare --json` instead and scores detection only: detected when a
top-1 label differs, the output error exceeds the manifest's noise_rel
relative to the source's largest output, or convfix cannot run the target
(exit code 2 naming the target). Ranks and categories are then n/a.

--mode repair (issue 6): runs `convfix repair SOURCE TARGET --images DIR
--source-preprocess P --target-preprocess P -o REPORTS/<id>/repaired.EXT
--embed-preprocessing --json REPORTS/<id>/repair.json` (EXT: the target's own
format) and verifies the result independently (bench/faults/repair_check.py:
ONNX Runtime / the TFLite runtime on the full image set, preprocessing by
PIL + numpy, a not-embedded input-pipeline fix applied with the preset the
JSON's preprocessing_required names). Scores per fault case:
  repaired     the repaired model's top-1 equals the source's on every image
  regressions  images whose top-1 agreed with the source's before the repair
               and not after (counted per case; a case "regresses" when > 0)
  time         wall time of the convfix repair command
Controls: ok when repair kept no change and the written model's outputs equal
the target's (max|diff| / max|target| <= the manifest's noise_rel).
JSON default: FAULTS/repair_scores.json.

Prints the table per fault class and totals, the median wall time per case,
and writes everything as JSON (default FAULTS/scores.json).
Exit code 0 (scores are the result, not a pass/fail), 2 on bad arguments.
"""
import argparse
import concurrent.futures
import json
import os
import re
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def has_diagnose(convfix):
    p = subprocess.run([convfix, "diagnose", "--help"], capture_output=True, text=True)
    return p.returncode == 0


def locates(s, case, rows):
    T, S = set(case["target_nodes"]), set(case["source_nodes"])
    if s.get("target_node") in T or s.get("source_node") in S:
        return True
    r = s.get("row")
    if isinstance(r, int) and 0 <= r < len(rows):
        row = rows[r]
        tn = set(row.get("target_nodes") or []) | {row.get("target_node")}
        if tn & T or row.get("source_node") in S:
            return True
    if (not T and not S) or case["category"] == "input":
        return s.get("category") == case["category"]
    return False


def expected_verdicts(case):
    return case.get("expected_verdicts") or {"fault": ["differs", "discrepant"], "crash": ["target_cannot_run"],
                                             "control": ["faithful", "differs"]}[case["kind"]]


def score_diagnose(case, d):
    sus = sorted(d.get("suspects") or [], key=lambda s: s.get("rank", 1e9))
    rows = (d.get("alignment") or {}).get("rows") or []
    verdict = (d.get("verdict") or {}).get("code")
    r = dict(verdict=verdict, suspects=len(sus), discrepancy_rate=d.get("discrepancy_rate"),
             top=[{k: s.get(k) for k in ("rank", "category", "source_node", "target_node", "row")} for s in sus[:3]])
    if case["kind"] == "control":
        r["false_alarm"] = verdict in ("discrepant", "target_cannot_run") or len(sus) > 0
        return r
    r["detected"] = verdict != "faithful" or len(sus) > 0
    r["verdict_ok"] = verdict in expected_verdicts(case)
    r["rank1"] = bool(sus) and locates(sus[0], case, rows)
    r["top3"] = any(locates(s, case, rows) for s in sus[:3])
    r["category_ok"] = bool(sus) and sus[0].get("category") in (case.get("categories_accepted")
                                                                 or [case["category"]])
    return r


def score_compare(case, d, rc, stderr, noise):
    r = dict(verdict=None)
    if rc != 0:
        cannot = os.path.basename(case["target"]) in stderr or case["target"] in stderr
        r.update(error=stderr.strip().splitlines()[-1][:300] if stderr.strip() else f"exit {rc}",
                 target_cannot_run=cannot)
        if case["kind"] == "control":
            r["false_alarm"] = True
        else:
            r["detected"] = cannot
            r["verdict_ok"] = cannot and "target_cannot_run" in expected_verdicts(case)
        return r
    p = d["pairs"][0]
    rel = max((o.get("rel_max_abs_diff") or 0) for o in p["outputs"]) if p["outputs"] else 0
    shape = any(o.get("shape_mismatch") for o in p["outputs"])
    disc = p.get("discrepancy_rate") or 0
    found = disc > 0 or rel > noise or shape
    r.update(discrepancy_rate=disc, rel_max_abs_diff=rel)
    if case["kind"] == "control":
        r["false_alarm"] = found
    else:
        r["detected"] = found
        r["verdict_ok"] = found and "discrepant" in expected_verdicts(case)
    return r


def run_case(case, a, faults, mode, noise):
    src = os.path.join(faults, case["source"])
    tgt = os.path.join(faults, case["target"])
    rep = os.path.join(a.reports, case["id"])
    os.makedirs(rep, exist_ok=True)
    common = ["--images", a.images, "--source-preprocess", case["source_preprocess"],
              "--target-preprocess", case["target_preprocess"]]
    common += ["--cache-dir", os.path.join(a.reports, ".cache")] if a.cache else ["--no-cache"]
    if mode == "diagnose":
        cmd = [a.convfix, "diagnose", src, tgt] + common + ["--report", rep]
    elif mode == "repair":
        out_model = os.path.join(rep, "repaired" + os.path.splitext(tgt)[1])
        if os.path.exists(out_model):
            os.remove(out_model)
        jf = os.path.join(rep, "repair.json")
        if os.path.exists(jf):
            os.remove(jf)
        cmd = [a.convfix, "repair", src, tgt] + common + ["-o", out_model, "--embed-preprocessing", "--json", jf]
    else:
        cmd = [a.convfix, "compare", src, tgt] + common + ["--json", os.path.join(rep, "compare.json")]
    cmd += a.extra
    t0 = time.time()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=a.timeout)
        rc, err = p.returncode, p.stderr
    except subprocess.TimeoutExpired:
        rc, err = 124, f"timed out after {a.timeout} s"
    wall = time.time() - t0
    with open(os.path.join(rep, "stderr.txt"), "w") as f:
        f.write(err)
    res = dict(id=case["id"], cls=case["fault_class"]["number"], class_name=case["fault_class"]["name"],
               kind=case["kind"], category=case["category"], base=case["base"], format=case["format"],
               seconds=round(wall, 2), exit_code=rc, command=" ".join(cmd))
    if mode == "repair":
        return score_repair(case, res, rc, err, faults, rep, out_model, jf, a, noise)
    if mode == "diagnose":
        jf = os.path.join(rep, "diagnose.json")
        if rc != 0 or not os.path.exists(jf):
            res.update(error=(err.strip().splitlines() or [f"exit {rc}"])[-1][:300])
            if case["kind"] == "control":
                res["false_alarm"] = True
            else:
                res.update(detected=False, verdict_ok=False, rank1=False, top3=False, category_ok=False)
            return res
        with open(jf) as f:
            res.update(score_diagnose(case, json.load(f)))
    else:
        d = None
        jf = os.path.join(rep, "compare.json")
        if rc == 0 and os.path.exists(jf):
            with open(jf) as f:
                d = json.load(f)
        res.update(score_compare(case, d, rc, err, noise))
    return res


def score_repair(case, res, rc, err, faults, rep, out_model, jf, a, noise):
    import repair_check
    rj = None
    if os.path.exists(jf):
        with open(jf) as f:
            rj = json.load(f)
    if rc != 0 or rj is None:
        res["error"] = (err.strip().splitlines() or [f"exit {rc}"])[-1][:300]
    if rj is not None:
        res["verdict"] = (rj.get("verdict") or {}).get("code")
        res["discrepancy_before"] = rj.get("discrepancy_before")
        res["discrepancy_after"] = rj.get("discrepancy_after")
        res["timings_s"] = rj.get("timings_s")
        pr = rj.get("preprocessing_required")
        res["preprocessing_required"] = pr
    try:
        res.update(repair_check.verify(case, faults, rj, out_model if rj is not None else None, a.images,
                                       os.path.join(rep, "check"), noise))
    except Exception as e:  # noqa: BLE001 - a checker failure is reported, not fatal
        res["check_error"] = f"{type(e).__name__}: {e}"
    if case["kind"] == "control":
        res["false_alarm"] = not res.get("control_ok", False)
    return res


def repair_table(results, noise):
    faults = [r for r in results if r["kind"] != "control"]
    ctl = [r for r in results if r["kind"] == "control"]
    by = {}
    for r in faults:
        by.setdefault((r["cls"], r["class_name"]), []).append(r)
    hdr = f"{'#':>3} {'class':46s} {'n':>3} {'repaired':>9} {'regressions':>12} {'err<=noise':>11} {'median s':>9}"
    lines = [hdr, "-" * len(hdr)]
    for (c, name), rs in sorted(by.items()):
        rep = sum(1 for r in rs if r.get("repaired"))
        reg = sum(1 for r in rs if (r.get("regressions") or 0) > 0)
        exact = sum(1 for r in rs if (r.get("rel_max_abs_diff_after") is not None
                                      and r["rel_max_abs_diff_after"] <= noise))
        med = statistics.median(r["seconds"] for r in rs)
        lines.append(f"{c:>3} {name[:46]:46s} {len(rs):>3} {f'{rep}/{len(rs)}':>9} {f'{reg}/{len(rs)}':>12} "
                     f"{f'{exact}/{len(rs)}':>11} {med:>9.1f}")
    lines.append("-" * len(hdr))
    if faults:
        rep = sum(1 for r in faults if r.get("repaired"))
        reg_cases = [r["id"] for r in faults if (r.get("regressions") or 0) > 0]
        reg_imgs = sum(r.get("regressions") or 0 for r in faults)
        imgs = sum(r.get("images") or 0 for r in faults)
        lines.append(f"faults: {len(faults)} cases, {len({r['cls'] for r in faults})} classes; repaired (0 top-1 "
                     f"disagreements on the full image set, independent runtime) {pct(rep, len(faults))}; "
                     f"cases with a regression {len(reg_cases)}"
                     + (f" ({', '.join(reg_cases)})" if reg_cases else "")
                     + f"; regressed images {reg_imgs}/{imgs}")
        ex = sum(1 for r in faults if r.get("rel_max_abs_diff_after") is not None
                 and r["rel_max_abs_diff_after"] <= noise)
        lines.append(f"outputs equal to the source's within noise (max|diff|/max|source| <= {noise:g}): "
                     f"{pct(ex, len(faults))}")
        lines.append(f"repair time per fault case: median {statistics.median(r['seconds'] for r in faults):.1f} s, "
                     f"max {max(r['seconds'] for r in faults):.1f} s")
        nrep = [r["id"] for r in faults if not r.get("repaired")]
        if nrep:
            lines.append("not repaired: " + ", ".join(
                f"{r['id']} ({r.get('disagree_before')} -> {r.get('disagree_after')})" for r in faults
                if not r.get("repaired")))
    bad = [r["id"] for r in ctl if not r.get("control_ok")]
    lines.append(f"controls: {len(ctl)} faithful pairs, ok (no change kept, output equals the target's) "
                 f"{len(ctl) - len(bad)}/{len(ctl)}" + (f"; NOT ok: {', '.join(bad)}" if bad else ""))
    errs = [r["id"] for r in results if r.get("error") or r.get("check_error")]
    if errs:
        lines.append(f"errors ({len(errs)}): " + ", ".join(errs))
    return "\n".join(lines)


def pct(n, d):
    return f"{n}/{d} ({100.0 * n / d:.0f}%)" if d else "-"


def table(results, mode):
    faults = [r for r in results if r["kind"] != "control"]
    ctl = [r for r in results if r["kind"] == "control"]
    by = {}
    for r in faults:
        by.setdefault((r["cls"], r["class_name"]), []).append(r)
    keys = ["detected", "rank1", "top3", "category_ok", "verdict_ok"]
    lines = []
    hdr = f"{'#':>3} {'class':46s} {'n':>3} {'detected':>9} {'rank-1':>7} {'top-3':>7} {'category':>9} {'verdict':>8}"
    lines.append(hdr)
    lines.append("-" * len(hdr))

    def cnt(rs, k):
        return sum(1 for r in rs if r.get(k))

    for (c, name), rs in sorted(by.items()):
        cells = [f"{cnt(rs, k)}/{len(rs)}" if (mode == "diagnose" or k in ("detected", "verdict_ok")) else "n/a"
                 for k in keys]
        lines.append(f"{c:>3} {name[:46]:46s} {len(rs):>3} {cells[0]:>9} {cells[1]:>7} {cells[2]:>7} {cells[3]:>9} "
                     f"{cells[4]:>8}")
    lines.append("-" * len(hdr))
    tot = {k: pct(cnt(faults, k), len(faults)) if (mode == "diagnose" or k in ("detected", "verdict_ok")) else "n/a"
           for k in keys}
    lines.append(f"faults: {len(faults)} cases, {len({r['cls'] for r in faults})} classes; detected {tot['detected']}, "
                 f"injected layer rank-1 {tot['rank1']}, top-3 {tot['top3']}, category {tot['category_ok']}, "
                 f"verdict {tot['verdict_ok']}")
    fa = [r["id"] for r in ctl if r.get("false_alarm")]
    lines.append(f"controls: {len(ctl)} faithful pairs, false alarms {len(fa)}" + (f" ({', '.join(fa)})" if fa else ""))
    errs = [r["id"] for r in results if r.get("error")]
    if errs:
        lines.append(f"errors ({len(errs)}): " + ", ".join(errs))
    secs = [r["seconds"] for r in results]
    if secs:
        lines.append(f"time per case: median {statistics.median(secs):.1f} s, max {max(secs):.1f} s, "
                     f"total {sum(secs):.0f} s (mode: {mode})")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--faults", default=os.path.join(ROOT, "build", "faults"), help="make_faults.py's output folder")
    ap.add_argument("--convfix", default=os.path.join(ROOT, "build", "convfix"))
    ap.add_argument("--cases", default="", help="regular expression on case ids")
    ap.add_argument("--quick", action="store_true", help="only the cases marked quick in the manifest")
    ap.add_argument("--images", default=None, help="default: FAULTS/images")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--timeout", type=int, default=600, help="seconds per case")
    ap.add_argument("--json", default=None, help="default: FAULTS/scores.json")
    ap.add_argument("--reports", default=None, help="default: FAULTS/reports")
    ap.add_argument("--cache", action="store_true", help="let convfix use its output cache (FAULTS/reports/.cache)")
    ap.add_argument("--mode", choices=["auto", "diagnose", "compare", "repair"], default="auto")
    ap.add_argument("--extra", nargs=argparse.REMAINDER, default=[], help="further convfix arguments (last)")
    a = ap.parse_args()
    faults = os.path.abspath(a.faults)
    mf = os.path.join(faults, "manifest.json")
    if not os.path.exists(mf):
        print(f"run.py: {mf} not found (run bench/faults/make_faults.py --out {a.faults} first)", file=sys.stderr)
        sys.exit(2)
    if not os.access(a.convfix, os.X_OK):
        print(f"run.py: {a.convfix}: not an executable", file=sys.stderr)
        sys.exit(2)
    with open(mf) as f:
        man = json.load(f)
    a.images = os.path.abspath(a.images or os.path.join(faults, man.get("images", "images")))
    a.reports = os.path.abspath(a.reports or os.path.join(faults, "reports"))
    mode = a.mode
    if mode == "auto":
        mode = "diagnose" if has_diagnose(a.convfix) else "compare"
        if mode == "compare":
            print("note: `convfix diagnose` is not available: detection scored with `convfix compare` only")
    cases = man["cases"]
    if a.quick:
        cases = [c for c in cases if c.get("quick")]
    if a.cases:
        cases = [c for c in cases if re.search(a.cases, c["id"])]
    if not cases:
        print("run.py: no case selected", file=sys.stderr)
        sys.exit(2)
    noise = man.get("noise_rel", 1e-4)
    t0 = time.time()
    results = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, a.jobs)) as ex:
        futs = {ex.submit(run_case, c, a, faults, mode, noise): c for c in cases}
        for fut in concurrent.futures.as_completed(futs):
            r = fut.result()
            results.append(r)
            if mode == "repair":
                if r["kind"] == "control":
                    st = "control ok" if r.get("control_ok") else "CONTROL NOT OK"
                else:
                    st = ("REPAIRED" if r.get("repaired") else "not repaired") + \
                        f" (top-1 differs {r.get('disagree_before')} -> {r.get('disagree_after')}" + \
                        f", regressions {r.get('regressions')})"
                if r.get("check_error"):
                    st += "  check error: " + r["check_error"]
            elif r["kind"] == "control":
                st = "FALSE ALARM" if r.get("false_alarm") else "quiet"
            else:
                st = " ".join(k for k in ("detected", "rank1", "top3", "category_ok") if r.get(k)) or "missed"
            print(f"  {r['id']:34s} {r['seconds']:6.1f} s  verdict {r.get('verdict')}  {st}"
                  + (f"  error: {r['error']}" if r.get("error") else ""), flush=True)
    order = {c["id"]: i for i, c in enumerate(cases)}
    results.sort(key=lambda r: order[r["id"]])
    txt = repair_table(results, noise) if mode == "repair" else table(results, mode)
    print()
    print(txt)
    out = a.json or os.path.join(faults, "repair_scores.json" if mode == "repair" else "scores.json")
    with open(out, "w") as f:
        json.dump(dict(mode=mode, convfix=a.convfix, images=a.images, wall_s=round(time.time() - t0, 1),
                       table=txt, results=results), f, indent=1)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
