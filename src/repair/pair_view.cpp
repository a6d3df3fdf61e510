// The static view of the pair that the strategies read (repair_internal.h):
// layers, alignment, parameter and hyperparameter findings, structure notes.
#include "repair/repair_internal.h"

namespace convfix {

PairView analyse_pair(const Graph& sg, const ValueDims& ss, const Graph& tg, const ValueDims& ts) {
  PairView v;
  v.sg = &sg;
  v.tg = &tg;
  v.ss = ss;
  v.ts = ts;
  v.src = build_layers(sg, v.ss.empty() ? nullptr : &v.ss);
  v.tgt = build_layers(tg, v.ts.empty() ? nullptr : &v.ts);
  v.align = align_layers(v.src, v.tgt, v.ss.empty() ? nullptr : &v.ss, v.ts.empty() ? nullptr : &v.ts);
  v.rows.resize(v.align.rows.size());
  for (const auto& r : v.align.rows) {
    if (r.status != "matched") continue;
    const Layer& sl = v.src.layers[static_cast<size_t>(r.source_layer)];
    const Layer& tl = v.tgt.layers[static_cast<size_t>(r.target_layer)];
    RowFindings& x = v.rows[static_cast<size_t>(r.index)];
    compare_parameters(sg, sl, v.ss, tg, tl, v.ts, x);
    compare_hyperparameters(sg, sl, v.ss, tg, tl, v.ts, r.layout, x);
    x.structure = structure_notes(v.src, sl, v.tgt, tl);
  }
  return v;
}

int PairView::row_of_target(const std::string& node) const {
  for (const auto& r : align.rows)
    if (r.target_layer >= 0 && tgt.layers[static_cast<size_t>(r.target_layer)].name == node) return r.index;
  return -1;
}

int PairView::row_of_source(const std::string& node) const {
  for (const auto& r : align.rows)
    if (r.source_layer >= 0 && src.layers[static_cast<size_t>(r.source_layer)].name == node) return r.index;
  return -1;
}

}  // namespace convfix
