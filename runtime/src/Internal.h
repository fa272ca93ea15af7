//===- runtime/src/Internal.h - shared internals of the runtime ---*- C++ -*-===//
//
// Definitions of the opaque C API objects (status, tensor) and small helpers shared by the
// runtime's translation units. Not installed; never include from outside runtime/.
//
//===----------------------------------------------------------------------===//
#ifndef SPARQ_RUNTIME_SRC_INTERNAL_H
#define SPARQ_RUNTIME_SRC_INTERNAL_H

#include "sparq/Runtime/sparq_runtime.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the sparq runtime assumes a little-endian host (raw_data and .npy are little-endian)"
#endif

struct sparq_status_s {
  sparq_status_code_t code;
  std::string message;
};

struct sparq_tensor_s {
  sparq_element_type_t type = SPARQ_ELEMENT_TYPE_UNDEFINED;
  std::vector<int64_t> dims;
  int64_t numElements = 0;
  size_t byteSize = 0;
  void *data = nullptr;
  bool ownsData = false;
  /// A string tensor made by sparq_tensor_create: the bytes of its strings, each
  /// NUL-terminated, that the `const char *` elements of `data` point to.
  std::vector<char> strings;
  /// An output adopted from the model without a copy: the block the model allocated (`data`
  /// points into it), released on destruction with `release` (the artifact's
  /// sparq_model_release_v1, which keeps it for the next run) or, if that is NULL, free().
  void *allocation = nullptr;
  void (*release)(void *) = nullptr;
  std::string name;
};

namespace sparq {
namespace runtime {

/// Makes an error status. Never returns NULL: if allocation fails, returns a static
/// "out of memory" status that sparq_status_free ignores.
sparq_status_t makeStatus(sparq_status_code_t code, std::string message);

/// Formats dims as "1x3x224x224"; -1 prints as "?"; rank 0 prints as "scalar".
std::string formatShape(const int64_t *dims, size_t rank);
inline std::string formatShape(const std::vector<int64_t> &dims) {
  return formatShape(dims.data(), dims.size());
}

/// Multiplies non-negative dims; false on a negative dim or when the product of the non-zero
/// dims overflows INT64_MAX (also when a zero dim makes the count 0).
bool checkedNumElements(const int64_t *dims, size_t rank, int64_t &out);

/// Byte size of `numElements` elements of `type`; false on overflow of size_t.
bool checkedByteSize(sparq_element_type_t type, int64_t numElements, size_t &out);

/// True for the element types sparq supports.
bool isSupportedElementType(sparq_element_type_t type);

/// Converts an integer read from an untrusted file to a supported element type. Converting
/// first and checking after would form an enum value outside the enum's range (undefined
/// behaviour); this checks the integer itself. False for anything that is not a supported type.
inline bool toElementType(int64_t value, sparq_element_type_t &out) {
  switch (value) {
  case SPARQ_ELEMENT_TYPE_FLOAT32:
  case SPARQ_ELEMENT_TYPE_UINT8:
  case SPARQ_ELEMENT_TYPE_INT8:
  case SPARQ_ELEMENT_TYPE_UINT16:
  case SPARQ_ELEMENT_TYPE_INT16:
  case SPARQ_ELEMENT_TYPE_INT32:
  case SPARQ_ELEMENT_TYPE_INT64:
  case SPARQ_ELEMENT_TYPE_STRING:
  case SPARQ_ELEMENT_TYPE_BOOL:
  case SPARQ_ELEMENT_TYPE_FLOAT16:
  case SPARQ_ELEMENT_TYPE_FLOAT64:
  case SPARQ_ELEMENT_TYPE_UINT32:
  case SPARQ_ELEMENT_TYPE_UINT64:
  case SPARQ_ELEMENT_TYPE_BFLOAT16:
    out = static_cast<sparq_element_type_t>(value);
    return true;
  default:
    return false;
  }
}

/// Creates a tensor owning a zero-initialised (64-byte aligned) buffer (for a string tensor:
/// every element ""). Validates type/dims.
sparq_status_t createTensor(sparq_element_type_t type, const std::vector<int64_t> &dims,
                            sparq_tensor_t **out);

/// Creates a string tensor that owns copies of `strings` (one per element, row-major; a NUL
/// byte inside one would end the element's C string there: callers refuse such strings).
sparq_status_t createStringTensor(const std::vector<int64_t> &dims,
                                  const std::string_view *strings, sparq_tensor_t **out);

/// Makes a string tensor own its strings: copies the strings its `const char *` elements point
/// to (NULL reads as "") into storage of its own and points the elements at the copies.
sparq_status_t ownStrings(sparq_tensor_t *tensor);

/// Owns a POSIX file descriptor; closes it (ignoring errors) unless released.
class UniqueFd {
public:
  explicit UniqueFd(int fd = -1) : fd(fd) {}
  UniqueFd(const UniqueFd &) = delete;
  UniqueFd &operator=(const UniqueFd &) = delete;
  ~UniqueFd() {
    if (fd >= 0)
      ::close(fd);
  }
  int get() const { return fd; }
  void reset(int newFd) {
    if (fd >= 0)
      ::close(fd);
    fd = newFd;
  }
  int release() {
    int result = fd;
    fd = -1;
    return result;
  }

private:
  int fd;
};

/// Opens `path` read-only for a reader of untrusted input, without hanging and without
/// opening devices: stat() first and refuse anything but a regular file (or, with
/// `allowPipes`, a FIFO or pipe); open with O_NONBLOCK, so a FIFO nobody writes to cannot
/// block the open; fstat() the descriptor and check again; then switch it back to blocking
/// reads. Errors read "SUBJECT: REASON". On success `fd` owns the descriptor and `info` holds
/// its fstat.
sparq_status_t openForReading(const char *path, const std::string &subject, bool allowPipes,
                              UniqueFd &fd, struct stat &info);

/// Reads the whole file at `path` (a regular file or a pipe; see openForReading); errors name
/// the path.
sparq_status_t readWholeFile(const char *path, std::vector<uint8_t> &out);

/// sparq_tensor_read_pb / _npy: checks the arguments (`api` names the entry point in the
/// message), reads the whole file and hands its bytes to `decode` with the path as source name.
sparq_status_t readTensorFile(const char *api, const char *path, sparq_tensor_t **out_tensor,
                              sparq_status_t (*decode)(const void *, size_t, const char *,
                                                       sparq_tensor_t **));

/// Writes `size` bytes to `path` (replacing it) and, for a regular file, fsyncs it. Errors name
/// the path, the step that failed and the errno of that call. A regular file that could not be
/// written completely is removed, so a failure never leaves a truncated file behind. A FIFO
/// nobody reads fails at once (ENXIO) instead of blocking.
sparq_status_t writeWholeFile(const char *path, const void *data, size_t size);

/// "file 'PATH'" or "'NAME'" for the source of an in-memory decode.
std::string describeSource(const char *sourceName);

} // namespace runtime
} // namespace sparq

#endif // SPARQ_RUNTIME_SRC_INTERNAL_H
