//===- passes/ONNXToLinalg/Core.cpp - core CNN / transformer operators ---------===//
//
// MatMul, Gemm, Conv, pooling, BatchNormalization and the reshaping operators (Reshape, Flatten, Squeeze, Unsqueeze, Transpose, Concat) that real CNNs and
// transformer encoders are made of. Contractions become linalg.matmul or contraction
// linalg.generics (weights in either layout), convolutions and pools the linalg named ops, so
// that sparq-linalg-tile-vectorize and the compression passes find them.
//
//===----------------------------------------------------------------------===//
#include "passes/ONNXToLinalg/ONNXToLinalg.h"

#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

#include <cmath>
#include <limits>
#include <numeric>

using namespace mlir;

namespace sparq::onnx {
namespace {

bool isFloat(Type t) { return isa<FloatType>(t); }

Value zeroOf(OpBuilder &b, Location l, Type t) { return scalarConstant(b, l, t, 0.0); }

/// Reshapes a static tensor to `type` (same number of elements) with collapse/expand_shape,
/// through 1-D when no single reassociation exists.
Value reshapeTo(OpBuilder &b, Location loc, Value v, RankedTensorType type) {
  auto src = cast<RankedTensorType>(v.getType());
  if (src.getShape() == type.getShape())
    return v;
  if (src.getRank() > type.getRank()) {
    if (auto assoc = getReassociationIndicesForReshape(src, type))
      return tensor::CollapseShapeOp::create(b, loc, type, v, *assoc);
  } else if (src.getRank() < type.getRank()) {
    if (auto assoc = getReassociationIndicesForReshape(type, src))
      return tensor::ExpandShapeOp::create(b, loc, type, v, *assoc);
  }
  // General case: flatten, then expand.
  auto flat = RankedTensorType::get({src.getNumElements()}, src.getElementType());
  Value f = v;
  if (src.getRank() != 1) {
    ReassociationIndices all;
    for (int64_t i = 0; i < src.getRank(); ++i)
      all.push_back(i);
    f = src.getRank() == 0 ? tensor::ExpandShapeOp::create(b, loc, flat, v,
                                                           ArrayRef<ReassociationIndices>{})
                                 .getResult()
                           : tensor::CollapseShapeOp::create(b, loc, flat, v,
                                                             ArrayRef<ReassociationIndices>{all})
                                 .getResult();
  }
  if (type.getRank() == 1)
    return f;
  if (type.getRank() == 0)
    return tensor::CollapseShapeOp::create(b, loc, type, f, ArrayRef<ReassociationIndices>{});
  ReassociationIndices all;
  for (int64_t i = 0; i < type.getRank(); ++i)
    all.push_back(i);
  return tensor::ExpandShapeOp::create(b, loc, type, f, ArrayRef<ReassociationIndices>{all});
}

LogicalResult requireStatic(NodeContext &c, RankedTensorType t, const Twine &what) {
  if (!t || !t.hasStaticShape())
    return c.fail(what + " must have a static shape (pin input shapes with --input-shape)");
  return success();
}

LogicalResult reshapeToResult(NodeContext &c) {
  auto rt = c.rankedResultType(0);
  if (failed(requireStatic(c, rt, "the result")) ||
      failed(requireStatic(c, c.inputType(0), "the input")))
    return failure();
  return c.replace(reshapeTo(c.rewriter, c.loc, c.input(0), rt));
}

/// A contraction generic: out[batch..., m, n] = sum_k a[...] * b[...] with the given maps for
/// a and b over loops (batch..., m, n, k).
Value contraction(OpBuilder &b, Location loc, Value lhs, Value rhs, AffineMap lhsMap,
                  AffineMap rhsMap, RankedTensorType resultType) {
  unsigned nLoops = resultType.getRank() + 1;
  MLIRContext *ctx = b.getContext();
  SmallVector<AffineExpr> outExprs;
  for (int64_t i = 0; i < resultType.getRank(); ++i)
    outExprs.push_back(getAffineDimExpr(i, ctx));
  SmallVector<AffineMap> maps = {lhsMap, rhsMap, AffineMap::get(nLoops, 0, outExprs, ctx)};
  SmallVector<utils::IteratorType> iters(nLoops, utils::IteratorType::parallel);
  iters.back() = utils::IteratorType::reduction;
  Type et = resultType.getElementType();
  Value init = createFilled(b, loc, resultType, zeroOf(b, loc, et));
  return linalg::GenericOp::create(
             b, loc, resultType, ValueRange{lhs, rhs}, ValueRange{init}, maps, iters,
             [&](OpBuilder &nb, Location nl, ValueRange a) {
               Value r;
               if (isFloat(et))
                 r = arith::AddFOp::create(nb, nl, a[2], arith::MulFOp::create(nb, nl, a[0], a[1]));
               else
                 r = arith::AddIOp::create(nb, nl, a[2], arith::MulIOp::create(nb, nl, a[0], a[1]));
               linalg::YieldOp::create(nb, nl, r);
             })
      .getResult(0);
}

//===----------------------------------------------------------------------===//
// MatMul / Gemm
//===----------------------------------------------------------------------===//

LogicalResult lowerMatMul(NodeContext &c) {
  auto at = c.inputType(0), bt = c.inputType(1);
  auto rt = c.rankedResultType(0);
  if (failed(requireStatic(c, at, "input A")) || failed(requireStatic(c, bt, "input B")) ||
      failed(requireStatic(c, rt, "the result")))
    return failure();
  OpBuilder &b = c.rewriter;
  Location loc = c.loc;
  Type et = rt.getElementType();
  Value lhs = c.input(0), rhs = c.input(1);
  // Promote 1-D operands to matrices.
  SmallVector<int64_t> aShape(at.getShape()), bShape(bt.getShape());
  if (aShape.size() == 1)
    aShape.insert(aShape.begin(), 1);
  if (bShape.size() == 1)
    bShape.push_back(1);
  lhs = reshapeTo(b, loc, lhs, RankedTensorType::get(aShape, et));
  rhs = reshapeTo(b, loc, rhs, RankedTensorType::get(bShape, et));
  int64_t m = aShape[aShape.size() - 2], k = aShape.back(), n = bShape.back();
  SmallVector<int64_t> aBatch(aShape.begin(), aShape.end() - 2),
      bBatch(bShape.begin(), bShape.end() - 2);
  auto batch = broadcastShapes({aBatch, bBatch});
  if (failed(batch))
    return c.fail("batch dimensions of A and B do not broadcast");
  SmallVector<int64_t> outShape(*batch);
  outShape.append({m, n});
  auto outType = RankedTensorType::get(outShape, et);
  Value result;
  int64_t aBatchElems = 1;
  for (int64_t d : aBatch)
    aBatchElems *= d;
  bool bIsMatrix = bBatch.empty() || llvm::all_of(bBatch, [](int64_t d) { return d == 1; });
  if (bIsMatrix && aBatch.size() == batch->size()) {
    // [batch..., M, K] x [K, N]: one matmul over batch*M rows (weights stay 2-D).
    auto a2 = RankedTensorType::get({aBatchElems * m, k}, et);
    auto b2 = RankedTensorType::get({k, n}, et);
    Value a2v = reshapeTo(b, loc, lhs, a2), b2v = reshapeTo(b, loc, rhs, b2);
    auto r2 = RankedTensorType::get({aBatchElems * m, n}, et);
    Value init = createFilled(b, loc, r2, zeroOf(b, loc, et));
    Value mm;
    if (isFloat(et))
      mm = linalg::MatmulOp::create(b, loc, r2, ValueRange{a2v, b2v}, ValueRange{init})
               .getResult(0);
    else {
      MLIRContext *ctx = b.getContext();
      AffineExpr d0 = getAffineDimExpr(0, ctx), d1 = getAffineDimExpr(1, ctx),
                 d2 = getAffineDimExpr(2, ctx);
      mm = contraction(b, loc, a2v, b2v, AffineMap::get(3, 0, {d0, d2}, ctx),
                       AffineMap::get(3, 0, {d2, d1}, ctx), r2);
    }
    result = reshapeTo(b, loc, mm, outType);
  } else {
    // General batched contraction with numpy broadcasting of batch dims.
    MLIRContext *ctx = b.getContext();
    int64_t nb = batch->size();
    unsigned nLoops = nb + 3;
    auto mapFor = [&](ArrayRef<int64_t> opBatch, bool isA) {
      SmallVector<AffineExpr> e;
      int64_t off = nb - opBatch.size();
      for (int64_t i = 0; i < (int64_t)opBatch.size(); ++i)
        e.push_back(opBatch[i] == 1 && (*batch)[off + i] != 1 ? getAffineConstantExpr(0, ctx)
                                                              : getAffineDimExpr(off + i, ctx));
      if (isA)
        e.append({getAffineDimExpr(nb, ctx), getAffineDimExpr(nb + 2, ctx)});
      else
        e.append({getAffineDimExpr(nb + 2, ctx), getAffineDimExpr(nb + 1, ctx)});
      return AffineMap::get(nLoops, 0, e, ctx);
    };
    result = contraction(b, loc, lhs, rhs, mapFor(aBatch, true), mapFor(bBatch, false), outType);
  }
  return c.replace(reshapeTo(b, loc, result, rt));
}

LogicalResult lowerGemm(NodeContext &c) {
  auto at = c.inputType(0), bt = c.inputType(1);
  auto rt = c.rankedResultType(0);
  if (failed(requireStatic(c, at, "input A")) || failed(requireStatic(c, bt, "input B")) ||
      failed(requireStatic(c, rt, "the result")))
    return failure();
  if (at.getRank() != 2 || bt.getRank() != 2)
    return c.fail("A and B must be matrices");
  OpBuilder &b = c.rewriter;
  Location loc = c.loc;
  MLIRContext *ctx = b.getContext();
  bool transA = c.intAttr("transA", 0), transB = c.intAttr("transB", 0);
  float alpha = c.floatAttr("alpha", 1.0f), beta = c.floatAttr("beta", 1.0f);
  AffineExpr m = getAffineDimExpr(0, ctx), n = getAffineDimExpr(1, ctx),
             k = getAffineDimExpr(2, ctx);
  AffineMap aMap = AffineMap::get(3, 0, transA ? ArrayRef<AffineExpr>{k, m}
                                              : ArrayRef<AffineExpr>{m, k}, ctx);
  AffineMap bMap = AffineMap::get(3, 0, transB ? ArrayRef<AffineExpr>{n, k}
                                              : ArrayRef<AffineExpr>{k, n}, ctx);
  Value y = contraction(b, loc, c.input(0), c.input(1), aMap, bMap, rt);
  Type et = rt.getElementType();
  SmallVector<Value> ins = {y};
  bool hasC = c.hasInput(2) && beta != 0.0f;
  if (hasC)
    ins.push_back(c.input(2));
  if (alpha == 1.0f && !hasC)
    return c.replace(y);
  Value r = buildElementwise(b, loc, ins, rt, [&](OpBuilder &nb, Location nl, ValueRange a) {
    Value v = a[0];
    if (alpha != 1.0f)
      v = isFloat(et) ? arith::MulFOp::create(nb, nl, v, scalarConstant(nb, nl, et, alpha)).getResult()
                      : arith::MulIOp::create(nb, nl, v, scalarConstant(nb, nl, et, alpha)).getResult();
    if (a.size() > 1) {
      Value cv = a[1];
      if (beta != 1.0f)
        cv = isFloat(et) ? arith::MulFOp::create(nb, nl, cv, scalarConstant(nb, nl, et, beta)).getResult()
                         : arith::MulIOp::create(nb, nl, cv, scalarConstant(nb, nl, et, beta)).getResult();
      v = isFloat(et) ? arith::AddFOp::create(nb, nl, v, cv).getResult()
                      : arith::AddIOp::create(nb, nl, v, cv).getResult();
    }
    return v;
  });
  return c.replace(r);
}

//===----------------------------------------------------------------------===//
// Convolution and pooling helpers
//===----------------------------------------------------------------------===//

struct Window {
  SmallVector<int64_t> kernel, strides, dilations, padLo, padHi;
};

/// Reads kernel_shape/strides/dilations/pads/auto_pad for `spatial` spatial dims of `in`.
FailureOr<Window> readWindow(NodeContext &c, RankedTensorType in, ArrayRef<int64_t> kernel,
                             RankedTensorType out) {
  unsigned spatial = in.getRank() - 2;
  Window w;
  w.kernel.assign(kernel.begin(), kernel.end());
  w.strides = c.intsAttr("strides", SmallVector<int64_t>(spatial, 1));
  w.dilations = c.intsAttr("dilations", SmallVector<int64_t>(spatial, 1));
  SmallVector<int64_t> pads = c.intsAttr("pads", SmallVector<int64_t>(2 * spatial, 0));
  if (w.kernel.size() != spatial || w.strides.size() != spatial ||
      w.dilations.size() != spatial || pads.size() != 2 * spatial) {
    (void)c.fail("kernel_shape/strides/dilations/pads do not match the input rank");
    return failure();
  }
  std::string autoPad = c.stringAttr("auto_pad", "NOTSET");
  w.padLo.assign(pads.begin(), pads.begin() + spatial);
  w.padHi.assign(pads.begin() + spatial, pads.end());
  if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
    for (unsigned i = 0; i < spatial; ++i) {
      int64_t size = in.getDimSize(2 + i);
      int64_t outSize = (size + w.strides[i] - 1) / w.strides[i];
      int64_t total = std::max<int64_t>(
          (outSize - 1) * w.strides[i] + (w.kernel[i] - 1) * w.dilations[i] + 1 - size, 0);
      int64_t small = total / 2, big = total - small;
      w.padLo[i] = autoPad == "SAME_UPPER" ? small : big;
      w.padHi[i] = autoPad == "SAME_UPPER" ? big : small;
    }
  } else if (autoPad == "VALID") {
    std::fill(w.padLo.begin(), w.padLo.end(), 0);
    std::fill(w.padHi.begin(), w.padHi.end(), 0);
  } else if (autoPad != "NOTSET") {
    (void)c.fail("auto_pad '" + autoPad + "' is not supported");
    return failure();
  }
  // Extend the high padding so the window sweep produces the result's size (ceil_mode).
  for (unsigned i = 0; i < spatial; ++i) {
    int64_t need = (out.getDimSize(2 + i) - 1) * w.strides[i] +
                   (w.kernel[i] - 1) * w.dilations[i] + 1;
    int64_t have = in.getDimSize(2 + i) + w.padLo[i] + w.padHi[i];
    if (need > have)
      w.padHi[i] += need - have;
  }
  return w;
}

Value padSpatial(OpBuilder &b, Location loc, Value v, const Window &w, Value padValue) {
  auto t = cast<RankedTensorType>(v.getType());
  if (llvm::all_of(w.padLo, [](int64_t p) { return p == 0; }) &&
      llvm::all_of(w.padHi, [](int64_t p) { return p == 0; }))
    return v;
  SmallVector<int64_t> lo = {0, 0}, hi = {0, 0}, shape(t.getShape());
  for (size_t i = 0; i < w.padLo.size(); ++i) {
    lo.push_back(w.padLo[i]);
    hi.push_back(w.padHi[i]);
    shape[2 + i] += w.padLo[i] + w.padHi[i];
  }
  return tensor::PadOp::create(b, loc, RankedTensorType::get(shape, t.getElementType()), v,
                               getAsIndexOpFoldResult(b.getContext(), lo),
                               getAsIndexOpFoldResult(b.getContext(), hi), padValue);
}

/// out[n, c, ...] += bias[c].
Value addChannelBias(OpBuilder &b, Location loc, Value out, Value bias) {
  auto t = cast<RankedTensorType>(out.getType());
  MLIRContext *ctx = b.getContext();
  SmallVector<AffineMap> maps = {b.getMultiDimIdentityMap(t.getRank()),
                                 AffineMap::get(t.getRank(), 0, {getAffineDimExpr(1, ctx)}, ctx),
                                 b.getMultiDimIdentityMap(t.getRank())};
  SmallVector<utils::IteratorType> iters(t.getRank(), utils::IteratorType::parallel);
  return linalg::GenericOp::create(b, loc, t, ValueRange{out, bias}, ValueRange{out}, maps, iters,
                                   [&](OpBuilder &nb, Location nl, ValueRange a) {
                                     linalg::YieldOp::create(
                                         nb, nl, arith::AddFOp::create(nb, nl, a[0], a[1]).getResult());
                                   })
      .getResult(0);
}

LogicalResult lowerConv(NodeContext &c) {
  auto in = c.inputType(0), wt = c.inputType(1);
  auto rt = c.rankedResultType(0);
  if (failed(requireStatic(c, in, "the input")) || failed(requireStatic(c, wt, "the weight")) ||
      failed(requireStatic(c, rt, "the result")))
    return failure();
  if (!isFloat(rt.getElementType()))
    return c.fail("only floating-point convolutions are supported");
  int64_t spatial = in.getRank() - 2;
  if (spatial < 1 || spatial > 3)
    return c.fail("only 1-D, 2-D and 3-D convolutions are supported");
  SmallVector<int64_t> kernel(wt.getShape().begin() + 2, wt.getShape().end());
  auto win = readWindow(c, in, kernel, rt);
  if (failed(win))
    return failure();
  OpBuilder &b = c.rewriter;
  Location loc = c.loc;
  Type et = rt.getElementType();
  int64_t group = c.intAttr("group", 1);
  int64_t ch = in.getDimSize(1), f = wt.getDimSize(0);
  Value x = padSpatial(b, loc, c.input(0), *win, zeroOf(b, loc, et));
  Value w = c.input(1);
  auto strides = b.getI64TensorAttr(win->strides);
  auto dilations = b.getI64TensorAttr(win->dilations);
  Value init = createFilled(b, loc, rt, zeroOf(b, loc, et));
  Value out;
  if (group == 1) {
    if (spatial == 1)
      out = linalg::Conv1DNcwFcwOp::create(b, loc, rt, ValueRange{x, w}, ValueRange{init}, strides,
                                           dilations)
                .getResult(0);
    else if (spatial == 2)
      out = linalg::Conv2DNchwFchwOp::create(b, loc, rt, ValueRange{x, w}, ValueRange{init},
                                             strides, dilations)
                .getResult(0);
    else
      out = linalg::Conv3DNcdhwFcdhwOp::create(b, loc, rt, ValueRange{x, w}, ValueRange{init},
                                               strides, dilations)
                .getResult(0);
  } else if (spatial == 2 && group == ch && f == ch) {
    // Depthwise: weight [C, 1, KH, KW] -> [C, KH, KW].
    auto w3 = RankedTensorType::get({ch, kernel[0], kernel[1]}, et);
    out = linalg::DepthwiseConv2DNchwChwOp::create(b, loc, rt,
                                                   ValueRange{x, reshapeTo(b, loc, w, w3)},
                                                   ValueRange{init}, strides, dilations)
              .getResult(0);
  } else if (spatial == 2 && ch % group == 0 && f % group == 0) {
    // Grouped: [N, G, C/G, H, W] x [G, F/G, C/G, KH, KW] -> [N, G, F/G, OH, OW].
    auto xt = cast<RankedTensorType>(x.getType());
    auto x5 = RankedTensorType::get({xt.getDimSize(0), group, ch / group, xt.getDimSize(2),
                                     xt.getDimSize(3)}, et);
    auto w5 = RankedTensorType::get({group, f / group, ch / group, kernel[0], kernel[1]}, et);
    auto r5 = RankedTensorType::get({rt.getDimSize(0), group, f / group, rt.getDimSize(2),
                                     rt.getDimSize(3)}, et);
    Value init5 = createFilled(b, loc, r5, zeroOf(b, loc, et));
    Value o5 = linalg::Conv2DNgchwFgchwOp::create(
                   b, loc, r5, ValueRange{reshapeTo(b, loc, x, x5), reshapeTo(b, loc, w, w5)},
                   ValueRange{init5}, strides, dilations)
                   .getResult(0);
    out = reshapeTo(b, loc, o5, rt);
  } else {
    return c.fail("group = " + Twine(group) + " is not supported for a " + Twine(spatial) +
                  "-D convolution with " + Twine(ch) + " input and " + Twine(f) +
                  " output channels");
  }
  if (c.hasInput(2))
    out = addChannelBias(b, loc, out, c.input(2));
  return c.replace(out);
}

LogicalResult lowerPool(NodeContext &c, bool isMax) {
  auto in = c.inputType(0);
  auto rt = c.rankedResultType(0);
  if (failed(requireStatic(c, in, "the input")) || failed(requireStatic(c, rt, "the result")))
    return failure();
  if (c.numResults() > 1 && !c.op->getResult(1).use_empty())
    return c.fail("the Indices output of MaxPool is not supported");
  Type et = rt.getElementType();
  if (!isFloat(et))
    return c.fail("only floating-point pooling is supported");
  int64_t spatial = in.getRank() - 2;
  if (spatial != 1 && spatial != 2)
    return c.fail("only 1-D and 2-D pooling is supported");
  SmallVector<int64_t> kernel = c.intsAttr("kernel_shape");
  auto win = readWindow(c, in, kernel, rt);
  if (failed(win))
    return failure();
  OpBuilder &b = c.rewriter;
  Location loc = c.loc;
  auto strides = b.getI64TensorAttr(win->strides);
  auto dilations = b.getI64TensorAttr(win->dilations);
  Value windowT = tensor::EmptyOp::create(b, loc, kernel, et);
  auto pool = [&](Value x, bool max, Value initValue) -> Value {
    Value init = createFilled(b, loc, rt, initValue);
    if (spatial == 1)
      return max ? linalg::PoolingNcwMaxOp::create(b, loc, rt, ValueRange{x, windowT},
                                                   ValueRange{init}, strides, dilations)
                       .getResult(0)
                 : linalg::PoolingNcwSumOp::create(b, loc, rt, ValueRange{x, windowT},
                                                   ValueRange{init}, strides, dilations)
                       .getResult(0);
    return max ? linalg::PoolingNchwMaxOp::create(b, loc, rt, ValueRange{x, windowT},
                                                  ValueRange{init}, strides, dilations)
                     .getResult(0)
               : linalg::PoolingNchwSumOp::create(b, loc, rt, ValueRange{x, windowT},
                                                  ValueRange{init}, strides, dilations)
                     .getResult(0);
  };
  if (isMax) {
    Value ninf = scalarConstant(b, loc, et, -std::numeric_limits<double>::infinity());
    Value x = padSpatial(b, loc, c.input(0), *win, ninf);
    return c.replace(pool(x, true, ninf));
  }
  Value zero = zeroOf(b, loc, et);
  Value sum = pool(padSpatial(b, loc, c.input(0), *win, zero), false, zero);
  // Divisor: the number of window elements that count (explicit pads count with
  // count_include_pad; the ceil_mode extension never does).
  bool includePad = c.intAttr("count_include_pad", 0);
  auto onesType = in;
  Value ones = createFilled(b, loc, onesType, scalarConstant(b, loc, et, 1.0));
  Value countIn = ones;
  if (includePad) {
    Window explicitOnly = *win;
    SmallVector<int64_t> pads = c.intsAttr("pads", SmallVector<int64_t>(2 * spatial, 0));
    std::string autoPad = c.stringAttr("auto_pad", "NOTSET");
    for (int64_t i = 0; i < spatial; ++i) {
      explicitOnly.padLo[i] = win->padLo[i];
      explicitOnly.padHi[i] = autoPad == "NOTSET" ? pads[spatial + i] : win->padHi[i];
    }
    countIn = padSpatial(b, loc, ones, explicitOnly, scalarConstant(b, loc, et, 1.0));
    Window rest = *win;
    for (int64_t i = 0; i < spatial; ++i) {
      rest.padLo[i] = 0;
      rest.padHi[i] = win->padHi[i] - explicitOnly.padHi[i];
    }
    countIn = padSpatial(b, loc, countIn, rest, zero);
  } else {
    countIn = padSpatial(b, loc, ones, *win, zero);
  }
  Value count = pool(countIn, false, zero);
  Value r = buildElementwise(b, loc, {sum, count}, rt,
                             [](OpBuilder &nb, Location nl, ValueRange a) -> Value {
                               return arith::DivFOp::create(nb, nl, a[0], a[1]);
                             });
  return c.replace(r);
}

/// Reduces `x` over the dims in `reduce` (keeping them as size 1) with `combine`, starting at
/// `initValue`.
Value reduceKeepDims(OpBuilder &b, Location loc, Value x, ArrayRef<int64_t> reduce,
                     Value initValue,
                     function_ref<Value(OpBuilder &, Location, Value, Value)> combine) {
  auto t = cast<RankedTensorType>(x.getType());
  MLIRContext *ctx = b.getContext();
  SmallVector<int64_t> outShape(t.getShape());
  SmallVector<AffineExpr> outExprs;
  SmallVector<utils::IteratorType> iters;
  for (int64_t i = 0; i < t.getRank(); ++i) {
    bool red = llvm::is_contained(reduce, i);
    if (red)
      outShape[i] = 1;
    outExprs.push_back(red ? getAffineConstantExpr(0, ctx) : getAffineDimExpr(i, ctx));
    iters.push_back(red ? utils::IteratorType::reduction : utils::IteratorType::parallel);
  }
  auto outType = RankedTensorType::get(outShape, t.getElementType());
  Value init = createFilled(b, loc, outType, initValue);
  SmallVector<AffineMap> maps = {b.getMultiDimIdentityMap(t.getRank()),
                                 AffineMap::get(t.getRank(), 0, outExprs, ctx)};
  return linalg::GenericOp::create(b, loc, outType, ValueRange{x}, ValueRange{init}, maps, iters,
                                   [&](OpBuilder &nb, Location nl, ValueRange a) {
                                     linalg::YieldOp::create(nb, nl, combine(nb, nl, a[1], a[0]));
                                   })
      .getResult(0);
}

LogicalResult lowerGlobalPool(NodeContext &c, bool isMax) {
  auto in = c.inputType(0);
  auto rt = c.rankedResultType(0);
  if (failed(requireStatic(c, in, "the input")))
    return failure();
  Type et = in.getElementType();
  if (!isFloat(et))
    return c.fail("only floating-point pooling is supported");
  OpBuilder &b = c.rewriter;
  Location loc = c.loc;
  SmallVector<int64_t> dims;
  int64_t count = 1;
  for (int64_t i = 2; i < in.getRank(); ++i) {
    dims.push_back(i);
    count *= in.getDimSize(i);
  }
  Value init = isMax ? scalarConstant(b, loc, et, -std::numeric_limits<double>::infinity())
                     : zeroOf(b, loc, et);
  Value r = reduceKeepDims(b, loc, c.input(0), dims, init,
                           [&](OpBuilder &nb, Location nl, Value acc, Value x) -> Value {
                             if (isMax)
                               return arith::MaximumFOp::create(nb, nl, acc, x);
                             return arith::AddFOp::create(nb, nl, acc, x);
                           });
  if (!isMax)
    r = buildElementwise(b, loc, {r}, cast<RankedTensorType>(r.getType()),
                         [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
                           return arith::DivFOp::create(nb, nl, a[0],
                                                        scalarConstant(nb, nl, et, count));
                         });
  return c.replace(reshapeTo(b, loc, r, rt));
}

LogicalResult lowerBatchNorm(NodeContext &c) {
  auto in = c.inputType(0);
  auto rt = c.rankedResultType(0);
  if (failed(requireStatic(c, in, "the input")))
    return failure();
  if (c.intAttr("training_mode", 0) != 0)
    return c.fail("training_mode = 1 is not supported (inference only)");
  if (c.numResults() > 1)
    for (unsigned i = 1; i < c.numResults(); ++i)
      if (!c.op->getResult(i).use_empty())
        return c.fail("the running mean/variance outputs (training mode) are not supported");
  Type et = in.getElementType();
  if (!isFloat(et))
    return c.fail("only floating-point inputs are supported");
  float eps = c.floatAttr("epsilon", 1e-5f);
  OpBuilder &b = c.rewriter;
  Location loc = c.loc;
  // Parameters [C] -> [C, 1, ..., 1] so they broadcast along dimension 1.
  SmallVector<Value> params;
  for (unsigned i = 1; i <= 4; ++i) {
    auto pt = c.inputType(i);
    if (!pt || pt.getRank() != 1)
      return c.fail("scale, B, mean and var must be 1-D");
    SmallVector<int64_t> shape(in.getRank() - 1, 1);
    shape[0] = pt.getDimSize(0);
    params.push_back(reshapeTo(b, loc, c.input(i), RankedTensorType::get(shape, et)));
  }
  Value r = buildElementwise(
      b, loc, {c.input(0), params[0], params[1], params[2], params[3]}, rt,
      [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
        Value var = arith::AddFOp::create(nb, nl, a[4], scalarConstant(nb, nl, et, eps));
        Value inv = math::RsqrtOp::create(nb, nl, var);
        Value norm = arith::MulFOp::create(nb, nl, arith::SubFOp::create(nb, nl, a[0], a[3]), inv);
        return arith::AddFOp::create(nb, nl, arith::MulFOp::create(nb, nl, norm, a[1]), a[2]);
      });
  SmallVector<Value> results = {r};
  for (unsigned i = 1; i < c.numResults(); ++i)
    results.push_back(c.input(i + 2)); // unused running stats: pass the inputs through
  return c.replace(results);
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

LogicalResult lowerTranspose(NodeContext &c) {
  auto in = c.inputType(0);
  auto rt = c.rankedResultType(0);
  if (!in)
    return c.fail("the input must be ranked");
  SmallVector<int64_t> perm;
  for (int64_t i = in.getRank() - 1; i >= 0; --i)
    perm.push_back(i);
  perm = c.intsAttr("perm", perm);
  if ((int64_t)perm.size() != in.getRank())
    return c.fail("perm has " + Twine(perm.size()) + " entries for a rank-" +
                  Twine(in.getRank()) + " input");
  SmallVector<Value> dyn;
  for (int64_t i = 0; i < rt.getRank(); ++i)
    if (rt.isDynamicDim(i))
      dyn.push_back(tensor::DimOp::create(c.rewriter, c.loc, c.input(0), perm[i]));
  Value init = createEmpty(c.rewriter, c.loc, rt, dyn);
  return c.replace(
      linalg::TransposeOp::create(c.rewriter, c.loc, c.input(0), init, perm).getResult()[0]);
}

LogicalResult lowerConcat(NodeContext &c) {
  auto rt = c.rankedResultType(0);
  if (failed(requireStatic(c, rt, "the result")))
    return failure();
  auto axis = normalizeAxis(c.intAttr("axis", 0), rt.getRank());
  if (!axis)
    return c.fail("axis is out of range");
  OpBuilder &b = c.rewriter;
  Value acc = createEmpty(b, c.loc, rt);
  int64_t offset = 0;
  for (unsigned i = 0; i < c.numInputs(); ++i) {
    auto t = c.inputType(i);
    if (failed(requireStatic(c, t, "input " + Twine(i))))
      return failure();
    if (t.getNumElements() == 0)
      continue;
    SmallVector<int64_t> offsets(rt.getRank(), 0), strides(rt.getRank(), 1);
    offsets[*axis] = offset;
    MLIRContext *ctx = b.getContext();
    acc = tensor::InsertSliceOp::create(b, c.loc, c.input(i), acc,
                                        getAsIndexOpFoldResult(ctx, offsets),
                                        getAsIndexOpFoldResult(ctx, t.getShape()),
                                        getAsIndexOpFoldResult(ctx, strides))
              .getResult();
    offset += t.getDimSize(*axis);
  }
  return c.replace(acc);
}

} // namespace

void registerCoreOps(OnnxHandlerTable &t) {
  t.add("MatMul", lowerMatMul);
  t.add("Gemm", lowerGemm);
  t.add("Conv", lowerConv);
  t.add("MaxPool", [](NodeContext &c) { return lowerPool(c, true); });
  t.add("AveragePool", [](NodeContext &c) { return lowerPool(c, false); });
  t.add("GlobalAveragePool", [](NodeContext &c) { return lowerGlobalPool(c, false); });
  t.add("GlobalMaxPool", [](NodeContext &c) { return lowerGlobalPool(c, true); });
  t.add("BatchNormalization", lowerBatchNorm);
  t.add("Reshape", reshapeToResult);
  t.add("Flatten", reshapeToResult);
  t.add("Squeeze", reshapeToResult);
  t.add("Unsqueeze", reshapeToResult);
  t.add("Transpose", lowerTranspose);
  t.add("Concat", lowerConcat);
}

} // namespace sparq::onnx
