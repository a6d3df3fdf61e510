// Image decoding, presets, resize/crop geometry and layout detection.
//
// The PNG files here are written by a tiny encoder in this test (stored
// deflate blocks), so the expected pixels are known by construction and do
// not come from the decoder under test. Resampling against an independent
// implementation (PIL / torchvision) is checked in tests/images/.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "convfix/fileio.h"
#include "convfix/image.h"
#include "convfix/preprocess.h"

namespace convfix {
namespace {

namespace fs = std::filesystem;

fs::path assets_dir() { return fs::path(__FILE__).parent_path().parent_path().parent_path() / "assets" / "images"; }

// ---- a minimal PNG writer (no compression) ----------------------------------

uint32_t crc32(const std::string& s) {
  uint32_t c = 0xFFFFFFFFu;
  for (unsigned char ch : s) {
    c ^= ch;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
  }
  return c ^ 0xFFFFFFFFu;
}

void put_be32(std::string& s, uint32_t v) {
  for (int sh = 24; sh >= 0; sh -= 8) s.push_back(static_cast<char>((v >> sh) & 0xFF));
}

void chunk(std::string& png, const std::string& type, const std::string& data) {
  put_be32(png, static_cast<uint32_t>(data.size()));
  const std::string body = type + data;
  png += body;
  put_be32(png, crc32(body));
}

// `rows` already holds the packed sample bytes of each row (no filter byte).
std::string make_png(int w, int h, int bit_depth, int color_type, const std::vector<std::string>& rows,
                     const std::string& plte = "", const std::string& trns = "") {
  std::string raw;
  for (const auto& r : rows) {
    raw.push_back('\0');  // filter: none
    raw += r;
  }
  std::string z = "\x78\x01";
  size_t pos = 0;
  do {
    const size_t n = std::min<size_t>(65535, raw.size() - pos);
    const bool last = pos + n == raw.size();
    z.push_back(last ? 1 : 0);
    z.push_back(static_cast<char>(n & 0xFF));
    z.push_back(static_cast<char>(n >> 8));
    z.push_back(static_cast<char>(~n & 0xFF));
    z.push_back(static_cast<char>((~n >> 8) & 0xFF));
    z += raw.substr(pos, n);
    pos += n;
  } while (pos < raw.size());
  uint32_t a = 1, b = 0;
  for (unsigned char ch : raw) {
    a = (a + ch) % 65521;
    b = (b + a) % 65521;
  }
  put_be32(z, (b << 16) | a);

  std::string png("\x89PNG\r\n\x1a\n", 8);
  std::string ihdr;
  put_be32(ihdr, static_cast<uint32_t>(w));
  put_be32(ihdr, static_cast<uint32_t>(h));
  ihdr.push_back(static_cast<char>(bit_depth));
  ihdr.push_back(static_cast<char>(color_type));
  ihdr += std::string(3, '\0');
  chunk(png, "IHDR", ihdr);
  if (!plte.empty()) chunk(png, "PLTE", plte);
  if (!trns.empty()) chunk(png, "tRNS", trns);
  chunk(png, "IDAT", z);
  chunk(png, "IEND", "");
  return png;
}

std::string bytes(std::initializer_list<int> v) {
  std::string s;
  for (int x : v) s.push_back(static_cast<char>(x));
  return s;
}

std::string be16(std::initializer_list<int> v) {
  std::string s;
  for (int x : v) {
    s.push_back(static_cast<char>((x >> 8) & 0xFF));
    s.push_back(static_cast<char>(x & 0xFF));
  }
  return s;
}

// ---- decoding ----------------------------------------------------------------

TEST(ImageDecode, Gray8) {
  auto img = decode_image(make_png(3, 2, 8, 0, {bytes({0, 7, 255}), bytes({128, 64, 1})}), "g.png");
  ASSERT_TRUE(img.ok()) << img.status().message();
  EXPECT_EQ(img->width, 3);
  EXPECT_EQ(img->height, 2);
  EXPECT_EQ(img->channels, 1);
  EXPECT_EQ(img->pixels, (std::vector<uint8_t>{0, 7, 255, 128, 64, 1}));
}

TEST(ImageDecode, GrayAlphaDropsAlpha) {
  auto img = decode_image(make_png(2, 1, 8, 4, {bytes({10, 0, 200, 255})}), "ga.png");
  ASSERT_TRUE(img.ok()) << img.status().message();
  EXPECT_EQ(img->channels, 1);
  EXPECT_EQ(img->pixels, (std::vector<uint8_t>{10, 200}));
}

TEST(ImageDecode, Rgb8AndRgba8) {
  auto rgb = decode_image(make_png(2, 1, 8, 2, {bytes({1, 2, 3, 250, 128, 0})}), "rgb.png");
  ASSERT_TRUE(rgb.ok()) << rgb.status().message();
  EXPECT_EQ(rgb->channels, 3);
  EXPECT_EQ(rgb->pixels, (std::vector<uint8_t>{1, 2, 3, 250, 128, 0}));
  // Alpha is dropped, not composited (fully transparent pixels keep their colour).
  auto rgba = decode_image(make_png(2, 1, 8, 6, {bytes({1, 2, 3, 0, 250, 128, 0, 77})}), "rgba.png");
  ASSERT_TRUE(rgba.ok()) << rgba.status().message();
  EXPECT_EQ(rgba->channels, 3);
  EXPECT_EQ(rgba->pixels, (std::vector<uint8_t>{1, 2, 3, 250, 128, 0}));
}

TEST(ImageDecode, PaletteWithAndWithoutTransparency) {
  const std::string plte = bytes({255, 0, 0, 0, 255, 0, 9, 8, 7});
  auto p = decode_image(make_png(3, 1, 8, 3, {bytes({2, 0, 1})}, plte), "pal.png");
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->channels, 3);
  EXPECT_EQ(p->pixels, (std::vector<uint8_t>{9, 8, 7, 255, 0, 0, 0, 255, 0}));
  auto pt = decode_image(make_png(3, 1, 8, 3, {bytes({2, 0, 1})}, plte, bytes({0, 128, 255})), "palt.png");
  ASSERT_TRUE(pt.ok()) << pt.status().message();
  EXPECT_EQ(pt->channels, 3);
  EXPECT_EQ(pt->pixels, (std::vector<uint8_t>{9, 8, 7, 255, 0, 0, 0, 255, 0}));
  // 2-bit palette indices, packed four to a byte: 0x18 = 0b00'01'10'00 = indices 0, 1, 2, (0).
  auto p2 = decode_image(make_png(3, 1, 2, 3, {bytes({0x18})}, plte), "pal2.png");
  ASSERT_TRUE(p2.ok()) << p2.status().message();
  EXPECT_EQ(p2->pixels, (std::vector<uint8_t>{255, 0, 0, 0, 255, 0, 9, 8, 7}));
}

uint8_t expected_16_to_8(int v) { return static_cast<uint8_t>(std::lround(v * 255.0 / 65535.0)); }

TEST(ImageDecode, SixteenBitGrayAndRgbRoundTo8Bits) {
  const std::vector<int> g = {0, 128, 129, 32767, 32768, 65535};
  auto img = decode_image(make_png(6, 1, 16, 0, {be16({0, 128, 129, 32767, 32768, 65535})}), "g16.png");
  ASSERT_TRUE(img.ok()) << img.status().message();
  ASSERT_EQ(img->channels, 1);
  for (size_t i = 0; i < g.size(); ++i) EXPECT_EQ(img->pixels[i], expected_16_to_8(g[i])) << "value " << g[i];
  EXPECT_EQ(img->pixels[2], 1);  // 129 * 255 / 65535 = 0.502 rounds up, unlike a plain >> 8

  auto rgba16 = decode_image(make_png(2, 1, 16, 6, {be16({1000, 40000, 65535, 1, 257, 0, 12345, 65535})}), "c16.png");
  ASSERT_TRUE(rgba16.ok()) << rgba16.status().message();
  ASSERT_EQ(rgba16->channels, 3);
  const std::vector<int> want = {1000, 40000, 65535, 257, 0, 12345};
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(rgba16->pixels[i], expected_16_to_8(want[i]));

  auto info_path = fs::temp_directory_path() / "convfix_image_test_g16.png";
  ASSERT_TRUE(write_file_atomic(info_path.string(), make_png(6, 1, 16, 0, {be16({0, 1, 2, 3, 4, 5})})).ok());
  auto info = read_image_info(info_path.string());
  ASSERT_TRUE(info.ok()) << info.status().message();
  EXPECT_EQ(info->format, "png");
  EXPECT_TRUE(info->sixteen_bit);
  EXPECT_EQ(info->width, 6);
  EXPECT_EQ(info->channels, 1);
  fs::remove(info_path);
}

TEST(ImageDecode, RealFilesFromAssets) {
  struct Case { const char* name; int w, h, c; const char* fmt; };
  for (const Case& k : {Case{"chelsea.png", 451, 300, 3, "png"}, Case{"coffee.png", 600, 400, 3, "png"},
                        Case{"camera.png", 512, 512, 1, "png"}, Case{"rocket.jpg", 640, 427, 3, "jpeg"}}) {
    const std::string path = (assets_dir() / k.name).string();
    auto info = read_image_info(path);
    ASSERT_TRUE(info.ok()) << info.status().message();
    EXPECT_EQ(info->format, k.fmt);
    auto img = read_image(path);
    ASSERT_TRUE(img.ok()) << img.status().message();
    EXPECT_EQ(img->width, k.w) << k.name;
    EXPECT_EQ(img->height, k.h) << k.name;
    EXPECT_EQ(img->channels, k.c) << k.name;
    // A photograph uses a wide range of levels.
    const auto [mn, mx] = std::minmax_element(img->pixels.begin(), img->pixels.end());
    EXPECT_LT(*mn, 40) << k.name;
    EXPECT_GT(*mx, 200) << k.name;
  }
}

TEST(ImageDecode, NonImagesNameTheFile) {
  auto a = decode_image("hello, world", "notes.txt");
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.status().message().find("notes.txt"), std::string::npos);
  auto b = decode_image("", "empty.png");
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("empty.png"), std::string::npos);
  // A PNG signature followed by garbage.
  auto c = decode_image(std::string("\x89PNG\r\n\x1a\n", 8) + "garbage garbage garbage", "broken.png");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("broken.png"), std::string::npos);
  // A truncated JPEG.
  auto jpg = read_file((assets_dir() / "rocket.jpg").string());
  ASSERT_TRUE(jpg.ok());
  auto d = decode_image(jpg->substr(0, 200), "cut.jpg");
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("cut.jpg"), std::string::npos);
  auto e = read_image("/nonexistent/dir/x.png");
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("/nonexistent/dir/x.png"), std::string::npos);
}

TEST(ImageDecode, ConvertChannels) {
  Image rgb{2, 1, 3, {10, 128, 250, 255, 255, 255}};
  auto g = convert_channels(rgb, 1);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->pixels[0], static_cast<uint8_t>(std::lround(0.299 * 10 + 0.587 * 128 + 0.114 * 250)));
  EXPECT_EQ(g->pixels[1], 255);
  Image gray{2, 1, 1, {7, 200}};
  auto c = convert_channels(gray, 3);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->pixels, (std::vector<uint8_t>{7, 7, 7, 200, 200, 200}));
}

TEST(ImageFiles, CollectSortsFiltersAndReportsErrors) {
  const fs::path dir = fs::temp_directory_path() / "convfix_image_test_collect";
  fs::remove_all(dir);
  fs::create_directories(dir / "sub");
  for (const char* n : {"b.PNG", "a.jpg", "c.jpeg", "notes.txt", ".hidden.png", "sub/d.png"})
    std::ofstream(dir / n) << "x";
  auto files = collect_image_files({dir.string()});
  ASSERT_TRUE(files.ok()) << files.status().message();
  ASSERT_EQ(files->size(), 3u);
  EXPECT_EQ(fs::path((*files)[0]).filename(), "a.jpg");
  EXPECT_EQ(fs::path((*files)[1]).filename(), "b.PNG");
  EXPECT_EQ(fs::path((*files)[2]).filename(), "c.jpeg");

  auto missing = collect_image_files({(dir / "nope").string()});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("nope"), std::string::npos);
  fs::create_directories(dir / "empty");
  auto empty = collect_image_files({(dir / "empty").string()});
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.status().message().find("empty"), std::string::npos);
  // An explicit file is taken whatever its name; decoding rejects it later.
  auto txt = collect_image_files({(dir / "notes.txt").string()});
  ASSERT_TRUE(txt.ok());
  auto info = read_image_info((*txt)[0]);
  ASSERT_FALSE(info.ok());
  EXPECT_NE(info.status().message().find("notes.txt"), std::string::npos);
  fs::remove_all(dir);
}

// ---- presets -----------------------------------------------------------------

ImageInputSpec spec_of(Layout l, int64_t c, int64_t h, int64_t w) {
  ImageInputSpec s;
  s.input_name = "x";
  s.layout = l;
  s.channels = c;
  s.height = h;
  s.width = w;
  return s;
}

Image solid(int w, int h, uint8_t r, uint8_t g, uint8_t b) {
  Image img{w, h, 3, {}};
  for (int i = 0; i < w * h; ++i) img.pixels.insert(img.pixels.end(), {r, g, b});
  return img;
}

TEST(Preset, ArithmeticOnKnownPixels) {
  // A uniform image stays uniform through any resize, so every output
  // element is the preset formula applied to (R, G, B) = (10, 128, 250).
  const Image img = solid(37, 23, 10, 128, 250);
  const double R = 10, G = 128, B = 250;
  // Tolerance: float resampling weights sum to 1 within ~1e-6, i.e. up to
  // ~3e-4 of a pixel level, scaled by each preset's factor.
  struct Case { const char* name; std::array<double, 3> want; double tol; };
  const Case cases[] = {
      {"torch", {(R / 255 - 0.485) / 0.229, (G / 255 - 0.456) / 0.224, (B / 255 - 0.406) / 0.225}, 1e-5},
      {"tf", {R / 127.5 - 1, G / 127.5 - 1, B / 127.5 - 1}, 1e-5},
      {"caffe", {B - 103.939, G - 116.779, R - 123.68}, 5e-4},
      {"unit", {R / 255, G / 255, B / 255}, 1e-5},
      {"raw", {R, G, B}, 5e-4},
  };
  for (const auto& k : cases) {
    auto p = preset_by_name(k.name);
    ASSERT_TRUE(p.ok());
    auto t = make_image_batch({img}, *p, spec_of(Layout::kNCHW, 3, 16, 20), 1);
    ASSERT_TRUE(t.ok()) << t.status().message();
    ASSERT_EQ(t->dims(), (std::vector<int64_t>{1, 3, 16, 20}));
    const float* d = t->data<float>();
    for (int c = 0; c < 3; ++c)
      for (int i = 0; i < 16 * 20; ++i) ASSERT_NEAR(d[c * 320 + i], k.want[static_cast<size_t>(c)], k.tol) << k.name << " c" << c;
  }
  EXPECT_FALSE(preset_by_name("imagenet").ok());
}

TEST(Preset, GrayModelGetsLumaAndAveragedConstants) {
  const Image img = solid(9, 9, 10, 128, 250);
  auto p = preset_by_name("torch");
  ASSERT_TRUE(p.ok());
  auto t = make_image_batch({img}, *p, spec_of(Layout::kNCHW, 1, 4, 4), 1);
  ASSERT_TRUE(t.ok()) << t.status().message();
  const double luma = std::lround(0.299 * 10 + 0.587 * 128 + 0.114 * 250);
  const double want = (luma / 255 - (0.485 + 0.456 + 0.406) / 3) / ((0.229 + 0.224 + 0.225) / 3);
  for (int i = 0; i < 16; ++i) EXPECT_NEAR(t->data<float>()[i], want, 2e-5);
  // A gray image into an RGB model is replicated.
  Image gray{5, 5, 1, std::vector<uint8_t>(25, 77)};
  auto raw = preset_by_name("raw");
  auto t3 = make_image_batch({gray}, *raw, spec_of(Layout::kNHWC, 3, 2, 2), 1);
  ASSERT_TRUE(t3.ok());
  for (int i = 0; i < 12; ++i) EXPECT_NEAR(t3->data<float>()[i], 77.0, 1e-4);
}

TEST(Preset, LayoutsPlaceChannelsAndIntegerInputsRound) {
  // Same size in and out with crop 1: the resize is the identity, so each
  // pixel lands exactly where the layout says.
  Image img{3, 2, 3, {}};
  for (int i = 0; i < 18; ++i) img.pixels.push_back(static_cast<uint8_t>(i * 13 + 1));
  auto raw = preset_by_name("raw");
  auto nchw = make_image_batch({img}, *raw, spec_of(Layout::kNCHW, 3, 2, 3), 2);
  auto nhwc = make_image_batch({img}, *raw, spec_of(Layout::kNHWC, 3, 2, 3), 1);
  ASSERT_TRUE(nchw.ok() && nhwc.ok());
  EXPECT_EQ(nchw->dims(), (std::vector<int64_t>{2, 3, 2, 3}));
  EXPECT_EQ(nhwc->dims(), (std::vector<int64_t>{1, 2, 3, 3}));
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 3; ++x)
      for (int c = 0; c < 3; ++c) {
        const float v = img.at(y, x, c);
        EXPECT_FLOAT_EQ(nchw->data<float>()[(c * 2 + y) * 3 + x], v);
        EXPECT_FLOAT_EQ(nhwc->data<float>()[(y * 3 + x) * 3 + c], v);
      }
  for (int i = 18; i < 36; ++i) EXPECT_EQ(nchw->data<float>()[i], 0.0f) << "padding";
  // caffe swaps to BGR.
  auto caffe = preset_by_name("caffe");
  auto bgr = make_image_batch({img}, *caffe, spec_of(Layout::kNHWC, 3, 2, 3), 1);
  ASSERT_TRUE(bgr.ok());
  EXPECT_NEAR(bgr->data<float>()[0], img.at(0, 0, 2) - 103.939, 1e-4);
  EXPECT_NEAR(bgr->data<float>()[2], img.at(0, 0, 0) - 123.68, 1e-4);
  // A uint8 model input receives the rounded pixel values.
  ImageInputSpec s = spec_of(Layout::kNHWC, 3, 2, 3);
  s.dtype = DType::kU8;
  auto u8 = make_image_batch({img}, *raw, s, 1);
  ASSERT_TRUE(u8.ok()) << u8.status().message();
  ASSERT_EQ(u8->dtype(), DType::kU8);
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 3; ++x)
      for (int c = 0; c < 3; ++c) EXPECT_EQ(u8->data<uint8_t>()[(y * 3 + x) * 3 + c], img.at(y, x, c));
  EXPECT_FALSE(make_image_batch({img, img}, *raw, s, 1).ok());
}

// ---- geometry ----------------------------------------------------------------

TEST(ResizePlan, TorchvisionEvaluationRule) {
  // 451x300 cat, torch preset: shorter side 300 -> 256, longer int(256*451/300)=384, crop 224.
  auto p = plan_resize_crop(451, 300, 224, 224, 0.875f);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->resized_height, 256);
  EXPECT_EQ(p->resized_width, 384);
  EXPECT_EQ(p->crop_x, 80);
  EXPECT_EQ(p->crop_y, 16);
  // Portrait, and a 299 model: floor(299/0.875) = 341; 341*500/333 = 512.0 -> 512.
  auto q = plan_resize_crop(333, 500, 299, 299, 0.875f);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->resized_width, 341);
  EXPECT_EQ(q->resized_height, 512);
  EXPECT_EQ(q->crop_x, 21);   // (341-299)/2 = 21
  EXPECT_EQ(q->crop_y, 106);  // (512-299)/2 = 106.5 -> 106 (ties to even)
  // Crop fraction 1: the shorter side becomes the model size.
  auto r = plan_resize_crop(640, 427, 224, 224, 1.0f);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->resized_height, 224);
  EXPECT_EQ(r->resized_width, 335);  // int(224*640/427) = int(335.74)
  EXPECT_EQ(r->crop_x, 56);          // 111/2 = 55.5 -> 56 (ties to even)
  // Non-square model: the image covers the box, keeping its aspect ratio.
  auto s = plan_resize_crop(100, 100, 200, 100, 1.0f);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->resized_width, 200);
  EXPECT_EQ(s->resized_height, 200);
  EXPECT_EQ(s->crop_y, 50);
  EXPECT_FALSE(plan_resize_crop(0, 10, 224, 224, 1.0f).ok());
  EXPECT_FALSE(plan_resize_crop(10, 10, 224, 224, 1.5f).ok());
}

// Bilinear interpolation reproduces a linear ramp away from the borders:
// output pixel j of a resize by factor s has its centre at input coordinate
// (j + 0.5) * s - 0.5. Exact when enlarging and for integer shrink factors
// (the sampled triangle is symmetric about the centre); for other shrink
// factors the sampled triangle is slightly lopsided, so only nearly.
TEST(Resize, LinearRampIsReproduced) {
  struct Case { int out_w; double tol; };
  for (const Case k : {Case{40, 1e-3}, Case{100, 1e-3}, Case{250, 1e-3}, Case{400, 1e-3}, Case{64, 0.05}, Case{77, 0.05}}) {
    const int out_w = k.out_w;
    Image img{200, 3, 1, {}};
    for (int y = 0; y < 3; ++y)
      for (int x = 0; x < 200; ++x) img.pixels.push_back(static_cast<uint8_t>(x + 20));
    ResizePlan plan{200, 3, out_w, 3, 0, 0, out_w, 3};
    const FloatImage f = resize_crop(img, plan);
    const double s = 200.0 / out_w;
    const int margin = static_cast<int>(std::ceil(2 * std::max(s, 1.0)));
    int checked = 0;
    for (int j = 0; j < out_w; ++j) {
      const double centre = (j + 0.5) * s - 0.5;
      if (centre < margin || centre > 199 - margin) continue;
      ++checked;
      EXPECT_NEAR(f.data[static_cast<size_t>(out_w + j)], centre + 20, k.tol) << "out_w " << out_w << " j " << j;
    }
    EXPECT_GT(checked, out_w / 2);
  }
}

TEST(Resize, CropWindowMatchesFullResize) {
  // Resampling only the crop window equals resizing everything and cutting.
  Image img{57, 41, 3, {}};
  for (int i = 0; i < 57 * 41 * 3; ++i) img.pixels.push_back(static_cast<uint8_t>((i * 7919) % 251));
  auto plan = plan_resize_crop(57, 41, 24, 24, 0.875f);
  ASSERT_TRUE(plan.ok());
  ResizePlan full = *plan;
  full.crop_x = full.crop_y = 0;
  full.out_width = full.resized_width;
  full.out_height = full.resized_height;
  const FloatImage a = resize_crop(img, *plan), b = resize_crop(img, full);
  for (int y = 0; y < 24; ++y)
    for (int x = 0; x < 24; ++x)
      for (int c = 0; c < 3; ++c)
        ASSERT_FLOAT_EQ(a.data[static_cast<size_t>((y * 24 + x) * 3 + c)],
                        b.data[static_cast<size_t>(((y + plan->crop_y) * full.out_width + x + plan->crop_x) * 3 + c)]);
}

// ---- layout detection ----------------------------------------------------------

ValueInfo input_of(Shape s, DType t = DType::kF32) {
  ValueInfo v;
  v.name = "img";
  v.dtype = t;
  v.shape = std::move(s);
  v.has_shape = true;
  return v;
}

TEST(InputSpec, DetectsLayoutChannelsAndSize) {
  auto a = image_input_spec(input_of({Dim::of(1), Dim::of(3), Dim::of(224), Dim::of(224)}));
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->layout, Layout::kNCHW);
  EXPECT_EQ(a->batch, 1);
  EXPECT_TRUE(a->layout_from_model && a->size_from_model);

  auto b = image_input_spec(input_of({Dim::sym("N"), Dim::of(299), Dim::of(299), Dim::of(3)}));
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->layout, Layout::kNHWC);
  EXPECT_EQ(b->batch, -1);
  EXPECT_EQ(b->height, 299);

  auto c = image_input_spec(input_of({Dim::sym("N"), Dim::of(1), Dim::sym("H"), Dim::sym("W")}), {std::nullopt, 96, 128});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->channels, 1);
  EXPECT_EQ(c->height, 96);
  EXPECT_EQ(c->width, 128);
  EXPECT_FALSE(c->size_from_model);

  auto d = image_input_spec(input_of({Dim::sym("N"), Dim::sym("H"), Dim::sym("W"), Dim::of(3)}));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->layout, Layout::kNHWC);
  EXPECT_EQ(d->height, 224);  // default

  // Explicit layout wins.
  auto e = image_input_spec(input_of({Dim::of(1), Dim::of(3), Dim::of(8), Dim::of(3)}), {Layout::kNHWC, {}, {}});
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->layout, Layout::kNHWC);
  EXPECT_EQ(e->height, 3);
  EXPECT_FALSE(e->layout_from_model);

  // Errors.
  EXPECT_FALSE(image_input_spec(input_of({Dim::of(1), Dim::of(5), Dim::of(224), Dim::of(224)})).ok());
  EXPECT_FALSE(image_input_spec(input_of({Dim::of(3), Dim::of(224), Dim::of(224)})).ok());
  EXPECT_FALSE(image_input_spec(input_of({Dim::of(1), Dim::of(3), Dim::of(224), Dim::of(224)}), {std::nullopt, 256, 256}).ok());
  auto f = image_input_spec(input_of({Dim::of(1), Dim::of(4), Dim::of(224), Dim::of(224)}));
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.status().message().find("'img'"), std::string::npos);
}

}  // namespace
}  // namespace convfix
