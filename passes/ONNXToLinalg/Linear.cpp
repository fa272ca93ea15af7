//===- passes/ONNXToLinalg/Linear.cpp - contractions and convolutions ---------===//
//
// MatMul, MatMulInteger, Gemm, Conv and ConvTranspose. Contractions become linalg.matmul (a
// 2-D weight: the activation's batch dims are folded into M) or linalg.batch_matmul (broadcast
// batch dims materialized); Gemm's transposed operands are indexing maps of linalg.matmul.
// Convolutions become the NC... linalg named ops (conv_{1,2,3}d_nc*_fc*, depthwise_conv_*_nc*,
// conv_2d_ngchw_gfchw for groups) on a tensor.pad'ed input, accumulating into the broadcast
// bias. ConvTranspose is the equivalent direct convolution: the input scattered with a stride
// into a zero buffer (tensor.insert_slice), convolved with the flipped, channel-swapped weight.
// Conv and ConvTranspose (group 1) also take dynamic shapes (ConvTranspose then as a gather).
//
//===----------------------------------------------------------------------===//
#include "passes/ONNXToLinalg/ONNXToLinalg.h"

#include "mlir/Dialect/Utils/StaticValueUtils.h"

#include <cmath>

using namespace mlir;

namespace sparq::onnx {
namespace {

bool isFloat(Type t) { return isa<FloatType>(t); }

Value zeroOf(OpBuilder &b, Location l, Type t) { return scalarConstant(b, l, t, 0.0); }

Value identityBody(OpBuilder &, Location, ValueRange a) { return a[0]; }

/// Materializes the numpy broadcast of `v` to `shape`.
Value broadcastTo(OpBuilder &b, Location loc, Value v, ArrayRef<int64_t> shape) {
  auto t = cast<RankedTensorType>(v.getType());
  if (t.getShape() == shape)
    return v;
  return buildElementwise(b, loc, {v}, RankedTensorType::get(shape, t.getElementType()),
                          identityBody);
}

//===----------------------------------------------------------------------===//
// MatMul / MatMulInteger / Gemm
//===----------------------------------------------------------------------===//


/// [d0, ..., M, K] x [K, N] where the rows (d0 ... M) of A may be dynamic and K, N and B are
/// static: one contraction whose row count is read at run time (the micro-kernels take M as a
/// run-time size, so one artifact serves every batch and sequence length). Null when the
/// operands are not of that form.
FailureOr<Value> emitDynamicRowsMatMul(NodeContext &c, Value lhs, Value rhs, RankedTensorType rt) {
  OpBuilder &b = c.rewriter;
  Location loc = c.loc;
  auto at = cast<RankedTensorType>(lhs.getType()), bt = cast<RankedTensorType>(rhs.getType());
  int64_t r = at.getRank();
  if (r < 2 || bt.getRank() != 2 || !isa<FloatType>(rt.getElementType()) || !bt.hasStaticShape() || at.isDynamicDim(r - 1) ||
      at.getDimSize(r - 1) != bt.getDimSize(0) || rt.getRank() != r ||
      rt.isDynamicDim(r - 1) || rt.getDimSize(r - 1) != bt.getDimSize(1))
    return Value();
  for (int64_t d = 0; d + 1 < r; ++d)
    if (!at.isDynamicDim(d) && !rt.isDynamicDim(d) && at.getDimSize(d) != rt.getDimSize(d))
      return Value();
  int64_t n = bt.getDimSize(1);
  Type et = rt.getElementType();
  // The result keeps A's row dims; no reshape (a collapse of several dynamic dims would need
  // run-time strides downstream). The contraction is a generic over (rows..., n, k), which the
  // micro-kernel selection recognises like a linalg.matmul.
  SmallVector<Value> dynSizes;
  SmallVector<int64_t> shape;
  for (int64_t d = 0; d + 1 < r; ++d) {
    shape.push_back(at.getDimSize(d));
    if (at.isDynamicDim(d))
      dynSizes.push_back(tensor::DimOp::create(b, loc, lhs, d));
  }
  shape.push_back(n);
  auto outType = RankedTensorType::get(shape, et);
  Value init = createFilled(b, loc, outType, zeroOf(b, loc, et), dynSizes);
  MLIRContext *ctx = b.getContext();
  SmallVector<AffineExpr> rowsE, aE, bE, cE;
  for (int64_t d = 0; d + 1 < r; ++d)
    rowsE.push_back(getAffineDimExpr(d, ctx));
  AffineExpr nE = getAffineDimExpr(r - 1, ctx), kE = getAffineDimExpr(r, ctx);
  aE = rowsE;
  aE.push_back(kE);
  cE = rowsE;
  cE.push_back(nE);
  bE = {kE, nE};
  SmallVector<AffineMap> maps{AffineMap::get(r + 1, 0, aE, ctx), AffineMap::get(r + 1, 0, bE, ctx),
                              AffineMap::get(r + 1, 0, cE, ctx)};
  SmallVector<utils::IteratorType> iters(r, utils::IteratorType::parallel);
  iters.push_back(utils::IteratorType::reduction);
  Value y = linalg::GenericOp::create(
                b, loc, TypeRange{outType}, ValueRange{lhs, rhs}, ValueRange{init}, maps, iters,
                [&](OpBuilder &nb, Location l, ValueRange args) {
                  Value p = arith::MulFOp::create(nb, l, args[0], args[1]);
                  linalg::YieldOp::create(nb, l, ValueRange{arith::AddFOp::create(nb, l, args[2], p)});
                })
                .getResult(0);
  return castTo(b, loc, y, rt);
}

LogicalResult lowerMatMul(NodeContext &c) {
  auto rt = c.rankedResultType(0);
  // B dequantized from an integer initializer: run from its codes.
  auto quantized = emitDequantizedWeightMatMul(c);
  if (failed(quantized))
    return failure();
  if (*quantized)
    return c.replace(*quantized);
  if (c.inputType(0) && c.inputType(1) && !c.inputType(0).hasStaticShape()) {
    auto r = emitDynamicRowsMatMul(c, c.input(0), c.input(1), rt);
    if (failed(r))
      return failure();
    if (*r)
      return c.replace(*r);
  }
  if (failed(requireRanked(c, 0, "input A")) || failed(requireRanked(c, 1, "input B")))
    return failure();
  auto r = emitMatMul(c, c.input(0), c.input(1), rt);
  if (failed(r))
    return failure();
  return c.replace(*r);
}

} // namespace

FailureOr<Value> zeroPointOperand(NodeContext &c, unsigned xIdx, unsigned zpIdx,
                                  bool rowZeroPoint) {
  if (!c.hasInput(zpIdx))
    return Value();
  OpBuilder &b = c.rewriter;
  auto xt = c.inputType(xIdx);
  auto zt = c.inputType(zpIdx);
  if (failed(requireStaticShape(c, zt, "the zero point of input " + Twine(xIdx))))
    return failure();
  Value zp = c.input(zpIdx);
  int64_t count = zt.getNumElements();
  if (zt.getRank() > 1 && count != 1)
    return c.fail("a " + Twine(zt.getRank()) + "-D zero point of input " + Twine(xIdx) +
                  " is not supported (only scalar or 1-D)");
  if (count == 1)
    return reshapeStatic(b, c.loc, zp, {});
  if (rowZeroPoint) {
    if (xt.getRank() < 2 || count != xt.getDimSize(xt.getRank() - 2))
      return c.fail("the zero point of input A has " + Twine(count) +
                    " entries, expected one per row of A");
    return reshapeStatic(b, c.loc, zp, {count, 1});
  }
  if (count != xt.getDimSize(xt.getRank() - 1))
    return c.fail("the zero point of input B has " + Twine(count) +
                  " entries, expected one per column of B");
  return zp;
}

/// ext(x) - ext(zeroPoint) of input `xIdx` and its zero point `zpIdx` (absent: 0) in i32.
static FailureOr<Value> subtractZeroPoint(NodeContext &c, unsigned xIdx, unsigned zpIdx,
                                          bool rowZeroPoint) {
  OpBuilder &b = c.rewriter;
  Location loc = c.loc;
  auto xt = c.inputType(xIdx);
  Type et = b.getI32Type();
  bool isUnsigned = c.isUnsignedInput(xIdx);
  auto outType = RankedTensorType::get(xt.getShape(), et);
  SmallVector<Value> ins = {c.input(xIdx)};
  auto zp = zeroPointOperand(c, xIdx, zpIdx, rowZeroPoint);
  if (failed(zp))
    return failure();
  if (*zp)
    ins.push_back(*zp);
  return buildElementwise(b, loc, ins, outType,
                          [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
    Value v = castScalar(nb, nl, a[0], et, isUnsigned, false);
    if (a.size() == 1)
      return v;
    Value z = castScalar(nb, nl, a[1], et, isUnsigned, false);
    return arith::SubIOp::create(nb, nl, v, z).getResult();
  });
}

namespace {

LogicalResult lowerMatMulInteger(NodeContext &c) {
  auto rt = c.rankedResultType(0);
  if (failed(requireRanked(c, 0, "input A")) || failed(requireRanked(c, 1, "input B")))
    return failure();
  if (!rt.getElementType().isInteger(32))
    return c.fail("the result must be int32");
  // A constant B: in float from its codes where that is exact.
  auto exact = emitConstantWeightMatMulInteger(c);
  if (failed(exact))
    return failure();
  if (*exact)
    return c.replace(*exact);
  auto a = subtractZeroPoint(c, 0, 2, /*rowZeroPoint=*/true);
  if (failed(a))
    return failure();
  auto bv = subtractZeroPoint(c, 1, 3, /*rowZeroPoint=*/false);
  if (failed(bv))
    return failure();
  auto r = emitMatMul(c, *a, *bv, rt);
  if (failed(r))
    return failure();
  return c.replace(*r);
}

LogicalResult lowerGemm(NodeContext &c) {
  auto at = c.inputType(0), bt = c.inputType(1);
  auto rt = c.rankedResultType(0);
  if (failed(requireRanked(c, 0, "input A")) || failed(requireRanked(c, 1, "input B")))
    return failure();
  bool dynamic = !at.hasStaticShape() || !bt.hasStaticShape() || !rt.hasStaticShape();
  if (at.getRank() != 2 || bt.getRank() != 2)
    return c.fail("A and B must be matrices, got ranks " + Twine(at.getRank()) + " and " +
                  Twine(bt.getRank()));
  OpBuilder &b = c.rewriter;
  Location loc = c.loc;
  MLIRContext *ctx = b.getContext();
  Type et = rt.getElementType();
  bool transA = c.intAttr("transA", 0) != 0, transB = c.intAttr("transB", 0) != 0;
  double alpha = c.floatAttr("alpha", 1.0f), beta = c.floatAttr("beta", 1.0f);
  int64_t m = at.getDimSize(transA ? 1 : 0), k = at.getDimSize(transA ? 0 : 1);
  int64_t kb = bt.getDimSize(transB ? 1 : 0), n = bt.getDimSize(transB ? 0 : 1);
  if (k != kb && !ShapedType::isDynamic(k) && !ShapedType::isDynamic(kb))
    return c.fail("the contraction sizes of A (" + Twine(k) + ") and B (" + Twine(kb) +
                  ") differ");
  if (failed(verifyCompatibleShape(rt.getShape(), ArrayRef<int64_t>{m, n})))
    return c.fail("the result type does not match the Gemm shape");
  if (!isFloat(et)) {
    if (alpha != std::round(alpha))
      return c.fail("attribute 'alpha' = " + std::to_string(alpha) +
                    " is not supported for an integer Gemm");
    if (beta != std::round(beta))
      return c.fail("attribute 'beta' = " + std::to_string(beta) +
                    " is not supported for an integer Gemm");
  }
  bool hasC = c.hasInput(2) && beta != 0.0;
  if (hasC && failed(requireRanked(c, 2, "input C")))
    return failure();
  if (hasC && c.inputType(2).hasStaticShape() && !dynamic &&
      failed(broadcastShapes({SmallVector<int64_t>(c.inputType(2).getShape()),
                              SmallVector<int64_t>{m, n}})))
    return c.fail("input C does not broadcast to the result shape");

  auto mulBy = [&](OpBuilder &nb, Location nl, Value v, double s) -> Value {
    if (s == 1.0)
      return v;
    Value sv = scalarConstant(nb, nl, et, s);
    if (isFloat(et))
      return arith::MulFOp::create(nb, nl, v, sv);
    return arith::MulIOp::create(nb, nl, v, sv);
  };
  auto add = [&](OpBuilder &nb, Location nl, Value x, Value y) -> Value {
    if (isFloat(et))
      return arith::AddFOp::create(nb, nl, x, y);
    return arith::AddIOp::create(nb, nl, x, y);
  };

  // The accumulator: beta * C broadcast when alpha == 1 (the matmul adds into it), else zero.
  // With dynamic sizes the result takes M from A and N from B, and C is added after the
  // matmul (its dims are matched to the result's at run time).
  Value init;
  if (hasC && alpha == 1.0 && !dynamic)
    init = buildElementwise(b, loc, {c.input(2)}, rt,
                            [&](OpBuilder &nb, Location nl, ValueRange a) {
                              return mulBy(nb, nl, a[0], beta);
                            });
  else
    init = createFilled(b, loc, rt, zeroOf(b, loc, et), dynamicSizes(rt, [&](int64_t i) {
                          return i == 0 ? dimValue(b, loc, c.input(0), transA ? 1 : 0)
                                        : dimValue(b, loc, c.input(1), transB ? 0 : 1);
                        }));

  SmallVector<NamedAttribute> attrs;
  if (transA || transB) {
    AffineExpr dm = getAffineDimExpr(0, ctx), dn = getAffineDimExpr(1, ctx),
               dk = getAffineDimExpr(2, ctx);
    SmallVector<AffineExpr> aExprs = transA ? SmallVector<AffineExpr>{dk, dm}
                                            : SmallVector<AffineExpr>{dm, dk};
    SmallVector<AffineExpr> bExprs = transB ? SmallVector<AffineExpr>{dn, dk}
                                            : SmallVector<AffineExpr>{dk, dn};
    SmallVector<Attribute> maps = {AffineMapAttr::get(AffineMap::get(3, 0, aExprs, ctx)),
                                   AffineMapAttr::get(AffineMap::get(3, 0, bExprs, ctx)),
                                   AffineMapAttr::get(AffineMap::get(3, 0, {dm, dn}, ctx))};
    attrs.push_back(b.getNamedAttr("indexing_maps", b.getArrayAttr(maps)));
  }
  Value y = linalg::MatmulOp::create(b, loc, TypeRange{rt}, ValueRange{c.input(0), c.input(1)},
                                     ValueRange{init}, attrs)
                .getResult(0);
  if (alpha == 1.0 && (!hasC || !dynamic))
    return c.replace(y);
  SmallVector<Value> ins = {y};
  if (hasC && dynamic && !c.inputType(2).hasStaticShape())
    ins.push_back(broadcastAtRunTime(b, loc, c.input(2), rt, dynamicSizes(rt, [&](int64_t i) {
                                       return dimValue(b, loc, y, i);
                                     })));
  else if (hasC)
    ins.push_back(c.input(2));
  return c.replace(buildElementwise(b, loc, ins, rt, [&](OpBuilder &nb, Location nl, ValueRange a) {
    Value v = mulBy(nb, nl, a[0], alpha);
    if (a.size() > 1)
      v = add(nb, nl, v, mulBy(nb, nl, a[1], beta));
    return v;
  }));
}

//===----------------------------------------------------------------------===//
// Conv / ConvTranspose
//===----------------------------------------------------------------------===//

/// `init` ([N, F, out...]) filled with bias[f] when there is a bias, else zero.
Value convInit(OpBuilder &b, Location loc, RankedTensorType rt, Value bias,
               ValueRange dynSizes = {}) {
  Type et = rt.getElementType();
  if (!bias)
    return createFilled(b, loc, rt, zeroOf(b, loc, et), dynSizes);
  SmallVector<int64_t> dims = {0};
  for (int64_t i = 2; i < rt.getRank(); ++i)
    dims.push_back(i);
  return linalg::BroadcastOp::create(b, loc, bias, createEmpty(b, loc, rt, dynSizes), dims)
      .getResult()[0];
}

/// A grouped convolution as a linalg.generic over [N, G, C/G, in...] x [G, F/G, C/G, k...] ->
/// [N, G, F/G, out...] (for spatial ranks without a grouped named op).
Value groupedConvGeneric(OpBuilder &b, Location loc, Value x5, Value w5, Value init5,
                         ArrayRef<int64_t> strides, ArrayRef<int64_t> dilations) {
  auto outType = cast<RankedTensorType>(init5.getType());
  int64_t sp = outType.getRank() - 3;
  MLIRContext *ctx = b.getContext();
  // Loops: n, g, f, out[sp], c, k[sp].
  int64_t nLoops = 4 + 2 * sp;
  auto d = [&](int64_t i) { return getAffineDimExpr(i, ctx); };
  AffineExpr n = d(0), g = d(1), f = d(2), ch = d(3 + sp);
  SmallVector<AffineExpr> xE = {n, g, ch}, wE = {g, f, ch}, oE = {n, g, f};
  for (int64_t i = 0; i < sp; ++i) {
    AffineExpr o = d(3 + i), k = d(4 + sp + i);
    xE.push_back(o * strides[i] + k * dilations[i]);
    wE.push_back(k);
    oE.push_back(o);
  }
  SmallVector<AffineMap> maps = {AffineMap::get(nLoops, 0, xE, ctx),
                                 AffineMap::get(nLoops, 0, wE, ctx),
                                 AffineMap::get(nLoops, 0, oE, ctx)};
  SmallVector<utils::IteratorType> iters(nLoops, utils::IteratorType::parallel);
  for (int64_t i = 3 + sp; i < nLoops; ++i)
    iters[i] = utils::IteratorType::reduction;
  return linalg::GenericOp::create(
             b, loc, outType, ValueRange{x5, w5}, ValueRange{init5}, maps, iters,
             [](OpBuilder &nb, Location nl, ValueRange a) {
               Value p = arith::MulFOp::create(nb, nl, a[0], a[1]);
               linalg::YieldOp::create(nb, nl, arith::AddFOp::create(nb, nl, a[2], p).getResult());
             })
      .getResult(0);
}

/// Convolution of the already padded `x` [N, C, in...] with `w` [F, C/group, k...] accumulating
/// into `init` [N, F, out...].
Value emitConvolution(OpBuilder &b, Location loc, Value x, Value w, Value init,
                      ArrayRef<int64_t> strides, ArrayRef<int64_t> dilations, int64_t group) {
  auto xt = cast<RankedTensorType>(x.getType()), wt = cast<RankedTensorType>(w.getType());
  auto rt = cast<RankedTensorType>(init.getType());
  int64_t sp = xt.getRank() - 2;
  int64_t ch = xt.getDimSize(1), f = wt.getDimSize(0);
  if (sp == 1 && xt.hasStaticShape() && wt.hasStaticShape() && rt.hasStaticShape()) {
    // A 1-D convolution is a 2-D one of height 1, so that it reaches the 2-D kernels
    // (MicroKernels.cpp) instead of a generic loop nest.
    auto tall = [&](Value v) {
      auto t = cast<RankedTensorType>(v.getType());
      return reshapeStatic(b, loc, v, {t.getDimSize(0), t.getDimSize(1), 1, t.getDimSize(2)});
    };
    Value y = emitConvolution(b, loc, tall(x), tall(w), tall(init), {1, strides[0]},
                              {1, dilations[0]}, group);
    return reshapeStatic(b, loc, y, rt.getShape());
  }
  auto stridesAttr = b.getI64TensorAttr(strides);
  auto dilationsAttr = b.getI64TensorAttr(dilations);
  TypeRange resTy(rt);
  if (group == 1) {
    if (sp == 1)
      return linalg::Conv1DNcwFcwOp::create(b, loc, resTy, ValueRange{x, w}, ValueRange{init},
                                            stridesAttr, dilationsAttr)
          .getResult(0);
    if (sp == 2)
      return linalg::Conv2DNchwFchwOp::create(b, loc, resTy, ValueRange{x, w}, ValueRange{init},
                                              stridesAttr, dilationsAttr)
          .getResult(0);
    return linalg::Conv3DNcdhwFcdhwOp::create(b, loc, resTy, ValueRange{x, w}, ValueRange{init},
                                              stridesAttr, dilationsAttr)
        .getResult(0);
  }
  if (group == ch && f == ch) {
    // Depthwise: weight [C, 1, k...] -> [C, k...].
    SmallVector<int64_t> wShape = {ch};
    wShape.append(wt.getShape().begin() + 2, wt.getShape().end());
    Value w2 = reshapeStatic(b, loc, w, wShape);
    if (sp == 1)
      return linalg::DepthwiseConv1DNcwCwOp::create(b, loc, resTy, ValueRange{x, w2},
                                                    ValueRange{init}, stridesAttr, dilationsAttr)
          .getResult(0);
    if (sp == 2)
      return linalg::DepthwiseConv2DNchwChwOp::create(b, loc, resTy, ValueRange{x, w2},
                                                      ValueRange{init}, stridesAttr,
                                                      dilationsAttr)
          .getResult(0);
    return linalg::DepthwiseConv3DNcdhwCdhwOp::create(b, loc, resTy, ValueRange{x, w2},
                                                      ValueRange{init}, stridesAttr,
                                                      dilationsAttr)
        .getResult(0);
  }
  // Grouped: split the channel dims into [G, C/G] and [G, F/G].
  auto split = [&](RankedTensorType t, int64_t dim1) {
    SmallVector<int64_t> s = {t.getDimSize(0), group, dim1 / group};
    s.append(t.getShape().begin() + 2, t.getShape().end());
    return s;
  };
  SmallVector<int64_t> x5 = split(xt, ch), o5 = split(rt, f);
  SmallVector<int64_t> w5 = {group, f / group};
  w5.append(wt.getShape().begin() + 1, wt.getShape().end());
  if (sp == 1) {
    // Through the 2-D named op with a unit height.
    auto insertUnit = [](SmallVector<int64_t> s) {
      s.insert(s.begin() + 3, 1);
      return s;
    };
    x5 = insertUnit(x5);
    o5 = insertUnit(o5);
    w5 = insertUnit(w5);
  }
  Value xg = reshapeStatic(b, loc, x, x5), wg = reshapeStatic(b, loc, w, w5),
        ig = reshapeStatic(b, loc, init, o5);
  Value og;
  if (sp <= 2) {
    SmallVector<int64_t> s(strides), d(dilations);
    if (sp == 1) {
      s.insert(s.begin(), 1);
      d.insert(d.begin(), 1);
    }
    og = linalg::Conv2DNgchwGfchwOp::create(b, loc, TypeRange{ig.getType()}, ValueRange{xg, wg},
                                            ValueRange{ig}, b.getI64TensorAttr(s),
                                            b.getI64TensorAttr(d))
             .getResult(0);
  } else {
    og = groupedConvGeneric(b, loc, xg, wg, ig, strides, dilations);
  }
  return reshapeStatic(b, loc, og, rt.getShape());
}

/// Common checks of Conv / ConvTranspose operands; returns the spatial rank.
FailureOr<int64_t> checkConvOperands(NodeContext &c) {
  auto in = c.inputType(0), wt = c.inputType(1);
  auto rt = c.rankedResultType(0);
  if (failed(requireRanked(c, 0, "the input")) || failed(requireRanked(c, 1, "the weight")))
    return failure();
  if (!isFloat(rt.getElementType()))
    return c.fail("only floating-point element types are supported");
  int64_t sp = in.getRank() - 2;
  if (sp < 1 || sp > 3)
    return c.fail("only 1-D, 2-D and 3-D convolutions are supported, got " + Twine(sp) +
                  " spatial dimensions");
  if (wt.getRank() != in.getRank())
    return c.fail("the weight has rank " + Twine(wt.getRank()) + ", expected " +
                  Twine(in.getRank()));
  SmallVector<int64_t> kernel(wt.getShape().begin() + 2, wt.getShape().end());
  if (c.hasAttr("kernel_shape") && failed(verifyCompatibleShape(c.intsAttr("kernel_shape"), kernel)))
    return c.fail("attribute 'kernel_shape' does not match the weight's spatial dimensions");
  int64_t group = c.intAttr("group", 1);
  if (group < 1)
    return c.fail("attribute 'group' = " + Twine(group) + " must be positive");
  if (c.hasInput(2)) {
    auto bt = c.inputType(2);
    if (!bt || bt.getRank() != 1 ||
        failed(verifyCompatibleShape({bt.getDimSize(0)}, {rt.getDimSize(1)})))
      return c.fail("the bias must be 1-D with one entry per output channel");
  }
  return sp;
}

/// Conv over dynamic sizes: the window from readDynamicWindow (the kernel from 'kernel_shape'
/// or the weight's run-time dims), the input padded by run-time amounts, the named convolution
/// into a result of run-time size. A grouped (or depthwise) convolution needs a static weight,
/// which fixes the channel count.
LogicalResult lowerConvDynamic(NodeContext &c, int64_t sp) {
  auto in = c.inputType(0), wt = c.inputType(1);
  auto rt = c.rankedResultType(0);
  int64_t group = c.intAttr("group", 1);
  if (group != 1 && !wt.hasStaticShape())
    return c.fail("a grouped convolution (group = " + Twine(group) +
                  ") needs a static weight (pin input shapes with --input-shape)");
  OpBuilder &b = c.rewriter;
  Location loc = c.loc;
  Type et = rt.getElementType();
  Value input = c.input(0);
  if (group != 1) {
    // The weight fixes the channels; the input's (dynamic) channel dim must match at run time.
    int64_t ch = wt.getDimSize(1) * group, f = wt.getDimSize(0);
    if ((!in.isDynamicDim(1) && in.getDimSize(1) != ch) || f % group != 0)
      return c.fail("attribute 'group' = " + Twine(group) + " does not divide the " +
                    Twine(f) + " output channels or match the weight's " +
                    Twine(wt.getDimSize(1)) + " input channels per group");
    SmallVector<int64_t> shape(in.getShape());
    shape[1] = ch;
    input = castTo(b, loc, input, RankedTensorType::get(shape, in.getElementType()));
  }
  SmallVector<int64_t> attrKernel = c.intsAttr("kernel_shape");
  SmallVector<OpFoldResult> kernel;
  for (int64_t i = 0; i < sp; ++i)
    kernel.push_back(!wt.isDynamicDim(2 + i) || attrKernel.size() != size_t(sp)
                         ? dimOf(b, loc, c.input(1), 2 + i)
                         : OpFoldResult(b.getIndexAttr(attrKernel[i])));
  auto win = readDynamicWindow(c, c.input(0), kernel, /*ceilMode=*/false);
  if (failed(win))
    return failure();
  SmallVector<OpFoldResult> lo = {b.getIndexAttr(0), b.getIndexAttr(0)}, hi = lo;
  SmallVector<int64_t> shape = {in.getDimSize(0), wt.getDimSize(0)};
  SmallVector<Value> dynSizes;
  if (in.isDynamicDim(0))
    dynSizes.push_back(dimValue(b, loc, c.input(0), 0));
  if (wt.isDynamicDim(0))
    dynSizes.push_back(dimValue(b, loc, c.input(1), 0));
  for (int64_t i = 0; i < sp; ++i) {
    lo.push_back(win->padLo[i]);
    hi.push_back(win->padHi[i]);
    shape.push_back(ShapedType::kDynamic);
    dynSizes.push_back(win->out[i]);
  }
  Value x = padDynamic(b, loc, input, lo, hi, zeroOf(b, loc, et));
  auto outType = RankedTensorType::get(shape, et);
  Value init = convInit(b, loc, outType, c.hasInput(2) ? c.input(2) : Value(), dynSizes);
  Value r = emitConvolution(b, loc, x, c.input(1), init, win->strides, win->dilations, group);
  return c.replace(castTo(b, loc, r, rt));
}

LogicalResult lowerConv(NodeContext &c) {
  auto sp = checkConvOperands(c);
  if (failed(sp))
    return failure();
  auto in = c.inputType(0), wt = c.inputType(1);
  auto rt = c.rankedResultType(0);
  if (!in.hasStaticShape() || !wt.hasStaticShape() || !rt.hasStaticShape())
    return lowerConvDynamic(c, *sp);
  int64_t group = c.intAttr("group", 1);
  int64_t ch = in.getDimSize(1), f = wt.getDimSize(0);
  if (ch % group != 0 || f % group != 0 || wt.getDimSize(1) * group != ch)
    return c.fail("attribute 'group' = " + Twine(group) + " does not divide " + Twine(ch) +
                  " input channels (weight has " + Twine(wt.getDimSize(1)) + " per group) and " +
                  Twine(f) + " output channels");
  SmallVector<int64_t> kernel(wt.getShape().begin() + 2, wt.getShape().end());
  auto win = readSlidingWindow(c, in, kernel, rt, /*ceilMode=*/false);
  if (failed(win))
    return failure();
  // A weight dequantized from an integer initializer: run from its codes.
  auto quantized =
      emitDequantizedWeightConv(c, win->strides, win->dilations, win->padLo, win->padHi);
  if (failed(quantized))
    return failure();
  if (*quantized)
    return c.replace(*quantized);
  OpBuilder &b = c.rewriter;
  Location loc = c.loc;
  Type et = rt.getElementType();
  SmallVector<int64_t> lo = {0, 0}, hi = {0, 0};
  lo.append(win->padLo);
  hi.append(win->padHi);
  Value x = padStatic(b, loc, c.input(0), lo, hi, zeroOf(b, loc, et));
  Value init = convInit(b, loc, rt, c.hasInput(2) ? c.input(2) : Value());
  return c.replace(emitConvolution(b, loc, x, c.input(1), init, win->strides, win->dilations,
                                   group));
}

/// The attributes of a ConvTranspose over `n` spatial dims, checked.
struct ConvTransposeAttrs {
  SmallVector<int64_t> strides, dilations, pads, outPad, outShape;
  std::string autoPad;
  bool samePads;
};
FailureOr<ConvTransposeAttrs> readConvTransposeAttrs(const NodeContext &c, int64_t n) {
  ConvTransposeAttrs a;
  a.strides = c.intsAttr("strides", SmallVector<int64_t>(n, 1));
  a.dilations = c.intsAttr("dilations", SmallVector<int64_t>(n, 1));
  a.pads = c.intsAttr("pads", SmallVector<int64_t>(2 * n, 0));
  a.outPad = c.intsAttr("output_padding", SmallVector<int64_t>(n, 0));
  a.outShape = c.intsAttr("output_shape");
  if (a.outShape.size() == (size_t)n + 2)
    a.outShape.erase(a.outShape.begin(), a.outShape.begin() + 2);
  auto checkCount = [&](StringRef name, ArrayRef<int64_t> v, size_t want) -> LogicalResult {
    if (v.size() == want)
      return success();
    return c.fail("attribute '" + name + "' has " + Twine(v.size()) + " entries, expected " +
                  Twine(want));
  };
  if (failed(checkCount("strides", a.strides, n)) ||
      failed(checkCount("dilations", a.dilations, n)) ||
      failed(checkCount("pads", a.pads, 2 * n)) ||
      failed(checkCount("output_padding", a.outPad, n)) ||
      (c.hasAttr("output_shape") && failed(checkCount("output_shape", a.outShape, n))))
    return failure();
  for (int64_t i = 0; i < n; ++i)
    if (a.strides[i] < 1 || a.dilations[i] < 1)
      return c.fail("attributes 'strides' and 'dilations' must be positive");
  a.autoPad = c.stringAttr("auto_pad", "NOTSET");
  if (a.autoPad != "NOTSET" && a.autoPad != "SAME_UPPER" && a.autoPad != "SAME_LOWER" &&
      a.autoPad != "VALID")
    return c.fail("attribute 'auto_pad' = '" + a.autoPad + "' is not supported");
  a.samePads = a.autoPad == "SAME_UPPER" || a.autoPad == "SAME_LOWER";
  return a;
}

/// ConvTranspose (group 1) over dynamic sizes, as a gather: y[n, f, o] = bias[f] +
/// sum over c, k of x[n, c, i] * w[c, f, k] where o + padLo = i * stride + k * dilation, for the
/// i that are whole and inside the input. Pads and output sizes follow ONNX's shape equations at
/// run time (output_shape, auto_pad SAME, output_padding).
LogicalResult lowerConvTransposeDynamic(NodeContext &c, int64_t n) {
  auto in = c.inputType(0), wt = c.inputType(1);
  auto rt = c.rankedResultType(0);
  if (c.intAttr("group", 1) != 1)
    return c.fail("a grouped transposed convolution needs static shapes (pin input shapes with "
                  "--input-shape)");
  OpBuilder &b = c.rewriter;
  Location loc = c.loc;
  ScalarBuilder sb{b, loc};
  MLIRContext *ctx = b.getContext();
  Type et = rt.getElementType();
  auto attrs = readConvTransposeAttrs(c, n);
  if (failed(attrs))
    return failure();
  const SmallVector<int64_t> &strides = attrs->strides, &dilations = attrs->dilations,
                            &pads = attrs->pads, &outPad = attrs->outPad,
                            &outShape = attrs->outShape;
  const std::string &autoPad = attrs->autoPad;
  bool samePads = attrs->samePads;
  SmallVector<int64_t> attrKernel = c.intsAttr("kernel_shape");
  SmallVector<Value> padLo, outSizes, inSizes, kernel;
  for (int64_t i = 0; i < n; ++i) {
    Value size = dimValue(b, loc, c.input(0), 2 + i);
    Value k = wt.isDynamicDim(2 + i) && attrKernel.size() == (size_t)n
                  ? sb.cIdx(attrKernel[i])
                  : dimValue(b, loc, c.input(1), 2 + i);
    Value s = sb.cIdx(strides[i]);
    Value extent = sb.add(sb.mul(sb.sub(k, sb.cIdx(1)), sb.cIdx(dilations[i])), sb.cIdx(1));
    Value full = sb.add(sb.add(sb.mul(s, sb.sub(size, sb.cIdx(1))), sb.cIdx(outPad[i])), extent);
    Value lo = sb.cIdx(autoPad == "VALID" ? 0 : pads[i]);
    Value hi = sb.cIdx(autoPad == "VALID" ? 0 : pads[n + i]);
    if (!outShape.empty() || samePads) {
      Value target = outShape.empty() ? sb.mul(size, s) : sb.cIdx(outShape[i]);
      Value total = sb.sub(full, target);
      Value half = arith::FloorDivSIOp::create(b, loc, total, sb.cIdx(2));
      lo = autoPad == "SAME_UPPER" ? half : sb.sub(total, half);
      hi = sb.sub(total, lo);
    }
    padLo.push_back(lo);
    outSizes.push_back(sb.sub(sb.sub(full, lo), hi));
    inSizes.push_back(size);
    kernel.push_back(k);
  }
  // Result [N, F, out...]; F from the weight's dim 1.
  SmallVector<int64_t> shape = {in.getDimSize(0), wt.getDimSize(1)};
  SmallVector<Value> dynSizes;
  if (in.isDynamicDim(0))
    dynSizes.push_back(dimValue(b, loc, c.input(0), 0));
  if (wt.isDynamicDim(1))
    dynSizes.push_back(dimValue(b, loc, c.input(1), 1));
  for (int64_t i = 0; i < n; ++i) {
    shape.push_back(ShapedType::kDynamic);
    dynSizes.push_back(outSizes[i]);
  }
  auto outType = RankedTensorType::get(shape, et);
  Value init = convInit(b, loc, outType, c.hasInput(2) ? c.input(2) : Value(), dynSizes);
  // Loops (n, f, o..., c, k...): the weight read as w[c, f, k...], x gathered in the body.
  int64_t loops = 3 + 2 * n;
  auto d = [&](int64_t i) { return getAffineDimExpr(i, ctx); };
  SmallVector<AffineExpr> wE = {d(2 + n), d(1)}, oE = {d(0), d(1)};
  for (int64_t i = 0; i < n; ++i) {
    wE.push_back(d(3 + n + i));
    oE.push_back(d(2 + i));
  }
  SmallVector<AffineMap> maps = {AffineMap::get(loops, 0, wE, ctx),
                                 AffineMap::get(loops, 0, oE, ctx)};
  SmallVector<utils::IteratorType> iters(loops, utils::IteratorType::parallel);
  for (int64_t i = 2 + n; i < loops; ++i)
    iters[i] = utils::IteratorType::reduction;
  Value x = c.input(0);
  Value y = linalg::GenericOp::create(
                b, loc, TypeRange{outType}, ValueRange{c.input(1)}, ValueRange{init}, maps, iters,
                [&](OpBuilder &nb, Location nl, ValueRange a) {
                  ScalarBuilder s{nb, nl};
                  Value valid = arith::ConstantIntOp::create(nb, nl, 1, 1);
                  SmallVector<Value> idx = {linalg::IndexOp::create(nb, nl, 0),
                                            linalg::IndexOp::create(nb, nl, 2 + n)};
                  for (int64_t i = 0; i < n; ++i) {
                    Value o = linalg::IndexOp::create(nb, nl, 2 + i);
                    Value k = linalg::IndexOp::create(nb, nl, 3 + n + i);
                    Value num = s.sub(s.add(o, padLo[i]), s.mul(k, s.cIdx(dilations[i])));
                    Value st = s.cIdx(strides[i]);
                    Value q = arith::FloorDivSIOp::create(nb, nl, num, st);
                    Value whole = s.eq(s.mul(q, st), num);
                    Value inside = arith::AndIOp::create(
                        nb, nl, s.cmp(arith::CmpIPredicate::sge, q, s.cIdx(0)),
                        s.cmp(arith::CmpIPredicate::slt, q, inSizes[i]));
                    valid = arith::AndIOp::create(nb, nl, valid,
                                                  arith::AndIOp::create(nb, nl, whole, inside));
                    idx.push_back(s.clampS(q, s.cIdx(0), s.sub(inSizes[i], s.cIdx(1))));
                  }
                  Value v = tensor::ExtractOp::create(nb, nl, x, idx);
                  Value p = arith::MulFOp::create(nb, nl, v, a[0]);
                  Value sum = arith::AddFOp::create(nb, nl, a[1], p);
                  linalg::YieldOp::create(nb, nl, ValueRange{s.select(valid, sum, a[1])});
                })
                .getResult(0);
  return c.replace(castTo(b, loc, y, rt));
}

LogicalResult lowerConvTranspose(NodeContext &c) {
  auto sp = checkConvOperands(c);
  if (failed(sp))
    return failure();
  auto in = c.inputType(0), wt = c.inputType(1);
  auto rt = c.rankedResultType(0);
  if (!in.hasStaticShape() || !wt.hasStaticShape() || !rt.hasStaticShape())
    return lowerConvTransposeDynamic(c, *sp);
  int64_t n = *sp;
  int64_t group = c.intAttr("group", 1);
  int64_t ch = in.getDimSize(1), fg = wt.getDimSize(1), f = rt.getDimSize(1);
  if (wt.getDimSize(0) != ch || ch % group != 0 || fg * group != f)
    return c.fail("attribute 'group' = " + Twine(group) + " does not match " + Twine(ch) +
                  " input channels, a weight of shape [" + Twine(wt.getDimSize(0)) + ", " +
                  Twine(fg) + ", ...] and " + Twine(f) + " output channels");
  SmallVector<int64_t> kernel(wt.getShape().begin() + 2, wt.getShape().end());
  auto attrs = readConvTransposeAttrs(c, n);
  if (failed(attrs))
    return failure();
  const SmallVector<int64_t> &strides = attrs->strides, &dilations = attrs->dilations,
                            &pads = attrs->pads, &outPad = attrs->outPad,
                            &outShape = attrs->outShape;
  const std::string &autoPad = attrs->autoPad;
  bool samePads = attrs->samePads;

  // Pads and the output size per spatial dim (ONNX ConvTranspose shape equations).
  SmallVector<int64_t> padLo(n);
  for (int64_t i = 0; i < n; ++i) {
    int64_t size = in.getDimSize(2 + i);
    int64_t extent = (kernel[i] - 1) * dilations[i] + 1;
    int64_t full = strides[i] * (size - 1) + outPad[i] + extent;
    int64_t lo = pads[i], hi = pads[n + i];
    if (autoPad == "VALID")
      lo = hi = 0;
    if (!outShape.empty() || samePads) {
      int64_t target = outShape.empty() ? size * strides[i] : outShape[i];
      int64_t total = full - target;
      int64_t half = (int64_t)std::floor(total / 2.0);
      if (autoPad == "SAME_UPPER") {
        lo = half;
        hi = total - half;
      } else {
        lo = total - half;
        hi = half;
      }
    }
    int64_t o = full - lo - hi;
    if (o != rt.getDimSize(2 + i))
      return c.fail("the result size " + Twine(rt.getDimSize(2 + i)) + " along spatial dimension " +
                    Twine(i) + " does not match the attributes (expected " + Twine(o) + ")");
    padLo[i] = lo;
  }

  OpBuilder &b = c.rewriter;
  Location loc = c.loc;
  MLIRContext *ctx = b.getContext();
  Type et = rt.getElementType();
  // Scatter the input with the stride into a zero buffer of the size the direct convolution
  // (stride 1, same dilation) needs: x[j] lands at (extent - 1 - padLo) + j * stride. Elements
  // that land outside (negative padding) are dropped.
  SmallVector<int64_t> bufShape = {in.getDimSize(0), ch};
  SmallVector<int64_t> srcOff = {0, 0}, srcSize = {in.getDimSize(0), ch}, dstOff = {0, 0},
                       dstStride = {1, 1};
  bool empty = false;
  for (int64_t i = 0; i < n; ++i) {
    int64_t size = in.getDimSize(2 + i);
    int64_t extent = (kernel[i] - 1) * dilations[i] + 1;
    int64_t len = rt.getDimSize(2 + i) + extent - 1;
    int64_t base = extent - 1 - padLo[i];
    int64_t j0 = base >= 0 ? 0 : (-base + strides[i] - 1) / strides[i];
    int64_t j1 = std::min(size - 1, (int64_t)std::floor((len - 1 - base) / (double)strides[i]));
    if (j1 < j0)
      empty = true;
    bufShape.push_back(len);
    srcOff.push_back(j0);
    srcSize.push_back(std::max<int64_t>(j1 - j0 + 1, 0));
    dstOff.push_back(base + j0 * strides[i]);
    dstStride.push_back(strides[i]);
  }
  auto bufType = RankedTensorType::get(bufShape, et);
  Value buf = createFilled(b, loc, bufType, zeroOf(b, loc, et));
  if (!empty) {
    Value x = c.input(0);
    if (in.getShape() != ArrayRef<int64_t>(srcSize)) {
      SmallVector<int64_t> ones(in.getRank(), 1);
      x = tensor::ExtractSliceOp::create(b, loc, x, getAsIndexOpFoldResult(ctx, srcOff),
                                         getAsIndexOpFoldResult(ctx, srcSize),
                                         getAsIndexOpFoldResult(ctx, ones));
    }
    buf = tensor::InsertSliceOp::create(b, loc, x, buf, getAsIndexOpFoldResult(ctx, dstOff),
                                        getAsIndexOpFoldResult(ctx, srcSize),
                                        getAsIndexOpFoldResult(ctx, dstStride))
              .getResult();
  }
  // Weight [C, F/G, k...] -> [F, C/G, k...] flipped spatially:
  //   w'[g*F/G + f, c, t] = w[g*C/G + c, f, k - 1 - t].
  int64_t cg = ch / group;
  SmallVector<int64_t> w2Shape = {f, cg};
  w2Shape.append(kernel);
  auto w2Type = RankedTensorType::get(w2Shape, et);
  int64_t rank = w2Type.getRank();
  AffineExpr fo = getAffineDimExpr(0, ctx), cc = getAffineDimExpr(1, ctx);
  SmallVector<AffineExpr> wE = {cc, fo};
  if (group > 1)
    wE = {fo.floorDiv(fg) * cg + cc, fo % fg};
  for (int64_t i = 0; i < n; ++i)
    wE.push_back(kernel[i] - 1 - getAffineDimExpr(2 + i, ctx));
  SmallVector<AffineMap> maps = {AffineMap::get(rank, 0, wE, ctx),
                                 b.getMultiDimIdentityMap(rank)};
  SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
  Value w2 = linalg::GenericOp::create(b, loc, w2Type, ValueRange{c.input(1)},
                                       ValueRange{createEmpty(b, loc, w2Type)}, maps, iters,
                                       [](OpBuilder &nb, Location nl, ValueRange a) {
                                         linalg::YieldOp::create(nb, nl, a[0]);
                                       })
                 .getResult(0);
  Value init = convInit(b, loc, rt, c.hasInput(2) ? c.input(2) : Value());
  return c.replace(emitConvolution(b, loc, buf, w2, init, SmallVector<int64_t>(n, 1), dilations,
                                   group));
}

} // namespace

/// numpy matmul of operands with dynamic dims: one linalg.generic over (batch..., M, N, K)
/// reading both operands in place (a batch dim of size 1 in one operand broadcasts; dynamic
/// batch sizes must be equal, which sparq-runtime-checks verifies), a rank-1 operand
/// promoted and its unit dim dropped from the result.
Value emitDynamicMatMul(OpBuilder &b, Location loc, Value lhs, Value rhs, RankedTensorType rt) {
  MLIRContext *ctx = b.getContext();
  Type et = rt.getElementType();
  auto at = cast<RankedTensorType>(lhs.getType()), bt = cast<RankedTensorType>(rhs.getType());
  bool aVec = at.getRank() == 1, bVec = bt.getRank() == 1;
  int64_t ra = aVec ? 2 : at.getRank(), rb = bVec ? 2 : bt.getRank();
  int64_t batch = std::max(ra, rb) - 2, loops = batch + 3;
  AffineExpr dm = getAffineDimExpr(batch, ctx), dn = getAffineDimExpr(batch + 1, ctx),
             dk = getAffineDimExpr(batch + 2, ctx);
  SmallVector<int64_t> shape;
  SmallVector<Value> dynSizes;
  auto operandExprs = [&](RankedTensorType t, int64_t r, bool isA) {
    SmallVector<AffineExpr> e;
    int64_t off = batch - (r - 2);
    for (int64_t i = 0; i < r - 2; ++i)
      e.push_back(t.getDimSize(i) == 1 ? getAffineConstantExpr(0, ctx)
                                        : getAffineDimExpr(off + i, ctx));
    if (isA) {
      if (!aVec)
        e.push_back(dm);
      e.push_back(dk);
    } else {
      e.push_back(dk);
      if (!bVec)
        e.push_back(dn);
    }
    return e;
  };
  // Result dims of the generic: batch from whichever operand has a non-unit dim there.
  for (int64_t i = 0; i < batch; ++i) {
    int64_t ia = i - (batch - (ra - 2)), ib = i - (batch - (rb - 2));
    Value src;
    int64_t d = -1;
    if (ia >= 0 && at.getDimSize(ia) != 1)
      src = lhs, d = ia;
    else if (ib >= 0 && bt.getDimSize(ib) != 1)
      src = rhs, d = ib;
    auto st = src ? cast<RankedTensorType>(src.getType()) : RankedTensorType();
    shape.push_back(src ? st.getDimSize(d) : 1);
    if (src && st.isDynamicDim(d))
      dynSizes.push_back(tensor::DimOp::create(b, loc, src, d));
  }
  auto addDim = [&](Value v, RankedTensorType t, int64_t d) {
    shape.push_back(t.getDimSize(d));
    if (t.isDynamicDim(d))
      dynSizes.push_back(tensor::DimOp::create(b, loc, v, d));
  };
  if (aVec)
    shape.push_back(1);
  else
    addDim(lhs, at, at.getRank() - 2);
  if (bVec)
    shape.push_back(1);
  else
    addDim(rhs, bt, bt.getRank() - 1);
  auto outType = RankedTensorType::get(shape, et);
  Value init = createFilled(b, loc, outType, zeroOf(b, loc, et), dynSizes);
  SmallVector<AffineExpr> oE;
  for (int64_t i = 0; i < batch; ++i)
    oE.push_back(getAffineDimExpr(i, ctx));
  oE.push_back(aVec ? getAffineConstantExpr(0, ctx) : dm);
  oE.push_back(bVec ? getAffineConstantExpr(0, ctx) : dn);
  SmallVector<AffineMap> maps{AffineMap::get(loops, 0, operandExprs(at, ra, true), ctx),
                              AffineMap::get(loops, 0, operandExprs(bt, rb, false), ctx),
                              AffineMap::get(loops, 0, oE, ctx)};
  SmallVector<utils::IteratorType> iters(loops, utils::IteratorType::parallel);
  iters.back() = utils::IteratorType::reduction;
  bool fp = isFloat(et);
  Value y = linalg::GenericOp::create(
                b, loc, TypeRange{outType}, ValueRange{lhs, rhs}, ValueRange{init}, maps, iters,
                [&](OpBuilder &nb, Location l, ValueRange a) {
                  Value p = fp ? arith::MulFOp::create(nb, l, a[0], a[1]).getResult()
                               : arith::MulIOp::create(nb, l, a[0], a[1]).getResult();
                  Value s = fp ? arith::AddFOp::create(nb, l, a[2], p).getResult()
                               : arith::AddIOp::create(nb, l, a[2], p).getResult();
                  linalg::YieldOp::create(nb, l, ValueRange{s});
                })
                .getResult(0);
  if (!aVec && !bVec)
    return castTo(b, loc, y, rt);
  // Drop the promoted unit dims: group each with a neighbouring dim.
  SmallVector<ReassociationIndices> groups;
  int64_t r = outType.getRank();
  SmallVector<bool> drop(r, false);
  if (aVec)
    drop[r - 2] = true;
  if (bVec)
    drop[r - 1] = true;
  ReassociationIndices pending;
  for (int64_t i = 0; i < r; ++i) {
    pending.push_back(i);
    if (!drop[i]) {
      groups.push_back(pending);
      pending.clear();
    }
  }
  if (!pending.empty() && !groups.empty())
    groups.back().append(pending.begin(), pending.end());
  Value collapsed = tensor::CollapseShapeOp::create(b, loc, y, groups);
  return castTo(b, loc, collapsed, rt);
}

FailureOr<Value> emitMatMul(const NodeContext &c, Value lhs, Value rhs, RankedTensorType rt) {
  OpBuilder &b = c.rewriter;
  Location loc = c.loc;
  Type et = rt.getElementType();
  auto at = cast<RankedTensorType>(lhs.getType()), bt = cast<RankedTensorType>(rhs.getType());
  if (at.getRank() < 1 || bt.getRank() < 1)
    return c.fail("MatMul operands must have rank >= 1");
  if (!at.hasStaticShape() || !bt.hasStaticShape() || !rt.hasStaticShape()) {
    int64_t ka = at.getDimSize(at.getRank() - 1),
            kb = bt.getDimSize(bt.getRank() == 1 ? 0 : bt.getRank() - 2);
    if (!ShapedType::isDynamic(ka) && !ShapedType::isDynamic(kb) && ka != kb)
      return c.fail("the contraction sizes of A (" + Twine(ka) + ") and B (" + Twine(kb) +
                    ") differ");
    int64_t want = std::max<int64_t>(at.getRank(), bt.getRank()) - (at.getRank() == 1) -
                   (bt.getRank() == 1);
    if (rt.getRank() != want)
      return c.fail("the result has rank " + Twine(rt.getRank()) + ", the matmul gives rank " +
                    Twine(want));
    return emitDynamicMatMul(b, loc, lhs, rhs, rt);
  }
  SmallVector<int64_t> aShape(at.getShape()), bShape(bt.getShape());
  if (aShape.size() == 1)
    aShape.insert(aShape.begin(), 1);
  if (bShape.size() == 1)
    bShape.push_back(1);
  int64_t m = aShape[aShape.size() - 2], k = aShape.back(), n = bShape.back();
  if (bShape[bShape.size() - 2] != k)
    return c.fail("the contraction sizes of A (" + Twine(k) + ") and B (" +
                  Twine(bShape[bShape.size() - 2]) + ") differ");
  SmallVector<int64_t> aBatch(aShape.begin(), aShape.end() - 2),
      bBatch(bShape.begin(), bShape.end() - 2);
  auto batch = broadcastShapes({aBatch, bBatch});
  if (failed(batch))
    return c.fail("the batch dimensions of A and B do not broadcast");
  int64_t batchCount = product(*batch);
  if (product(rt.getShape()) != batchCount * m * n)
    return c.fail("the result type does not match the broadcast matmul shape");
  auto filled = [&](ArrayRef<int64_t> shape) {
    return createFilled(b, loc, RankedTensorType::get(shape, et), zeroOf(b, loc, et));
  };
  Value out;
  if (product(bBatch) == 1) {
    // [batch..., M, K] x [K, N]: one linalg.matmul over batch*M rows; the weight stays 2-D.
    Value a2 = reshapeStatic(b, loc, lhs, {batchCount * m, k});
    Value b2 = reshapeStatic(b, loc, rhs, {k, n});
    Value init = filled({batchCount * m, n});
    out = linalg::MatmulOp::create(b, loc, TypeRange{init.getType()}, ValueRange{a2, b2},
                                   ValueRange{init})
              .getResult(0);
  } else {
    // linalg.batch_matmul over the flattened broadcast batch dims.
    SmallVector<int64_t> aFull(*batch), bFull(*batch);
    aFull.append({m, k});
    bFull.append({k, n});
    Value a3 = reshapeStatic(b, loc, broadcastTo(b, loc, reshapeStatic(b, loc, lhs, aShape), aFull),
                             {batchCount, m, k});
    Value b3 = reshapeStatic(b, loc, broadcastTo(b, loc, reshapeStatic(b, loc, rhs, bShape), bFull),
                             {batchCount, k, n});
    Value init = filled({batchCount, m, n});
    out = linalg::BatchMatmulOp::create(b, loc, TypeRange{init.getType()}, ValueRange{a3, b3},
                                        ValueRange{init})
              .getResult(0);
  }
  return reshapeStatic(b, loc, out, rt.getShape());
}

void registerLinearOps(OnnxHandlerTable &t) {
  t.add("MatMul", 1, lowerMatMul);
  t.add("MatMulInteger", 10, lowerMatMulInteger);
  t.add("Gemm", 1, lowerGemm);
  t.add("Conv", 1, lowerConv);
  t.add("ConvTranspose", 1, lowerConvTranspose);
}

} // namespace sparq::onnx
