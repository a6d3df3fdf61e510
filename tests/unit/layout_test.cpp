// convfix/layout.h: plain <-> nChw16c conversions against the layout's
// definition (offset of (n, c, h, w) = ((n*C/16 + c/16)*H*W + h*W + w)*16
// + c%16, written out here independently of src/runtime/layout.cpp).
#include <gtest/gtest.h>

#include "convfix/layout.h"

using namespace convfix;

TEST(Layout, BlockedOffsetsFollowTheDefinitionAndRoundTripExactly) {
  const int64_t N = 2, C = 32, H = 5, W = 7;
  Tensor t(DType::kF32, {N, C, H, W});
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = static_cast<float>(i) * 0.5f - 3.0f;
  ASSERT_TRUE(can_block(t));
  ThreadPool pool(2);
  for (ThreadPool* p : {static_cast<ThreadPool*>(nullptr), &pool}) {
    const Tensor b = to_blocked(t, p);
    EXPECT_EQ(b.layout(), MemoryLayout::kNChw16c);
    EXPECT_EQ(b.dims(), t.dims());
    for (int64_t n = 0; n < N; ++n)
      for (int64_t c = 0; c < C; ++c)
        for (int64_t h = 0; h < H; ++h)
          for (int64_t w = 0; w < W; ++w) {
            const int64_t plain = ((n * C + c) * H + h) * W + w;
            const int64_t blocked = ((n * (C / 16) + c / 16) * H * W + h * W + w) * 16 + c % 16;
            ASSERT_EQ(b.data<float>()[blocked], t.data<float>()[plain]) << n << " " << c << " " << h << " " << w;
          }
    const Tensor back = to_plain(b, p);
    EXPECT_EQ(back.layout(), MemoryLayout::kPlain);
    EXPECT_TRUE(back.bitwise_equal(t));
  }
  // A plain tensor comes back as itself.
  EXPECT_EQ(to_plain(t, nullptr).raw(), t.raw());
}

TEST(Layout, OnlyRank4F32WithChannelsInBlocksOf16CanBeBlocked) {
  EXPECT_FALSE(can_block(Tensor(DType::kF32, {1, 24, 4, 4})));
  EXPECT_FALSE(can_block(Tensor(DType::kF64, {1, 16, 4, 4})));
  EXPECT_FALSE(can_block(Tensor(DType::kF32, {16, 4, 4})));
  EXPECT_FALSE(can_block(Tensor(DType::kF32, {1, 16, 0, 4})));
  EXPECT_TRUE(can_block(Tensor(DType::kF32, {3, 48, 1, 1})));
}
