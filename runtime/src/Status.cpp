//===- runtime/src/Status.cpp - status objects ------------------*- C++ -*-===//
//
// Error status objects of the C API. NULL is success; an error owns its message.
//
//===----------------------------------------------------------------------===//
#include "Internal.h"

#include <new>

namespace {
/// Returned when even the error object cannot be allocated; never freed.
sparq_status_s outOfMemoryStatus{SPARQ_STATUS_RESOURCE_EXHAUSTED,
                                 "out of memory while reporting an error"};
} // namespace

namespace sparq {
namespace runtime {

sparq_status_t makeStatus(sparq_status_code_t code, std::string message) {
  try {
    return new sparq_status_s{code, std::move(message)};
  } catch (...) {
    return &outOfMemoryStatus;
  }
}

} // namespace runtime
} // namespace sparq

extern "C" {

const char *sparq_status_message(sparq_status_t status) {
  return status ? status->message.c_str() : "";
}

sparq_status_code_t sparq_status_code(sparq_status_t status) {
  return status ? status->code : SPARQ_STATUS_OK;
}

void sparq_status_free(sparq_status_t status) {
  if (status && status != &outOfMemoryStatus)
    delete status;
}

} // extern "C"
