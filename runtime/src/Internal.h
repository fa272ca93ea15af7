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
#include <vector>

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

/// Multiplies non-negative dims; false on overflow past INT64_MAX or on a negative dim.
bool checkedNumElements(const int64_t *dims, size_t rank, int64_t &out);

/// Byte size of `numElements` elements of `type`; false on overflow of size_t.
bool checkedByteSize(sparq_element_type_t type, int64_t numElements, size_t &out);

/// True for the element types sparq supports.
bool isSupportedElementType(sparq_element_type_t type);

/// Creates a tensor owning a zero-initialised (64-byte aligned) buffer. Validates type/dims.
sparq_status_t createTensor(sparq_element_type_t type, const std::vector<int64_t> &dims,
                            sparq_tensor_t **out);

/// Reads the whole file at `path`; errors name the path.
sparq_status_t readWholeFile(const char *path, std::vector<uint8_t> &out);

/// sparq_tensor_read_pb / _npy: checks the arguments (`api` names the entry point in the
/// message), reads the whole file and hands its bytes to `decode` with the path as source name.
sparq_status_t readTensorFile(const char *api, const char *path, sparq_tensor_t **out_tensor,
                              sparq_status_t (*decode)(const void *, size_t, const char *,
                                                       sparq_tensor_t **));

/// Writes `size` bytes to `path` (replacing it); errors name the path.
sparq_status_t writeWholeFile(const char *path, const void *data, size_t size);

/// "file 'PATH'" or "'NAME'" for the source of an in-memory decode.
std::string describeSource(const char *sourceName);

} // namespace runtime
} // namespace sparq

#endif // SPARQ_RUNTIME_SRC_INTERNAL_H
