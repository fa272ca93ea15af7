//===- passes/ONNXToLinalg/Shape.cpp - shape and layout ONNX operators -------------===//
//
// Reshape, Flatten, Squeeze, Unsqueeze, Transpose, Expand, Tile, DepthToSpace, SpaceToDepth,
// Shape, Size, ConstantOfShape, Range and EyeLike.
//
// Reshaping operators become tensor.collapse_shape / tensor.expand_shape (tensor.reshape only when
// a dimension is dynamic), Transpose linalg.transpose, broadcasts (Expand, Tile) linalg.broadcast,
// and the generated tensors (Range, EyeLike) a linalg.generic computing each element from its
// indices.
//
// Data-dependent inputs (Reshape's shape, Squeeze's axes, Expand's shape, Tile's repeats, ...)
// are folded when they are constants. Otherwise they are read at run time where the node's result
// type is static (the shape is then known); a handler never guesses a shape it cannot know and
// fails with a diagnostic naming the input instead.
//
//===----------------------------------------------------------------------===//
#include "passes/ONNXToLinalg/ONNXToLinalg.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

using namespace mlir;

namespace sparq::onnx {
namespace {

//===----------------------------------------------------------------------===//
// Reshape, Flatten, Squeeze, Unsqueeze
//===----------------------------------------------------------------------===//

/// Reassociation grouping the dimensions of the larger shape around the `kept` dimensions (which
/// correspond one to one to the smaller shape); the other (unit) dimensions join the group of the
/// next kept dimension, trailing ones the last group. No kept dimension: empty reassociation.
SmallVector<ReassociationIndices> groupAroundKept(int64_t rank, ArrayRef<bool> kept) {
  SmallVector<ReassociationIndices> groups;
  ReassociationIndices pending;
  for (int64_t i = 0; i < rank; ++i) {
    pending.push_back(i);
    if (kept[i]) {
      groups.push_back(pending);
      pending.clear();
    }
  }
  if (!pending.empty() && !groups.empty())
    groups.back().append(pending.begin(), pending.end());
  return groups;
}

/// tensor.reshape of `v` to `type`, with the result sizes given as index values.
Value reshapeWithSizes(OpBuilder &b, Location l, Value v, RankedTensorType type,
                       ArrayRef<Value> sizes) {
  SmallVector<Value> elems(sizes);
  auto shapeType = RankedTensorType::get({(int64_t)elems.size()}, b.getIndexType());
  Value shape = tensor::FromElementsOp::create(b, l, shapeType, elems);
  return tensor::ReshapeOp::create(b, l, type, v, shape);
}

/// Reshape to a target read at run time (a 1-D input of static length, the result's rank):
/// each entry is taken as is, 0 copies the input dimension (unless `allowZero`), one -1 is the
/// element count over the product of the others. The element counts must agree at run time.
LogicalResult lowerReshapeRuntimeShape(NodeContext &c, bool allowZero) {
  OpBuilder &b = c.rewriter;
  Location l = c.loc;
  ScalarBuilder sb{b, l};
  auto in = c.inputType(0);
  auto rt = c.rankedResultType(0);
  auto st = dyn_cast<RankedTensorType>(c.input(1).getType());
  if (!st || st.getRank() != 1)
    return c.fail("the 'shape' input is not a constant and not a 1-D tensor");
  if (!st.isDynamicDim(0) && st.getDimSize(0) != rt.getRank())
    return c.fail("'shape' has " + Twine(st.getDimSize(0)) + " entries for a rank-" +
                  Twine(rt.getRank()) + " result");
  if (st.isDynamicDim(0)) // the result type fixes the rank: check the target's length
    cf::AssertOp::create(b, l, sb.eq(dimValue(b, l, c.input(1), 0), sb.cIdx(rt.getRank())),
                         c.op.describe() + ": the 'shape' input must have " +
                             Twine(rt.getRank()).str() + " entries (the result's rank)");
  Value total = sb.cIdx(1);
  for (int64_t d = 0; d < in.getRank(); ++d)
    total = sb.mul(total, dimValue(b, l, c.input(0), d));
  Value zero = sb.cIdx(0), one = sb.cIdx(1), minusOne = sb.cIdx(-1);
  SmallVector<Value> entries, sizes;
  Value known = one, inferredCount = zero;
  for (int64_t i = 0; i < rt.getRank(); ++i) {
    Value e = toIndex(b, l, extractElement(b, l, c.input(1), i), /*isUnsigned=*/false);
    Value size = e;
    if (!allowZero && i < in.getRank())
      size = sb.select(sb.eq(e, zero), dimValue(b, l, c.input(0), i), e);
    Value isInferred = sb.eq(e, minusOne);
    inferredCount = sb.add(inferredCount, sb.select(isInferred, one, zero));
    known = sb.mul(known, sb.select(isInferred, one, size));
    entries.push_back(isInferred);
    sizes.push_back(size);
  }
  // Guard the division: a zero product with a -1 entry is the error below.
  Value safeKnown = sb.select(sb.eq(known, zero), one, known);
  Value inferred = arith::DivUIOp::create(b, l, total, safeKnown);
  Value ok = sb.cmp(arith::CmpIPredicate::ule, inferredCount, one);
  for (int64_t i = 0; i < rt.getRank(); ++i) {
    sizes[i] = sb.select(entries[i], inferred, sizes[i]);
    ok = arith::AndIOp::create(b, l, ok, sb.cmp(arith::CmpIPredicate::sge, sizes[i], zero));
  }
  Value count = one;
  for (Value s : sizes)
    count = sb.mul(count, s);
  ok = arith::AndIOp::create(b, l, ok, sb.eq(count, total));
  cf::AssertOp::create(b, l, ok,
                       c.op.describe() + ": the 'shape' input does not fit the input's element "
                                         "count (more than one -1, a negative entry, or a "
                                         "different number of elements)");
  Value r = reshapeWithSizes(b, l, c.input(0), rt, sizes);
  return c.replace(r);
}

/// Reshape; `shapeFromInput`: the shape is input 1 (Reshape-5 and later), not the 'shape'
/// attribute (Reshape-1).
LogicalResult lowerReshape(NodeContext &c, bool shapeFromInput) {
  if (failed(requireRanked(c, 0, "the data input")))
    return failure();
  OpBuilder &b = c.rewriter;
  auto in = c.inputType(0);
  auto rt = c.rankedResultType(0);
  bool allowZero = c.intAttr("allowzero", 0) != 0;
  if (rt.hasStaticShape()) {
    if (in.hasStaticShape()) {
      if (in.getNumElements() != rt.getNumElements())
        return c.fail("cannot reshape " + Twine(in.getNumElements()) + " elements into " +
                      Twine(rt.getNumElements()));
      return c.replace(reshapeStatic(b, c.loc, c.input(0), rt.getShape()));
    }
    SmallVector<Value> sizes;
    for (int64_t d : rt.getShape())
      sizes.push_back(ScalarBuilder{b, c.loc}.cIdx(d));
    return c.replace(reshapeWithSizes(b, c.loc, c.input(0), rt, sizes));
  }
  // Dynamic result: 0 copies an input dimension, -1 is inferred.
  std::optional<SmallVector<int64_t>> shape =
      shapeFromInput ? constInts(c, 1) : std::optional(c.intsAttr("shape"));
  if (!shape)
    return lowerReshapeRuntimeShape(c, allowZero);
  if ((int64_t)shape->size() != rt.getRank())
    return c.fail("'shape' has " + Twine(shape->size()) + " entries for a rank-" +
                  Twine(rt.getRank()) + " result");
  SmallVector<Value> sizes(shape->size());
  int64_t inferred = -1;
  for (auto [i, s] : llvm::enumerate(*shape)) {
    if (s == -1) {
      if (inferred >= 0)
        return c.fail("'shape' " + joinInts(*shape) + " has more than one -1 entry");
      inferred = i;
    } else if (s == 0 && !allowZero) {
      if ((int64_t)i >= in.getRank())
        return c.fail("'shape' " + joinInts(*shape) + " copies dimension " + Twine(i) +
                      " of a rank-" + Twine(in.getRank()) + " input");
      sizes[i] = dimValue(b, c.loc, c.input(0), i);
    } else if (s < 0) {
      return c.fail("'shape' " + joinInts(*shape) + " has a negative entry");
    } else {
      sizes[i] = ScalarBuilder{b, c.loc}.cIdx(s);
    }
  }
  if (inferred >= 0) {
    Value total = ScalarBuilder{b, c.loc}.cIdx(1);
    for (int64_t d = 0; d < in.getRank(); ++d)
      total = ScalarBuilder{b, c.loc}.mul(total, dimValue(b, c.loc, c.input(0), d));
    Value known = ScalarBuilder{b, c.loc}.cIdx(1);
    for (auto [i, s] : llvm::enumerate(sizes))
      if ((int64_t)i != inferred)
        known = ScalarBuilder{b, c.loc}.mul(known, s);
    sizes[inferred] = arith::DivUIOp::create(b, c.loc, total, known);
  }
  return c.replace(reshapeWithSizes(b, c.loc, c.input(0), rt, sizes));
}

LogicalResult lowerFlatten(NodeContext &c) {
  if (failed(requireRanked(c, 0, "the input")))
    return failure();
  OpBuilder &b = c.rewriter;
  auto in = c.inputType(0);
  auto rt = c.rankedResultType(0);
  int64_t rank = in.getRank();
  int64_t axis = c.intAttr("axis", 1);
  if (axis < 0)
    axis += rank;
  if (axis < 0 || axis > rank)
    return c.fail("attribute 'axis' = " + Twine(c.intAttr("axis", 1)) +
                  " is out of range for rank " + Twine(rank));
  if (in.hasStaticShape() && rt.hasStaticShape())
    return c.replace(reshapeStatic(b, c.loc, c.input(0), rt.getShape()));
  if (axis > 0 && axis < rank) {
    SmallVector<ReassociationIndices> groups(2);
    for (int64_t i = 0; i < rank; ++i)
      groups[i < axis ? 0 : 1].push_back(i);
    Value r = tensor::CollapseShapeOp::create(b, c.loc, c.input(0), groups);
    return c.replace(castTo(b, c.loc, r, rt));
  }
  Value outer = ScalarBuilder{b, c.loc}.cIdx(1), inner = ScalarBuilder{b, c.loc}.cIdx(1);
  for (int64_t i = 0; i < rank; ++i) {
    Value &acc = i < axis ? outer : inner;
    acc = ScalarBuilder{b, c.loc}.mul(acc, dimValue(b, c.loc, c.input(0), i));
  }
  return c.replace(reshapeWithSizes(b, c.loc, c.input(0), rt, {outer, inner}));
}

/// Reads the axes of Squeeze/Unsqueeze: the 'axes' attribute (opsets 1 and 11), or with
/// `axesFromInput` the optional constant input 1 (opset 13 on). nullopt when absent.
FailureOr<std::optional<SmallVector<int64_t>>> squeezeAxes(NodeContext &c, bool axesFromInput) {
  if (!axesFromInput) {
    if (!c.hasAttr("axes"))
      return std::optional<SmallVector<int64_t>>();
    return std::optional<SmallVector<int64_t>>(c.intsAttr("axes"));
  }
  if (!c.hasInput(1))
    return std::optional<SmallVector<int64_t>>();
  auto axes = constInts(c, 1);
  if (!axes)
    return FailureOr<std::optional<SmallVector<int64_t>>>(failure());
  return std::optional<SmallVector<int64_t>>(*axes);
}

/// Squeeze (`squeeze`) or Unsqueeze with the 'axes' input read at run time: the result rank
/// fixes how many axes there are (checked against the input's length), each of the `span`
/// dimensions (the input's for Squeeze, the result's for Unsqueeze) learns at run time whether
/// an axis names it, and the result sizes follow; a tensor.reshape with those sizes (removing or
/// inserting unit dims keeps the element order). A squeezed dimension must be 1 at run time.
LogicalResult lowerSqueezeRuntimeAxes(NodeContext &c, bool squeeze) {
  OpBuilder &b = c.rewriter;
  Location l = c.loc;
  ScalarBuilder sb{b, l};
  auto in = c.inputType(0);
  auto rt = c.rankedResultType(0);
  auto at = dyn_cast<RankedTensorType>(c.input(1).getType());
  int64_t r = in.getRank(), outRank = rt.getRank();
  int64_t count = squeeze ? r - outRank : outRank - r, span = squeeze ? r : outRank;
  if (!at || at.getRank() != 1 || count < 0 || (!at.isDynamicDim(0) && at.getDimSize(0) != count))
    return c.fail("'axes' must be a 1-D tensor of " + Twine(std::max<int64_t>(count, 0)) +
                  " entries (the rank difference of the input and the result)");
  Value ok = sb.eq(dimValue(b, l, c.input(1), 0), sb.cIdx(count));
  SmallVector<Value> axisVals;
  Value spanV = sb.cIdx(span), zero = sb.cIdx(0), one = sb.cIdx(1);
  for (int64_t k = 0; k < count; ++k) {
    Value a = toIndex(b, l, extractElement(b, l, c.input(1), k), false);
    a = sb.select(sb.cmp(arith::CmpIPredicate::slt, a, zero), sb.add(a, spanV), a);
    ok = arith::AndIOp::create(b, l, ok, sb.cmp(arith::CmpIPredicate::sge, a, zero));
    ok = arith::AndIOp::create(b, l, ok, sb.ult(a, spanV));
    axisVals.push_back(a);
  }
  SmallVector<Value> isAxis;
  for (int64_t i = 0; i < span; ++i) {
    Value hit = arith::ConstantIntOp::create(b, l, 0, 1);
    for (Value a : axisVals)
      hit = arith::OrIOp::create(b, l, hit, sb.eq(a, sb.cIdx(i)));
    isAxis.push_back(hit);
  }
  SmallVector<Value> inDims;
  for (int64_t j = 0; j < r; ++j)
    inDims.push_back(dimValue(b, l, c.input(0), j));
  SmallVector<Value> sizes(outRank, one);
  if (squeeze) {
    // Input dim j (not squeezed) lands at position j - (squeezed dims before j).
    Value pos = zero;
    for (int64_t j = 0; j < r; ++j) {
      ok = arith::AndIOp::create(
          b, l, ok,
          arith::OrIOp::create(b, l, arith::XOrIOp::create(b, l, isAxis[j],
                                                           arith::ConstantIntOp::create(b, l, 1, 1)),
                               sb.eq(inDims[j], one)));
      for (int64_t i = 0; i < outRank; ++i)
        sizes[i] = sb.select(
            arith::AndIOp::create(b, l, sb.eq(pos, sb.cIdx(i)),
                                  arith::XOrIOp::create(b, l, isAxis[j],
                                                        arith::ConstantIntOp::create(b, l, 1, 1))),
            inDims[j], sizes[i]);
      pos = sb.add(pos, sb.select(isAxis[j], zero, one));
    }
  } else {
    // Result dim i is 1 where an axis names it, else the next input dim.
    Value next = zero;
    for (int64_t i = 0; i < outRank; ++i) {
      Value dim = one;
      for (int64_t j = 0; j < r; ++j)
        dim = sb.select(sb.eq(next, sb.cIdx(j)), inDims[j], dim);
      sizes[i] = sb.select(isAxis[i], one, dim);
      next = sb.add(next, sb.select(isAxis[i], zero, one));
    }
    ok = arith::AndIOp::create(b, l, ok, sb.eq(next, sb.cIdx(r))); // no axis named twice
  }
  cf::AssertOp::create(b, l, ok,
                       c.op.describe() + ": 'axes' must name " + std::to_string(count) +
                           " distinct dimensions in range" +
                           (squeeze ? ", each of size 1" : ""));
  return c.replace(reshapeWithSizes(b, l, c.input(0), rt, sizes));
}

LogicalResult lowerSqueeze(NodeContext &c, bool axesFromInput) {
  if (failed(requireRanked(c, 0, "the input")))
    return failure();
  OpBuilder &b = c.rewriter;
  auto in = c.inputType(0);
  auto rt = c.rankedResultType(0);
  int64_t rank = in.getRank();
  // Between static shapes, which unit dimensions go does not change the element order.
  if (in.hasStaticShape() && rt.hasStaticShape()) {
    if (in.getNumElements() != rt.getNumElements())
      return c.fail("the result shape does not hold the input's elements");
    return c.replace(reshapeStatic(b, c.loc, c.input(0), rt.getShape()));
  }
  auto axesOr = squeezeAxes(c, axesFromInput);
  SmallVector<bool> kept(rank, true);
  if (failed(axesOr)) {
    return lowerSqueezeRuntimeAxes(c, /*squeeze=*/true);
  } else if (!*axesOr) {
    for (int64_t i = 0; i < rank; ++i) {
      if (in.isDynamicDim(i))
        return c.fail("without 'axes', dimension " + Twine(i) +
                      " of the input must be static to tell whether it is squeezed");
      kept[i] = in.getDimSize(i) != 1;
    }
  } else {
    auto axes = normalizeAxes(c, **axesOr, rank, "'axes'");
    if (failed(axes))
      return failure();
    for (int64_t a : *axes) {
      if (!in.isDynamicDim(a) && in.getDimSize(a) != 1)
        return c.fail("cannot squeeze dimension " + Twine(a) + " of size " +
                      Twine(in.getDimSize(a)));
      kept[a] = false;
    }
  }
  if ((int64_t)llvm::count(kept, true) != rt.getRank())
    return c.fail("squeezing leaves rank " + Twine(llvm::count(kept, true)) +
                  " but the result has rank " + Twine(rt.getRank()));
  // A dynamic dimension that is squeezed is 1 at run time.
  Value src = c.input(0);
  if (llvm::any_of(llvm::seq<int64_t>(0, rank),
                   [&](int64_t i) { return !kept[i] && in.isDynamicDim(i); })) {
    SmallVector<int64_t> shape(in.getShape());
    for (int64_t i = 0; i < rank; ++i)
      if (!kept[i])
        shape[i] = 1;
    src = castTo(b, c.loc, src, RankedTensorType::get(shape, in.getElementType()));
  }
  Value r = tensor::CollapseShapeOp::create(b, c.loc, src, groupAroundKept(rank, kept));
  return c.replace(castTo(b, c.loc, r, rt));
}

LogicalResult lowerUnsqueeze(NodeContext &c, bool axesFromInput) {
  if (failed(requireRanked(c, 0, "the input")))
    return failure();
  OpBuilder &b = c.rewriter;
  auto in = c.inputType(0);
  auto rt = c.rankedResultType(0);
  if (in.hasStaticShape() && rt.hasStaticShape()) {
    if (in.getNumElements() != rt.getNumElements())
      return c.fail("the result shape does not hold the input's elements");
    return c.replace(reshapeStatic(b, c.loc, c.input(0), rt.getShape()));
  }
  auto axesOr = squeezeAxes(c, axesFromInput);
  if (failed(axesOr))
    return lowerSqueezeRuntimeAxes(c, /*squeeze=*/false);
  if (!*axesOr)
    return c.fail("'axes' is required");
  int64_t outRank = in.getRank() + (int64_t)(*axesOr)->size();
  if (outRank != rt.getRank())
    return c.fail("unsqueezing " + Twine((*axesOr)->size()) + " axes of a rank-" +
                  Twine(in.getRank()) + " input does not give the rank-" + Twine(rt.getRank()) +
                  " result");
  auto axes = normalizeAxes(c, **axesOr, outRank, "'axes'");
  if (failed(axes))
    return failure();
  SmallVector<bool> kept(outRank, true);
  for (int64_t a : *axes)
    kept[a] = false;
  SmallVector<int64_t> shape;
  for (int64_t i = 0, j = 0; i < outRank; ++i)
    shape.push_back(kept[i] ? in.getDimSize(j++) : 1);
  auto type = RankedTensorType::get(shape, in.getElementType());
  Value r =
      tensor::ExpandShapeOp::create(b, c.loc, type, c.input(0), groupAroundKept(outRank, kept));
  return c.replace(castTo(b, c.loc, r, rt));
}

//===----------------------------------------------------------------------===//
// Transpose, Expand, Tile
//===----------------------------------------------------------------------===//

LogicalResult lowerTranspose(NodeContext &c) {
  if (failed(requireRanked(c, 0, "the input")))
    return failure();
  auto in = c.inputType(0);
  auto rt = c.rankedResultType(0);
  SmallVector<int64_t> perm;
  for (int64_t i = in.getRank() - 1; i >= 0; --i)
    perm.push_back(i);
  perm = c.intsAttr("perm", perm);
  SmallVector<int64_t> sorted(perm);
  llvm::sort(sorted);
  if ((int64_t)perm.size() != in.getRank() ||
      llvm::any_of(llvm::enumerate(sorted), [](auto p) { return (int64_t)p.index() != p.value(); }))
    return c.fail("attribute 'perm' = " + joinInts(perm) + " is not a permutation of " +
                  Twine(in.getRank()) + " dimensions");
  if (llvm::equal(perm, llvm::seq<int64_t>(0, in.getRank())))
    return c.replace(castTo(c.rewriter, c.loc, c.input(0), rt));
  OpBuilder &b = c.rewriter;
  Value init = createEmpty(b, c.loc, rt, dynamicSizes(rt, [&](int64_t i) {
                             return dimValue(b, c.loc, c.input(0), perm[i]);
                           }));
  return c.replace(linalg::TransposeOp::create(b, c.loc, c.input(0), init, perm).getResult()[0]);
}

/// Expand to a 'shape' read at run time: the shape's L entries align with the result's last L
/// dims (the others take the input's sizes); each result size is the broadcast of the input's
/// and the entry's (checked: one of them 1, or equal), and the input is read at index 0 along its
/// dims that are 1 at run time (broadcastAtRunTime).
static LogicalResult lowerExpandAtRunTime(NodeContext &c) {
  OpBuilder &b = c.rewriter;
  Location l = c.loc;
  auto in = c.inputType(0);
  auto rt = c.rankedResultType(0);
  auto st = dyn_cast_or_null<RankedTensorType>(c.input(1).getType());
  const int64_t R = rt.getRank();
  if (!st || st.getRank() != 1 || in.getRank() > R ||
      (!st.isDynamicDim(0) && st.getDimSize(0) > R))
    return c.fail("the 'shape' input is read at run time: it must be 1-D with at most as many "
                  "entries as the result has dimensions (" + Twine(R) + ")");
  ScalarBuilder sb{b, l};
  const int64_t off = R - in.getRank();
  Value len = dimValue(b, l, c.input(1), 0);
  // The result's rank is max(input rank, L): L <= R, and L == R unless the input has rank R.
  Value ok = sb.cmp(arith::CmpIPredicate::sle, len, sb.cIdx(R));
  if (off > 0)
    ok = arith::AndIOp::create(b, l, ok, sb.eq(len, sb.cIdx(R)));
  // Every result dim's size from the shape entry and the input's size, checked; a static one
  // (from the model's declared output) must agree too, since the input is read unchecked.
  SmallVector<Value> sizes(R);
  for (int64_t j = 0; j < R; ++j) {
    // Entry j + L - R of the shape, or 1 before its first entry.
    Value k = sb.sub(sb.add(sb.cIdx(j), len), sb.cIdx(R));
    Value has = sb.cmp(arith::CmpIPredicate::sge, k, sb.cIdx(0));
    Value at = sb.select(has, k, sb.cIdx(0));
    Value e = toIndex(b, l, tensor::ExtractOp::create(b, l, c.input(1), ValueRange{at}),
                      /*isUnsigned=*/false);
    Value s = sb.select(has, e, sb.cIdx(1));
    Value good;
    if (j < off) {
      good = sb.cmp(arith::CmpIPredicate::sge, s, sb.cIdx(0));
      sizes[j] = s;
    } else {
      Value d = dimValue(b, l, c.input(0), j - off);
      Value dIsOne = sb.eq(d, sb.cIdx(1));
      good = sb.select(dIsOne, sb.cmp(arith::CmpIPredicate::sge, s, sb.cIdx(0)),
                       arith::OrIOp::create(b, l, sb.eq(s, sb.cIdx(1)), sb.eq(s, d)));
      sizes[j] = sb.select(dIsOne, s, d);
    }
    if (!rt.isDynamicDim(j))
      good = arith::AndIOp::create(b, l, good, sb.eq(sizes[j], sb.cIdx(rt.getDimSize(j))));
    ok = arith::AndIOp::create(b, l, ok, good);
  }
  auto dyn = dynamicSizes(rt, [&](int64_t j) { return sizes[j]; });
  cf::AssertOp::create(b, l, ok,
                       c.op.describe() + ": the input cannot broadcast to the 'shape' input "
                                         "(each pair of sizes must be equal or one of them 1, "
                                         "the result's rank is that of the larger, and the "
                                         "sizes are those the model declares)");
  return c.replace(broadcastAtRunTime(b, l, c.input(0), rt, dyn));
}

LogicalResult lowerExpand(NodeContext &c) {
  if (failed(requireRanked(c, 0, "the input")))
    return failure();
  auto in = c.inputType(0);
  auto rt = c.rankedResultType(0);
  if (!rt.hasStaticShape() && !constInts(c, 1))
    return lowerExpandAtRunTime(c);
  if (in.getRank() > rt.getRank())
    return c.fail("the input has rank " + Twine(in.getRank()) + " above the result's " +
                  Twine(rt.getRank()));
  int64_t off = rt.getRank() - in.getRank();
  for (int64_t i = 0; i < in.getRank(); ++i) {
    int64_t d = in.getDimSize(i), o = rt.getDimSize(off + i);
    if (!ShapedType::isDynamic(d) && !ShapedType::isDynamic(o) && d != 1 && d != o)
      return c.fail("input dimension " + Twine(i) + " of size " + Twine(d) +
                    " cannot broadcast to " + Twine(o));
  }
  if (in == rt)
    return c.replace(c.input(0));
  return c.replace(buildElementwise(c.rewriter, c.loc, c.input(0), rt,
                                    [](OpBuilder &, Location, ValueRange a) { return a[0]; }));
}

LogicalResult lowerTile(NodeContext &c) {
  if (failed(requireRanked(c, 0, "the input")))
    return failure();
  OpBuilder &b = c.rewriter;
  Location l = c.loc;
  auto in = c.inputType(0);
  auto rt = c.rankedResultType(0);
  int64_t rank = in.getRank();
  // Repeats: the constant input, else the ratio of the static result and input shapes.
  SmallVector<int64_t> repeats;
  if (auto cst = constInts(c, 1)) {
    repeats = *cst;
    if ((int64_t)repeats.size() != rank)
      return c.fail("'repeats' has " + Twine(repeats.size()) + " entries for rank " + Twine(rank));
    if (llvm::any_of(repeats, [](int64_t r) { return r < 0; }))
      return c.fail("'repeats' " + joinInts(repeats) + " has a negative entry");
  } else if (rt.hasStaticShape() && in.hasStaticShape()) {
    for (int64_t i = 0; i < rank; ++i) {
      int64_t d = in.getDimSize(i), o = rt.getDimSize(i);
      if (d == 0 ? o != 0 : o % d != 0)
        return c.fail("result dimension " + Twine(i) + " of size " + Twine(o) +
                      " is not a multiple of the input's " + Twine(d));
      repeats.push_back(d == 0 ? 1 : o / d);
    }
  } else {
    return c.fail("the 'repeats' input is not a constant and the shapes are not static");
  }
  if (rt.hasStaticShape() && rt.getNumElements() == 0)
    return c.replace(createEmpty(b, l, rt));
  // out[k*d + i] = in[i]: broadcast to (r0, d0, r1, d1, ...) and merge each pair.
  SmallVector<int64_t> bshape, bdims;
  SmallVector<Value> bdyn;
  SmallVector<ReassociationIndices> groups;
  for (int64_t i = 0; i < rank; ++i) {
    ReassociationIndices g;
    if (repeats[i] != 1) {
      bdims.push_back(bshape.size());
      g.push_back(bshape.size());
      bshape.push_back(repeats[i]);
    }
    g.push_back(bshape.size());
    bshape.push_back(in.getDimSize(i));
    if (in.isDynamicDim(i))
      bdyn.push_back(dimValue(b, l, c.input(0), i));
    groups.push_back(g);
  }
  if (bdims.empty())
    return c.replace(castTo(b, l, c.input(0), rt));
  auto btype = RankedTensorType::get(bshape, in.getElementType());
  Value bc = linalg::BroadcastOp::create(b, l, c.input(0), createEmpty(b, l, btype, bdyn), bdims)
                 .getResult()[0];
  Value r = tensor::CollapseShapeOp::create(b, l, bc, groups);
  return c.replace(castTo(b, l, r, rt));
}

//===----------------------------------------------------------------------===//
// DepthToSpace, SpaceToDepth
//===----------------------------------------------------------------------===//

/// expand_shape to `mid`, transpose by `perm`, collapse_shape to the result.
Value expandTransposeCollapse(OpBuilder &b, Location l, Value v, ArrayRef<int64_t> mid,
                              ArrayRef<ReassociationIndices> expandGroups, ArrayRef<int64_t> perm,
                              ArrayRef<ReassociationIndices> collapseGroups, RankedTensorType rt) {
  Type et = rt.getElementType();
  auto midType = RankedTensorType::get(mid, et);
  Value e = tensor::ExpandShapeOp::create(b, l, midType, v, expandGroups);
  SmallVector<int64_t> tshape;
  for (int64_t p : perm)
    tshape.push_back(mid[p]);
  auto tType = RankedTensorType::get(tshape, et);
  Value t = linalg::TransposeOp::create(b, l, e, createEmpty(b, l, tType), perm).getResult()[0];
  return tensor::CollapseShapeOp::create(b, l, rt, t, collapseGroups);
}

LogicalResult lowerDepthToSpace(NodeContext &c) {
  if (failed(requireRanked(c, 0, "the input")))
    return failure();
  auto in = c.inputType(0);
  auto rt = c.rankedResultType(0);
  if (in.getRank() != 4 || !in.hasStaticShape() || !rt.hasStaticShape())
    return c.fail("the input must be a static 4-D tensor");
  int64_t bs = c.intAttr("blocksize", 0);
  int64_t n = in.getDimSize(0), ch = in.getDimSize(1), h = in.getDimSize(2), w = in.getDimSize(3);
  // bs > ch: bs * bs would overflow for absurd attributes and cannot divide ch anyway.
  if (bs <= 0 || bs > ch || ch % (bs * bs) != 0)
    return c.fail("attribute 'blocksize' = " + Twine(bs) + " does not divide the " + Twine(ch) +
                  " channels into squares");
  std::string mode = c.stringAttr("mode", "DCR");
  int64_t co = ch / (bs * bs);
  SmallVector<int64_t> mid, perm;
  if (mode == "DCR") {
    mid = {n, bs, bs, co, h, w};
    perm = {0, 3, 4, 1, 5, 2};
  } else if (mode == "CRD") {
    mid = {n, co, bs, bs, h, w};
    perm = {0, 1, 4, 2, 5, 3};
  } else {
    return c.fail("attribute 'mode' = '" + mode + "' is not supported (DCR, CRD)");
  }
  return c.replace(expandTransposeCollapse(c.rewriter, c.loc, c.input(0), mid,
                                           {{0}, {1, 2, 3}, {4}, {5}}, perm,
                                           {{0}, {1}, {2, 3}, {4, 5}}, rt));
}

LogicalResult lowerSpaceToDepth(NodeContext &c) {
  if (failed(requireRanked(c, 0, "the input")))
    return failure();
  auto in = c.inputType(0);
  auto rt = c.rankedResultType(0);
  if (in.getRank() != 4 || !in.hasStaticShape() || !rt.hasStaticShape())
    return c.fail("the input must be a static 4-D tensor");
  int64_t bs = c.intAttr("blocksize", 0);
  int64_t n = in.getDimSize(0), ch = in.getDimSize(1), h = in.getDimSize(2), w = in.getDimSize(3);
  if (bs <= 0 || h % bs != 0 || w % bs != 0)
    return c.fail("attribute 'blocksize' = " + Twine(bs) + " does not divide the spatial size " +
                  Twine(h) + "x" + Twine(w));
  return c.replace(expandTransposeCollapse(
      c.rewriter, c.loc, c.input(0), {n, ch, h / bs, bs, w / bs, bs}, {{0}, {1}, {2, 3}, {4, 5}},
      {0, 3, 5, 1, 2, 4}, {{0}, {1, 2, 3}, {4}, {5}}, rt));
}

//===----------------------------------------------------------------------===//
// Shape, Size
//===----------------------------------------------------------------------===//

/// A 1-D i64 (or the result's integer type) tensor of the given index values, constant when
/// they all are.
Value shapeTensor(OpBuilder &b, Location l, RankedTensorType rt, ArrayRef<OpFoldResult> dims) {
  Type et = rt.getElementType();
  if (auto cst = getConstantIntValues(dims)) {
    SmallVector<APInt> vals;
    for (int64_t v : *cst)
      vals.push_back(APInt(et.getIntOrFloatBitWidth(), v, /*isSigned=*/true));
    auto type = RankedTensorType::get({(int64_t)dims.size()}, et);
    return arith::ConstantOp::create(b, l, DenseElementsAttr::get(type, vals));
  }
  SmallVector<Value> elems;
  for (OpFoldResult d : dims)
    elems.push_back(fromIndex(b, l, getValueOrCreateConstantIndexOp(b, l, d), et));
  return tensor::FromElementsOp::create(b, l, RankedTensorType::get({(int64_t)dims.size()}, et),
                                        elems);
}

LogicalResult lowerShape(NodeContext &c) {
  if (failed(requireRanked(c, 0, "the input")))
    return failure();
  OpBuilder &b = c.rewriter;
  auto in = c.inputType(0);
  auto rt = c.rankedResultType(0);
  int64_t rank = in.getRank();
  int64_t start = c.intAttr("start", 0), end = c.intAttr("end", rank);
  if (start < 0)
    start += rank;
  if (end < 0)
    end += rank;
  start = std::clamp<int64_t>(start, 0, rank);
  end = std::clamp<int64_t>(end, 0, rank);
  SmallVector<OpFoldResult> dims;
  for (int64_t i = start; i < end; ++i)
    dims.push_back(dimOf(b, c.loc, c.input(0), i));
  if (rt.getRank() != 1 || (!rt.isDynamicDim(0) && rt.getDimSize(0) != (int64_t)dims.size()))
    return c.fail("the result type " + Twine(rt.getRank()) + "-D does not hold " +
                  Twine(dims.size()) + " dimensions");
  return c.replace(castTo(b, c.loc, shapeTensor(b, c.loc, rt, dims), rt));
}

LogicalResult lowerSize(NodeContext &c) {
  if (failed(requireRanked(c, 0, "the input")))
    return failure();
  OpBuilder &b = c.rewriter;
  auto in = c.inputType(0);
  auto rt = c.rankedResultType(0);
  Type et = rt.getElementType();
  if (in.hasStaticShape())
    return c.replace(
        arith::ConstantOp::create(
            b, c.loc,
            DenseElementsAttr::get(rt, APInt(et.getIntOrFloatBitWidth(), in.getNumElements())))
            .getResult());
  Value total = ScalarBuilder{b, c.loc}.cIdx(1);
  for (int64_t d = 0; d < in.getRank(); ++d)
    total = ScalarBuilder{b, c.loc}.mul(total, dimValue(b, c.loc, c.input(0), d));
  return c.replace(
      tensor::FromElementsOp::create(b, c.loc, rt, ValueRange{fromIndex(b, c.loc, total, et)})
          .getResult());
}

//===----------------------------------------------------------------------===//
// ConstantOfShape, Range, EyeLike
//===----------------------------------------------------------------------===//

/// The run-time sizes of the dynamic dimensions of `rt` read from a 1-D shape tensor.
SmallVector<Value> sizesFromShapeInput(OpBuilder &b, Location l, RankedTensorType rt, Value shape) {
  return dynamicSizes(rt, [&](int64_t i) { return toIndex(b, l, extractElement(b, l, shape, i)); });
}

LogicalResult lowerConstantOfShape(NodeContext &c) {
  OpBuilder &b = c.rewriter;
  auto rt = c.rankedResultType(0);
  Type et = rt.getElementType();
  Value scalar;
  if (Attribute a = c.attr("value")) {
    auto dense = dyn_cast<DenseElementsAttr>(a);
    if (!dense || dense.getNumElements() != 1)
      return c.fail("attribute 'value' must be a one-element tensor");
    auto ft = dyn_cast<FloatType>(et);
    auto intTy = dyn_cast<IntegerType>(et);
    if (ft && isa<FloatType>(dense.getElementType())) {
      APFloat v = *dense.value_begin<APFloat>();
      bool lost;
      v.convert(ft.getFloatSemantics(), APFloat::rmNearestTiesToEven, &lost);
      scalar = arith::ConstantOp::create(b, c.loc, b.getFloatAttr(ft, v));
    } else if (intTy && isa<IntegerType>(dense.getElementType())) {
      APInt v = *dense.value_begin<APInt>();
      scalar = arith::ConstantOp::create(b, c.loc,
                                         b.getIntegerAttr(intTy, v.sextOrTrunc(intTy.getWidth())));
    } else {
      std::string msg;
      llvm::raw_string_ostream os(msg);
      os << "attribute 'value' of element type " << dense.getElementType()
         << " does not match the result element type " << et;
      return c.fail(msg);
    }
  } else {
    scalar = scalarConstant(b, c.loc, et, 0.0);
  }
  SmallVector<Value> dyn;
  if (!rt.hasStaticShape()) {
    if (failed(requireRanked(c, 0, "the shape input")))
      return failure();
    dyn = sizesFromShapeInput(b, c.loc, rt, c.input(0));
  }
  return c.replace(createFilled(b, c.loc, rt, scalar, dyn));
}

LogicalResult lowerRange(NodeContext &c) {
  OpBuilder &b = c.rewriter;
  Location l = c.loc;
  auto rt = c.rankedResultType(0);
  Type et = rt.getElementType();
  for (unsigned i = 0; i < 3; ++i)
    if (failed(requireRanked(c, i, i == 0 ? "'start'" : i == 1 ? "'limit'" : "'delta'")))
      return failure();
  Value start = scalarInput(c, 0), delta = scalarInput(c, 2);
  SmallVector<Value> dyn;
  if (rt.isDynamicDim(0)) {
    Value limit = scalarInput(c, 1), n;
    if (isa<FloatType>(et)) {
      Value q = arith::DivFOp::create(b, l, arith::SubFOp::create(b, l, limit, start), delta);
      n = toIndex(b, l, math::CeilOp::create(b, l, q));
    } else {
      n = arith::CeilDivSIOp::create(b, l, toIndex(b, l, arith::SubIOp::create(b, l, limit, start)),
                                     toIndex(b, l, delta));
    }
    dyn.push_back(ScalarBuilder{b, l}.maxS(n, ScalarBuilder{b, l}.cIdx(0)));
  }
  Value out = buildIndexedGeneric(
      b, l, rt, dyn, {}, {}, [&](OpBuilder &nb, Location nl, ValueRange ivs, ValueRange) -> Value {
        if (auto ft = dyn_cast<FloatType>(et)) {
          Value i = arith::SIToFPOp::create(
              nb, nl, ft, arith::IndexCastOp::create(nb, nl, nb.getI64Type(), ivs[0]));
          return arith::AddFOp::create(nb, nl, start, arith::MulFOp::create(nb, nl, i, delta));
        }
        Value i = fromIndex(nb, nl, ivs[0], et);
        return arith::AddIOp::create(nb, nl, start, arith::MulIOp::create(nb, nl, i, delta));
      });
  return c.replace(out);
}

LogicalResult lowerEyeLike(NodeContext &c) {
  if (failed(requireRanked(c, 0, "the input")))
    return failure();
  OpBuilder &b = c.rewriter;
  Location l = c.loc;
  auto rt = c.rankedResultType(0);
  if (rt.getRank() != 2)
    return c.fail("the input must be 2-D");
  Value k = ScalarBuilder{b, l}.cIdx(c.intAttr("k", 0));
  Type et = rt.getElementType();
  Value one = scalarConstant(b, l, et, 1.0), zero = scalarConstant(b, l, et, 0.0);
  return c.replace(buildIndexedGeneric(
      b, l, rt, dynamicSizes(rt, [&](int64_t d) { return dimValue(b, l, c.input(0), d); }), {}, {},
      [&](OpBuilder &nb, Location nl, ValueRange ivs, ValueRange) -> Value {
        Value on = ScalarBuilder{nb, nl}.cmp(arith::CmpIPredicate::eq,
                                             ScalarBuilder{nb, nl}.sub(ivs[1], ivs[0]), k);
        return ScalarBuilder{nb, nl}.select(on, one, zero);
      }));
}

} // namespace

void registerShapeOps(OnnxHandlerTable &t) {
  // The shape is an attribute in Reshape-1, input 1 from Reshape-5.
  t.add("Reshape", 1, [](NodeContext &c) { return lowerReshape(c, /*shapeFromInput=*/false); });
  t.add("Reshape", 5, [](NodeContext &c) { return lowerReshape(c, /*shapeFromInput=*/true); });
  t.add("Flatten", 1, lowerFlatten);
  // The axes are an attribute up to opset 12, input 1 from 13.
  t.add("Squeeze", 1, [](NodeContext &c) { return lowerSqueeze(c, /*axesFromInput=*/false); });
  t.add("Squeeze", 13, [](NodeContext &c) { return lowerSqueeze(c, /*axesFromInput=*/true); });
  t.add("Unsqueeze", 1, [](NodeContext &c) { return lowerUnsqueeze(c, /*axesFromInput=*/false); });
  t.add("Unsqueeze", 13, [](NodeContext &c) { return lowerUnsqueeze(c, /*axesFromInput=*/true); });
  t.add("Transpose", 1, lowerTranspose);
  t.add("Expand", 8, lowerExpand);
  t.add("Tile", 1, lowerTile);
  t.add("DepthToSpace", 1, lowerDepthToSpace);
  t.add("SpaceToDepth", 1, lowerSpaceToDepth);
  t.add("Shape", 1, lowerShape);
  t.add("Size", 1, lowerSize);
  t.add("ConstantOfShape", 9, lowerConstantOfShape);
  t.add("Range", 11, lowerRange);
  t.add("EyeLike", 9, lowerEyeLike);
}
} // namespace sparq::onnx
