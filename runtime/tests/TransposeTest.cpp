//===- runtime/tests/TransposeTest.cpp - batched transpose kernel ---------------===//
//
// sparq_uk_transpose_f32 against the definition out[b][c][r] = in[b][r][c], on sizes below,
// at and across the vector width (edge blocks masked both ways), with padded rows and batch
// strides whose padding must stay untouched, and the input ending at an inaccessible page;
// output row strides that are multiples of 4 KiB (the kernel's strips of blocks).
//
//===----------------------------------------------------------------------===//
#include "KernelTestUtil.h"

#include "sparq/Kernels/UKernels.h"

#include <vector>

namespace {

using sparq::test::GuardedBytes;

class Transpose : public sparq::test::KernelTest,
                  public ::testing::WithParamInterface<std::tuple<int64_t, int64_t, int64_t, int64_t>> {};

TEST_P(Transpose, MatchesDefinition) {
  auto [B, R, C, pad] = GetParam();
  const int64_t ldi = C + pad, ldo = R + pad + 1;
  const int64_t inStrideB = R * ldi + pad, outStrideB = C * ldo + 2 * pad;
  GuardedBytes inBytes(sizeof(float) * ((B - 1) * inStrideB + (R - 1) * ldi + C));
  float *in = reinterpret_cast<float *>(inBytes.data());
  for (size_t i = 0; i < inBytes.size() / sizeof(float); ++i)
    in[i] = float(i % 1009) - 500.0f;
  std::vector<float> out(B * outStrideB, -7.0f);
  sparq_uk_transpose_f32(intptr_t(out.data()), outStrideB, ldo, intptr_t(in), inStrideB, ldi, B,
                         R, C);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < outStrideB; ++i) {
      const int64_t c = i / ldo, r = i % ldo;
      const float got = out[b * outStrideB + i];
      if (c < C && r < R)
        ASSERT_EQ(got, in[b * inStrideB + r * ldi + c]) << "b=" << b << " c=" << c << " r=" << r;
      else
        ASSERT_EQ(got, -7.0f) << "padding written at b=" << b << " offset " << i;
    }
}

INSTANTIATE_TEST_SUITE_P(Shapes, Transpose,
                         ::testing::Values(std::make_tuple(1, 1, 1, 0),
                                           std::make_tuple(1, 7, 5, 0),
                                           std::make_tuple(2, 16, 16, 0),
                                           std::make_tuple(3, 17, 33, 3),
                                           std::make_tuple(1, 64, 40, 1),
                                           std::make_tuple(2, 130, 9, 0),
                                           std::make_tuple(1, 5, 200, 2),
                                           // Output rows a multiple of 4 KiB apart (ldo =
                                           // R + pad + 1 = 1024, 2048): strips of 4 blocks,
                                           // the last strip and block partial.
                                           std::make_tuple(2, 1023, 37, 0),
                                           std::make_tuple(1, 2046, 20, 1)));

} // namespace
