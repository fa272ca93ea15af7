//===- runtime/tests/NpyTest.cpp - .npy reader/writer tests ------*- C++ -*-===//
//
// Hand-written .npy files (versions 1.0 and 2.0), the exact header NumPy writes, round trips
// for every element type NumPy can hold, and rejected inputs (Fortran order, big-endian,
// truncation, corrupt headers).
//
//===----------------------------------------------------------------------===//
#include "TestUtil.h"

#include <cstring>

using namespace sparq::runtime::test;

namespace {

using Bytes = std::vector<uint8_t>;

/// A .npy file: magic, version, little-endian header length, `header` padded with spaces
/// and a newline to a multiple of 64 (as NumPy pads), then `data`.
Bytes npyFile(int major, std::string header, const Bytes &data, bool pad = true) {
  size_t prefix = major == 1 ? 10 : 12;
  if (pad) {
    size_t total = prefix + header.size() + 1;
    header.append((64 - total % 64) % 64, ' ');
    header += '\n';
  }
  Bytes out = {0x93, 'N', 'U', 'M', 'P', 'Y', uint8_t(major), 0};
  for (size_t i = 0; i < prefix - 8; ++i)
    out.push_back(uint8_t(header.size() >> (8 * i)));
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

StatusInfo decode(const Bytes &bytes, TensorPtr &out) {
  sparq_tensor_t *raw = nullptr;
  StatusInfo info = take(sparq_tensor_decode_npy(bytes.data(), bytes.size(), "a.npy", &raw));
  out.reset(raw);
  return info;
}

TEST(NpyRead, Version1Int32Vector) {
  Bytes data = {1, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff, 0, 1, 0, 0};
  TensorPtr tensor;
  StatusInfo info =
      decode(npyFile(1, "{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }", data),
             tensor);
  ASSERT_TRUE(info.ok) << info.message;
  EXPECT_EQ(sparq_tensor_element_type(tensor.get()), SPARQ_ELEMENT_TYPE_INT32);
  EXPECT_EQ(dimsOf(tensor.get()), (std::vector<int64_t>{3}));
  const int32_t *values = static_cast<const int32_t *>(sparq_tensor_data(tensor.get()));
  EXPECT_EQ(values[0], 1);
  EXPECT_EQ(values[1], -2);
  EXPECT_EQ(values[2], 256);
}

TEST(NpyRead, Version2ScalarDoubleQuotesAndKeyOrder) {
  Bytes data = {0, 0, 0, 0, 0, 0, 0xf8, 0x3f}; // 1.5
  TensorPtr tensor;
  StatusInfo info = decode(
      npyFile(2, "{\"shape\": (), \"fortran_order\": False, \"descr\": \"<f8\"}", data), tensor);
  ASSERT_TRUE(info.ok) << info.message;
  EXPECT_EQ(sparq_tensor_rank(tensor.get()), 0);
  EXPECT_EQ(*static_cast<const double *>(sparq_tensor_data(tensor.get())), 1.5);
}

TEST(NpyRead, BoolByteOrderFreeAndPython2Longs) {
  TensorPtr tensor;
  StatusInfo info = decode(
      npyFile(1, "{'descr': '|b1', 'fortran_order': False, 'shape': (2L, 2L), }", {1, 0, 0, 1}),
      tensor);
  ASSERT_TRUE(info.ok) << info.message;
  EXPECT_EQ(sparq_tensor_element_type(tensor.get()), SPARQ_ELEMENT_TYPE_BOOL);
  EXPECT_EQ(dimsOf(tensor.get()), (std::vector<int64_t>{2, 2}));
}

TEST(NpyWrite, HeaderIsExactlyWhatNumPyWrites) {
  // numpy.save of np.zeros((2, 3), np.float32): a 118-byte header, data at byte 128.
  TempDir dir;
  int64_t dims[2] = {2, 3};
  sparq_tensor_t *raw = nullptr;
  SPARQ_ASSERT_OK(sparq_tensor_create(SPARQ_ELEMENT_TYPE_FLOAT32, 2, dims, nullptr, &raw));
  TensorPtr tensor(raw);
  std::string path = dir.file("z.npy");
  SPARQ_ASSERT_OK(sparq_tensor_write_npy(raw, path.c_str()));
  Bytes expected = npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
                           Bytes(24, 0));
  EXPECT_EQ(readBytes(path), expected);
  EXPECT_EQ(expected.size(), 128u + 24u);

  int64_t one[1] = {5};
  SPARQ_ASSERT_OK(sparq_tensor_create(SPARQ_ELEMENT_TYPE_UINT8, 1, one, nullptr, &raw));
  TensorPtr vector(raw);
  SPARQ_ASSERT_OK(sparq_tensor_write_npy(raw, path.c_str()));
  EXPECT_EQ(readBytes(path),
            npyFile(1, "{'descr': '|u1', 'fortran_order': False, 'shape': (5,), }", Bytes(5, 0)));
}

const sparq_element_type_t npyTypes[] = {
    SPARQ_ELEMENT_TYPE_FLOAT32, SPARQ_ELEMENT_TYPE_FLOAT64, SPARQ_ELEMENT_TYPE_FLOAT16,
    SPARQ_ELEMENT_TYPE_INT8,    SPARQ_ELEMENT_TYPE_INT16,   SPARQ_ELEMENT_TYPE_INT32,
    SPARQ_ELEMENT_TYPE_INT64,   SPARQ_ELEMENT_TYPE_UINT8,   SPARQ_ELEMENT_TYPE_UINT16,
    SPARQ_ELEMENT_TYPE_UINT32,  SPARQ_ELEMENT_TYPE_UINT64,  SPARQ_ELEMENT_TYPE_BOOL};

class NpyRoundTrip : public ::testing::TestWithParam<sparq_element_type_t> {};

TEST_P(NpyRoundTrip, WriteThenRead) {
  TempDir dir;
  const std::vector<std::vector<int64_t>> shapes = {{2, 3}, {}, {0}, {3, 1, 2, 2}};
  size_t size = sparq_element_type_size(GetParam());
  for (const std::vector<int64_t> &shape : shapes) {
    int64_t count = 1;
    for (int64_t d : shape)
      count *= d;
    Bytes data(size_t(count) * size);
    for (size_t i = 0; i < data.size(); ++i)
      data[i] = GetParam() == SPARQ_ELEMENT_TYPE_BOOL ? uint8_t(i % 2) : uint8_t(i * 37 + 11);
    sparq_tensor_t *raw = nullptr;
    SPARQ_ASSERT_OK(sparq_tensor_create(GetParam(), int64_t(shape.size()), shape.data(),
                                        data.data(), &raw));
    TensorPtr original(raw);
    std::string path = dir.file("t.npy");
    SPARQ_ASSERT_OK(sparq_tensor_write_npy(raw, path.c_str()));
    EXPECT_EQ(readBytes(path).size() % 64, data.size() % 64);
    sparq_tensor_t *back = nullptr;
    SPARQ_ASSERT_OK(sparq_tensor_read_file(path.c_str(), &back));
    TensorPtr readBack(back);
    EXPECT_EQ(sparq_tensor_element_type(back), GetParam());
    EXPECT_EQ(dimsOf(back), shape);
    ASSERT_EQ(sparq_tensor_byte_size(back), data.size());
    if (!data.empty()) {
      EXPECT_EQ(std::memcmp(sparq_tensor_data(back), data.data(), data.size()), 0);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllNumPyTypes, NpyRoundTrip, ::testing::ValuesIn(npyTypes),
                         [](const ::testing::TestParamInfo<sparq_element_type_t> &info) {
                           return std::string(sparq_element_type_name(info.param));
                         });

TEST(NpyWrite, BFloat16HasNoNpyForm) {
  TempDir dir;
  int64_t dims[1] = {2};
  sparq_tensor_t *raw = nullptr;
  SPARQ_ASSERT_OK(sparq_tensor_create(SPARQ_ELEMENT_TYPE_BFLOAT16, 1, dims, nullptr, &raw));
  TensorPtr tensor(raw);
  std::string path = dir.file("b.npy");
  StatusInfo info = take(sparq_tensor_write_npy(raw, path.c_str()));
  EXPECT_EQ(info.code, SPARQ_STATUS_UNIMPLEMENTED);
  EXPECT_EQ(info.message, "file '" + path +
                              "': bfloat16 has no .npy dtype (NumPy has no bfloat16); write a "
                              ".pb file instead");
}

TEST(NpyWrite, StringTensorsAreRefused) {
  TempDir dir;
  TensorPtr tensor = makeStringTensor({2}, {"a", "b"}, "words");
  ASSERT_TRUE(tensor);
  std::string path = dir.file("s.npy");
  StatusInfo info = take(sparq_tensor_write_npy(tensor.get(), path.c_str()));
  EXPECT_EQ(info.code, SPARQ_STATUS_UNIMPLEMENTED);
  EXPECT_EQ(info.message, "file '" + path +
                              "': string tensor 'words' cannot be written as .npy (sparq does "
                              "not write NumPy string arrays); write a .pb file instead");
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(NpyWrite, LargeRankStillUsesVersion1) {
  TempDir dir;
  std::vector<int64_t> dims(SPARQ_MAX_RANK, 1);
  sparq_tensor_t *raw = nullptr;
  SPARQ_ASSERT_OK(
      sparq_tensor_create(SPARQ_ELEMENT_TYPE_INT8, int64_t(dims.size()), dims.data(), nullptr, &raw));
  TensorPtr tensor(raw);
  std::string path = dir.file("r.npy");
  SPARQ_ASSERT_OK(sparq_tensor_write_npy(raw, path.c_str()));
  SPARQ_ASSERT_OK(sparq_tensor_read_npy(path.c_str(), &raw));
  TensorPtr back(raw);
  EXPECT_EQ(dimsOf(raw), dims);
}

struct BadNpyCase {
  const char *what;
  Bytes bytes;
  sparq_status_code_t code;
  const char *expected;
};

void PrintTo(const BadNpyCase &c, std::ostream *os) { *os << c.what; }

class NpyBad : public ::testing::TestWithParam<BadNpyCase> {};

TEST_P(NpyBad, IsRejected) {
  TensorPtr tensor;
  StatusInfo info = decode(GetParam().bytes, tensor);
  EXPECT_FALSE(info.ok);
  EXPECT_FALSE(tensor);
  EXPECT_EQ(info.code, GetParam().code) << info.message;
  EXPECT_EQ(info.message.rfind("file 'a.npy': ", 0), 0u) << info.message;
  EXPECT_NE(info.message.find(GetParam().expected), std::string::npos) << info.message;
}

const char *goodHeader = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";

INSTANTIATE_TEST_SUITE_P(
    Cases, NpyBad,
    ::testing::Values(
        BadNpyCase{"empty", {}, SPARQ_STATUS_DATA_LOSS, "empty file"},
        BadNpyCase{"bad magic", {'P', 'K', 3, 4, 0, 0, 0, 0, 0, 0}, SPARQ_STATUS_DATA_LOSS,
                   "not a .npy file (bad magic at byte 0)"},
        BadNpyCase{"short magic", {0x93, 'N', 'U'}, SPARQ_STATUS_DATA_LOSS,
                   "truncated .npy file: 3 bytes"},
        BadNpyCase{"version 9", {0x93, 'N', 'U', 'M', 'P', 'Y', 9, 0, 0, 0},
                   SPARQ_STATUS_UNIMPLEMENTED, "unsupported .npy format version 9.0"},
        BadNpyCase{"short length", {0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0, 0, 0},
                   SPARQ_STATUS_DATA_LOSS, "header length at byte 8 needs 4 bytes, 2 left"},
        BadNpyCase{"header past end", {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0x40, 0, '{'},
                   SPARQ_STATUS_DATA_LOSS,
                   "header length 64 at byte 8 exceeds the 1 bytes left after byte 10"},
        BadNpyCase{"fortran",
                   npyFile(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }",
                           Bytes(16)),
                   SPARQ_STATUS_UNIMPLEMENTED, "Fortran-order"},
        BadNpyCase{"big endian",
                   npyFile(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }",
                           Bytes(8)),
                   SPARQ_STATUS_UNIMPLEMENTED, "big-endian dtype '>f4' is not supported"},
        BadNpyCase{"object",
                   npyFile(1, "{'descr': '|O', 'fortran_order': False, 'shape': (2,), }",
                           Bytes(16)),
                   SPARQ_STATUS_UNIMPLEMENTED,
                   "unsupported dtype descr '|O': string and object arrays cannot be read from "
                   ".npy; store string tensors in a .pb file (TensorProto string_data)"},
        BadNpyCase{"unicode strings",
                   npyFile(1, "{'descr': '<U5', 'fortran_order': False, 'shape': (2,), }",
                           Bytes(40)),
                   SPARQ_STATUS_UNIMPLEMENTED,
                   "unsupported dtype descr '<U5': string and object arrays cannot be read"},
        BadNpyCase{"byte strings",
                   npyFile(1, "{'descr': '|S3', 'fortran_order': False, 'shape': (2,), }",
                           Bytes(6)),
                   SPARQ_STATUS_UNIMPLEMENTED,
                   "unsupported dtype descr '|S3': string and object arrays cannot be read"},
        BadNpyCase{"complex",
                   npyFile(1, "{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }",
                           Bytes(16)),
                   SPARQ_STATUS_UNIMPLEMENTED, "unsupported dtype descr '<c8'"},
        BadNpyCase{"truncated data", npyFile(1, goodHeader, Bytes(5)), SPARQ_STATUS_DATA_LOSS,
                   "truncated .npy data: shape 2 of <f4 needs 8 bytes after byte 128, the file "
                   "has 5"},
        BadNpyCase{"trailing bytes", npyFile(1, goodHeader, Bytes(9)), SPARQ_STATUS_DATA_LOSS,
                   "1 unexpected trailing bytes at byte 136"},
        BadNpyCase{"missing key",
                   npyFile(1, "{'descr': '<f4', 'shape': (2,), }", Bytes(8)),
                   SPARQ_STATUS_DATA_LOSS, "the header lacks 'fortran_order'"},
        BadNpyCase{"unknown key",
                   npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}",
                           Bytes(8)),
                   SPARQ_STATUS_DATA_LOSS, "at byte 66: unexpected key 'x'"},
        BadNpyCase{"no brace", npyFile(1, "'descr': '<f4'", Bytes(8)), SPARQ_STATUS_DATA_LOSS,
                   "corrupt .npy header at byte 10: expected '{'"},
        BadNpyCase{"bad shape",
                   npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, -1), }",
                           Bytes(8)),
                   SPARQ_STATUS_DATA_LOSS, "expected a non-negative integer dimension"},
        BadNpyCase{"bad bool value",
                   npyFile(1, "{'descr': '|b1', 'fortran_order': False, 'shape': (2,), }",
                           {0, 5}),
                   SPARQ_STATUS_DATA_LOSS, "byte 129 holds 5, not a bool"},
        BadNpyCase{"unterminated",
                   npyFile(1, "{'descr': '<f4", Bytes(8)), SPARQ_STATUS_DATA_LOSS,
                   "unterminated string"},
        // 2^64 + 3 used to wrap around to 3 and read as a valid 3-element array.
        BadNpyCase{"dimension wraps 2^64",
                   npyFile(1,
                           "{'descr': '<f4', 'fortran_order': False, "
                           "'shape': (18446744073709551619,), }",
                           Bytes(12)),
                   SPARQ_STATUS_DATA_LOSS,
                   "corrupt .npy header at byte 61: dimension 18446744073709551619 does not "
                   "fit in int64"},
        BadNpyCase{"dimension 2^63",
                   npyFile(1,
                           "{'descr': '<f4', 'fortran_order': False, "
                           "'shape': (2, 9223372036854775808), }",
                           Bytes(8)),
                   SPARQ_STATUS_DATA_LOSS, "dimension 9223372036854775808 does not fit in int64"},
        BadNpyCase{"very long dimension",
                   npyFile(1,
                           "{'descr': '<f4', 'fortran_order': False, 'shape': (" +
                               std::string(100, '7') + ",), }",
                           Bytes(8)),
                   SPARQ_STATUS_DATA_LOSS,
                   "dimension 7777777777777777777777777777777777777777... (100 digits) does not "
                   "fit in int64"},
        BadNpyCase{"element count overflows int64",
                   npyFile(1,
                           "{'descr': '<f4', 'fortran_order': False, "
                           "'shape': (4294967296, 4294967296), }",
                           Bytes(8)),
                   SPARQ_STATUS_DATA_LOSS,
                   "shape 4294967296x4294967296 overflows the addressable size"},
        // sparq-fuzz-npy: a zero dimension used to hide the overflow of the others (0
        // elements, accepted), and sparq_session_run's row-major strides then overflowed int64.
        BadNpyCase{"zero dimension hides an overflowing shape",
                   npyFile(1,
                           "{'descr': '<f4', 'fortran_order': False, "
                           "'shape': (0, 4294967296, 4294967296), }",
                           {}),
                   SPARQ_STATUS_DATA_LOSS,
                   "shape 0x4294967296x4294967296 overflows the addressable size"},
        BadNpyCase{"byte size overflows",
                   npyFile(1,
                           "{'descr': '<f8', 'fortran_order': False, "
                           "'shape': (9223372036854775807,), }",
                           Bytes(8)),
                   SPARQ_STATUS_DATA_LOSS,
                   "shape 9223372036854775807 overflows the addressable size"},
        BadNpyCase{"huge count, little data",
                   npyFile(1,
                           "{'descr': '|u1', 'fortran_order': False, "
                           "'shape': (3037000499, 3037000499), }",
                           Bytes(8)),
                   SPARQ_STATUS_DATA_LOSS,
                   "truncated .npy data: shape 3037000499x3037000499 of |u1 needs "
                   "9223372030926249001 bytes after byte 128, the file has 8"},
        BadNpyCase{"version 2 header length past the end",
                   {0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0, 0xff, 0xff, 0xff, 0xff, '{'},
                   SPARQ_STATUS_DATA_LOSS,
                   "header length 4294967295 at byte 8 exceeds the 1 bytes left after byte 12"}),
    CaseName());

TEST(NpyFile, TruncatedFileNamesThePath) {
  TempDir dir;
  Bytes bytes = npyFile(1, goodHeader, Bytes(8));
  for (size_t keep = 0; keep < bytes.size(); ++keep) {
    std::string path = dir.file("cut.npy");
    writeBytes(path, Bytes(bytes.begin(), bytes.begin() + long(keep)));
    sparq_tensor_t *raw = nullptr;
    StatusInfo info = take(sparq_tensor_read_npy(path.c_str(), &raw));
    EXPECT_FALSE(info.ok) << "kept " << keep;
    EXPECT_EQ(raw, nullptr);
    EXPECT_EQ(info.message.rfind("file '" + path + "': ", 0), 0u) << info.message;
  }
}

} // namespace
