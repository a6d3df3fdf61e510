// Structural alignment of two layer graphs (include/convfix/align.h).
#include <algorithm>
#include <cmath>
#include <map>

#include "convfix/align.h"
#include "diagnose/layer_params.h"

namespace convfix {

std::string layout_relation(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  if (a.empty() || b.empty()) return "";
  if (a == b) return "same";
  if (num_elements(a) != num_elements(b)) return "";
  if (a.size() == 4 && b.size() == 4) {
    if (a[0] == b[0] && a[1] == b[3] && a[2] == b[1] && a[3] == b[2]) return "nchw-nhwc";
    if (a[0] == b[0] && a[3] == b[1] && a[1] == b[2] && a[2] == b[3]) return "nhwc-nchw";
  }
  return "reshape";
}

namespace {

struct Sig {
  std::vector<int64_t> out_sorted;   // output dims without the batch, sorted
  int64_t out_numel = -1;
  std::vector<int64_t> wdims;        // canonical weight dims
  Tensor weight;                     // canonical weight (for the cosine tie-break)
};

Sig signature(const LayerGraph& lg, const Layer& l, const ValueDims* shapes) {
  Sig s;
  if (shapes) {
    auto it = shapes->find(l.output);
    if (it != shapes->end() && !it->second.empty()) {
      s.out_sorted.assign(it->second.begin() + 1, it->second.end());
      std::sort(s.out_sorted.begin(), s.out_sorted.end());
      s.out_numel = num_elements(it->second);
    }
  }
  LinearParams p = anchor_params(*lg.graph, l);
  if (p.valid) {
    s.wdims = p.weight.dims();
    s.weight = p.weight;
  }
  return s;
}

double cosine(const Tensor& a, const Tensor& b) {
  if (a.empty() || b.empty() || a.dims() != b.dims()) return 0;
  const float* x = a.data<float>();
  const float* y = b.data<float>();
  double xy = 0, xx = 0, yy = 0;
  for (int64_t i = 0; i < a.numel(); ++i) {
    xy += static_cast<double>(x[i]) * y[i];
    xx += static_cast<double>(x[i]) * x[i];
    yy += static_cast<double>(y[i]) * y[i];
  }
  if (xx <= 0 || yy <= 0) return xx == yy ? 1 : 0;
  return xy / std::sqrt(xx * yy);
}

double sig_score(const Sig& a, const Sig& b, const Layer& la, const Layer& lb) {
  double s = 0;
  if (!a.wdims.empty() || !b.wdims.empty()) {
    if (a.wdims == b.wdims) s += 0.35 + 0.2 * std::max(0.0, cosine(a.weight, b.weight));
    else if (!a.wdims.empty() && !b.wdims.empty() && num_elements(a.wdims) == num_elements(b.wdims)) s += 0.15;
  } else {
    s += 0.35;
  }
  if (a.out_numel >= 0 && b.out_numel >= 0) {
    if (a.out_sorted == b.out_sorted) s += 0.3;
    else if (a.out_numel == b.out_numel) s += 0.15;
  } else {
    s += 0.15;
  }
  if (!la.name.empty() && la.name == lb.name) s += 0.15;
  return std::min(1.0, s);
}

}  // namespace

Alignment align_layers(const LayerGraph& src, const LayerGraph& tgt, const ValueDims* ss, const ValueDims* ts) {
  const size_t ns = src.layers.size(), nt = tgt.layers.size();
  std::vector<int> sm(ns, -1), tm(nt, -1);
  std::vector<double> conf(ns, 0);
  std::vector<std::string> method(ns);
  std::vector<Sig> ssig(ns), tsig(nt);
  for (size_t i = 0; i < ns; ++i) ssig[i] = signature(src, src.layers[i], ss);
  for (size_t i = 0; i < nt; ++i) tsig[i] = signature(tgt, tgt.layers[i], ts);

  // Graph inputs, in order.
  {
    std::vector<int> si, ti;
    for (const auto& l : src.layers) if (l.kind == "input") si.push_back(l.id);
    for (const auto& l : tgt.layers) if (l.kind == "input") ti.push_back(l.id);
    for (size_t k = 0; k < std::min(si.size(), ti.size()); ++k) {
      sm[static_cast<size_t>(si[k])] = ti[k];
      tm[static_cast<size_t>(ti[k])] = si[k];
      conf[static_cast<size_t>(si[k])] = 1;
      method[static_cast<size_t>(si[k])] = "input";
    }
  }

  // Inputs of a layer seen through layers left unmatched on that side
  // (inserted or removed ones with a single input), a few levels deep.
  auto through = [](const LayerGraph& lg, const std::vector<int>& match, const Layer& l) {
    std::vector<int> out;
    std::vector<std::pair<int, int>> stack;
    for (int i : l.inputs) stack.push_back({i, 0});
    while (!stack.empty()) {
      auto [i, depth] = stack.back();
      stack.pop_back();
      const Layer& u = lg.layers[static_cast<size_t>(i)];
      if (match[static_cast<size_t>(i)] < 0 && depth < 3 && u.inputs.size() == 1) {
        stack.push_back({u.inputs[0], depth + 1});
        continue;
      }
      out.push_back(i);
    }
    std::sort(out.begin(), out.end());
    return out;
  };

  for (size_t s = 0; s < ns; ++s) {
    const Layer& L = src.layers[s];
    if (L.kind == "input") continue;
    std::vector<int> want;
    bool all_known = true;
    for (int i : through(src, sm, L)) {
      const int m = sm[static_cast<size_t>(i)];
      if (m < 0) all_known = false;
      want.push_back(m);
    }
    std::sort(want.begin(), want.end());
    int min_pos = -1;
    for (int m : want) min_pos = std::max(min_pos, m);
    struct Cand { int t; double sig; bool structural; };
    // Structural first on the target's direct inputs; only when none fits,
    // through unmatched target layers (a target layer not yet matched may
    // still be matched later, so it is not taken as inserted up front).
    auto direct = [](const Layer& T) {
      std::vector<int> v = T.inputs;
      std::sort(v.begin(), v.end());
      return v;
    };
    std::vector<Cand> cands;
    for (int pass = 0; pass < 2 && cands.empty(); ++pass) {
      for (size_t t = 0; t < nt; ++t) {
        if (tm[t] >= 0) continue;
        const Layer& T = tgt.layers[t];
        if (T.kind != L.kind) continue;
        const bool structural = all_known && (pass == 0 ? direct(T) : through(tgt, tm, T)) == want;
        if (!structural && (pass == 0 || static_cast<int>(t) <= min_pos)) continue;
        cands.push_back({static_cast<int>(t), sig_score(ssig[s], tsig[t], L, T), structural});
      }
    }
    if (cands.empty()) continue;
    const bool any_structural = std::any_of(cands.begin(), cands.end(), [](const Cand& c) { return c.structural; });
    if (any_structural)
      cands.erase(std::remove_if(cands.begin(), cands.end(), [](const Cand& c) { return !c.structural; }), cands.end());
    // Relaxed matches also prefer the nearest position (relative order).
    auto rank = [&](const Cand& c) {
      double r = c.sig;
      if (!c.structural) {
        const double rel_s = static_cast<double>(s) / static_cast<double>(std::max<size_t>(1, ns));
        const double rel_t = static_cast<double>(c.t) / static_cast<double>(std::max<size_t>(1, nt));
        r -= std::fabs(rel_s - rel_t);
      }
      return r;
    };
    std::stable_sort(cands.begin(), cands.end(), [&](const Cand& a, const Cand& b) { return rank(a) > rank(b); });
    const Cand& best = cands[0];
    if (!best.structural && best.sig < 0.5) continue;
    double c;
    std::string how;
    if (best.structural && cands.size() == 1) {
      c = best.sig >= 0.6 ? 1.0 : 0.85;
      how = "structure";
    } else if (best.structural) {
      const double margin = best.sig - cands[1].sig;
      c = 0.6 + std::min(0.35, margin);
      how = "structure+signature";
    } else {
      c = 0.3 + 0.4 * best.sig;
      how = "signature";
    }
    sm[s] = best.t;
    tm[static_cast<size_t>(best.t)] = static_cast<int>(s);
    conf[s] = c;
    method[s] = how;
  }

  Alignment a;
  for (size_t s = 0; s < ns; ++s) {
    AlignmentRow r;
    r.source_layer = static_cast<int>(s);
    r.target_layer = sm[s];
    r.status = sm[s] >= 0 ? "matched" : "removed";
    r.confidence = sm[s] >= 0 ? conf[s] : 0;
    r.method = method[s];
    a.rows.push_back(r);
  }
  for (size_t t = 0; t < nt; ++t) {
    if (tm[t] >= 0) continue;
    AlignmentRow r;
    r.target_layer = static_cast<int>(t);
    r.status = "inserted";
    size_t pos = 0;
    for (size_t k = 0; k < a.rows.size(); ++k)
      if (a.rows[k].target_layer >= 0 && a.rows[k].target_layer < static_cast<int>(t)) pos = k + 1;
    a.rows.insert(a.rows.begin() + static_cast<std::ptrdiff_t>(pos), r);
  }
  for (size_t k = 0; k < a.rows.size(); ++k) {
    AlignmentRow& r = a.rows[k];
    r.index = static_cast<int>(k);
    if (r.status == "matched") {
      ++a.matched;
      if (ss && ts) {
        auto i = ss->find(src.layers[static_cast<size_t>(r.source_layer)].compare_output);
        auto j = ts->find(tgt.layers[static_cast<size_t>(r.target_layer)].compare_output);
        if (i != ss->end() && j != ts->end()) r.layout = layout_relation(i->second, j->second);
      }
    } else if (r.status == "removed") {
      ++a.removed;
    } else {
      ++a.inserted;
    }
  }
  return a;
}

}  // namespace convfix
