//===- passes/ONNXToLinalg/TopK.cpp - TopK ------------------------------------===//
//
// TopK (k as attribute before opset 10, as input from 10 on; largest / sorted from 11) as two
// linalg.generic ops, without a sort:
//
//   1. the rank of every element along the axis: the number of elements that come before it in
//      the order of the result (a reduction over a second copy of the axis);
//   2. the k outputs: output position r takes the value and index of the element of rank r
//      (a reduction over the axis that selects the one match).
//
// The order is total, so the ranks are a permutation: larger (or smaller) first, ties by the
// lower index as ONNX requires, NaN above every number and equal to itself (numpy's order).
// Outputs are always sorted (sorted=0 leaves the order unspecified). O(n^2) work per slice.
// k itself is the axis size of the result type; a constant k (attribute or input) must agree.
//
//===----------------------------------------------------------------------===//
#include "passes/ONNXToLinalg/ONNXToLinalg.h"

using namespace mlir;

namespace sparq::onnx {
namespace {

/// True when `a` comes strictly before `b` in the descending (`largest`) or ascending order of
/// values, NaN counted as the largest value (both orders keep NaN ordered consistently).
Value valueBefore(OpBuilder &b, Location l, Value a, Value bv, bool largest, bool isUnsigned) {
  if (isa<FloatType>(a.getType())) {
    // gt(x, y): x > y, or x is NaN and y is not.
    auto gt = [&](Value x, Value y) -> Value {
      Value ogt = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT, x, y);
      Value xNan = arith::CmpFOp::create(b, l, arith::CmpFPredicate::UNO, x, x);
      Value yNum = arith::CmpFOp::create(b, l, arith::CmpFPredicate::ORD, y, y);
      return arith::OrIOp::create(b, l, ogt, arith::AndIOp::create(b, l, xNan, yNum));
    };
    return largest ? gt(a, bv) : gt(bv, a);
  }
  arith::CmpIPredicate p = largest ? (isUnsigned ? arith::CmpIPredicate::ugt
                                                 : arith::CmpIPredicate::sgt)
                                   : (isUnsigned ? arith::CmpIPredicate::ult
                                                 : arith::CmpIPredicate::slt);
  return arith::CmpIOp::create(b, l, p, a, bv);
}

/// True when `a` and `b` tie (NaN ties with NaN).
Value valueTie(OpBuilder &b, Location l, Value a, Value bv) {
  if (isa<FloatType>(a.getType())) {
    Value eq = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OEQ, a, bv);
    Value bothNan = arith::AndIOp::create(
        b, l, arith::CmpFOp::create(b, l, arith::CmpFPredicate::UNO, a, a),
        arith::CmpFOp::create(b, l, arith::CmpFPredicate::UNO, bv, bv));
    return arith::OrIOp::create(b, l, eq, bothNan);
  }
  return arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, a, bv);
}

LogicalResult lowerTopK(NodeContext &c, std::optional<int64_t> kGiven) {
  RankedTensorType in = c.inputType(0);
  RankedTensorType vt = c.rankedResultType(0), it = c.rankedResultType(1);
  if (failed(requireStaticShape(c, in, "the input")) ||
      failed(requireStaticShape(c, vt, "the values result")) ||
      failed(requireStaticShape(c, it, "the indices result")))
    return failure();
  Type elem = in.getElementType();
  if (!isa<FloatType>(elem) && !isa<IntegerType>(elem))
    return c.fail("unsupported element type");
  if (!it.getElementType().isInteger(64))
    return c.fail("the indices result must be int64");
  int64_t rank = in.getRank();
  auto axisOr = axisAttr(c, rank, -1);
  if (failed(axisOr))
    return failure();
  int64_t axis = *axisOr;
  int64_t n = in.getDimSize(axis);
  int64_t k = vt.getRank() == rank ? vt.getDimSize(axis) : -1;
  for (int64_t d = 0; d < rank; ++d)
    if (vt.getRank() != rank || it.getShape() != vt.getShape() ||
        (d != axis && vt.getDimSize(d) != in.getDimSize(d)))
      return c.fail("the result shapes do not match the input with k along axis " + Twine(axis));
  if (kGiven && *kGiven != k)
    return c.fail("k = " + Twine(*kGiven) + " does not match the result's size " + Twine(k) +
                  " along axis " + Twine(axis));
  if (k > n)
    return c.fail("k = " + Twine(k) + " exceeds the axis size " + Twine(n));
  bool largest = c.intAttr("largest", 1) != 0;
  bool isUnsigned = c.isUnsignedInput(0);

  OpBuilder &b = c.rewriter;
  Location loc = c.loc;
  MLIRContext *ctx = b.getContext();
  Type i64 = b.getI64Type();
  // Loops: the dims of the iterated tensor, then one reduction loop over the axis.
  auto dimsWithAxisAt = [&](AffineExpr axisExpr) {
    SmallVector<AffineExpr> e;
    for (int64_t d = 0; d < rank; ++d)
      e.push_back(d == axis ? axisExpr : getAffineDimExpr(d, ctx));
    return AffineMap::get(rank + 1, 0, e, ctx);
  };
  AffineExpr red = getAffineDimExpr(rank, ctx);
  AffineMap self = dimsWithAxisAt(getAffineDimExpr(axis, ctx));
  AffineMap other = dimsWithAxisAt(red);
  SmallVector<utils::IteratorType> iters(rank + 1, utils::IteratorType::parallel);
  iters[rank] = utils::IteratorType::reduction;

  // 1. rank[..., i, ...] = #{ j : x_j before x_i, or x_j ties x_i and j < i }.
  auto rankType = RankedTensorType::get(in.getShape(), i64);
  Value rankInit = createFilled(b, loc, rankType, scalarConstant(b, loc, i64, 0));
  Value ranks =
      linalg::GenericOp::create(
          b, loc, rankType, ValueRange{c.input(0), c.input(0)}, ValueRange{rankInit},
          SmallVector<AffineMap>{self, other, self}, iters,
          [&](OpBuilder &nb, Location nl, ValueRange a) {
            Value i = linalg::IndexOp::create(nb, nl, axis);
            Value j = linalg::IndexOp::create(nb, nl, rank);
            Value jFirst = arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::ult, j, i);
            Value before = arith::OrIOp::create(
                nb, nl, valueBefore(nb, nl, a[1], a[0], largest, isUnsigned),
                arith::AndIOp::create(nb, nl, valueTie(nb, nl, a[1], a[0]), jFirst));
            Value inc = arith::ExtUIOp::create(nb, nl, i64, before);
            linalg::YieldOp::create(nb, nl,
                                    arith::AddIOp::create(nb, nl, a[2], inc).getResult());
          })
          .getResult(0);

  // 2. out[..., r, ...] = the value and index of the element of rank r.
  Value vInit = createFilled(b, loc, vt, scalarConstant(b, loc, elem, 0));
  Value iInit = createFilled(b, loc, it, scalarConstant(b, loc, i64, 0));
  auto sel = linalg::GenericOp::create(
      b, loc, TypeRange{vt, it}, ValueRange{c.input(0), ranks}, ValueRange{vInit, iInit},
      SmallVector<AffineMap>{other, other, self, self}, iters,
      [&](OpBuilder &nb, Location nl, ValueRange a) {
        Value r = arith::IndexCastOp::create(nb, nl, i64, linalg::IndexOp::create(nb, nl, axis));
        Value j = arith::IndexCastOp::create(nb, nl, i64, linalg::IndexOp::create(nb, nl, rank));
        Value hit = arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::eq, a[1], r);
        Value v = arith::SelectOp::create(nb, nl, hit, a[0], a[2]);
        Value idx = arith::SelectOp::create(nb, nl, hit, j, a[3]);
        linalg::YieldOp::create(nb, nl, ValueRange{v, idx});
      });
  return c.replace(sel.getResults());
}

LogicalResult lowerTopK1(NodeContext &c) {
  if (!c.hasAttr("k"))
    return c.fail("attribute 'k' is required");
  return lowerTopK(c, c.intAttr("k", 0));
}

LogicalResult lowerTopK10(NodeContext &c) {
  std::optional<int64_t> k;
  if (auto v = constInts(c, 1)) {
    if (v->size() != 1)
      return c.fail("input K must hold one value, got " + Twine(v->size()));
    k = (*v)[0];
  }
  return lowerTopK(c, k);
}

} // namespace

void registerTopKOps(OnnxHandlerTable &t) {
  t.add("TopK", 1, lowerTopK1);
  t.add("TopK", 10, lowerTopK10);
}

} // namespace sparq::onnx
