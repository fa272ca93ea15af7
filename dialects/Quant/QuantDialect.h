//===- dialects/Quant/QuantDialect.h - sparq_quant dialect ---------*- C++ -*-===//
#ifndef SPARQ_DIALECTS_QUANT_QUANTDIALECT_H
#define SPARQ_DIALECTS_QUANT_QUANTDIALECT_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dialects/Quant/QuantDialect.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/Quant/QuantAttrs.h.inc"

#define GET_OP_CLASSES
#include "dialects/Quant/QuantOps.h.inc"

namespace sparq {
/// Checks that `type` is statically `expected` (dynamic dims of `type` match anything); emits
/// `<what> must have shape AxB (<why>), got CxD` on `op` otherwise.
mlir::LogicalResult verifyShape(mlir::Operation *op, llvm::StringRef what, mlir::Type type,
                                llvm::ArrayRef<int64_t> expected, const llvm::Twine &why);
/// Shared by the conv consumers of the compression dialects: `weight` (operand `weightName`) must
/// be a 2-D canonical [F, C*KH*KW] weight, `input` NCHW and the kernel attributes valid;
/// `checkWeight(F, K)` then checks the packed operands, and finally the optional `bias` ([F]) and
/// the NCHW `result` shape are checked.
mlir::LogicalResult verifyConv2DConsumer(
    mlir::Operation *op, mlir::RankedTensorType input, llvm::StringRef weightName,
    mlir::Type weight, llvm::ArrayRef<int64_t> kernel, llvm::ArrayRef<int64_t> strides,
    llvm::ArrayRef<int64_t> dilations, llvm::ArrayRef<int64_t> pads, mlir::Value bias,
    mlir::Type result, llvm::function_ref<mlir::LogicalResult(int64_t f, int64_t k)> checkWeight);
/// Matmul-like consumers: `input` must be [..., M, K]; returns failure with a message otherwise.
mlir::LogicalResult verifyMatmulInput(mlir::Operation *op, mlir::RankedTensorType input);
/// Matmul-like consumers: the result is the input shape with K replaced by `n`.
mlir::LogicalResult verifyMatmulResult(mlir::Operation *op, mlir::RankedTensorType input,
                                       int64_t n, mlir::Type result);
/// Formats a shape as `32x128` (`?` for dynamic dims).
std::string formatShape(llvm::ArrayRef<int64_t> shape);
} // namespace sparq

#endif // SPARQ_DIALECTS_QUANT_QUANTDIALECT_H
