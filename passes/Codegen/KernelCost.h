//===- passes/Codegen/KernelCost.h - work and traffic of a kernel -*- C++ -*-===//
//
// What a kernel must do, for the profile (sparq-profile-kernels) and the roofline it is judged
// against: arithmetic ops and the least bytes it moves. Passes that build a kernel out of several
// ops (sparq-block-fusion, sparq-cpu-compressed-ukernels) record its cost on the op they create;
// sparq-profile-kernels reads it there, or computes it for a single linalg op.
//
//===----------------------------------------------------------------------===//
#ifndef SPARQ_PASSES_CODEGEN_KERNELCOST_H
#define SPARQ_PASSES_CODEGEN_KERNELCOST_H

#include "mlir/IR/Operation.h"

#include <string>

#include "llvm/ADT/ArrayRef.h"

namespace sparq {

/// Discardable attribute [flops, bytes] (DenseI64ArrayAttr) on a kernel's op.
inline constexpr llvm::StringLiteral kKernelCostAttr = "sparq.kernel_cost";

struct KernelCost {
  int64_t flops = 0; ///< arithmetic ops (a multiply-add counts 2); -1: unknown
  int64_t bytes = 0; ///< each tensor read once, each result written once; -1: unknown
  KernelCost &operator+=(const KernelCost &other);
};

/// Bytes of a statically shaped tensor or memref; -1 for anything else.
int64_t shapedBytes(mlir::Type type);

/// The cost of a linalg op on tensors or buffers: its iterations times the arith/math ops of
/// its body; every input read once, every init read once where the body uses it, every
/// result written once. Unknown (-1) with dynamic shapes; zero cost for an op that is not a
/// linalg op.
KernelCost linalgCost(mlir::Operation *op);

/// The cost of several linalg ops computed as one kernel: their flops added; bytes of the
/// distinct values `ops` read from outside themselves (not as inits they overwrite) plus the
/// results of `outputs` written once.
KernelCost fusedCost(llvm::ArrayRef<mlir::Operation *> ops,
                     llvm::ArrayRef<mlir::Operation *> outputs);

void setKernelCost(mlir::Operation *op, const KernelCost &cost);

/// The ONNX node names in `loc` (the importer's name locations), each once, joined by '+'.
std::string onnxNames(mlir::Location loc);

} // namespace sparq

#endif // SPARQ_PASSES_CODEGEN_KERNELCOST_H
