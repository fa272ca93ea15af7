//===- runtime/src/Tensor.cpp - dense tensors --------------------*- C++ -*-===//
//
// Contiguous row-major tensors that own their buffer or wrap the caller's memory; a string
// tensor's buffer holds `const char *` elements, which an owning tensor points at its own copies.
//
//===----------------------------------------------------------------------===//
#include "Internal.h"

#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
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
  if (!isSupportedElementType(type))
    return makeStatus(SPARQ_STATUS_INVALID_ARGUMENT,
                      std::string(what) + ": unknown element type " + std::to_string(type));
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

/// Gives `tensor` a 64-byte aligned buffer of its byte size (none for 0 bytes).
sparq_status_t allocateData(sparq_tensor_s &tensor, const char *what) {
  if (tensor.byteSize == 0)
    return nullptr;
  size_t rounded = (tensor.byteSize + 63) & ~size_t(63);
  void *buffer = rounded >= tensor.byteSize ? std::aligned_alloc(64, rounded) : nullptr;
  if (!buffer)
    return makeStatus(SPARQ_STATUS_RESOURCE_EXHAUSTED,
                      std::string(what) + ": cannot allocate " +
                          std::to_string(tensor.byteSize) + " bytes for a " +
                          formatShape(tensor.dims) + " tensor");
  tensor.data = buffer;
  tensor.ownsData = true;
  return nullptr;
}

/// Copies the strings `stringAt(i)` of a string tensor's elements into storage it owns, each
/// NUL-terminated, and points its elements (`data`, already allocated) at the copies. Each
/// `stringAt(i)` is read before element i is overwritten.
template <typename StringAt>
sparq_status_t copyStrings(sparq_tensor_s &tensor, StringAt stringAt) {
  size_t count = size_t(tensor.numElements);
  size_t total = 0;
  for (size_t i = 0; i < count; ++i) {
    size_t length = stringAt(i).size();
    if (length >= std::numeric_limits<size_t>::max() - total)
      return makeStatus(SPARQ_STATUS_RESOURCE_EXHAUSTED,
                        "string tensor of shape " + formatShape(tensor.dims) +
                            ": its strings overflow the addressable size");
    total += length + 1;
  }
  std::vector<char> storage;
  try {
    storage.resize(total);
  } catch (const std::bad_alloc &) {
    return makeStatus(SPARQ_STATUS_RESOURCE_EXHAUSTED,
                      "string tensor of shape " + formatShape(tensor.dims) +
                          ": cannot allocate " + std::to_string(total) + " bytes for its strings");
  }
  char *next = storage.data();
  const char **elements = static_cast<const char **>(tensor.data);
  for (size_t i = 0; i < count; ++i) {
    std::string_view text = stringAt(i);
    if (!text.empty())
      std::memcpy(next, text.data(), text.size());
    next[text.size()] = '\0';
    elements[i] = next;
    next += text.size() + 1;
  }
  // Swapped in last: the old storage may hold the strings just copied.
  tensor.strings.swap(storage);
  return nullptr;
}

struct TensorDestroyer {
  void operator()(sparq_tensor_s *tensor) const { sparq_tensor_destroy(tensor); }
};

/// sparq_tensor_create: a tensor owning a copy of `data` (zeros when NULL; for strings, copies
/// of the C strings its pointers point to, or "").
sparq_status_t newTensor(sparq_element_type_t type, int64_t rank, const int64_t *dims,
                         const void *data, sparq_tensor_t **out_tensor) {
  const char *what = "sparq_tensor_create";
  if (!out_tensor)
    return makeStatus(SPARQ_STATUS_INVALID_ARGUMENT, std::string(what) + ": out_tensor is NULL");
  std::unique_ptr<sparq_tensor_s, TensorDestroyer> tensor(new (std::nothrow) sparq_tensor_s);
  if (!tensor)
    return makeStatus(SPARQ_STATUS_RESOURCE_EXHAUSTED, std::string(what) + ": out of memory");
  try {
    if (sparq_status_t status = initShape(*tensor, type, rank, dims, what))
      return status;
    if (sparq_status_t status = allocateData(*tensor, what))
      return status;
    if (tensor->byteSize > 0) {
      if (data)
        std::memcpy(tensor->data, data, tensor->byteSize);
      else
        std::memset(tensor->data, 0, tensor->byteSize); // for strings: NULL elements, ""
    }
    if (type == SPARQ_ELEMENT_TYPE_STRING)
      if (sparq_status_t status = ownStrings(tensor.get()))
        return status;
  } catch (const std::bad_alloc &) {
    return makeStatus(SPARQ_STATUS_RESOURCE_EXHAUSTED, std::string(what) + ": out of memory");
  }
  *out_tensor = tensor.release();
  return nullptr;
}

} // namespace

sparq_status_t createTensor(sparq_element_type_t type, const std::vector<int64_t> &dims,
                            sparq_tensor_t **out) {
  return newTensor(type, int64_t(dims.size()), dims.data(), nullptr, out);
}

sparq_status_t createStringTensor(const std::vector<int64_t> &dims,
                                  const std::string_view *strings, sparq_tensor_t **out) {
  sparq_tensor_t *tensor = nullptr;
  if (sparq_status_t status = createTensor(SPARQ_ELEMENT_TYPE_STRING, dims, &tensor))
    return status;
  if (sparq_status_t status = copyStrings(*tensor, [&](size_t i) { return strings[i]; })) {
    sparq_tensor_destroy(tensor);
    return status;
  }
  *out = tensor;
  return nullptr;
}

sparq_status_t ownStrings(sparq_tensor_t *tensor) {
  const char *const *elements = static_cast<const char *const *>(tensor->data);
  return copyStrings(*tensor, [&](size_t i) {
    return elements[i] ? std::string_view(elements[i]) : std::string_view();
  });
}

} // namespace runtime
} // namespace sparq

extern "C" {

sparq_status_t sparq_tensor_create(sparq_element_type_t type, int64_t rank, const int64_t *dims,
                                   const void *data, sparq_tensor_t **out_tensor) {
  return newTensor(type, rank, dims, data, out_tensor);
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
