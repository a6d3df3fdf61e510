// Structural differences between the nodes of two aligned layers: the ops
// absorbed before and after the anchors (Pads, Transposes, Reshapes,
// activations, folded normalisations) — docs/DIAGNOSIS.md, "Structure".
#include <algorithm>
#include <map>

#include "diagnose/diagnose_internal.h"
#include "diagnose/op_classes.h"

namespace convfix {

namespace {

// Canonical names for ops that mean the same in both domains.
std::string canon(const Node& n) {
  static const std::map<std::string, std::string> kTfl = {
      {"RESHAPE", "Reshape"}, {"SQUEEZE", "Squeeze"}, {"EXPAND_DIMS", "Unsqueeze"}, {"TRANSPOSE", "Transpose"},
      {"QUANTIZE", "QuantizeLinear"}, {"DEQUANTIZE", "DequantizeLinear"}, {"CAST", "Cast"}, {"PAD", "Pad"},
      {"PADV2", "Pad"}, {"MIRROR_PAD", "Pad"}, {"ADD", "Add"}, {"SUB", "Sub"}, {"MUL", "Mul"}, {"DIV", "Div"}};
  if (is_tflite(n)) {
    auto it = kTfl.find(n.op_type);
    return it != kTfl.end() ? it->second : n.op_type;
  }
  if (n.op_type == "Flatten") return "Reshape";
  if (n.op_type == "Squeeze" || n.op_type == "Unsqueeze") return "Reshape";
  return n.op_type;
}

// Ops that never change values (compared only as a note when values differ).
bool value_neutral(const std::string& op) {
  return op == "Identity" || op == "Dropout" || op == "Cast" || op == "QuantizeLinear" || op == "DequantizeLinear";
}

std::map<std::string, int> op_counts(const Graph& g, const std::vector<size_t>& idx) {
  std::map<std::string, int> m;
  for (size_t i : idx) {
    const std::string c = canon(g.nodes[i]);
    if (!value_neutral(c)) m[c]++;
  }
  return m;
}

std::string side_diff(const std::map<std::string, int>& a, const std::map<std::string, int>& b, const char* where) {
  std::string extra, missing;
  for (const auto& [op, n] : b) {
    const int have = a.count(op) ? a.at(op) : 0;
    if (n > have) extra += (extra.empty() ? "" : ", ") + op + (n - have > 1 ? " x" + std::to_string(n - have) : "");
  }
  for (const auto& [op, n] : a) {
    const int have = b.count(op) ? b.at(op) : 0;
    if (n > have) missing += (missing.empty() ? "" : ", ") + op + (n - have > 1 ? " x" + std::to_string(n - have) : "");
  }
  std::string s;
  if (!extra.empty()) s += std::string("target has ") + extra + " " + where + " that the source has not";
  if (!missing.empty()) s += (s.empty() ? "" : "; ") + std::string("source has ") + missing + " " + where + " that the target has not";
  return s;
}

}  // namespace

std::vector<std::string> structure_notes(const LayerGraph& src, const Layer& sl, const LayerGraph& tgt, const Layer& tl) {
  std::vector<std::string> notes;
  const Graph& sg = *src.graph;
  const Graph& tg = *tgt.graph;
  if (sl.anchor >= 0 && tl.anchor >= 0) {
    const Node& a = sg.nodes[static_cast<size_t>(sl.anchor)];
    const Node& b = tg.nodes[static_cast<size_t>(tl.anchor)];
    const std::string oa = a.provenance.original_op.empty() ? a.op_type : a.provenance.original_op;
    const std::string ob = b.provenance.original_op.empty() ? b.op_type : b.provenance.original_op;
    if (canon(a) != canon(b) && !(is_tflite(a) || is_tflite(b)))
      notes.push_back("equivalent but different ops: " + oa + " in the source, " + ob + " in the target");
  }
  const std::string pre = side_diff(op_counts(sg, sl.pre), op_counts(tg, tl.pre), "before the layer");
  if (!pre.empty()) notes.push_back(pre);
  const std::string post = side_diff(op_counts(sg, sl.post), op_counts(tg, tl.post), "after the layer");
  if (!post.empty()) notes.push_back(post);
  if (sl.inputs.size() != tl.inputs.size())
    notes.push_back("the source layer has " + std::to_string(sl.inputs.size()) + " input layer(s), the target's " +
                    std::to_string(tl.inputs.size()));
  return notes;
}

}  // namespace convfix
