// elementwise_bench — time the elementwise, activation, softmax, reduction
// and cast kernels against ONNX Runtime on single-node models with CNN-sized
// tensors.
//
//   elementwise_bench [--threads 1,2] [--runs N] [--filter SUBSTRING] [--no-ort] [--keep DIR]
//
// For each case a one-node ONNX model is built in memory (second operands as
// initializers) and timed with the same thread count:
// - convfix: Executor::run through the library, 2 warm-up then N timed
//   runs;
// - ONNX Runtime: tools/ort_run.js --time N (intraOpNumThreads = threads).
// ort_run.js hands every output to JavaScript, which for a 25 MB output
// costs more than the op. So both runtimes are compared on the op followed
// by a ReduceMax over all axes (a scalar output; float outputs only, other
// cases are compared on the op alone), and convfix's time for the op alone
// is shown too. Prints, per case and thread count, the fastest run (the
// figure least disturbed by other processes on a shared machine): convfix
// op alone, convfix op+max, ORT op+max, the ratio of the last two (< 1:
// convfix faster) and convfix's memory throughput on the op alone (bytes of
// inputs + output per second).
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "convfix/executor.h"
#include "convfix/npy.h"
#include "convfix/onnx_format.h"

using namespace convfix;
namespace fs = std::filesystem;

namespace {

struct Operand {
  std::vector<int64_t> dims;
  DType dtype = DType::kF32;
  bool initializer = false;  // else a graph input fed from .npy
  std::vector<float> values;  // initializer values (f32 or converted); empty: random
};

struct BenchCase {
  std::string name, op;
  std::vector<Operand> ins;
  Attributes attrs;
  int64_t opset = 13;
};

Tensor make_tensor(const Operand& o, std::mt19937& rng) {
  Tensor f(DType::kF32, o.dims);
  std::uniform_real_distribution<float> u(-4.f, 4.f);
  for (int64_t i = 0; i < f.numel(); ++i)
    f.data<float>()[i] = o.values.empty() ? u(rng) : o.values[static_cast<size_t>(i) % o.values.size()];
  if (o.dtype == DType::kF32) return f;
  auto c = f.cast(o.dtype);
  return c.ok() ? c.value() : f;
}

std::vector<BenchCase> cases() {
  const std::vector<int64_t> act = {8, 64, 112, 112};  // 6.4M elements: an early CNN activation at batch 8
  std::vector<BenchCase> c;
  auto x = [&](std::vector<int64_t> d = {}, DType t = DType::kF32) { return Operand{d.empty() ? act : d, t, false, {}}; };
  auto w = [](std::vector<int64_t> d, std::vector<float> v = {}) { return Operand{std::move(d), DType::kF32, true, std::move(v)}; };
  c.push_back({"relu", "Relu", {x()}, {}, 14});
  c.push_back({"clip_0_6", "Clip", {x(), w({}, {0.f}), w({}, {6.f})}, {}, 13});
  c.push_back({"sigmoid", "Sigmoid", {x()}, {}, 13});
  c.push_back({"hardswish", "HardSwish", {x()}, {}, 14});
  c.push_back({"leakyrelu", "LeakyRelu", {x()}, {{"alpha", Attribute::of_float(0.1f)}}, 16});
  c.push_back({"tanh", "Tanh", {x()}, {}, 13});
  c.push_back({"exp", "Exp", {x()}, {}, 13});
  c.push_back({"add_same", "Add", {x(), x()}, {}, 14});
  c.push_back({"add_bias_c11", "Add", {x(), w({64, 1, 1})}, {}, 14});
  c.push_back({"mul_scale_1c11", "Mul", {x(), w({1, 64, 1, 1})}, {}, 14});
  c.push_back({"mul_scalar", "Mul", {x(), w({}, {0.5f})}, {}, 14});
  c.push_back({"add_nhwc_bias", "Add", {x({8, 112, 112, 64}), w({64})}, {}, 14});
  c.push_back({"div_same", "Div", {x(), x()}, {}, 14});
  c.push_back({"greater_scalar", "Greater", {x(), w({}, {0.f})}, {}, 13});
  c.push_back({"where_same", "Where", {Operand{act, DType::kBool, false, {}}, x(), x()}, {}, 16});
  c.push_back({"softmax_1000", "Softmax", {x({64, 1000})}, {{"axis", Attribute::of_int(-1)}}, 13});
  c.push_back({"softmax_attention", "Softmax", {x({8, 12, 128, 128})}, {{"axis", Attribute::of_int(-1)}}, 13});
  c.push_back({"softmax_channel", "Softmax", {x({8, 21, 128, 128})}, {{"axis", Attribute::of_int(1)}}, 13});
  c.push_back({"reducemean_hw", "ReduceMean", {x({8, 1280, 7, 7})}, {{"axes", Attribute::of_ints({2, 3})}}, 13});
  c.push_back({"reducemean_hw_big", "ReduceMean", {x()}, {{"axes", Attribute::of_ints({2, 3})}}, 13});
  c.push_back({"reducesum_channel", "ReduceSum", {x(), Operand{{1}, DType::kI64, true, {1.f}}}, {}, 13});
  c.push_back({"reducemax_last", "ReduceMax", {x()}, {{"axes", Attribute::of_ints({3})}}, 13});
  c.push_back({"argmax_1000", "ArgMax", {x({64, 1000})}, {{"axis", Attribute::of_int(1)}}, 13});
  c.push_back({"cast_f32_f16", "Cast", {x()}, {{"to", Attribute::of_int(10)}}, 13});
  c.push_back({"cast_f16_f32", "Cast", {x({}, DType::kF16)}, {{"to", Attribute::of_int(1)}}, 13});
  return c;
}

std::vector<int> split_ints(const std::string& s) {
  std::vector<int> r;
  std::stringstream ss(s);
  std::string part;
  while (std::getline(ss, part, ',')) r.push_back(std::stoi(part));
  return r;
}

double minimum(const std::vector<double>& v) { return v.empty() ? 0 : *std::min_element(v.begin(), v.end()); }

// Runs a command, returns its stdout (empty on failure).
std::string run_capture(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  const int st = pclose(p);
  if (st != 0) return {};
  return out;
}

double json_number(const std::string& s, const std::string& key) {
  const auto k = s.find("\"" + key + "\":");
  if (k == std::string::npos) return -1;
  return std::atof(s.c_str() + k + key.size() + 3);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> threads = {1, 2};
  int runs = 10;
  std::string filter, keep;
  bool ort = true;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << k << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (k == "--threads") threads = split_ints(next());
    else if (k == "--runs") runs = std::stoi(next());
    else if (k == "--filter") filter = next();
    else if (k == "--keep") keep = next();
    else if (k == "--no-ort") ort = false;
    else {
      std::cerr << "usage: elementwise_bench [--threads 1,2] [--runs N] [--filter SUBSTRING] [--no-ort] [--keep DIR]\n";
      return 2;
    }
  }
  const fs::path dir = keep.empty() ? fs::temp_directory_path() / ("cf_ew_bench_" + std::to_string(getpid())) : fs::path(keep);
  fs::create_directories(dir);
  const std::string ort_run = std::string(CONVFIX_SOURCE_DIR) + "/tools/ort_run.js";
  std::printf("%-20s %-19s %3s %9s %11s %11s %7s %6s\n", "case", "shape", "thr", "cf op ms", "cf +max ms", "ORT +max ms",
              "ratio", "GB/s");
  std::mt19937 rng(1);
  for (const auto& bc : cases()) {
    if (!filter.empty() && bc.name.find(filter) == std::string::npos) continue;
    auto g = std::make_shared<Graph>();
    g->name = bc.name;
    g->info.format = "onnx";
    g->info.ir_version = 8;
    g->info.opsets[""] = bc.opset;
    Node n;
    n.name = "n0";
    n.op_type = bc.op;
    n.attrs = bc.attrs;
    n.outputs = {"y"};
    TensorMap feeds;
    std::vector<std::string> ort_inputs;
    double bytes = 0;
    for (size_t i = 0; i < bc.ins.size(); ++i) {
      const Operand& o = bc.ins[i];
      const std::string name = "x" + std::to_string(i);
      Tensor t = make_tensor(o, rng);
      if (o.dtype == DType::kBool) {
        for (int64_t j = 0; j < t.numel(); ++j) t.data<uint8_t>()[j] = static_cast<uint8_t>(rng() & 1);
      }
      if (o.dtype == DType::kI64 && !o.values.empty()) {
        for (int64_t j = 0; j < t.numel(); ++j) t.data<int64_t>()[j] = static_cast<int64_t>(o.values[static_cast<size_t>(j) % o.values.size()]);
      }
      bytes += static_cast<double>(t.nbytes());
      n.inputs.push_back(name);
      if (o.initializer) {
        g->initializers[name] = t;
      } else {
        ValueInfo vi;
        vi.name = name;
        vi.dtype = o.dtype;
        for (int64_t d : o.dims) vi.shape.push_back(Dim::of(d));
        vi.has_shape = true;
        g->inputs.push_back(vi);
        feeds[name] = t;
        const std::string f = (dir / (bc.name + "_" + name + ".npy")).string();
        if (ort) {
          Status st = write_npy(t, f);
          if (!st.ok()) {
            std::cerr << st.to_string() << "\n";
            return 1;
          }
        }
        ort_inputs.push_back(name + "=" + f);
      }
    }
    g->nodes.push_back(n);
    ValueInfo out;
    out.name = "y";
    g->outputs.push_back(out);
    // The output's element type, from one run (the ONNX file needs it).
    DType out_type = DType::kUndefined;
    {
      auto ex = Executor::create(g, ExecOptions{});
      auto res = ex.ok() ? (*ex)->run(feeds) : Expected<TensorMap>(ex.status());
      if (!res.ok()) {
        std::cerr << bc.name << ": " << res.status().to_string() << "\n";
        return 1;
      }
      out_type = res->at("y").dtype();
      g->outputs[0].dtype = out_type;
    }
    // The compared model: op + ReduceMax(all) for float outputs.
    auto gc = std::make_shared<Graph>(*g);
    if (out_type == DType::kF32 || out_type == DType::kF16) {
      Node tail;
      tail.name = "tail";
      tail.op_type = "ReduceMax";
      tail.inputs = {"y"};
      tail.outputs = {"z"};
      tail.attrs["keepdims"] = Attribute::of_int(0);
      gc->nodes.push_back(tail);
      gc->outputs[0].name = "z";
    }
    const std::string out_name = gc->outputs[0].name;
    const std::string model = (dir / (bc.name + ".onnx")).string();
    if (ort) {
      Status st = write_onnx(*gc, model);
      if (!st.ok()) {
        std::cerr << st.to_string() << "\n";
        return 1;
      }
    }
    std::string shape = dims_to_string(bc.ins[0].dims);
    for (int t : threads) {
      ExecOptions eo;
      eo.threads = t;
      double out_bytes = 0;
      // Fastest of `runs` timed runs of graph gr (after 2 warm-up runs).
      auto time_graph = [&](std::shared_ptr<Graph> gr, const std::string& result) -> double {
        auto ex = Executor::create(gr, eo);
        if (!ex.ok()) {
          std::cerr << bc.name << ": " << ex.status().to_string() << "\n";
          std::exit(1);
        }
        std::vector<double> ms;
        for (int r = 0; r < runs + 2; ++r) {
          const auto t0 = std::chrono::steady_clock::now();
          auto res = (*ex)->run(feeds);
          const auto t1 = std::chrono::steady_clock::now();
          if (!res.ok()) {
            std::cerr << bc.name << ": " << res.status().to_string() << "\n";
            std::exit(1);
          }
          if (result == "y") out_bytes = static_cast<double>(res->at("y").nbytes());
          if (r >= 2) ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
        }
        return minimum(ms);
      };
      const double cf = time_graph(g, "y");
      const double cf_chain = out_name == "y" ? cf : time_graph(gc, out_name);
      double ort_ms = -1;
      if (ort) {
        std::string cmd = "node '" + ort_run + "' '" + model + "'";
        for (const auto& in : ort_inputs) cmd += " --input '" + in + "'";
        cmd += " --threads " + std::to_string(t) + " --time " + std::to_string(runs) + " --warmup 2 2>/dev/null";
        ort_ms = json_number(run_capture(cmd), "min_ms");
      }
      const double gbs = (bytes + out_bytes) / (cf * 1e-3) / 1e9;
      if (ort_ms > 0)
        std::printf("%-20s %-19s %3d %9.3f %11.3f %11.3f %7.2f %6.1f\n", bc.name.c_str(), shape.c_str(), t, cf, cf_chain,
                    ort_ms, cf_chain / ort_ms, gbs);
      else
        std::printf("%-20s %-19s %3d %9.3f %11.3f %11s %7s %6.1f\n", bc.name.c_str(), shape.c_str(), t, cf, cf_chain, "-",
                    "-", gbs);
      std::fflush(stdout);
    }
  }
  if (keep.empty()) fs::remove_all(dir);
  return 0;
}
