//===- runtime/src/Tensor.cpp - dense tensors --------------------*- C++ -*-===//
//
// Contiguous row-major tensors that own their buffer or wrap the caller's memory.
//
//===----------------------------------------------------------------------===//
#include "Internal.h"

#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>

using namespace sparq::runtime;

namespace sparq {
namespace runtime {

std::string formatShape(const int64_t *dims, size_t rank) {
  if (rank == 0)
    return "scalar";
  std::string text;
  for (size_t i = 0; i < rank; ++i) {
    if (i)
      text += 'x';
    text += dims[i] < 0 ? std::string("?") : std::to_string(dims[i]);
  }
  return text;
}

bool checkedNumElements(const int64_t *dims, size_t rank, int64_t &out) {
  // The non-zero dims must multiply without overflow even when a zero dim makes the count 0:
  // the row-major strides sparq_session_run passes are products of the dims (and NumPy refuses
  // such shapes too).
  int64_t count = 1;
  bool zero = false;
  for (size_t i = 0; i < rank; ++i) {
    if (dims[i] < 0)
      return false;
    if (dims[i] == 0) {
      zero = true;
      continue;
    }
    if (count > std::numeric_limits<int64_t>::max() / dims[i])
      return false;
    count *= dims[i];
  }
  out = zero ? 0 : count;
  return true;
}

bool checkedByteSize(sparq_element_type_t type, int64_t numElements, size_t &out) {
  size_t elementSize = sparq_element_type_size(type);
  if (elementSize == 0 || numElements < 0)
    return false;
  if (uint64_t(numElements) > std::numeric_limits<size_t>::max() / elementSize)
    return false;
  out = size_t(numElements) * elementSize;
  return true;
}

namespace {

/// Checks type, rank and dims; fills the tensor's shape fields.
sparq_status_t initShape(sparq_tensor_s &tensor, sparq_element_type_t type, int64_t rank,
                         const int64_t *dims, const char *what) {
  if (!isSupportedElementType(type)) {
    if (type == 8)
      return makeStatus(SPARQ_STATUS_UNIMPLEMENTED,
                        std::string(what) + ": string tensors are not supported");
    return makeStatus(SPARQ_STATUS_INVALID_ARGUMENT,
                      std::string(what) + ": unknown element type " + std::to_string(type));
  }
  if (rank < 0 || rank > SPARQ_MAX_RANK)
    return makeStatus(SPARQ_STATUS_INVALID_ARGUMENT,
                      std::string(what) + ": rank " + std::to_string(rank) +
                          " is outside [0, " + std::to_string(SPARQ_MAX_RANK) + "]");
  if (rank > 0 && !dims)
    return makeStatus(SPARQ_STATUS_INVALID_ARGUMENT, std::string(what) + ": dims is NULL");
  for (int64_t i = 0; i < rank; ++i)
    if (dims[i] < 0)
      return makeStatus(SPARQ_STATUS_INVALID_ARGUMENT,
                        std::string(what) + ": dimension " + std::to_string(i) + " is " +
                            std::to_string(dims[i]) + "; sizes must be >= 0");
  if (!checkedNumElements(dims, size_t(rank), tensor.numElements) ||
      !checkedByteSize(type, tensor.numElements, tensor.byteSize))
    return makeStatus(SPARQ_STATUS_RESOURCE_EXHAUSTED,
                      std::string(what) + ": shape " + formatShape(dims, size_t(rank)) +
                          " overflows the addressable size");
  tensor.type = type;
  tensor.dims.assign(dims, dims + rank);
  return nullptr;
}

} // namespace

sparq_status_t createTensor(sparq_element_type_t type, const std::vector<int64_t> &dims,
                            sparq_tensor_t **out) {
  return sparq_tensor_create(type, int64_t(dims.size()), dims.data(), nullptr, out);
}

} // namespace runtime
} // namespace sparq

extern "C" {

sparq_status_t sparq_tensor_create(sparq_element_type_t type, int64_t rank, const int64_t *dims,
                                   const void *data, sparq_tensor_t **out_tensor) {
  if (!out_tensor)
    return makeStatus(SPARQ_STATUS_INVALID_ARGUMENT, "sparq_tensor_create: out_tensor is NULL");
  sparq_tensor_s *tensor = new (std::nothrow) sparq_tensor_s;
  if (!tensor)
    return makeStatus(SPARQ_STATUS_RESOURCE_EXHAUSTED, "sparq_tensor_create: out of memory");
  try {
    if (sparq_status_t status = initShape(*tensor, type, rank, dims, "sparq_tensor_create")) {
      delete tensor;
      return status;
    }
  } catch (...) {
    delete tensor;
    return makeStatus(SPARQ_STATUS_RESOURCE_EXHAUSTED, "sparq_tensor_create: out of memory");
  }
  if (tensor->byteSize > 0) {
    size_t rounded = (tensor->byteSize + 63) & ~size_t(63);
    void *buffer = rounded >= tensor->byteSize ? std::aligned_alloc(64, rounded) : nullptr;
    if (!buffer) {
      std::string shape = formatShape(tensor->dims);
      size_t bytes = tensor->byteSize;
      delete tensor;
      return makeStatus(SPARQ_STATUS_RESOURCE_EXHAUSTED,
                        "sparq_tensor_create: cannot allocate " + std::to_string(bytes) +
                            " bytes for a " + shape + " tensor");
    }
    if (data)
      std::memcpy(buffer, data, tensor->byteSize);
    else
      std::memset(buffer, 0, tensor->byteSize);
    tensor->data = buffer;
    tensor->ownsData = true;
  }
  *out_tensor = tensor;
  return nullptr;
}

sparq_status_t sparq_tensor_wrap(sparq_element_type_t type, int64_t rank, const int64_t *dims,
                                 void *data, size_t data_size, sparq_tensor_t **out_tensor) {
  if (!out_tensor)
    return makeStatus(SPARQ_STATUS_INVALID_ARGUMENT, "sparq_tensor_wrap: out_tensor is NULL");
  sparq_tensor_s *tensor = new (std::nothrow) sparq_tensor_s;
  if (!tensor)
    return makeStatus(SPARQ_STATUS_RESOURCE_EXHAUSTED, "sparq_tensor_wrap: out of memory");
  try {
    if (sparq_status_t status = initShape(*tensor, type, rank, dims, "sparq_tensor_wrap")) {
      delete tensor;
      return status;
    }
  } catch (...) {
    delete tensor;
    return makeStatus(SPARQ_STATUS_RESOURCE_EXHAUSTED, "sparq_tensor_wrap: out of memory");
  }
  if (data_size < tensor->byteSize || (tensor->byteSize > 0 && !data)) {
    std::string message = "sparq_tensor_wrap: a " + std::string(sparq_element_type_name(type)) +
                          " tensor of shape " + formatShape(tensor->dims) + " needs " +
                          std::to_string(tensor->byteSize) + " bytes, got " +
                          (data ? std::to_string(data_size) + " bytes" : std::string("NULL"));
    delete tensor;
    return makeStatus(SPARQ_STATUS_INVALID_ARGUMENT, message);
  }
  tensor->data = tensor->byteSize > 0 ? data : nullptr;
  tensor->ownsData = false;
  *out_tensor = tensor;
  return nullptr;
}

void sparq_tensor_destroy(sparq_tensor_t *tensor) {
  if (!tensor)
    return;
  if (tensor->ownsData)
    std::free(tensor->data);
  if (tensor->allocation)
    (tensor->release ? tensor->release : std::free)(tensor->allocation);
  delete tensor;
}

sparq_element_type_t sparq_tensor_element_type(const sparq_tensor_t *tensor) {
  return tensor->type;
}
int64_t sparq_tensor_rank(const sparq_tensor_t *tensor) { return int64_t(tensor->dims.size()); }
const int64_t *sparq_tensor_dims(const sparq_tensor_t *tensor) { return tensor->dims.data(); }
int64_t sparq_tensor_num_elements(const sparq_tensor_t *tensor) { return tensor->numElements; }
size_t sparq_tensor_byte_size(const sparq_tensor_t *tensor) { return tensor->byteSize; }
void *sparq_tensor_data(const sparq_tensor_t *tensor) { return tensor->data; }
const char *sparq_tensor_name(const sparq_tensor_t *tensor) { return tensor->name.c_str(); }

sparq_status_t sparq_tensor_set_name(sparq_tensor_t *tensor, const char *name) {
  if (!tensor)
    return makeStatus(SPARQ_STATUS_INVALID_ARGUMENT, "sparq_tensor_set_name: tensor is NULL");
  try {
    tensor->name = name ? name : "";
  } catch (...) {
    return makeStatus(SPARQ_STATUS_RESOURCE_EXHAUSTED, "sparq_tensor_set_name: out of memory");
  }
  return nullptr;
}

} // extern "C"
