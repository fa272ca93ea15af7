//===- runtime/tests/RowSumsTest.cpp - row sums kernel ---------------------------===//
//
// sparq_uk_row_sums_f32 against a plain loop in double: row lengths below, at and across the
// vector width and the kernel's four-vector step (masked tails), padded input rows, an output
// stride, accumulation into the existing outputs, and the last row ending at an inaccessible
// page (the masked tail must not read past it). Values are small integers, so every partial sum
// is exact in float and the result must equal the reference exactly.
//
//===----------------------------------------------------------------------===//
#include "KernelTestUtil.h"

#include "sparq/Kernels/UKernels.h"

#include <vector>

namespace {

using sparq::test::GuardedBytes;

class RowSums : public sparq::test::KernelTest,
                public ::testing::WithParamInterface<std::tuple<int64_t, int64_t, int64_t>> {};

TEST_P(RowSums, MatchesLoop) {
  auto [rows, len, pad] = GetParam();
  const int64_t inStride = len + pad, outStride = 3;
  GuardedBytes inBytes(sizeof(float) * size_t((rows - 1) * inStride + len));
  float *in = reinterpret_cast<float *>(inBytes.data());
  for (size_t i = 0; i < inBytes.size() / sizeof(float); ++i)
    in[i] = float(int(i * 7 % 19) - 9);
  std::vector<float> out(size_t(rows * outStride), -7.0f);
  for (int64_t r = 0; r < rows; ++r)
    out[size_t(r * outStride)] = float(r % 5);
  sparq_uk_row_sums_f32(intptr_t(out.data()), outStride, intptr_t(in), inStride, rows, len);
  for (int64_t r = 0; r < rows; ++r) {
    double want = double(r % 5);
    for (int64_t i = 0; i < len; ++i)
      want += in[r * inStride + i];
    ASSERT_EQ(out[size_t(r * outStride)], float(want)) << "row " << r << " of " << len;
    ASSERT_EQ(out[size_t(r * outStride + 1)], -7.0f) << "between outputs, row " << r;
    ASSERT_EQ(out[size_t(r * outStride + 2)], -7.0f) << "between outputs, row " << r;
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, RowSums,
                         ::testing::Values(std::make_tuple(1, 1, 0), std::make_tuple(3, 7, 1),
                                           std::make_tuple(2, 8, 0), std::make_tuple(5, 16, 3),
                                           std::make_tuple(4, 17, 0), std::make_tuple(2, 63, 2),
                                           std::make_tuple(3, 64, 0), std::make_tuple(2, 65, 5),
                                           std::make_tuple(64, 784, 0),
                                           std::make_tuple(7, 1000, 13),
                                           std::make_tuple(3, 0, 2)));

} // namespace
