//===- passes/ONNXToLinalg/PoolingNorm.cpp - pooling and normalization --------===//
//
// MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool, BatchNormalization (inference),
// InstanceNormalization, LayerNormalization and LpNormalization.
//
// Pools over a tensor.pad'ed input become linalg.pooling_nc{w,hw}_{max,sum} (float, 1-D/2-D)
// or an equivalent window linalg.generic (3-D, integer MaxPool, MaxPool with Indices).
// AveragePool divides the window sums by per-dimension element counts computed at compile time
// (count_include_pad, ceil_mode). Global pools and the statistics of the normalizations are
// linalg.reduce / reduction linalg.generics; the normalizations themselves are elementwise
// linalg.generics with per-channel factors computed once per channel.
//
//===----------------------------------------------------------------------===//
#include "passes/ONNXToLinalg/ONNXToLinalg.h"

#include <cmath>
#include <limits>

using namespace mlir;

namespace sparq::onnx {
namespace {

bool isFloat(Type t) { return isa<FloatType>(t); }

Value zeroOf(OpBuilder &b, Location l, Type t) { return scalarConstant(b, l, t, 0.0); }

/// `x` of shape [d0, ..., dn] reshaped to `rank` dims with `x`'s dims starting at `at` and unit
/// dims elsewhere (so that numpy broadcasting aligns them with dims at..at+n of a rank-`rank`
/// tensor).
Value alignDims(OpBuilder &b, Location loc, Value x, int64_t at, int64_t rank) {
  auto t = cast<RankedTensorType>(x.getType());
  SmallVector<int64_t> shape(rank - at, 1);
  for (int64_t i = 0; i < t.getRank(); ++i)
    shape[i] = t.getDimSize(i);
  return reshapeStatic(b, loc, x, shape);
}

/// The number of elements of `x` over `dims` as a scalar of its (float) element type: a
/// constant, times the dynamic sizes read at run time.
Value elementCount(OpBuilder &b, Location loc, Value x, ArrayRef<int64_t> dims) {
  auto t = cast<RankedTensorType>(x.getType());
  Type et = t.getElementType();
  double staticCount = 1;
  Value runCount; // the product of the dynamic sizes, index
  for (int64_t d : dims) {
    if (!t.isDynamicDim(d)) {
      staticCount *= t.getDimSize(d);
      continue;
    }
    Value n = dimValue(b, loc, x, d);
    runCount = runCount ? ScalarBuilder{b, loc}.mul(runCount, n) : n;
  }
  Value count = scalarConstant(b, loc, et, staticCount);
  if (!runCount)
    return count;
  Value i = arith::IndexCastOp::create(b, loc, b.getI64Type(), runCount);
  return arith::MulFOp::create(b, loc, count, arith::SIToFPOp::create(b, loc, et, i));
}

/// Shape of `t` with the dims in `dims` set to 1.
SmallVector<int64_t> keepDimsShape(RankedTensorType t, ArrayRef<int64_t> dims) {
  SmallVector<int64_t> s(t.getShape());
  for (int64_t d : dims)
    s[d] = 1;
  return s;
}

/// Reduces `x` over `dims` with a reduction linalg.generic: `acc = body(x, kept..., acc)` where
/// each `kept` value has the shape of `x` with `dims` set to 1 (e.g. a mean). The result keeps
/// the reduced dims with size 1.
Value reduceKeepDims(OpBuilder &b, Location loc, Value x, ValueRange kept, ArrayRef<int64_t> dims,
                     Value initValue,
                     function_ref<Value(OpBuilder &, Location, ValueRange)> body) {
  auto t = cast<RankedTensorType>(x.getType());
  MLIRContext *ctx = b.getContext();
  int64_t rank = t.getRank();
  SmallVector<AffineExpr> keptExprs;
  SmallVector<utils::IteratorType> iters;
  for (int64_t i = 0; i < rank; ++i) {
    bool red = llvm::is_contained(dims, i);
    keptExprs.push_back(red ? getAffineConstantExpr(0, ctx) : getAffineDimExpr(i, ctx));
    iters.push_back(red ? utils::IteratorType::reduction : utils::IteratorType::parallel);
  }
  auto outType = RankedTensorType::get(keepDimsShape(t, dims), initValue.getType());
  AffineMap keptMap = AffineMap::get(rank, 0, keptExprs, ctx);
  SmallVector<AffineMap> maps = {b.getMultiDimIdentityMap(rank)};
  SmallVector<Value> ins = {x};
  for (Value k : kept) {
    maps.push_back(keptMap);
    ins.push_back(k);
  }
  maps.push_back(keptMap);
  Value init = createFilled(b, loc, outType, initValue,
                            dynamicSizes(outType, [&](int64_t i) { return dimValue(b, loc, x, i); }));
  return linalg::GenericOp::create(b, loc, outType, ins, ValueRange{init}, maps, iters,
                                   [&](OpBuilder &nb, Location nl, ValueRange a) {
                                     linalg::YieldOp::create(nb, nl, body(nb, nl, a));
                                   })
      .getResult(0);
}

/// linalg.reduce of `x` over `dims` with `combine(x, acc)`, reshaped to keep the reduced dims
/// with size 1.
Value reduceNamedKeepDims(OpBuilder &b, Location loc, Value x, ArrayRef<int64_t> dims,
                          Value initValue,
                          function_ref<Value(OpBuilder &, Location, Value, Value)> combine) {
  auto t = cast<RankedTensorType>(x.getType());
  if (!t.hasStaticShape()) // the kept unit dims of a dynamic shape: one generic, no reshape
    return reduceKeepDims(b, loc, x, {}, dims, initValue,
                          [&](OpBuilder &nb, Location nl, ValueRange a) {
                            return combine(nb, nl, a[0], a[1]);
                          });
  SmallVector<int64_t> outShape;
  for (int64_t i = 0; i < t.getRank(); ++i)
    if (!llvm::is_contained(dims, i))
      outShape.push_back(t.getDimSize(i));
  Value init = createFilled(b, loc, RankedTensorType::get(outShape, t.getElementType()), initValue);
  Value r = linalg::ReduceOp::create(b, loc, ValueRange{x}, ValueRange{init}, dims,
                                     [&](OpBuilder &nb, Location nl, ValueRange a) {
                                       linalg::YieldOp::create(nb, nl, combine(nb, nl, a[0], a[1]));
                                     })
                .getResult(0);
  return reshapeStatic(b, loc, r, keepDimsShape(t, dims));
}

Value addF(OpBuilder &b, Location l, Value x, Value y) { return arith::AddFOp::create(b, l, x, y); }
Value subF(OpBuilder &b, Location l, Value x, Value y) { return arith::SubFOp::create(b, l, x, y); }
Value mulF(OpBuilder &b, Location l, Value x, Value y) { return arith::MulFOp::create(b, l, x, y); }
Value divF(OpBuilder &b, Location l, Value x, Value y) { return arith::DivFOp::create(b, l, x, y); }

/// 1 / sqrt(v + eps).
Value invStd(OpBuilder &b, Location l, Value var, double eps) {
  Value s = math::SqrtOp::create(b, l, addF(b, l, var, scalarConstant(b, l, var.getType(), eps)));
  return divF(b, l, scalarConstant(b, l, var.getType(), 1.0), s);
}

//===----------------------------------------------------------------------===//
// Pools
//===----------------------------------------------------------------------===//

/// A window linalg.generic over the padded `x` [N, C, in...]: loops (n, c, out..., k...),
/// `acc = combine(x, acc)` into `init` [N, C, out...].
Value poolGeneric(OpBuilder &b, Location loc, Value x, const SlidingWindow &w, Value init,
                  function_ref<Value(OpBuilder &, Location, Value, Value)> combine) {
  auto outType = cast<RankedTensorType>(init.getType());
  MLIRContext *ctx = b.getContext();
  int64_t sp = outType.getRank() - 2, nLoops = 2 + 2 * sp;
  SmallVector<AffineExpr> xE = {getAffineDimExpr(0, ctx), getAffineDimExpr(1, ctx)}, kE,
                          oE = xE;
  for (int64_t i = 0; i < sp; ++i) {
    AffineExpr o = getAffineDimExpr(2 + i, ctx), k = getAffineDimExpr(2 + sp + i, ctx);
    xE.push_back(o * w.strides[i] + k * w.dilations[i]);
    kE.push_back(k);
    oE.push_back(o);
  }
  Value window = tensor::EmptyOp::create(b, loc, w.kernel, outType.getElementType());
  SmallVector<AffineMap> maps = {AffineMap::get(nLoops, 0, xE, ctx),
                                 AffineMap::get(nLoops, 0, kE, ctx),
                                 AffineMap::get(nLoops, 0, oE, ctx)};
  SmallVector<utils::IteratorType> iters(nLoops, utils::IteratorType::parallel);
  for (int64_t i = 2 + sp; i < nLoops; ++i)
    iters[i] = utils::IteratorType::reduction;
  return linalg::GenericOp::create(b, loc, outType, ValueRange{x, window}, ValueRange{init}, maps,
                                   iters,
                                   [&](OpBuilder &nb, Location nl, ValueRange a) {
                                     linalg::YieldOp::create(nb, nl, combine(nb, nl, a[0], a[2]));
                                   })
      .getResult(0);
}

/// The pooling of the padded `x` into `init` (max or sum): the NCW/NCHW named op for float
/// 1-D and 2-D windows, else a window generic.
Value pool(OpBuilder &b, Location loc, bool isMax, bool isUnsigned, Value x,
           const SlidingWindow &w, Value init) {
  auto outType = cast<RankedTensorType>(init.getType());
  Type et = outType.getElementType();
  int64_t sp = outType.getRank() - 2;
  if (isFloat(et) && sp <= 2) {
    Value window = tensor::EmptyOp::create(b, loc, w.kernel, et);
    auto strides = b.getI64TensorAttr(w.strides);
    auto dilations = b.getI64TensorAttr(w.dilations);
    TypeRange ty(outType);
    SmallVector<Value> ins = {x, window}, outs = {init};
    if (isMax)
      return sp == 1 ? linalg::PoolingNcwMaxOp::create(b, loc, ty, ins, outs, strides, dilations)
                           .getResult(0)
                     : linalg::PoolingNchwMaxOp::create(b, loc, ty, ins, outs, strides, dilations)
                           .getResult(0);
    return sp == 1 ? linalg::PoolingNcwSumOp::create(b, loc, ty, ins, outs, strides, dilations)
                         .getResult(0)
                   : linalg::PoolingNchwSumOp::create(b, loc, ty, ins, outs, strides, dilations)
                         .getResult(0);
  }
  return poolGeneric(b, loc, x, w, init, [&](OpBuilder &nb, Location nl, Value v, Value acc) {
    if (!isMax)
      return addF(nb, nl, v, acc);
    if (isFloat(et))
      return arith::MaximumFOp::create(nb, nl, v, acc).getResult();
    if (isUnsigned)
      return arith::MaxUIOp::create(nb, nl, v, acc).getResult();
    return arith::MaxSIOp::create(nb, nl, v, acc).getResult();
  });
}

/// MaxPool with its Indices output: one window linalg.generic with two results. Out-of-input
/// window positions are skipped; ties keep the first position in scan order.
SmallVector<Value> maxPoolWithIndices(NodeContext &c, Value x, const SlidingWindow &w,
                                      RankedTensorType in, bool columnMajor) {
  OpBuilder &b = c.rewriter;
  Location loc = c.loc;
  MLIRContext *ctx = b.getContext();
  auto rt = c.rankedResultType(0), it = c.rankedResultType(1);
  Type et = rt.getElementType();
  bool isUnsigned = c.isUnsignedInput(0);
  int64_t sp = rt.getRank() - 2, nLoops = 2 + 2 * sp;
  SmallVector<AffineExpr> xE = {getAffineDimExpr(0, ctx), getAffineDimExpr(1, ctx)}, kE,
                          oE = xE;
  for (int64_t i = 0; i < sp; ++i) {
    AffineExpr o = getAffineDimExpr(2 + i, ctx), k = getAffineDimExpr(2 + sp + i, ctx);
    xE.push_back(o * w.strides[i] + k * w.dilations[i]);
    kE.push_back(k);
    oE.push_back(o);
  }
  Value window = tensor::EmptyOp::create(b, loc, w.kernel, et);
  AffineMap outMap = AffineMap::get(nLoops, 0, oE, ctx);
  SmallVector<AffineMap> maps = {AffineMap::get(nLoops, 0, xE, ctx),
                                 AffineMap::get(nLoops, 0, kE, ctx), outMap, outMap};
  SmallVector<utils::IteratorType> iters(nLoops, utils::IteratorType::parallel);
  for (int64_t i = 2 + sp; i < nLoops; ++i)
    iters[i] = utils::IteratorType::reduction;
  Value valInit = createFilled(b, loc, rt, zeroOf(b, loc, et));
  Value idxInit = createFilled(b, loc, it, scalarConstant(b, loc, it.getElementType(), -1));
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{rt, it}, ValueRange{x, window}, ValueRange{valInit, idxInit}, maps, iters,
      [&](OpBuilder &nb, Location nl, ValueRange a) {
        Type i64 = nb.getI64Type();
        auto idx = [&](int64_t d) -> Value {
          return arith::IndexCastOp::create(nb, nl, i64, linalg::IndexOp::create(nb, nl, d));
        };
        auto cst = [&](int64_t v) -> Value { return scalarConstant(nb, nl, i64, v); };
        Value valid = arith::ConstantOp::create(nb, nl, nb.getBoolAttr(true));
        // Flat index into the unpadded input: row-major over (n, c, spatial...), or with the
        // spatial dims column-major (storage_order = 1).
        Value flat = arith::AddIOp::create(
            nb, nl, arith::MulIOp::create(nb, nl, idx(0), cst(in.getDimSize(1))), idx(1));
        SmallVector<Value> pos;
        for (int64_t i = 0; i < sp; ++i) {
          Value p = arith::AddIOp::create(
              nb, nl, arith::MulIOp::create(nb, nl, idx(2 + i), cst(w.strides[i])),
              arith::MulIOp::create(nb, nl, idx(2 + sp + i), cst(w.dilations[i])));
          p = arith::SubIOp::create(nb, nl, p, cst(w.padLo[i]));
          Value ge = arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::sge, p, cst(0));
          Value lt = arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::slt, p,
                                           cst(in.getDimSize(2 + i)));
          valid = arith::AndIOp::create(nb, nl, valid, arith::AndIOp::create(nb, nl, ge, lt));
          pos.push_back(p);
        }
        Value spatial = cst(0);
        for (int64_t j = 0; j < sp; ++j) {
          int64_t i = columnMajor ? sp - 1 - j : j;
          spatial = arith::AddIOp::create(
              nb, nl, arith::MulIOp::create(nb, nl, spatial, cst(in.getDimSize(2 + i))), pos[i]);
        }
        int64_t spatialCount = 1;
        for (int64_t i = 0; i < sp; ++i)
          spatialCount *= in.getDimSize(2 + i);
        flat = arith::AddIOp::create(nb, nl, arith::MulIOp::create(nb, nl, flat, cst(spatialCount)),
                                     spatial);
        Value greater;
        if (isFloat(et))
          greater = arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OGT, a[0], a[2]);
        else
          greater = arith::CmpIOp::create(nb, nl,
                                          isUnsigned ? arith::CmpIPredicate::ugt
                                                     : arith::CmpIPredicate::sgt,
                                          a[0], a[2]);
        Value first = arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::slt, a[3], cst(0));
        Value take = arith::AndIOp::create(nb, nl, valid,
                                           arith::OrIOp::create(nb, nl, first, greater));
        Value v = arith::SelectOp::create(nb, nl, take, a[0], a[2]);
        Value ix = arith::SelectOp::create(nb, nl, take, flat, a[3]);
        linalg::YieldOp::create(nb, nl, ValueRange{v, ix});
      });
  return {generic.getResult(0), generic.getResult(1)};
}

/// Per-output-position counts of the window elements along one spatial dim that fall in
/// [lo, hi) (input coordinates).
SmallVector<int64_t> windowCounts(int64_t outSize, int64_t stride, int64_t dilation,
                                  int64_t kernel, int64_t padLo, int64_t lo, int64_t hi) {
  SmallVector<int64_t> counts;
  for (int64_t o = 0; o < outSize; ++o) {
    int64_t n = 0;
    for (int64_t k = 0; k < kernel; ++k) {
      int64_t p = o * stride - padLo + k * dilation;
      n += p >= lo && p < hi;
    }
    counts.push_back(n);
  }
  return counts;
}

/// The lowest value of `et` (-inf, or the integer minimum), MaxPool's padding.
Value lowestOf(OpBuilder &b, Location loc, Type et, bool isUnsigned) {
  if (isFloat(et))
    return scalarConstant(b, loc, et, -std::numeric_limits<double>::infinity());
  unsigned width = et.getIntOrFloatBitWidth();
  return arith::ConstantOp::create(
      b, loc, b.getIntegerAttr(et, isUnsigned ? APInt::getZero(width)
                                              : APInt::getSignedMinValue(width)));
}

/// MaxPool / AveragePool over dynamic sizes: the window from readDynamicWindow, the input
/// padded by run-time amounts, the pooling named op (or window generic) into a result of
/// run-time size; AveragePool's divisor counted per output position in the body.
LogicalResult lowerPoolDynamic(NodeContext &c, bool isMax, ArrayRef<int64_t> kernel,
                               bool ceilMode) {
  auto in = c.inputType(0);
  auto rt = c.rankedResultType(0);
  Type et = rt.getElementType();
  OpBuilder &b = c.rewriter;
  Location loc = c.loc;
  ScalarBuilder sb{b, loc};
  int64_t sp = in.getRank() - 2;
  if (isMax && c.numResults() > 1 && !c.op->getResult(1).use_empty())
    return c.fail("the Indices output needs static shapes (pin input shapes with --input-shape)");
  SmallVector<OpFoldResult> k;
  for (int64_t v : kernel)
    k.push_back(b.getIndexAttr(v));
  auto win = readDynamicWindow(c, c.input(0), k, ceilMode);
  if (failed(win))
    return failure();
  SmallVector<OpFoldResult> lo = {b.getIndexAttr(0), b.getIndexAttr(0)}, hi = lo;
  SmallVector<int64_t> shape = {in.getDimSize(0), in.getDimSize(1)};
  SmallVector<Value> dynSizes;
  for (int64_t d = 0; d < 2; ++d)
    if (in.isDynamicDim(d))
      dynSizes.push_back(dimValue(b, loc, c.input(0), d));
  for (int64_t i = 0; i < sp; ++i) {
    lo.push_back(win->padLo[i]);
    hi.push_back(sb.add(win->padHi[i], win->ceilHi[i]));
    shape.push_back(ShapedType::kDynamic);
    dynSizes.push_back(win->out[i]);
  }
  auto outType = RankedTensorType::get(shape, et);
  bool isUnsigned = c.isUnsignedInput(0);
  Value pad = isMax ? lowestOf(b, loc, et, isUnsigned) : zeroOf(b, loc, et);
  Value x = padDynamic(b, loc, c.input(0), lo, hi, pad);
  Value init = createFilled(b, loc, outType, pad, dynSizes);
  SlidingWindow sw;
  sw.kernel.assign(kernel.begin(), kernel.end());
  sw.strides = win->strides;
  sw.dilations = win->dilations;
  Value r = pool(b, loc, isMax, isUnsigned, x, sw, init);
  if (!isMax) {
    // Divisor per output position: the product over spatial dims of the window positions in
    // [lo, hi) (the input, or with count_include_pad the input and its explicit padding).
    bool includePad = c.intAttr("count_include_pad", 0) != 0;
    SmallVector<Value> sizes;
    for (int64_t i = 0; i < sp; ++i)
      sizes.push_back(dimValue(b, loc, c.input(0), 2 + i));
    r = buildIndexedGeneric(
        b, loc, outType, dynSizes, {r}, {b.getMultiDimIdentityMap(outType.getRank())},
        [&](OpBuilder &nb, Location nl, ValueRange ivs, ValueRange a) -> Value {
          ScalarBuilder s{nb, nl};
          Value count = s.cIdx(1);
          for (int64_t i = 0; i < sp; ++i) {
            Value st = s.cIdx(win->strides[i]), dl = s.cIdx(win->dilations[i]);
            Value lowB = includePad ? s.sub(s.cIdx(0), win->padLo[i]) : s.cIdx(0);
            Value highB = includePad ? s.add(sizes[i], win->padHi[i]) : sizes[i];
            // Window positions p_k = o*s - padLo + k*d for k in [0, K): count those in
            // [lowB, highB) as kmax - kmin + 1, clamped at 0.
            Value base = s.sub(s.mul(ivs[2 + i], st), win->padLo[i]);
            Value kmin = s.maxS(arith::CeilDivSIOp::create(nb, nl, s.sub(lowB, base), dl),
                                s.cIdx(0));
            Value kmax = s.minS(
                arith::FloorDivSIOp::create(nb, nl, s.sub(s.sub(highB, s.cIdx(1)), base), dl),
                s.sub(win->kernel[i], s.cIdx(1)));
            Value n = s.maxS(s.add(s.sub(kmax, kmin), s.cIdx(1)), s.cIdx(0));
            count = s.mul(count, n);
          }
          Value cf = arith::SIToFPOp::create(
              nb, nl, et, arith::IndexCastOp::create(nb, nl, nb.getI64Type(), count));
          return divF(nb, nl, a[0], cf);
        });
  }
  SmallVector<Value> results = {castTo(b, loc, r, rt)};
  if (c.numResults() > 1) // unused Indices
    results.push_back(createEmpty(b, loc, c.rankedResultType(1),
                                  dynamicSizes(c.rankedResultType(1),
                                               [&](int64_t i) { return dimValue(b, loc, r, i); })));
  return c.replace(results);
}

LogicalResult lowerPool(NodeContext &c, bool isMax) {
  auto in = c.inputType(0);
  auto rt = c.rankedResultType(0);
  if (failed(requireRanked(c, 0, "the input")))
    return failure();
  Type et = rt.getElementType();
  if (!isFloat(et) && !(isMax && isa<IntegerType>(et)))
    return c.fail(isMax ? "only floating-point and integer element types are supported"
                        : "only floating-point element types are supported");
  int64_t sp = in.getRank() - 2;
  if (sp < 1 || sp > 3)
    return c.fail("only 1-D, 2-D and 3-D pooling is supported, got " + Twine(sp) +
                  " spatial dimensions");
  if (!c.hasAttr("kernel_shape"))
    return c.fail("attribute 'kernel_shape' is required");
  int64_t ceilMode = c.intAttr("ceil_mode", 0);
  if (ceilMode != 0 && ceilMode != 1)
    return c.fail("attribute 'ceil_mode' = " + Twine(ceilMode) + " is not supported");
  int64_t storageOrder = isMax ? c.intAttr("storage_order", 0) : 0;
  if (storageOrder != 0 && storageOrder != 1)
    return c.fail("attribute 'storage_order' = " + Twine(storageOrder) + " is not supported");
  if (!in.hasStaticShape() || !rt.hasStaticShape())
    return lowerPoolDynamic(c, isMax, c.intsAttr("kernel_shape"), ceilMode != 0);
  auto win = readSlidingWindow(c, in, c.intsAttr("kernel_shape"), rt, ceilMode != 0);
  if (failed(win))
    return failure();
  OpBuilder &b = c.rewriter;
  Location loc = c.loc;
  SmallVector<int64_t> lo = {0, 0}, hi = {0, 0};
  for (int64_t i = 0; i < sp; ++i) {
    lo.push_back(win->padLo[i]);
    hi.push_back(win->padHi[i] + win->ceilHi[i]);
  }

  if (isMax) {
    bool isUnsigned = c.isUnsignedInput(0);
    Value lowest = lowestOf(b, loc, et, isUnsigned);
    Value x = padStatic(b, loc, c.input(0), lo, hi, lowest);
    bool wantIndices = c.numResults() > 1 && !c.op->getResult(1).use_empty();
    if (wantIndices) {
      auto it = c.rankedResultType(1);
      if (!it || !it.getElementType().isInteger(64))
        return c.fail("the Indices output must be an int64 tensor");
      return c.replace(maxPoolWithIndices(c, x, *win, in, storageOrder == 1));
    }
    Value init = createFilled(b, loc, rt, lowest);
    Value r = pool(b, loc, /*isMax=*/true, isUnsigned, x, *win, init);
    SmallVector<Value> results = {r};
    if (c.numResults() > 1) // unused Indices
      results.push_back(createEmpty(b, loc, c.rankedResultType(1)));
    return c.replace(results);
  }

  // AveragePool: window sums / element counts.
  Value zero = zeroOf(b, loc, et);
  Value x = padStatic(b, loc, c.input(0), lo, hi, zero);
  Value init = createFilled(b, loc, rt, zero);
  Value sum = pool(b, loc, /*isMax=*/false, /*isUnsigned=*/false, x, *win, init);
  // The divisor is separable: a product of per-dimension counts. Explicit (and auto_pad) padding
  // counts with count_include_pad; ceil_mode's overhang never does.
  bool includePad = c.intAttr("count_include_pad", 0) != 0;
  double uniform = 1.0;
  SmallVector<Value> ins = {sum};
  for (int64_t i = 0; i < sp; ++i) {
    int64_t size = in.getDimSize(2 + i);
    SmallVector<int64_t> counts = windowCounts(
        rt.getDimSize(2 + i), win->strides[i], win->dilations[i], win->kernel[i], win->padLo[i],
        includePad ? -win->padLo[i] : 0, includePad ? size + win->padHi[i] : size);
    if (llvm::all_equal(counts)) {
      uniform *= counts.empty() ? 1 : counts.front();
      continue;
    }
    SmallVector<Attribute> attrs;
    for (int64_t n : counts)
      attrs.push_back(b.getFloatAttr(et, (double)n));
    auto ct = RankedTensorType::get({(int64_t)counts.size()}, et);
    Value cv = arith::ConstantOp::create(b, loc, DenseElementsAttr::get(ct, attrs));
    ins.push_back(alignDims(b, loc, cv, 0, sp - i));
  }
  return c.replace(buildElementwise(b, loc, ins, rt, [&](OpBuilder &nb, Location nl, ValueRange a) {
    Value d = scalarConstant(nb, nl, et, uniform);
    for (Value v : a.drop_front())
      d = mulF(nb, nl, d, v);
    return divF(nb, nl, a[0], d);
  }));
}

LogicalResult lowerGlobalPool(NodeContext &c, bool isMax) {
  auto in = c.inputType(0);
  auto rt = c.rankedResultType(0);
  if (failed(requireRanked(c, 0, "the input")))
    return failure();
  Type et = in.getElementType();
  if (!isFloat(et))
    return c.fail("only floating-point element types are supported");
  if (in.getRank() < 3)
    return c.fail("the input must have at least one spatial dimension");
  OpBuilder &b = c.rewriter;
  Location loc = c.loc;
  SmallVector<int64_t> dims;
  for (int64_t i = 2; i < in.getRank(); ++i)
    dims.push_back(i);
  Value init = isMax ? scalarConstant(b, loc, et, -std::numeric_limits<double>::infinity())
                     : zeroOf(b, loc, et);
  Value r = reduceNamedKeepDims(b, loc, c.input(0), dims, init,
                                [&](OpBuilder &nb, Location nl, Value x, Value acc) -> Value {
                                  if (isMax)
                                    return arith::MaximumFOp::create(nb, nl, x, acc);
                                  return addF(nb, nl, x, acc);
                                });
  if (!isMax) {
    Value count = elementCount(b, loc, c.input(0), dims);
    r = buildElementwise(b, loc, {r}, rt, [&](OpBuilder &nb, Location nl, ValueRange a) {
      return divF(nb, nl, a[0], count);
    });
  }
  return c.replace(r);
}

//===----------------------------------------------------------------------===//
// Normalizations
//===----------------------------------------------------------------------===//

/// Mean and (population) variance of `x` over `dims` (kept with size 1), two-pass.
std::pair<Value, Value> meanAndVariance(OpBuilder &b, Location loc, Value x,
                                        ArrayRef<int64_t> dims);

/// BatchNormalization. `hasIsTest`: the 'is_test' attribute exists (opsets 1 and 6) and must
/// select inference; `hasSpatial`: the 'spatial' attribute exists (up to opset 7) and may ask for
/// per-sample parameters; from opset 9 on they are per channel.
LogicalResult lowerBatchNorm(NodeContext &c, bool hasIsTest, bool hasSpatial) {
  auto in = c.inputType(0);
  auto rt = c.rankedResultType(0);
  if (failed(requireRanked(c, 0, "the input")))
    return failure();
  // Training mode (opset 14 on): normalizes with the batch's statistics and outputs the
  // running ones, input * momentum + batch * (1 - momentum).
  bool training = c.intAttr("training_mode", 0) != 0;
  if (hasIsTest && c.intAttr("is_test", 0) == 0)
    return c.fail("attribute 'is_test' = 0 (training) is not supported (inference only)");
  if (!training)
    for (unsigned i = 1; i < c.numResults(); ++i)
      if (!c.op->getResult(i).use_empty())
        return c.fail("output " + Twine(i) +
                      " (a training statistic) is not supported (inference only)");
  Type et = in.getElementType();
  if (!isFloat(et))
    return c.fail("only floating-point element types are supported");
  if (in.getRank() < 2)
    return c.fail("the input must have rank >= 2");
  // spatial = 0: the parameters have the shape of one sample, [C, D1, ...].
  bool spatial = !hasSpatial || c.intAttr("spatial", 1) != 0;
  SmallVector<int64_t> paramShape = {in.getDimSize(1)};
  if (!spatial)
    paramShape.assign(in.getShape().begin() + 1, in.getShape().end());
  for (unsigned i = 1; i <= 4; ++i) {
    auto pt = c.inputType(i);
    if (!pt || failed(verifyCompatibleShape(pt.getShape(), paramShape)))
      return c.fail("input " + Twine(i) + " (scale, B, mean, var) must have the shape [" +
                    Twine(paramShape.front()) + (spatial ? "]" : ", ...]"));
  }
  double eps = c.floatAttr("epsilon", 1e-5f);
  OpBuilder &b = c.rewriter;
  Location loc = c.loc;
  auto paramType = RankedTensorType::get(paramShape, et);
  auto toEt = [&](OpBuilder &nb, Location nl, Value v) {
    return castScalar(nb, nl, v, et, false, false);
  };
  int64_t rank = in.getRank();
  Value mean = c.input(3), var = c.input(4), bias = c.input(2);
  SmallVector<Value> running;
  if (training) {
    if (!spatial)
      return c.fail("training mode needs per-channel parameters");
    SmallVector<int64_t> dims = {0};
    for (int64_t d = 2; d < rank; ++d)
      dims.push_back(d);
    auto [batchMean, batchVar] = meanAndVariance(b, loc, c.input(0), dims);
    batchMean = reshapeStatic(b, loc, batchMean, paramShape);
    batchVar = reshapeStatic(b, loc, batchVar, paramShape);
    double momentum = c.floatAttr("momentum", 0.9f);
    Value batchStats[2] = {batchMean, batchVar};
    for (auto [i, batch] : llvm::enumerate(batchStats)) {
      if (c.numResults() <= 1 + i)
        break;
      running.push_back(buildElementwise(
          b, loc, {c.input(3 + i), batch}, c.rankedResultType(1 + i),
          [&](OpBuilder &nb, Location nl, ValueRange a) {
            return addF(nb, nl, mulF(nb, nl, a[0], scalarConstant(nb, nl, et, momentum)),
                        mulF(nb, nl, a[1], scalarConstant(nb, nl, et, 1.0 - momentum)));
          }));
    }
    mean = batchMean;
    var = batchVar;
  }
  // Per channel: a = scale / sqrt(var + eps).
  Value factor = buildElementwise(b, loc, {c.input(1), var}, paramType,
                                  [&](OpBuilder &nb, Location nl, ValueRange a) {
                                    return mulF(nb, nl, toEt(nb, nl, a[0]),
                                                invStd(nb, nl, toEt(nb, nl, a[1]), eps));
                                  });
  if (spatial) {
    factor = alignDims(b, loc, factor, 1, rank);
    mean = alignDims(b, loc, mean, 1, rank);
    bias = alignDims(b, loc, bias, 1, rank);
  }
  // y = (x - mean) * a + B.
  Value y = buildElementwise(b, loc, {c.input(0), mean, factor, bias}, rt,
                             [&](OpBuilder &nb, Location nl, ValueRange a) {
                               Value d = subF(nb, nl, a[0], toEt(nb, nl, a[1]));
                               return addF(nb, nl, mulF(nb, nl, d, a[2]), toEt(nb, nl, a[3]));
                             });
  SmallVector<Value> results = {y};
  results.append(running);
  for (unsigned i = results.size(); i < c.numResults(); ++i)
    results.push_back(createEmpty(b, loc, c.rankedResultType(i))); // unused outputs
  return c.replace(results);
}

/// The mean of `x` over `dims` (kept with size 1), the sum of squared deviations from it and
/// the number of elements reduced: the two passes of meanAndVariance and meanAndInvStd.
struct Moments {
  Value mean, squares;
  Value count; // scalar of the element type
};
Moments moments(OpBuilder &b, Location loc, Value x, ArrayRef<int64_t> dims) {
  auto t = cast<RankedTensorType>(x.getType());
  Type et = t.getElementType();
  Value count = elementCount(b, loc, x, dims);
  auto keptType = RankedTensorType::get(keepDimsShape(t, dims), et);
  Value sum = reduceNamedKeepDims(b, loc, x, dims, zeroOf(b, loc, et),
                                  [](OpBuilder &nb, Location nl, Value v, Value acc) -> Value {
                                    return addF(nb, nl, v, acc);
                                  });
  Value mean = buildElementwise(b, loc, {sum}, keptType,
                                [&](OpBuilder &nb, Location nl, ValueRange a) {
                                  return divF(nb, nl, a[0], count);
                                });
  Value sq = reduceKeepDims(b, loc, x, {mean}, dims, zeroOf(b, loc, et),
                            [](OpBuilder &nb, Location nl, ValueRange a) -> Value {
                              Value d = subF(nb, nl, a[0], a[1]);
                              return addF(nb, nl, a[2], mulF(nb, nl, d, d));
                            });
  return {mean, sq, count};
}

std::pair<Value, Value> meanAndVariance(OpBuilder &b, Location loc, Value x,
                                        ArrayRef<int64_t> dims) {
  Moments m = moments(b, loc, x, dims);
  auto type = cast<RankedTensorType>(m.squares.getType());
  Value var = buildElementwise(b, loc, {m.squares}, type,
                               [&](OpBuilder &nb, Location nl, ValueRange a) {
                                 return divF(nb, nl, a[0], m.count);
                               });
  return {m.mean, var};
}

/// Mean and 1/sqrt(var + eps) of `x` over `dims` (kept with size 1), two-pass.
std::pair<Value, Value> meanAndInvStd(OpBuilder &b, Location loc, Value x, ArrayRef<int64_t> dims,
                                      double eps) {
  Moments m = moments(b, loc, x, dims);
  auto type = cast<RankedTensorType>(m.squares.getType());
  Value inv = buildElementwise(b, loc, {m.squares}, type,
                               [&](OpBuilder &nb, Location nl, ValueRange a) {
                                 Value var = divF(nb, nl, a[0], m.count);
                                 return invStd(nb, nl, var, eps);
                               });
  return {m.mean, inv};
}

LogicalResult lowerInstanceNorm(NodeContext &c) {
  auto in = c.inputType(0);
  auto rt = c.rankedResultType(0);
  if (failed(requireRanked(c, 0, "the input")))
    return failure();
  Type et = in.getElementType();
  if (!isFloat(et))
    return c.fail("only floating-point element types are supported");
  int64_t rank = in.getRank();
  if (rank < 3)
    return c.fail("the input must have at least one spatial dimension");
  for (unsigned i = 1; i <= 2; ++i) {
    auto pt = c.inputType(i);
    if (!pt || pt.getRank() != 1 ||
        (!pt.isDynamicDim(0) && !in.isDynamicDim(1) && pt.getDimSize(0) != in.getDimSize(1)))
      return c.fail("input " + Twine(i) + " (scale, B) must have the shape [" +
                    Twine(in.getDimSize(1)) + "]");
  }
  double eps = c.floatAttr("epsilon", 1e-5f);
  OpBuilder &b = c.rewriter;
  Location loc = c.loc;
  SmallVector<int64_t> dims;
  for (int64_t i = 2; i < rank; ++i)
    dims.push_back(i);
  auto [mean, inv] = meanAndInvStd(b, loc, c.input(0), dims, eps);
  Value scale = alignDims(b, loc, c.input(1), 1, rank);
  Value bias = alignDims(b, loc, c.input(2), 1, rank);
  // Per (n, c): a = scale * inv.
  auto keptType = cast<RankedTensorType>(inv.getType());
  Value factor = buildElementwise(b, loc, {inv, scale}, keptType,
                                  [](OpBuilder &nb, Location nl, ValueRange a) {
                                    return mulF(nb, nl, a[0], a[1]);
                                  });
  return c.replace(buildElementwise(b, loc, {c.input(0), mean, factor, bias}, rt,
                                    [](OpBuilder &nb, Location nl, ValueRange a) {
                                      Value d = subF(nb, nl, a[0], a[1]);
                                      return addF(nb, nl, mulF(nb, nl, d, a[2]), a[3]);
                                    }));
}

/// GroupNormalization-18 and -21: the C channels of X [N, C, ...] in `num_groups` groups of
/// C / G, each normalized over its channels and spatial dims (the statistics in `stash_type`,
/// float32 by default), then scaled and shifted per group (opset 18: scale and bias [G]) or per
/// channel (opset 21: [C]). Static shapes: X is viewed as [N, G, C / G, spatial...].
LogicalResult lowerGroupNorm(NodeContext &c, bool perChannel) {
  auto in = c.inputType(0);
  auto rt = c.rankedResultType(0);
  if (failed(requireRanked(c, 0, "the input")) ||
      failed(requireStaticShape(c, in, "the input")))
    return failure();
  Type et = in.getElementType();
  if (!isFloat(et))
    return c.fail("only floating-point element types are supported");
  const int64_t rank = in.getRank(), channels = rank >= 2 ? in.getDimSize(1) : 0;
  const int64_t groups = c.intAttr("num_groups", 0);
  if (rank < 3)
    return c.fail("the input must be [N, C, spatial...]");
  if (groups < 1 || channels % groups != 0)
    return c.fail("attribute 'num_groups' = " + Twine(groups) + " must divide the " +
                  Twine(channels) + " channels");
  const int64_t paramSize = perChannel ? channels : groups;
  for (unsigned i = 1; i <= 2; ++i) {
    auto pt = c.inputType(i);
    if (!pt || pt.getRank() != 1 || pt.getDimSize(0) != paramSize)
      return c.fail("input " + Twine(i) + " (" + (i == 1 ? "scale" : "bias") +
                    ") must have the shape [" + Twine(paramSize) + "]");
  }
  Type st = et;
  switch (c.intAttr("stash_type", 1)) {
  case 1: st = c.rewriter.getF32Type(); break;
  case 11: st = c.rewriter.getF64Type(); break;
  default:
    return c.fail("attribute 'stash_type' = " + Twine(c.intAttr("stash_type", 1)) +
                  " is not supported (1: float32, 11: float64)");
  }
  OpBuilder &b = c.rewriter;
  Location loc = c.loc;
  // [N, G, C/G, spatial...] in the statistics' type.
  SmallVector<int64_t> grouped = {in.getDimSize(0), groups, channels / groups};
  grouped.append(in.getShape().begin() + 2, in.getShape().end());
  const int64_t grank = rank + 1;
  auto gtype = RankedTensorType::get(grouped, st);
  Value x = reshapeStatic(b, loc, c.input(0), grouped);
  if (st != et)
    x = buildElementwise(b, loc, {x}, gtype, [&](OpBuilder &nb, Location nl, ValueRange a) {
      return castScalar(nb, nl, a[0], st, false, false);
    });
  SmallVector<int64_t> dims;
  for (int64_t d = 2; d < grank; ++d)
    dims.push_back(d);
  auto [mean, inv] = meanAndInvStd(b, loc, x, dims, c.floatAttr("epsilon", 1e-5f));
  // scale and bias along the group dim (opset 18) or the group and channel-in-group dims (21).
  SmallVector<int64_t> paramShape(grank, 1);
  paramShape[1] = groups;
  if (perChannel)
    paramShape[2] = channels / groups;
  Value scale = reshapeStatic(b, loc, c.input(1), paramShape);
  Value bias = reshapeStatic(b, loc, c.input(2), paramShape);
  Value y = buildElementwise(b, loc, {x, mean, inv, scale, bias},
                             RankedTensorType::get(grouped, et),
                             [&](OpBuilder &nb, Location nl, ValueRange a) {
                               Value nrm = castScalar(
                                   nb, nl, mulF(nb, nl, subF(nb, nl, a[0], a[1]), a[2]), et,
                                   false, false);
                               return addF(nb, nl, mulF(nb, nl, nrm, a[3]), a[4]);
                             });
  return c.replace(castTo(b, loc, reshapeStatic(b, loc, y, in.getShape()), rt));
}

/// LayerNormalization / LpNormalization: a floating-point input (static or dynamic) and its
/// `axis` attribute (default -1), normalized.
FailureOr<int64_t> floatInputAxis(NodeContext &c, RankedTensorType in) {
  if (!isFloat(in.getElementType()))
    return c.fail("only floating-point element types are supported");
  return axisAttr(c, in.getRank(), -1);
}

LogicalResult lowerLayerNorm(NodeContext &c) {
  auto in = c.inputType(0);
  auto rt = c.rankedResultType(0);
  auto axis = floatInputAxis(c, in);
  if (failed(axis))
    return failure();
  Type et = in.getElementType();
  int64_t rank = in.getRank();
  OpBuilder &b = c.rewriter;
  Location loc = c.loc;
  // stash_type: the element type of the statistics (TensorProto codes).
  int64_t stash = c.intAttr("stash_type", 1);
  Type st;
  switch (stash) {
  case 1: st = b.getF32Type(); break;
  case 10: st = b.getF16Type(); break;
  case 11: st = b.getF64Type(); break;
  case 16: st = b.getBF16Type(); break;
  default:
    return c.fail("attribute 'stash_type' = " + Twine(stash) + " is not supported");
  }
  SmallVector<int64_t> normShape(in.getShape().begin() + *axis, in.getShape().end());
  for (unsigned i = 1; i <= 2; ++i) {
    if (!c.hasInput(i))
      continue;
    auto pt = c.inputType(i);
    if (!pt)
      return c.fail(Twine(i == 1 ? "Scale" : "B") + " must be a ranked tensor");
    if (!pt.hasStaticShape() || ShapedType::isDynamicShape(normShape))
      continue; // equal sizes are checked at run time (sparq-runtime-checks)
    auto bs = broadcastShapes({SmallVector<int64_t>(pt.getShape()), normShape});
    if (failed(bs) || ArrayRef<int64_t>(*bs) != ArrayRef<int64_t>(normShape))
      return c.fail(Twine(i == 1 ? "Scale" : "B") +
                    " does not broadcast to the normalized dimensions");
  }
  if (!c.hasInput(1))
    return c.fail("input Scale is required");
  SmallVector<int64_t> dims;
  for (int64_t i = *axis; i < rank; ++i)
    dims.push_back(i);
  Value x = c.input(0);
  if (st != et)
    x = buildElementwise(b, loc, {x}, RankedTensorType::get(in.getShape(), st),
                         [&](OpBuilder &nb, Location nl, ValueRange a) {
                           return castScalar(nb, nl, a[0], st, false, false);
                         });
  auto [mean, inv] = meanAndInvStd(b, loc, x, dims, c.floatAttr("epsilon", 1e-5f));
  // y = cast((x - mean) * inv) * scale + B.
  SmallVector<Value> ins = {x, mean, inv, c.input(1)};
  if (c.hasInput(2))
    ins.push_back(c.input(2));
  Value y = buildElementwise(b, loc, ins, rt, [&](OpBuilder &nb, Location nl, ValueRange a) {
    Value nrm = castScalar(nb, nl, mulF(nb, nl, subF(nb, nl, a[0], a[1]), a[2]), et, false, false);
    Value v = mulF(nb, nl, nrm, a[3]);
    if (a.size() > 4)
      v = addF(nb, nl, v, a[4]);
    return v;
  });
  SmallVector<Value> results = {y, mean, inv};
  for (unsigned i = 1; i < c.numResults(); ++i) {
    auto want = c.rankedResultType(i);
    if (want != results[i].getType()) {
      if (!c.op->getResult(i).use_empty())
        return c.fail("output " + Twine(i) + " does not have the type of the statistics (" +
                      "the stash_type element type, reduced dims kept with size 1)");
      results[i] = createEmpty(b, loc, want);
    }
  }
  results.resize(c.numResults());
  return c.replace(results);
}

LogicalResult lowerLpNorm(NodeContext &c) {
  auto in = c.inputType(0);
  auto rt = c.rankedResultType(0);
  auto axis = floatInputAxis(c, in);
  if (failed(axis))
    return failure();
  Type et = in.getElementType();
  int64_t p = c.intAttr("p", 2);
  if (p != 1 && p != 2)
    return c.fail("attribute 'p' = " + Twine(p) + " is not supported (only 1 and 2)");
  OpBuilder &b = c.rewriter;
  Location loc = c.loc;
  Value norm = reduceNamedKeepDims(b, loc, c.input(0), {*axis}, zeroOf(b, loc, et),
                                   [&](OpBuilder &nb, Location nl, Value v, Value acc) -> Value {
                                     Value t = p == 1 ? math::AbsFOp::create(nb, nl, v).getResult()
                                                      : mulF(nb, nl, v, v);
                                     return addF(nb, nl, t, acc);
                                   });
  return c.replace(buildElementwise(b, loc, {c.input(0), norm}, rt,
                                    [&](OpBuilder &nb, Location nl, ValueRange a) {
                                      Value n = a[1];
                                      if (p == 2)
                                        n = math::SqrtOp::create(nb, nl, n);
                                      return divF(nb, nl, a[0], n);
                                    }));
}

} // namespace

void registerPoolingNormOps(OnnxHandlerTable &t) {
  t.add("MaxPool", 1, [](NodeContext &c) { return lowerPool(c, true); });
  t.add("AveragePool", 1, [](NodeContext &c) { return lowerPool(c, false); });
  t.add("GlobalAveragePool", 1, [](NodeContext &c) { return lowerGlobalPool(c, false); });
  t.add("GlobalMaxPool", 1, [](NodeContext &c) { return lowerGlobalPool(c, true); });
  // 'is_test' exists in opsets 1 and 6, 'spatial' up to opset 7.
  t.add("BatchNormalization", 1, [](NodeContext &c) {
    return lowerBatchNorm(c, /*hasIsTest=*/true, /*hasSpatial=*/true);
  });
  t.add("BatchNormalization", 7, [](NodeContext &c) {
    return lowerBatchNorm(c, /*hasIsTest=*/false, /*hasSpatial=*/true);
  });
  t.add("BatchNormalization", 9, [](NodeContext &c) {
    return lowerBatchNorm(c, /*hasIsTest=*/false, /*hasSpatial=*/false);
  });
  t.add("InstanceNormalization", 1, lowerInstanceNorm);
  t.add("GroupNormalization", 18, [](NodeContext &c) { return lowerGroupNorm(c, false); });
  t.add("GroupNormalization", 21, [](NodeContext &c) { return lowerGroupNorm(c, true); });
  t.add("LayerNormalization", 17, lowerLayerNorm);
  t.add("LpNormalization", 1, lowerLpNorm);
}

} // namespace sparq::onnx
