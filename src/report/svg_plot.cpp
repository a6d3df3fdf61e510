// Inline SVG plots for the diagnose report (contract in report/svg_plot.h).
#include "report/svg_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "report/html.h"

namespace convfix::report {

namespace {

std::string f1(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string decade_label(int e) {
  if (e == 0) return "1";
  if (e == 1) return "10";
  if (e == 2) return "100";
  return "1e" + std::to_string(e);
}

// Cuts plain text to about n characters (on a UTF-8 boundary).
std::string shorten(const std::string& s, size_t n) {
  if (s.size() <= n) return s;
  size_t k = n;
  while (k > 0 && (static_cast<unsigned char>(s[k]) & 0xC0) == 0x80) --k;
  return s.substr(0, k) + "…";
}

std::string text(double x, double y, const std::string& s, const char* anchor, const char* cls,
                 const std::string& extra = "") {
  return "<text x=\"" + f1(x) + "\" y=\"" + f1(y) + "\" text-anchor=\"" + anchor + "\" class=\"" + cls + "\"" +
         extra + ">" + escape(s) + "</text>";
}

// Legend under a plot: swatches in columns; returns its height.
double legend(std::string& out, double x0, double y0, double width,
              const std::vector<std::pair<std::string, std::string>>& entries,  // (name, swatch svg at 0,0)
              const std::vector<std::string>& full_names) {
  if (entries.empty()) return 0;
  const double col_w = 240, row_h = 18;
  const int cols = std::max(1, static_cast<int>(width / col_w));
  out += "<g class=\"legend\">";
  for (size_t i = 0; i < entries.size(); ++i) {
    const double x = x0 + static_cast<double>(i % static_cast<size_t>(cols)) * col_w;
    const double y = y0 + static_cast<double>(i / static_cast<size_t>(cols)) * row_h;
    out += "<g class=\"legend-entry\" transform=\"translate(" + f1(x) + "," + f1(y) + ")\"><title>" +
           escape(full_names[i]) + "</title>" + entries[i].second +
           text(26, 4, shorten(entries[i].first, 34), "start", "legend-text") + "</g>";
  }
  out += "</g>";
  const size_t rows = (entries.size() + static_cast<size_t>(cols) - 1) / static_cast<size_t>(cols);
  return static_cast<double>(rows) * row_h + 6;
}

double nice_step(double raw) {
  const double mag = std::pow(10.0, std::floor(std::log10(std::max(raw, 1e-9))));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * mag >= raw) return m * mag;
  return 10 * mag;
}

}  // namespace

std::string render_log_plot(const LogPlot& p, LogPlotInfo* info) {
  const int64_t rows = std::max<int64_t>(p.rows, 1);
  // Value range over positive values and horizontal lines.
  double vmin = HUGE_VAL, vmax = -HUGE_VAL;
  int zeros = 0;
  for (const auto& s : p.series)
    for (const auto& [r, v] : s.points) {
      if (v > 0) { vmin = std::min(vmin, v); vmax = std::max(vmax, v); }
      else ++zeros;
    }
  for (const auto& h : p.hlines)
    if (h.value > 0) { vmin = std::min(vmin, h.value); vmax = std::max(vmax, h.value); }
  int lo = -7, hi = 0;
  if (vmin <= vmax) {
    lo = static_cast<int>(std::floor(std::log10(vmin)));
    hi = static_cast<int>(std::ceil(std::log10(vmax)));
    if (hi <= lo) hi = lo + 1;
  }
  if (info) { info->zero_points = zeros; info->decade_lo = lo; info->decade_hi = hi; }

  // Geometry.
  const double left = 78, right = 24, top = 48, ph = 300, zero_gap = 22;
  const double ppr = std::clamp(1000.0 / static_cast<double>(rows), 3.0, 28.0);
  const double pw = std::max(600.0, ppr * static_cast<double>(rows));
  const double slot = pw / static_cast<double>(rows);
  const double zero_y = top + ph + zero_gap;
  const double axis_y = zero_y + 12;
  const double width = left + pw + right;
  auto X = [&](double row) { return left + (row + 0.5) * slot; };
  auto Y = [&](double v) {
    if (!(v > 0)) return zero_y;
    const double t = (static_cast<double>(hi) - std::log10(v)) / static_cast<double>(hi - lo);
    return top + std::clamp(t, 0.0, 1.0) * ph;
  };

  // Legend entries (drawn last, height needed first).
  std::vector<std::pair<std::string, std::string>> entries;
  std::vector<std::string> full;
  for (const auto& s : p.series) {
    std::string sw = "<line x1=\"0\" y1=\"0\" x2=\"20\" y2=\"0\" stroke=\"" + s.color + "\" stroke-width=\"" +
                     f1(std::max(2.0, s.width)) + "\"" + (s.dashed ? " stroke-dasharray=\"5 3\"" : "") + "/>";
    entries.emplace_back(s.name, sw);
    full.push_back(s.name + " (" + std::to_string(s.points.size()) + " points)");
  }
  for (const auto& h : p.hlines) {
    entries.emplace_back(h.label, "<line x1=\"0\" y1=\"0\" x2=\"20\" y2=\"0\" stroke=\"" + h.color +
                                      "\" stroke-width=\"1.5\" stroke-dasharray=\"2 3\"/>");
    full.push_back(h.label);
  }
  std::string leg;
  const double legend_top = axis_y + 48;
  const double legend_h = legend(leg, left, legend_top, pw, entries, full);
  const double height = legend_top + legend_h + 4;

  std::string o;
  size_t points = 0;
  for (const auto& s : p.series) points += s.points.size();
  o.reserve(8192 + 64 * static_cast<size_t>(std::min<int64_t>(rows, 1 << 20)) + 160 * points);
  o += "<svg class=\"plot log-plot\" data-plot=\"" + escape(p.id) + "\" data-rows=\"" + std::to_string(rows) +
       "\" width=\"" + f1(width) + "\" height=\"" + f1(height) + "\" viewBox=\"0 0 " + f1(width) + " " + f1(height) +
       "\" role=\"img\"><title>" + escape(p.title) + "</title>";
  o += "<rect x=\"" + f1(left) + "\" y=\"" + f1(top) + "\" width=\"" + f1(pw) + "\" height=\"" + f1(ph) +
       "\" class=\"plot-bg\"/>";
  // Y decades: grid, ticks, labels.
  const int span = hi - lo;
  const int label_step = span > 10 ? (span + 9) / 10 : 1;
  for (int e = lo; e <= hi; ++e) {
    const double y = Y(std::pow(10.0, e));
    o += "<line x1=\"" + f1(left) + "\" y1=\"" + f1(y) + "\" x2=\"" + f1(left + pw) + "\" y2=\"" + f1(y) +
         "\" class=\"grid\"/>";
    o += "<line x1=\"" + f1(left - 5) + "\" y1=\"" + f1(y) + "\" x2=\"" + f1(left) + "\" y2=\"" + f1(y) +
         "\" class=\"tick\"/>";
    if ((e - lo) % label_step == 0) o += text(left - 8, y + 4, decade_label(e), "end", "tick-label");
  }
  // The zero lane.
  o += "<line x1=\"" + f1(left) + "\" y1=\"" + f1(zero_y) + "\" x2=\"" + f1(left + pw) + "\" y2=\"" + f1(zero_y) +
       "\" class=\"zero-lane\"><title>values of 0 (no place on a log scale) are drawn on this line</title></line>";
  o += text(left - 8, zero_y + 4, "0", "end", "tick-label");
  // Axes.
  o += "<line x1=\"" + f1(left) + "\" y1=\"" + f1(top) + "\" x2=\"" + f1(left) + "\" y2=\"" + f1(axis_y) +
       "\" class=\"axis\"/>";
  o += "<line x1=\"" + f1(left) + "\" y1=\"" + f1(axis_y) + "\" x2=\"" + f1(left + pw) + "\" y2=\"" + f1(axis_y) +
       "\" class=\"axis\"/>";
  // X ticks.
  const double step = std::max(1.0, nice_step(static_cast<double>(rows) / std::max(2.0, std::floor(pw / 70))));
  for (double r = 0; r < static_cast<double>(rows); r += step) {
    const double x = X(r);
    o += "<line x1=\"" + f1(x) + "\" y1=\"" + f1(axis_y) + "\" x2=\"" + f1(x) + "\" y2=\"" + f1(axis_y + 5) +
         "\" class=\"tick\"/>";
    o += text(x, axis_y + 18, std::to_string(static_cast<int64_t>(r)), "middle", "tick-label");
  }
  o += text(left + pw / 2, axis_y + 36, p.x_label, "middle", "axis-label");
  o += text(16, top + ph / 2, p.y_label, "middle", "axis-label",
            " transform=\"rotate(-90 16 " + f1(top + ph / 2) + ")\"");
  o += text(left, 16, p.title, "start", "plot-title");
  // Horizontal lines.
  for (const auto& h : p.hlines) {
    if (!(h.value > 0)) continue;
    const double y = Y(h.value);
    o += "<line x1=\"" + f1(left) + "\" y1=\"" + f1(y) + "\" x2=\"" + f1(left + pw) + "\" y2=\"" + f1(y) +
         "\" class=\"hline\" stroke=\"" + h.color + "\"><title>" + escape(h.label) + "</title></line>";
  }
  // Markers.
  for (const auto& m : p.markers) {
    const double x = X(m.row);
    if (m.line) {
      o += "<g class=\"marker\"><title>" + escape(m.label) + "</title><line x1=\"" + f1(x) + "\" y1=\"" + f1(top) +
           "\" x2=\"" + f1(x) + "\" y2=\"" + f1(zero_y) + "\" stroke=\"" + m.color +
           "\" stroke-width=\"1.5\" stroke-dasharray=\"6 3\"/>";
      const char* anchor = x < left + 80 ? "start" : (x > left + pw - 80 ? "end" : "middle");
      o += text(x, top - 6, shorten(m.label, 48), anchor, "marker-label", " fill=\"" + m.color + "\"");
      o += "</g>";
    } else {
      o += "<path class=\"spike\" d=\"M" + f1(x - 5) + " " + f1(top + 1) + " L" + f1(x + 5) + " " + f1(top + 1) +
           " L" + f1(x) + " " + f1(top + 9) + " Z\" fill=\"" + m.color + "\"><title>" + escape(m.label) +
           "</title></path>";
    }
  }
  // Series.
  for (const auto& s : p.series) {
    o += "<g class=\"series\" data-kind=\"" + escape(s.kind) + "\" data-series=\"" + escape(s.name) + "\"><title>" +
         escape(s.name) + "</title>";
    std::string pts;
    for (const auto& [r, v] : s.points) {
      if (!pts.empty()) pts += ' ';
      pts += f1(X(r)) + "," + f1(Y(v));
    }
    o += "<polyline points=\"" + pts + "\" data-points=\"" + std::to_string(s.points.size()) + "\" fill=\"none\" stroke=\"" +
         s.color + "\" stroke-width=\"" + f1(s.width) + "\"" + (s.dashed ? " stroke-dasharray=\"5 3\"" : "") +
         " stroke-linejoin=\"round\"/>";
    if (s.markers) {
      const double rad = slot >= 8 ? 3.2 : 2.2;
      for (size_t i = 0; i < s.points.size(); ++i) {
        const auto& [r, v] = s.points[i];
        const bool z = !(v > 0);
        o += "<circle cx=\"" + f1(X(r)) + "\" cy=\"" + f1(Y(v)) + "\" r=\"" + f1(rad) + "\" fill=\"" +
             (z ? std::string("white") : s.color) + "\" stroke=\"" + s.color + "\">";
        if (i < s.tooltips.size()) o += "<title>" + escape(s.tooltips[i]) + "</title>";
        o += "</circle>";
      }
    }
    o += "</g>";
  }
  o += leg;
  o += "</svg>";
  return o;
}

std::string render_histogram(const Histogram& h) {
  const size_t nb = std::max<size_t>(h.bins.size(), 1);
  int max_total = 1;
  for (const auto& b : h.bins) {
    int t = 0;
    for (int c : b.counts) t += std::max(c, 0);
    max_total = std::max(max_total, t);
  }
  const double left = 60, right = 20, top = 34, ph = 200;
  const double bw = std::clamp(560.0 / static_cast<double>(nb), 14.0, 40.0);
  const double pw = bw * static_cast<double>(nb);
  const double axis_y = top + ph;
  const double width = left + pw + right;
  std::vector<std::pair<std::string, std::string>> entries;
  std::vector<std::string> full;
  // Legend: the categories that occur.
  for (size_t c = 0; c < h.categories.size(); ++c) {
    int total = 0;
    for (const auto& b : h.bins)
      if (c < b.counts.size()) total += std::max(b.counts[c], 0);
    if (total == 0) continue;
    entries.emplace_back(h.categories[c].name,
                         "<rect x=\"0\" y=\"-6\" width=\"20\" height=\"12\" fill=\"" + h.categories[c].color + "\"/>");
    full.push_back(h.categories[c].name + " (" + std::to_string(total) + ")");
  }
  std::string leg;
  const double legend_top = axis_y + 52;
  const double legend_h = legend(leg, left, legend_top, std::max(pw, 480.0), entries, full);
  const double height = legend_top + legend_h + 4;
  const double total_w = std::max(width, left + 480 + right);
  auto Y = [&](double c) { return axis_y - c / static_cast<double>(max_total) * ph; };

  std::string o;
  o += "<svg class=\"plot histogram\" data-plot=\"" + escape(h.id) + "\" width=\"" + f1(total_w) + "\" height=\"" +
       f1(height) + "\" viewBox=\"0 0 " + f1(total_w) + " " + f1(height) + "\" role=\"img\"><title>" + escape(h.title) +
       "</title>";
  o += "<rect x=\"" + f1(left) + "\" y=\"" + f1(top) + "\" width=\"" + f1(pw) + "\" height=\"" + f1(ph) +
       "\" class=\"plot-bg\"/>";
  const double ystep = std::max(1.0, nice_step(static_cast<double>(max_total) / 5));
  for (double c = 0; c <= max_total + 1e-9; c += ystep) {
    const double y = Y(c);
    o += "<line x1=\"" + f1(left) + "\" y1=\"" + f1(y) + "\" x2=\"" + f1(left + pw) + "\" y2=\"" + f1(y) +
         "\" class=\"grid\"/>";
    o += text(left - 8, y + 4, std::to_string(static_cast<int64_t>(c)), "end", "tick-label");
  }
  for (size_t i = 0; i < h.bins.size(); ++i) {
    const auto& b = h.bins[i];
    const double x = left + static_cast<double>(i) * bw;
    double acc = 0;
    for (size_t c = 0; c < b.counts.size() && c < h.categories.size(); ++c) {
      if (b.counts[c] <= 0) continue;
      const double y0 = Y(acc), y1 = Y(acc + b.counts[c]);
      o += "<rect class=\"bar\" data-kind=\"" + escape(h.categories[c].kind) + "\" data-count=\"" +
           std::to_string(b.counts[c]) + "\" x=\"" + f1(x + 1) + "\" y=\"" + f1(y1) + "\" width=\"" + f1(bw - 2) +
           "\" height=\"" + f1(y0 - y1) + "\" fill=\"" + h.categories[c].color + "\"><title>" +
           escape(b.tooltip + ": " + std::to_string(b.counts[c]) + " " + h.categories[c].name) + "</title></rect>";
      acc += b.counts[c];
    }
    // Tick labels: every bin when they fit, else every other one.
    const bool label = bw >= 28 || i % 2 == 0 || i + 1 == h.bins.size();
    if (label)
      o += text(x + bw / 2, axis_y + 16, b.label, "middle", "tick-label", bw < 28 ? " font-size=\"9\"" : "");
  }
  o += "<line x1=\"" + f1(left) + "\" y1=\"" + f1(top) + "\" x2=\"" + f1(left) + "\" y2=\"" + f1(axis_y) +
       "\" class=\"axis\"/>";
  o += "<line x1=\"" + f1(left) + "\" y1=\"" + f1(axis_y) + "\" x2=\"" + f1(left + pw) + "\" y2=\"" + f1(axis_y) +
       "\" class=\"axis\"/>";
  o += text(left + pw / 2, axis_y + 36, h.x_label, "middle", "axis-label");
  o += text(16, top + ph / 2, h.y_label, "middle", "axis-label",
            " transform=\"rotate(-90 16 " + f1(top + ph / 2) + ")\"");
  o += text(left, top - 12, h.title, "start", "plot-title");
  o += leg;
  o += "</svg>";
  return o;
}

}  // namespace convfix::report
