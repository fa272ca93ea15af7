//===- passes/Codegen/InvertedResidual.h - a MobileNet block as one kernel call -*- C++ -*-===//
//
// The part of sparq-block-fusion that computes a 1x1 -> k x k -> 1x1 convolution block (an
// inverted residual with a depthwise middle, or a ResNet bottleneck with a full one; clamps
// between them; the block input or a 1x1 projection of it added) with the
// sparq_uk_mbconv_f32_mt kernel instead of tiling it (runtime/kernels/InvertedResidual.cpp).
//
//===----------------------------------------------------------------------===//
#ifndef SPARQ_PASSES_CODEGEN_INVERTEDRESIDUAL_H
#define SPARQ_PASSES_CODEGEN_INVERTEDRESIDUAL_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"

#include <string>

namespace sparq {

/// What the kernel call replaced, for the fusion report.
struct InvertedResidualFusion {
  mlir::Operation *call = nullptr;
  int64_t scratchBytes = 0; ///< stack one task of the kernel uses
  std::string kind;         ///< e.g. "bottleneck block of 3 convolutions with ... (one kernel)"
};

/// Replaces the block ending at `root` by one kernel call when it has the kernel's form: `path`
/// holds the ops of its main path from `root` back to its first convolution (root itself only
/// when it is a convolution), `residual` says whether `root` adds a skip connection. The block
/// must be static f32 NCHW with constant filters and biases, its activations clamps
/// (arith.maximumf / minimumf with constants: ReLU, ReLU6, Clip; also after the residual add),
/// its padding zero, the middle filter at most 7x7 and the kernel's stack use at most
/// `maxScratchBytes`.
/// Returns the call (root's uses now read its result; the block's ops are left for the caller
/// to erase), or failure with `why` set when the block has another form.
mlir::FailureOr<InvertedResidualFusion>
fuseInvertedResidual(mlir::ModuleOp module, mlir::Operation *root,
                     llvm::ArrayRef<mlir::Operation *> path, bool residual,
                     int64_t maxScratchBytes, std::string &why);

} // namespace sparq

#endif // SPARQ_PASSES_CODEGEN_INVERTEDRESIDUAL_H
