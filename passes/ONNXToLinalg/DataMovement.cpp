//===- passes/ONNXToLinalg/DataMovement.cpp - ReverseSequence, MaxUnpool ------===//
//
// Operators that only move elements, with positions read at run time:
//  - ReverseSequence: a linalg.generic over the result whose body reads x (tensor.extract) at the
//    time index reversed within the batch entry's sequence length (clamped to the time axis).
//  - MaxUnpool: a scatter of the values to the flat output positions given by the indices (as
//    MaxPool produces them, over the whole N*C*spatial output): an scf.for over the flattened
//    input inserting each value into a zero tensor; indices out of range are skipped, and a
//    later duplicate overwrites an earlier one. The indices address the output size that the
//    kernel/strides/pads equation gives (pads ignored when the output_shape input is present,
//    as in ONNX's reference); a larger output_shape extends it with zeros at the end.
//
//===----------------------------------------------------------------------===//
#include "passes/ONNXToLinalg/ONNXToLinalg.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;

namespace sparq::onnx {
namespace {

LogicalResult lowerReverseSequence(NodeContext &c) {
  RankedTensorType xt = c.inputType(0), lt = c.inputType(1);
  RankedTensorType rt = c.rankedResultType(0);
  if (failed(requireStaticShape(c, xt, "the input")) ||
      failed(requireStaticShape(c, lt, "input sequence_lens")) ||
      failed(requireStaticShape(c, rt, "the result")))
    return failure();
  int64_t rank = xt.getRank();
  if (rank < 2)
    return c.fail("the input must have rank >= 2, got " + Twine(rank));
  int64_t batchAxis = c.intAttr("batch_axis", 1), timeAxis = c.intAttr("time_axis", 0);
  if (batchAxis != 0 && batchAxis != 1)
    return c.fail("attribute 'batch_axis' = " + Twine(batchAxis) + " must be 0 or 1");
  if (timeAxis != 0 && timeAxis != 1)
    return c.fail("attribute 'time_axis' = " + Twine(timeAxis) + " must be 0 or 1");
  if (batchAxis == timeAxis)
    return c.fail("attributes 'batch_axis' and 'time_axis' are both " + Twine(batchAxis));
  if (lt.getRank() != 1 || lt.getDimSize(0) != xt.getDimSize(batchAxis) ||
      !isa<IntegerType>(lt.getElementType()))
    return c.fail("input sequence_lens must be a 1-D integer tensor of " +
                  Twine(xt.getDimSize(batchAxis)) + " entries (the batch size)");
  if (rt.getShape() != xt.getShape())
    return c.fail("the result shape must equal the input shape");
  OpBuilder &b = c.rewriter;
  Location loc = c.loc;
  MLIRContext *ctx = b.getContext();
  Value x = c.input(0);
  int64_t steps = xt.getDimSize(timeAxis);
  AffineMap lensMap = AffineMap::get(rank, 0, {getAffineDimExpr(batchAxis, ctx)}, ctx);
  Value r = buildIndexedGeneric(
      b, loc, rt, {}, {c.input(1)}, {lensMap},
      [&](OpBuilder &nb, Location nl, ValueRange ivs, ValueRange args) -> Value {
        ScalarBuilder sb{nb, nl};
        Value len = sb.clampS(toIndex(nb, nl, args[0]), sb.cIdx(0), sb.cIdx(steps));
        Value t = ivs[timeAxis];
        Value inSeq = sb.cmp(arith::CmpIPredicate::slt, t, len);
        Value rev = sb.sub(sb.sub(len, sb.cIdx(1)), t);
        SmallVector<Value> idx(ivs);
        idx[timeAxis] = sb.select(inSeq, rev, t);
        return sb.extract(x, idx);
      });
  return c.replace(r);
}

LogicalResult lowerMaxUnpool(NodeContext &c) {
  RankedTensorType xt = c.inputType(0), it = c.inputType(1);
  RankedTensorType rt = c.rankedResultType(0);
  if (failed(requireStaticShape(c, xt, "input X")) ||
      failed(requireStaticShape(c, it, "input I")) ||
      failed(requireStaticShape(c, rt, "the result")))
    return failure();
  int64_t rank = xt.getRank();
  if (rank < 3)
    return c.fail("input X must have rank >= 3 (N, C, spatial...), got " + Twine(rank));
  if (it.getShape() != xt.getShape() || !it.getElementType().isInteger(64))
    return c.fail("input I must be an int64 tensor of the shape of X");
  if (rt.getRank() != rank || rt.getDimSize(0) != xt.getDimSize(0) ||
      rt.getDimSize(1) != xt.getDimSize(1))
    return c.fail("the result must keep the batch and channel sizes of X");
  int64_t sp = rank - 2;
  SmallVector<int64_t> kernel = c.intsAttr("kernel_shape");
  SmallVector<int64_t> strides = c.intsAttr("strides", SmallVector<int64_t>(sp, 1));
  SmallVector<int64_t> pads = c.intsAttr("pads", SmallVector<int64_t>(2 * sp, 0));
  if ((int64_t)kernel.size() != sp)
    return c.fail("attribute 'kernel_shape' = " + joinInts(kernel) + " must have " + Twine(sp) +
                  " entries");
  if ((int64_t)strides.size() != sp)
    return c.fail("attribute 'strides' = " + joinInts(strides) + " must have " + Twine(sp) +
                  " entries");
  if ((int64_t)pads.size() != 2 * sp)
    return c.fail("attribute 'pads' = " + joinInts(pads) + " must have " + Twine(2 * sp) +
                  " entries");
  // The indices address the inferred output (the pads ignored when output_shape is given), which
  // the result extends with zeros at the end of each spatial dimension (ONNX's reference).
  bool hasShape = c.hasInput(2);
  if (hasShape)
    if (auto shape = constInts(c, 2); shape && ArrayRef<int64_t>(*shape) != rt.getShape())
      return c.fail("input output_shape = " + joinInts(*shape) +
                    " does not match the result shape " + joinInts(rt.getShape()));
  SmallVector<int64_t> inferred = {xt.getDimSize(0), xt.getDimSize(1)};
  SmallVector<int64_t> padHi(rank, 0);
  for (int64_t i = 0; i < sp; ++i) {
    int64_t padSum = hasShape ? 0 : pads[i] + pads[sp + i];
    inferred.push_back((xt.getDimSize(2 + i) - 1) * strides[i] + kernel[i] - padSum);
    padHi[2 + i] = rt.getDimSize(2 + i) - inferred.back();
    if (inferred.back() < 0 || padHi[2 + i] < 0 || (!hasShape && padHi[2 + i] != 0))
      return c.fail("the result size " + Twine(rt.getDimSize(2 + i)) + " along spatial dimension " +
                    Twine(i) + (hasShape ? " is below" : " differs from") + " the size " +
                    Twine(inferred.back()) + " the attributes give");
  }
  OpBuilder &b = c.rewriter;
  Location loc = c.loc;
  ScalarBuilder sb{b, loc};
  Type et = rt.getElementType();
  int64_t count = xt.getNumElements(), total = product(inferred);
  Value xs = reshapeStatic(b, loc, c.input(0), {count});
  Value is = reshapeStatic(b, loc, c.input(1), {count});
  auto flatType = RankedTensorType::get({total}, et);
  Value init = createFilled(b, loc, flatType, scalarConstant(b, loc, et, 0.0));
  auto loop = scf::ForOp::create(
      b, loc, sb.cIdx(0), sb.cIdx(count), sb.cIdx(1), ValueRange{init},
      [&](OpBuilder &nb, Location nl, Value iv, ValueRange iter) {
        Value pos = tensor::ExtractOp::create(nb, nl, is, iv);
        Type i64 = nb.getI64Type();
        Value inRange = arith::AndIOp::create(
            nb, nl,
            arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::sge, pos,
                                  scalarConstant(nb, nl, i64, 0)),
            arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::slt, pos,
                                  scalarConstant(nb, nl, i64, (double)total)));
        auto ifOp = scf::IfOp::create(
            nb, nl, inRange,
            [&](OpBuilder &tb, Location tl) {
              Value v = tensor::ExtractOp::create(tb, tl, xs, iv);
              Value at = arith::IndexCastOp::create(tb, tl, tb.getIndexType(), pos);
              Value next = tensor::InsertOp::create(tb, tl, v, iter[0], ValueRange{at});
              scf::YieldOp::create(tb, tl, next);
            },
            [&](OpBuilder &eb, Location el) { scf::YieldOp::create(eb, el, iter[0]); });
        scf::YieldOp::create(nb, nl, ifOp.getResults());
      });
  Value y = reshapeStatic(b, loc, loop.getResult(0), inferred);
  return c.replace(padStatic(b, loc, y, SmallVector<int64_t>(rank, 0), padHi,
                             scalarConstant(b, loc, et, 0.0)));
}

} // namespace

void registerDataMovementOps(OnnxHandlerTable &t) {
  t.add("ReverseSequence", 10, lowerReverseSequence);
  t.add("MaxUnpool", 9, lowerMaxUnpool);
}

} // namespace sparq::onnx
