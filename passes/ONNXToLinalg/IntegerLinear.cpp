//===- passes/ONNXToLinalg/IntegerLinear.cpp - ConvInteger, QLinearMatMul, QLinearConv -===//
//
// The integer convolutions and matmuls, computed exactly as ONNX specifies: each 8-bit operand is
// widened to i32 (by its signedness) minus its zero point, the contraction accumulates in i32
// (linalg.matmul / batch_matmul / conv_*_nc*_fc* named ops, or a linalg.generic for grouped
// convolutions), and the QLinear* ops requantize the accumulator elementwise:
//
//   y = saturate(round_half_even(f32(acc) * (scale_a * scale_b / scale_y)) + zero_point_y)
//
// with the multiplier formed in f32. Zero points and scales are per tensor, or per output channel
// for a convolution's weight, per row of A (and y) / per column of B for QLinearMatMul. All shapes
// must be static.
//
//===----------------------------------------------------------------------===//
#include "passes/ONNXToLinalg/ONNXToLinalg.h"

#include <cmath>

using namespace mlir;

namespace sparq::onnx {
namespace {

/// Input `i` (a scale or zero point) shaped to broadcast against a tensor of rank `rank`: a
/// scalar or one-element tensor becomes rank 0; a 1-D tensor of `dimSize` elements lies along
/// dimension `dim` (when `dim` >= 0). `what` names the input in diagnostics.
FailureOr<Value> alongDim(NodeContext &c, unsigned i, int64_t rank, int64_t dim, int64_t dimSize,
                          const Twine &what) {
  RankedTensorType t = c.inputType(i);
  if (failed(requireStaticShape(c, t, what)))
    return failure();
  if (t.getNumElements() == 1)
    return reshapeStatic(c.rewriter, c.loc, c.input(i), {});
  if (dim < 0 || t.getRank() != 1 || t.getDimSize(0) != dimSize)
  {
    std::string expected = dim < 0 ? std::string("a single element")
                                   : "a single element or " + std::to_string(dimSize) +
                                         " elements";
    return c.fail(what + " has shape " + joinInts(t.getShape()) + ", expected " + expected);
  }
  SmallVector<int64_t> shape(rank, 1);
  shape[dim] = dimSize;
  return reshapeStatic(c.rewriter, c.loc, c.input(i), shape);
}

/// i32(x) - i32(zero point) for input `xIdx` with its optional zero point `zpIdx`, which is per
/// tensor or (1-D) along dimension `zpDim` of x (no per-axis form when `zpDim` < 0).
FailureOr<Value> widenMinusZeroPoint(NodeContext &c, unsigned xIdx, int64_t zpIdx, int64_t zpDim,
                                     const Twine &zpName) {
  OpBuilder &b = c.rewriter;
  RankedTensorType xt = c.inputType(xIdx);
  Type i32 = b.getI32Type();
  bool u = c.isUnsignedInput(xIdx);
  SmallVector<Value> ins = {c.input(xIdx)};
  if (zpIdx >= 0 && c.hasInput(zpIdx)) {
    if (c.isUnsignedInput(zpIdx) != u ||
        c.inputType(zpIdx).getElementType() != xt.getElementType())
      return c.fail(zpName + " must have the element type of its operand");
    auto zp = alongDim(c, zpIdx, xt.getRank(), zpDim, zpDim >= 0 ? xt.getDimSize(zpDim) : 0,
                       zpName);
    if (failed(zp))
      return failure();
    ins.push_back(*zp);
  }
  return buildElementwise(b, c.loc, ins, RankedTensorType::get(xt.getShape(), i32),
                          [&](OpBuilder &nb, Location nl, ValueRange a) {
                            Value v = castScalar(nb, nl, a[0], i32, u, false);
                            if (a.size() > 1)
                              v = arith::SubIOp::create(nb, nl, v,
                                                        castScalar(nb, nl, a[1], i32, u, false));
                            return v;
                          });
}

/// Checks that input `i` is an 8-bit integer tensor with a static shape.
LogicalResult require8Bit(NodeContext &c, unsigned i, const Twine &what) {
  RankedTensorType t = c.inputType(i);
  if (failed(requireStaticShape(c, t, what)))
    return failure();
  if (!t.getElementType().isInteger(8))
    return c.fail(what + " must be int8 or uint8");
  return success();
}

//===----------------------------------------------------------------------===//
// The i32 contractions
//===----------------------------------------------------------------------===//

/// The i32 convolution of `x` [N, C, in...] (already padded) with `w` [F, C/group, k...]
/// accumulating into `init` [N, F, out...]: the NC.../FC... named op for one group, otherwise a
/// linalg.generic over [N, G, F/G, out..., C/G, k...].
Value emitIntConvolution(OpBuilder &b, Location loc, Value x, Value w, Value init,
                         ArrayRef<int64_t> strides, ArrayRef<int64_t> dilations, int64_t group) {
  auto xt = cast<RankedTensorType>(x.getType()), wt = cast<RankedTensorType>(w.getType());
  auto rt = cast<RankedTensorType>(init.getType());
  int64_t sp = xt.getRank() - 2;
  TypeRange resTy(rt);
  if (group == 1) {
    auto s = b.getI64TensorAttr(strides), d = b.getI64TensorAttr(dilations);
    if (sp == 1)
      return linalg::Conv1DNcwFcwOp::create(b, loc, resTy, ValueRange{x, w}, ValueRange{init}, s,
                                            d)
          .getResult(0);
    if (sp == 2)
      return linalg::Conv2DNchwFchwOp::create(b, loc, resTy, ValueRange{x, w}, ValueRange{init},
                                              s, d)
          .getResult(0);
    return linalg::Conv3DNcdhwFcdhwOp::create(b, loc, resTy, ValueRange{x, w}, ValueRange{init},
                                              s, d)
        .getResult(0);
  }
  int64_t ch = xt.getDimSize(1), f = wt.getDimSize(0);
  SmallVector<int64_t> x5 = {xt.getDimSize(0), group, ch / group},
                       o5 = {rt.getDimSize(0), group, f / group}, w5 = {group, f / group};
  x5.append(xt.getShape().begin() + 2, xt.getShape().end());
  o5.append(rt.getShape().begin() + 2, rt.getShape().end());
  w5.append(wt.getShape().begin() + 1, wt.getShape().end());
  Value xg = reshapeStatic(b, loc, x, x5), wg = reshapeStatic(b, loc, w, w5),
        ig = reshapeStatic(b, loc, init, o5);
  MLIRContext *ctx = b.getContext();
  // Loops: n, g, f, out[sp], c, k[sp].
  int64_t nLoops = 4 + 2 * sp;
  auto d = [&](int64_t i) { return getAffineDimExpr(i, ctx); };
  SmallVector<AffineExpr> xE = {d(0), d(1), d(3 + sp)}, wE = {d(1), d(2), d(3 + sp)},
                          oE = {d(0), d(1), d(2)};
  for (int64_t i = 0; i < sp; ++i) {
    xE.push_back(d(3 + i) * strides[i] + d(4 + sp + i) * dilations[i]);
    wE.push_back(d(4 + sp + i));
    oE.push_back(d(3 + i));
  }
  SmallVector<AffineMap> maps = {AffineMap::get(nLoops, 0, xE, ctx),
                                 AffineMap::get(nLoops, 0, wE, ctx),
                                 AffineMap::get(nLoops, 0, oE, ctx)};
  SmallVector<utils::IteratorType> iters(nLoops, utils::IteratorType::parallel);
  for (int64_t i = 3 + sp; i < nLoops; ++i)
    iters[i] = utils::IteratorType::reduction;
  Value og = linalg::GenericOp::create(
                 b, loc, ig.getType(), ValueRange{xg, wg}, ValueRange{ig}, maps, iters,
                 [](OpBuilder &nb, Location nl, ValueRange a) {
                   Value p = arith::MulIOp::create(nb, nl, a[0], a[1]);
                   linalg::YieldOp::create(nb, nl,
                                           arith::AddIOp::create(nb, nl, a[2], p).getResult());
                 })
                 .getResult(0);
  return reshapeStatic(b, loc, og, rt.getShape());
}

/// The i32 accumulator of ConvInteger / QLinearConv: inputs x, w and their zero points at
/// `xIdx`, `xZpIdx`, `wIdx`, `wZpIdx`; `biasIdx` (>= 0) an optional int32 bias per channel.
FailureOr<Value> convAccumulator(NodeContext &c, unsigned xIdx, int64_t xZpIdx, unsigned wIdx,
                                 int64_t wZpIdx, int64_t biasIdx, ArrayRef<int64_t> outShape) {
  if (failed(require8Bit(c, xIdx, "input x")) || failed(require8Bit(c, wIdx, "input w")))
    return failure();
  RankedTensorType in = c.inputType(xIdx), wt = c.inputType(wIdx);
  int64_t sp = in.getRank() - 2;
  if (sp < 1 || sp > 3)
    return c.fail("only 1-D, 2-D and 3-D convolutions are supported, got " + Twine(sp) +
                  " spatial dimensions");
  if (wt.getRank() != in.getRank())
    return c.fail("the weight has rank " + Twine(wt.getRank()) + ", expected " +
                  Twine(in.getRank()));
  SmallVector<int64_t> kernel(wt.getShape().begin() + 2, wt.getShape().end());
  if (c.hasAttr("kernel_shape") && c.intsAttr("kernel_shape") != kernel)
    return c.fail("attribute 'kernel_shape' = " + joinInts(c.intsAttr("kernel_shape")) +
                  " does not match the weight's spatial dimensions " + joinInts(kernel));
  int64_t group = c.intAttr("group", 1);
  int64_t ch = in.getDimSize(1), f = wt.getDimSize(0);
  if (group < 1 || ch % group != 0 || f % group != 0 || wt.getDimSize(1) * group != ch)
    return c.fail("attribute 'group' = " + Twine(group) + " does not divide " + Twine(ch) +
                  " input channels (weight has " + Twine(wt.getDimSize(1)) + " per group) and " +
                  Twine(f) + " output channels");
  OpBuilder &b = c.rewriter;
  Location loc = c.loc;
  Type i32 = b.getI32Type();
  auto rt = RankedTensorType::get(outShape, i32);
  if (rt.getRank() != in.getRank() || outShape[0] != in.getDimSize(0) || outShape[1] != f)
    return c.fail("the result shape " + joinInts(outShape) + " does not match the operands");
  auto win = readSlidingWindow(c, in, kernel, rt, /*ceilMode=*/false);
  if (failed(win))
    return failure();
  auto x = widenMinusZeroPoint(c, xIdx, xZpIdx, -1, "the zero point of x");
  if (failed(x))
    return failure();
  auto w = widenMinusZeroPoint(c, wIdx, wZpIdx, 0, "the zero point of w");
  if (failed(w))
    return failure();
  SmallVector<int64_t> lo = {0, 0}, hi = {0, 0};
  lo.append(win->padLo);
  hi.append(win->padHi);
  Value zero = scalarConstant(b, loc, i32, 0);
  Value xp = padStatic(b, loc, *x, lo, hi, zero);
  Value init;
  if (biasIdx >= 0 && c.hasInput(biasIdx)) {
    RankedTensorType bt = c.inputType(biasIdx);
    if (!bt || bt.getRank() != 1 || bt.getDimSize(0) != f || !bt.getElementType().isInteger(32))
      return c.fail("the bias must be a 1-D int32 tensor with one entry per output channel");
    SmallVector<int64_t> dims = {0};
    for (int64_t i = 2; i < rt.getRank(); ++i)
      dims.push_back(i);
    init = linalg::BroadcastOp::create(b, loc, c.input(biasIdx), createEmpty(b, loc, rt), dims)
               .getResult()[0];
  } else {
    init = createFilled(b, loc, rt, zero);
  }
  return emitIntConvolution(b, loc, xp, *w, init, win->strides, win->dilations, group);
}

//===----------------------------------------------------------------------===//
// Requantization
//===----------------------------------------------------------------------===//

/// saturate(round_half_even(f32(acc) * (sa * sb / sy)) + zy) into the result type of `c`;
/// `ins` = {acc, sa, sb, sy, zy?}, each broadcastable to the result.
FailureOr<Value> requantize(NodeContext &c, ValueRange ins, bool zyUnsigned) {
  RankedTensorType rt = c.rankedResultType(0);
  auto qt = dyn_cast<IntegerType>(rt.getElementType());
  if (!qt || qt.getWidth() != 8)
    return c.fail("the result must be int8 or uint8");
  bool u = c.onnxResultElementType(0).isUnsignedInteger();
  if (ins.size() > 4 && zyUnsigned != u)
    return c.fail("the zero point of y must have the element type of y");
  for (unsigned i = 1; i < 4; ++i)
    if (!cast<ShapedType>(ins[i].getType()).getElementType().isF32())
      return c.fail("the scales must be float32");
  double lo = u ? 0.0 : -128.0, hi = u ? 255.0 : 127.0;
  return buildElementwise(
      c.rewriter, c.loc, ins, rt, [&](OpBuilder &b, Location l, ValueRange a) -> Value {
        Type f32 = b.getF32Type();
        Value mult = arith::DivFOp::create(b, l, arith::MulFOp::create(b, l, a[1], a[2]), a[3]);
        Value acc = arith::SIToFPOp::create(b, l, f32, a[0]);
        Value q = math::RoundEvenOp::create(b, l, arith::MulFOp::create(b, l, acc, mult));
        if (a.size() > 4)
          q = arith::AddFOp::create(b, l, q, castScalar(b, l, a[4], f32, u, false));
        q = arith::MaximumFOp::create(b, l, q, scalarConstant(b, l, f32, lo));
        q = arith::MinimumFOp::create(b, l, q, scalarConstant(b, l, f32, hi));
        return castScalar(b, l, q, qt, false, u);
      });
}

//===----------------------------------------------------------------------===//
// Handlers
//===----------------------------------------------------------------------===//

LogicalResult lowerConvInteger(NodeContext &c) {
  RankedTensorType rt = c.rankedResultType(0);
  if (failed(requireStaticShape(c, rt, "the result")))
    return failure();
  if (!rt.getElementType().isInteger(32))
    return c.fail("the result must be int32");
  auto acc = convAccumulator(c, 0, 2, 1, 3, -1, rt.getShape());
  if (failed(acc))
    return failure();
  return c.replace(*acc);
}

/// QLinearConv: x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale, y_zero_point, B.
LogicalResult lowerQLinearConv(NodeContext &c) {
  RankedTensorType rt = c.rankedResultType(0);
  if (failed(requireStaticShape(c, rt, "the result")))
    return failure();
  auto acc = convAccumulator(c, 0, 2, 3, 5, 8, rt.getShape());
  if (failed(acc))
    return failure();
  int64_t rank = rt.getRank(), f = rt.getDimSize(1);
  auto sx = alongDim(c, 1, rank, -1, 0, "x_scale");
  if (failed(sx))
    return failure();
  auto sw = alongDim(c, 4, rank, 1, f, "w_scale");
  if (failed(sw))
    return failure();
  auto sy = alongDim(c, 6, rank, -1, 0, "y_scale");
  if (failed(sy))
    return failure();
  SmallVector<Value> ins = {*acc, *sx, *sw, *sy};
  if (c.hasInput(7)) {
    auto zy = alongDim(c, 7, rank, -1, 0, "y_zero_point");
    if (failed(zy))
      return failure();
    ins.push_back(*zy);
  }
  auto y = requantize(c, ins, c.hasInput(7) && c.isUnsignedInput(7));
  if (failed(y))
    return failure();
  return c.replace(*y);
}

/// QLinearMatMul: a, a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale, y_zero_point.
LogicalResult lowerQLinearMatMul(NodeContext &c) {
  RankedTensorType rt = c.rankedResultType(0);
  if (failed(requireStaticShape(c, rt, "the result")) || failed(require8Bit(c, 0, "input a")) ||
      failed(require8Bit(c, 3, "input b")))
    return failure();
  RankedTensorType at = c.inputType(0), bt = c.inputType(3);
  if (at.getRank() < 2 || bt.getRank() < 2 || rt.getRank() < 2)
    return c.fail("QLinearMatMul operands must have rank >= 2");
  int64_t rowDimA = at.getRank() - 2, colDimB = bt.getRank() - 1;
  auto a = widenMinusZeroPoint(c, 0, 2, rowDimA, "a_zero_point");
  if (failed(a))
    return failure();
  auto bv = widenMinusZeroPoint(c, 3, 5, colDimB, "b_zero_point");
  if (failed(bv))
    return failure();
  auto acc = emitMatMul(c, *a, *bv, RankedTensorType::get(rt.getShape(),
                                                              c.rewriter.getI32Type()));
  if (failed(acc))
    return failure();
  // Per-row scales of A and y lie along the result's row dimension, B's along its columns.
  int64_t rank = rt.getRank(), m = rt.getDimSize(rank - 2), n = rt.getDimSize(rank - 1);
  auto sa = alongDim(c, 1, rank, rank - 2, m, "a_scale");
  if (failed(sa))
    return failure();
  auto sb = alongDim(c, 4, rank, rank - 1, n, "b_scale");
  if (failed(sb))
    return failure();
  auto sy = alongDim(c, 6, rank, rank - 2, m, "y_scale");
  if (failed(sy))
    return failure();
  SmallVector<Value> ins = {*acc, *sa, *sb, *sy};
  if (c.hasInput(7)) {
    auto zy = alongDim(c, 7, rank, rank - 2, m, "y_zero_point");
    if (failed(zy))
      return failure();
    ins.push_back(*zy);
  }
  auto y = requantize(c, ins, c.hasInput(7) && c.isUnsignedInput(7));
  if (failed(y))
    return failure();
  return c.replace(*y);
}

} // namespace

void registerIntegerLinearOps(OnnxHandlerTable &t) {
  t.add("ConvInteger", 10, lowerConvInteger);
  t.add("QLinearConv", 10, lowerQLinearConv);
  t.add("QLinearMatMul", 10, lowerQLinearMatMul);
}

} // namespace sparq::onnx
