// Strategy "parameters": copy the source's weights, bias and normalisation
// statistics into the aligned target layer, in the target's layout; where
// the target folded a BatchNorm (or other affine nodes) into its weights and
// the source did not, the source's folded form (docs/DIAGNOSIS.md, "repair").
#include <cmath>
#include <cstdio>
#include <optional>

#include "diagnose/layer_params.h"
#include "diagnose/op_classes.h"
#include "repair/repair_internal.h"

namespace convfix {

namespace {

std::string summary(const Tensor& t) {
  double mx = 0, sum = 0;
  auto f = t.to_f32();
  if (f.ok()) {
    const float* d = f->data<float>();
    for (int64_t i = 0; i < f->numel(); ++i) {
      mx = std::max(mx, static_cast<double>(std::fabs(d[i])));
      sum += std::fabs(d[i]);
    }
  }
  char buf[96];
  std::snprintf(buf, sizeof buf, "%s, mean |x| %.3g, max |x| %.3g", dims_to_string(t.dims()).c_str(),
                t.numel() ? sum / static_cast<double>(t.numel()) : 0.0, mx);
  return buf;
}

// What a parameter candidate writes into the target layer; absent parts stay.
struct LayerWrite {
  std::optional<Tensor> weight, bias;                     // canonical layout
  std::vector<std::pair<std::string, Tensor>> sides;      // value name -> new value
};

// Applies `w` to the layer of `g`; returns the nodes that read what changed.
Expected<std::set<std::string>> apply_write(Graph& g, const Layer& layer, const LayerWrite& w) {
  std::set<std::string> dirty;
  if (w.weight) {
    CONVFIX_ASSIGN_OR_RETURN(std::string wn, write_anchor_weight(g, layer, *w.weight));
    dirty.merge(consumers_of(g, wn));
  }
  if (w.bias) {
    CONVFIX_ASSIGN_OR_RETURN(std::string bn, write_anchor_bias(g, layer, *w.bias));
    dirty.merge(consumers_of(g, bn));
  }
  for (const auto& [name, t] : w.sides) {
    CONVFIX_ASSIGN_OR_RETURN(std::string root, write_constant(g, name, t));
    dirty.merge(consumers_of(g, root));
  }
  return dirty;
}

bool same_values(const Tensor& a, const Tensor& b) {
  if (a.numel() != b.numel()) return false;
  auto fa = a.to_f32(), fb = b.to_f32();
  if (!fa.ok() || !fb.ok()) return false;
  for (int64_t i = 0; i < a.numel(); ++i)
    if (fa->data<float>()[i] != fb->data<float>()[i]) return false;
  return true;
}

bool all_zero(const Tensor& t) {
  for (int64_t i = 0; i < t.numel(); ++i)
    if (t.data<float>()[i] != 0.0f) return false;
  return true;
}

}  // namespace

void parameter_candidates(const PairView& v, int row, const WriteCaps& caps, std::vector<Candidate>& out) {
  const AlignmentRow& r = v.align.rows[static_cast<size_t>(row)];
  if (r.status != "matched" || !caps.values) return;
  const RowFindings& f = v.rows[static_cast<size_t>(row)];
  if (!f.has_params || !f.params_differ || f.p_pattern == "quantized") return;
  const Layer& sl = v.src.layers[static_cast<size_t>(r.source_layer)];
  const Layer& tl = v.tgt.layers[static_cast<size_t>(r.target_layer)];
  const LinearParams sa = anchor_params(*v.sg, sl), ta = anchor_params(*v.tg, tl);
  if (!sa.valid || !ta.valid || sa.weight.dims() != ta.weight.dims()) return;
  const auto sside = side_params(*v.sg, sl), tside = side_params(*v.tg, tl);
  // Tensor-by-tensor copies only where both sides keep the same nodes: the
  // same normalisation tensors and as many affine nodes folded after the
  // anchor (a BiasAdd lowered as Add on one side only changes what the
  // anchor's own bias means).
  const LinearParams se = effective_params(*v.sg, sl), te = effective_params(*v.tg, tl);
  bool same_roles = sside.size() == tside.size() && se.folded_nodes.size() == te.folded_nodes.size();
  for (size_t i = 0; same_roles && i < sside.size(); ++i)
    same_roles = sside[i].role == tside[i].role && sside[i].value.numel() == tside[i].value.numel();
  const std::string tnode = v.tg->nodes[static_cast<size_t>(tl.anchor)].name;
  const std::string snode = v.sg->nodes[static_cast<size_t>(sl.anchor)].name;
  const std::string pattern = f.p_pattern.empty() ? "other" : f.p_pattern;

  if (same_roles) {
    // The same nodes on both sides: copy tensor by tensor.
    const bool needs_new_bias = sa.has_bias && !ta.has_bias;
    if (!needs_new_bias || caps.new_initializers) {
      Candidate c;
      c.strategy = "parameters";
      c.category = "parameters";
      c.source_node = snode;
      c.target_node = tnode;
      c.key = "parameters:copy:" + tnode;
      c.change = "copy the source's weights" + std::string(sa.has_bias || ta.has_bias ? " and bias" : "") +
                 (sside.empty() ? "" : " and " + std::to_string(sside.size()) + " normalisation tensors") +
                 " into the target layer (" + pattern + ")";
      if (needs_new_bias) c.change += "; the dropped bias input is restored";
      c.details = {{"pattern", pattern},
                   {"weight", {{"name", ta.weight_name}, {"old", summary(ta.weight)}, {"new", summary(sa.weight)}}}};
      if (sa.has_bias || ta.has_bias)
        c.details["bias"] = {{"name", ta.bias_name}, {"old", ta.has_bias ? summary(ta.bias) : "none"},
                             {"new", summary(sa.bias)}};
      nlohmann::json side = nlohmann::json::array();
      for (size_t i = 0; i < sside.size(); ++i)
        side.push_back({{"role", tside[i].role}, {"name", tside[i].name}, {"old", summary(tside[i].value)},
                        {"new", summary(sside[i].value)}});
      if (!side.empty()) c.details["normalisation"] = side;
      // Only the tensors that differ are written (a hybrid layer whose int8
      // weights match keeps them; only its float bias is restored).
      LayerWrite write;
      if (!same_values(sa.weight, ta.weight)) write.weight = sa.weight;
      if ((sa.has_bias || (ta.has_bias && !all_zero(ta.bias))) &&
          !(sa.has_bias && ta.has_bias && same_values(sa.bias, ta.bias)))
        write.bias = sa.bias;
      for (size_t i = 0; i < sside.size(); ++i)
        if (!same_values(sside[i].value, tside[i].value)) write.sides.emplace_back(tside[i].name, sside[i].value);
      const Layer layer = tl;
      c.structural = false;
      c.apply = [layer, write](Graph& g) { return apply_write(g, layer, write); };
      out.push_back(std::move(c));
    }
  }
  // The two sides fold differently (the target folded a BatchNorm the source
  // keeps, or keeps one the source folded): solve the target's anchor so that
  // its folded form equals the source's. The target's own affine nodes stay:
  // with its anchor set to ones / zeros (on a probe copy), its folded form
  // gives the per-channel scale s and shift t they apply, and
  //   W_t = W_s_eff / s,  b_t = (b_s_eff - t) / s.
  if (!same_roles && se.valid && te.valid && se.weight.dims() == ta.weight.dims() &&
      (ta.has_bias || caps.new_initializers)) {
    Graph probe = *v.tg;
    Tensor ones(DType::kF32, ta.weight.dims()), zeros(DType::kF32, {ta.weight.dim(0)});
    for (int64_t i = 0; i < ones.numel(); ++i) ones.data<float>()[i] = 1.0f;
    for (int64_t i = 0; i < zeros.numel(); ++i) zeros.data<float>()[i] = 0.0f;
    const bool probed = write_anchor_weight(probe, tl, ones).ok() && write_anchor_bias(probe, tl, zeros).ok();
    const LinearParams pe = probed ? effective_params(probe, tl) : LinearParams{};
    const int64_t O = ta.weight.dim(0), per = O ? ta.weight.numel() / O : 0;
    bool ok = pe.valid && pe.weight.dims() == ta.weight.dims() && per > 0;
    Tensor w(DType::kF32, ta.weight.dims()), b(DType::kF32, {O});
    for (int64_t o = 0; ok && o < O; ++o) {
      const float so = pe.weight.data<float>()[o * per], to = pe.bias.data<float>()[o];
      if (!(std::fabs(so) > 1e-12f) || !std::isfinite(so)) { ok = false; break; }
      for (int64_t k = 0; k < per; ++k) w.data<float>()[o * per + k] = se.weight.data<float>()[o * per + k] / so;
      b.data<float>()[o] = (se.bias.data<float>()[o] - to) / so;
    }
    if (ok) {
      Candidate c;
      c.strategy = "parameters";
      c.category = "parameters";
      c.source_node = snode;
      c.target_node = tnode;
      c.key = "parameters:folded:" + tnode;
      c.change = "set the target layer's weights and bias so that, with its " + std::to_string(te.folded_nodes.size()) +
                 " folded node(s), it computes the source's folded form (source folds " +
                 std::to_string(se.folded_nodes.size()) + ") (" + pattern + ")";
      c.details = {{"pattern", pattern}, {"folded_source_nodes", se.folded_nodes}, {"folded_target_nodes", te.folded_nodes},
                   {"weight", {{"name", ta.weight_name}, {"old", summary(ta.weight)}, {"new", summary(w)}}},
                   {"bias", {{"name", ta.bias_name}, {"old", ta.has_bias ? summary(ta.bias) : "none"}, {"new", summary(b)}}}};
      const Layer layer = tl;
      LayerWrite write;
      write.weight = w;
      write.bias = b;
      c.apply = [layer, write](Graph& g) { return apply_write(g, layer, write); };
      out.push_back(std::move(c));
    }
  }
}

}  // namespace convfix
