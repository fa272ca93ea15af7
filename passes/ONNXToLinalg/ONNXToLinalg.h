//===- passes/ONNXToLinalg/ONNXToLinalg.h - ONNX conversion internals -*- C++ -*-===//
//
// Shared machinery of the sparq_onnx -> linalg/tensor/arith/math conversion. Each ONNX operator
// has handlers registered by op_type and since-version in an OnnxHandlerTable; the handlers live in
// files grouped by kind (Elementwise.cpp, ...) and each file exposes one `register...` function.
//
//===----------------------------------------------------------------------------------------===//
#ifndef SPARQ_PASSES_ONNXTOLINALG_ONNXTOLINALG_H
#define SPARQ_PASSES_ONNXTOLINALG_ONNXTOLINALG_H

#include "dialects/Common/ScalarBuilder.h"
#include "dialects/ONNX/SparqONNXDialect.h"
#include "dialects/Quant/QuantDialect.h"
#include "dialects/Weight/WeightDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/DialectConversion.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"

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

/// The handlers, registered by domain, op_type and since-version in the manner of torch-mlir's
/// `onOp(name, sinceVersion, fn)`; the overloads without a domain are the default ONNX domain
/// (`""`, also spelled `ai.onnx`), others (`com.microsoft`) carry the domain's own opset. A node
/// of opset N is converted by the handler of its domain and op_type with the largest
/// since-version <= N, so one registration covers every version of the operator up to the next
/// registered one: `add("Squeeze", 1, ...)` handles Squeeze-1 and
/// Squeeze-11 (axes attribute), `add("Squeeze", 13, ...)` Squeeze-13 and later (axes input). A
/// handler never branches on the opset (NodeContext does not expose it); a form that differs is a
/// registration of its own.
class OnnxHandlerTable {
public:
  /// Registers `handler` for `opType` from opset `sinceVersion` on. Each (opType, sinceVersion)
  /// pair is registered once.
  void add(llvm::StringRef opType, int64_t sinceVersion, OnnxHandler handler) {
    add("", opType, sinceVersion, std::move(handler));
  }
  void add(llvm::StringRef domain, llvm::StringRef opType, int64_t sinceVersion,
           OnnxHandler handler);
  /// The handler converting an `opType` node of `opset`, or null when there is none (no handler
  /// for the op_type, or `opset` below every registered since-version).
  const OnnxHandler *lookup(llvm::StringRef opType, int64_t opset) const {
    return lookup("", opType, opset);
  }
  const OnnxHandler *lookup(llvm::StringRef domain, llvm::StringRef opType, int64_t opset) const;
  /// The smallest since-version registered for `opType`; nullopt when it has no handler.
  std::optional<int64_t> firstVersion(llvm::StringRef opType) const {
    return firstVersion("", opType);
  }
  std::optional<int64_t> firstVersion(llvm::StringRef domain, llvm::StringRef opType) const;

  /// Declares that the handlers of `opType` accept absent optional outputs (an empty output
  /// name, NoneType results, e.g. an LSTM whose Y is not wanted but Y_h is): they skip them, and
  /// NodeContext::replace gives them sparq_onnx.none. Other handlers never see NoneType results.
  void acceptAbsentOutputs(llvm::StringRef opType) { absentOutputs.insert(opType); }
  bool acceptsAbsentOutputs(llvm::StringRef domain, llvm::StringRef opType) const {
    return domain.empty() && absentOutputs.contains(opType);
  }

private:
  /// Per op_type (qualified as `domain::op_type` outside the default domain), the handlers by
  /// ascending since-version.
  llvm::StringMap<llvm::SmallVector<std::pair<int64_t, OnnxHandler>, 1>> handlers;
  llvm::StringSet<> absentOutputs;
};

// Registration, one function per group of operators (one file each).
void registerElementwiseOps(OnnxHandlerTable &table); // Add Relu Cast Clip Where ...
void registerLinearOps(OnnxHandlerTable &table);      // MatMul Gemm Conv ConvTranspose ...
void registerPoolingNormOps(OnnxHandlerTable &table); // pools, BatchNormalization, ...
void registerReductionOps(OnnxHandlerTable &table);   // Reduce*, Softmax, ArgMax, ...
void registerShapeOps(OnnxHandlerTable &table);       // Reshape Squeeze Transpose Expand ...
void registerIndexingOps(OnnxHandlerTable &table);    // Concat Split Slice Gather* Scatter* ...
void registerResizePadOps(OnnxHandlerTable &table);   // Pad Resize Upsample GridSample
void registerQuantizeOps(OnnxHandlerTable &table);    // QuantizeLinear DequantizeLinear
void registerRecurrentOps(OnnxHandlerTable &table);   // RNN GRU LSTM
void registerComMicrosoftOps(OnnxHandlerTable &table); // com.microsoft: MatMulNBits
void registerTopKOps(OnnxHandlerTable &table);        // TopK
void registerIntegerLinearOps(OnnxHandlerTable &table); // ConvInteger QLinearMatMul QLinearConv
void registerDataMovementOps(OnnxHandlerTable &table); // ReverseSequence MaxUnpool
void registerNumericOps(OnnxHandlerTable &table);     // LRN Shrink Det DFT
void registerDetectionOps(OnnxHandlerTable &table);   // NonMaxSuppression
void registerTrainingOps(OnnxHandlerTable &table);    // ai.onnx.preview.training: Adagrad Adam Momentum
void registerControlFlowOps(OnnxHandlerTable &table); // If Loop Scan
void registerStringOps(OnnxHandlerTable &table);      // StringNormalizer

/// The raw little-endian bytes of a constant (arith.constant with a dense or dense_resource
/// attribute), elements unconverted; nullopt for other values and bit-packed booleans
/// (QuantizedWeights.cpp).
std::optional<std::vector<char>> constantBytesOf(mlir::Value v);

/// Y = X · dequant(W)^T as `sparq_weight.linear` with one `#sparq_quant.scheme`: `codes` are the
/// packed rows of W [n, k] (docs/packed-formats.md), `scales` and (asymmetric schemes only)
/// `zeroPoints` the scheme's parameters in its [rows, groups] layout; the constants are named
/// `name`.codes ... and located at `wLoc`. X is [..., M, k] or a vector [k] (then so is Y).
/// `linearOut` receives the linear op.
mlir::Value emitPackedLinear(NodeContext &c, mlir::Value x, mlir::RankedTensorType yt,
                             quant::SchemeAttr scheme, int64_t n, int64_t k,
                             llvm::ArrayRef<char> codes, llvm::ArrayRef<float> scales,
                             llvm::ArrayRef<uint8_t> zeroPoints, mlir::Location wLoc,
                             llvm::StringRef name, weight::LinearOp *linearOut = nullptr);

/// MatMul(A, DequantizeLinear(W, scale, zero_point)) with a constant integer W [K, N] (int8,
/// uint8, int4, uint4; per tensor, per column, or blocked along K) and a float32 A with a static
/// K (rows possibly dynamic), as
/// emitPackedLinear; null when the MatMul is not of that form (QuantizedWeights.cpp).
mlir::FailureOr<mlir::Value> emitDequantizedWeightMatMul(NodeContext &c);

/// MatMulInteger(A, B, a_zero_point, b_zero_point) with an 8-bit A (static K) and a constant 8-bit
/// B [K, N] whose zero point is constant, computed exactly in float32 by the quantized-weight
/// kernels (B's codes with scale 1) where the column sums of |B - zero point| bound every
/// partial sum below 2^24; null otherwise (QuantizedWeights.cpp).
mlir::FailureOr<mlir::Value> emitConstantWeightMatMulInteger(NodeContext &c);

/// MatMulInteger's zero point `zpIdx` of input `xIdx`, checked and shaped to broadcast
/// against it: a scalar, one per column (B), or with `rowZeroPoint` one per row of a matrix as
/// [M, 1] (A); null when absent (Linear.cpp).
mlir::FailureOr<mlir::Value> zeroPointOperand(NodeContext &c, unsigned xIdx, unsigned zpIdx,
                                              bool rowZeroPoint);

/// Conv(X, DequantizeLinear(W, ...)) with a constant integer W [F, C, KH, KW] (per tensor or per
/// output channel), ungrouped, 2-D and static, as `sparq_weight.conv2d` over the codes, given the
/// node's window; null when the Conv is not of that form (QuantizedWeights.cpp).
mlir::FailureOr<mlir::Value> emitDequantizedWeightConv(NodeContext &c,
                                                       llvm::ArrayRef<int64_t> strides,
                                                       llvm::ArrayRef<int64_t> dilations,
                                                       llvm::ArrayRef<int64_t> padLo,
                                                       llvm::ArrayRef<int64_t> padHi);

/// Cast / CastLike where the input or the target (ONNX element type `dst`) is a string
/// (Strings.cpp).
mlir::LogicalResult lowerStringCast(NodeContext &c, mlir::Type dst);

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
/// The product of `v` (the element count of a static shape).
int64_t product(llvm::ArrayRef<int64_t> v);
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

/// The 'axis' attribute (default `dflt`) normalized into [0, rank); fails with "attribute 'axis'
/// = A is out of range for rank R" when it is out of range or `rank` is 0.
mlir::FailureOr<int64_t> axisAttr(const NodeContext &c, int64_t rank, int64_t dflt = 0);

/// "[1, 2, 3]": integer lists in diagnostics.
std::string joinInts(llvm::ArrayRef<int64_t> v);

//===----------------------------------------------------------------------===//
// Shape / Indexing / ResizePad group (Shape.cpp, Indexing.cpp, ResizePad.cpp): index arithmetic,
// sizes and small tensors read at run time, and generics driven by their iteration indices.
//===----------------------------------------------------------------------===//

/// Fails with "<what> must be a ranked tensor" unless input `i` is one.
mlir::LogicalResult requireRanked(const NodeContext &c, unsigned i, llvm::StringRef what);

/// The integer contents of optional input `i`; nullopt when absent or not a constant.
std::optional<llvm::SmallVector<int64_t>> constInts(const NodeContext &c, unsigned i);

/// Normalizes each axis against `rank`; fails naming `what` for out-of-range or repeated axes.
mlir::FailureOr<llvm::SmallVector<int64_t>>
normalizeAxes(const NodeContext &c, llvm::ArrayRef<int64_t> axes, int64_t rank,
              llvm::StringRef what);

// Index arithmetic: sparq::ScalarBuilder (dialects/Common/ScalarBuilder.h).

/// An integer (or float, truncated) scalar as an index.
mlir::Value toIndex(mlir::OpBuilder &b, mlir::Location l, mlir::Value v, bool isUnsigned = false);
/// An index scalar as a value of the integer type `t`.
mlir::Value fromIndex(mlir::OpBuilder &b, mlir::Location l, mlir::Value v, mlir::Type t);

/// Size of dimension `d` of `v`: an attribute when static, a tensor.dim otherwise.
mlir::OpFoldResult dimOf(mlir::OpBuilder &b, mlir::Location l, mlir::Value v, int64_t d);
/// The same as an index value.
mlir::Value dimValue(mlir::OpBuilder &b, mlir::Location l, mlir::Value v, int64_t d);
/// The dynamic sizes of `type`, each produced by `dim(i)` for a dynamic dimension i.
llvm::SmallVector<mlir::Value> dynamicSizes(mlir::RankedTensorType type,
                                            llvm::function_ref<mlir::Value(int64_t)> dim);

/// Element `i` (row-major) of a small tensor, read at run time; dynamic sizes are read too.
mlir::Value extractElement(mlir::OpBuilder &b, mlir::Location l, mlir::Value t, int64_t i);
/// Whether the scalar `v` (float, integer or i1) is nonzero, as an i1.
mlir::Value isNonZero(mlir::OpBuilder &b, mlir::Location l, mlir::Value v);
/// The scalar of input `i` (a rank-0 or one-element tensor), read at run time.
mlir::Value scalarInput(NodeContext &c, unsigned i);

/// A tensor.cast to `type` unless `v` already has it.
mlir::Value castTo(mlir::OpBuilder &b, mlir::Location l, mlir::Value v, mlir::Type type);

/// Body of an index-driven generic: `ivs` are the linalg.index values of the iteration space,
/// `args` the scalar block arguments of the inputs. Returns one value per result.
using IndexedBodyFn = llvm::function_ref<llvm::SmallVector<mlir::Value>(
    mlir::OpBuilder &, mlir::Location, mlir::ValueRange ivs, mlir::ValueRange args)>;

/// A parallel linalg.generic over the shape of `resultTypes` (all of the same shape) whose body
/// knows its iteration indices; inputs are read through `inputMaps`.
llvm::SmallVector<mlir::Value>
buildIndexedGeneric(mlir::OpBuilder &b, mlir::Location loc, mlir::TypeRange resultTypes,
                    mlir::ValueRange dynSizes, mlir::ValueRange inputs,
                    llvm::ArrayRef<mlir::AffineMap> inputMaps, IndexedBodyFn body);
/// The same with one result.
mlir::Value buildIndexedGeneric(
    mlir::OpBuilder &b, mlir::Location loc, mlir::RankedTensorType resultType,
    mlir::ValueRange dynSizes, mlir::ValueRange inputs, llvm::ArrayRef<mlir::AffineMap> inputMaps,
    llvm::function_ref<mlir::Value(mlir::OpBuilder &, mlir::Location, mlir::ValueRange,
                                   mlir::ValueRange)>
        body);

/// numpy broadcast of `v` to `type` (sizes `dynSizes` for its dynamic dims) decided at run time:
/// a dynamic dim of `v` that is 1 at run time is read at index 0. For small operands whose
/// broadcast the static types cannot tell (a bias with dynamic dims).
mlir::Value broadcastAtRunTime(mlir::OpBuilder &b, mlir::Location loc, mlir::Value v,
                               mlir::RankedTensorType type, mlir::ValueRange dynSizes);

//===----------------------------------------------------------------------===//
// Linear / PoolingNorm group (Linear.cpp, PoolingNorm.cpp): static reshapes, padding and the
// sliding windows of convolutions and pools.
//===----------------------------------------------------------------------===//

/// numpy.matmul of the statically shaped `lhs` and `rhs` (same element type as `rt`) with the
/// result type `rt`: one linalg.matmul when B has no batch, else a linalg.batch_matmul over the
/// broadcast batch dims (Linear.cpp).
mlir::FailureOr<mlir::Value> emitMatMul(const NodeContext &c, mlir::Value lhs, mlir::Value rhs,
                                        mlir::RankedTensorType rt);

/// Fails with "<what> must have a static shape" unless `t` is a statically shaped ranked tensor.
mlir::LogicalResult requireStaticShape(const NodeContext &c, mlir::RankedTensorType t,
                                       const llvm::Twine &what);

/// Reshapes a statically shaped tensor to `shape` (same number of elements) with
/// tensor.collapse_shape / tensor.expand_shape, through 1-D when no single reassociation exists.
mlir::Value reshapeStatic(mlir::OpBuilder &b, mlir::Location loc, mlir::Value v,
                          llvm::ArrayRef<int64_t> shape);

/// tensor.pad of `v` by constant `lo`/`hi` elements per dimension (one entry per dimension)
/// with `padValue` (padDynamic with constant amounts); returns `v` itself when nothing is padded.
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

/// A sliding window over spatial sizes known only at run time (dynamic input dims or a kernel
/// taken from a dynamic weight): every size an index value, computed as readSlidingWindow's
/// integers are (auto_pad SAME split, ceil_mode's overhang with the last window starting inside
/// the input or its low padding). A window larger than the padded input is a run-time error.
struct DynamicWindow {
  llvm::SmallVector<int64_t> strides, dilations;
  llvm::SmallVector<mlir::Value> kernel, padLo, padHi, ceilHi, out;
};
mlir::FailureOr<DynamicWindow> readDynamicWindow(const NodeContext &c, mlir::Value x,
                                                 llvm::ArrayRef<mlir::OpFoldResult> kernel,
                                                 bool ceilMode);

/// tensor.pad of `v` by run-time amounts (result dims dynamic where an amount is); `v` itself
/// when every amount is a constant zero.
mlir::Value padDynamic(mlir::OpBuilder &b, mlir::Location loc, mlir::Value v,
                       llvm::ArrayRef<mlir::OpFoldResult> lo, llvm::ArrayRef<mlir::OpFoldResult> hi,
                       mlir::Value padValue);

} // namespace sparq::onnx

#endif // SPARQ_PASSES_ONNXTOLINALG_ONNXTOLINALG_H
