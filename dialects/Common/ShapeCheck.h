//===- dialects/Common/ShapeCheck.h - shape checks of verifiers -----*- C++ -*-===//
//
// Shape checks with uniform messages, shared by the verifiers of the compression dialects.
//
//===----------------------------------------------------------------------===//
#ifndef SPARQ_DIALECTS_COMMON_SHAPECHECK_H
#define SPARQ_DIALECTS_COMMON_SHAPECHECK_H

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Operation.h"

namespace sparq {
/// Checks that `type` is statically `expected` (dynamic dims of `type` match anything); emits
/// `<what> must have shape AxB (<why>), got CxD` on `op` otherwise.
mlir::LogicalResult verifyShape(mlir::Operation *op, llvm::StringRef what, mlir::Type type,
                                llvm::ArrayRef<int64_t> expected, const llvm::Twine &why);
/// Formats a shape as `32x128` (`?` for dynamic dims).
std::string formatShape(llvm::ArrayRef<int64_t> shape);
} // namespace sparq

#endif // SPARQ_DIALECTS_COMMON_SHAPECHECK_H
