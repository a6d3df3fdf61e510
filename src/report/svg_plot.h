// report/svg_plot.h — the report's plots, drawn as inline SVG by hand: a
// line plot over aligned layer rows with a log-scale y axis, and a stacked
// histogram. No script, no external resource; tooltips are SVG <title>s.
//
// Log plot contract:
// - x: rows 0 .. rows-1, one slot each; the drawing grows with the row count
//   (at least 3 px per row) so large models stay readable (scroll sideways).
// - y: log10, from the decade below the smallest positive value to the
//   decade above the largest (values and horizontal lines together).
//   A value <= 0 has no place on a log scale: it is drawn on a separate
//   lane labelled "0" under the axis, with a hollow marker, and counted in
//   LogPlotInfo::zero_points. Non-finite values must not be passed.
// - Each series is one <g class="series" data-kind=... data-series=...>
//   holding one <polyline> with exactly one "x,y" pair per point (in the
//   order given; data-points says how many) and one marker per point.
// - Every text comes in plain and is escaped here.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace convfix::report {

struct PlotSeries {
  std::string name;                               // legend text
  std::string kind;                               // data-kind: parameters, discrepant, agreeing, noise, ...
  std::string color;                              // CSS colour
  bool dashed = false;
  bool markers = true;
  double width = 1.5;
  std::vector<std::pair<double, double>> points;  // (row, value)
  std::vector<std::string> tooltips;              // one per point (may be shorter: no tooltip)
};

struct PlotMarker {                               // a row singled out
  double row = 0;
  std::string label;
  std::string color;
  bool line = true;                               // full-height line, else a small triangle at the top
};

struct PlotHLine {
  double value = 0;
  std::string label;
  std::string color;
};

struct LogPlot {
  std::string id;                                 // data-plot attribute
  std::string title, x_label, y_label;
  int64_t rows = 0;
  std::vector<PlotSeries> series;
  std::vector<PlotMarker> markers;
  std::vector<PlotHLine> hlines;
};

struct LogPlotInfo {
  int zero_points = 0;                            // values <= 0 drawn on the "0" lane
  int decade_lo = 0, decade_hi = 0;               // the y axis spans 10^lo .. 10^hi
};

std::string render_log_plot(const LogPlot& plot, LogPlotInfo* info = nullptr);

struct HistCategory {
  std::string name, kind, color;
};

struct HistBin {
  std::string label;                              // x tick text
  std::vector<int> counts;                        // one per category, stacked in order
  std::string tooltip;
};

struct Histogram {
  std::string id, title, x_label, y_label;
  std::vector<HistCategory> categories;
  std::vector<HistBin> bins;
};

// One <rect class="bar" data-kind=... data-count=...> per non-zero count.
std::string render_histogram(const Histogram& h);

}  // namespace convfix::report
