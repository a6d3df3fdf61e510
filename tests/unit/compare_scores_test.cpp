// Softmax, top-k, Kendall's tau for top-k lists, quantiles, SHA-256 and the
// output cache encoding. Expected values are worked out by hand in the
// comments (tau cases were also checked with scipy.stats.kendalltau on the
// rank vectors described in docs/DIAGNOSIS.md); SHA-256 vectors are the
// FIPS 180-2 appendix examples.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <unistd.h>
#include <vector>

#include "convfix/compare.h"
#include "convfix/fileio.h"
#include "convfix/output_cache.h"
#include "convfix/scores.h"
#include "convfix/sha256.h"

namespace convfix {
namespace {

namespace fs = std::filesystem;

TEST(KendallTopK, IdenticalOrderedListsGiveOne) {
  EXPECT_DOUBLE_EQ(kendall_tau_topk({1, 2, 3, 4, 5}, {1, 2, 3, 4, 5}), 1.0);
  EXPECT_DOUBLE_EQ(kendall_tau_topk({}, {}), 1.0);
  EXPECT_DOUBLE_EQ(kendall_tau_topk({7}, {7}), 1.0);
}

TEST(KendallTopK, ReversedListGivesMinusOne) {
  EXPECT_DOUBLE_EQ(kendall_tau_topk({1, 2, 3, 4, 5}, {5, 4, 3, 2, 1}), -1.0);
}

TEST(KendallTopK, OneAdjacentSwapOfFive) {
  // 10 pairs, 9 concordant, 1 discordant: (9 - 1) / 10.
  EXPECT_NEAR(kendall_tau_topk({1, 2, 3, 4, 5}, {2, 1, 3, 4, 5}), 0.8, 1e-12);
}

TEST(KendallTopK, LastClassReplaced) {
  // U = {1..6}; ranks a: 1..5 -> 0..4, 6 -> 5; b: 1..4 -> 0..3, 6 -> 4, 5 -> 5.
  // No ties; only the pair (5, 6) is discordant: (14 - 1) / 15.
  EXPECT_NEAR(kendall_tau_topk({1, 2, 3, 4, 5}, {1, 2, 3, 4, 6}), 13.0 / 15.0, 1e-12);
}

TEST(KendallTopK, DisjointListsOfFive) {
  // 10 classes; 25 cross pairs discordant; within each list the other list
  // ties its 5 missing classes (10 tied pairs per side): -25 / sqrt(35 * 35).
  EXPECT_NEAR(kendall_tau_topk({1, 2, 3, 4, 5}, {6, 7, 8, 9, 10}), -25.0 / 35.0, 1e-12);
}

TEST(KendallTopK, PartialOverlapWithTies) {
  // a = [1,2,3], b = [4,5,1]: ranks a (1,2,3,4,5) = (0,1,2,3,3), b = (2,3,3,0,1).
  // C = 2 ({1,2},{1,3}), D = 6, one tie in a ({4,5}), one in b ({2,3}):
  // (2 - 6) / sqrt(9 * 9) = -4/9 (scipy.stats.kendalltau agrees).
  EXPECT_NEAR(kendall_tau_topk({1, 2, 3}, {4, 5, 1}), -4.0 / 9.0, 1e-12);
  // a = [1,2], b = [3,1]: three pairs, no ties, C = 1, D = 2.
  EXPECT_NEAR(kendall_tau_topk({1, 2}, {3, 1}), -1.0 / 3.0, 1e-12);
}

TEST(KendallTopK, SymmetricInItsArguments) {
  EXPECT_DOUBLE_EQ(kendall_tau_topk({1, 2, 3}, {4, 5, 1}), kendall_tau_topk({4, 5, 1}, {1, 2, 3}));
}

TEST(KendallTopK, SingleDifferentClassesGiveMinusOne) {
  EXPECT_DOUBLE_EQ(kendall_tau_topk({3}, {4}), -1.0);
}

TEST(TopK, LargestFirstTiesByIndexNaNLast) {
  const std::vector<float> r = {0.1f, 0.5f, 0.5f, NAN, 0.3f};
  EXPECT_EQ(top_k(r, 3), (std::vector<size_t>{1, 2, 4}));
  EXPECT_EQ(top_k(r, 10), (std::vector<size_t>{1, 2, 4, 0, 3}));
  EXPECT_EQ(top_k(std::vector<float>{NAN, NAN, NAN}, 2), (std::vector<size_t>{0, 1}));
  EXPECT_TRUE(top_k(std::vector<float>{}, 5).empty());
}

TEST(Softmax, KnownValuesAndNoOverflow) {
  std::vector<float> r = {0.0f, std::log(3.0f)};
  softmax_inplace(r);
  EXPECT_NEAR(r[0], 0.25f, 1e-6);
  EXPECT_NEAR(r[1], 0.75f, 1e-6);
  std::vector<float> big = {1000.0f, 1000.0f};
  softmax_inplace(big);
  EXPECT_NEAR(big[0], 0.5f, 1e-7);
  std::vector<float> bad = {NAN, 1.0f};
  softmax_inplace(bad);
  EXPECT_TRUE(std::isnan(bad[0]) && std::isnan(bad[1]));
}

TEST(Softmax, ProbabilityDetection) {
  const float p[] = {0.2f, 0.8f}, q[] = {0.5f, 0.6f}, s[] = {-0.1f, 1.1f}, n[] = {NAN};
  EXPECT_TRUE(looks_like_probabilities(p, 2));
  EXPECT_FALSE(looks_like_probabilities(q, 2));
  EXPECT_FALSE(looks_like_probabilities(s, 2));
  EXPECT_FALSE(looks_like_probabilities(n, 1));
}

TEST(TauStats, QuantilesInterpolateLikeNumpy) {
  // numpy.quantile([1,2,3,4], 0.05) = 1.15, median 2.5.
  EXPECT_NEAR(quantile({4, 1, 3, 2}, 0.05), 1.15, 1e-12);
  EXPECT_NEAR(quantile({4, 1, 3, 2}, 0.5), 2.5, 1e-12);
  const TauStats s = tau_stats({1.0, 0.5, -0.2, 1.0});
  EXPECT_EQ(s.count, 4);
  EXPECT_EQ(s.below_one, 2);
  EXPECT_NEAR(s.mean, 0.575, 1e-12);
  EXPECT_NEAR(s.min, -0.2, 1e-12);
  EXPECT_NEAR(s.median, 0.75, 1e-12);
}

TEST(Sha256, FipsExamples) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  // One million 'a', fed in uneven pieces.
  Sha256 h;
  const std::string piece(997, 'a');
  size_t left = 1000000;
  while (left) {
    const size_t n = std::min(left, piece.size());
    h.update(piece.data(), n);
    left -= n;
  }
  EXPECT_EQ(h.hex_digest(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(OutputCache, RoundTripAndCorruptEntriesMiss) {
  CachedOutputs o;
  o.names = {"logits", "aux"};
  o.tensors.push_back(Tensor::from_vector<float>(DType::kF32, {1, 3}, {1.5f, -2.0f, NAN}));
  o.tensors.push_back(Tensor::from_vector<float>(DType::kF32, {1, 0}, {}));
  const std::string bytes = encode_cached_outputs(o);
  auto back = decode_cached_outputs(bytes);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->names, o.names);
  ASSERT_EQ(back->tensors.size(), 2u);
  EXPECT_EQ(back->tensors[0].dims(), (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(back->tensors[0].data<float>()[1], -2.0f);
  EXPECT_TRUE(std::isnan(back->tensors[0].data<float>()[2]));
  for (size_t cut = 0; cut < bytes.size(); ++cut) EXPECT_FALSE(decode_cached_outputs(bytes.substr(0, cut)).has_value());
  std::string huge = bytes;
  huge[4 + 4 + 4 + 4 + 6 + 4 + 7] = '\x7f';  // top byte of the first dim: about 9e18 elements
  EXPECT_FALSE(decode_cached_outputs(huge).has_value());

  const fs::path dir = fs::temp_directory_path() / ("convfix-cache-test-" + std::to_string(getpid()));
  OutputCache cache(dir.string());
  const std::string key = output_cache_key("m", "p", "i");
  EXPECT_FALSE(cache.load(key).has_value());
  ASSERT_TRUE(cache.store(key, o).ok());
  EXPECT_TRUE(cache.load(key).has_value());
  ASSERT_TRUE(write_file_atomic(cache.entry_path(key), bytes.substr(0, 10)).ok());
  EXPECT_FALSE(cache.load(key).has_value());
  EXPECT_FALSE(OutputCache().load(key).has_value());
  fs::remove_all(dir);
}

TEST(OutputCache, KeyDependsOnEveryPart) {
  const std::string k = output_cache_key("m", "p", "i");
  EXPECT_EQ(k.size(), 64u);
  EXPECT_NE(k, output_cache_key("m2", "p", "i"));
  EXPECT_NE(k, output_cache_key("m", "p2", "i"));
  EXPECT_NE(k, output_cache_key("m", "p", "i2"));
  ImageInputSpec spec;
  spec.input_name = "x";
  auto torch = preset_by_name("torch");
  auto tf = preset_by_name("tf");
  ASSERT_TRUE(torch.ok() && tf.ok());
  EXPECT_NE(preprocessing_key(*torch, spec), preprocessing_key(*tf, spec));
  ImageInputSpec nhwc = spec;
  nhwc.layout = Layout::kNHWC;
  EXPECT_NE(preprocessing_key(*torch, spec), preprocessing_key(*torch, nhwc));
  const QuantParams q1{{1.0f / 255}, {-128}, 0}, q2{{1.0f / 255}, {0}, 0};
  EXPECT_NE(preprocessing_key(*torch, spec), preprocessing_key(*torch, spec, q1));
  EXPECT_NE(preprocessing_key(*torch, spec, q1), preprocessing_key(*torch, spec, q2));
}

}  // namespace
}  // namespace convfix
