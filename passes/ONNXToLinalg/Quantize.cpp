//===- passes/ONNXToLinalg/Quantize.cpp - QuantizeLinear, DequantizeLinear ------------===//
//
// The linear (de)quantization operators as elementwise generics: per-tensor or per-axis scale
// and zero point (a 1-D scale is reshaped to broadcast along `axis`), round half to even and
// saturation to the range of the quantized type.
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
    return c.fail("input " + Twine(i) + " must be a scalar or a 1-D tensor (blocked " +
                  "quantization is not supported at this opset)");
  if (axisSize != ShapedType::kDynamic && t.getDimSize(0) != axisSize)
    return c.fail("input " + Twine(i) + " has " + Twine(t.getDimSize(0)) +
                  " elements, but dimension " + Twine(axis) + " of the input has " +
                  Twine(axisSize));
  SmallVector<int64_t> shape(rank, 1);
  shape[axis] = t.getDimSize(0);
  return reshapeStatic(c.rewriter, c.loc, c.input(i), shape);
}

/// The scale and (optional) zero point of a Q/DQ node, shaped for broadcasting against input 0.
FailureOr<SmallVector<Value>> scaleAndZeroPoint(NodeContext &c) {
  RankedTensorType in = c.inputType(0);
  if (!in)
    return c.fail("input 0 must be a ranked tensor");
  // `axis` matters only for a per-axis scale (more than one element).
  int64_t axis = 0, axisSize = 1;
  RankedTensorType scaleType = c.inputType(1);
  if (scaleType && !(scaleType.hasStaticShape() && scaleType.getNumElements() == 1)) {
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
    auto v = alongAxis(c, i, in.getRank(), axis, axisSize);
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
  if (!qt || qt.getWidth() > 16)
    return c.fail("the result must be an 8- or 16-bit integer tensor");
  bool u = c.onnxResultElementType(0).isUnsignedInteger();
  double lo = u ? 0.0 : -std::ldexp(1.0, qt.getWidth() - 1);
  double hi = u ? std::ldexp(1.0, qt.getWidth()) - 1 : std::ldexp(1.0, qt.getWidth() - 1) - 1;
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
