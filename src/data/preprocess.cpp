// Preprocessing presets, resize + centre crop, layout detection.
#include "convfix/preprocess.h"

#include <algorithm>
#include <cctype>
#include <cmath>

namespace convfix {

const char* layout_name(Layout l) { return l == Layout::kNHWC ? "nhwc" : "nchw"; }

std::optional<Layout> layout_from_name(const std::string& name) {
  std::string s = name;
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (s == "nchw") return Layout::kNCHW;
  if (s == "nhwc") return Layout::kNHWC;
  return std::nullopt;
}

std::vector<std::string> preset_names() { return {"torch", "tf", "caffe", "unit", "raw"}; }

Expected<Preset> preset_by_name(const std::string& full_name) {
  // "<preset>+swap-rb": the preset with the red and blue channels swapped
  // (the tensor's channel order and the per-channel means and stds).
  static const std::string kSwap = "+swap-rb";
  const bool swap = full_name.size() > kSwap.size() &&
                    full_name.compare(full_name.size() - kSwap.size(), kSwap.size(), kSwap) == 0;
  const std::string name = swap ? full_name.substr(0, full_name.size() - kSwap.size()) : full_name;
  Preset p;
  p.name = full_name;
  if (name == "torch") {
    p.scale = 1.0f / 255.0f;
    p.mean = {0.485f, 0.456f, 0.406f};
    p.stddev = {0.229f, 0.224f, 0.225f};
    p.crop_fraction = 0.875f;
  } else if (name == "tf") {
    p.scale = 1.0f / 127.5f;
    p.mean = {1.0f, 1.0f, 1.0f};
  } else if (name == "caffe") {
    p.bgr = true;
    p.mean = {103.939f, 116.779f, 123.68f};
  } else if (name == "unit") {
    p.scale = 1.0f / 255.0f;
  } else if (name == "raw") {
    // identity on 0..255
  } else {
    std::string all;
    for (const auto& n : preset_names()) all += (all.empty() ? "" : ", ") + n;
    return invalid_argument("unknown preprocessing preset '" + full_name + "' (known: " + all +
                            "; any of them with +swap-rb)");
  }
  if (swap) {
    p.bgr = !p.bgr;
    std::swap(p.mean[0], p.mean[2]);
    std::swap(p.stddev[0], p.stddev[2]);
  }
  return p;
}

Expected<ImageInputSpec> image_input_spec(const ValueInfo& input, const GeometryOptions& opts) {
  ImageInputSpec spec;
  spec.input_name = input.name;
  const std::string what = "input '" + input.name + "'";
  spec.dtype = input.dtype == DType::kUndefined ? DType::kF32 : input.dtype;
  if (spec.dtype == DType::kString || spec.dtype == DType::kBool)
    return invalid_argument(what + ": element type " + std::string(dtype_name(spec.dtype)) + " cannot hold an image");

  Shape shape;
  if (input.has_shape) {
    shape = input.shape;
    if (shape.size() != 4)
      return invalid_argument(what + " has shape " + shape_to_string(shape) +
                              "; an image input has rank 4 ([N,C,H,W] or [N,H,W,C])");
  } else {
    shape = Shape(4);  // rank unknown: treat every dimension as unknown
  }
  auto is_chan = [](const Dim& d) { return d.known() && (d.value == 1 || d.value == 3); };

  if (opts.layout) {
    spec.layout = *opts.layout;
    spec.layout_from_model = false;
  } else if (is_chan(shape[1])) {
    spec.layout = Layout::kNCHW;
  } else if (is_chan(shape[3])) {
    spec.layout = Layout::kNHWC;
  } else if (!shape[1].known() && !shape[3].known()) {
    spec.layout = Layout::kNCHW;  // nothing to go by: the ONNX convention
    spec.layout_from_model = false;
  } else {
    return invalid_argument(what + " has shape " + shape_to_string(shape) +
                            ": cannot tell NCHW from NHWC (no dimension of 1 or 3 channels); give --layout");
  }
  const bool nchw = spec.layout == Layout::kNCHW;
  const Dim& c = shape[nchw ? 1 : 3];
  const Dim& h = shape[nchw ? 2 : 1];
  const Dim& w = shape[nchw ? 3 : 2];
  if (c.known()) {
    if (c.value != 1 && c.value != 3)
      return invalid_argument(what + " has shape " + shape_to_string(shape) + ": " + std::to_string(c.value) +
                              " channels in " + layout_name(spec.layout) + " layout; images give 1 or 3");
    spec.channels = c.value;
  }
  spec.batch = shape[0].known() ? shape[0].value : -1;
  if (spec.batch == 0) return invalid_argument(what + " has batch size 0");

  auto pick = [&](const Dim& d, const std::optional<int64_t>& opt, const char* axis, int64_t* out) -> Status {
    if (d.known()) {
      if (d.value <= 0) return invalid_argument(what + ": " + axis + " is " + std::to_string(d.value));
      if (opt && *opt != d.value)
        return invalid_argument(what + " has a fixed " + axis + " of " + std::to_string(d.value) + "; --size asks for " +
                                std::to_string(*opt));
      *out = d.value;
    } else {
      *out = opt ? *opt : 224;
      spec.size_from_model = false;
    }
    if (*out <= 0 || *out > 65536) return invalid_argument(what + ": " + axis + " " + std::to_string(*out) + " is out of range");
    return Status::OK();
  };
  CONVFIX_RETURN_IF_ERROR(pick(h, opts.height, "height", &spec.height));
  CONVFIX_RETURN_IF_ERROR(pick(w, opts.width, "width", &spec.width));
  return spec;
}

namespace {

// Python's round() for x.0 / x.5 values: ties go to the even neighbour.
int half_even_div2(int diff) {
  const int k = diff / 2;  // diff >= 0
  if (diff % 2 == 0) return k;
  return (k % 2 == 0) ? k : k + 1;
}

// One output position's taps along an axis.
struct Axis {
  std::vector<int> first;     // first input index per output index
  std::vector<int> count;     // number of taps per output index
  std::vector<float> weight;  // ksize weights per output index
  int ksize = 0;
};

// Antialiased bilinear (triangle) taps for output positions start..start+n-1
// of a resize from in_size to out_size samples.
Axis make_axis(int in_size, int out_size, int start, int n) {
  Axis a;
  const double scale = static_cast<double>(in_size) / out_size;
  const double filterscale = std::max(scale, 1.0);
  const double support = 1.0 * filterscale;  // triangle filter has support 1
  a.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  a.first.resize(static_cast<size_t>(n));
  a.count.resize(static_cast<size_t>(n));
  a.weight.assign(static_cast<size_t>(n) * static_cast<size_t>(a.ksize), 0.0f);
  std::vector<double> w(static_cast<size_t>(a.ksize));
  for (int i = 0; i < n; ++i) {
    const double center = (start + i + 0.5) * scale;
    // Truncation toward zero, then clamping, as in the reference algorithm.
    const int lo = std::max(static_cast<int>(center - support + 0.5), 0);
    const int hi = std::min(static_cast<int>(center + support + 0.5), in_size);
    const int cnt = std::min(std::max(hi - lo, 0), a.ksize);
    double sum = 0;
    for (int k = 0; k < cnt; ++k) {
      const double x = (lo + k - center + 0.5) / filterscale;
      const double t = std::abs(x) < 1.0 ? 1.0 - std::abs(x) : 0.0;
      w[static_cast<size_t>(k)] = t;
      sum += t;
    }
    a.first[static_cast<size_t>(i)] = lo;
    a.count[static_cast<size_t>(i)] = cnt;
    for (int k = 0; k < cnt; ++k)
      a.weight[static_cast<size_t>(i) * static_cast<size_t>(a.ksize) + static_cast<size_t>(k)] =
          static_cast<float>(sum != 0 ? w[static_cast<size_t>(k)] / sum : 0.0);
  }
  return a;
}

}  // namespace

Expected<ResizePlan> plan_resize_crop(int in_width, int in_height, int out_width, int out_height, float crop_fraction) {
  if (in_width <= 0 || in_height <= 0) return invalid_argument("image has no pixels");
  if (out_width <= 0 || out_height <= 0) return invalid_argument("target size must be positive");
  if (!(crop_fraction > 0.0f && crop_fraction <= 1.0f))
    return invalid_argument("crop fraction must be in (0, 1], got " + std::to_string(crop_fraction));
  ResizePlan p;
  p.in_width = in_width;
  p.in_height = in_height;
  p.out_width = out_width;
  p.out_height = out_height;
  const int64_t box_h = static_cast<int64_t>(std::floor(static_cast<double>(out_height) / crop_fraction));
  const int64_t box_w = static_cast<int64_t>(std::floor(static_cast<double>(out_width) / crop_fraction));
  int64_t rh, rw;
  if (static_cast<int64_t>(in_width) * box_h >= static_cast<int64_t>(in_height) * box_w) {
    rh = box_h;  // height is the constrained side
    rw = std::max<int64_t>(box_w, static_cast<int64_t>(std::floor(static_cast<double>(box_h * in_width) / in_height)));
  } else {
    rw = box_w;
    rh = std::max<int64_t>(box_h, static_cast<int64_t>(std::floor(static_cast<double>(box_w * in_height) / in_width)));
  }
  if (rh > (1 << 20) || rw > (1 << 20)) return invalid_argument("resized image would be too large");
  p.resized_height = static_cast<int>(rh);
  p.resized_width = static_cast<int>(rw);
  p.crop_y = half_even_div2(p.resized_height - out_height);
  p.crop_x = half_even_div2(p.resized_width - out_width);
  return p;
}

FloatImage resize_crop(const Image& img, const ResizePlan& plan) {
  const int C = img.channels;
  const Axis ax = make_axis(img.width, plan.resized_width, plan.crop_x, plan.out_width);
  const Axis ay = make_axis(img.height, plan.resized_height, plan.crop_y, plan.out_height);
  // Input rows the vertical pass needs.
  int y0 = img.height, y1 = 0;
  for (int i = 0; i < plan.out_height; ++i) {
    y0 = std::min(y0, ay.first[static_cast<size_t>(i)]);
    y1 = std::max(y1, ay.first[static_cast<size_t>(i)] + ay.count[static_cast<size_t>(i)]);
  }
  y1 = std::max(y1, y0);
  const size_t ow = static_cast<size_t>(plan.out_width);
  const size_t oh = static_cast<size_t>(plan.out_height);
  const size_t cc = static_cast<size_t>(C);
  // Horizontal pass over rows y0..y1-1.
  std::vector<float> tmp(static_cast<size_t>(y1 - y0) * ow * cc, 0.0f);
  for (int y = y0; y < y1; ++y) {
    const uint8_t* row = img.pixels.data() + static_cast<size_t>(y) * static_cast<size_t>(img.width) * cc;
    float* trow = tmp.data() + static_cast<size_t>(y - y0) * ow * cc;
    for (size_t j = 0; j < ow; ++j) {
      const int first = ax.first[j];
      const int cnt = ax.count[j];
      const float* wt = ax.weight.data() + j * static_cast<size_t>(ax.ksize);
      for (size_t c = 0; c < cc; ++c) {
        float s = 0;
        for (int k = 0; k < cnt; ++k) s += wt[k] * static_cast<float>(row[static_cast<size_t>(first + k) * cc + c]);
        trow[j * cc + c] = s;
      }
    }
  }
  // Vertical pass.
  FloatImage out;
  out.width = plan.out_width;
  out.height = plan.out_height;
  out.channels = C;
  out.data.assign(oh * ow * cc, 0.0f);
  for (size_t i = 0; i < oh; ++i) {
    const int first = ay.first[i];
    const int cnt = ay.count[i];
    const float* wt = ay.weight.data() + i * static_cast<size_t>(ay.ksize);
    float* orow = out.data.data() + i * ow * cc;
    for (int k = 0; k < cnt; ++k) {
      const float* trow = tmp.data() + static_cast<size_t>(first + k - y0) * ow * cc;
      const float wk = wt[k];
      for (size_t j = 0; j < ow * cc; ++j) orow[j] += wk * trow[j];
    }
  }
  return out;
}

Status preprocess_into(const Image& img, const Preset& preset, const ImageInputSpec& spec, float* dst) {
  if (spec.channels != 1 && spec.channels != 3)
    return invalid_argument("input '" + spec.input_name + "': images give 1 or 3 channels, not " +
                            std::to_string(spec.channels));
  const Image* src = &img;
  Image converted;
  if (img.channels != spec.channels) {
    CONVFIX_ASSIGN_OR_RETURN(converted, convert_channels(img, static_cast<int>(spec.channels)));
    src = &converted;
  }
  CONVFIX_ASSIGN_OR_RETURN(ResizePlan plan, plan_resize_crop(src->width, src->height, static_cast<int>(spec.width),
                                                             static_cast<int>(spec.height), preset.crop_fraction));
  const FloatImage f = resize_crop(*src, plan);
  const size_t C = static_cast<size_t>(spec.channels);
  const size_t H = static_cast<size_t>(spec.height), W = static_cast<size_t>(spec.width);
  std::array<float, 3> mean = preset.mean, sd = preset.stddev;
  if (C == 1) {
    mean[0] = (preset.mean[0] + preset.mean[1] + preset.mean[2]) / 3.0f;
    sd[0] = (preset.stddev[0] + preset.stddev[1] + preset.stddev[2]) / 3.0f;
  }
  const bool nchw = spec.layout == Layout::kNCHW;
  for (size_t y = 0; y < H; ++y) {
    for (size_t x = 0; x < W; ++x) {
      const float* px = f.data.data() + (y * W + x) * C;
      for (size_t c = 0; c < C; ++c) {
        const size_t src_c = (C == 3 && preset.bgr) ? 2 - c : c;
        const float v = (px[src_c] * preset.scale - mean[c]) / sd[c];
        dst[nchw ? (c * H + y) * W + x : (y * W + x) * C + c] = v;
      }
    }
  }
  return Status::OK();
}

namespace {

bool integer_range(DType t, double* lo, double* hi) {
  switch (t) {
    case DType::kU8: *lo = 0; *hi = 255; return true;
    case DType::kI8: *lo = -128; *hi = 127; return true;
    case DType::kU16: *lo = 0; *hi = 65535; return true;
    case DType::kI16: *lo = -32768; *hi = 32767; return true;
    case DType::kI32: *lo = -2147483648.0; *hi = 2147483647.0; return true;
    case DType::kU32: *lo = 0; *hi = 4294967295.0; return true;
    case DType::kI64: case DType::kU64:
      *lo = t == DType::kU64 ? 0.0 : -9.2e18; *hi = 9.2e18; return true;
    default: return false;
  }
}

}  // namespace

Expected<Tensor> make_image_batch(const std::vector<Image>& images, const Preset& preset, const ImageInputSpec& spec,
                                  int64_t batch_size) {
  if (batch_size < static_cast<int64_t>(images.size()) || batch_size <= 0)
    return invalid_argument("batch size " + std::to_string(batch_size) + " cannot hold " +
                            std::to_string(images.size()) + " images");
  std::vector<int64_t> dims = spec.layout == Layout::kNCHW
                                  ? std::vector<int64_t>{batch_size, spec.channels, spec.height, spec.width}
                                  : std::vector<int64_t>{batch_size, spec.height, spec.width, spec.channels};
  Tensor t(DType::kF32, dims);
  const int64_t per = spec.channels * spec.height * spec.width;
  float* data = t.data<float>();
  for (size_t i = 0; i < images.size(); ++i)
    CONVFIX_RETURN_IF_ERROR(preprocess_into(images[i], preset, spec, data + static_cast<int64_t>(i) * per));
  if (spec.dtype == DType::kF32) return t;
  double lo = 0, hi = 0;
  if (integer_range(spec.dtype, &lo, &hi)) {
    const int64_t n = t.numel();
    for (int64_t i = 0; i < n; ++i) data[i] = static_cast<float>(std::clamp(std::nearbyint(static_cast<double>(data[i])), lo, hi));
  }
  auto cast = t.cast(spec.dtype);
  if (!cast.ok()) return cast.status().with_context("input '" + spec.input_name + "'");
  return cast;
}

}  // namespace convfix
