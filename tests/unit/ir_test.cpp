#include <gtest/gtest.h>

#include "convfix/graph.h"
#include "convfix/tensor.h"

using namespace convfix;

TEST(Tensor, F16RoundTripMatchesKnownEncodings) {
  // Encodings from the IEEE 754 binary16 definition.
  EXPECT_EQ(f32_to_f16(1.0f), 0x3c00);
  EXPECT_EQ(f32_to_f16(-2.0f), 0xc000);
  EXPECT_EQ(f32_to_f16(65504.0f), 0x7bff);
  EXPECT_EQ(f32_to_f16(5.9604645e-08f), 0x0001);  // smallest subnormal
  EXPECT_FLOAT_EQ(f16_to_f32(0x3555), 0.333251953125f);
  for (uint32_t h = 0; h < 0x7c00; ++h) EXPECT_EQ(f32_to_f16(f16_to_f32(static_cast<uint16_t>(h))), h);
}

TEST(Graph, TopoSortAndVerify) {
  Graph g;
  ValueInfo x;
  x.name = "x";
  x.dtype = DType::kF32;
  x.shape = {Dim::of(1)};
  x.has_shape = true;
  g.inputs.push_back(x);
  ValueInfo z;
  z.name = "z";
  z.dtype = DType::kF32;
  g.outputs.push_back(z);
  Node b{"b", "Relu", "", {"y"}, {"z"}, {}, {}, ""};
  Node a{"a", "Relu", "", {"x"}, {"y"}, {}, {}, ""};
  g.nodes = {b, a};
  EXPECT_FALSE(g.verify().ok());
  ASSERT_TRUE(g.topo_sort().ok());
  EXPECT_EQ(g.nodes[0].name, "a");
  EXPECT_TRUE(g.verify().ok());
  ASSERT_TRUE(g.remove_node(1, 0).ok());  // remove b, keep graph output name z
  EXPECT_TRUE(g.verify().ok());
  EXPECT_EQ(g.nodes[0].outputs[0], "z");
}
