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

#include <functional>
#include <string>
#include <vector>

namespace sparq {

/// Where compilation stops and what it writes.
enum class EmitKind {
  ONNX,       ///< sparq_onnx IR as imported (MLIR text)
  Compressed, ///< imported IR after weight compression (MLIR text)
  Contract, ///< model-contract IR (linalg/tensor/arith/math on tensors)
  LLVM,     ///< LLVM dialect (MLIR text)
  Obj,      ///< relocatable object file
  Lib,      ///< shared-object model artifact (default)
};

/// Weight compression settings (sparq-compile --sparsity/--wbits/...; docs/compression.md).
struct CompressionOptions {
  std::string sparsity; ///< "N:M" or empty
  unsigned wbits = 0;   ///< 0: no quantization
  int64_t group = 128;  ///< > 0 group size along K, 0 per channel, -1 per tensor
  bool symmetric = true;
  unsigned shiftadd = 0; ///< binary planes, 0: off
  bool pow2 = false;
  bool rearrange = false;
  bool searchClip = false;
  std::string only, skip, recipe;
  bool enabled() const {
    return !sparsity.empty() || wbits || shiftadd || !recipe.empty();
  }
};

/// One compressed layer, as reported by --report.
struct LayerReport {
  std::string name, weight, op, scheme, permutation;
  int64_t rows = 0, k = 0;
  double bytesBefore = 0, bytesAfter = 0, bitsPerWeight = 0, weightError = 0;
  double errorWithoutPermutation = 0;
  bool permuted = false;
  double errorPruneThenQuantize = -1, errorQuantizeThenPrune = -1; ///< -1: not applicable
};

struct CompileOptions {
  std::string inputPath;
  std::string outputPath; ///< "-" writes text forms to stdout
  /// `NAME=D0xD1x...` entries pinning input dimensions.
  std::vector<std::string> inputShapes;
  EmitKind emit = EmitKind::Lib;
  unsigned optLevel = 2;
  std::string targetCPU = "native"; ///< --cpu: "native"/"host" or an LLVM CPU name
  /// Linker driver for EmitKind::Lib; empty means the configured default.
  std::string linker;
  CompressionOptions compression;
  /// Path for the copy of the input model with compressed weights expanded to float32.
  std::string exportDequantizedPath;
  /// Called during compression with (layers done, total layers, current layer name).
  std::function<void(size_t, size_t, llvm::StringRef)> progress;
  /// Filled with one entry per compressed layer.
  std::vector<LayerReport> *report = nullptr;
};

/// Creates a context with every dialect and extension sparq needs registered.
std::unique_ptr<mlir::MLIRContext> createCompilerContext();

/// Compiles per `options`. Errors are emitted as diagnostics on `context`.
mlir::LogicalResult compileModel(const CompileOptions &options, mlir::MLIRContext &context);

} // namespace sparq

#endif // SPARQ_COMPILER_COMPILE_H
