// Unit tests of read_tfjs_weights (convfix/tfjs_format.h) and the Keras zip
// reader: manifest decoding (float32, float16 kept, uint8 {min, scale},
// uint16 {scale, zero_point}, int32 original dtype), confined shard paths,
// sizes checked before reading; zip round trip and corruption.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "convfix/fileio.h"
#include "convfix/tfjs_format.h"
#include "formats/keras/keras_zip.h"

namespace convfix {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class TfjsWeights : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("convfix_tfjs_w_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string model() const { return (dir_ / "model.json").string(); }
  void shard(const std::string& name, const std::string& bytes) {
    ASSERT_TRUE(write_file_atomic((dir_ / name).string(), bytes).ok());
  }
  fs::path dir_;
};

template <typename T>
std::string bytes_of(std::initializer_list<T> v) {
  std::string s(v.size() * sizeof(T), '\0');
  std::memcpy(s.data(), std::data(v), s.size());
  return s;
}

TEST_F(TfjsWeights, DecodesEveryStorage) {
  std::string b = bytes_of<float>({1.5f, -2.f});
  b += bytes_of<uint16_t>({f32_to_f16(0.5f), f32_to_f16(-3.f)});
  b += bytes_of<uint8_t>({0, 10, 255});
  shard("s1.bin", b.substr(0, 9));
  shard("s2.bin", b.substr(9));
  shard("s3.bin", bytes_of<uint16_t>({4, 7}) + bytes_of<uint8_t>({3, 5}));
  json j = {{"weightsManifest",
             {{{"paths", {"s1.bin", "s2.bin"}},
               {"weights",
                {{{"name", "a"}, {"shape", {2}}, {"dtype", "float32"}},
                 {{"name", "h"}, {"shape", {2}}, {"dtype", "float32"}, {"quantization", {{"dtype", "float16"}}}},
                 {{"name", "q"}, {"shape", {3}}, {"dtype", "float32"}, {"quantization", {{"dtype", "uint8"}, {"min", -1.0}, {"scale", 0.5}}}}}}},
              {{"paths", {"s3.bin"}},
               {"weights",
                {{{"name", "z"}, {"shape", {2}}, {"dtype", "float32"}, {"quantization", {{"dtype", "uint16"}, {"scale", 0.25}, {"zero_point", 4}}}},
                 {{"name", "i"}, {"shape", {2}}, {"dtype", "int32"},
                  {"quantization", {{"dtype", "uint8"}, {"scale", 2.0}, {"min", 1.0}, {"original_dtype", "int32"}}}}}}}}}};
  auto w = read_tfjs_weights(model(), j);
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_EQ(w->order, (std::vector<std::string>{"a", "h", "q", "z", "i"}));
  EXPECT_EQ(w->tensors.at("a").data<float>()[1], -2.f);
  ASSERT_EQ(w->tensors.at("h").dtype(), DType::kF16);
  EXPECT_EQ(f16_to_f32(w->tensors.at("h").data<uint16_t>()[1]), -3.f);
  EXPECT_FLOAT_EQ(w->tensors.at("q").data<float>()[0], -1.f);
  EXPECT_FLOAT_EQ(w->tensors.at("q").data<float>()[2], 126.5f);
  EXPECT_FLOAT_EQ(w->tensors.at("z").data<float>()[0], 0.f);
  EXPECT_FLOAT_EQ(w->tensors.at("z").data<float>()[1], 0.75f);
  ASSERT_EQ(w->tensors.at("i").dtype(), DType::kI32);
  EXPECT_EQ(w->tensors.at("i").data<int32_t>()[1], 11);
}

TEST_F(TfjsWeights, RefusesPathsOutsideTheFolderAndShortShards) {
  json j = {{"weightsManifest", {{{"paths", {"../x.bin"}}, {"weights", {{{"name", "a"}, {"shape", {1}}}}}}}}};
  auto w = read_tfjs_weights(model(), j);
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.status().message().find("leaves the model folder"), std::string::npos);
  j["weightsManifest"][0]["paths"] = {"/etc/passwd"};
  EXPECT_FALSE(read_tfjs_weights(model(), j).ok());
  shard("s.bin", "abc");
  j["weightsManifest"][0]["paths"] = {"s.bin"};
  w = read_tfjs_weights(model(), j);
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.status().message().find("need 4 bytes but its shards hold 3"), std::string::npos);
  j["weightsManifest"][0]["weights"][0]["shape"] = {-1};
  EXPECT_FALSE(read_tfjs_weights(model(), j).ok());
}

TEST(KerasZip, RoundTripAndCorruption) {
  auto z = keras::write_zip({{"config.json", "{}"}, {"model.weights.h5", std::string(1000, 'x')}});
  ASSERT_TRUE(z.ok());
  auto e = keras::read_zip("t.keras", *z);
  ASSERT_TRUE(e.ok()) << e.status().message();
  ASSERT_EQ(e->size(), 2u);
  EXPECT_EQ((*e)[1].second, std::string(1000, 'x'));
  std::string bad = *z;
  bad[100] ^= 1;  // inside the second entry's data (starts at 89): CRC mismatch
  EXPECT_FALSE(keras::read_zip("t.keras", bad).ok());
  EXPECT_FALSE(keras::read_zip("t.keras", z->substr(0, z->size() - 5)).ok());
}

}  // namespace
}  // namespace convfix
