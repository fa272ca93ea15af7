//===- passes/ONNXToLinalg/Detection.cpp - NonMaxSuppression --------------------===//
//
// NonMaxSuppression: per batch and class, greedy selection of the highest-scoring box above
// score_threshold that is not suppressed, then suppression of every box whose IoU with it
// exceeds iou_threshold, until max_output_boxes_per_class boxes are selected or none is left
// (ties go to the lower box index). Sequential scf.for loops over tensors, as the selection is;
// O(max_output x boxes) per class, no sort. The result has one row (batch, class, box) per
// selected box, batches and classes in order: a dynamic first dimension is the count; a static one
// must equal it (a run-time check).
//
//===----------------------------------------------------------------------===//
#include "passes/ONNXToLinalg/ONNXToLinalg.h"

#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

#include <limits>

using namespace mlir;

namespace sparq::onnx {
namespace {

LogicalResult lowerNonMaxSuppression(NodeContext &c) {
  if (failed(requireRanked(c, 0, "'boxes'")) || failed(requireRanked(c, 1, "'scores'")))
    return failure();
  auto bt = c.inputType(0), st = c.inputType(1);
  auto rt = c.rankedResultType(0);
  if (bt.getRank() != 3 || st.getRank() != 3 || rt.getRank() != 2 ||
      (!bt.isDynamicDim(2) && bt.getDimSize(2) != 4) || (!rt.isDynamicDim(1) && rt.getDimSize(1) != 3))
    return c.fail("expects boxes [batches, boxes, 4], scores [batches, classes, boxes] and a "
                  "result [selected, 3]");
  if (!isa<FloatType>(bt.getElementType()) || !isa<FloatType>(st.getElementType()) ||
      !rt.getElementType().isInteger(64))
    return c.fail("boxes and scores must be float tensors and the result int64");
  bool center = c.intAttr("center_point_box", 0) != 0;
  OpBuilder &b = c.rewriter;
  Location l = c.loc;
  ScalarBuilder sb{b, l};
  Type f64 = b.getF64Type(), i64 = b.getI64Type(), i1 = b.getI1Type();
  Value boxes = c.input(0), scores = c.input(1);
  Value zero = sb.cIdx(0), one = sb.cIdx(1);
  Value numBatches = dimValue(b, l, boxes, 0), numBoxes = dimValue(b, l, boxes, 1);
  Value numClasses = dimValue(b, l, scores, 1);
  auto toF64 = [&](OpBuilder &nb, Location nl, Value v) -> Value {
    return v.getType() == f64 ? v : arith::ExtFOp::create(nb, nl, f64, v).getResult();
  };
  // The optional scalars: no limit given selects nothing (the operator's default of 0).
  Value maxOut = zero;
  if (c.hasInput(2))
    maxOut = sb.clampS(toIndex(b, l, scalarInput(c, 2)), zero, numBoxes);
  Value iouThreshold = c.hasInput(3) ? toF64(b, l, scalarInput(c, 3))
                                     : arith::ConstantOp::create(b, l, b.getF64FloatAttr(0.0));
  Value scoreThreshold =
      c.hasInput(4) ? toF64(b, l, scalarInput(c, 4))
                    : arith::ConstantOp::create(
                          b, l, b.getF64FloatAttr(-std::numeric_limits<double>::infinity()));

  // Rows for every possible selection (at least the declared count, for the check below).
  Value rows = sb.mul(sb.mul(numBatches, numClasses), numBoxes);
  if (!rt.isDynamicDim(0))
    rows = arith::MaxUIOp::create(b, l, rows, sb.cIdx(rt.getDimSize(0)));
  auto bufType = RankedTensorType::get({ShapedType::kDynamic, 3}, i64);
  Value buffer = createFilled(b, l, bufType, arith::ConstantOp::create(b, l, b.getI64IntegerAttr(0)),
                              ValueRange{rows});
  auto flagsType = RankedTensorType::get({ShapedType::kDynamic}, i1);

  // Corners (x1, y1, x2, y2) of box j of batch `bat`, in f64.
  auto corners = [&](OpBuilder &nb, Location nl, Value bat, Value j) {
    SmallVector<Value, 4> a;
    for (int64_t k = 0; k < 4; ++k)
      a.push_back(toF64(nb, nl,
                        tensor::ExtractOp::create(nb, nl, boxes,
                                                  ValueRange{bat, j, ScalarBuilder{nb, nl}.cIdx(k)})));
    auto minf = [&](Value p, Value q) -> Value { return arith::MinimumFOp::create(nb, nl, p, q); };
    auto maxf = [&](Value p, Value q) -> Value { return arith::MaximumFOp::create(nb, nl, p, q); };
    if (center) { // [x_center, y_center, width, height]
      Value half = arith::ConstantOp::create(nb, nl, nb.getF64FloatAttr(0.5));
      Value hw = arith::MulFOp::create(nb, nl, a[2], half), hh = arith::MulFOp::create(nb, nl, a[3], half);
      return SmallVector<Value, 4>{arith::SubFOp::create(nb, nl, a[0], hw),
                                   arith::SubFOp::create(nb, nl, a[1], hh),
                                   arith::AddFOp::create(nb, nl, a[0], hw),
                                   arith::AddFOp::create(nb, nl, a[1], hh)};
    }
    // [y1, x1, y2, x2], either diagonal.
    return SmallVector<Value, 4>{minf(a[1], a[3]), minf(a[0], a[2]), maxf(a[1], a[3]),
                                 maxf(a[0], a[2])};
  };
  // Whether IoU(p, q) > threshold; boxes without area never suppress.
  auto overlaps = [&](OpBuilder &nb, Location nl, ArrayRef<Value> p, ArrayRef<Value> q) -> Value {
    auto sub = [&](Value x, Value y) -> Value { return arith::SubFOp::create(nb, nl, x, y); };
    auto mul = [&](Value x, Value y) -> Value { return arith::MulFOp::create(nb, nl, x, y); };
    auto gt = [&](Value x, Value y) -> Value {
      return arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OGT, x, y);
    };
    Value zf = arith::ConstantOp::create(nb, nl, nb.getF64FloatAttr(0.0));
    auto side = [&](int k) {
      Value lo = arith::MaximumFOp::create(nb, nl, p[k], q[k]);
      Value hi = arith::MinimumFOp::create(nb, nl, p[k + 2], q[k + 2]);
      return arith::MaximumFOp::create(nb, nl, sub(hi, lo), zf).getResult();
    };
    Value inter = mul(side(0), side(1));
    Value areaP = mul(sub(p[2], p[0]), sub(p[3], p[1]));
    Value areaQ = mul(sub(q[2], q[0]), sub(q[3], q[1]));
    Value uni = sub(arith::AddFOp::create(nb, nl, areaP, areaQ), inter);
    Value valid = arith::AndIOp::create(nb, nl, arith::AndIOp::create(nb, nl, gt(areaP, zf), gt(areaQ, zf)),
                                        gt(uni, zf));
    Value iou = arith::DivFOp::create(nb, nl, inter, uni);
    return arith::AndIOp::create(nb, nl, valid, gt(iou, iouThreshold));
  };

  Value count0 = zero;
  auto batchLoop = scf::ForOp::create(
      b, l, zero, numBatches, one, ValueRange{buffer, count0},
      [&](OpBuilder &bb, Location bl, Value bat, ValueRange bIter) {
        auto classLoop = scf::ForOp::create(
            bb, bl, zero, numClasses, one, bIter,
            [&](OpBuilder &cb, Location cl, Value cls, ValueRange cIter) {
              Value flags = createFilled(cb, cl, flagsType,
                                         arith::ConstantOp::create(cb, cl, cb.getBoolAttr(false)),
                                         ValueRange{numBoxes});
              Value notDone = arith::ConstantOp::create(cb, cl, cb.getBoolAttr(true));
              auto pickLoop = scf::ForOp::create(
                  cb, cl, zero, maxOut, one, ValueRange{cIter[0], cIter[1], flags, notDone},
                  [&](OpBuilder &pb, Location pl, Value, ValueRange it) {
                    Value out = it[0], count = it[1], supp = it[2], going = it[3];
                    auto step = scf::IfOp::create(
                        pb, pl, going,
                        [&](OpBuilder &tb, Location tl) {
                          // The best unsuppressed box above the score threshold.
                          Value none = arith::ConstantOp::create(tb, tl, tb.getI64IntegerAttr(-1));
                          Value lowest = arith::ConstantOp::create(
                              tb, tl, tb.getF64FloatAttr(-std::numeric_limits<double>::infinity()));
                          auto argmax = scf::ForOp::create(
                              tb, tl, zero, numBoxes, one, ValueRange{none, lowest},
                              [&](OpBuilder &ab, Location al, Value j, ValueRange best) {
                                Value s = toF64(ab, al, tensor::ExtractOp::create(
                                                            ab, al, scores, ValueRange{bat, cls, j}));
                                Value free = arith::XOrIOp::create(
                                    ab, al, tensor::ExtractOp::create(ab, al, supp, ValueRange{j}),
                                    arith::ConstantOp::create(ab, al, ab.getBoolAttr(true)));
                                auto gtf = [&](Value x, Value y) -> Value {
                                  return arith::CmpFOp::create(ab, al, arith::CmpFPredicate::OGT, x, y);
                                };
                                Value better = arith::AndIOp::create(
                                    ab, al, free,
                                    arith::AndIOp::create(ab, al, gtf(s, scoreThreshold),
                                                          gtf(s, best[1])));
                                Value j64 = arith::IndexCastOp::create(ab, al, i64, j);
                                scf::YieldOp::create(
                                    ab, al,
                                    ValueRange{arith::SelectOp::create(ab, al, better, j64, best[0]),
                                               arith::SelectOp::create(ab, al, better, s, best[1])});
                              });
                          Value best = argmax.getResult(0);
                          Value found = arith::CmpIOp::create(tb, tl, arith::CmpIPredicate::sge,
                                                              best, arith::ConstantOp::create(tb, tl, tb.getI64IntegerAttr(0)));
                          auto take = scf::IfOp::create(
                              tb, tl, found,
                              [&](OpBuilder &kb, Location kl) {
                                ScalarBuilder ks{kb, kl};
                                Value bestIdx = arith::IndexCastOp::create(kb, kl, kb.getIndexType(), best);
                                Value row = out;
                                Value fields[3] = {arith::IndexCastOp::create(kb, kl, i64, bat),
                                                   arith::IndexCastOp::create(kb, kl, i64, cls), best};
                                for (int64_t k = 0; k < 3; ++k)
                                  row = tensor::InsertOp::create(kb, kl, fields[k], row,
                                                                 ValueRange{count, ks.cIdx(k)});
                                SmallVector<Value, 4> pick = corners(kb, kl, bat, bestIdx);
                                Value marked = tensor::InsertOp::create(
                                    kb, kl, arith::ConstantOp::create(kb, kl, kb.getBoolAttr(true)),
                                    supp, ValueRange{bestIdx});
                                auto suppress = scf::ForOp::create(
                                    kb, kl, zero, numBoxes, one, ValueRange{marked},
                                    [&](OpBuilder &sb2, Location sl, Value j, ValueRange f) {
                                      Value hit = overlaps(sb2, sl, pick, corners(sb2, sl, bat, j));
                                      Value was = tensor::ExtractOp::create(sb2, sl, f[0], ValueRange{j});
                                      Value now = arith::OrIOp::create(sb2, sl, was, hit);
                                      scf::YieldOp::create(
                                          sb2, sl,
                                          ValueRange{tensor::InsertOp::create(sb2, sl, now, f[0],
                                                                              ValueRange{j})});
                                    });
                                scf::YieldOp::create(
                                    kb, kl,
                                    ValueRange{row, ks.add(count, ks.cIdx(1)), suppress.getResult(0),
                                               arith::ConstantOp::create(kb, kl, kb.getBoolAttr(true))});
                              },
                              [&](OpBuilder &eb, Location el) {
                                scf::YieldOp::create(
                                    eb, el,
                                    ValueRange{out, count, supp,
                                               arith::ConstantOp::create(eb, el, eb.getBoolAttr(false))});
                              });
                          scf::YieldOp::create(tb, tl, take.getResults());
                        },
                        [&](OpBuilder &eb, Location el) {
                          scf::YieldOp::create(eb, el, ValueRange{out, count, supp, going});
                        });
                    scf::YieldOp::create(pb, pl, step.getResults());
                  });
              scf::YieldOp::create(cb, cl, ValueRange{pickLoop.getResult(0), pickLoop.getResult(1)});
            });
        scf::YieldOp::create(bb, bl, classLoop.getResults());
      });
  Value selected = batchLoop.getResult(0), count = batchLoop.getResult(1);
  Value n = count;
  if (!rt.isDynamicDim(0)) {
    n = sb.cIdx(rt.getDimSize(0));
    std::string msg;
    llvm::raw_string_ostream os(msg);
    os << c.op.describe() << ": the model declares " << rt.getDimSize(0)
       << " selected boxes, but a different number was selected for these inputs";
    cf::AssertOp::create(b, l, sb.eq(count, n), msg);
  }
  auto sliceType = RankedTensorType::get({ShapedType::kDynamic, 3}, i64);
  Value result = tensor::ExtractSliceOp::create(
      b, l, sliceType, selected, ArrayRef<OpFoldResult>{b.getIndexAttr(0), b.getIndexAttr(0)},
      ArrayRef<OpFoldResult>{n, b.getIndexAttr(3)},
      ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1)});
  return c.replace(castTo(b, l, result, rt));
}

} // namespace

void registerDetectionOps(OnnxHandlerTable &t) {
  t.add("NonMaxSuppression", 10, lowerNonMaxSuppression);
}

} // namespace sparq::onnx
