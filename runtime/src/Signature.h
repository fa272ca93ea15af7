//===- runtime/src/Signature.h - artifact signature parser --------*- C++ -*-===//
//
// Parses the text returned by an artifact's sparq_model_signature_v1 (docs/artifact-abi.md).
// Internal to the runtime; exposed to the unit tests.
//
//===----------------------------------------------------------------------===//
#ifndef SPARQ_RUNTIME_SRC_SIGNATURE_H
#define SPARQ_RUNTIME_SRC_SIGNATURE_H

#include "sparq/Runtime/sparq_runtime.h"

#include <cstdint>
#include <string>
#include <vector>

namespace sparq {
namespace runtime {

/// One input or output of the entry point.
struct TensorSpec {
  std::string name; ///< decoded ONNX value name
  sparq_element_type_t type = SPARQ_ELEMENT_TYPE_UNDEFINED;
  std::vector<int64_t> dims; ///< -1 marks a dynamic dimension
};

/// Dynamic input dimensions that the model declares to be one symbolic dimension (the same ONNX
/// dim_param): the compiled code assumes they are equal, so the runtime checks it.
struct EqualDims {
  std::string symbol;                              ///< decoded dim_param name
  std::vector<std::pair<size_t, size_t>> members; ///< (input index, dimension), at least two
};

/// The entry point's inputs and outputs, in graph order.
struct Signature {
  std::vector<TensorSpec> inputs;
  std::vector<TensorSpec> outputs;
  std::vector<EqualDims> equalDims;
};

/// Parses `text` strictly. On failure returns a SPARQ_STATUS_DATA_LOSS status whose message
/// starts with "artifact 'ARTIFACT': malformed signature" and names the line and the problem.
sparq_status_t parseSignature(const char *text, const std::string &artifact, Signature &out);

/// Decodes the %XX escapes of a signature name. False when the escaped form is invalid: an
/// empty name, a byte outside [A-Za-z0-9_.:/-] or a bad or NUL escape; `error` says which.
bool decodeSignatureName(const std::string &escaped, std::string &out, std::string &error);

} // namespace runtime
} // namespace sparq

#endif // SPARQ_RUNTIME_SRC_SIGNATURE_H
