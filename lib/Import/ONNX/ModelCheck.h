//===- lib/Import/ONNX/ModelCheck.h - validate a parsed ONNX model -*- C++ -*-===//
//
// Checks a parsed ModelProto before anything trusts it: ONNX's shape inference (libonnx 1.12
// crashes on some malformed graphs) and the importer. See docs/importer.md, "Validation".
//
//===----------------------------------------------------------------------===//
#ifndef SPARQ_LIB_IMPORT_ONNX_MODELCHECK_H
#define SPARQ_LIB_IMPORT_ONNX_MODELCHECK_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>

namespace onnx {
class ModelProto;
class TensorProto;
class TypeProto;
} // namespace onnx

namespace sparq {

/// Limits on what a model may declare (checked with overflow-safe arithmetic).
struct ModelLimits {
  static constexpr int64_t kMaxRank = 32;
  /// Elements of any one tensor (value, initializer or declared type): 2^40, 4 TiB of floats.
  static constexpr int64_t kMaxElements = int64_t(1) << 40;
  /// Nesting of subgraphs (If/Loop/Scan bodies).
  static constexpr int kMaxGraphDepth = 64;
};

/// `name` in single quotes with control characters, backslashes and double quotes escaped (as
/// \HH), so that a message naming it stays on one line.
std::string quoted(llvm::StringRef name);

/// Validates `model` and makes it safe for shape inference and import:
///  - opset versions are ones this build's ONNX knows (1 ... its newest, per domain);
///  - every graph (and subgraph) defines each value once, reads only defined values, and has no
///    cycle; a node list that is not topologically sorted is sorted (stable), as onnxruntime
///    accepts such models;
///  - every node of a known operator passes its schema's check (input/output counts, required
///    attributes and their types);
///  - graph inputs have tensor types with an element type; declared dims are >= 0, rank and
///    element counts within ModelLimits;
///  - every tensor (initializers, tensor attributes) has a valid data type, non-negative dims, an
///    element count within ModelLimits, and exactly the data its dims need, whether raw, typed or
///    external; external data lies inside `modelDir` (after resolving `..` and symlinks) and its
///    offset/length lie inside the file.
/// Returns one error naming what is wrong and where.
llvm::Error checkModel(::onnx::ModelProto &model, llvm::StringRef modelDir);

/// Checks the shapes in a model's value_info and graph outputs after shape inference (the same
/// rank and element limits as the declared types).
llvm::Error checkInferredTypes(const ::onnx::ModelProto &model);

/// The element count of `dims`, or an error when a dim is negative or the count passes
/// ModelLimits::kMaxElements. `what` names the tensor in the message.
llvm::Expected<int64_t> checkedElementCount(llvm::ArrayRef<int64_t> dims, const llvm::Twine &what);

/// Where an external tensor's `nbytes` bytes are: its file (resolved inside `modelDir`, see
/// resolveExternalData) and offset, after checking its `external_data` entries (offset and
/// length non-negative integers, length equal to `nbytes`, the range inside the file).
struct ExternalData {
  std::string path;
  int64_t offset;
};
llvm::Expected<ExternalData> externalData(const ::onnx::TensorProto &t, llvm::StringRef modelDir,
                                          int64_t nbytes, const llvm::Twine &what);

/// The full path of a tensor's external data file `location`, which must lie inside `modelDir`
/// (no absolute paths; `..` and symlinks are resolved first). Errors name the tensor.
llvm::Expected<std::string> resolveExternalData(llvm::StringRef modelDir,
                                                llvm::StringRef location,
                                                const llvm::Twine &what);

} // namespace sparq

#endif // SPARQ_LIB_IMPORT_ONNX_MODELCHECK_H
