//===- lib/Import/ONNX/ONNXImporter.h - ONNX protobuf -> sparq_onnx -*- C++ -*-===//
#ifndef SPARQ_LIB_IMPORT_ONNX_ONNXIMPORTER_H
#define SPARQ_LIB_IMPORT_ONNX_ONNXIMPORTER_H

#include "lib/Import/ONNX/GraphSimplify.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace sparq {

struct ImportOptions {
  /// One dimension of an --input-shape: a size (>= 0), or symbolic (`size` < 0) named `symbol`
  /// (empty: the model's own symbol for it, or a fresh one where the model declares a size).
  struct InputDim {
    int64_t size = -1;
    std::string symbol;
  };
  /// Sets the dimensions of graph inputs: name -> dims (overrides symbolic and static dims).
  std::map<std::string, std::vector<InputDim>> inputShapes;
  /// Makes every dimension of every graph input not in `inputShapes` a distinct symbol.
  bool dynamicInputs = false;
  /// Fixes graph inputs to values: name -> the elements (row-major). Each becomes a constant of
  /// the input's type, so computations on it fold (an If on a sample-rate input becomes its
  /// branch); the artifact no longer takes it.
  std::map<std::string, std::vector<double>> inputValues;
  /// Tensors with at least this many bytes become dense_resource blobs; smaller ones are inlined
  /// as dense attributes so that shape computations can fold them.
  size_t resourceThresholdBytes = 1024;
  /// ONNX shape inference runs in a child process (IsolatedInference.h) killed after this long.
  unsigned shapeInferenceTimeoutSeconds = 120;
  /// The operators the caller converts; a node of any other operator whose ONNX schema defines
  /// a function body is replaced by that body (GraphSimplify.h). Null: no expansion.
  OpFilter convertedOps;
};

/// Name of the entry function the importer creates.
inline constexpr llvm::StringLiteral kEntryFunctionName = "main_graph";

/// Reads an ONNX model file (and its external data files) into a module holding one func.func of
/// sparq_onnx ops. Errors are reported through the context's diagnostic engine at a location in
/// `path`; returns null on failure.
mlir::OwningOpRef<mlir::ModuleOp> importONNXFile(llvm::StringRef path, mlir::MLIRContext *ctx,
                                                 const ImportOptions &options);

/// The same for a model already in memory; `path` names it in messages, and external data is
/// looked up next to it.
mlir::OwningOpRef<mlir::ModuleOp> importONNXBytes(llvm::StringRef bytes, llvm::StringRef path,
                                                  mlir::MLIRContext *ctx,
                                                  const ImportOptions &options);

/// Writes a copy of the ONNX model at `inputPath` to `outputPath` in which every initializer
/// named in `replacements` holds the given float32 values (same shape, raw_data, internal
/// storage).
llvm::Error writeModelWithInitializers(
    llvm::StringRef inputPath, llvm::StringRef outputPath,
    const std::map<std::string, std::vector<float>> &replacements);

/// Parses `NAME=D0xD1x...` into `options.inputShapes`; each D is a size, `?` (symbolic) or a
/// symbol name (a letter or '_' first: dimensions with the same name are equal at run time).
llvm::Error parseInputShapeFlag(llvm::StringRef flag, ImportOptions &options);

/// Parses `NAME=V[,V...]` into `options.inputValues`.
llvm::Error parseInputValueFlag(llvm::StringRef flag, ImportOptions &options);

} // namespace sparq

#endif // SPARQ_LIB_IMPORT_ONNX_ONNXIMPORTER_H
