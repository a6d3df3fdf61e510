// The diagnose report page (convfix/report.h), rendered from the hand-written
// diagnose documents in tests/report/*.json. The properties checked are read
// back from the page itself (the SVG's points, the tables' rows) and set
// against the values in the fixture.
#include "convfix/report.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "convfix/fileio.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// tests/cmake/report.cmake defines the folder; __FILE__ is a fallback when run from the source tree.
#ifdef CONVFIX_REPORT_FIXTURE_DIR
fs::path fixture_dir() { return fs::path(CONVFIX_REPORT_FIXTURE_DIR); }
#else
fs::path fixture_dir() { return fs::path(__FILE__).parent_path().parent_path() / "report"; }
#endif

json load_fixture(const std::string& name) {
  std::ifstream f(fixture_dir() / name);
  EXPECT_TRUE(f.good()) << "missing fixture " << (fixture_dir() / name);
  std::stringstream ss;
  ss << f.rdbuf();
  json j = json::parse(ss.str(), nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << name << " is not valid JSON";
  return j.is_discarded() ? json::object() : j;
}

std::string render_ok(const json& j) {
  auto r = convfix::render_html_report(j);
  EXPECT_TRUE(r.ok()) << r.status().to_string();
  return r.ok() ? r.value() : std::string();
}

// The five characters the page must escape (written out here, not taken from the library).
std::string html_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      case '\'': o += "&#39;"; break;
      default: o += c;
    }
  }
  return o;
}

size_t count(const std::string& hay, const std::string& needle) {
  size_t n = 0;
  for (size_t p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + needle.size())) ++n;
  return n;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// The <svg ...> element whose data-plot is `id` ("" when absent).
std::string svg_of(const std::string& page, const std::string& id) {
  const size_t a = page.find("<svg class=\"plot");
  for (size_t p = a; p != std::string::npos; p = page.find("<svg class=\"plot", p + 1)) {
    const size_t end = page.find("</svg>", p);
    const size_t tag_end = page.find('>', p);
    if (page.substr(p, tag_end - p).find("data-plot=\"" + id + "\"") != std::string::npos)
      return page.substr(p, end + 6 - p);
  }
  return "";
}

struct Series {
  std::string kind, name;
  int polylines = 0;
  std::vector<std::pair<double, double>> pts;  // (x, y) in SVG coordinates
  int declared = -1;
};

std::vector<Series> series_of(const std::string& svg) {
  std::vector<Series> out;
  static const std::regex head(R"re(<g class="series" data-kind="([^"]*)" data-series="([^"]*)">)re");
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), head); it != std::sregex_iterator(); ++it) {
    Series s;
    s.kind = (*it)[1];
    s.name = (*it)[2];
    const size_t start = static_cast<size_t>(it->position()) + static_cast<size_t>(it->length());
    const std::string body = svg.substr(start, svg.find("</g>", start) - start);
    s.polylines = static_cast<int>(count(body, "<polyline "));
    std::smatch m;
    static const std::regex poly(R"re(<polyline points="([^"]*)" data-points="(\d+)")re");
    if (std::regex_search(body, m, poly)) {
      s.declared = std::stoi(m[2]);
      std::stringstream ss(m[1].str());
      std::string pair;
      while (ss >> pair) {
        const size_t c = pair.find(',');
        s.pts.emplace_back(std::stod(pair.substr(0, c)), std::stod(pair.substr(c + 1)));
      }
    }
    out.push_back(s);
  }
  return out;
}

// The fixture's values of one series, in row order: (row, value).
std::vector<std::pair<int, double>> fixture_values(const json& doc, const std::string& kind, int image) {
  std::vector<std::pair<int, double>> v;
  for (const auto& L : doc["layers"]) {
    const int row = L["row"].get<int>();
    if (kind == "parameters") {
      if (L["parameters"].is_object() && L["parameters"]["mean_abs_diff"].is_number())
        v.emplace_back(row, L["parameters"]["mean_abs_diff"].get<double>());
    } else if (L["activations"].is_object()) {
      for (const auto& e : L["activations"]["per_image"])
        if (e["image"].get<int>() == image && e[kind].is_number()) v.emplace_back(row, e[kind].get<double>());
    }
  }
  return v;
}

// Checks that the drawn y order follows the values' order (SVG y grows
// downwards), that zeros are drawn below every positive value and x follows rows.
void expect_log_monotone(const std::vector<std::pair<int, double>>& vals, const std::vector<std::pair<double, double>>& pts,
                         const std::string& what) {
  ASSERT_EQ(vals.size(), pts.size()) << what;
  for (size_t i = 0; i < vals.size(); ++i) {
    for (size_t j = 0; j < vals.size(); ++j) {
      const double a = vals[i].second, b = vals[j].second;
      if (vals[i].first < vals[j].first) {
        EXPECT_LT(pts[i].first, pts[j].first) << what << " x order";
      }
      if (a > 0 && b > 0 && a < b) {
        EXPECT_GT(pts[i].second, pts[j].second) << what << " values " << a << " < " << b;
      }
      if (a == b) {
        EXPECT_DOUBLE_EQ(pts[i].second, pts[j].second) << what << " equal values";
      }
      if (a == 0 && b > 0) {
        EXPECT_GT(pts[i].second, pts[j].second) << what << " zero below " << b;
      }
    }
  }
  // Log scale: y is an affine function of log10(value) for positive values
  // (one slope for the whole series; coordinates are rounded to 0.1 px).
  size_t lo = vals.size(), hi = vals.size();
  for (size_t i = 0; i < vals.size(); ++i) {
    if (!(vals[i].second > 0)) continue;
    if (lo == vals.size() || vals[i].second < vals[lo].second) lo = i;
    if (hi == vals.size() || vals[i].second > vals[hi].second) hi = i;
  }
  if (lo == vals.size() || vals[lo].second == vals[hi].second) return;
  const double slope = (pts[hi].second - pts[lo].second) / (std::log10(vals[hi].second) - std::log10(vals[lo].second));
  EXPECT_LT(slope, 0) << what;
  for (size_t i = 0; i < vals.size(); ++i) {
    if (!(vals[i].second > 0)) continue;
    const double expected = pts[lo].second + slope * (std::log10(vals[i].second) - std::log10(vals[lo].second));
    EXPECT_NEAR(pts[i].second, expected, 0.15) << what << " value " << vals[i].second;
  }
}

const char* kFixtures[] = {"discrepant.json", "faithful.json", "cannot_run.json"};

}  // namespace

TEST(Report, EveryFixtureRendersAWholeSelfContainedPage) {
  for (const char* f : kFixtures) {
    const std::string page = render_ok(load_fixture(f));
    ASSERT_FALSE(page.empty()) << f;
    EXPECT_EQ(page.rfind("<!DOCTYPE html>", 0), 0u) << f;
    EXPECT_NE(page.find("</html>"), std::string::npos) << f;
    const std::string l = lower(page);
    for (const char* bad : {"http://", "https://", "<script", "<link", " src=\"", "url(", "@import", "<iframe", "<img",
                            "<object", "<embed", "xlink:href"})
      EXPECT_EQ(l.find(bad), std::string::npos) << f << " contains " << bad;
    // Links stay inside the page.
    static const std::regex href(R"re(href="([^"]*)")re");
    for (auto it = std::sregex_iterator(page.begin(), page.end(), href); it != std::sregex_iterator(); ++it)
      EXPECT_EQ((*it)[1].str().rfind("#", 0), 0u) << f << ": " << (*it)[1];
    // Sections in the documented order.
    size_t last = 0;
    for (const char* id : {"verdict", "suspects", "discrepancy", "plots", "tau", "alignment", "layers", "preprocessing",
                           "errors", "timings"}) {
      const size_t p = page.find(std::string("<section id=\"") + id + "\"");
      ASSERT_NE(p, std::string::npos) << f << " lacks section " << id;
      EXPECT_GT(p, last) << f << " section " << id << " out of order";
      last = p;
    }
    EXPECT_EQ(count(page, "<details"), count(page, "</details>")) << f;
    EXPECT_EQ(count(page, "<table"), count(page, "</table>")) << f;
    EXPECT_EQ(count(page, "<svg"), count(page, "</svg>")) << f;
  }
}

TEST(Report, SuspectsAppearInRankOrder) {
  const json doc = load_fixture("discrepant.json");
  const std::string page = render_ok(doc);
  std::vector<int> ranks;
  static const std::regex re(R"re(<tr class="suspect" data-rank="(\d+)">)re");
  for (auto it = std::sregex_iterator(page.begin(), page.end(), re); it != std::sregex_iterator(); ++it)
    ranks.push_back(std::stoi((*it)[1]));
  EXPECT_EQ(ranks, (std::vector<int>{1, 2, 3}));  // the fixture lists them 2, 1, 3
  // Each suspect's explanation and repair appear, in rank order.
  std::map<int, const json*> by_rank;
  for (const auto& s : doc["suspects"]) by_rank[s["rank"].get<int>()] = &s;
  size_t last = page.find("id=\"suspects\"");
  for (const auto& [rank, s] : by_rank) {
    const size_t p = page.find(html_escape((*s)["repair"].get<std::string>()), last);
    ASSERT_NE(p, std::string::npos) << "rank " << rank;
    last = p;
  }
}

TEST(Report, StringsFromTheModelAreEscaped) {
  const std::string page = render_ok(load_fixture("discrepant.json"));
  EXPECT_EQ(lower(page).find("<script"), std::string::npos);
  EXPECT_EQ(page.find("<img"), std::string::npos);
  EXPECT_NE(page.find("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;conv"), std::string::npos);
  EXPECT_NE(page.find("conv&amp;&quot;1&#39;"), std::string::npos);
  EXPECT_NE(page.find("&lt;img src=x onerror=alert(1)&gt;.jpg"), std::string::npos);
  // Also inside SVG tooltips.
  const std::string svg = svg_of(page, "figure3");
  EXPECT_NE(svg.find("&lt;script&gt;"), std::string::npos);
}

TEST(Report, InvalidUtf8AndControlCharactersAreReplaced) {
  json doc = load_fixture("discrepant.json");
  doc["alignment"]["rows"][1]["source_node"] = std::string("a\xff\xfe" "b\x01" "c\xc0\xaf");
  const std::string page = render_ok(doc);
  EXPECT_NE(page.find("a\xEF\xBF\xBD\xEF\xBF\xBD" "b\xEF\xBF\xBD" "c\xEF\xBF\xBD\xEF\xBF\xBD"), std::string::npos);
  EXPECT_EQ(page.find('\xff'), std::string::npos);
}

TEST(Report, Figure3HasOnePolylinePerSeriesWithOnePointPerValue) {
  const json doc = load_fixture("discrepant.json");
  const std::string page = render_ok(doc);
  const std::string svg = svg_of(page, "figure3");
  ASSERT_FALSE(svg.empty());
  const auto series = series_of(svg);
  // Parameters, then the discrepant images in analysis order (2, 0), then the agreeing image 1.
  ASSERT_EQ(series.size(), 4u);
  EXPECT_EQ(series[0].kind, "parameters");
  EXPECT_EQ(series[1].kind, "discrepant");
  EXPECT_NE(series[1].name.find("image 2 "), std::string::npos);
  EXPECT_EQ(series[2].kind, "discrepant");
  EXPECT_NE(series[2].name.find("image 0 "), std::string::npos);
  EXPECT_EQ(series[3].kind, "agreeing");
  EXPECT_NE(series[3].name.find("image 1 "), std::string::npos);
  const int images[] = {-1, 2, 0, 1};
  for (size_t i = 0; i < series.size(); ++i) {
    EXPECT_EQ(series[i].polylines, 1) << series[i].name;
    const auto vals = fixture_values(doc, i == 0 ? "parameters" : "mean_abs_diff", images[i]);
    EXPECT_EQ(series[i].pts.size(), vals.size()) << series[i].name;
    EXPECT_EQ(series[i].declared, static_cast<int>(vals.size())) << series[i].name;
    expect_log_monotone(vals, series[i].pts, series[i].name);
  }
  EXPECT_EQ(series[0].pts.size(), 3u);  // rows 1, 4, 6 have parameters
  EXPECT_EQ(series[1].pts.size(), 6u);  // the six matched rows
  // Points across series share one scale: image 2's 1.2 at row 4 is above parameters' 2.3e-4 there.
  EXPECT_LT(series[1].pts[3].second, series[0].pts[1].second);
  // Zeros (row 0 activations, row 6 parameters) are on one lane, below everything positive.
  EXPECT_DOUBLE_EQ(series[0].pts[2].second, series[1].pts[0].second);
  EXPECT_NE(page.find("exactly 0"), std::string::npos);
  // The first divergent row (2) is marked, and the spike at row 4.
  EXPECT_NE(svg.find("first divergent row 2"), std::string::npos);
  EXPECT_NE(svg.find("spike at row 4"), std::string::npos);
  // One circle per point, each with a tooltip.
  size_t points = 0;
  for (const auto& s : series) points += s.pts.size();
  EXPECT_EQ(count(svg, "<circle "), points);
  EXPECT_EQ(count(svg, "<circle "), count(svg, "</circle>"));
}

TEST(Report, RelativeErrorPlotCarriesTheNoiseFloor) {
  const json doc = load_fixture("discrepant.json");
  const std::string svg = svg_of(render_ok(doc), "relative-error");
  ASSERT_FALSE(svg.empty());
  const auto series = series_of(svg);
  ASSERT_EQ(series.size(), 4u);  // three images and the per-row noise floor
  EXPECT_EQ(series[3].kind, "noise");
  const int images[] = {2, 0, 1};
  for (size_t i = 0; i < 3; ++i) expect_log_monotone(fixture_values(doc, "rel_error", images[i]), series[i].pts, series[i].name);
  EXPECT_EQ(series[3].pts.size(), 6u);
  EXPECT_EQ(count(svg, "class=\"hline\""), 1u);
  // The floor (6e-7) is below every non-zero relative error of row 2 and above row 1's (2e-7).
  const double floor_y = [&] {
    std::smatch m;
    std::regex re(R"re(<line x1="[^"]*" y1="([^"]*)"[^>]*class="hline")re");
    EXPECT_TRUE(std::regex_search(svg, m, re));
    return std::stod(m[1]);
  }();
  EXPECT_LT(floor_y, series[0].pts[1].second);   // row 1 error 2.1e-7: drawn below the floor line
  EXPECT_GT(floor_y, series[0].pts[2].second);   // row 2 error 0.44: above it
}

TEST(Report, TauHistogramCountsEveryImageOnce) {
  const json doc = load_fixture("discrepant.json");
  const std::string svg = svg_of(render_ok(doc), "tau-histogram");
  ASSERT_FALSE(svg.empty());
  std::map<std::string, int> by_kind;
  static const std::regex re(R"re(<rect class="bar" data-kind="([a-z]+)" data-count="(\d+)")re");
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), re); it != std::sregex_iterator(); ++it)
    by_kind[(*it)[1]] += std::stoi((*it)[2]);
  EXPECT_EQ(by_kind["discrepant"], 2);
  EXPECT_EQ(by_kind["agreeing"], 1);
  EXPECT_EQ(by_kind.count("unknown"), 0u);
  EXPECT_NE(svg.find("τ = 1: 1 top-1 agrees"), std::string::npos);
  EXPECT_NE(svg.find("τ in [-0.6, -0.5): 1 top-1 differs"), std::string::npos);
  EXPECT_NE(svg.find("τ in [0.4, 0.5): 1 top-1 differs"), std::string::npos);
}

TEST(Report, TablesHoldEveryRow) {
  const json doc = load_fixture("discrepant.json");
  const std::string page = render_ok(doc);
  EXPECT_EQ(count(page, "<tr class=\"status-matched\">"), 6u);
  EXPECT_EQ(count(page, "<tr class=\"status-removed\">"), 1u);
  EXPECT_EQ(count(page, "<tr class=\"status-inserted\">"), 1u);
  for (int r = 0; r < 8; ++r) EXPECT_EQ(count(page, "id=\"layer-row-" + std::to_string(r) + "\""), 1u) << r;
  EXPECT_EQ(count(page, "<tr class=\"pair\">"), 3u);
  EXPECT_EQ(count(page, "<tr class=\"chain-row\">"), 2u);
  EXPECT_EQ(count(page, "<td class=\"changed\">"), 2u);
  EXPECT_NE(page.find("<b>max</b>: 6 → 1"), std::string::npos);  // the hyperparameter difference
  EXPECT_NE(page.find("float16_rounding"), std::string::npos);
  EXPECT_NE(page.find("66.7%"), std::string::npos);
  EXPECT_NE(page.find("target expects BGR channel order"), std::string::npos);
}

TEST(Report, FaithfulPairSaysSoAndPlotsItsZeros) {
  const std::string page = render_ok(load_fixture("faithful.json"));
  EXPECT_NE(page.find("verdict-faithful"), std::string::npos);
  EXPECT_NE(page.find("No suspects."), std::string::npos);
  EXPECT_EQ(page.find("chain-row"), std::string::npos);
  const auto series = series_of(svg_of(page, "figure3"));
  ASSERT_EQ(series.size(), 3u);  // parameters and two agreeing images, all zero
  EXPECT_EQ(series[0].pts.size(), 2u);
  for (const auto& s : series)
    for (const auto& p : s.pts) EXPECT_DOUBLE_EQ(p.second, series[0].pts[0].second);
  EXPECT_NE(page.find("10 values are exactly 0"), std::string::npos);
}

TEST(Report, TargetThatCannotRunStillShowsTheStaticAnalyses) {
  const std::string page = render_ok(load_fixture("cannot_run.json"));
  EXPECT_NE(page.find("verdict-target_cannot_run"), std::string::npos);
  EXPECT_NE(page.find("No comparison"), std::string::npos);
  EXPECT_TRUE(svg_of(page, "relative-error").empty());
  EXPECT_TRUE(svg_of(page, "tau-histogram").empty());
  const auto series = series_of(svg_of(page, "figure3"));
  ASSERT_EQ(series.size(), 1u);
  EXPECT_EQ(series[0].kind, "parameters");
  EXPECT_EQ(series[0].pts.size(), 2u);
  EXPECT_NE(page.find("No activations were compared: the models could not both run"), std::string::npos);
  EXPECT_NE(page.find("op &#39;FancyOp&#39; is not supported by convfix"), std::string::npos);
  EXPECT_NE(page.find("[1, 1, 1, 1] → [0, 0, 1, 1]"), std::string::npos);
}

TEST(Report, MissingOrWronglyTypedFieldsNeverFail) {
  for (const json& j : {json(), json::object(), json::array(), json("diagnose"), json(3.5),
                        json{{"schema_version", 2}}, json{{"layers", "x"}, {"compare", 7}, {"suspects", {1, 2}}}}) {
    const std::string page = render_ok(j);
    EXPECT_NE(page.find("</html>"), std::string::npos) << j.type_name();
  }
  EXPECT_NE(render_ok(json{{"schema_version", 2}}).find("schema version 1"), std::string::npos);
  // Replace every value of the discrepant fixture, one at a time, with values of other types.
  const json base = load_fixture("discrepant.json");
  const json flat = base.flatten();
  const json replacements[] = {json(), json("<x>"), json(-1e300), json::object(), json::array({json()})};
  size_t renders = 0;
  std::set<std::string> kinds;  // one field per path with array indices wildcarded
  const std::regex index("/[0-9]+");
  for (auto it = flat.begin(); it != flat.end(); ++it) {
    const std::string kind = std::regex_replace(it.key(), index, "/*");
    if (!kinds.insert(kind).second) continue;
    const json::json_pointer ptr(it.key());
    for (const json& r : replacements) {
      json doc = base;
      doc[ptr] = r;
      auto page = convfix::render_html_report(doc);
      ASSERT_TRUE(page.ok()) << it.key();
      ASSERT_NE(page.value().find("</html>"), std::string::npos) << it.key();
      ++renders;
    }
    // And its parent container replaced by a string.
    const json::json_pointer parent = ptr.parent_pointer();
    if (!parent.empty()) {
      json doc = base;
      doc[parent] = "oops";
      ASSERT_TRUE(convfix::render_html_report(doc).ok()) << parent.to_string();
    }
  }
  EXPECT_GT(renders, 500u) << kinds.size() << " kinds of field";
}

TEST(Report, NonFiniteNumbersAreNotPlotted) {
  json doc = load_fixture("discrepant.json");
  doc["layers"][4]["parameters"]["mean_abs_diff"] = std::nan("");
  doc["layers"][1]["parameters"]["mean_abs_diff"] = HUGE_VAL;
  const auto series = series_of(svg_of(render_ok(doc), "figure3"));
  ASSERT_FALSE(series.empty());
  EXPECT_EQ(series[0].pts.size(), 1u);  // only row 6's zero is left
}

TEST(Report, CorruptRowNumbersAreNotPlotted) {
  json doc = load_fixture("discrepant.json");
  doc["layers"][4]["row"] = 9000000000000000LL;
  doc["layers"][6]["row"] = -3;
  doc["activation_analysis"]["first_divergent_row"] = 8000000000000000LL;
  doc["activation_analysis"]["spikes"] = {-1, 4000000000000000LL};
  const std::string page = render_ok(doc);
  const auto series = series_of(svg_of(page, "figure3"));
  ASSERT_FALSE(series.empty());
  EXPECT_EQ(series[0].pts.size(), 1u);  // only row 1 of the three rows with parameters
  EXPECT_LT(page.size(), 200000u);
}

TEST(Report, LargeModelsCollapseTablesAndWidenThePlot) {
  json doc = load_fixture("faithful.json");
  json rows = json::array(), layers = json::array();
  for (int i = 0; i < 300; ++i) {
    const std::string name = "layer_" + std::to_string(i);
    rows.push_back({{"index", i}, {"status", i % 50 == 7 ? "inserted" : "matched"}, {"source_node", name},
                    {"source_op", "Conv"}, {"target_node", name + "_t"}, {"target_op", "Conv"}, {"confidence", 0.9}});
    layers.push_back({{"row", i}, {"source_node", name}, {"target_node", name + "_t"}, {"op", "conv"},
                      {"parameters", {{"mean_abs_diff", std::pow(10.0, -8 + (i % 7))}}}});
  }
  doc["alignment"]["rows"] = rows;
  doc["layers"] = layers;
  const std::string page = render_ok(doc);
  EXPECT_NE(page.find("<details><summary>All rows (300)</summary>"), std::string::npos);     // closed
  EXPECT_NE(page.find("<details open><summary>Inserted and removed rows (6)"), std::string::npos);
  EXPECT_NE(page.find("<details><summary>All layers (300)</summary>"), std::string::npos);
  const std::string svg = svg_of(page, "figure3");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(svg, m, std::regex(R"re(width="([0-9.]+)")re")));
  EXPECT_GE(std::stod(m[1]), 900.0);
  const auto series = series_of(svg);
  ASSERT_FALSE(series.empty());
  EXPECT_EQ(series[0].pts.size(), 300u);
  std::vector<std::pair<int, double>> vals;
  for (int i = 0; i < 300; ++i) vals.emplace_back(i, std::pow(10.0, -8 + (i % 7)));
  expect_log_monotone(vals, series[0].pts, "300 rows");
}

TEST(Report, ManySuspectsShowTheFirstTenOpenAndTheRestCollapsed) {
  json doc = load_fixture("discrepant.json");
  json sus = json::array();
  for (int r = 25; r >= 1; --r)
    sus.push_back({{"rank", r}, {"category", "parameters"}, {"source_node", "s" + std::to_string(r)},
                   {"target_node", "t" + std::to_string(r)}, {"row", r % 8}, {"evidence", {{"summary", "e"}}},
                   {"explanation", "x"}, {"repair", "fix-" + std::to_string(r) + "."}});
  doc["suspects"] = sus;
  const std::string page = render_ok(doc);
  const size_t open = page.find("<details open><summary>Ranked suspects: the first 10 of 25</summary>");
  const size_t closed = page.find("<details><summary>Suspects 11–25</summary>");
  ASSERT_NE(open, std::string::npos);
  ASSERT_NE(closed, std::string::npos);
  EXPECT_LT(page.find("fix-10."), closed);
  EXPECT_GT(page.find("fix-11."), closed);
  size_t last = 0;
  for (int r = 1; r <= 25; ++r) {
    const size_t p = page.find("fix-" + std::to_string(r) + ".");
    ASSERT_NE(p, std::string::npos);
    EXPECT_GT(p, last) << r;
    last = p;
  }
}

TEST(Report, WriteIsAtomicAndReportsAnUnwritablePath) {
  const json doc = load_fixture("discrepant.json");
  const fs::path dir = fs::temp_directory_path() / ("convfix_report_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path out = dir / "report.html";
  ASSERT_TRUE(convfix::write_html_report(doc, out.string()).ok());
  auto bytes = convfix::read_file(out.string());
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(bytes.value(), render_ok(doc));
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir)) { (void)e; ++files; }
  EXPECT_EQ(files, 1u);  // no temporary left behind
  const convfix::Status st = convfix::write_html_report(doc, (dir / "missing" / "report.html").string());
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(st.code(), convfix::StatusCode::kIoError);
  EXPECT_NE(st.message().find("missing"), std::string::npos);
  fs::remove_all(dir);
}

// ---- the repair page (a document whose "command" is "repair") ----------------------

namespace {

// The (row, value) pairs of tests/report/repair.json's layers[] for one field, numbers only.
std::vector<std::pair<int, double>> repair_layer_values(const json& doc, const std::string& key) {
  std::vector<std::pair<int, double>> v;
  for (const auto& L : doc["layers"])
    if (L[key].is_number()) v.emplace_back(L["row"].get<int>(), L[key].get<double>());
  return v;
}

// The text between <tag ...> start (found at `from`) and its matching close, for simple non-nested uses.
std::string element_at(const std::string& page, size_t from, const std::string& close) {
  if (from == std::string::npos) return "";
  const size_t end = page.find(close, from);
  return end == std::string::npos ? "" : page.substr(from, end + close.size() - from);
}

void expect_self_contained(const std::string& page, const std::string& what) {
  EXPECT_EQ(page.rfind("<!DOCTYPE html>", 0), 0u) << what;
  EXPECT_NE(page.find("</html>"), std::string::npos) << what;
  const std::string l = lower(page);
  for (const char* bad : {"http://", "https://", "<script", "<link", " src=\"", "url(", "@import", "<iframe", "<img",
                          "<object", "<embed", "xlink:href"})
    EXPECT_EQ(l.find(bad), std::string::npos) << what << " contains " << bad;
  static const std::regex href(R"re(href="([^"]*)")re");
  for (auto it = std::sregex_iterator(page.begin(), page.end(), href); it != std::sregex_iterator(); ++it)
    EXPECT_EQ((*it)[1].str().rfind("#", 0), 0u) << what << ": " << (*it)[1];
  EXPECT_EQ(count(page, "<details"), count(page, "</details>")) << what;
  EXPECT_EQ(count(page, "<table"), count(page, "</table>")) << what;
  EXPECT_EQ(count(page, "<svg"), count(page, "</svg>")) << what;
  EXPECT_EQ(count(page, "<section"), count(page, "</section>")) << what;
}

}  // namespace

TEST(RepairReport, SectionsInOrderThenTheWholeDiagnosisEachIdOnce) {
  const std::string page = render_ok(load_fixture("repair.json"));
  expect_self_contained(page, "repair.json");
  EXPECT_NE(page.find("<h1>convfix repair report</h1>"), std::string::npos);
  EXPECT_EQ(page.find("convfix diagnose report"), std::string::npos);
  size_t last = 0;
  for (const char* id : {"repair-summary", "repair-log", "repair-layers", "repair-after", "repair-errors",
                         "repair-timings", "diagnosis", "verdict", "suspects", "discrepancy", "plots", "tau",
                         "alignment", "layers", "preprocessing", "errors", "timings"}) {
    const std::string attr = std::string("id=\"") + id + "\"";
    EXPECT_EQ(count(page, attr), 1u) << id;
    const size_t p = page.find(attr);
    ASSERT_NE(p, std::string::npos) << "lacks " << id;
    EXPECT_GT(p, last) << id << " out of order";
    last = p;
  }
  // Every in-page link has its anchor.
  static const std::regex href(R"re(href="#([^"]*)")re");
  for (auto it = std::sregex_iterator(page.begin(), page.end(), href); it != std::sregex_iterator(); ++it)
    EXPECT_EQ(count(page, "id=\"" + (*it)[1].str() + "\""), 1u) << (*it)[1];
}

TEST(RepairReport, DiagnosisIsDrawnByTheDiagnosePagesOwnCode) {
  const json doc = load_fixture("repair.json");
  const std::string page = render_ok(doc);
  // The diagnose page of the embedded document, from its first section to the end of its last.
  const std::string diag_page = render_ok(doc["diagnosis"]);
  const size_t a = diag_page.find("<section id=\"verdict\"");
  const size_t b = diag_page.find("</main>");
  ASSERT_NE(a, std::string::npos);
  ASSERT_NE(b, std::string::npos);
  const std::string sections = diag_page.substr(a, b - a);
  ASSERT_GT(sections.size(), 10000u);
  EXPECT_EQ(count(page, sections), 1u);
  // And the diagnose header's model table (the three models of the chain).
  const size_t t = diag_page.find("<table class=\"kv\">");
  const std::string table = element_at(diag_page, t, "</table>");
  ASSERT_FALSE(table.empty());
  EXPECT_GT(page.find(table), page.find("id=\"diagnosis\""));
  // The same figure 3 as on the diagnose page.
  EXPECT_EQ(svg_of(page, "figure3"), svg_of(diag_page, "figure3"));
}

TEST(RepairReport, DiagnosePagesAreNotAffected) {
  // "command" decides: only "repair" gives the repair page.
  for (const json& j : {json{{"command", "diagnose"}}, json{{"command", "compare"}}, json{{"command", 3}},
                        json{{"command", json::array({"repair"})}}, json::object()}) {
    const std::string page = render_ok(j);
    EXPECT_NE(page.find("<h1>convfix diagnose report</h1>"), std::string::npos) << j.dump();
    EXPECT_EQ(page.find("repair-summary"), std::string::npos) << j.dump();
  }
  const std::string page = render_ok(load_fixture("discrepant.json"));
  for (const char* s : {"repair-", "kept", "verdict-repaired"}) EXPECT_EQ(page.find(s), std::string::npos) << s;
}

TEST(RepairReport, SummaryShowsBeforeAndAfter) {
  const std::string page = render_ok(load_fixture("repair.json"));
  const std::string s = element_at(page, page.find("<section id=\"repair-summary\""), "</section>");
  ASSERT_FALSE(s.empty());
  EXPECT_NE(s.find("<span class=\"verdict verdict-repaired\">repaired</span>"), std::string::npos);
  EXPECT_NE(s.find("verdict-code-repaired"), std::string::npos);
  EXPECT_NE(s.find("1 change kept: clip_0 max 1 -&gt; 6."), std::string::npos);
  EXPECT_NE(s.find("<td class=\"num better\">66.7% → 0.0%"), std::string::npos);
  EXPECT_NE(s.find("<td class=\"num better\">0.12 → 0.99</td>"), std::string::npos);  // τ: higher is better
  EXPECT_NE(s.find("<td class=\"num better\">0.78 → 1.2e-6</td>"), std::string::npos);
  EXPECT_NE(s.find("out/mobilenet_v2_faulty.repaired.onnx"), std::string::npos);
  EXPECT_NE(s.find("preset <b>torch</b> (not embedded"), std::string::npos);
  EXPECT_NE(s.find("mean &lt;0.485,0.456,0.406&gt;"), std::string::npos);
  EXPECT_NE(s.find("3 images (2 whose top-1 differed, 1 agreeing ones held out)"), std::string::npos);
  EXPECT_NE(s.find("gives the same outputs"), std::string::npos);
  EXPECT_NE(s.find("1 kept of 4 tried"), std::string::npos);
  EXPECT_NE(s.find("after the kept changes 0 of them differ"), std::string::npos);
  EXPECT_EQ(s.find("time budget"), std::string::npos);
  EXPECT_NE(page.find("<title>convfix repair: mobilenet_v2.onnx → "), std::string::npos);
}

TEST(RepairReport, LogListsEveryChangeInOrderWithKeptOnesMarked) {
  const json doc = load_fixture("repair.json");
  const std::string page = render_ok(doc);
  std::vector<std::pair<int, std::string>> rows;  // (data-index, data-kept)
  static const std::regex re(R"re(<tr class="repair( kept)?" data-index="(\d+)" data-kept="([a-z]+)">)re");
  for (auto it = std::sregex_iterator(page.begin(), page.end(), re); it != std::sregex_iterator(); ++it) {
    rows.emplace_back(std::stoi((*it)[2]), (*it)[3]);
    EXPECT_EQ((*it)[1].matched, (*it)[3] == "yes");  // the class and the attribute agree
  }
  // The fixture lists them 2, 0, 1, 3; only index 0 is kept.
  EXPECT_EQ(rows, (std::vector<std::pair<int, std::string>>{{0, "yes"}, {1, "no"}, {2, "no"}, {3, "no"}}));
  std::map<int, std::string> kept_in_fixture;
  for (const auto& r : doc["repairs"]) kept_in_fixture[r["index"].get<int>()] = r["kept"].get<bool>() ? "yes" : "no";
  for (const auto& [i, k] : rows) EXPECT_EQ(kept_in_fixture[i], k) << i;
  // The kept row holds its change, details, verification counts and reason.
  const std::string kept = element_at(page, page.find("<tr class=\"repair kept\""), "</tr>");
  EXPECT_NE(kept.find("set attribute max of clip_0 from 1 to 6"), std::string::npos);
  EXPECT_NE(kept.find("<b>max</b>: 1 → 6"), std::string::npos);
  EXPECT_NE(kept.find("2 → 0"), std::string::npos);
  EXPECT_NE(kept.find("(66.7% → 0.0%)"), std::string::npos);
  EXPECT_NE(kept.find("0.78 → 1.2e-6"), std::string::npos);
  EXPECT_NE(kept.find("no held-out image regressed"), std::string::npos);
  EXPECT_NE(kept.find("<a href=\"#layer-row-2\">2</a>"), std::string::npos);
  EXPECT_NE(kept.find("cat-hyperparameters"), std::string::npos);
  // An undone change that made things worse is marked so.
  const std::string worse = element_at(page, page.find("<tr class=\"repair\" data-index=\"1\""), "</tr>");
  EXPECT_NE(worse.find("<td class=\"num worse\">0 → 3"), std::string::npos);
  EXPECT_NE(worse.find("<b>perm</b>: [0, 2, 3, 1] → —"), std::string::npos);
  EXPECT_NE(worse.find("undone"), std::string::npos);
}

TEST(RepairReport, AnEntryWithoutRowIsPlacedByItsNodeName) {
  json doc = load_fixture("repair.json");
  ASSERT_EQ(doc["repairs"][1]["target_node"], "clip_0");  // the kept change, row 2 in the diagnosis
  doc["repairs"][1].erase("row");
  doc["repairs"][0]["row"] = nullptr;
  doc["repairs"][0]["target_node"] = "no such node";
  doc["repairs"][0]["source_node"] = "features.0.0";  // row 1 by its source name
  doc["repairs"][3]["target_node"] = "nowhere";
  const std::string page = render_ok(doc);
  const std::string kept = element_at(page, page.find("<tr class=\"repair kept\""), "</tr>");
  EXPECT_NE(kept.find("<td class=\"num\"><a href=\"#layer-row-2\">2</a></td>"), std::string::npos);
  EXPECT_NE(svg_of(page, "repair-layers").find("kept change at row 2"), std::string::npos);
  const std::string by_source = element_at(page, page.find("<tr class=\"repair\" data-index=\"2\""), "</tr>");
  EXPECT_NE(by_source.find("<a href=\"#layer-row-1\">1</a>"), std::string::npos);
  const std::string none = element_at(page, page.find("<tr class=\"repair\" data-index=\"3\""), "</tr>");
  EXPECT_EQ(none.find("layer-row-"), std::string::npos);
}

TEST(RepairReport, DetailsShowEveryOldNewPair) {
  const std::string page = render_ok(load_fixture("repair.json"));
  // The parameters strategy's details: named tensors and a list of normalisation tensors.
  const std::string params = element_at(page, page.find("<tr class=\"repair\" data-index=\"2\""), "</tr>");
  EXPECT_NE(params.find("<div><b>weight</b> <span class=\"name\">conv&amp;&quot;1&#39;.W</span>: [16,3,3,3] mean "
                        "0.0123 → [16,3,3,3] mean 0.0124</div>"),
            std::string::npos);
  EXPECT_NE(params.find("<b>bias</b> <span class=\"name\">conv.b</span>: none → [16] mean -0.2"), std::string::npos);
  EXPECT_NE(params.find("<b>bn.scale</b>: [16] mean 1 → [16] mean 0.97 <span class=\"details-extra\">(role = scale)"),
            std::string::npos);
  EXPECT_NE(params.find("pattern = float16_rounding"), std::string::npos);
  // A grouped change: its layers as a nested list, names escaped.
  const std::string group = element_at(page, page.find("<tr class=\"repair\" data-index=\"3\""), "</tr>");
  EXPECT_NE(group.find("layers (2):"), std::string::npos);
  EXPECT_NE(group.find("<span class=\"name\">conv_0</span>: copy weights<div><b>weight</b> "), std::string::npos);
  EXPECT_NE(group.find("<span class=\"name\">fc</span>: copy &lt;weights&gt;"), std::string::npos);
  EXPECT_NE(group.find("not_expressible"), std::string::npos);
  // A long group is cut.
  json doc = load_fixture("repair.json");
  json layers = json::array();
  for (int i = 0; i < 30; ++i) layers.push_back({{"target_node", "n" + std::to_string(i)}, {"change", "c"}});
  doc["repairs"][3]["details"]["layers"] = layers;
  const std::string cut = render_ok(doc);
  EXPECT_NE(cut.find("n19</span>"), std::string::npos);
  EXPECT_EQ(cut.find("n20</span>"), std::string::npos);
  EXPECT_NE(cut.find("… and 10 more"), std::string::npos);
  // Details with no old/new pair (the preprocessing strategy's) are listed as they are, not muted.
  doc["repairs"][2]["details"] = {{"preset", "torch"}, {"was", "caffe"}, {"crop_fraction", 0.875}};
  doc["preprocessing_required"]["crop_fraction"] = 0.875;
  const std::string pre = render_ok(doc);
  EXPECT_NE(pre.find("<td class=\"details\"><div>crop_fraction = 0.875</div><div>preset = torch</div><div>was = caffe</div></td>"),
            std::string::npos);
  EXPECT_NE(pre.find("preset <b>torch</b>, centre crop 0.875 (not embedded"), std::string::npos);
  // Details nested deeper than a group are summarised, never recursed into without bound.
  json deep = json::object();
  for (int i = 0; i < 200; ++i) deep = json{{"details", deep}, {"change", "x"}};
  doc["repairs"][3]["details"] = {{"layers", json::array({deep})}};
  EXPECT_TRUE(convfix::render_html_report(doc).ok());
}

TEST(RepairReport, StringsFromTheModelAreEscaped) {
  const std::string page = render_ok(load_fixture("repair.json"));
  EXPECT_EQ(lower(page).find("<script"), std::string::npos);
  EXPECT_EQ(lower(page).find("<img"), std::string::npos);
  EXPECT_EQ(page.find("<b>harmless"), std::string::npos);
  EXPECT_EQ(page.find("<metadata>"), std::string::npos);
  for (const std::string& raw : {std::string("models/<script>alert('t')</script>faulty.onnx"),
                                 std::string("copy the source's float32 weights into <conv&\"1'>"),
                                 std::string("<img src=x onerror=alert(2)>"),
                                 std::string("Weights still rounded to float16 (<b>harmless</b>)."),
                                 std::string("<script>alert('after')</script>conv"),
                                 std::string("warning: <metadata> key 'x' dropped")})
    EXPECT_NE(page.find(html_escape(raw)), std::string::npos) << raw;
  // Node names in the log and in the before/after plot's tooltips.
  const std::string log = element_at(page, page.find("<section id=\"repair-log\""), "</section>");
  EXPECT_NE(log.find(html_escape("<script>alert('x')</script>conv")), std::string::npos);
  EXPECT_NE(log.find(html_escape("conv&\"1'")), std::string::npos);
  EXPECT_NE(svg_of(page, "repair-layers").find(html_escape("row 4: <script>alert('x')</script>conv")), std::string::npos);
  // Invalid UTF-8 in a change text.
  json doc = load_fixture("repair.json");
  doc["repairs"][0]["change"] = std::string("a\xff" "b");
  EXPECT_NE(render_ok(doc).find("a\xEF\xBF\xBD" "b"), std::string::npos);
}

TEST(RepairReport, LayerPlotHasBeforeAndAfterOnOneLogScale) {
  const json doc = load_fixture("repair.json");
  const std::string page = render_ok(doc);
  const std::string svg = svg_of(page, "repair-layers");
  ASSERT_FALSE(svg.empty());
  const auto series = series_of(svg);
  ASSERT_EQ(series.size(), 2u);
  EXPECT_EQ(series[0].kind, "before");
  EXPECT_EQ(series[1].kind, "after");
  const auto before = repair_layer_values(doc, "rel_error_before");
  const auto after = repair_layer_values(doc, "rel_error_after");
  ASSERT_EQ(before.size(), 6u);  // row 5's errors are null
  EXPECT_EQ(series[0].declared, 6);
  EXPECT_EQ(series[1].declared, 6);
  EXPECT_EQ(series[0].polylines, 1);
  expect_log_monotone(before, series[0].pts, "before");
  expect_log_monotone(after, series[1].pts, "after");
  // Both series share the scale: where the error fell, "after" is drawn lower (larger SVG y).
  for (size_t i = 0; i < before.size(); ++i) {
    ASSERT_EQ(before[i].first, after[i].first);
    EXPECT_DOUBLE_EQ(series[0].pts[i].first, series[1].pts[i].first);
    if (after[i].second < before[i].second) {
      EXPECT_GT(series[1].pts[i].second, series[0].pts[i].second) << "row " << before[i].first;
    }
    if (after[i].second == before[i].second) {
      EXPECT_DOUBLE_EQ(series[1].pts[i].second, series[0].pts[i].second) << "row " << before[i].first;
    }
  }
  EXPECT_NE(page.find("2 values are exactly 0"), std::string::npos);  // row 0, before and after
  EXPECT_NE(svg.find("kept change at row 2: set attribute max of clip_0 from 1 to 6"), std::string::npos);
  EXPECT_EQ(svg.find("kept change at row 5"), std::string::npos);  // undone changes are not marked
  EXPECT_EQ(count(svg, "<circle "), 12u);
  // The table below lists every layer, with a link to the diagnosis's row.
  EXPECT_EQ(count(element_at(page, page.find("<table class=\"repair-layers\">"), "</table>"), "<tr><td class=\"num\">"), 7u);
}

TEST(RepairReport, AfterSummaryListsWhatIsLeft) {
  const std::string page = render_ok(load_fixture("repair.json"));
  const std::string s = element_at(page, page.find("<section id=\"repair-after\""), "</section>");
  EXPECT_NE(s.find("verdict-differs"), std::string::npos);
  EXPECT_NE(s.find("1 (1 parameters)"), std::string::npos);
  EXPECT_NE(s.find("0.0%"), std::string::npos);
  const std::string table = element_at(s, s.find("<table class=\"after-suspects\">"), "</table>");
  EXPECT_EQ(count(table, "<tr><td"), 1u);  // its one suspect
  EXPECT_NE(table.find("Weights still rounded to float16"), std::string::npos);
  // Its suspects are not counted as the diagnosis's suspects (no tr.suspect there).
  EXPECT_EQ(s.find("class=\"suspect\""), std::string::npos);
  EXPECT_EQ(count(page, "<tr class=\"suspect\""), 3u);
}

TEST(RepairReport, MissingNullAndWronglyTypedFieldsNeverFail) {
  // Nothing but the command.
  std::string page = render_ok(json{{"command", "repair"}});
  expect_self_contained(page, "bare");
  EXPECT_NE(page.find("convfix repair report"), std::string::npos);
  EXPECT_NE(page.find("none written"), std::string::npos);
  EXPECT_NE(page.find("No change was tried."), std::string::npos);
  EXPECT_NE(page.find("Nothing to plot"), std::string::npos);
  EXPECT_NE(page.find("repair schema version 1; the document says nothing"), std::string::npos);
  EXPECT_TRUE(svg_of(page, "repair-layers").empty());
  EXPECT_EQ(page.find("<section id=\"verdict\""), std::string::npos);  // no diagnosis to draw
  EXPECT_EQ(count(page, "Not part of this document"), 2u);              // no diagnosis, no diagnosis_after
  // Every documented field null.
  json nulls = {{"command", "repair"}, {"schema_version", 1}};
  for (const char* k : {"convfix_version", "source", "target", "output_model", "output_format", "verdict",
                        "discrepancy_before", "discrepancy_after", "tau_before", "tau_after", "output_error_before",
                        "output_error_after", "preprocessing_required", "verification", "repairs", "layers",
                        "diagnosis", "diagnosis_after", "timings_s", "errors"})
    nulls[k] = nullptr;
  page = render_ok(nulls);
  expect_self_contained(page, "nulls");
  EXPECT_EQ(page.find("— → —"), std::string::npos);  // nothing before and nothing after: one "—"
  EXPECT_NE(page.find("no change needed"), std::string::npos);  // preprocessing_required: null
  EXPECT_EQ(page.find("schema version 1; the document says"), std::string::npos);
  // Repairs with null members; a log entry that is not an object.
  json doc = load_fixture("repair.json");
  doc["repairs"][0] = {{"index", nullptr}, {"kept", nullptr}, {"details", nullptr}, {"row", nullptr}};
  doc["repairs"].push_back("oops");
  doc["repairs"].push_back(nullptr);
  page = render_ok(doc);
  expect_self_contained(page, "null members");
  EXPECT_EQ(count(page, "data-kept=\"unknown\""), 3u);
  EXPECT_EQ(count(page, "<tr class=\"repair kept\""), 1u);
  // Every value of the fixture replaced in turn by values of other types.
  const json base = load_fixture("repair.json");
  const json flat = base.flatten();
  const json replacements[] = {json(), json("<x>"), json(-1e300), json::object(), json::array({json()})};
  std::set<std::string> kinds;
  const std::regex index("/[0-9]+");
  size_t renders = 0;
  for (auto it = flat.begin(); it != flat.end(); ++it) {
    const std::string kind = std::regex_replace(it.key(), index, "/*");
    if (!kinds.insert(kind).second) continue;
    const json::json_pointer ptr(it.key());
    for (const json& r : replacements) {
      json d = base;
      d[ptr] = r;
      auto p = convfix::render_html_report(d);
      ASSERT_TRUE(p.ok()) << it.key();
      ASSERT_NE(p.value().find("</html>"), std::string::npos) << it.key();
      if (it.key() != "/command") {
        ASSERT_EQ(lower(p.value()).find("<x>"), std::string::npos) << it.key();
      }
      ++renders;
    }
    const json::json_pointer parent = ptr.parent_pointer();
    if (!parent.empty()) {
      json d = base;
      d[parent] = "oops";
      ASSERT_TRUE(convfix::render_html_report(d).ok()) << parent.to_string();
    }
  }
  EXPECT_GT(renders, 600u) << kinds.size() << " kinds of field";
  EXPECT_NE(render_ok(json{{"command", "repair"}, {"schema_version", 7}}).find("the document says 7"), std::string::npos);
}

TEST(RepairReport, PreprocessingEmbeddedAndNonFiniteOrCorruptRows) {
  json doc = load_fixture("repair.json");
  doc["preprocessing_required"]["embedded"] = true;
  doc["layers"][2]["rel_error_before"] = std::nan("");
  doc["layers"][3]["rel_error_after"] = HUGE_VAL;
  doc["layers"][6]["row"] = 9000000000000000LL;
  doc["repairs"][1]["row"] = -4;  // the kept change: a corrupt row is not marked
  const std::string page = render_ok(doc);
  EXPECT_NE(page.find("(embedded in the repaired model)"), std::string::npos);
  const auto series = series_of(svg_of(page, "repair-layers"));
  ASSERT_EQ(series.size(), 2u);
  EXPECT_EQ(series[0].pts.size(), 4u);  // 6 - NaN - the corrupt row
  EXPECT_EQ(series[1].pts.size(), 4u);  // 6 - ∞ - the corrupt row
  EXPECT_EQ(svg_of(page, "repair-layers").find("kept change"), std::string::npos);
  EXPECT_LT(page.size(), 300000u);
}

TEST(RepairReport, LongLogsShowTheKeptChangesOpenAndTheRestCollapsed) {
  json doc = load_fixture("repair.json");
  json reps = json::array();
  for (int i = 0; i < 100; ++i)
    reps.push_back({{"index", i}, {"strategy", "parameters"}, {"category", "parameters"}, {"row", i % 8},
                    {"target_node", "t" + std::to_string(i)}, {"change", "change-" + std::to_string(i) + "."},
                    {"discrepant_before", 5}, {"discrepant_after", i % 40 == 3 ? 4 : 5}, {"kept", i % 40 == 3}});
  doc["repairs"] = reps;
  const std::string page = render_ok(doc);
  const size_t open = page.find("<details open><summary>Kept changes (3)</summary>");
  const size_t closed = page.find("<details><summary>All changes tried (100)</summary>");
  ASSERT_NE(open, std::string::npos);
  ASSERT_NE(closed, std::string::npos);
  EXPECT_LT(open, closed);
  EXPECT_LT(page.find("change-43."), closed);  // kept: listed first, open
  EXPECT_GT(page.find("change-4."), closed);   // not kept: only in the collapsed table
  EXPECT_EQ(count(page, "<tr class=\"repair kept\""), 6u);  // each kept change in both tables
  EXPECT_EQ(count(page, "<tr class=\"repair"), 103u);
  EXPECT_NE(page.find("3 kept of 100 tried"), std::string::npos);
}

TEST(RepairReport, WriteHtmlReportWritesTheRepairPage) {
  const json doc = load_fixture("repair.json");
  const fs::path dir = fs::temp_directory_path() / ("convfix_repair_report_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path out = dir / "report.html";
  ASSERT_TRUE(convfix::write_html_report(doc, out.string()).ok());
  auto bytes = convfix::read_file(out.string());
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(bytes.value(), render_ok(doc));
  fs::remove_all(dir);
}
