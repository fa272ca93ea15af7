//===- dialects/Common/ConstantData.h - constant tensor contents ---*- C++ -*-===//
//
// Reading the elements of a constant (dense or dense_resource) as host values, and building a
// constant attribute from host values (a dense_resource blob for large data, so folded weights
// never become per-element attributes). Shared by the compression dialects' folders and by the
// ONNX conversion.
//
//===----------------------------------------------------------------------===//
#ifndef SPARQ_DIALECTS_COMMON_CONSTANTDATA_H
#define SPARQ_DIALECTS_COMMON_CONSTANTDATA_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"

#include <optional>
#include <vector>

namespace sparq {

/// Elements of a constant of integer (any width, signed per the type or `i1`/`ui*` unsigned) or
/// float type, converted to double / int64. Fails for other attributes or element types.
std::optional<std::vector<double>> readElementsAsDouble(mlir::Attribute attr);
std::optional<std::vector<int64_t>> readElementsAsInt(mlir::Attribute attr);

/// A constant of `type` (f32 or i8 element type) holding `values`: a dense attribute when small,
/// a dense_resource blob named `blobName` when at least `resourceThreshold` bytes.
mlir::TypedAttr makeFloatConstant(mlir::RankedTensorType type, llvm::ArrayRef<float> values,
                                  llvm::StringRef blobName, size_t resourceThreshold = 1024);
mlir::TypedAttr makeI8Constant(mlir::RankedTensorType type, llvm::ArrayRef<int8_t> values,
                               llvm::StringRef blobName, size_t resourceThreshold = 1024);

/// A constant of `type` whose elements are the raw little-endian `bytes` (as many as the type
/// needs), dense or a dense_resource blob as above.
mlir::TypedAttr makeConstantFromBytes(mlir::RankedTensorType type, llvm::ArrayRef<char> bytes,
                                      llvm::StringRef blobName, size_t resourceThreshold = 1024);

} // namespace sparq

#endif // SPARQ_DIALECTS_COMMON_CONSTANTDATA_H
