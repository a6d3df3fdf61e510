// NonMaxSuppression (opset 10/11): per batch and class, boxes whose score is
// above score_threshold are taken greedily by descending score (equal scores:
// lower box index first); a box is dropped when its IoU with an already
// selected box exceeds iou_threshold. Output rows are
// [batch_index, class_index, box_index], batch-major, then class, then
// selection order.
#include <algorithm>
#include <numeric>

#include "ops/data_movement_util.h"

namespace convfix {
namespace {

struct Box {
  float y0, x0, y1, x1, area;
};

Box make_box(const float* b, bool center) {
  Box r;
  if (center) {
    const float xc = b[0], yc = b[1], w = b[2], h = b[3];
    r.x0 = xc - w / 2; r.x1 = xc + w / 2;
    r.y0 = yc - h / 2; r.y1 = yc + h / 2;
  } else {
    r.y0 = std::min(b[0], b[2]); r.y1 = std::max(b[0], b[2]);
    r.x0 = std::min(b[1], b[3]); r.x1 = std::max(b[1], b[3]);
  }
  r.area = (r.x1 - r.x0) * (r.y1 - r.y0);
  return r;
}

bool overlaps(const Box& a, const Box& b, float threshold) {
  const float iw = std::max(0.f, std::min(a.x1, b.x1) - std::max(a.x0, b.x0));
  const float ih = std::max(0.f, std::min(a.y1, b.y1) - std::max(a.y0, b.y0));
  const float inter = iw * ih;
  if (inter <= 0 || a.area <= 0 || b.area <= 0) return false;
  const float uni = a.area + b.area - inter;
  if (uni <= 0) return false;
  return inter / uni > threshold;
}

Status nms(KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(ops::require_f32(ctx, 0));
  CONVFIX_RETURN_IF_ERROR(ops::require_f32(ctx, 1));
  const Tensor& boxes = *ctx.input(0);
  const Tensor& scores = *ctx.input(1);
  if (boxes.rank() != 3 || boxes.dim(2) != 4)
    return ctx.error("input 0 (boxes) must be [batches, boxes, 4], got " + dims_to_string(boxes.dims()));
  if (scores.rank() != 3 || scores.dim(0) != boxes.dim(0) || scores.dim(2) != boxes.dim(1))
    return ctx.error("input 1 (scores) shape " + dims_to_string(scores.dims()) + " does not fit boxes " +
                     dims_to_string(boxes.dims()));
  int64_t max_out = 0;
  if (ctx.has_input(2) && ctx.input(2)->numel() > 0)
    CONVFIX_RETURN_IF_ERROR(ops::read_int_scalar(ctx, 2, "max_output_boxes_per_class", &max_out));
  float iou = 0.f, score_min = 0.f;
  bool use_score = false;
  if (ctx.has_input(3) && ctx.input(3)->numel() > 0) iou = static_cast<float>(ctx.input(3)->get_f64(0));
  if (ctx.has_input(4) && ctx.input(4)->numel() > 0) {
    use_score = true;
    score_min = static_cast<float>(ctx.input(4)->get_f64(0));
  }
  if (iou < 0 || iou > 1) return ctx.error("input 3 (iou_threshold) must be in [0, 1], got " + std::to_string(iou));
  const bool center = ctx.attr_int("center_point_box", 0) != 0;
  const int64_t nb = boxes.dim(0), n = boxes.dim(1), nc = scores.dim(1);
  std::vector<int64_t> rows;
  for (int64_t b = 0; b < nb && max_out > 0; ++b) {
    std::vector<Box> bx(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) bx[static_cast<size_t>(i)] = make_box(boxes.data<float>() + (b * n + i) * 4, center);
    for (int64_t c = 0; c < nc; ++c) {
      const float* sc = scores.data<float>() + (b * nc + c) * n;
      std::vector<int64_t> cand;
      for (int64_t i = 0; i < n; ++i)
        if (!use_score || sc[i] > score_min) cand.push_back(i);
      std::stable_sort(cand.begin(), cand.end(), [&](int64_t p, int64_t q) { return sc[p] > sc[q]; });
      std::vector<int64_t> picked;
      for (int64_t i : cand) {
        if (static_cast<int64_t>(picked.size()) >= max_out) break;
        bool keep = true;
        for (int64_t j : picked)
          if (overlaps(bx[static_cast<size_t>(i)], bx[static_cast<size_t>(j)], iou)) { keep = false; break; }
        if (keep) picked.push_back(i);
      }
      for (int64_t i : picked) rows.insert(rows.end(), {b, c, i});
    }
  }
  const int64_t m = static_cast<int64_t>(rows.size()) / 3;
  ctx.set_output(0, Tensor::from_vector(DType::kI64, {m, 3}, rows));
  return Status::OK();
}

}  // namespace

void register_ops_nonmax_suppression(OpRegistry& r) {
  r.add({"", "NonMaxSuppression", nms, FloatCompute::kAll, 10});
}

}  // namespace convfix
