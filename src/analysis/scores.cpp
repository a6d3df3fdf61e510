// Softmax, top-k and Kendall's tau for top-k lists (contract in convfix/scores.h).
#include "convfix/scores.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_map>

namespace convfix {

bool looks_like_probabilities(const float* row, size_t n) {
  double sum = 0;
  for (size_t i = 0; i < n; ++i) {
    const float v = row[i];
    if (!(v >= -1e-6f && v <= 1.0f + 1e-6f)) return false;
    sum += v;
  }
  return std::abs(sum - 1.0) <= 1e-3;
}

bool looks_like_probabilities(const std::vector<std::vector<float>>& rows) {
  for (const auto& r : rows)
    if (!looks_like_probabilities(r.data(), r.size())) return false;
  return true;
}

void softmax_inplace(std::vector<float>& r) {
  if (r.empty()) return;
  float mx = -INFINITY;
  bool nan = false;
  for (float v : r) {
    if (std::isnan(v)) nan = true;
    else mx = std::max(mx, v);
  }
  if (nan || !std::isfinite(mx)) {
    // NaN anywhere, or +inf / all -inf: no meaningful distribution.
    std::fill(r.begin(), r.end(), NAN);
    return;
  }
  double sum = 0;
  for (float& v : r) {
    v = std::exp(v - mx);
    sum += v;
  }
  for (float& v : r) v = static_cast<float>(v / sum);
}

std::vector<size_t> top_k(const float* r, size_t n, size_t k) {
  std::vector<size_t> idx(n);
  std::iota(idx.begin(), idx.end(), size_t{0});
  k = std::min(k, n);
  // A strict weak order even with NaN: NaN is below every number, NaNs by index.
  auto before = [&](size_t a, size_t b) {
    const bool na = std::isnan(r[a]), nb = std::isnan(r[b]);
    if (na != nb) return nb;
    if (!na && r[a] != r[b]) return r[a] > r[b];
    return a < b;
  };
  std::partial_sort(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(k), idx.end(), before);
  idx.resize(k);
  return idx;
}

std::vector<size_t> top_k(const std::vector<float>& r, size_t k) { return top_k(r.data(), r.size(), k); }

double kendall_tau_topk(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  if (a == b) return 1.0;
  std::vector<int64_t> u;
  std::unordered_map<int64_t, size_t> ra, rb;
  for (size_t i = 0; i < a.size(); ++i) {
    ra.emplace(a[i], i);
    u.push_back(a[i]);
  }
  for (size_t i = 0; i < b.size(); ++i) {
    rb.emplace(b[i], i);
    if (!ra.count(b[i])) u.push_back(b[i]);
  }
  if (u.size() < 2) return 0.0;  // equal lists were handled above
  auto rank = [](const std::unordered_map<int64_t, size_t>& m, size_t missing, int64_t c) {
    auto it = m.find(c);
    return it == m.end() ? missing : it->second;
  };
  int64_t conc = 0, disc = 0, ta = 0, tb = 0;
  for (size_t i = 0; i < u.size(); ++i) {
    for (size_t j = i + 1; j < u.size(); ++j) {
      const auto ai = rank(ra, a.size(), u[i]), aj = rank(ra, a.size(), u[j]);
      const auto bi = rank(rb, b.size(), u[i]), bj = rank(rb, b.size(), u[j]);
      const bool tie_a = ai == aj, tie_b = bi == bj;
      ta += tie_a;
      tb += tie_b;
      if (tie_a || tie_b) continue;
      if ((ai < aj) == (bi < bj)) ++conc;
      else ++disc;
    }
  }
  const int64_t n0 = static_cast<int64_t>(u.size() * (u.size() - 1) / 2);
  const double den = std::sqrt(static_cast<double>(n0 - ta) * static_cast<double>(n0 - tb));
  if (den == 0) return 0.0;
  return static_cast<double>(conc - disc) / den;
}

}  // namespace convfix
