//===- runtime/tests/ProfileTableTest.cpp - kernel table parser tests ---*- C++ -*-===//
//
// A profiled artifact's kernel table (include/sparq/Formats/KernelProfile.h) parses into its
// kernels; every malformed form is rejected with a message naming the artifact and the line.
//
//===----------------------------------------------------------------------===//
#include "Profile.h"
#include "TestUtil.h"

using namespace sparq::runtime;
using namespace sparq::runtime::test;

namespace {

TEST(ProfileTable, ParsesKernels) {
  const char *text = "sparq-profile 1\nkernels 3\n"
                     "0\t65536\t16384\tmatmul\tmm\n"
                     "1\t-1\t-1\telementwise\tdyn\n"
                     "2\t0\t1028\tfused block\tresidual block: a+b c\n";
  std::vector<KernelInfo> kernels;
  SPARQ_ASSERT_OK(parseProfileTable(text, "m.so", kernels));
  ASSERT_EQ(kernels.size(), 3u);
  EXPECT_EQ(kernels[0].kind, "matmul");
  EXPECT_EQ(kernels[0].name, "mm");
  EXPECT_EQ(kernels[0].flops, 65536);
  EXPECT_EQ(kernels[0].bytes, 16384);
  EXPECT_EQ(kernels[1].flops, -1);
  EXPECT_EQ(kernels[1].bytes, -1);
  EXPECT_EQ(kernels[2].kind, "fused block");
  EXPECT_EQ(kernels[2].name, "residual block: a+b c");
}

TEST(ProfileTable, EmptyNameAndNoKernels) {
  std::vector<KernelInfo> kernels;
  SPARQ_ASSERT_OK(parseProfileTable("sparq-profile 1\nkernels 1\n0\t1\t2\tfill\t\n", "m.so",
                                    kernels));
  ASSERT_EQ(kernels.size(), 1u);
  EXPECT_EQ(kernels[0].name, "");
  SPARQ_ASSERT_OK(parseProfileTable("sparq-profile 1\nkernels 0\n", "m.so", kernels));
  EXPECT_TRUE(kernels.empty());
}

class MalformedProfileTable : public ::testing::TestWithParam<MalformedCase> {};

TEST_P(MalformedProfileTable, IsRejectedWithAMessage) {
  std::vector<KernelInfo> kernels;
  expectMalformed(parseProfileTable(GetParam().text, "/tmp/model.so", kernels),
                  "artifact '/tmp/model.so': malformed profile table", GetParam().expected);
}

#define HDR "sparq-profile 1\n"
INSTANTIATE_TEST_SUITE_P(
    Cases, MalformedProfileTable,
    ::testing::Values(
        MalformedCase{"", "line 1 (end of text): expected 'sparq-profile 1'"},
        MalformedCase{"sparq-profile 2\nkernels 0\n", "line 1 ('sparq-profile 2')"},
        MalformedCase{HDR, "line 2 (end of text): expected 'kernels N'"},
        MalformedCase{HDR "kernels -1\n", "expected 'kernels N' with 0 <= N <= 16384"},
        MalformedCase{HDR "kernels 99999\n", "expected 'kernels N' with 0 <= N <= 16384"},
        MalformedCase{HDR "kernels 2\n0\t1\t2\ta\tb\n", "expected 2 kernel lines, found 1"},
        MalformedCase{HDR "kernels 1\n0\t1\t2\ta\tb\n1\t1\t2\ta\tb\n",
                      "line 4 ('1\t1\t2\ta\tb'): expected 1 kernel lines, found 2"},
        MalformedCase{HDR "kernels 1\n1\t1\t2\ta\tb\n", "line 3 ('1\t1\t2\ta\tb'): expected"},
        MalformedCase{HDR "kernels 1\n0\t1\t2\ta\n", "with ID 0"},
        MalformedCase{HDR "kernels 1\n0\tx\t2\ta\tb\n", "with ID 0"},
        MalformedCase{HDR "kernels 1\n0\t1\t-2\ta\tb\n", "with ID 0"},
        MalformedCase{HDR "kernels 1\n0\t1\t2\ta\tb\tc\n", "with ID 0"}));
#undef HDR

} // namespace
