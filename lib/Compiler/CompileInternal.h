//===- lib/Compiler/CompileInternal.h - pieces of the compile API -*- C++ -*-===//
//
// Shared by Compile.cpp (the driver's flow) and Calibrate.cpp (which builds and runs a dense,
// instrumented copy of the model to collect calibration statistics).
//
//===----------------------------------------------------------------------===//
#ifndef SPARQ_LIB_COMPILER_COMPILEINTERNAL_H
#define SPARQ_LIB_COMPILER_COMPILEINTERNAL_H

#include "sparq/Compiler/Compile.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

namespace sparq {

/// Lowers imported (or compressed) IR through the contract and CPU codegen pipelines and writes
/// what `emit` asks for (Contract, LLVM, Obj or Lib) to `outputPath`. With `lastUse` (nothing
/// reads `module` or its constants afterwards) the constants' data is released as soon as
/// nothing needs it (unused originals of packed weights after the pipelines, the weights in
/// LLVM IR after translation, those of the weight object once it is written).
mlir::LogicalResult lowerAndWrite(mlir::ModuleOp module, const CompileOptions &options,
                                  EmitKind emit, llvm::StringRef outputPath,
                                  bool lastUse = false);

/// Builds the imported `module` (consumed: its weights are freed once the artifact is written)
/// as a dense artifact that also returns every compressible layer's input, runs it on each
/// sample of `options.calibrationDir` and accumulates per layer the input second moments the
/// data-aware compression methods need. Errors are diagnostics.
mlir::FailureOr<std::shared_ptr<const weight::CalibrationData>>
collectCalibration(mlir::OwningOpRef<mlir::ModuleOp> module, const CompileOptions &options);

} // namespace sparq

#endif // SPARQ_LIB_COMPILER_COMPILEINTERNAL_H
