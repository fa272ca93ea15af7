//===- include/sparq/Compiler/Compile.h - the compile API -----------*- C++ -*-===//
//
// What sparq-compile does, as a library: import an ONNX model, run the pipelines and write the
// requested form. Diagnostics go to the MLIRContext's diagnostic handlers.
//
//===----------------------------------------------------------------------===//
#ifndef SPARQ_COMPILER_COMPILE_H
#define SPARQ_COMPILER_COMPILE_H

#include "mlir/IR/MLIRContext.h"
#include "mlir/Support/LLVM.h"

#include <string>
#include <vector>

namespace sparq {

/// Where compilation stops and what it writes.
enum class EmitKind {
  ONNX,     ///< sparq_onnx IR as imported (MLIR text)
  Contract, ///< model-contract IR (linalg/tensor/arith/math on tensors)
  LLVM,     ///< LLVM dialect (MLIR text)
  Obj,      ///< relocatable object file
  Lib,      ///< shared-object model artifact (default)
};

struct CompileOptions {
  std::string inputPath;
  std::string outputPath; ///< "-" writes text forms to stdout
  /// `NAME=D0xD1x...` entries pinning input dimensions.
  std::vector<std::string> inputShapes;
  EmitKind emit = EmitKind::Lib;
  unsigned optLevel = 2;
  std::string targetCPU = "host";
  /// Linker driver for EmitKind::Lib; empty means the configured default.
  std::string linker;
};

/// Creates a context with every dialect and extension sparq needs registered.
std::unique_ptr<mlir::MLIRContext> createCompilerContext();

/// Compiles per `options`. Errors are emitted as diagnostics on `context`.
mlir::LogicalResult compileModel(const CompileOptions &options, mlir::MLIRContext &context);

} // namespace sparq

#endif // SPARQ_COMPILER_COMPILE_H
