//===- include/sparq/InitAll.h - register sparq with an MLIR context -*- C++ -*-===//
//
// The one registration entry point shared by sparq-opt, sparq-compile and the plugin.
//
//===----------------------------------------------------------------------===//
#ifndef SPARQ_INITALL_H
#define SPARQ_INITALL_H

namespace mlir {
class DialectRegistry;
} // namespace mlir

namespace sparq {

/// Adds sparq's own dialects (sparq_onnx, sparq_nm, sparq_quant, sparq_shiftadd).
void registerSparqDialects(mlir::DialectRegistry &registry);

/// Adds sparq's dialects plus every upstream dialect, interface model and LLVM IR translation
/// that sparq's pipelines use.
void registerAllDialects(mlir::DialectRegistry &registry);

/// Registers sparq's passes and named pipelines only.
void registerSparqPassesAndPipelines();

/// Registers sparq's passes and named pipelines and every upstream pass (for sparq-opt).
void registerAllPasses();

} // namespace sparq

#endif // SPARQ_INITALL_H
