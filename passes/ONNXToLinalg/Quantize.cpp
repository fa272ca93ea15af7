//===- passes/ONNXToLinalg/Quantize.cpp - QuantizeLinear, DequantizeLinear ------------===//
//
// The linear (de)quantization operators as elementwise generics: per-tensor, per-axis (a 1-D
// scale is reshaped to broadcast along `axis`) or blocked (opset 21: a scale per `block_size`
// elements along `axis`, repeated to the input's shape) scale and zero point, round half to
// even and saturation to the range of the quantized type (4-bit types too, stored in a byte).
//
//===----------------------------------------------------------------------===//
#include "passes/ONNXToLinalg/ONNXToLinalg.h"

using namespace mlir;

namespace sparq::onnx {
namespace {

/// Input `i` (a scale or zero point) shaped to broadcast against an input of rank `rank`: a 1-D
/// tensor of more than one element lies along `axis`; scalars and 1-element tensors as they are.
FailureOr<Value> alongAxis(NodeContext &c, unsigned i, int64_t rank, int64_t axis,
                           int64_t axisSize) {
  RankedTensorType t = c.inputType(i);
  if (!t)
    return c.fail("input " + Twine(i) + " must be a ranked tensor");
  if (t.getNumElements() == 1 && t.hasStaticShape())
    return reshapeStatic(c.rewriter, c.loc, c.input(i), {});
  if (t.getRank() != 1 || !t.hasStaticShape())
    return c.fail("input " + Twine(i) + " must be a scalar or a 1-D tensor (a blocked one " +
                  "needs 'block_size', opset 21)");
  if (axisSize != ShapedType::kDynamic && t.getDimSize(0) != axisSize)
    return c.fail("input " + Twine(i) + " has " + Twine(t.getDimSize(0)) +
                  " elements, but dimension " + Twine(axis) + " of the input has " +
                  Twine(axisSize));
  SmallVector<int64_t> shape(rank, 1);
  shape[axis] = t.getDimSize(0);
  return reshapeStatic(c.rewriter, c.loc, c.input(i), shape);
}

/// Input `i` (a scale or zero point) of a blocked Q/DQ node (opset 21: the input's shape but
/// ceil(D / block) along `axis`) with each entry repeated `block` times along `axis` and cut to
/// D, so that it has the input's shape.
FailureOr<Value> expandBlocks(NodeContext &c, unsigned i, RankedTensorType in, int64_t axis,
                              int64_t block) {
  RankedTensorType t = c.inputType(i);
  if (!t || !t.hasStaticShape() || !in.hasStaticShape())
    return c.fail("blocked quantization needs static shapes of the input and input " +
                  Twine(i));
  const int64_t rank = in.getRank(), dim = in.getDimSize(axis);
  const int64_t groups = (dim + block - 1) / block;
  bool fits = t.getRank() == rank;
  for (int64_t d = 0; fits && d < rank; ++d)
    fits = t.getDimSize(d) == (d == axis ? groups : in.getDimSize(d));
  if (!fits)
    return c.fail("input " + Twine(i) + " must have the input's shape with " + Twine(groups) +
                  " blocks of " + Twine(block) + " along axis " + Twine(axis));
  OpBuilder &b = c.rewriter;
  SmallVector<int64_t> repeated(t.getShape());
  repeated.insert(repeated.begin() + axis + 1, block);
  Value init = createEmpty(b, c.loc, RankedTensorType::get(repeated, t.getElementType()));
  Value r = linalg::BroadcastOp::create(b, c.loc, c.input(i), init,
                                        ArrayRef<int64_t>{axis + 1})
                .getResult()[0];
  SmallVector<ReassociationIndices> reassoc;
  for (int64_t d = 0, at = 0; d < rank; ++d) {
    ReassociationIndices g{at++};
    if (d == axis)
      g.push_back(at++);
    reassoc.push_back(g);
  }
  r = tensor::CollapseShapeOp::create(b, c.loc, r, reassoc);
  if (groups * block != dim) {
    SmallVector<OpFoldResult> offs(rank, b.getIndexAttr(0)), ones(rank, b.getIndexAttr(1)),
        sizes;
    for (int64_t d : in.getShape())
      sizes.push_back(b.getIndexAttr(d));
    r = tensor::ExtractSliceOp::create(b, c.loc, r, offs, sizes, ones);
  }
  return r;
}

/// The scale and (optional) zero point of a Q/DQ node, shaped for broadcasting against input 0.
FailureOr<SmallVector<Value>> scaleAndZeroPoint(NodeContext &c) {
  RankedTensorType in = c.inputType(0);
  if (!in)
    return c.fail("input 0 must be a ranked tensor");
  const int64_t block = c.intAttr("block_size", 0);
  if (block < 0)
    return c.fail("attribute 'block_size' = " + Twine(block) + " must be positive");
  // `axis` matters only for a blocked or a per-axis scale (more than one element).
  int64_t axis = 0, axisSize = 1;
  RankedTensorType scaleType = c.inputType(1);
  if (block > 0 ||
      (scaleType && !(scaleType.hasStaticShape() && scaleType.getNumElements() == 1))) {
    auto a = axisAttr(c, in.getRank(), 1);
    if (failed(a))
      return failure();
    axis = *a;
    axisSize = in.getDimSize(axis);
  }
  SmallVector<Value> ins{c.input(0)};
  for (unsigned i = 1; i < 3; ++i) {
    if (!c.hasInput(i))
      continue;
    auto v = block > 0 ? expandBlocks(c, i, in, axis, block)
                       : alongAxis(c, i, in.getRank(), axis, axisSize);
    if (failed(v))
      return failure();
    ins.push_back(*v);
  }
  return ins;
}

LogicalResult lowerDequantizeLinear(NodeContext &c) {
  auto ins = scaleAndZeroPoint(c);
  if (failed(ins))
    return failure();
  RankedTensorType resultType = c.rankedResultType(0);
  Type ft = resultType.getElementType();
  if (!isa<FloatType>(ft))
    return c.fail("the result must be a floating-point tensor");
  bool u = c.isUnsignedInput(0);
  Value r = buildElementwise(c.rewriter, c.loc, *ins, resultType,
                             [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                               Value x = castScalar(b, l, a[0], ft, u, false);
                               if (a.size() > 2)
                                 x = arith::SubFOp::create(b, l, x,
                                                           castScalar(b, l, a[2], ft, u, false));
                               Value s = castScalar(b, l, a[1], ft, false, false);
                               return arith::MulFOp::create(b, l, x, s);
                             });
  return c.replace(r);
}

LogicalResult lowerQuantizeLinear(NodeContext &c) {
  auto ins = scaleAndZeroPoint(c);
  if (failed(ins))
    return failure();
  RankedTensorType resultType = c.rankedResultType(0);
  auto qt = dyn_cast<IntegerType>(resultType.getElementType());
  // The range is the ONNX type's: a 4-bit result is stored in a byte.
  auto onnxType = dyn_cast<IntegerType>(c.onnxResultElementType(0));
  if (!qt || !onnxType || onnxType.getWidth() > 16)
    return c.fail("the result must be a 4-, 8- or 16-bit integer tensor");
  bool u = onnxType.isUnsigned();
  const unsigned bits = onnxType.getWidth();
  double lo = u ? 0.0 : -std::ldexp(1.0, bits - 1);
  double hi = u ? std::ldexp(1.0, bits) - 1 : std::ldexp(1.0, bits - 1) - 1;
  Value r = buildElementwise(
      c.rewriter, c.loc, *ins, resultType, [&](OpBuilder &b, Location l, ValueRange a) -> Value {
        Type ft = b.getF32Type();
        Value x = castScalar(b, l, a[0], ft, false, false);
        Value s = castScalar(b, l, a[1], ft, false, false);
        Value q = math::RoundEvenOp::create(b, l, arith::DivFOp::create(b, l, x, s));
        if (a.size() > 2)
          q = arith::AddFOp::create(b, l, q, castScalar(b, l, a[2], ft, u, false));
        q = arith::MaximumFOp::create(b, l, q, scalarConstant(b, l, ft, lo));
        q = arith::MinimumFOp::create(b, l, q, scalarConstant(b, l, ft, hi));
        return castScalar(b, l, q, qt, false, u);
      });
  return c.replace(r);
}

} // namespace

void registerQuantizeOps(OnnxHandlerTable &t) {
  t.add("QuantizeLinear", 10, lowerQuantizeLinear);
  t.add("DequantizeLinear", 10, lowerDequantizeLinear);
}

} // namespace sparq::onnx
