// convfix/preprocess.h — turning decoded images into model input tensors.
//
// Contract (docs/PREPROCESSING.md gives the same rules with examples):
// - Geometry: the image is resized with bilinear resampling (a triangle
//   filter whose support widens by the shrink factor, so shrinking is
//   antialiased; pixel centres at +0.5; the same algorithm as PIL's
//   Image.resize(..., BILINEAR), computed in float) so that it covers the box
//   (floor(H / crop_fraction), floor(W / crop_fraction)) keeping its aspect
//   ratio — the constrained side gets the box size exactly, the other side
//   floor(box * long / short) — and then the centre H x W window is cut out,
//   offsets round((resized - H) / 2) with ties to even. With a square H = W
//   this is torchvision's Resize(floor(H / crop_fraction)) + CenterCrop(H).
// - Values: out[c] = (pixel[c] * scale - mean[c]) / std[c], where pixel is
//   the resampled value in 0..255 (not rounded), channel c in the preset's
//   order (RGB, or BGR for caffe). A 1-channel model gets the luma image and
//   the average of the three means and of the three stds.
// - Layout: NCHW or NHWC, from the model input shape or given explicitly.
// Nothing here prints; errors name the model input.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "convfix/graph.h"
#include "convfix/image.h"
#include "convfix/status.h"
#include "convfix/tensor.h"

namespace convfix {

enum class Layout { kNCHW, kNHWC };
const char* layout_name(Layout l);  // "nchw" / "nhwc"
std::optional<Layout> layout_from_name(const std::string& name);

struct Preset {
  std::string name;
  bool bgr = false;                        // channel order of the tensor
  float scale = 1.0f;                      // pixel (0..255) multiplier
  std::array<float, 3> mean{0, 0, 0};      // in the tensor's channel order
  std::array<float, 3> stddev{1, 1, 1};
  float crop_fraction = 1.0f;              // resize box = size / crop_fraction
};

// The built-in presets:
//   torch  RGB, (p/255 - [0.485,0.456,0.406]) / [0.229,0.224,0.225], crop 0.875
//   tf     RGB, p/127.5 - 1 (range [-1, 1]),                            crop 1
//   caffe  BGR, p - [103.939,116.779,123.68] (BGR order),                crop 1
//   unit   RGB, p/255 (range [0, 1]),                                     crop 1
//   raw    RGB, p (range 0..255),                                         crop 1
//   <any>+swap-rb  that preset with red and blue swapped (channel order,
//                  means and stds), e.g. "torch+swap-rb" feeds BGR
Expected<Preset> preset_by_name(const std::string& name);
std::vector<std::string> preset_names();

// Where the image goes in the model input.
struct ImageInputSpec {
  std::string input_name;
  Layout layout = Layout::kNCHW;
  bool layout_from_model = true;    // false when the caller forced it
  int64_t batch = -1;               // fixed batch size of the model, -1 when dynamic
  int64_t channels = 3;             // 1 or 3
  int64_t height = 224, width = 224;
  bool size_from_model = true;      // false when H/W were unknown and a default/override was used
  DType dtype = DType::kF32;        // the model input's element type
};

struct GeometryOptions {
  std::optional<Layout> layout;     // overrides detection
  std::optional<int64_t> height;    // used when the model's H is unknown (default 224)
  std::optional<int64_t> width;     // used when the model's W is unknown (default 224)
};

// Works out layout, channels and size from a rank-4 image input:
// [N,C,H,W] with C in {1,3} is NCHW, [N,H,W,C] with C in {1,3} is NHWC (when
// both could be, NCHW). An explicit layout wins. Unknown H/W take the
// options' size (or 224); a size option that contradicts a fixed model size
// is an error.
Expected<ImageInputSpec> image_input_spec(const ValueInfo& input, const GeometryOptions& opts = {});

// The resize/crop rule above, as numbers.
struct ResizePlan {
  int in_width = 0, in_height = 0;
  int resized_width = 0, resized_height = 0;
  int crop_x = 0, crop_y = 0;       // top-left corner of the window in the resized image
  int out_width = 0, out_height = 0;
};
Expected<ResizePlan> plan_resize_crop(int in_width, int in_height, int out_width, int out_height, float crop_fraction);

// Resampled window (HWC float, values in 0..255, not rounded).
struct FloatImage {
  int width = 0, height = 0, channels = 0;
  std::vector<float> data;
};
FloatImage resize_crop(const Image& img, const ResizePlan& plan);

// Full pipeline for one image into `dst`, which holds channels*height*width
// floats laid out as spec.layout without the batch dimension.
Status preprocess_into(const Image& img, const Preset& preset, const ImageInputSpec& spec, float* dst);

// Builds a batch tensor [batch_size, ...] of spec.dtype from the images
// (batch_size >= images.size(); missing slots are zero-filled padding).
// Integer input types get values rounded to nearest and clamped to the type.
Expected<Tensor> make_image_batch(const std::vector<Image>& images, const Preset& preset,
                                  const ImageInputSpec& spec, int64_t batch_size);

}  // namespace convfix
