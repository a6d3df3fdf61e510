// convfix/scores.h — class scores of classification outputs: softmax, top-k,
// and Kendall's tau between two top-k rankings.
//
// Contract (docs/DIAGNOSIS.md, section "compare", states the same with examples):
// - looks_like_probabilities(row): every value in [-1e-6, 1 + 1e-6] and the
//   sum within 1e-3 of 1. NaN makes it false.
// - softmax_inplace(row): exp(v - max) / sum, computed with a double sum;
//   an empty row stays empty. NaN/inf inputs give NaN, never a crash.
// - top_k(row, k): the indices of the k largest values (k is clipped to the
//   row length), largest first; equal values keep index order (lower index
//   first); NaN ranks below every number (so a NaN row still gives k indices).
// - kendall_tau_topk(a, b): Kendall's tau-b between two ranked lists of class
//   indices (each without repeats, best first), over the union U of the two
//   lists. A class at position p (0-based) of a list has rank p; a class
//   missing from a list gets rank |list| (all missing classes tie just below
//   the list's last entry). With, over the unordered pairs {i, j} of U,
//     C = concordant pairs (both lists order i and j the same way, no tie),
//     D = discordant pairs (opposite order, no tie in either),
//     n0 = |U|(|U|-1)/2, t_a = pairs tied in a, t_b = pairs tied in b,
//   tau = (C - D) / sqrt((n0 - t_a)(n0 - t_b)). It is 1 for identical ordered
//   lists and -1 for one list reversed; for disjoint 5-lists it is -25/35.
//   When |U| < 2, or a denominator factor is 0 (an empty list), tau is 1 if
//   the lists are equal and 0 otherwise. Both lists empty: 1.
// Nothing here prints or allocates more than O(row) memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace convfix {

bool looks_like_probabilities(const float* row, size_t n);
bool looks_like_probabilities(const std::vector<std::vector<float>>& rows);  // every row
void softmax_inplace(std::vector<float>& row);
std::vector<size_t> top_k(const float* row, size_t n, size_t k);
std::vector<size_t> top_k(const std::vector<float>& row, size_t k);
double kendall_tau_topk(const std::vector<int64_t>& a, const std::vector<int64_t>& b);

}  // namespace convfix
