//===- runtime/tests/SignatureTest.cpp - signature parser tests ---*- C++ -*-===//
//
// Good signatures parse into the expected specs; every malformed form is rejected with a
// message that names the artifact, the line and the problem.
//
//===----------------------------------------------------------------------===//
#include "Signature.h"
#include "TestUtil.h"

using namespace sparq::runtime;
using namespace sparq::runtime::test;

namespace {

TEST(Signature, ParsesTheAbiExample) {
  const char *text = "sparq-signature 1\n"
                     "inputs 2\n"
                     "x float32 4 1 3 224 224\n"
                     "mask bool 2 -1 16\n"
                     "outputs 1\n"
                     "y float32 2 1 1000\n";
  Signature signature;
  SPARQ_ASSERT_OK(parseSignature(text, "m.so", signature));
  ASSERT_EQ(signature.inputs.size(), 2u);
  ASSERT_EQ(signature.outputs.size(), 1u);
  EXPECT_EQ(signature.inputs[0].name, "x");
  EXPECT_EQ(signature.inputs[0].type, SPARQ_ELEMENT_TYPE_FLOAT32);
  EXPECT_EQ(signature.inputs[0].dims, (std::vector<int64_t>{1, 3, 224, 224}));
  EXPECT_EQ(signature.inputs[1].name, "mask");
  EXPECT_EQ(signature.inputs[1].type, SPARQ_ELEMENT_TYPE_BOOL);
  EXPECT_EQ(signature.inputs[1].dims, (std::vector<int64_t>{-1, 16}));
  EXPECT_EQ(signature.outputs[0].name, "y");
  EXPECT_EQ(signature.outputs[0].dims, (std::vector<int64_t>{1, 1000}));
}

TEST(Signature, EveryElementTypeScalarsAndNoTrailingNewline) {
  const char *names[] = {"float32", "float64", "float16", "bfloat16", "int8",   "int16", "int32",
                         "int64",   "uint8",   "uint16",  "uint32",   "uint64", "bool",
                         "string"};
  std::string text = "sparq-signature 1\ninputs 14\n";
  for (int i = 0; i < 14; ++i)
    text += "t" + std::to_string(i) + " " + names[i] + " 0\n";
  text += "outputs 0"; // no final newline
  Signature signature;
  SPARQ_ASSERT_OK(parseSignature(text.c_str(), "m.so", signature));
  ASSERT_EQ(signature.inputs.size(), 14u);
  EXPECT_EQ(signature.inputs[13].type, SPARQ_ELEMENT_TYPE_STRING);
  for (int i = 0; i < 14; ++i) {
    EXPECT_STREQ(sparq_element_type_name(signature.inputs[i].type), names[i]);
    EXPECT_TRUE(signature.inputs[i].dims.empty());
  }
  EXPECT_TRUE(signature.outputs.empty());
}

TEST(Signature, DecodesEscapedNames) {
  const char *text = "sparq-signature 1\ninputs 1\nin%20put%3D1/a:b.c-d_e float32 1 0\n"
                     "outputs 1\n%25 int8 1 2\n";
  Signature signature;
  SPARQ_ASSERT_OK(parseSignature(text, "m.so", signature));
  EXPECT_EQ(signature.inputs[0].name, "in put=1/a:b.c-d_e");
  EXPECT_EQ(signature.inputs[0].dims, (std::vector<int64_t>{0}));
  EXPECT_EQ(signature.outputs[0].name, "%");
}

TEST(Signature, EqualDimensionGroups) {
  const char *text = "sparq-signature 1\n"
                     "inputs 3\n"
                     "a float32 2 -1 3\n"
                     "b float32 1 -1\n"
                     "c float32 2 -1 -1\n"
                     "outputs 0\n"
                     "equal batch%2Fsize 3 0 0 1 0 2 1\n"
                     "equal M 2 2 0 0 0\n";
  Signature signature;
  SPARQ_ASSERT_OK(parseSignature(text, "m.so", signature));
  ASSERT_EQ(signature.equalDims.size(), 2u);
  EXPECT_EQ(signature.equalDims[0].symbol, "batch/size");
  using Members = std::vector<std::pair<size_t, size_t>>;
  EXPECT_EQ(signature.equalDims[0].members, (Members{{0, 0}, {1, 0}, {2, 1}}));
  EXPECT_EQ(signature.equalDims[1].symbol, "M");
  EXPECT_EQ(signature.equalDims[1].members, (Members{{2, 0}, {0, 0}}));
}

TEST(Signature, OutputNameMayRepeatAnInputName) {
  Signature signature;
  SPARQ_EXPECT_OK(parseSignature("sparq-signature 1\ninputs 1\nx int8 0\noutputs 1\nx int8 0\n",
                                 "m.so", signature));
}

class MalformedSignature : public ::testing::TestWithParam<MalformedCase> {};

TEST_P(MalformedSignature, IsRejectedWithAMessage) {
  Signature signature;
  expectMalformed(parseSignature(GetParam().text, "/tmp/model.so", signature),
                  "artifact '/tmp/model.so': malformed signature", GetParam().expected);
}

#define HDR "sparq-signature 1\n"
INSTANTIATE_TEST_SUITE_P(
    Cases, MalformedSignature,
    ::testing::Values(
        MalformedCase{"", "the signature is empty"},
        MalformedCase{"sparq-signature 2\ninputs 0\noutputs 0\n",
                      "line 1 ('sparq-signature 2'): unsupported signature version '2'"},
        MalformedCase{"sparq-sig 1\n", "expected 'sparq-signature 1'"},
        MalformedCase{"sparq-signature 1\r\ninputs 0\r\noutputs 0\r\n",
                      "expected 'sparq-signature 1'"},
        MalformedCase{HDR "inputs 0\n", "line 3 (end of text): expected 'outputs N'"},
        MalformedCase{HDR "outputs 0\n", "line 2 ('outputs 0'): expected 'inputs N'"},
        MalformedCase{HDR "inputs -1\noutputs 0\n", "expected 'inputs N' with N a non-negative"},
        MalformedCase{HDR "inputs x\noutputs 0\n", "expected 'inputs N'"},
        MalformedCase{HDR "inputs  1\n", "expected 'inputs N'"},
        MalformedCase{HDR "inputs 2\nx int8 0\n",
                      "line 2 ('inputs 2'): declares 2 inputs but the signature ends after 1"},
        MalformedCase{HDR "inputs 1\nx float32 2 1\noutputs 0\n",
                      "line 3 ('x float32 2 1'): rank 2 needs 2 dimensions, got 1"},
        MalformedCase{HDR "inputs 1\nx float32 1 1 1\noutputs 0\n",
                      "rank 1 needs 1 dimensions, got 2"},
        MalformedCase{HDR "inputs 1\nx float32\noutputs 0\n", "expected 'NAME DTYPE RANK"},
        MalformedCase{HDR "inputs 1\nx float128 0\noutputs 0\n",
                      "unknown element type 'float128'"},
        MalformedCase{HDR "inputs 1\nx String 0\noutputs 0\n",
                      "unknown element type 'String'"},
        MalformedCase{HDR "inputs 1\nx int8 1 -2\noutputs 0\n",
                      "dimension 0 '-2' is neither a size >= 0 nor -1"},
        MalformedCase{HDR "inputs 1\nx int8 1 3a\noutputs 0\n", "dimension 0 '3a'"},
        MalformedCase{HDR "inputs 1\nx int8 1 +3\noutputs 0\n", "dimension 0 '+3'"},
        MalformedCase{HDR "inputs 1\nx int8 -1\noutputs 0\n", "rank '-1' is not an integer"},
        MalformedCase{HDR "inputs 1\nx int8 65\noutputs 0\n", "rank '65' is not an integer"},
        MalformedCase{HDR "inputs 1\nx int8 1 99999999999999999999\noutputs 0\n",
                      "dimension 0 '99999999999999999999'"},
        MalformedCase{HDR "inputs 1\nx  int8 0\noutputs 0\n", "separated by single spaces"},
        MalformedCase{HDR "inputs 1\nx int8 0 \noutputs 0\n", "separated by single spaces"},
        MalformedCase{HDR "inputs 1\n\noutputs 0\n", "separated by single spaces"},
        MalformedCase{HDR "inputs 1\nx%2g int8 0\noutputs 0\n",
                      "'%' at offset 1 is not followed by two upper-case hex digits"},
        MalformedCase{HDR "inputs 1\nx%2f int8 0\noutputs 0\n", "upper-case hex digits"},
        MalformedCase{HDR "inputs 1\nx% int8 0\noutputs 0\n", "upper-case hex digits"},
        MalformedCase{HDR "inputs 1\nx%00 int8 0\noutputs 0\n", "%00 (NUL) is not allowed"},
        MalformedCase{HDR "inputs 1\nx!y int8 0\noutputs 0\n",
                      "byte 33 at offset 1 must be written as %XX"},
        MalformedCase{HDR "inputs 2\nx int8 0\nx int8 0\noutputs 0\n",
                      "line 4 ('x int8 0'): duplicate input name 'x'"},
        MalformedCase{HDR "inputs 0\noutputs 2\ny int8 0\n%79 int8 0\n",
                      "duplicate output name 'y'"},
        MalformedCase{HDR "inputs 0\noutputs 0\nextra\n",
                      "line 4 ('extra'): unexpected text after the last output"},
        MalformedCase{HDR "inputs 0\noutputs 0\n\n", "unexpected text after the last output"},
        // Equal-dimension groups: two or more dynamic dimensions of existing inputs.
        MalformedCase{HDR "inputs 2\na int8 1 -1\nb int8 1 -1\noutputs 0\nequal N 1 0 0\n",
                      "line 6 ('equal N 1 0 0'): expected 'equal SYMBOL COUNT INPUT DIM ...'"},
        MalformedCase{HDR "inputs 2\na int8 1 -1\nb int8 1 -1\noutputs 0\nequal N 2 0 0 1\n",
                      "expected 'equal SYMBOL COUNT"},
        // Found by sparq-fuzz-signature: a COUNT whose double overflows int64.
        MalformedCase{HDR "inputs 2\na int8 1 -1\nb int8 1 -1\noutputs 0\nequal N 6666666666666666662 0 0 1 0\n",
                      "expected 'equal SYMBOL COUNT"},
        MalformedCase{HDR "inputs 2\na int8 1 -1\nb int8 1 -1\noutputs 0\nequal N 2 0 0 2 0\n",
                      "input index '2' is not one of the 2 inputs"},
        MalformedCase{HDR "inputs 2\na int8 1 -1\nb int8 1 4\noutputs 0\nequal N 2 0 0 1 0\n",
                      "dimension '0' is not a dynamic dimension of input 'b'"},
        MalformedCase{HDR "inputs 2\na int8 1 -1\nb int8 1 -1\noutputs 0\nequal N 2 0 0 1 1\n",
                      "dimension '1' is not a dynamic dimension of input 'b'"},
        MalformedCase{HDR "inputs 2\na int8 1 -1\nb int8 1 -1\noutputs 0\nequal N!x 2 0 0 1 0\n",
                      "byte 33 at offset 1 must be written as %XX"}),
    [](const ::testing::TestParamInfo<MalformedCase> &info) {
      return "case" + std::to_string(info.index);
    });
#undef HDR

TEST(Signature, NullTextIsAnError) {
  Signature signature;
  StatusInfo info = take(parseSignature(nullptr, "m.so", signature));
  EXPECT_FALSE(info.ok);
  EXPECT_NE(info.message.find("returned NULL"), std::string::npos) << info.message;
}

} // namespace
