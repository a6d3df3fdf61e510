#!/usr/bin/python3
"""The diagnose and repair reports in a real browser: Debian's headless Chromium.

Each hand-written diagnose document in tests/report/*.json, and the repair
document tests/report/repair.json, is rendered to a page with
convfix_report_tool (write_html_report). Then, per page:

1. `chromium --headless --dump-dom` of a copy of the page with a probe script
   appended (only the copy; the report itself has no script). The probe runs
   in the browser after the page loaded and writes what the browser built
   into the DOM: every svg.plot element (its namespace must be SVG's, its
   laid-out size non-zero), each series' <polyline> point count as the
   browser parsed it (SVGPointList) and its bounding box, the tables and
   their rows, the suspects' ranks in document order, and everything that
   could make the browser fetch something (elements with src/href/data
   attributes, non-inline style sheets, CSS url() or @import, scripts):
   there must be none, the page is self-contained.
   Expected values are computed here from the fixture JSON (one series per
   parameters/analysed image, one point per row with a value, ...).
2. `chromium --headless --dump-dom` of the page itself: the DOM Chromium
   serialises has the same plots and tables (no script needed to see them).
3. `chromium --headless --screenshot` of the discrepant case: the picture is
   not blank, and it shows the red of the images whose top-1 differs and
   the blue of the agreeing ones (the plot's series colours).
4. The repair page: its embedded diagnosis is checked as a diagnose page is
   (expected values from its "diagnosis" member), and, in the browser's DOM:
   the before/after plot has one "before" and one "after" series with one
   point per number in "layers"; the repair log has one row per entry of
   "repairs" in index order, a row's kept class and data-kept agree with the
   JSON, and the browser paints kept rows in another background colour than
   undone ones; every element id is unique and every in-page link has its
   target. Its screenshot shows the red before-series, the blue after-series
   and the green of the kept change / verdict.

Exit 0 pass, 1 fail, 77 skip (/usr/bin/chromium or PIL missing).
"""
import argparse
import html.parser
import json
import os
import shutil
import subprocess
import sys
import tempfile

failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print("FAIL:", msg, flush=True)


PROBE = r"""
<script id="convfix-probe-script">
(function () {
  const SVG = "http://www.w3.org/2000/svg";
  const out = { plots: [], tables: {}, suspects: [], details: 0, resources: -1, circles_with_title: 0 };
  for (const svg of document.querySelectorAll("svg.plot")) {
    const r = svg.getBoundingClientRect();
    const p = { id: svg.getAttribute("data-plot"), svg_ns: svg.namespaceURI === SVG,
                width: r.width, height: r.height, series: [], bars: [] };
    for (const g of svg.querySelectorAll("g.series")) {
      const pl = g.querySelector("polyline");
      const s = { kind: g.getAttribute("data-kind"), name: g.getAttribute("data-series"),
                  polylines: g.querySelectorAll("polyline").length, points: -1, bbox_w: 0, bbox_h: 0, ys: [] };
      if (pl) {
        s.points = pl.points.numberOfItems;
        for (let i = 0; i < pl.points.numberOfItems; ++i) s.ys.push(pl.points.getItem(i).y);
        const b = pl.getBBox();
        s.bbox_w = b.width; s.bbox_h = b.height;
      }
      p.series.push(s);
    }
    for (const b of svg.querySelectorAll("rect.bar"))
      p.bars.push({ kind: b.getAttribute("data-kind"), count: +b.getAttribute("data-count"),
                    height: b.getBBox().height });
    out.plots.push(p);
  }
  for (const t of document.querySelectorAll("table")) {
    const k = t.className || "(none)";
    out.tables[k] = (out.tables[k] || 0) + t.querySelectorAll("tbody tr").length;
  }
  for (const tr of document.querySelectorAll("tr.suspect")) out.suspects.push(+tr.getAttribute("data-rank"));
  out.details = document.querySelectorAll("details").length;
  for (const c of document.querySelectorAll("svg.plot circle")) if (c.querySelector("title")) out.circles_with_title++;
  // Anything that could make the browser fetch: elements with a URL-valued
  // attribute that is not an in-page anchor, style sheets that are not
  // inline, CSS rules with url() or @import, scripts other than this probe.
  const ext = [];
  for (const e of document.querySelectorAll("[src], [srcset], [data], [poster], [background], link, object, embed, iframe"))
    ext.push(e.tagName);
  for (const e of document.querySelectorAll("[href], [*|href]")) {
    const h = e.getAttribute("href") || e.getAttributeNS("http://www.w3.org/1999/xlink", "href") || "";
    if (!h.startsWith("#")) ext.push(e.tagName + " href=" + h);
  }
  for (const sh of document.styleSheets) {
    if (sh.href) ext.push("stylesheet " + sh.href);
    for (const rule of sh.cssRules) if (/url\(|@import/.test(rule.cssText)) ext.push("css " + rule.cssText.slice(0, 80));
  }
  for (const e of document.querySelectorAll("[style]"))
    if (/url\(|@import/.test(e.getAttribute("style"))) ext.push(e.tagName + " style=" + e.getAttribute("style"));
  for (const sc of document.querySelectorAll("script")) if (sc.id !== "convfix-probe-script") ext.push("script");
  // The repair log as the browser styles it; ids and in-page links.
  out.repairs = [];
  for (const tr of document.querySelectorAll("tr.repair"))
    out.repairs.push({ index: tr.getAttribute("data-index"), kept: tr.getAttribute("data-kept"),
                       kept_class: tr.classList.contains("kept"),
                       bg: getComputedStyle(tr.querySelector("td")).backgroundColor });
  const ids = {};
  for (const e of document.querySelectorAll("[id]")) ids[e.id] = (ids[e.id] || 0) + 1;
  out.duplicate_ids = Object.keys(ids).filter(k => ids[k] > 1);
  out.dangling_links = [];
  for (const a of document.querySelectorAll("a[href^='#']"))
    if (!document.getElementById(a.getAttribute("href").slice(1))) out.dangling_links.push(a.getAttribute("href"));
  out.h1 = document.querySelector("h1") ? document.querySelector("h1").textContent : "";
  out.external = ext;
  out.resources = performance.getEntriesByType("resource").length;
  const pre = document.createElement("pre");
  pre.id = "convfix-probe";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script>
"""


def chromium(args, chromium_bin, profile, timeout=180):
    cmd = [chromium_bin, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
           "--disable-extensions", "--disable-background-networking", "--hide-scrollbars",
           "--user-data-dir=" + profile] + args
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    return r


class DomScan(html.parser.HTMLParser):
    """Counts what the serialised DOM holds."""

    def __init__(self):
        super().__init__()
        self.plots = []          # data-plot ids
        self.series = {}         # plot id -> [data-kind]
        self.tables = 0
        self.probe = None
        self._plot = None
        self._in_probe = False
        self._probe_text = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "svg" and "plot" in (a.get("class") or "").split():
            self._plot = a.get("data-plot")
            self.plots.append(self._plot)
            self.series[self._plot] = []
        elif tag == "g" and a.get("class") == "series" and self._plot is not None:
            self.series[self._plot].append(a.get("data-kind"))
        elif tag == "table":
            self.tables += 1
        elif tag == "pre" and a.get("id") == "convfix-probe":
            self._in_probe = True

    def handle_endtag(self, tag):
        if tag == "svg":
            self._plot = None
        elif tag == "pre" and self._in_probe:
            self._in_probe = False
            self.probe = json.loads("".join(self._probe_text))

    def handle_data(self, data):
        if self._in_probe:
            self._probe_text.append(data)


def num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def expected_from(doc):
    """What the page must show, computed from the diagnose document."""
    layers = doc.get("layers") or []
    aa = doc.get("activation_analysis") or {}
    params = sum(1 for L in layers if isinstance(L.get("parameters"), dict) and num(L["parameters"].get("mean_abs_diff")))
    mad, rel = {}, {}
    for L in layers:
        act = L.get("activations")
        if not isinstance(act, dict):
            continue
        for e in act.get("per_image") or []:
            if num(e.get("mean_abs_diff")):
                mad[e["image"]] = mad.get(e["image"], 0) + 1
            if num(e.get("rel_error")):
                rel[e["image"]] = rel.get(e["image"], 0) + 1
    disc = list(aa.get("images_discrepant") or [])
    agree = list(aa.get("images_agreeing") or [])
    order = [i for i in disc if i in mad] + [i for i in agree if i in mad]
    fig = []
    if params:
        fig.append(("parameters", params))
    fig += [("discrepant" if i in disc else "agreeing", mad[i]) for i in order]
    relser = [("discrepant" if i in disc else "agreeing", rel[i]) for i in order if i in rel]
    noise = sum(1 for L in layers if isinstance(L.get("activations"), dict) and num(L["activations"].get("noise_floor")))
    if relser and noise:
        relser.append(("noise", noise))
    cmp = doc.get("compare") or {}
    taus = [im for im in (cmp.get("images") or []) if num(im.get("tau"))]
    suspects = sorted(s["rank"] for s in doc.get("suspects") or [])
    chain = cmp.get("chain") if isinstance(cmp.get("chain"), dict) else None
    return {
        "figure3": fig,
        "relative-error": relser,
        "tau": {"discrepant": sum(1 for im in taus if im.get("top1_agree") is False),
                "agreeing": sum(1 for im in taus if im.get("top1_agree") is True)},
        "suspects": suspects,
        "alignment_rows": len((doc.get("alignment") or {}).get("rows") or []),
        "layers": len(layers),
        "pairs": len(cmp.get("pairs") or []),
        "chain_rows": len(chain.get("rows") or []) if chain and chain.get("applies", True) else None,
    }


def check_probe(name, probe, exp):
    check(probe["external"] == [], f"{name}: the page refers to outside resources: {probe['external'][:5]}")
    check(probe["resources"] == 0, f"{name}: the page made the browser fetch {probe['resources']} resources")
    plots = {p["id"]: p for p in probe["plots"]}
    for pid in ("figure3", "relative-error"):
        want = exp[pid]
        if not want:
            check(pid not in plots, f"{name}: plot {pid} drawn with nothing to show")
            continue
        check(pid in plots, f"{name}: plot {pid} missing")
        if pid not in plots:
            continue
        p = plots[pid]
        check(p["svg_ns"], f"{name}: {pid} is not an SVG element in the browser")
        check(p["width"] >= 500 and p["height"] >= 300, f"{name}: {pid} laid out at {p['width']}x{p['height']}")
        got = [(s["kind"], s["points"]) for s in p["series"]]
        check(got == want, f"{name}: {pid} series (kind, points) {got}, expected {want}")
        for s in p["series"]:
            check(s["polylines"] == 1, f"{name}: {pid} series {s['name']} has {s['polylines']} polylines")
            if s["points"] > 1 and len(set(s["ys"])) > 1:
                check(s["bbox_w"] > 0 and s["bbox_h"] > 0, f"{name}: {pid} series {s['name']} has an empty box")
    tau_total = exp["tau"]["discrepant"] + exp["tau"]["agreeing"]
    if tau_total:
        check("tau-histogram" in plots, f"{name}: tau histogram missing")
        if "tau-histogram" in plots:
            bars = plots["tau-histogram"]["bars"]
            for kind in ("discrepant", "agreeing"):
                n = sum(b["count"] for b in bars if b["kind"] == kind)
                check(n == exp["tau"][kind], f"{name}: tau histogram {kind} {n}, expected {exp['tau'][kind]}")
            check(all(b["height"] > 0 for b in bars), f"{name}: a histogram bar has no height")
    else:
        check("tau-histogram" not in plots, f"{name}: tau histogram drawn without any tau")
    check(probe["suspects"] == exp["suspects"], f"{name}: suspects in page order {probe['suspects']}, expected {exp['suspects']}")
    t = probe["tables"]
    check(t.get("alignment", 0) >= exp["alignment_rows"], f"{name}: alignment rows {t.get('alignment')}, expected {exp['alignment_rows']}")
    check(t.get("layers", 0) >= exp["layers"], f"{name}: layer rows {t.get('layers')}, expected {exp['layers']}")
    check(t.get("pairs", 0) == exp["pairs"], f"{name}: pair rows {t.get('pairs')}, expected {exp['pairs']}")
    if exp["chain_rows"] is not None:
        # + 1 for the first-changed count row
        check(t.get("chain", 0) == exp["chain_rows"] + 1, f"{name}: chain rows {t.get('chain')}, expected {exp['chain_rows'] + 1}")
    check(probe["details"] > 0, f"{name}: no collapsible section")
    pts = sum(s["points"] for p in probe["plots"] if p["id"] == "figure3" for s in p["series"])
    check(probe["circles_with_title"] >= pts, f"{name}: {probe['circles_with_title']} tooltips for {pts} figure-3 points")


def expected_repair(doc):
    """What the repair page must show beyond its embedded diagnosis."""
    def plottable(L):
        r = L.get("row")
        return isinstance(r, int) and not isinstance(r, bool) and 0 <= r < 100000
    layers = [L for L in doc.get("layers") or [] if isinstance(L, dict) and plottable(L)]
    series = []
    for key, kind in (("rel_error_before", "before"), ("rel_error_after", "after")):
        n = sum(1 for L in layers if num(L.get(key)))
        if n:
            series.append((kind, n))
    reps = sorted(doc.get("repairs") or [], key=lambda r: r.get("index", 1 << 62))
    log = [(str(r["index"]), "yes" if r.get("kept") is True else "no" if r.get("kept") is False else "unknown")
           for r in reps]
    return {"repair-layers": series, "log": log}


def check_repair(name, probe, exp):
    check(probe["h1"] == "convfix repair report", f"{name}: page heading {probe['h1']!r}")
    plots = {p["id"]: p for p in probe["plots"]}
    check("repair-layers" in plots, f"{name}: before/after plot missing")
    if "repair-layers" in plots:
        p = plots["repair-layers"]
        check(p["svg_ns"] and p["width"] >= 500 and p["height"] >= 300,
              f"{name}: repair-layers laid out at {p['width']}x{p['height']}")
        got = [(s["kind"], s["points"]) for s in p["series"]]
        check(got == exp["repair-layers"], f"{name}: repair-layers series {got}, expected {exp['repair-layers']}")
        for s in p["series"]:
            check(s["polylines"] == 1, f"{name}: repair-layers series {s['name']} has {s['polylines']} polylines")
            # A flat series (e.g. every error 0 after repair) has a box of height 0.
            if s["points"] > 1 and len(set(s["ys"])) > 1:
                check(s["bbox_w"] > 0 and s["bbox_h"] > 0,
                      f"{name}: repair-layers series {s['name']} has an empty box {s['bbox_w']}x{s['bbox_h']}")
    got = [(r["index"], r["kept"]) for r in probe["repairs"]]
    check(got == exp["log"], f"{name}: repair log rows {got}, expected {exp['log']}")
    for r in probe["repairs"]:
        check(r["kept_class"] == (r["kept"] == "yes"), f"{name}: log row {r['index']}: class and data-kept disagree")
    kept_bg = {r["bg"] for r in probe["repairs"] if r["kept"] == "yes"}
    other_bg = {r["bg"] for r in probe["repairs"] if r["kept"] != "yes"}
    check(len(kept_bg) == 1 and not (kept_bg & other_bg) and "rgba(0, 0, 0, 0)" not in kept_bg,
          f"{name}: kept rows are not painted apart: kept {kept_bg}, others {other_bg}")
    check(probe["duplicate_ids"] == [], f"{name}: duplicate element ids {probe['duplicate_ids'][:5]}")
    check(probe["dangling_links"] == [], f"{name}: links without a target {probe['dangling_links'][:5]}")


def check_screenshot(png, name, green=False):
    from PIL import Image
    im = Image.open(png).convert("RGB")
    w, h = im.size
    px = im.load()
    step = 2
    total = nonwhite = red = blue = greens = 0
    colours = set()
    for y in range(0, h, step):
        for x in range(0, w, step):
            r, g, b = px[x, y]
            total += 1
            if r < 235 or g < 235 or b < 235:
                nonwhite += 1
            colours.add((r >> 4, g >> 4, b >> 4))
            if r > 150 and g < 90 and b < 90:
                red += 1
            if b > 130 and r < 90 and b > g + 30:
                blue += 1
            if g > 100 and r < 80 and b < 90 and g > r + 50:
                greens += 1
    print(f"{name}: screenshot {w}x{h}: {100.0 * nonwhite / total:.1f}% non-white, {len(colours)} colours, "
          f"{red} red, {blue} blue and {greens} green samples")
    check(nonwhite > 0.03 * total, f"{name}: screenshot is (nearly) blank: {nonwhite}/{total} non-white samples")
    check(len(colours) > 20, f"{name}: screenshot has only {len(colours)} colours")
    check(red > 50, f"{name}: no red (discrepant series / verdict) in the screenshot")
    check(blue > 20, f"{name}: no blue (agreeing / after-repair series) in the screenshot")
    if green:
        check(greens > 50, f"{name}: no green (kept change, verdict) in the screenshot")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tool", required=True, help="convfix_report_tool")
    ap.add_argument("--fixtures", required=True, help="tests/report")
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    ap.add_argument("--keep", help="write the pages and the screenshot to this folder")
    a = ap.parse_args()
    if not os.path.exists(a.chromium):
        print(f"SKIP: {a.chromium} is missing (Debian package chromium; scripts/setup installs it)")
        return 77
    try:
        import PIL  # noqa: F401
    except ImportError:
        print("SKIP: PIL (python3-pil) is missing")
        return 77
    tmp = tempfile.mkdtemp(prefix="convfix_report_")
    try:
        out = a.keep or tmp
        os.makedirs(out, exist_ok=True)
        profile = os.path.join(tmp, "profile")
        for fx in ("discrepant", "faithful", "cannot_run", "repair"):
            src = os.path.join(a.fixtures, fx + ".json")
            page = os.path.join(out, fx + ".html")
            r = subprocess.run([a.tool, src, page], capture_output=True, text=True)
            check(r.returncode == 0, f"{fx}: convfix_report_tool failed: {r.stderr.strip()}")
            if r.returncode != 0:
                continue
            with open(src) as f:
                doc = json.load(f)
            repair = doc.get("command") == "repair"
            # A repair page embeds the whole diagnose page of its "diagnosis".
            exp = expected_from(doc["diagnosis"] if repair else doc)
            with open(page, encoding="utf-8") as f:
                text = f.read()
            probed = os.path.join(tmp, fx + ".probe.html")
            with open(probed, "w", encoding="utf-8") as f:
                f.write(text.replace("</body>", PROBE + "</body>"))
            r = chromium(["--dump-dom", "file://" + probed], a.chromium, profile)
            scan = DomScan()
            scan.feed(r.stdout)
            check(scan.probe is not None, f"{fx}: Chromium's DOM has no probe output (rc {r.returncode}): "
                  f"{r.stderr.strip()[-300:]}")
            if scan.probe is not None:
                check_probe(fx, scan.probe, exp)
                if repair:
                    check_repair(fx, scan.probe, expected_repair(doc))
                else:
                    check(scan.probe["h1"] == "convfix diagnose report", f"{fx}: page heading {scan.probe['h1']!r}")
                    check(scan.probe["repairs"] == [], f"{fx}: a diagnose page has repair log rows")
                    check(scan.probe["duplicate_ids"] == [], f"{fx}: duplicate element ids {scan.probe['duplicate_ids'][:5]}")
                    check(scan.probe["dangling_links"] == [], f"{fx}: links without a target {scan.probe['dangling_links'][:5]}")
                print(f"{fx}: {len(scan.probe['plots'])} plots, series "
                      f"{[(p['id'], [(s['kind'], s['points']) for s in p['series']]) for p in scan.probe['plots']]}, "
                      f"tables {scan.probe['tables']}, outside references {len(scan.probe['external'])}", flush=True)
            if fx == "discrepant":
                # The page itself, no script: the DOM Chromium serialises.
                r = chromium(["--dump-dom", "file://" + page], a.chromium, profile)
                plain = DomScan()
                plain.feed(r.stdout)
                check(plain.plots == ["figure3", "relative-error", "tau-histogram"],
                      f"{fx}: plots in Chromium's DOM {plain.plots}")
                check(len(plain.series.get("figure3", [])) == len(exp["figure3"]),
                      f"{fx}: figure3 series in Chromium's DOM {plain.series.get('figure3')}")
                check(plain.tables >= 8, f"{fx}: {plain.tables} tables in Chromium's DOM")
                png = os.path.join(out, fx + ".png")
                r = chromium(["--window-size=1400,3400", "--screenshot=" + png, "file://" + page], a.chromium, profile)
                check(os.path.exists(png), f"{fx}: no screenshot written: {r.stderr.strip()[-300:]}")
                if os.path.exists(png):
                    check_screenshot(png, fx)
            if repair:
                r = chromium(["--dump-dom", "file://" + page], a.chromium, profile)
                plain = DomScan()
                plain.feed(r.stdout)
                check(plain.plots == ["repair-layers", "figure3", "relative-error", "tau-histogram"],
                      f"{fx}: plots in Chromium's DOM {plain.plots}")
                check(plain.series.get("repair-layers") == ["before", "after"],
                      f"{fx}: repair-layers series in Chromium's DOM {plain.series.get('repair-layers')}")
                png = os.path.join(out, fx + ".png")
                r = chromium(["--window-size=1400,2200", "--screenshot=" + png, "file://" + page], a.chromium, profile)
                check(os.path.exists(png), f"{fx}: no screenshot written: {r.stderr.strip()[-300:]}")
                if os.path.exists(png):
                    check_screenshot(png, fx, green=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print(f"{len(failures)} failure(s)")
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
