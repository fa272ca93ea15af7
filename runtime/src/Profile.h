//===- runtime/src/Profile.h - the kernel table of a profiled artifact --*- C++ -*-===//
//
// Parses the text returned by sparq_model_profile_v1 (include/sparq/Formats/KernelProfile.h).
// Internal to the runtime; exposed to the unit tests.
//
//===----------------------------------------------------------------------===//
#ifndef SPARQ_RUNTIME_SRC_PROFILE_H
#define SPARQ_RUNTIME_SRC_PROFILE_H

#include "sparq/Runtime/sparq_runtime.h"

#include <cstdint>
#include <string>
#include <vector>

namespace sparq {
namespace runtime {

struct KernelInfo {
  std::string kind, name;
  int64_t flops = -1, bytes = -1;
};

/// Parses the kernel table strictly; errors (DATA_LOSS) name `path` and the malformed line.
sparq_status_t parseProfileTable(const char *text, const std::string &path,
                                 std::vector<KernelInfo> &out);

} // namespace runtime
} // namespace sparq

#endif // SPARQ_RUNTIME_SRC_PROFILE_H
