//===- lib/Import/ONNX/IsolatedInference.h - ONNX shape inference in a child -*- C++ -*-===//
#ifndef SPARQ_LIB_IMPORT_ONNX_ISOLATEDINFERENCE_H
#define SPARQ_LIB_IMPORT_ONNX_ISOLATEDINFERENCE_H

#include "llvm/Support/Error.h"

namespace onnx {
class ModelProto;
} // namespace onnx

namespace sparq {

/// Runs ONNX's shape inference (strict, with data propagation) on `model` in a forked child
/// process and merges the inferred types (the graph's value_info and outputs) into `model`.
/// libonnx's inference functions are not safe on every malformed graph (null dereferences,
/// out-of-bounds reads, loops over huge dims): in a child, a crash or a hang becomes an error
/// naming the signal or the time limit instead of killing or hanging the compiler. Inference
/// errors (a node it rejects, a type that contradicts a declared one) come back as errors too.
llvm::Error inferShapesIsolated(::onnx::ModelProto &model, unsigned timeoutSeconds);

} // namespace sparq

#endif // SPARQ_LIB_IMPORT_ONNX_ISOLATEDINFERENCE_H
