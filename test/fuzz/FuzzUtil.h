//===- test/fuzz/FuzzUtil.h - shared helpers of the runtime fuzz targets -*- C++ -*-===//
//
// An invariant check that aborts (libFuzzer reports it as a crash and keeps the input), a
// per-process scratch file for readers that take a path, and the body of the tensor-file
// targets: decode, check what came back, write it out and read it again.
//
//===----------------------------------------------------------------------===//
#ifndef SPARQ_TEST_FUZZ_FUZZUTIL_H
#define SPARQ_TEST_FUZZ_FUZZUTIL_H

#include "sparq/Runtime/sparq_runtime.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace sparq {
namespace fuzz {

/// Aborts with the failed condition: libFuzzer saves the input as a crash.
#define SPARQ_FUZZ_CHECK(condition)                                                           \
  do {                                                                                         \
    if (!(condition)) {                                                                        \
      std::fprintf(stderr, "%s:%d: fuzz invariant violated: %s\n", __FILE__, __LINE__,         \
                   #condition);                                                                \
      std::abort();                                                                            \
    }                                                                                          \
  } while (0)

/// An error status must carry a code and a message that starts with `prefix`; frees it. True
/// for success (NULL).
inline bool checkStatus(sparq_status_t status, const std::string &prefix = std::string()) {
  if (!status)
    return true;
  SPARQ_FUZZ_CHECK(sparq_status_code(status) != SPARQ_STATUS_OK);
  const char *message = sparq_status_message(status);
  SPARQ_FUZZ_CHECK(message[0] != '\0');
  SPARQ_FUZZ_CHECK(std::strncmp(message, prefix.c_str(), prefix.size()) == 0);
  sparq_status_free(status);
  return false;
}

/// A memory-backed file of this process (memfd), reached by a path (/proc/self/fd/N) for APIs
/// that open a path: one per process, rewritten for every input, gone when the process ends.
class ScratchFile {
public:
  static ScratchFile &get() {
    static ScratchFile file;
    return file;
  }
  const char *path() const { return pathName.c_str(); }
  void write(const uint8_t *data, size_t size) {
    SPARQ_FUZZ_CHECK(::ftruncate(fd, 0) == 0);
    size_t done = 0;
    while (done < size) {
      ssize_t wrote = ::pwrite(fd, data + done, size - done, off_t(done));
      SPARQ_FUZZ_CHECK(wrote > 0);
      done += size_t(wrote);
    }
  }

private:
  ScratchFile() : fd(::memfd_create("sparq-fuzz", MFD_CLOEXEC)) {
    SPARQ_FUZZ_CHECK(fd >= 0);
    pathName = "/proc/self/fd/" + std::to_string(fd);
  }
  int fd;
  std::string pathName;
};

using DecodeFn = sparq_status_t (*)(const void *, size_t, const char *, sparq_tensor_t **);
using ReadFn = sparq_status_t (*)(const char *, sparq_tensor_t **);
using WriteFn = sparq_status_t (*)(const sparq_tensor_t *, const char *);

/// Checks a decoded tensor's shape, size and data (every byte is read, so a buffer shorter
/// than its byte size is an ASan report).
inline void checkTensor(const sparq_tensor_t *tensor) {
  int64_t rank = sparq_tensor_rank(tensor);
  SPARQ_FUZZ_CHECK(rank >= 0 && rank <= SPARQ_MAX_RANK);
  const int64_t *dims = sparq_tensor_dims(tensor);
  // The running product never overflows: the non-zero dims multiply to at most INT64_MAX
  // (row-major strides must be representable), a zero dim included.
  int64_t count = 1;
  for (int64_t i = 0; i < rank; ++i) {
    SPARQ_FUZZ_CHECK(dims[i] >= 0);
    SPARQ_FUZZ_CHECK(!__builtin_mul_overflow(count, dims[i], &count));
  }
  SPARQ_FUZZ_CHECK(sparq_tensor_num_elements(tensor) == count);
  sparq_element_type_t type = sparq_tensor_element_type(tensor);
  size_t elementSize = sparq_element_type_size(type);
  SPARQ_FUZZ_CHECK(elementSize > 0);
  SPARQ_FUZZ_CHECK(sparq_tensor_byte_size(tensor) == size_t(count) * elementSize);
  const uint8_t *bytes = static_cast<const uint8_t *>(sparq_tensor_data(tensor));
  size_t size = sparq_tensor_byte_size(tensor);
  SPARQ_FUZZ_CHECK(size == 0 || bytes);
  unsigned sum = 0;
  for (size_t i = 0; i < size; ++i) {
    sum += bytes[i];
    if (type == SPARQ_ELEMENT_TYPE_BOOL)
      SPARQ_FUZZ_CHECK(bytes[i] <= 1);
  }
  // A string tensor's elements point to NUL-terminated strings it owns: read every byte.
  if (type == SPARQ_ELEMENT_TYPE_STRING)
    for (int64_t i = 0; i < count; ++i) {
      const char *text = static_cast<const char *const *>(sparq_tensor_data(tensor))[i];
      SPARQ_FUZZ_CHECK(text);
      sum += unsigned(std::strlen(text));
    }
  volatile unsigned sink = sum;
  (void)sink;
}

/// Two tensors' data are equal: the same bytes, or for string tensors the same strings.
inline bool sameData(const sparq_tensor_t *a, const sparq_tensor_t *b) {
  size_t size = sparq_tensor_byte_size(a);
  if (size == 0)
    return true;
  if (sparq_tensor_element_type(a) != SPARQ_ELEMENT_TYPE_STRING)
    return std::memcmp(sparq_tensor_data(a), sparq_tensor_data(b), size) == 0;
  const char *const *x = static_cast<const char *const *>(sparq_tensor_data(a));
  const char *const *y = static_cast<const char *const *>(sparq_tensor_data(b));
  for (int64_t i = 0; i < sparq_tensor_num_elements(a); ++i)
    if (std::strcmp(x[i], y[i]) != 0)
      return false;
  return true;
}

/// Two tensors hold the same type, shape and data (and, with `sameName`, name).
inline bool sameTensor(const sparq_tensor_t *a, const sparq_tensor_t *b, bool sameName) {
  int64_t rank = sparq_tensor_rank(a);
  return sparq_tensor_element_type(a) == sparq_tensor_element_type(b) &&
         rank == sparq_tensor_rank(b) &&
         (rank == 0 || std::memcmp(sparq_tensor_dims(a), sparq_tensor_dims(b),
                                   size_t(rank) * sizeof(int64_t)) == 0) &&
         sparq_tensor_byte_size(a) == sparq_tensor_byte_size(b) && sameData(a, b) &&
         (!sameName || std::strcmp(sparq_tensor_name(a), sparq_tensor_name(b)) == 0);
}

/// The body of a tensor-file target: `decode` must fail with an error that names the source,
/// or return a consistent tensor that `write` writes and `read` reads back unchanged.
inline void fuzzTensorFormat(const uint8_t *data, size_t size, DecodeFn decode, WriteFn write,
                             ReadFn read, bool keepsName) {
  sparq_tensor_t *tensor = nullptr;
  if (!checkStatus(decode(data, size, "fuzz", &tensor), "file 'fuzz': ")) {
    SPARQ_FUZZ_CHECK(!tensor);
    return;
  }
  SPARQ_FUZZ_CHECK(tensor);
  checkTensor(tensor);
  const char *path = ScratchFile::get().path();
  SPARQ_FUZZ_CHECK(checkStatus(write(tensor, path)));
  sparq_tensor_t *again = nullptr;
  SPARQ_FUZZ_CHECK(checkStatus(read(path, &again)));
  SPARQ_FUZZ_CHECK(sameTensor(tensor, again, keepsName));
  sparq_tensor_destroy(again);
  sparq_tensor_destroy(tensor);
}

} // namespace fuzz
} // namespace sparq

#endif // SPARQ_TEST_FUZZ_FUZZUTIL_H
