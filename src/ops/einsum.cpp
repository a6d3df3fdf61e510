// Einsum: explicit ("ij,jk->ik") and implicit ("ij,jk") equations, repeated
// labels within one input (diagonals), "..." broadcast dimensions, any
// number of inputs. Reference kernel: for every output element, a direct
// sum over the contracted labels (no GEMM fast path), accumulated in double
// for floats and in 64-bit for integers. Size-1 dimensions broadcast.
#include <algorithm>
#include <array>
#include <string>
#include <type_traits>

#include "ops/elementwise_util.h"

namespace convfix {
namespace {

constexpr int kLetters = 52;  // a-z, A-Z; ellipsis dims get labels from kLetters on

int letter_label(char c) {
  if (c >= 'a' && c <= 'z') return c - 'a';
  if (c >= 'A' && c <= 'Z') return 26 + (c - 'A');
  return -1;
}

struct Term {
  std::vector<int> labels;  // -1 marks the position of "..."
  bool ellipsis = false;
};

bool parse_term(const std::string& s, Term* t) {
  for (size_t i = 0; i < s.size();) {
    if (s.compare(i, 3, "...") == 0) {
      if (t->ellipsis) return false;
      t->ellipsis = true;
      t->labels.push_back(-1);
      i += 3;
      continue;
    }
    const int l = letter_label(s[i]);
    if (l < 0) return false;
    t->labels.push_back(l);
    ++i;
  }
  return true;
}

struct Plan {
  std::vector<int64_t> out_dims;
  std::vector<int64_t> out_sizes, red_sizes;                // per output / contracted label
  std::vector<std::vector<int64_t>> out_strides, red_strides;  // per input, per label
};

Status make_plan(const KernelContext& ctx, const std::string& equation, const std::vector<const Tensor*>& ins,
                 Plan* p) {
  std::string eq;
  for (char c : equation)
    if (c != ' ') eq += c;
  const size_t arrow = eq.find("->");
  const std::string lhs = eq.substr(0, arrow);
  std::vector<Term> terms;
  size_t start = 0;
  for (;;) {
    const size_t comma = lhs.find(',', start);
    Term t;
    if (!parse_term(lhs.substr(start, comma == std::string::npos ? std::string::npos : comma - start), &t))
      return ctx.error("cannot parse equation '" + equation + "'");
    terms.push_back(std::move(t));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (terms.size() != ins.size())
    return ctx.error("equation '" + equation + "' names " + std::to_string(terms.size()) + " inputs, node has " +
                     std::to_string(ins.size()));
  // Ellipsis rank and label sizes.
  int64_t ell = 0;
  for (size_t k = 0; k < terms.size(); ++k) {
    const int64_t letters = static_cast<int64_t>(terms[k].labels.size()) - (terms[k].ellipsis ? 1 : 0);
    const int64_t r = ins[k]->rank();
    if (terms[k].ellipsis ? r < letters : r != letters)
      return ctx.error("input " + std::to_string(k) + " has rank " + std::to_string(r) + ", equation term needs " +
                       (terms[k].ellipsis ? "at least " : "") + std::to_string(letters));
    if (terms[k].ellipsis) ell = std::max(ell, r - letters);
  }
  const int n_labels = kLetters + static_cast<int>(ell);
  std::vector<int64_t> size(static_cast<size_t>(n_labels), -1);
  std::vector<int> count(static_cast<size_t>(n_labels), 0);
  // Per input: the label of every dimension.
  std::vector<std::vector<int>> dim_labels(ins.size());
  for (size_t k = 0; k < terms.size(); ++k) {
    const int64_t r = ins[k]->rank();
    const int64_t letters = static_cast<int64_t>(terms[k].labels.size()) - (terms[k].ellipsis ? 1 : 0);
    const int64_t my_ell = r - letters;
    for (int l : terms[k].labels) {
      if (l >= 0) {
        dim_labels[k].push_back(l);
        continue;
      }
      for (int64_t e = 0; e < my_ell; ++e) dim_labels[k].push_back(kLetters + static_cast<int>(ell - my_ell + e));
    }
    for (int64_t d = 0; d < r; ++d) {
      const int l = dim_labels[k][static_cast<size_t>(d)];
      const int64_t v = ins[k]->dim(d);
      int64_t& s = size[static_cast<size_t>(l)];
      if (s < 0 || s == 1) s = v;  // first use, or a broadcast 1 so far
      else if (v != s && v != 1)
        return ctx.error("input " + std::to_string(k) + " dim " + std::to_string(d) + " has size " + std::to_string(v) +
                         ", another use of the same label has " + std::to_string(s));
    }
    std::vector<bool> seen(static_cast<size_t>(n_labels), false);
    for (int l : dim_labels[k])
      if (!seen[static_cast<size_t>(l)]) {
        seen[static_cast<size_t>(l)] = true;
        ++count[static_cast<size_t>(l)];
      }
    // A letter repeated within one input counts twice for the implicit output rule.
    for (size_t i = 0; i < terms[k].labels.size(); ++i)
      for (size_t j = i + 1; j < terms[k].labels.size(); ++j)
        if (terms[k].labels[i] >= 0 && terms[k].labels[i] == terms[k].labels[j]) ++count[static_cast<size_t>(terms[k].labels[i])];
  }
  std::vector<int> out_labels;
  if (arrow != std::string::npos) {
    Term t;
    if (!parse_term(eq.substr(arrow + 2), &t)) return ctx.error("cannot parse the output of equation '" + equation + "'");
    for (int l : t.labels) {
      if (l < 0) {
        for (int64_t e = 0; e < ell; ++e) out_labels.push_back(kLetters + static_cast<int>(e));
      } else {
        if (size[static_cast<size_t>(l)] < 0)
          return ctx.error("output label of equation '" + equation + "' does not appear in any input");
        if (std::find(out_labels.begin(), out_labels.end(), l) != out_labels.end())
          return ctx.error("output label repeated in equation '" + equation + "'");
        out_labels.push_back(l);
      }
    }
  } else {
    for (int64_t e = 0; e < ell; ++e) out_labels.push_back(kLetters + static_cast<int>(e));
    // Letters used exactly once, in alphabetical (ASCII: upper case first) order.
    std::vector<std::pair<char, int>> once;
    for (int l = 0; l < kLetters; ++l)
      if (count[static_cast<size_t>(l)] == 1)
        once.push_back({static_cast<char>(l < 26 ? 'a' + l : 'A' + (l - 26)), l});
    std::sort(once.begin(), once.end());
    for (const auto& [c, l] : once) out_labels.push_back(l);
  }
  std::vector<bool> is_out(static_cast<size_t>(n_labels), false);
  for (int l : out_labels) is_out[static_cast<size_t>(l)] = true;
  std::vector<int> red_labels;
  for (int l = 0; l < n_labels; ++l)
    if (size[static_cast<size_t>(l)] >= 0 && !is_out[static_cast<size_t>(l)]) red_labels.push_back(l);
  // Strides of each input per label (summed over repeats: diagonals; 0 where broadcast).
  std::vector<std::vector<int64_t>> label_stride(ins.size(), std::vector<int64_t>(static_cast<size_t>(n_labels), 0));
  for (size_t k = 0; k < ins.size(); ++k) {
    const auto st = ops::strides_of(ins[k]->dims());
    for (size_t d = 0; d < dim_labels[k].size(); ++d) {
      const int l = dim_labels[k][d];
      if (ins[k]->dim(static_cast<int64_t>(d)) == 1 && size[static_cast<size_t>(l)] != 1) continue;
      label_stride[k][static_cast<size_t>(l)] += st[d];
    }
  }
  for (int l : out_labels) {
    p->out_dims.push_back(size[static_cast<size_t>(l)]);
    p->out_sizes.push_back(size[static_cast<size_t>(l)]);
  }
  for (int l : red_labels) p->red_sizes.push_back(size[static_cast<size_t>(l)]);
  p->out_strides.assign(ins.size(), {});
  p->red_strides.assign(ins.size(), {});
  for (size_t k = 0; k < ins.size(); ++k) {
    for (int l : out_labels) p->out_strides[k].push_back(label_stride[k][static_cast<size_t>(l)]);
    for (int l : red_labels) p->red_strides[k].push_back(label_stride[k][static_cast<size_t>(l)]);
  }
  return Status::OK();
}

template <typename T>
void einsum_kernel(const Plan& p, const std::vector<const Tensor*>& ins, Tensor& out, ThreadPool* pool) {
  using Acc = std::conditional_t<std::is_floating_point_v<T>, double, int64_t>;
  const size_t k_in = ins.size();
  std::vector<const T*> data(k_in);
  for (size_t k = 0; k < k_in; ++k) data[k] = ins[k]->data<T>();
  T* o = out.data<T>();
  const int64_t n_out = out.numel();
  int64_t n_red = 1;
  for (int64_t s : p.red_sizes) n_red *= s;
  const size_t ro = p.out_sizes.size(), rr = p.red_sizes.size();
  parallel_for(pool, n_out, [&](int64_t s, int64_t e) {
    std::vector<int64_t> base(k_in), off(k_in), c(rr);
    for (int64_t i = s; i < e; ++i) {
      int64_t rem = i;
      std::fill(base.begin(), base.end(), 0);
      for (size_t d = ro; d-- > 0;) {
        const int64_t coord = rem % p.out_sizes[d];
        rem /= p.out_sizes[d];
        for (size_t k = 0; k < k_in; ++k) base[k] += coord * p.out_strides[k][d];
      }
      off = base;
      std::fill(c.begin(), c.end(), 0);
      Acc acc = 0;
      for (int64_t j = 0; j < n_red; ++j) {
        Acc prod = 1;
        for (size_t k = 0; k < k_in; ++k) prod = static_cast<Acc>(prod * static_cast<Acc>(data[k][off[k]]));
        acc = static_cast<Acc>(acc + prod);
        for (size_t d = rr; d-- > 0;) {
          for (size_t k = 0; k < k_in; ++k) off[k] += p.red_strides[k][d];
          if (++c[d] < p.red_sizes[d]) break;
          for (size_t k = 0; k < k_in; ++k) off[k] -= p.red_strides[k][d] * p.red_sizes[d];
          c[d] = 0;
        }
      }
      o[i] = static_cast<T>(acc);
    }
  }, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, n_red)));
}

Status einsum(KernelContext& ctx) {
  if (!ctx.has_attr("equation")) return ctx.error("attribute 'equation' is missing");
  std::vector<const Tensor*> ins;
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    CONVFIX_RETURN_IF_ERROR(ctx.require_input(i));
    ins.push_back(ctx.input(i));
    if (ins.back()->dtype() != ins[0]->dtype())
      return ctx.error("input " + std::to_string(i) + " has element type " + dtype_name(ins.back()->dtype()) +
                       ", input 0 has " + dtype_name(ins[0]->dtype()));
  }
  if (ins.empty()) return ctx.error("no inputs");
  Plan p;
  CONVFIX_RETURN_IF_ERROR(make_plan(ctx, ctx.attr_string("equation", ""), ins, &p));
  Tensor out(ins[0]->dtype(), p.out_dims);
  CONVFIX_RETURN_IF_ERROR(ops::dispatch_numeric(ins[0]->dtype(), [&]<typename T>() {
    einsum_kernel<T>(p, ins, out, ctx.pool());
  }, ctx));
  ctx.set_output(0, std::move(out));
  return Status::OK();
}

}  // namespace

void register_ops_einsum(OpRegistry& r) { r.add({"", "Einsum", einsum, FloatCompute::kHalf}); }

}  // namespace convfix
