//===- runtime/tests/TestUtil.h - helpers for the runtime tests ---*- C++ -*-===//
//
// Status checking macros, owning pointers for C API objects, a temporary directory and a
// watchdog for tests of things that must not hang.
//
//===----------------------------------------------------------------------===//
#ifndef SPARQ_RUNTIME_TESTS_TESTUTIL_H
#define SPARQ_RUNTIME_TESTS_TESTUTIL_H

#include "sparq/Runtime/sparq_runtime.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

namespace sparq {
namespace runtime {
namespace test {

/// What a status said, after freeing it.
struct StatusInfo {
  bool ok;
  sparq_status_code_t code;
  std::string message;
};

/// Takes ownership of `status`, records it and frees it.
inline StatusInfo take(sparq_status_t status) {
  StatusInfo info{status == nullptr, sparq_status_code(status), sparq_status_message(status)};
  sparq_status_free(status);
  return info;
}

#define SPARQ_ASSERT_OK(expr)                                                                  \
  do {                                                                                         \
    ::sparq::runtime::test::StatusInfo info_ = ::sparq::runtime::test::take(expr);              \
    ASSERT_TRUE(info_.ok) << #expr << ": " << info_.message;                                   \
  } while (0)

#define SPARQ_EXPECT_OK(expr)                                                                  \
  do {                                                                                         \
    ::sparq::runtime::test::StatusInfo info_ = ::sparq::runtime::test::take(expr);              \
    EXPECT_TRUE(info_.ok) << #expr << ": " << info_.message;                                   \
  } while (0)

struct TensorDeleter {
  void operator()(sparq_tensor_t *tensor) const { sparq_tensor_destroy(tensor); }
};
struct ModelDeleter {
  void operator()(sparq_model_t *model) const { sparq_model_destroy(model); }
};
struct SessionDeleter {
  void operator()(sparq_session_t *session) const { sparq_session_destroy(session); }
};
using TensorPtr = std::unique_ptr<sparq_tensor_t, TensorDeleter>;
using ModelPtr = std::unique_ptr<sparq_model_t, ModelDeleter>;
using SessionPtr = std::unique_ptr<sparq_session_t, SessionDeleter>;

/// Kills the test process with SIGALRM if it is still alive `seconds` from now: a test of
/// something that must not hang fails instead of hanging. Disarmed on destruction.
class Watchdog {
public:
  explicit Watchdog(unsigned seconds) { alarm(seconds); }
  Watchdog(const Watchdog &) = delete;
  Watchdog &operator=(const Watchdog &) = delete;
  ~Watchdog() { alarm(0); }
};

/// A fresh directory under the system temp dir, removed with its contents on destruction.
class TempDir {
public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "sparq-rt-test-XXXXXX").string();
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    if (!mkdtemp(buffer.data()))
      std::abort();
    path = buffer.data();
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
  std::string file(const std::string &name) const { return path + "/" + name; }

  std::string path;
};

inline std::vector<uint8_t> readBytes(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

inline void writeBytes(const std::string &path, const std::vector<uint8_t> &bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char *>(bytes.data()), std::streamsize(bytes.size()));
}

/// Names a value-parameterized case after its `what` field, every byte that is not a letter
/// or digit turned into '_': pass as the name generator of INSTANTIATE_TEST_SUITE_P.
struct CaseName {
  template <typename Case>
  std::string operator()(const ::testing::TestParamInfo<Case> &info) const {
    std::string name;
    for (const char *c = info.param.what; *c; ++c)
      name += std::isalnum(static_cast<unsigned char>(*c)) ? *c : '_';
    return name;
  }
};

/// A malformed text for a parser and a fragment of the error it must give.
struct MalformedCase {
  const char *text;
  const char *expected; ///< a substring of the message
};

/// Keeps ctest's test names short: print the expected message fragment only.
inline void PrintTo(const MalformedCase &c, std::ostream *os) {
  *os << '"' << c.expected << '"';
}

/// Expects `status` to be a DATA_LOSS error whose message starts with `prefix` and contains
/// `expected`.
inline void expectMalformed(sparq_status_t status, const std::string &prefix,
                            const char *expected) {
  StatusInfo info = take(status);
  ASSERT_FALSE(info.ok);
  EXPECT_EQ(info.code, SPARQ_STATUS_DATA_LOSS);
  EXPECT_EQ(info.message.rfind(prefix, 0), 0u) << info.message;
  EXPECT_NE(info.message.find(expected), std::string::npos) << info.message;
}

inline std::vector<int64_t> dimsOf(const sparq_tensor_t *tensor) {
  const int64_t *dims = sparq_tensor_dims(tensor);
  return std::vector<int64_t>(dims, dims + sparq_tensor_rank(tensor));
}

/// A string tensor of `dims` that owns copies of `strings` (row-major), named `name` if given.
inline TensorPtr makeStringTensor(const std::vector<int64_t> &dims,
                                  const std::vector<const char *> &strings,
                                  const char *name = nullptr) {
  sparq_tensor_t *raw = nullptr;
  StatusInfo info = take(sparq_tensor_create(SPARQ_ELEMENT_TYPE_STRING, int64_t(dims.size()),
                                             dims.data(), strings.data(), &raw));
  EXPECT_TRUE(info.ok) << info.message;
  TensorPtr tensor(raw);
  if (tensor && name) {
    EXPECT_TRUE(take(sparq_tensor_set_name(raw, name)).ok);
  }
  return tensor;
}

/// The strings of a string tensor's elements (a NULL element reads as "").
inline std::vector<std::string> stringsOf(const sparq_tensor_t *tensor) {
  EXPECT_EQ(sparq_tensor_element_type(tensor), SPARQ_ELEMENT_TYPE_STRING);
  const char *const *data = static_cast<const char *const *>(sparq_tensor_data(tensor));
  std::vector<std::string> strings;
  for (int64_t i = 0; i < sparq_tensor_num_elements(tensor); ++i)
    strings.emplace_back(data[i] ? data[i] : "");
  return strings;
}

} // namespace test
} // namespace runtime
} // namespace sparq

#endif // SPARQ_RUNTIME_TESTS_TESTUTIL_H
