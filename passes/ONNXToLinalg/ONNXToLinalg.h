//===- passes/ONNXToLinalg/ONNXToLinalg.h - ONNX conversion internals -*- C++ -*-===//
//
// Shared machinery of the sparq_onnx -> linalg/tensor/arith/math conversion. Each ONNX operator
// has a handler registered by op_type in an OnnxHandlerTable; the handlers live in files grouped by
// kind (Elementwise.cpp, ...) and each file exposes one `register...` function.
//
//===----------------------------------------------------------------------------------------===//
#ifndef SPARQ_PASSES_ONNXTOLINALG_ONNXTOLINALG_H
#define SPARQ_PASSES_ONNXTOLINALG_ONNXTOLINALG_H

#include "dialects/ONNX/SparqONNXDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/DialectConversion.h"
#include "llvm/ADT/StringMap.h"

#include <functional>
#include <optional>

namespace sparq::onnx {

/// Everything a handler needs to convert one node.
class NodeContext {
public:
  NodeContext(NodeOp op, llvm::ArrayRef<mlir::Value> operands,
              mlir::ConversionPatternRewriter &rewriter,
              const mlir::TypeConverter &typeConverter)
      : op(op), operands(operands), rewriter(rewriter), typeConverter(typeConverter),
        loc(op.getLoc()) {}

  mutable NodeOp op;
  /// Converted operands (signless types). Absent optional inputs have NoneType.
  llvm::ArrayRef<mlir::Value> operands;
  mlir::ConversionPatternRewriter &rewriter;
  const mlir::TypeConverter &typeConverter;
  mlir::Location loc;

  unsigned numInputs() const { return operands.size(); }
  /// True when input `i` is present (exists and is not `sparq_onnx.none`).
  bool hasInput(unsigned i) const;
  mlir::Value input(unsigned i) const { return operands[i]; }
  /// Converted type of input `i` as a ranked tensor (null if unranked or absent).
  mlir::RankedTensorType inputType(unsigned i) const;
  /// The ONNX element type of input i before signless conversion (keeps ui/si).
  mlir::Type onnxInputElementType(unsigned i) const;
  bool isUnsignedInput(unsigned i) const;
  /// Converted type of result `i`.
  mlir::Type resultType(unsigned i) const;
  /// Converted result type as a ranked tensor, or null.
  mlir::RankedTensorType rankedResultType(unsigned i) const;
  mlir::Type onnxResultElementType(unsigned i) const;
  unsigned numResults() const { return op->getNumResults(); }
  int64_t opset() const { return op.getOpset(); }

  // ONNX attribute accessors (with defaults).
  bool hasAttr(llvm::StringRef name) const { return (bool)op.getOnnxAttr(name); }
  int64_t intAttr(llvm::StringRef name, int64_t dflt) const;
  float floatAttr(llvm::StringRef name, float dflt) const;
  std::string stringAttr(llvm::StringRef name, llvm::StringRef dflt) const;
  llvm::SmallVector<int64_t> intsAttr(llvm::StringRef name,
                                      llvm::ArrayRef<int64_t> dflt = {}) const;
  llvm::SmallVector<float> floatsAttr(llvm::StringRef name) const;
  mlir::Attribute attr(llvm::StringRef name) const { return op.getOnnxAttr(name); }

  /// Emits `<describe()>: <msg>` as an error and returns failure.
  mlir::LogicalResult fail(const llvm::Twine &msg) const;

  /// Replaces the node's results.
  mlir::LogicalResult replace(mlir::ValueRange values);
};

using OnnxHandler = std::function<mlir::LogicalResult(NodeContext &)>;

/// op_type -> handler for the default ONNX domain.
class OnnxHandlerTable {
public:
  void add(llvm::StringRef opType, OnnxHandler handler) {
    handlers[opType] = std::move(handler);
  }
  const OnnxHandler *lookup(llvm::StringRef opType) const {
    auto it = handlers.find(opType);
    return it == handlers.end() ? nullptr : &it->second;
  }

private:
  llvm::StringMap<OnnxHandler> handlers;
};

// Registration, one function per group of operators.
void registerElementwiseOps(OnnxHandlerTable &table);
void registerLinearOps(OnnxHandlerTable &table);    // MatMul Gemm Conv ConvTranspose ...
void registerPoolingNormOps(OnnxHandlerTable &table); // pools, BatchNormalization, ...
void registerReductionOps(OnnxHandlerTable &table); // Reduce*, Softmax, ArgMax, ...
void registerShapeOps(OnnxHandlerTable &table);     // Reshape Transpose Concat Slice ...

//===----------------------------------------------------------------------===//
// Utilities shared by the handlers (Utils.cpp).
//===----------------------------------------------------------------------===//

/// Reads the integer contents of a constant tensor value (arith.constant with a dense or
/// dense_resource attribute), converting any integer width. Fails for non-constants.
mlir::FailureOr<llvm::SmallVector<int64_t>> getConstantInts(mlir::Value v);
/// Same for floating-point constants (any float or integer element type).
mlir::FailureOr<llvm::SmallVector<double>> getConstantFloats(mlir::Value v);

/// A `tensor.empty` of `type`; dynamic sizes are taken from `dynSizes` in order.
mlir::Value createEmpty(mlir::OpBuilder &b, mlir::Location loc, mlir::RankedTensorType type,
                        mlir::ValueRange dynSizes = {});
/// A tensor filled with the scalar `value` (linalg.fill over tensor.empty).
mlir::Value createFilled(mlir::OpBuilder &b, mlir::Location loc, mlir::RankedTensorType type,
                         mlir::Value value, mlir::ValueRange dynSizes = {});
/// A scalar constant of `type` (float or integer) with the value `v`.
mlir::Value scalarConstant(mlir::OpBuilder &b, mlir::Location loc, mlir::Type type, double v);

/// numpy broadcasting of the shapes; fails if incompatible.
mlir::FailureOr<llvm::SmallVector<int64_t>>
broadcastShapes(llvm::ArrayRef<llvm::SmallVector<int64_t>> shapes);

using ScalarBodyFn =
    llvm::function_ref<mlir::Value(mlir::OpBuilder &, mlir::Location, mlir::ValueRange)>;

/// Builds a linalg.generic computing `body` elementwise over `inputs`, broadcast numpy-style to
/// `resultType`'s shape (dynamic result sizes are read from the inputs).
mlir::Value buildElementwise(mlir::OpBuilder &b, mlir::Location loc, mlir::ValueRange inputs,
                             mlir::RankedTensorType resultType, ScalarBodyFn body);

/// Casts a scalar between element types with ONNX Cast semantics. `srcUnsigned` and
/// `dstUnsigned` give the signedness of integer types.
mlir::Value castScalar(mlir::OpBuilder &b, mlir::Location loc, mlir::Value v, mlir::Type dst,
                       bool srcUnsigned, bool dstUnsigned);

/// Normalizes a possibly negative axis into [0, rank); fails if out of range.
std::optional<int64_t> normalizeAxis(int64_t axis, int64_t rank);

//===----------------------------------------------------------------------===//
// Linear / PoolingNorm group (Linear.cpp, PoolingNorm.cpp): static reshapes, padding and the
// sliding windows of convolutions and pools.
//===----------------------------------------------------------------------===//

/// Fails with "<what> must have a static shape" unless `t` is a statically shaped ranked tensor.
mlir::LogicalResult requireStaticShape(const NodeContext &c, mlir::RankedTensorType t,
                                       const llvm::Twine &what);

/// Reshapes a statically shaped tensor to `shape` (same number of elements) with
/// tensor.collapse_shape / tensor.expand_shape, through 1-D when no single reassociation exists.
mlir::Value reshapeStatic(mlir::OpBuilder &b, mlir::Location loc, mlir::Value v,
                          llvm::ArrayRef<int64_t> shape);

/// tensor.pad of a statically shaped tensor by `lo`/`hi` elements per dimension (one entry per
/// dimension) with `padValue`; returns `v` itself when nothing is padded.
mlir::Value padStatic(mlir::OpBuilder &b, mlir::Location loc, mlir::Value v,
                      llvm::ArrayRef<int64_t> lo, llvm::ArrayRef<int64_t> hi,
                      mlir::Value padValue);

/// The window of a convolution or pool over the spatial dims (2, 3, ...) of an NC... tensor.
struct SlidingWindow {
  llvm::SmallVector<int64_t> kernel, strides, dilations;
  /// Padding from `pads` / `auto_pad`.
  llvm::SmallVector<int64_t> padLo, padHi;
  /// Extra high padding that ceil_mode's last, overhanging window needs (never counted as pad).
  llvm::SmallVector<int64_t> ceilHi;
};

/// Reads strides/dilations/pads/auto_pad of a Conv or pooling node sliding `kernel` over the
/// spatial dims of `in`, and checks that the sweep yields the spatial sizes of `out` (rounding
/// down, or up when `ceilMode`). Emits a diagnostic naming the attribute and fails otherwise.
mlir::FailureOr<SlidingWindow> readSlidingWindow(const NodeContext &c, mlir::RankedTensorType in,
                                                 llvm::ArrayRef<int64_t> kernel,
                                                 mlir::RankedTensorType out, bool ceilMode);

} // namespace sparq::onnx

#endif // SPARQ_PASSES_ONNXTOLINALG_ONNXTOLINALG_H
