// Strategy "preprocessing": when the diagnosis found that another input
// pipeline explains the discrepancy, say which preprocessing the target
// needs; with --embed-preprocessing, fold the value part of it (channel
// order, scale, shift) into the model as nodes in front of its input, so
// the target accepts what it is fed now. Geometry (the crop fraction) cannot
// live in a model: the pipeline must change it.
#include <cmath>

#include "convfix/preprocess.h"
#include "diagnose/op_classes.h"
#include "repair/repair_internal.h"

namespace convfix {

namespace {

// x_want[c] = a[c] * x_have[src[c]] + b[c], per tensor channel.
struct ChannelMap {
  std::array<int, 3> src{0, 1, 2};
  std::array<float, 3> a{1, 1, 1}, b{0, 0, 0};
};

ChannelMap channel_map(const Preset& have, const Preset& want) {
  ChannelMap m;
  for (int c = 0; c < 3; ++c) {
    const int rgb = want.bgr ? 2 - c : c;
    const int cp = have.bgr ? 2 - rgb : rgb;
    m.src[static_cast<size_t>(c)] = cp;
    const double hs = have.stddev[static_cast<size_t>(cp)], hm = have.mean[static_cast<size_t>(cp)];
    const double ws = want.stddev[static_cast<size_t>(c)], wm = want.mean[static_cast<size_t>(c)];
    m.a[static_cast<size_t>(c)] = static_cast<float>(want.scale * hs / (have.scale * ws));
    m.b[static_cast<size_t>(c)] = static_cast<float>((want.scale * hm / have.scale - wm) / ws);
  }
  return m;
}

Expected<std::set<std::string>> embed(Graph& g, const ChannelMap& m, Layout layout, bool tflite) {
  if (g.inputs.size() != 1) return not_implemented("embedding preprocessing needs one input");
  const ValueInfo in = g.inputs[0];
  if (!dtype_is_float(in.dtype) && in.dtype != DType::kUndefined)
    return not_implemented("input '" + in.name + "' is " + dtype_name(in.dtype) + "; embedding needs a float input");
  const int64_t axis = layout == Layout::kNCHW ? 1 : 3;
  std::vector<int64_t> cshape = layout == Layout::kNCHW ? std::vector<int64_t>{1, 3, 1, 1} : std::vector<int64_t>{3};
  const bool permute = m.src != std::array<int, 3>{0, 1, 2};
  std::vector<Node> nodes;
  std::string cur = in.name;
  const std::string final_name = g.unique_value_name(in.name + "_preprocessed");
  g.rewire(in.name, final_name);
  auto value = [&](const std::string& base) {
    const std::string v = g.unique_value_name(in.name + "_" + base);
    ValueInfo vi = in;
    vi.name = v;
    vi.quant.reset();
    g.value_info[v] = vi;
    return v;
  };
  auto constant = [&](const std::string& base, Tensor t) {
    const std::string v = g.unique_value_name(in.name + "_" + base);
    g.initializers[v] = std::move(t);
    return v;
  };
  if (permute) {
    Tensor idx(tflite ? DType::kI32 : DType::kI64, {3});
    for (int c = 0; c < 3; ++c) {
      if (tflite) idx.data<int32_t>()[c] = m.src[static_cast<size_t>(c)];
      else idx.data<int64_t>()[c] = m.src[static_cast<size_t>(c)];
    }
    Node n;
    n.name = g.unique_node_name("preprocessing/channel_order");
    n.op_type = tflite ? "GATHER" : "Gather";
    n.domain = tflite ? "tflite" : "";
    n.inputs = {cur, constant("channel_order", idx)};
    n.outputs = {value("rgb")};
    n.attrs["axis"] = Attribute::of_int(axis);
    if (tflite) n.attrs["batch_dims"] = Attribute::of_int(0);
    cur = n.outputs[0];
    nodes.push_back(std::move(n));
  }
  Tensor a(DType::kF32, cshape), b(DType::kF32, cshape);
  for (int c = 0; c < 3; ++c) {
    a.data<float>()[c] = m.a[static_cast<size_t>(c)];
    b.data<float>()[c] = m.b[static_cast<size_t>(c)];
  }
  Node mul;
  mul.name = g.unique_node_name("preprocessing/scale");
  mul.op_type = tflite ? "MUL" : "Mul";
  mul.domain = tflite ? "tflite" : "";
  mul.inputs = {cur, constant("scale", a)};
  mul.outputs = {value("scaled")};
  if (tflite) mul.attrs["fused_activation_function"] = Attribute::of_string("NONE");
  cur = mul.outputs[0];
  nodes.push_back(std::move(mul));
  Node add;
  add.name = g.unique_node_name("preprocessing/shift");
  add.op_type = tflite ? "ADD" : "Add";
  add.domain = tflite ? "tflite" : "";
  add.inputs = {cur, constant("shift", b)};
  add.outputs = {final_name};
  if (tflite) add.attrs["fused_activation_function"] = Attribute::of_string("NONE");
  {
    ValueInfo vi = in;
    vi.name = final_name;
    vi.quant.reset();
    g.value_info[final_name] = vi;
  }
  nodes.push_back(std::move(add));
  std::set<std::string> dirty;
  for (size_t i = 0; i < nodes.size(); ++i) {
    dirty.insert(nodes[i].name);
    g.insert_node(i, std::move(nodes[i]));
  }
  return dirty;
}

}  // namespace

void preprocessing_candidates(const nlohmann::json& diagnosis, const CompareModelSpec& target, bool embed_it,
                              const ModelState& target_state, const WriteCaps& caps, std::vector<Candidate>& out) {
  const auto& pre = diagnosis.value("preprocessing", nlohmann::json::object());
  if (!pre.is_object() || !pre.value("tested", false) || !pre["best"].is_string()) return;
  const std::string best = pre["best"];
  nlohmann::json hyp;
  for (const auto& h : pre.value("hypotheses", nlohmann::json::array()))
    if (h.value("name", "") == best) hyp = h;
  if (!hyp.is_object() || !hyp.value("explains", false) || !hyp["preset"].is_string()) return;
  const std::string preset = hyp["preset"];
  auto want = preset_by_name(preset);
  auto have = preset_by_name(target.preset);
  if (!want.ok() || !have.ok()) return;
  const float crop = want->crop_fraction;
  {
    Candidate c;
    c.strategy = "preprocessing";
    c.category = "preprocessing";
    c.source_node = "input";
    c.target_node = "input";
    c.change = "feed the target with the " + preset + " preprocessing instead of " + target.preset +
               " (" + hyp.value("description", "") + ")";
    c.details = {{"preset", preset}, {"crop_fraction", crop}, {"was", target.preset}, {"embedded", false}};
    c.key = "preprocessing:" + preset;
    c.target_preset = preset;
    c.target_crop = crop;
    c.apply = [](Graph&) -> Expected<std::set<std::string>> { return std::set<std::string>{}; };
    out.push_back(std::move(c));
  }
  if (!embed_it || !caps.structure || target_state.input.channels != 3) return;
  const ChannelMap m = channel_map(*have, *want);
  Candidate c;
  c.strategy = "preprocessing";
  c.category = "preprocessing";
  c.source_node = "input";
  c.target_node = "input";
  const float have_crop = target.crop_fraction != 0 ? target.crop_fraction : have->crop_fraction;
  c.change = "embed the " + preset + " preprocessing into the model: it now takes " + target.preset +
             " inputs (channel order, scale and shift as nodes in front of the input)";
  if (crop != have_crop) c.change += "; the crop fraction must still change in the pipeline: " + std::to_string(have_crop).substr(0, 5) + " -> " + std::to_string(crop).substr(0, 5);
  c.details = {{"preset", preset}, {"crop_fraction", crop}, {"was", target.preset}, {"embedded", true},
               {"channel_source", m.src}, {"scale", m.a}, {"shift", m.b}};
  c.key = "preprocessing:embed:" + preset;
  c.structural = true;
  c.target_crop = crop;
  const Layout layout = target_state.input.layout;
  const bool tflite = caps.tflite_domain;
  c.apply = [m, layout, tflite](Graph& g) { return embed(g, m, layout, tflite); };
  // Asked for: the embedded form is tried before the pipeline-only one.
  out.insert(out.end() - 1, std::move(c));
}

}  // namespace convfix
