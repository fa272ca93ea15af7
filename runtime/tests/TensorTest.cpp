//===- runtime/tests/TensorTest.cpp - tensors, element types, status tests -*- C++ -*-===//
//
// Tensor creation (owned and wrapped), accessors, validation errors, element type names
// and sizes, and float16/bfloat16 conversions against hand-computed bit patterns.
//
//===----------------------------------------------------------------------===//
#include "TestUtil.h"

#include <cmath>
#include <cstring>
#include <limits>

using namespace sparq::runtime::test;

namespace {

TEST(Status, NullIsOk) {
  EXPECT_STREQ(sparq_status_message(nullptr), "");
  EXPECT_EQ(sparq_status_code(nullptr), SPARQ_STATUS_OK);
  sparq_status_free(nullptr);
}

TEST(ElementType, NamesSizesAndOnnxNumbers) {
  struct {
    sparq_element_type_t type;
    int onnx;
    const char *name;
    size_t size;
  } table[] = {{SPARQ_ELEMENT_TYPE_FLOAT32, 1, "float32", 4},
               {SPARQ_ELEMENT_TYPE_UINT8, 2, "uint8", 1},
               {SPARQ_ELEMENT_TYPE_INT8, 3, "int8", 1},
               {SPARQ_ELEMENT_TYPE_UINT16, 4, "uint16", 2},
               {SPARQ_ELEMENT_TYPE_INT16, 5, "int16", 2},
               {SPARQ_ELEMENT_TYPE_INT32, 6, "int32", 4},
               {SPARQ_ELEMENT_TYPE_INT64, 7, "int64", 8},
               {SPARQ_ELEMENT_TYPE_STRING, 8, "string", sizeof(const char *)},
               {SPARQ_ELEMENT_TYPE_BOOL, 9, "bool", 1},
               {SPARQ_ELEMENT_TYPE_FLOAT16, 10, "float16", 2},
               {SPARQ_ELEMENT_TYPE_FLOAT64, 11, "float64", 8},
               {SPARQ_ELEMENT_TYPE_UINT32, 12, "uint32", 4},
               {SPARQ_ELEMENT_TYPE_UINT64, 13, "uint64", 8},
               {SPARQ_ELEMENT_TYPE_BFLOAT16, 16, "bfloat16", 2}};
  for (const auto &entry : table) {
    EXPECT_EQ(int(entry.type), entry.onnx);
    EXPECT_STREQ(sparq_element_type_name(entry.type), entry.name);
    EXPECT_EQ(sparq_element_type_size(entry.type), entry.size);
    sparq_element_type_t parsed = SPARQ_ELEMENT_TYPE_UNDEFINED;
    SPARQ_EXPECT_OK(sparq_element_type_from_name(entry.name, &parsed));
    EXPECT_EQ(parsed, entry.type);
  }
  EXPECT_EQ(sparq_element_type_size(SPARQ_ELEMENT_TYPE_STRING), 8u); // a pointer, on LP64
  EXPECT_STREQ(sparq_element_type_name(sparq_element_type_t(14)), "undefined");
  EXPECT_EQ(sparq_element_type_size(sparq_element_type_t(14)), 0u);
  sparq_element_type_t parsed;
  StatusInfo info = take(sparq_element_type_from_name("complex64", &parsed));
  EXPECT_EQ(info.code, SPARQ_STATUS_INVALID_ARGUMENT);
  EXPECT_EQ(info.message, "unknown element type 'complex64'");
}

TEST(HalfFloat, Float16AgainstKnownBitPatterns) {
  struct {
    float value;
    uint16_t bits;
  } table[] = {{0.0f, 0x0000},      {-0.0f, 0x8000},           {1.0f, 0x3c00},
               {-2.0f, 0xc000},     {0.5f, 0x3800},            {65504.0f, 0x7bff},
               {0.333251953125f, 0x3555},                      {5.9604644775390625e-8f, 0x0001},
               {6.103515625e-5f, 0x0400}, {INFINITY, 0x7c00}, {-INFINITY, 0xfc00}};
  for (const auto &entry : table) {
    EXPECT_EQ(sparq_float32_to_float16(entry.value), entry.bits) << entry.value;
    EXPECT_EQ(sparq_float16_to_float32(entry.bits), entry.value) << entry.bits;
  }
  // Rounding: 65520 and above overflow to infinity; ties go to even.
  EXPECT_EQ(sparq_float32_to_float16(65519.0f), 0x7bff);
  EXPECT_EQ(sparq_float32_to_float16(65520.0f), 0x7c00);
  EXPECT_EQ(sparq_float32_to_float16(1.0f + 1.0f / 2048), 0x3c00);     // tie -> even
  EXPECT_EQ(sparq_float32_to_float16(1.0f + 3.0f / 2048), 0x3c02);     // tie -> even
  EXPECT_EQ(sparq_float32_to_float16(1e-9f), 0x0000);
  EXPECT_TRUE(std::isnan(sparq_float16_to_float32(sparq_float32_to_float16(NAN))));
  EXPECT_TRUE(std::isnan(sparq_float16_to_float32(0x7e00)));
}

TEST(HalfFloat, BFloat16AgainstKnownBitPatterns) {
  EXPECT_EQ(sparq_float32_to_bfloat16(1.0f), 0x3f80);
  EXPECT_EQ(sparq_float32_to_bfloat16(-2.0f), 0xc000);
  EXPECT_EQ(sparq_float32_to_bfloat16(3.140625f), 0x4049);
  EXPECT_EQ(sparq_bfloat16_to_float32(0x4049), 3.140625f);
  EXPECT_EQ(sparq_float32_to_bfloat16(INFINITY), 0x7f80);
  // 1 + 2^-8 is a tie between 0x3f80 and 0x3f81: rounds to even.
  EXPECT_EQ(sparq_float32_to_bfloat16(1.0f + 1.0f / 256), 0x3f80);
  EXPECT_EQ(sparq_float32_to_bfloat16(1.0f + 3.0f / 256), 0x3f82);
  EXPECT_TRUE(std::isnan(sparq_bfloat16_to_float32(sparq_float32_to_bfloat16(NAN))));
}

TEST(Tensor, CreateCopiesData) {
  float values[6] = {1, 2, 3, 4, 5, 6};
  int64_t dims[2] = {2, 3};
  sparq_tensor_t *raw = nullptr;
  SPARQ_ASSERT_OK(sparq_tensor_create(SPARQ_ELEMENT_TYPE_FLOAT32, 2, dims, values, &raw));
  TensorPtr tensor(raw);
  values[0] = 100;
  EXPECT_EQ(sparq_tensor_element_type(raw), SPARQ_ELEMENT_TYPE_FLOAT32);
  EXPECT_EQ(dimsOf(raw), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(sparq_tensor_num_elements(raw), 6);
  EXPECT_EQ(sparq_tensor_byte_size(raw), 24u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(sparq_tensor_data(raw)) % 64, 0u);
  EXPECT_EQ(static_cast<float *>(sparq_tensor_data(raw))[0], 1.0f);
  EXPECT_STREQ(sparq_tensor_name(raw), "");
  SPARQ_EXPECT_OK(sparq_tensor_set_name(raw, "x:0"));
  EXPECT_STREQ(sparq_tensor_name(raw), "x:0");
}

TEST(Tensor, CreateWithoutDataIsZeroedAndScalarsAndEmptyWork) {
  sparq_tensor_t *raw = nullptr;
  SPARQ_ASSERT_OK(sparq_tensor_create(SPARQ_ELEMENT_TYPE_INT64, 0, nullptr, nullptr, &raw));
  TensorPtr scalar(raw);
  EXPECT_EQ(sparq_tensor_rank(raw), 0);
  EXPECT_EQ(sparq_tensor_num_elements(raw), 1);
  EXPECT_EQ(*static_cast<int64_t *>(sparq_tensor_data(raw)), 0);
  int64_t dims[2] = {0, 5};
  SPARQ_ASSERT_OK(sparq_tensor_create(SPARQ_ELEMENT_TYPE_INT8, 2, dims, nullptr, &raw));
  TensorPtr empty(raw);
  EXPECT_EQ(sparq_tensor_num_elements(raw), 0);
  EXPECT_EQ(sparq_tensor_byte_size(raw), 0u);
}

TEST(Tensor, WrapBorrowsMemory) {
  int32_t values[4] = {1, 2, 3, 4};
  int64_t dims[1] = {4};
  sparq_tensor_t *raw = nullptr;
  SPARQ_ASSERT_OK(
      sparq_tensor_wrap(SPARQ_ELEMENT_TYPE_INT32, 1, dims, values, sizeof(values), &raw));
  TensorPtr tensor(raw);
  EXPECT_EQ(sparq_tensor_data(raw), values);
  values[2] = 30;
  EXPECT_EQ(static_cast<int32_t *>(sparq_tensor_data(raw))[2], 30);
}

TEST(Tensor, Errors) {
  sparq_tensor_t *raw = nullptr;
  int64_t dims[2] = {2, -1};
  StatusInfo info = take(sparq_tensor_create(SPARQ_ELEMENT_TYPE_FLOAT32, 2, dims, nullptr, &raw));
  EXPECT_EQ(info.code, SPARQ_STATUS_INVALID_ARGUMENT);
  EXPECT_EQ(info.message, "sparq_tensor_create: dimension 1 is -1; sizes must be >= 0");
  EXPECT_EQ(raw, nullptr);

  int64_t ok[1] = {2};
  info = take(sparq_tensor_create(sparq_element_type_t(99), 1, ok, nullptr, &raw));
  EXPECT_EQ(info.message, "sparq_tensor_create: unknown element type 99");

  info = take(sparq_tensor_create(SPARQ_ELEMENT_TYPE_INT8, 65, nullptr, nullptr, &raw));
  EXPECT_EQ(info.message, "sparq_tensor_create: rank 65 is outside [0, 64]");

  int64_t huge[2] = {std::numeric_limits<int64_t>::max(), 2};
  info = take(sparq_tensor_create(SPARQ_ELEMENT_TYPE_INT8, 2, huge, nullptr, &raw));
  EXPECT_EQ(info.code, SPARQ_STATUS_RESOURCE_EXHAUSTED);

  float small[3];
  int64_t four[1] = {4};
  info = take(sparq_tensor_wrap(SPARQ_ELEMENT_TYPE_FLOAT32, 1, four, small, sizeof(small), &raw));
  EXPECT_EQ(info.message,
            "sparq_tensor_wrap: a float32 tensor of shape 4 needs 16 bytes, got 12 bytes");
  info = take(sparq_tensor_wrap(SPARQ_ELEMENT_TYPE_FLOAT32, 1, four, nullptr, 16, &raw));
  EXPECT_EQ(info.message, "sparq_tensor_wrap: a float32 tensor of shape 4 needs 16 bytes, got NULL");
  EXPECT_EQ(raw, nullptr);
}

TEST(StringTensor, CreateCopiesEveryString) {
  char first[] = "hello", second[] = "w\xc3\xb6rld"; // UTF-8 o-umlaut
  const char *source[4] = {first, "", nullptr, second};
  int64_t dims[2] = {2, 2};
  sparq_tensor_t *raw = nullptr;
  SPARQ_ASSERT_OK(sparq_tensor_create(SPARQ_ELEMENT_TYPE_STRING, 2, dims, source, &raw));
  TensorPtr tensor(raw);
  EXPECT_EQ(sparq_tensor_element_type(raw), SPARQ_ELEMENT_TYPE_STRING);
  EXPECT_EQ(sparq_tensor_num_elements(raw), 4);
  EXPECT_EQ(sparq_tensor_byte_size(raw), 4 * sizeof(const char *));
  const char *const *elements = static_cast<const char *const *>(sparq_tensor_data(raw));
  ASSERT_TRUE(elements);
  EXPECT_NE(static_cast<const void *>(elements), static_cast<const void *>(source));
  EXPECT_NE(elements[0], first);
  EXPECT_NE(elements[3], second);
  // Changing the caller's strings and array changes nothing in the tensor.
  first[0] = 'J';
  second[0] = 'W';
  source[1] = "changed";
  EXPECT_EQ(stringsOf(raw), (std::vector<std::string>{"hello", "", "", "w\xc3\xb6rld"}));
  EXPECT_NE(elements[2], nullptr); // a NULL element became an owned ""
}

TEST(StringTensor, CreateWithoutDataScalarsAndEmpty) {
  int64_t dims[1] = {3};
  sparq_tensor_t *raw = nullptr;
  SPARQ_ASSERT_OK(sparq_tensor_create(SPARQ_ELEMENT_TYPE_STRING, 1, dims, nullptr, &raw));
  TensorPtr blanks(raw);
  EXPECT_EQ(stringsOf(raw), (std::vector<std::string>{"", "", ""}));

  const char *one[1] = {"only"};
  SPARQ_ASSERT_OK(sparq_tensor_create(SPARQ_ELEMENT_TYPE_STRING, 0, nullptr, one, &raw));
  TensorPtr scalar(raw);
  EXPECT_EQ(sparq_tensor_rank(raw), 0);
  EXPECT_EQ(stringsOf(raw), (std::vector<std::string>{"only"}));

  int64_t none[2] = {0, 4};
  SPARQ_ASSERT_OK(sparq_tensor_create(SPARQ_ELEMENT_TYPE_STRING, 2, none, nullptr, &raw));
  TensorPtr empty(raw);
  EXPECT_EQ(sparq_tensor_num_elements(raw), 0);
  EXPECT_EQ(sparq_tensor_byte_size(raw), 0u);
}

TEST(StringTensor, WrapBorrowsTheArrayAndTheStrings) {
  char text[] = "abc";
  const char *array[2] = {text, "xyz"};
  int64_t dims[1] = {2};
  sparq_tensor_t *raw = nullptr;
  StatusInfo info = take(
      sparq_tensor_wrap(SPARQ_ELEMENT_TYPE_STRING, 1, dims, array, sizeof(array) - 1, &raw));
  EXPECT_EQ(info.message, "sparq_tensor_wrap: a string tensor of shape 2 needs 16 bytes, got 15 "
                          "bytes");
  SPARQ_ASSERT_OK(
      sparq_tensor_wrap(SPARQ_ELEMENT_TYPE_STRING, 1, dims, array, sizeof(array), &raw));
  TensorPtr tensor(raw);
  EXPECT_EQ(sparq_tensor_data(raw), static_cast<void *>(array));
  text[0] = 'A';
  array[1] = "new";
  EXPECT_EQ(stringsOf(raw), (std::vector<std::string>{"Abc", "new"}));
}

} // namespace
