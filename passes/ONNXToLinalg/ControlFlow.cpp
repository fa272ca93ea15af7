//===- passes/ONNXToLinalg/ControlFlow.cpp - If, Loop and Scan -----------------------===//
//
// ONNX control flow as scf: If becomes scf.if (the branches moved in), Loop an scf.while whose
// body runs the Loop body, Scan an scf.for over the sequence. A subgraph region is moved into an
// scf.if branch or an scf.execute_region; its sparq_onnx.yield becomes scf.yield (YieldLowering
// in ConvertONNXToLinalg.cpp), casting each output to the type its parent declares, so branches
// whose shapes differ meet in the node's (dynamic) result type. Values of the enclosing graph
// are read directly (the regions are not isolated). Per-iteration outputs (Loop's scan outputs,
// Scan's outputs) are written into buffers allocated before the loop: Loop needs its trip count
// M for that, and the per-iteration shape must be static.
//
//===----------------------------------------------------------------------===//
#include "passes/ONNXToLinalg/ONNXToLinalg.h"

#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

using namespace mlir;

namespace sparq::onnx {
namespace {

/// The scalar of a one-element tensor (rank 0 or [1]), as i1 when `asBool`.
Value scalarOf(OpBuilder &b, Location l, Value t, bool asBool) {
  Value v = extractElement(b, l, t, 0);
  return asBool ? isNonZero(b, l, v) : v;
}

/// Moves the single block of `region` into a new scf.execute_region returning `types` (at the
/// rewriter's insertion point), its block arguments replaced by `args`; returns the
/// execute_region's results (the subgraph's outputs, cast to `types` by YieldLowering).
ValueRange inlineSubgraph(ConversionPatternRewriter &rewriter, Location l, Region &region,
                          TypeRange types, ValueRange args) {
  auto exec = scf::ExecuteRegionOp::create(rewriter, l, types);
  Block *body = rewriter.createBlock(&exec.getRegion());
  rewriter.inlineBlockBefore(&region.front(), body, body->end(), args);
  rewriter.setInsertionPointAfter(exec);
  return exec.getResults();
}

LogicalResult lowerIf(NodeContext &c) {
  Region *thenR = c.op.getSubgraph("then_branch"), *elseR = c.op.getSubgraph("else_branch");
  if (!thenR || !elseR)
    return c.fail("attributes 'then_branch' and 'else_branch' are required");
  for (Region *r : {thenR, elseR})
    if (r->front().getTerminator()->getNumOperands() != c.numResults())
      return c.fail("a branch has " + Twine(r->front().getTerminator()->getNumOperands()) +
                    " outputs, the node " + Twine(c.numResults()));
  for (unsigned i = 0; i < c.numResults(); ++i)
    if (!isa<RankedTensorType>(c.resultType(i)))
      return c.fail("output " + Twine(i) + " has no ranked type (ONNX shape inference could not "
                                          "merge the branches' types)");
  OpBuilder &b = c.rewriter;
  Value cond = scalarOf(b, c.loc, c.input(0), /*asBool=*/true);
  SmallVector<Type> types;
  for (unsigned i = 0; i < c.numResults(); ++i)
    types.push_back(c.resultType(i));
  auto ifOp = scf::IfOp::create(b, c.loc, types, cond, /*addThenBlock=*/false,
                                /*addElseBlock=*/false);
  c.rewriter.inlineRegionBefore(*thenR, ifOp.getThenRegion(), ifOp.getThenRegion().end());
  c.rewriter.inlineRegionBefore(*elseR, ifOp.getElseRegion(), ifOp.getElseRegion().end());
  return c.replace(ifOp.getResults());
}

/// Loop (opset 1/11/13/16): inputs M (trip count, optional), cond (optional), carried values;
/// body (iteration, cond, carried...) -> (cond, carried..., scan outputs...). An scf.while over
/// (iteration, cond, carried..., scan buffers...): runs while iteration < M and cond.
LogicalResult lowerLoop(NodeContext &c) {
  Region *body = c.op.getSubgraph("body");
  if (!body)
    return c.fail("attribute 'body' is required");
  OpBuilder &b = c.rewriter;
  Location l = c.loc;
  ScalarBuilder sb{b, l};
  unsigned nCarried = c.numInputs() - 2;
  Block &blk = body->front();
  Operation *term = blk.getTerminator();
  if (blk.getNumArguments() != nCarried + 2 || term->getNumOperands() < nCarried + 1)
    return c.fail("the body must take (iteration, condition, " + Twine(nCarried) +
                  " carried values) and return the condition and the carried values");
  unsigned nScan = term->getNumOperands() - 1 - nCarried;
  if (c.numResults() != nCarried + nScan)
    return c.fail("the node has " + Twine(c.numResults()) + " outputs, expected " +
                  Twine(nCarried + nScan));
  // The carried values keep the node's result types (shapes may change from one iteration to
  // the next: those dims are dynamic there).
  SmallVector<Type> carriedTypes;
  for (unsigned i = 0; i < nCarried; ++i) {
    auto t = dyn_cast<RankedTensorType>(c.resultType(i));
    if (!t)
      return c.fail("loop-carried value " + Twine(i) + " has no ranked type");
    carriedTypes.push_back(t);
  }
  // Scan outputs: [M, per-iteration shape...], the per-iteration shape static.
  Value maxTrips;
  if (c.hasInput(0))
    maxTrips = toIndex(b, l, scalarOf(b, l, c.input(0), false), false);
  SmallVector<RankedTensorType> scanTypes;
  for (unsigned k = 0; k < nScan; ++k) {
    auto it = dyn_cast<RankedTensorType>(
        c.typeConverter.convertType(term->getOperand(1 + nCarried + k).getType()));
    if (!it || !it.hasStaticShape())
      return c.fail("scan output " + Twine(k) +
                    " needs a static per-iteration shape (pin input shapes with --input-shape)");
    if (!maxTrips)
      return c.fail("scan outputs need the trip count input M");
    SmallVector<int64_t> shape = {ShapedType::kDynamic};
    shape.append(it.getShape().begin(), it.getShape().end());
    scanTypes.push_back(RankedTensorType::get(shape, it.getElementType()));
  }
  Value limit = maxTrips ? maxTrips : sb.cIdx(std::numeric_limits<int64_t>::max());
  Value cond0 = c.hasInput(1) ? scalarOf(b, l, c.input(1), true)
                              : arith::ConstantIntOp::create(b, l, 1, 1).getResult();
  SmallVector<Value> inits = {sb.cIdx(0), cond0};
  for (unsigned i = 0; i < nCarried; ++i)
    inits.push_back(castTo(b, l, c.input(2 + i), cast<RankedTensorType>(carriedTypes[i])));
  for (RankedTensorType t : scanTypes)
    inits.push_back(createEmpty(b, l, t, {maxTrips}));
  SmallVector<Type> loopTypes;
  for (Value v : inits)
    loopTypes.push_back(v.getType());
  auto loop = scf::WhileOp::create(b, l, loopTypes, inits);
  {
    // before: continue while iteration < M and cond.
    Block *before = b.createBlock(&loop.getBefore(), {}, loopTypes,
                                  SmallVector<Location>(loopTypes.size(), l));
    ScalarBuilder s{b, l};
    Value go = arith::AndIOp::create(b, l, s.ult(before->getArgument(0), limit),
                                     before->getArgument(1));
    scf::ConditionOp::create(b, l, go, before->getArguments());
  }
  {
    // after: the body on (iteration, cond, carried), its outputs become the next state.
    Block *after = b.createBlock(&loop.getAfter(), {}, loopTypes,
                                 SmallVector<Location>(loopTypes.size(), l));
    ScalarBuilder s{b, l};
    Value i = after->getArgument(0);
    auto i64Scalar = RankedTensorType::get({}, b.getI64Type());
    auto i1Scalar = RankedTensorType::get({}, b.getI1Type());
    SmallVector<Value> args = {
        tensor::FromElementsOp::create(b, l, i64Scalar,
                                       ValueRange{fromIndex(b, l, i, b.getI64Type())}),
        tensor::FromElementsOp::create(b, l, i1Scalar, ValueRange{after->getArgument(1)})};
    // The body's block arguments keep their imported (possibly more static) types.
    for (unsigned k = 0; k < nCarried; ++k)
      args.push_back(castTo(b, l, after->getArgument(2 + k),
                            cast<RankedTensorType>(c.typeConverter.convertType(
                                blk.getArgument(2 + k).getType()))));
    SmallVector<Type> outTypes = {i1Scalar};
    outTypes.append(carriedTypes.begin(), carriedTypes.end());
    for (unsigned k = 0; k < nScan; ++k)
      outTypes.push_back(c.typeConverter.convertType(term->getOperand(1 + nCarried + k).getType()));
    ValueRange outs = inlineSubgraph(c.rewriter, l, *body, outTypes, args);
    SmallVector<Value> next = {s.add(i, s.cIdx(1)), scalarOf(b, l, outs[0], true)};
    next.append(outs.begin() + 1, outs.begin() + 1 + nCarried);
    for (unsigned k = 0; k < nScan; ++k) {
      Value buf = after->getArgument(2 + nCarried + k);
      RankedTensorType st = scanTypes[k];
      SmallVector<OpFoldResult> offs = {i}, sizes = {b.getIndexAttr(1)},
                                strides(st.getRank(), b.getIndexAttr(1));
      for (int64_t d = 1; d < st.getRank(); ++d) {
        offs.push_back(b.getIndexAttr(0));
        sizes.push_back(b.getIndexAttr(st.getDimSize(d)));
      }
      Value slice = outs[1 + nCarried + k];
      auto sliceType = RankedTensorType::get(st.getShape().drop_front(), st.getElementType());
      slice = castTo(b, l, slice, sliceType);
      next.push_back(tensor::InsertSliceOp::create(b, l, slice, buf, offs, sizes, strides));
    }
    scf::YieldOp::create(b, l, next);
  }
  b.setInsertionPointAfter(loop);
  SmallVector<Value> results;
  for (unsigned k = 0; k < nCarried; ++k)
    results.push_back(loop.getResult(2 + k));
  Value trips = loop.getResult(0);
  for (unsigned k = 0; k < nScan; ++k) {
    RankedTensorType st = scanTypes[k];
    SmallVector<OpFoldResult> offs(st.getRank(), b.getIndexAttr(0)), sizes = {trips},
                              strides(st.getRank(), b.getIndexAttr(1));
    for (int64_t d = 1; d < st.getRank(); ++d)
      sizes.push_back(b.getIndexAttr(st.getDimSize(d)));
    Value r = tensor::ExtractSliceOp::create(b, l, loop.getResult(2 + nCarried + k), offs, sizes,
                                             strides);
    results.push_back(castTo(b, l, r, cast<RankedTensorType>(c.resultType(nCarried + k))));
  }
  return c.replace(results);
}

/// Scan (opset 9+): inputs (state..., scan inputs...), `num_scan_inputs`; body (state...,
/// slices...) -> (state..., output slices...). An scf.for over the sequence length (the scan
/// axis of the first scan input), slices taken and outputs written along each input's and
/// output's axis, backwards where a direction says so.
LogicalResult lowerScan(NodeContext &c) {
  Region *body = c.op.getSubgraph("body");
  if (!body)
    return c.fail("attribute 'body' is required");
  OpBuilder &b = c.rewriter;
  Location l = c.loc;
  ScalarBuilder sb{b, l};
  int64_t nIn = c.intAttr("num_scan_inputs", -1);
  int64_t nState = (int64_t)c.numInputs() - nIn;
  Block &blk = body->front();
  Operation *term = blk.getTerminator();
  if (nIn < 1 || nState < 0 || (int64_t)blk.getNumArguments() != nState + nIn ||
      (int64_t)term->getNumOperands() < nState)
    return c.fail("'num_scan_inputs' = " + Twine(nIn) + " does not match the body's " +
                  Twine(blk.getNumArguments()) + " inputs and the node's " +
                  Twine(c.numInputs()) + " inputs");
  int64_t nOut = term->getNumOperands() - nState;
  auto axesOf = [&](StringRef name, int64_t n) {
    SmallVector<int64_t> v = c.intsAttr(name, SmallVector<int64_t>(n, 0));
    return v;
  };
  SmallVector<int64_t> inAxes = axesOf("scan_input_axes", nIn),
                       inDirs = axesOf("scan_input_directions", nIn),
                       outAxes = axesOf("scan_output_axes", nOut),
                       outDirs = axesOf("scan_output_directions", nOut);
  if ((int64_t)inAxes.size() != nIn || (int64_t)inDirs.size() != nIn ||
      (int64_t)outAxes.size() != nOut || (int64_t)outDirs.size() != nOut)
    return c.fail("the scan axes and directions must have one entry per scan input and output");
  SmallVector<RankedTensorType> inTypes;
  for (int64_t k = 0; k < nIn; ++k) {
    auto t = c.inputType(nState + k);
    if (!t)
      return c.fail("scan input " + Twine(k) + " has no ranked type");
    auto ax = normalizeAxis(inAxes[k], t.getRank());
    if (!ax)
      return c.fail("scan input axis " + Twine(inAxes[k]) + " is out of range");
    inAxes[k] = *ax;
    inTypes.push_back(t);
  }
  Value seq = dimValue(b, l, c.input(nState), inAxes[0]);
  Value ok = arith::ConstantIntOp::create(b, l, 1, 1);
  for (int64_t k = 1; k < nIn; ++k)
    ok = arith::AndIOp::create(b, l, ok,
                               sb.eq(dimValue(b, l, c.input(nState + k), inAxes[k]), seq));
  cf::AssertOp::create(b, l, ok,
                       c.op.describe() + ": the scan inputs have different sequence lengths");
  // Output buffers: the per-iteration shape (static) with the sequence inserted at the axis.
  SmallVector<RankedTensorType> sliceOutTypes, outTypes;
  SmallVector<Value> inits;
  for (int64_t k = 0; k < nState; ++k) {
    auto t = dyn_cast<RankedTensorType>(c.resultType(k));
    if (!t)
      return c.fail("state " + Twine(k) + " has no ranked type");
    inits.push_back(castTo(b, l, c.input(k), t));
  }
  for (int64_t k = 0; k < nOut; ++k) {
    auto it = dyn_cast<RankedTensorType>(
        c.typeConverter.convertType(term->getOperand(nState + k).getType()));
    if (!it || !it.hasStaticShape())
      return c.fail("scan output " + Twine(k) +
                    " needs a static per-iteration shape (pin input shapes with --input-shape)");
    auto ax = normalizeAxis(outAxes[k], it.getRank() + 1);
    if (!ax)
      return c.fail("scan output axis " + Twine(outAxes[k]) + " is out of range");
    outAxes[k] = *ax;
    SmallVector<int64_t> shape(it.getShape());
    shape.insert(shape.begin() + *ax, ShapedType::kDynamic);
    auto ot = RankedTensorType::get(shape, it.getElementType());
    sliceOutTypes.push_back(it);
    outTypes.push_back(ot);
    inits.push_back(createEmpty(b, l, ot, {seq}));
  }
  // A slice of `t` at position `pos` along `axis` (size 1 there), as the type without it.
  auto sliceAt = [&](OpBuilder &nb, Value t, int64_t axis, Value pos, RankedTensorType without) {
    auto tt = cast<RankedTensorType>(t.getType());
    SmallVector<OpFoldResult> offs(tt.getRank(), nb.getIndexAttr(0)), sizes,
        strides(tt.getRank(), nb.getIndexAttr(1));
    for (int64_t d = 0; d < tt.getRank(); ++d)
      sizes.push_back(d == axis ? OpFoldResult(nb.getIndexAttr(1)) : dimOf(nb, l, t, d));
    offs[axis] = pos;
    return tensor::ExtractSliceOp::create(nb, l, without, t, offs, sizes, strides).getResult();
  };
  auto loop = scf::ForOp::create(
      b, l, sb.cIdx(0), seq, sb.cIdx(1), inits,
      [&](OpBuilder &nb, Location nl, Value i, ValueRange acc) {
        ScalarBuilder s{nb, nl};
        Value last = s.sub(seq, s.cIdx(1));
        SmallVector<Value> args(acc.begin(), acc.begin() + nState);
        for (int64_t k = 0; k < nIn; ++k) {
          Value pos = inDirs[k] ? s.sub(last, i) : i;
          RankedTensorType t = inTypes[k];
          SmallVector<int64_t> shape(t.getShape());
          shape.erase(shape.begin() + inAxes[k]);
          Value sl = sliceAt(nb, c.input(nState + k), inAxes[k], pos,
                             RankedTensorType::get(shape, t.getElementType()));
          args.push_back(castTo(nb, nl, sl,
                                cast<RankedTensorType>(c.typeConverter.convertType(
                                    blk.getArgument(nState + k).getType()))));
        }
        for (int64_t k = 0; k < nState; ++k)
          args[k] = castTo(nb, nl, args[k],
                           cast<RankedTensorType>(
                               c.typeConverter.convertType(blk.getArgument(k).getType())));
        SmallVector<Type> types;
        for (int64_t k = 0; k < nState; ++k)
          types.push_back(acc[k].getType());
        types.append(sliceOutTypes.begin(), sliceOutTypes.end());
        ValueRange outs = inlineSubgraph(c.rewriter, nl, *body, types, args);
        SmallVector<Value> next(outs.begin(), outs.begin() + nState);
        for (int64_t k = 0; k < nOut; ++k) {
          Value buf = acc[nState + k];
          RankedTensorType ot = outTypes[k];
          Value pos = outDirs[k] ? s.sub(last, i) : i;
          SmallVector<OpFoldResult> offs(ot.getRank(), nb.getIndexAttr(0)), sizes,
              strides(ot.getRank(), nb.getIndexAttr(1));
          for (int64_t d = 0; d < ot.getRank(); ++d)
            sizes.push_back(d == outAxes[k] ? OpFoldResult(nb.getIndexAttr(1))
                                            : OpFoldResult(nb.getIndexAttr(ot.getDimSize(d))));
          offs[outAxes[k]] = pos;
          next.push_back(tensor::InsertSliceOp::create(nb, nl, outs[nState + k], buf, offs, sizes,
                                                       strides));
        }
        scf::YieldOp::create(nb, nl, next);
      });
  SmallVector<Value> results;
  for (unsigned k = 0; k < c.numResults(); ++k)
    results.push_back(
        castTo(b, l, loop.getResult(k), cast<RankedTensorType>(c.resultType(k))));
  return c.replace(results);
}

} // namespace

void registerControlFlowOps(OnnxHandlerTable &t) {
  t.add("If", 1, lowerIf);
  t.add("Loop", 1, lowerLoop);
  t.add("Scan", 9, lowerScan);
}

} // namespace sparq::onnx
