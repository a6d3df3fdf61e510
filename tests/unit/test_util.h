// tests/unit/test_util.h — helpers shared by the unit tests that build graphs
// and tensors by hand (diagnose_test, compare_models_test, executor_test).
//
// Contract: header-only and deterministic: random_tensor gives the same
// values for the same dims, seed and range on every run and platform that
// uses libstdc++'s mt19937 and uniform_real_distribution. Nothing here
// depends on gtest.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "convfix/graph.h"
#include "convfix/tensor.h"

namespace convfix::testutil {

// An f32 tensor of uniform values in [lo, hi), seeded.
inline Tensor random_tensor(std::vector<int64_t> dims, uint32_t seed, float lo = -1.f, float hi = 1.f) {
  Tensor t(DType::kF32, std::move(dims));
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = u(rng);
  return t;
}

// A node without attributes.
inline Node node(const std::string& name, const std::string& op, std::vector<std::string> in,
                 std::vector<std::string> out) {
  Node n;
  n.name = name;
  n.op_type = op;
  n.inputs = std::move(in);
  n.outputs = std::move(out);
  return n;
}

// An f32 value of unknown rank.
inline ValueInfo vinfo(const std::string& name) {
  ValueInfo v;
  v.name = name;
  v.dtype = DType::kF32;
  return v;
}
// An f32 value of the given (possibly symbolic) shape. (An initializer
// list, so that vinfo("x", {2}) means the fixed shape [2] below.)
inline ValueInfo vinfo(const std::string& name, std::initializer_list<Dim> dims) {
  ValueInfo v = vinfo(name);
  v.has_shape = true;
  v.shape = Shape(dims);
  return v;
}
// An f32 value of the given fixed shape.
inline ValueInfo vinfo(const std::string& name, const std::vector<int64_t>& dims) {
  ValueInfo v = vinfo(name);
  v.has_shape = true;
  for (int64_t d : dims) v.shape.push_back(Dim::of(d));
  return v;
}

}  // namespace convfix::testutil
