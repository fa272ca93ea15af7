//===- passes/ONNXToLinalg/Numeric.cpp - LRN, Shrink, Det, DFT ----------------===//
//
// Numerical operators that fit no other group:
//  - LRN: the sum of squares over a window of `size` channels (x zero-padded along C, one
//    linalg.generic reducing over the window offset; f16/bf16 accumulate in f32), then
//    y = x / (bias + alpha / size * sum)^beta elementwise.
//  - Shrink: elementwise; integer inputs are computed in f64 and truncated back like ONNX's
//    reference (x + bias in the input type).
//  - Det: LU elimination with partial pivoting, batched over the leading dimensions: an scf.for
//    over the pivot column k carrying the matrices and the running determinants; each step is a
//    pivot search (a reduction over the rows), the row swap fused with the elimination of
//    column k below the pivot, and det *= (swapped ? -1 : 1) * pivot. A zero pivot leaves the
//    matrix as it is (the determinant is already 0).
//  - DFT: the direct sum Y[k] = sum_n X[n] e^(-+2 pi i k n / N), one linalg.generic over the
//    output with the signal index as its reduction dimension; the angle from (k n mod N) / N
//    and the sum in f64, so long signals keep their precision. O(N^2) per signal: no FFT.
//
//===----------------------------------------------------------------------===//
#include "passes/ONNXToLinalg/ONNXToLinalg.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

#include <cmath>

using namespace mlir;

namespace sparq::onnx {
namespace {

//===----------------------------------------------------------------------===//
// LRN
//===----------------------------------------------------------------------===//

LogicalResult lowerLRN(NodeContext &c) {
  RankedTensorType xt = c.inputType(0), rt = c.rankedResultType(0);
  if (failed(requireStaticShape(c, xt, "the input")) ||
      failed(requireStaticShape(c, rt, "the result")))
    return failure();
  auto ft = dyn_cast<FloatType>(xt.getElementType());
  if (!ft)
    return c.fail("the input must be a floating-point tensor");
  int64_t rank = xt.getRank();
  if (rank < 3)
    return c.fail("the input must have rank >= 3 (N, C, spatial...), got " + Twine(rank));
  if (!c.hasAttr("size"))
    return c.fail("attribute 'size' is required");
  int64_t size = c.intAttr("size", 0);
  if (size < 1)
    return c.fail("attribute 'size' = " + Twine(size) + " must be positive");
  double alpha = c.floatAttr("alpha", 1e-4f), beta = c.floatAttr("beta", 0.75f),
         bias = c.floatAttr("bias", 1.0f);
  OpBuilder &b = c.rewriter;
  Location loc = c.loc;
  MLIRContext *ctx = b.getContext();
  Type acc = ft.getWidth() < 32 ? Type(b.getF32Type()) : Type(ft);
  // x padded along C by floor((size-1)/2) below and ceil((size-1)/2) above.
  SmallVector<int64_t> lo(rank, 0), hi(rank, 0);
  lo[1] = (size - 1) / 2;
  hi[1] = size - 1 - lo[1];
  Value xp = padStatic(b, loc, c.input(0), lo, hi, scalarConstant(b, loc, ft, 0.0));
  auto sumType = RankedTensorType::get(xt.getShape(), acc);
  Value init = createFilled(b, loc, sumType, scalarConstant(b, loc, acc, 0.0));
  SmallVector<AffineExpr> inE;
  for (int64_t d = 0; d < rank; ++d)
    inE.push_back(d == 1 ? getAffineDimExpr(1, ctx) + getAffineDimExpr(rank, ctx)
                         : getAffineDimExpr(d, ctx));
  SmallVector<AffineMap> maps = {AffineMap::get(rank + 1, 0, inE, ctx),
                                 AffineMap::getMultiDimIdentityMap(rank + 1, ctx)
                                     .getSubMap(llvm::to_vector(llvm::seq<unsigned>(0, rank)))};
  SmallVector<utils::IteratorType> iters(rank + 1, utils::IteratorType::parallel);
  iters[rank] = utils::IteratorType::reduction;
  // The window offset loop needs a bound: a constant-size operand over it.
  Value window = createEmpty(b, loc, RankedTensorType::get({size}, acc));
  maps.insert(maps.begin() + 1, AffineMap::get(rank + 1, 0, {getAffineDimExpr(rank, ctx)}, ctx));
  Value sum = linalg::GenericOp::create(
                  b, loc, sumType, ValueRange{xp, window}, ValueRange{init}, maps, iters,
                  [&](OpBuilder &nb, Location nl, ValueRange a) {
                    Value v = castScalar(nb, nl, a[0], acc, false, false);
                    Value sq = arith::MulFOp::create(nb, nl, v, v);
                    linalg::YieldOp::create(nb, nl,
                                            arith::AddFOp::create(nb, nl, a[2], sq).getResult());
                  })
                  .getResult(0);
  Value y = buildElementwise(
      b, loc, {c.input(0), sum}, rt, [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
        Value x = castScalar(nb, nl, a[0], acc, false, false);
        Value s = arith::MulFOp::create(nb, nl, a[1], scalarConstant(nb, nl, acc, alpha / size));
        Value d = arith::AddFOp::create(nb, nl, s, scalarConstant(nb, nl, acc, bias));
        Value p = math::PowFOp::create(nb, nl, d, scalarConstant(nb, nl, acc, beta));
        return castScalar(nb, nl, arith::DivFOp::create(nb, nl, x, p), ft, false, false);
      });
  return c.replace(y);
}

//===----------------------------------------------------------------------===//
// Shrink
//===----------------------------------------------------------------------===//

LogicalResult lowerShrink(NodeContext &c) {
  RankedTensorType xt = c.inputType(0), rt = c.rankedResultType(0);
  if (!xt || !rt)
    return c.fail("the input must be a ranked tensor");
  Type et = xt.getElementType();
  if (!isa<FloatType>(et) && !isa<IntegerType>(et))
    return c.fail("unsupported element type");
  double lambd = c.floatAttr("lambd", 0.5f), bias = c.floatAttr("bias", 0.0f);
  bool u = c.isUnsignedInput(0);
  Value y = buildElementwise(
      c.rewriter, c.loc, {c.input(0)}, rt, [&](OpBuilder &b, Location l, ValueRange a) -> Value {
        Type ct = isa<FloatType>(et) ? et : Type(b.getF64Type());
        Value x = castScalar(b, l, a[0], ct, u, false);
        Value below = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OLT, x,
                                            scalarConstant(b, l, ct, -lambd));
        Value above = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT, x,
                                            scalarConstant(b, l, ct, lambd));
        Value bv = scalarConstant(b, l, ct, bias);
        Value r = arith::SelectOp::create(b, l, above, arith::SubFOp::create(b, l, x, bv),
                                          scalarConstant(b, l, ct, 0.0));
        r = arith::SelectOp::create(b, l, below, arith::AddFOp::create(b, l, x, bv), r);
        return castScalar(b, l, r, et, false, u);
      });
  return c.replace(y);
}

//===----------------------------------------------------------------------===//
// Det
//===----------------------------------------------------------------------===//

LogicalResult lowerDet(NodeContext &c) {
  RankedTensorType xt = c.inputType(0), rt = c.rankedResultType(0);
  if (failed(requireStaticShape(c, xt, "the input")) ||
      failed(requireStaticShape(c, rt, "the result")))
    return failure();
  auto ft = dyn_cast<FloatType>(xt.getElementType());
  if (!ft)
    return c.fail("the input must be a floating-point tensor");
  int64_t rank = xt.getRank();
  if (rank < 2 || xt.getDimSize(rank - 1) != xt.getDimSize(rank - 2))
    return c.fail("the input must be a batch of square matrices, got shape " +
                  joinInts(xt.getShape()));
  int64_t n = xt.getDimSize(rank - 1);
  int64_t batch = xt.getNumElements() / std::max<int64_t>(n * n, 1);
  if (rt.getShape() != xt.getShape().drop_back(2))
    return c.fail("the result shape must be the input's batch dimensions");
  OpBuilder &b = c.rewriter;
  Location loc = c.loc;
  MLIRContext *ctx = b.getContext();
  ScalarBuilder sb{b, loc};
  Type i64 = b.getI64Type();
  auto matType = RankedTensorType::get({batch, n, n}, ft);
  auto detType = RankedTensorType::get({batch}, ft);
  auto pivType = RankedTensorType::get({batch}, i64);
  // A writable copy of the input: the loop updates the matrices in place.
  Value a0 = linalg::CopyOp::create(b, loc, reshapeStatic(b, loc, c.input(0), {batch, n, n}),
                                    createEmpty(b, loc, matType))
                 .getResult(0);
  Value det0 = createFilled(b, loc, detType, scalarConstant(b, loc, ft, 1.0));
  auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
  auto loop = scf::ForOp::create(
      b, loc, sb.cIdx(0), sb.cIdx(n), sb.cIdx(1), ValueRange{a0, det0},
      [&](OpBuilder &nb, Location nl, Value k, ValueRange iter) {
        Value a = iter[0], det = iter[1];
        Value k64 = arith::IndexCastOp::create(nb, nl, i64, k);
        // Pivot row p >= k of the largest |a[b, p, k]| (the first of equals).
        Value pInit = linalg::FillOp::create(nb, nl, k64, createEmpty(nb, nl, pivType))
                          .getResult(0);
        Value mInit = createFilled(nb, nl, detType, scalarConstant(nb, nl, ft, -1.0));
        // The matrices (column 0) only give the row loop its bound; the body reads column k.
        AffineMap rows = AffineMap::get(2, 0, {d(0), d(1), nb.getAffineConstantExpr(0)}, ctx);
        SmallVector<AffineMap> pMaps = {rows, AffineMap::get(2, 0, {d(0)}, ctx),
                                        AffineMap::get(2, 0, {d(0)}, ctx)};
        auto piv = linalg::GenericOp::create(
            nb, nl, TypeRange{pivType, detType}, ValueRange{a}, ValueRange{pInit, mInit}, pMaps,
            {utils::IteratorType::parallel, utils::IteratorType::reduction},
            [&](OpBuilder &bb, Location bl, ValueRange args) {
              Value bi = linalg::IndexOp::create(bb, bl, 0), i = linalg::IndexOp::create(bb, bl, 1);
              Value v = math::AbsFOp::create(
                  bb, bl, tensor::ExtractOp::create(bb, bl, a, ValueRange{bi, i, k}));
              Value better = arith::AndIOp::create(
                  bb, bl, arith::CmpIOp::create(bb, bl, arith::CmpIPredicate::uge, i, k),
                  arith::CmpFOp::create(bb, bl, arith::CmpFPredicate::OGT, v, args[2]));
              Value i64v = arith::IndexCastOp::create(bb, bl, i64, i);
              linalg::YieldOp::create(
                  bb, bl,
                  ValueRange{arith::SelectOp::create(bb, bl, better, i64v, args[1]),
                             arith::SelectOp::create(bb, bl, better, v, args[2])});
            });
        Value p = piv.getResult(0);
        auto pOf = [&](OpBuilder &bb, Location bl, Value pv) {
          return arith::IndexCastOp::create(bb, bl, bb.getIndexType(), pv).getResult();
        };
        // The step reads a copy of the matrices and updates the iteration's own tensors in place
        // (reading them as outs), so that the yielded values bufferize to the iteration args.
        Value old = linalg::CopyOp::create(nb, nl, a, createEmpty(nb, nl, matType)).getResult(0);
        // Rows k and p swapped, then column k eliminated below the pivot.
        AffineMap id3 = nb.getMultiDimIdentityMap(3), id1 = nb.getMultiDimIdentityMap(1);
        Value next =
            linalg::GenericOp::create(
                nb, nl, matType, ValueRange{p}, ValueRange{a},
                SmallVector<AffineMap>{AffineMap::get(3, 0, {d(0)}, ctx), id3},
                SmallVector<utils::IteratorType>(3, utils::IteratorType::parallel),
                [&](OpBuilder &bb, Location bl, ValueRange args) {
                  ScalarBuilder s{bb, bl};
                  Value pi = pOf(bb, bl, args[0]);
                  Value bi = s.index(0), i = s.index(1), j = s.index(2);
                  Value src = s.select(s.eq(i, k), pi, s.select(s.eq(i, pi), k, i));
                  Value v = s.extract(old, {bi, src, j});
                  Value pivot = s.extract(old, {bi, pi, k});
                  Value below = s.cmp(arith::CmpIPredicate::ugt, i, k);
                  Value nonZero = arith::CmpFOp::create(bb, bl, arith::CmpFPredicate::UNE, pivot,
                                                        scalarConstant(bb, bl, ft, 0.0));
                  Value f = arith::DivFOp::create(bb, bl, s.extract(old, {bi, src, k}), pivot);
                  Value elim = arith::SubFOp::create(
                      bb, bl, v, arith::MulFOp::create(bb, bl, f, s.extract(old, {bi, pi, j})));
                  Value r = s.select(arith::AndIOp::create(bb, bl, below, nonZero), elim, v);
                  // Rows above k are final: keep them (this reads the iteration's tensor, which
                  // the update then writes in place).
                  Value above = s.cmp(arith::CmpIPredicate::ult, i, k);
                  linalg::YieldOp::create(bb, bl, s.select(above, args[1], r));
                })
                .getResult(0);
        Value nextDet =
            linalg::GenericOp::create(
                nb, nl, detType, ValueRange{p}, ValueRange{det}, SmallVector<AffineMap>{id1, id1},
                SmallVector<utils::IteratorType>{utils::IteratorType::parallel},
                [&](OpBuilder &bb, Location bl, ValueRange args) {
                  ScalarBuilder s{bb, bl};
                  Value pi = pOf(bb, bl, args[0]);
                  Value pivot = s.extract(old, {s.index(0), pi, k});
                  Value r = arith::MulFOp::create(bb, bl, args[1], pivot);
                  linalg::YieldOp::create(
                      bb, bl, s.select(s.eq(pi, k), r, arith::NegFOp::create(bb, bl, r)));
                })
                .getResult(0);
        scf::YieldOp::create(nb, nl, ValueRange{next, nextDet});
      });
  return c.replace(reshapeStatic(b, loc, loop.getResult(1), rt.getShape()));
}

//===----------------------------------------------------------------------===//
// DFT
//===----------------------------------------------------------------------===//

/// DFT-17: x is [batch, ..., signal dims ..., 1 (real) or 2 (complex)]; the transform runs along
/// `axis` with length dft_length (input 1, a constant; default the axis' size: shorter signals
/// are zero-padded, longer ones cut); onesided keeps frequencies 0 .. N/2 of a real input;
/// inverse scales by 1/N and turns the rotation around.
LogicalResult lowerDFT(NodeContext &c, bool axisFromInput) {
  if (failed(requireRanked(c, 0, "the input")))
    return failure();
  auto xt = c.inputType(0);
  auto rt = c.rankedResultType(0);
  int64_t rank = xt.getRank();
  if (rank < 3 || xt.isDynamicDim(rank - 1) || (xt.getDimSize(rank - 1) != 1 &&
                                                  xt.getDimSize(rank - 1) != 2))
    return c.fail("the input must be [batch, signal dims..., 1 or 2]");
  if (!isa<FloatType>(xt.getElementType()) || rt.getRank() != rank ||
      (!rt.isDynamicDim(rank - 1) && rt.getDimSize(rank - 1) != 2))
    return c.fail("the input must be a float tensor and the result [..., 2]");
  // DFT-17: attribute `axis` (default 1); DFT-20: input 2 (a constant, default -2).
  int64_t given = c.intAttr("axis", 1);
  if (axisFromInput) {
    given = -2;
    if (c.hasInput(2)) {
      auto v = getConstantInts(c.input(2));
      if (failed(v) || v->size() != 1)
        return c.fail("input 'axis' must be a constant scalar");
      given = (*v)[0];
    }
  }
  int64_t axis = given < 0 ? given + rank : given;
  if (axis < 1 || axis >= rank - 1)
    return c.fail("axis " + Twine(given) + " is not a signal dimension (1 to rank - 2)");
  bool inverse = c.intAttr("inverse", 0) != 0, onesided = c.intAttr("onesided", 0) != 0;
  bool complexIn = xt.getDimSize(rank - 1) == 2;
  if (onesided && complexIn)
    return c.fail("onesided needs a real input ([..., 1])");
  if (xt.isDynamicDim(axis))
    return c.fail("the signal dimension must be static");
  int64_t n = xt.getDimSize(axis);
  if (c.hasInput(1)) {
    auto len = getConstantInts(c.input(1));
    if (failed(len) || len->size() != 1 || (*len)[0] < 1)
      return c.fail("input 'dft_length' must be a positive constant");
    n = (*len)[0];
  }
  int64_t outLen = onesided ? n / 2 + 1 : n;
  if (!rt.isDynamicDim(axis) && rt.getDimSize(axis) != outLen)
    return c.fail("the result has " + Twine(rt.getDimSize(axis)) + " frequencies along axis " +
                  Twine(axis) + ", expected " + Twine(outLen));
  int64_t inLen = std::min(n, xt.getDimSize(axis)); // samples beyond it are zero padding
  OpBuilder &b = c.rewriter;
  Location l = c.loc;
  MLIRContext *ctx = b.getContext();
  Type et = rt.getElementType();
  Value x = c.input(0);
  SmallVector<int64_t> accShape(rt.getShape());
  accShape[axis] = outLen;
  auto accType = RankedTensorType::get(accShape, b.getF64Type());
  SmallVector<Value> dyn;
  for (int64_t d = 0; d < rank; ++d)
    if (accType.isDynamicDim(d))
      dyn.push_back(dimValue(b, l, x, d));
  Value init = createFilled(b, l, accType, arith::ConstantOp::create(b, l, b.getF64FloatAttr(0.0)), dyn);
  // Loops: the output's, then the signal index (reduction); x is read in the body.
  SmallVector<AffineMap> maps = {AffineMap::getMultiDimIdentityMap(rank + 1, ctx).getMajorSubMap(rank)};
  SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
  iters.push_back(utils::IteratorType::reduction);
  SmallVector<Value> dynLoop(dyn);
  // The reduction loop's extent comes from an operand: a [inLen] dummy input read by index.
  auto dummyType = RankedTensorType::get({inLen}, b.getI1Type());
  Value dummy = createFilled(b, l, dummyType, arith::ConstantOp::create(b, l, b.getBoolAttr(false)));
  maps.insert(maps.begin(), AffineMap::get(rank + 1, 0, {getAffineDimExpr(rank, ctx)}, ctx));
  double sign = inverse ? 1.0 : -1.0;
  Value acc = linalg::GenericOp::create(
                  b, l, TypeRange{accType}, ValueRange{dummy}, ValueRange{init}, maps, iters,
                  [&](OpBuilder &nb, Location nl, ValueRange args) {
                    ScalarBuilder sb{nb, nl};
                    Type f64 = nb.getF64Type(), i64 = nb.getI64Type();
                    auto idx = [&](unsigned d) { return linalg::IndexOp::create(nb, nl, d).getResult(); };
                    Value k = idx(axis), t = idx(rank), part = idx(rank - 1);
                    // theta = 2 pi ((k t) mod N) / N
                    Value kt = sb.rem(sb.mul(k, t), sb.cIdx(n));
                    Value ktF = arith::SIToFPOp::create(
                        nb, nl, f64, arith::IndexCastOp::create(nb, nl, i64, kt));
                    Value theta = arith::MulFOp::create(
                        nb, nl, ktF, arith::ConstantOp::create(nb, nl, nb.getF64FloatAttr(sign * 2 * M_PI / n)));
                    Value cs = math::CosOp::create(nb, nl, theta), sn = math::SinOp::create(nb, nl, theta);
                    SmallVector<Value> coords;
                    for (int64_t d = 0; d < rank - 1; ++d)
                      coords.push_back(d == axis ? t : idx(d));
                    coords.push_back(sb.cIdx(0));
                    auto read = [&](ArrayRef<Value> at) -> Value {
                      Value v = tensor::ExtractOp::create(nb, nl, x, at);
                      return castScalar(nb, nl, v, f64, false, false);
                    };
                    Value re = read(coords), im = arith::ConstantOp::create(nb, nl, nb.getF64FloatAttr(0.0));
                    if (complexIn) {
                      coords.back() = sb.cIdx(1);
                      im = read(coords);
                    }
                    // (re + i im)(cos + i sin): real part re cos - im sin, imaginary re sin + im cos.
                    auto mul = [&](Value p, Value q) -> Value { return arith::MulFOp::create(nb, nl, p, q); };
                    Value real = arith::SubFOp::create(nb, nl, mul(re, cs), mul(im, sn));
                    Value imag = arith::AddFOp::create(nb, nl, mul(re, sn), mul(im, cs));
                    Value isImag = sb.eq(part, sb.cIdx(1));
                    Value term = sb.select(isImag, imag, real);
                    linalg::YieldOp::create(nb, nl, ValueRange{arith::AddFOp::create(nb, nl, args[1], term)});
                  })
                  .getResult(0);
  double scale = inverse ? 1.0 / double(n) : 1.0;
  auto outType = RankedTensorType::get(accShape, et);
  Value y = buildElementwise(b, l, {acc}, outType, [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
    Value v = arith::MulFOp::create(nb, nl, a[0], arith::ConstantOp::create(nb, nl, nb.getF64FloatAttr(scale)));
    return castScalar(nb, nl, v, et, false, false);
  });
  return c.replace(castTo(b, l, y, rt));
}

} // namespace

void registerNumericOps(OnnxHandlerTable &t) {
  t.add("DFT", 17, [](NodeContext &c) { return lowerDFT(c, /*axisFromInput=*/false); });
  t.add("DFT", 20, [](NodeContext &c) { return lowerDFT(c, /*axisFromInput=*/true); });
  t.add("LRN", 1, lowerLRN);
  t.add("Shrink", 9, lowerShrink);
  t.add("Det", 11, lowerDet);
}

} // namespace sparq::onnx
