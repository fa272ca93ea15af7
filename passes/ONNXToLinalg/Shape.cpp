//===- passes/ONNXToLinalg/Shape.cpp - shape and data-movement ONNX operators ----===//
//
// Reshape, Flatten, Squeeze, Unsqueeze, Transpose, Concat, Slice, Split, Gather(Elements/ND),
// Shape, Size, ConstantOfShape, Expand, Pad, Resize/Upsample, Tile, Range, DepthToSpace,
// SpaceToDepth, OneHot, Trilu, EyeLike, Scatter(Elements/ND), NonZero and Compress.
//
// Reshaping operators become tensor.collapse_shape / tensor.expand_shape (tensor.reshape only when
// a dimension is dynamic), slicing and padding tensor.extract_slice / tensor.pad / tensor.concat,
// broadcasts linalg.broadcast, and gathers a linalg.generic whose body reads the source with
// tensor.extract. Scatters and the data-dependent NonZero/Compress are scf.for loops over tensors,
// the only form that expresses their sequential writes.
//
// Data-dependent inputs (Reshape's shape, Slice's starts/ends, Pad's pads, Resize's scales, ...)
// are folded when they are constants. Otherwise they are read at run time where the node's result
// type is static (the shape is then known); a handler never guesses a shape it cannot know and
// fails with a diagnostic naming the input instead.
//
//===----------------------------------------------------------------------===//
#include "passes/ONNXToLinalg/ONNXToLinalg.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

#include <cmath>
#include <numeric>

using namespace mlir;

namespace sparq::onnx {
namespace {

//===----------------------------------------------------------------------===//
// Small helpers
//===----------------------------------------------------------------------===//

std::string joinInts(ArrayRef<int64_t> v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i)
    s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

Value cIdx(OpBuilder &b, Location l, int64_t v) { return arith::ConstantIndexOp::create(b, l, v); }

/// An integer (or float, truncated) scalar as an index.
Value toIndex(OpBuilder &b, Location l, Value v, bool isUnsigned = false) {
  Type t = v.getType();
  if (t.isIndex())
    return v;
  if (isa<FloatType>(t))
    v = arith::FPToSIOp::create(b, l, b.getI64Type(), v);
  else if (isUnsigned && t.getIntOrFloatBitWidth() < 64)
    v = arith::ExtUIOp::create(b, l, b.getI64Type(), v);
  return arith::IndexCastOp::create(b, l, b.getIndexType(), v);
}

/// An index scalar as a value of the integer type `t`.
Value fromIndex(OpBuilder &b, Location l, Value v, Type t) {
  return arith::IndexCastOp::create(b, l, t, v);
}

Value cmpI(OpBuilder &b, Location l, arith::CmpIPredicate p, Value x, Value y) {
  return arith::CmpIOp::create(b, l, p, x, y);
}
Value select(OpBuilder &b, Location l, Value c, Value x, Value y) {
  return arith::SelectOp::create(b, l, c, x, y);
}
Value addI(OpBuilder &b, Location l, Value x, Value y) { return arith::AddIOp::create(b, l, x, y); }
Value subI(OpBuilder &b, Location l, Value x, Value y) { return arith::SubIOp::create(b, l, x, y); }
Value mulI(OpBuilder &b, Location l, Value x, Value y) { return arith::MulIOp::create(b, l, x, y); }
Value maxI(OpBuilder &b, Location l, Value x, Value y) {
  return arith::MaxSIOp::create(b, l, x, y);
}
Value minI(OpBuilder &b, Location l, Value x, Value y) {
  return arith::MinSIOp::create(b, l, x, y);
}
Value clampI(OpBuilder &b, Location l, Value x, Value lo, Value hi) {
  return minI(b, l, maxI(b, l, x, lo), hi);
}

/// Normalizes a possibly negative index against `size` and clamps it into [0, size - 1], so that
/// out-of-range indices (undefined in ONNX) never read outside the tensor.
Value normalizeIndex(OpBuilder &b, Location l, Value idx, Value size) {
  Value zero = cIdx(b, l, 0);
  Value neg = cmpI(b, l, arith::CmpIPredicate::slt, idx, zero);
  idx = select(b, l, neg, addI(b, l, idx, size), idx);
  return clampI(b, l, idx, zero, subI(b, l, size, cIdx(b, l, 1)));
}

/// Size of dimension `d` of `v`: an attribute when static, a tensor.dim otherwise.
OpFoldResult dimOf(OpBuilder &b, Location l, Value v, int64_t d) {
  auto t = cast<RankedTensorType>(v.getType());
  if (!t.isDynamicDim(d))
    return b.getIndexAttr(t.getDimSize(d));
  return tensor::DimOp::create(b, l, v, d).getResult();
}
Value dimValue(OpBuilder &b, Location l, Value v, int64_t d) {
  return getValueOrCreateConstantIndexOp(b, l, dimOf(b, l, v, d));
}

/// The dynamic sizes of `type`, each produced by `dim(i)` for a dynamic dimension i.
SmallVector<Value> dynamicSizes(RankedTensorType type, function_ref<Value(int64_t)> dim) {
  SmallVector<Value> sizes;
  for (int64_t i = 0; i < type.getRank(); ++i)
    if (type.isDynamicDim(i))
      sizes.push_back(dim(i));
  return sizes;
}

/// Element `i` (row-major over the static shape) of a small tensor, read at run time.
Value extractElement(OpBuilder &b, Location l, Value t, int64_t i) {
  auto tt = cast<RankedTensorType>(t.getType());
  SmallVector<Value> idx(tt.getRank());
  for (int64_t d = tt.getRank() - 1; d >= 0; --d) {
    int64_t n = tt.isDynamicDim(d) ? 1 : std::max<int64_t>(tt.getDimSize(d), 1);
    idx[d] = cIdx(b, l, i % n);
    i /= n;
  }
  return tensor::ExtractOp::create(b, l, t, idx);
}

/// A tensor.empty of the given (static or dynamic) sizes.
Value emptyOfSizes(OpBuilder &b, Location l, ArrayRef<OpFoldResult> sizes, Type elemType) {
  return tensor::EmptyOp::create(b, l, sizes, elemType);
}

/// A tensor.cast to `type` unless `v` already has it.
Value castTo(OpBuilder &b, Location l, Value v, Type type) {
  if (v.getType() == type)
    return v;
  return tensor::CastOp::create(b, l, type, v);
}

/// Body of an index-driven generic: `ivs` are the linalg.index values of the iteration space,
/// `args` the scalar block arguments of the inputs. Returns one value per result.
using IndexedBodyFn =
    function_ref<SmallVector<Value>(OpBuilder &, Location, ValueRange ivs, ValueRange args)>;

/// A parallel linalg.generic over the shape of `resultTypes` (all of the same shape) whose body
/// knows its iteration indices; inputs are read through `inputMaps`.
SmallVector<Value> buildIndexedGeneric(OpBuilder &b, Location loc, TypeRange resultTypes,
                                       ValueRange dynSizes, ValueRange inputs,
                                       ArrayRef<AffineMap> inputMaps, IndexedBodyFn body) {
  auto first = cast<RankedTensorType>(resultTypes[0]);
  int64_t rank = first.getRank();
  SmallVector<Value> inits;
  for (Type t : resultTypes)
    inits.push_back(createEmpty(b, loc, cast<RankedTensorType>(t), dynSizes));
  SmallVector<AffineMap> maps(inputMaps);
  maps.append(resultTypes.size(), b.getMultiDimIdentityMap(rank));
  SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
  auto generic = linalg::GenericOp::create(b, loc, resultTypes, inputs, inits, maps, iters,
                                           [&](OpBuilder &nb, Location nl, ValueRange args) {
                                             SmallVector<Value> ivs;
                                             for (int64_t i = 0; i < rank; ++i)
                                               ivs.push_back(linalg::IndexOp::create(nb, nl, i));
                                             SmallVector<Value> r =
                                                 body(nb, nl, ivs, args.take_front(inputs.size()));
                                             linalg::YieldOp::create(nb, nl, r);
                                           });
  return SmallVector<Value>(generic.getResults());
}

Value buildIndexedGeneric(OpBuilder &b, Location loc, RankedTensorType resultType,
                          ValueRange dynSizes, ValueRange inputs, ArrayRef<AffineMap> inputMaps,
                          function_ref<Value(OpBuilder &, Location, ValueRange, ValueRange)> body) {
  return buildIndexedGeneric(b, loc, TypeRange{resultType}, dynSizes, inputs, inputMaps,
                             [&](OpBuilder &nb, Location nl, ValueRange ivs, ValueRange args) {
                               return SmallVector<Value>{body(nb, nl, ivs, args)};
                             })[0];
}

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

/// Reads the integer contents of optional input `i`; nullopt when absent or not a constant.
std::optional<SmallVector<int64_t>> constInts(const NodeContext &c, unsigned i) {
  if (!c.hasInput(i))
    return std::nullopt;
  auto v = getConstantInts(c.input(i));
  if (failed(v))
    return std::nullopt;
  return *v;
}

/// Normalizes each axis against `rank`; fails naming `what` for out-of-range or repeated axes.
FailureOr<SmallVector<int64_t>> normalizeAxes(const NodeContext &c, ArrayRef<int64_t> axes,
                                              int64_t rank, StringRef what) {
  SmallVector<int64_t> out;
  for (int64_t a : axes) {
    int64_t n = a < 0 ? a + rank : a;
    if (n < 0 || n >= rank) {
      (void)c.fail(what + " " + joinInts(axes) + " is out of range for rank " + Twine(rank));
      return failure();
    }
    if (llvm::is_contained(out, n)) {
      (void)c.fail(what + " " + joinInts(axes) + " repeats an axis");
      return failure();
    }
    out.push_back(n);
  }
  return out;
}

LogicalResult requireRanked(const NodeContext &c, unsigned i, StringRef what) {
  if (!c.inputType(i))
    return c.fail(what + " must be a ranked tensor");
  return success();
}

/// The scalar of optional input `i` (a rank-0 or one-element tensor), read at run time.
Value scalarInput(NodeContext &c, unsigned i) {
  return extractElement(c.rewriter, c.loc, c.input(i), 0);
}

//===----------------------------------------------------------------------===//
// Reshape, Flatten, Squeeze, Unsqueeze
//===----------------------------------------------------------------------===//

LogicalResult lowerReshape(NodeContext &c) {
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
      sizes.push_back(cIdx(b, c.loc, d));
    return c.replace(reshapeWithSizes(b, c.loc, c.input(0), rt, sizes));
  }
  // Dynamic result: the shape must be known; 0 copies an input dimension, -1 is inferred.
  std::optional<SmallVector<int64_t>> shape;
  if (c.opset() < 5)
    shape = c.intsAttr("shape");
  else
    shape = constInts(c, 1);
  if (!shape)
    return c.fail("the 'shape' input is not a constant and the result shape is not static");
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
      sizes[i] = cIdx(b, c.loc, s);
    }
  }
  if (inferred >= 0) {
    Value total = cIdx(b, c.loc, 1);
    for (int64_t d = 0; d < in.getRank(); ++d)
      total = mulI(b, c.loc, total, dimValue(b, c.loc, c.input(0), d));
    Value known = cIdx(b, c.loc, 1);
    for (auto [i, s] : llvm::enumerate(sizes))
      if ((int64_t)i != inferred)
        known = mulI(b, c.loc, known, s);
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
  Value outer = cIdx(b, c.loc, 1), inner = cIdx(b, c.loc, 1);
  for (int64_t i = 0; i < rank; ++i) {
    Value &acc = i < axis ? outer : inner;
    acc = mulI(b, c.loc, acc, dimValue(b, c.loc, c.input(0), i));
  }
  return c.replace(reshapeWithSizes(b, c.loc, c.input(0), rt, {outer, inner}));
}

/// Reads the axes of Squeeze/Unsqueeze: an attribute before opset 13, an optional constant
/// input from 13. nullopt when absent.
FailureOr<std::optional<SmallVector<int64_t>>> squeezeAxes(NodeContext &c) {
  if (c.opset() < 13) {
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

LogicalResult lowerSqueeze(NodeContext &c) {
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
  auto axesOr = squeezeAxes(c);
  SmallVector<bool> kept(rank, true);
  if (failed(axesOr)) {
    return c.fail("the 'axes' input is not a constant and the shapes are not static");
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

LogicalResult lowerUnsqueeze(NodeContext &c) {
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
  auto axesOr = squeezeAxes(c);
  if (failed(axesOr))
    return c.fail("the 'axes' input is not a constant and the shapes are not static");
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
// Transpose, Concat, Split
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

LogicalResult lowerConcat(NodeContext &c) {
  auto rt = c.rankedResultType(0);
  int64_t rank = rt.getRank();
  auto axis = normalizeAxis(c.intAttr("axis", 0), rank);
  if (!axis || rank == 0)
    return c.fail("attribute 'axis' = " + Twine(c.intAttr("axis", 0)) +
                  " is out of range for rank " + Twine(rank));
  SmallVector<Value> inputs;
  for (unsigned i = 0; i < c.numInputs(); ++i) {
    if (failed(requireRanked(c, i, "input " + std::to_string(i))))
      return failure();
    auto t = c.inputType(i);
    if (t.getRank() != rank)
      return c.fail("input " + Twine(i) + " has rank " + Twine(t.getRank()) +
                    " but the result has rank " + Twine(rank));
    if (t.getDimSize(*axis) == 0)
      continue; // contributes nothing
    inputs.push_back(c.input(i));
  }
  OpBuilder &b = c.rewriter;
  if (inputs.empty())
    return c.replace(createEmpty(b, c.loc, rt, dynamicSizes(rt, [&](int64_t i) {
                                   return dimValue(b, c.loc, c.input(0), i);
                                 })));
  if (inputs.size() == 1)
    return c.replace(castTo(b, c.loc, inputs[0], rt));
  Value r = tensor::ConcatOp::create(b, c.loc, *axis, inputs);
  return c.replace(castTo(b, c.loc, r, rt));
}

LogicalResult lowerSplit(NodeContext &c) {
  if (failed(requireRanked(c, 0, "the input")))
    return failure();
  OpBuilder &b = c.rewriter;
  Location l = c.loc;
  auto in = c.inputType(0);
  int64_t rank = in.getRank();
  auto axis = normalizeAxis(c.intAttr("axis", 0), rank);
  if (!axis || rank == 0)
    return c.fail("attribute 'axis' = " + Twine(c.intAttr("axis", 0)) +
                  " is out of range for rank " + Twine(rank));
  unsigned n = c.numResults();
  if (llvm::all_of(llvm::seq<unsigned>(0, n), [&](unsigned i) {
        auto t = c.rankedResultType(i);
        return t.hasStaticShape() && t.getNumElements() == 0;
      })) {
    SmallVector<Value> empties;
    for (unsigned i = 0; i < n; ++i)
      empties.push_back(createEmpty(b, l, c.rankedResultType(i)));
    return c.replace(empties);
  }
  // The split sizes: from the static result types, else from 'split', else equal parts.
  SmallVector<OpFoldResult> sizes(n);
  bool allStatic = true;
  for (unsigned i = 0; i < n; ++i) {
    auto t = c.rankedResultType(i);
    if (!t.isDynamicDim(*axis))
      sizes[i] = b.getIndexAttr(t.getDimSize(*axis));
    else
      allStatic = false;
  }
  if (!allStatic) {
    bool hasSplitInput = c.opset() >= 13 && c.hasInput(1);
    std::optional<SmallVector<int64_t>> split;
    if (c.opset() < 13 && c.hasAttr("split"))
      split = c.intsAttr("split");
    else if (hasSplitInput)
      split = constInts(c, 1);
    if (split && split->size() != n)
      return c.fail("'split' has " + Twine(split->size()) + " entries for " + Twine(n) +
                    " outputs");
    for (unsigned i = 0; i < n; ++i) {
      if (sizes[i])
        continue;
      if (split)
        sizes[i] = b.getIndexAttr((*split)[i]);
      else if (hasSplitInput)
        sizes[i] = toIndex(b, l, extractElement(b, l, c.input(1), i));
      else if (i + 1 < n || n == 1)
        sizes[i] =
            arith::CeilDivUIOp::create(b, l, dimValue(b, l, c.input(0), *axis), cIdx(b, l, n))
                .getResult();
      else // last of equal parts: what remains
        sizes[i] = subI(
            b, l, dimValue(b, l, c.input(0), *axis),
            mulI(b, l,
                 arith::CeilDivUIOp::create(b, l, dimValue(b, l, c.input(0), *axis), cIdx(b, l, n)),
                 cIdx(b, l, n - 1)));
    }
  }
  SmallVector<Value> results;
  OpFoldResult offset = b.getIndexAttr(0);
  for (unsigned i = 0; i < n; ++i) {
    SmallVector<OpFoldResult> offs(rank, b.getIndexAttr(0)), szs, strides(rank, b.getIndexAttr(1));
    for (int64_t d = 0; d < rank; ++d)
      szs.push_back(d == *axis ? sizes[i] : dimOf(b, l, c.input(0), d));
    offs[*axis] = offset;
    Value r =
        isConstantIntValue(sizes[i], 0)
            ? emptyOfSizes(b, l, szs, in.getElementType())
            : tensor::ExtractSliceOp::create(b, l, c.input(0), offs, szs, strides).getResult();
    results.push_back(castTo(b, l, r, c.rankedResultType(i)));
    auto co = getConstantIntValue(offset), cs = getConstantIntValue(sizes[i]);
    if (co && cs)
      offset = b.getIndexAttr(*co + *cs);
    else
      offset = addI(b, l, getValueOrCreateConstantIndexOp(b, l, offset),
                    getValueOrCreateConstantIndexOp(b, l, sizes[i]));
  }
  return c.replace(results);
}

//===----------------------------------------------------------------------===//
// Slice
//===----------------------------------------------------------------------===//

/// Reverses `v` along the dimensions marked in `rev`.
Value reverseDims(OpBuilder &b, Location l, Value v, ArrayRef<bool> rev) {
  auto t = cast<RankedTensorType>(v.getType());
  int64_t rank = t.getRank();
  MLIRContext *ctx = b.getContext();
  SmallVector<Value> dyn = dynamicSizes(t, [&](int64_t i) { return dimValue(b, l, v, i); });
  bool staticRev = llvm::all_of(llvm::seq<int64_t>(0, rank),
                                [&](int64_t i) { return !rev[i] || !t.isDynamicDim(i); });
  if (staticRev) {
    SmallVector<AffineExpr> exprs;
    for (int64_t i = 0; i < rank; ++i)
      exprs.push_back(rev[i] ? getAffineConstantExpr(t.getDimSize(i) - 1, ctx) -
                                   getAffineDimExpr(i, ctx)
                             : getAffineDimExpr(i, ctx));
    return buildIndexedGeneric(
        b, l, t, dyn, v, AffineMap::get(rank, 0, exprs, ctx),
        [](OpBuilder &, Location, ValueRange, ValueRange a) { return a[0]; });
  }
  return buildIndexedGeneric(
      b, l, t, dyn, {}, {}, [&](OpBuilder &nb, Location nl, ValueRange ivs, ValueRange) {
        SmallVector<Value> idx(ivs);
        for (int64_t i = 0; i < rank; ++i)
          if (rev[i])
            idx[i] = subI(nb, nl, subI(nb, nl, dimValue(nb, nl, v, i), cIdx(nb, nl, 1)), ivs[i]);
        return tensor::ExtractOp::create(nb, nl, v, idx).getResult();
      });
}

/// Slice with run-time axes or steps (opset >= 10): with a static result shape, output
/// dimension d reads data[start_d + i * step_d], where start_d (clamped as ONNX does) and step_d
/// are selected at run time from the entries whose axis is d.
LogicalResult lowerSliceRuntime(NodeContext &c, int64_t count) {
  OpBuilder &b = c.rewriter;
  Location l = c.loc;
  auto in = c.inputType(0);
  auto rt = c.rankedResultType(0);
  int64_t rank = in.getRank();
  Value data = c.input(0);
  if (!rt.hasStaticShape())
    return c.fail("the 'axes' or 'steps' input is not a constant and the result shape is not "
                  "static");
  Value zero = cIdx(b, l, 0), one = cIdx(b, l, 1);
  SmallVector<Value> start(rank, zero), step(rank, one), dims;
  for (int64_t d = 0; d < rank; ++d)
    dims.push_back(dimValue(b, l, data, d));
  for (int64_t k = 0; k < count; ++k) {
    Value ax = c.hasInput(3) ? toIndex(b, l, extractElement(b, l, c.input(3), k)) : cIdx(b, l, k);
    ax = select(b, l, cmpI(b, l, arith::CmpIPredicate::slt, ax, zero),
                addI(b, l, ax, cIdx(b, l, rank)), ax);
    Value st = c.hasInput(4) ? toIndex(b, l, extractElement(b, l, c.input(4), k)) : one;
    Value s = toIndex(b, l, extractElement(b, l, c.input(1), k));
    Value pos = cmpI(b, l, arith::CmpIPredicate::sgt, st, zero);
    for (int64_t d = 0; d < rank; ++d) {
      Value n = dims[d];
      Value sd = select(b, l, cmpI(b, l, arith::CmpIPredicate::slt, s, zero), addI(b, l, s, n), s);
      Value sPos = clampI(b, l, sd, zero, n);
      Value sNeg = clampI(b, l, sd, zero, subI(b, l, n, one));
      Value match = cmpI(b, l, arith::CmpIPredicate::eq, ax, cIdx(b, l, d));
      start[d] = select(b, l, match, select(b, l, pos, sPos, sNeg), start[d]);
      step[d] = select(b, l, match, st, step[d]);
    }
  }
  return c.replace(buildIndexedGeneric(
      b, l, rt, {}, {}, {}, [&](OpBuilder &nb, Location nl, ValueRange ivs, ValueRange) -> Value {
        SmallVector<Value> idx;
        for (int64_t d = 0; d < rank; ++d)
          idx.push_back(addI(nb, nl, start[d], mulI(nb, nl, ivs[d], step[d])));
        return tensor::ExtractOp::create(nb, nl, data, idx);
      }));
}

LogicalResult lowerSlice(NodeContext &c) {
  if (failed(requireRanked(c, 0, "the data input")))
    return failure();
  OpBuilder &b = c.rewriter;
  Location l = c.loc;
  auto in = c.inputType(0);
  auto rt = c.rankedResultType(0);
  int64_t rank = in.getRank();
  Value data = c.input(0);
  if (rt.hasStaticShape() && rt.getNumElements() == 0)
    return c.replace(createEmpty(b, l, rt));

  // starts/ends: constants (attributes before opset 10) or run-time values.
  std::optional<SmallVector<int64_t>> starts, ends, axesC, steps;
  int64_t count;
  if (c.opset() < 10) {
    starts = c.intsAttr("starts");
    ends = c.intsAttr("ends");
    count = starts->size();
    SmallVector<int64_t> dfltAxes = llvm::to_vector(llvm::seq<int64_t>(0, count));
    axesC = c.intsAttr("axes", dfltAxes);
    steps = SmallVector<int64_t>(count, 1);
  } else {
    for (unsigned i = 1; i <= 2; ++i) {
      auto t = c.inputType(i);
      if (!t || t.getRank() != 1 || t.isDynamicDim(0))
        return c.fail(Twine(i == 1 ? "'starts'" : "'ends'") +
                      " must be a 1-D tensor of static length");
    }
    count = c.inputType(1).getDimSize(0);
    starts = constInts(c, 1);
    ends = constInts(c, 2);
    axesC = c.hasInput(3) ? constInts(c, 3) : llvm::to_vector(llvm::seq<int64_t>(0, count));
    steps = c.hasInput(4) ? constInts(c, 4) : SmallVector<int64_t>(count, 1);
    if (!axesC || !steps)
      return lowerSliceRuntime(c, count);
  }
  if ((starts && (int64_t)starts->size() != count) || (ends && (int64_t)ends->size() != count) ||
      (int64_t)axesC->size() != count || (int64_t)steps->size() != count)
    return c.fail("'starts', 'ends', 'axes' and 'steps' must have the same length");
  auto axes = normalizeAxes(c, *axesC, rank, "'axes'");
  if (failed(axes))
    return failure();

  SmallVector<OpFoldResult> offsets(rank, b.getIndexAttr(0)), sizes,
      strides(rank, b.getIndexAttr(1));
  for (int64_t d = 0; d < rank; ++d)
    sizes.push_back(dimOf(b, l, data, d));
  SmallVector<bool> reverse(rank, false);
  for (int64_t k = 0; k < count; ++k) {
    int64_t a = (*axes)[k], step = (*steps)[k];
    if (step == 0)
      return c.fail("'steps' " + joinInts(*steps) + " has a zero entry");
    strides[a] = b.getIndexAttr(std::abs(step));
    if (starts && ends && !in.isDynamicDim(a)) {
      int64_t n = in.getDimSize(a), s = (*starts)[k], e = (*ends)[k], cnt;
      if (s < 0)
        s += n;
      if (e < 0)
        e += n;
      if (step > 0) {
        s = std::clamp<int64_t>(s, 0, n);
        e = std::clamp<int64_t>(e, 0, n);
        cnt = e > s ? (e - s + step - 1) / step : 0;
        offsets[a] = b.getIndexAttr(s);
      } else {
        s = std::clamp<int64_t>(s, 0, n - 1);
        e = std::clamp<int64_t>(e, -1, n - 1);
        cnt = (n > 0 && s > e) ? (s - e - step - 1) / -step : 0;
        offsets[a] = b.getIndexAttr(cnt ? s + (cnt - 1) * step : 0);
        reverse[a] = cnt > 1;
      }
      if (!rt.isDynamicDim(a) && rt.getDimSize(a) != cnt)
        return c.fail("the slice along axis " + Twine(a) + " has " + Twine(cnt) +
                      " elements but the result type has " + Twine(rt.getDimSize(a)));
      sizes[a] = b.getIndexAttr(cnt);
      continue;
    }
    // Run-time starts/ends (or a dynamic dimension): ONNX's clamping in index arithmetic.
    Value n = dimValue(b, l, data, a);
    Value zero = cIdx(b, l, 0), one = cIdx(b, l, 1);
    auto read = [&](const std::optional<SmallVector<int64_t>> &cst, unsigned input) -> Value {
      if (cst)
        return cIdx(b, l, (*cst)[k]);
      return toIndex(b, l, extractElement(b, l, c.input(input), k));
    };
    auto wrap = [&](Value v) {
      return select(b, l, cmpI(b, l, arith::CmpIPredicate::slt, v, zero), addI(b, l, v, n), v);
    };
    Value s = wrap(read(starts, 1)), e = wrap(read(ends, 2)), cnt, off;
    if (step > 0) {
      s = clampI(b, l, s, zero, n);
      e = clampI(b, l, e, zero, n);
      cnt = maxI(b, l, arith::CeilDivSIOp::create(b, l, subI(b, l, e, s), cIdx(b, l, step)), zero);
      off = s;
    } else {
      Value nm1 = subI(b, l, n, one);
      s = clampI(b, l, s, zero, nm1);
      e = clampI(b, l, e, cIdx(b, l, -1), nm1);
      cnt = maxI(b, l, arith::CeilDivSIOp::create(b, l, subI(b, l, s, e), cIdx(b, l, -step)), zero);
      if (!rt.isDynamicDim(a))
        cnt = cIdx(b, l, rt.getDimSize(a));
      Value last = addI(b, l, s, mulI(b, l, subI(b, l, cnt, one), cIdx(b, l, step)));
      off = select(b, l, cmpI(b, l, arith::CmpIPredicate::sgt, cnt, zero), last, zero);
      reverse[a] = rt.isDynamicDim(a) || rt.getDimSize(a) > 1;
    }
    offsets[a] = off;
    sizes[a] = rt.isDynamicDim(a) ? OpFoldResult(cnt) : b.getIndexAttr(rt.getDimSize(a));
  }
  // A slice with no element (possibly of an empty dimension, where no offset is in bounds).
  if (llvm::any_of(sizes, [](OpFoldResult s) { return isConstantIntValue(s, 0); }))
    return c.replace(castTo(b, l, emptyOfSizes(b, l, sizes, in.getElementType()), rt));
  Value r = tensor::ExtractSliceOp::create(b, l, data, offsets, sizes, strides);
  if (llvm::is_contained(reverse, true))
    r = reverseDims(b, l, r, reverse);
  return c.replace(castTo(b, l, r, rt));
}

//===----------------------------------------------------------------------===//
// Gather, GatherElements, GatherND
//===----------------------------------------------------------------------===//

LogicalResult lowerGather(NodeContext &c) {
  if (failed(requireRanked(c, 0, "the data input")) ||
      failed(requireRanked(c, 1, "the indices input")))
    return failure();
  OpBuilder &b = c.rewriter;
  Location l = c.loc;
  Value data = c.input(0), indices = c.input(1);
  auto dt = c.inputType(0), it = c.inputType(1);
  auto rt = c.rankedResultType(0);
  int64_t r = dt.getRank(), q = it.getRank();
  auto axis = normalizeAxis(c.intAttr("axis", 0), r);
  if (!axis || r == 0)
    return c.fail("attribute 'axis' = " + Twine(c.intAttr("axis", 0)) +
                  " is out of range for rank " + Twine(r));
  if (rt.getRank() != r + q - 1)
    return c.fail("the result has rank " + Twine(rt.getRank()) + ", expected " + Twine(r + q - 1));
  bool idxUnsigned = c.isUnsignedInput(1);

  // A constant scalar index is a slice.
  if (q == 0) {
    if (auto cst = getConstantInts(indices); succeeded(cst) && !dt.isDynamicDim(*axis)) {
      int64_t n = dt.getDimSize(*axis), i = (*cst)[0] < 0 ? (*cst)[0] + n : (*cst)[0];
      if (i < 0 || i >= n)
        return c.fail("index " + Twine((*cst)[0]) + " is out of range for axis " + Twine(*axis) +
                      " of size " + Twine(n));
      SmallVector<OpFoldResult> offs(r, b.getIndexAttr(0)), szs, strides(r, b.getIndexAttr(1));
      for (int64_t d = 0; d < r; ++d)
        szs.push_back(d == *axis ? b.getIndexAttr(1) : dimOf(b, l, data, d));
      offs[*axis] = b.getIndexAttr(i);
      SmallVector<int64_t> shape;
      for (int64_t d = 0; d < r; ++d)
        if (d != *axis)
          shape.push_back(dt.getDimSize(d));
      auto sliceType = RankedTensorType::get(shape, dt.getElementType());
      Value s = tensor::ExtractSliceOp::create(b, l, sliceType, data, offs, szs, strides);
      return c.replace(castTo(b, l, s, rt));
    }
  }

  MLIRContext *ctx = b.getContext();
  int64_t outRank = r + q - 1;
  SmallVector<AffineExpr> idxExprs;
  for (int64_t j = 0; j < q; ++j)
    idxExprs.push_back(getAffineDimExpr(*axis + j, ctx));
  Value n = dimValue(b, l, data, *axis);
  auto dyn = dynamicSizes(rt, [&](int64_t i) {
    if (i < *axis)
      return dimValue(b, l, data, i);
    if (i < *axis + q)
      return dimValue(b, l, indices, i - *axis);
    return dimValue(b, l, data, i - q + 1);
  });
  Value out = buildIndexedGeneric(
      b, l, rt, dyn, indices, AffineMap::get(outRank, 0, idxExprs, ctx),
      [&](OpBuilder &nb, Location nl, ValueRange ivs, ValueRange args) -> Value {
        SmallVector<Value> coords;
        for (int64_t d = 0; d < *axis; ++d)
          coords.push_back(ivs[d]);
        coords.push_back(normalizeIndex(nb, nl, toIndex(nb, nl, args[0], idxUnsigned), n));
        for (int64_t d = *axis + q; d < outRank; ++d)
          coords.push_back(ivs[d]);
        return tensor::ExtractOp::create(nb, nl, data, coords);
      });
  return c.replace(out);
}

LogicalResult lowerGatherElements(NodeContext &c) {
  if (failed(requireRanked(c, 0, "the data input")) ||
      failed(requireRanked(c, 1, "the indices input")))
    return failure();
  OpBuilder &b = c.rewriter;
  Location l = c.loc;
  Value data = c.input(0), indices = c.input(1);
  auto dt = c.inputType(0), it = c.inputType(1);
  auto rt = c.rankedResultType(0);
  int64_t r = dt.getRank();
  auto axis = normalizeAxis(c.intAttr("axis", 0), r);
  if (!axis || r == 0)
    return c.fail("attribute 'axis' = " + Twine(c.intAttr("axis", 0)) +
                  " is out of range for rank " + Twine(r));
  if (it.getRank() != r)
    return c.fail("indices have rank " + Twine(it.getRank()) + " but data has rank " + Twine(r));
  bool idxUnsigned = c.isUnsignedInput(1);
  Value n = dimValue(b, l, data, *axis);
  Value out = buildIndexedGeneric(
      b, l, rt, dynamicSizes(rt, [&](int64_t i) { return dimValue(b, l, indices, i); }), indices,
      b.getMultiDimIdentityMap(r),
      [&](OpBuilder &nb, Location nl, ValueRange ivs, ValueRange args) -> Value {
        SmallVector<Value> coords(ivs);
        coords[*axis] = normalizeIndex(nb, nl, toIndex(nb, nl, args[0], idxUnsigned), n);
        return tensor::ExtractOp::create(nb, nl, data, coords);
      });
  return c.replace(out);
}

LogicalResult lowerGatherND(NodeContext &c) {
  if (failed(requireRanked(c, 0, "the data input")) ||
      failed(requireRanked(c, 1, "the indices input")))
    return failure();
  OpBuilder &b = c.rewriter;
  Location l = c.loc;
  Value data = c.input(0), indices = c.input(1);
  auto dt = c.inputType(0), it = c.inputType(1);
  auto rt = c.rankedResultType(0);
  int64_t r = dt.getRank(), q = it.getRank(), bd = c.intAttr("batch_dims", 0);
  if (q < 1 || it.isDynamicDim(q - 1))
    return c.fail("the last dimension of the indices must be static");
  int64_t k = it.getDimSize(q - 1);
  if (bd < 0 || bd >= std::min(r, q) || bd + k > r)
    return c.fail("attribute 'batch_dims' = " + Twine(bd) + " with " + Twine(k) +
                  "-tuples of indices does not fit data of rank " + Twine(r));
  int64_t outRank = q - 1 + r - bd - k;
  if (rt.getRank() != outRank)
    return c.fail("the result has rank " + Twine(rt.getRank()) + ", expected " + Twine(outRank));
  bool idxUnsigned = c.isUnsignedInput(1);
  SmallVector<Value> sizes;
  for (int64_t j = 0; j < k; ++j)
    sizes.push_back(dimValue(b, l, data, bd + j));
  auto dyn = dynamicSizes(rt, [&](int64_t i) {
    return i < q - 1 ? dimValue(b, l, indices, i) : dimValue(b, l, data, i - (q - 1) + bd + k);
  });
  Value out = buildIndexedGeneric(
      b, l, rt, dyn, {}, {}, [&](OpBuilder &nb, Location nl, ValueRange ivs, ValueRange) -> Value {
        SmallVector<Value> coords(ivs.take_front(bd));
        SmallVector<Value> iidx(ivs.take_front(q - 1));
        iidx.push_back(Value());
        for (int64_t j = 0; j < k; ++j) {
          iidx.back() = cIdx(nb, nl, j);
          Value v = tensor::ExtractOp::create(nb, nl, indices, iidx);
          coords.push_back(normalizeIndex(nb, nl, toIndex(nb, nl, v, idxUnsigned), sizes[j]));
        }
        for (int64_t d = q - 1; d < outRank; ++d)
          coords.push_back(ivs[d]);
        return tensor::ExtractOp::create(nb, nl, data, coords);
      });
  return c.replace(out);
}

//===----------------------------------------------------------------------===//
// Shape, Size, ConstantOfShape, Expand, Tile, Range
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
  Value total = cIdx(b, c.loc, 1);
  for (int64_t d = 0; d < in.getRank(); ++d)
    total = mulI(b, c.loc, total, dimValue(b, c.loc, c.input(0), d));
  return c.replace(
      tensor::FromElementsOp::create(b, c.loc, rt, ValueRange{fromIndex(b, c.loc, total, et)})
          .getResult());
}

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

LogicalResult lowerExpand(NodeContext &c) {
  if (failed(requireRanked(c, 0, "the input")))
    return failure();
  auto in = c.inputType(0);
  auto rt = c.rankedResultType(0);
  if (!rt.hasStaticShape() && !constInts(c, 1))
    return c.fail("the 'shape' input is not a constant and the result shape is not static");
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
    dyn.push_back(maxI(b, l, n, cIdx(b, l, 0)));
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

//===----------------------------------------------------------------------===//
// Pad
//===----------------------------------------------------------------------===//

/// Source index along one dimension of size `n` for output index `i` padded by `lo` in mode
/// edge (clamp) or reflect (mirror without repeating the border, periodic for any pad).
Value padSourceIndex(OpBuilder &b, Location l, StringRef mode, Value i, Value lo, Value n) {
  Value zero = cIdx(b, l, 0), one = cIdx(b, l, 1);
  Value j = subI(b, l, i, lo);
  Value nm1 = subI(b, l, n, one);
  if (mode == "edge")
    return clampI(b, l, j, zero, nm1);
  // reflect: period 2(n-1); j mod period into [0, period), then fold back. n == 1 -> 0.
  Value period = maxI(b, l, mulI(b, l, nm1, cIdx(b, l, 2)), one);
  Value m = arith::RemSIOp::create(b, l, j, period);
  m = select(b, l, cmpI(b, l, arith::CmpIPredicate::slt, m, zero), addI(b, l, m, period), m);
  Value folded =
      select(b, l, cmpI(b, l, arith::CmpIPredicate::sgt, m, nm1), subI(b, l, period, m), m);
  return minI(b, l, folded, nm1);
}

LogicalResult lowerPad(NodeContext &c) {
  if (failed(requireRanked(c, 0, "the data input")))
    return failure();
  OpBuilder &b = c.rewriter;
  Location l = c.loc;
  Value data = c.input(0);
  auto in = c.inputType(0);
  auto rt = c.rankedResultType(0);
  Type et = in.getElementType();
  int64_t rank = in.getRank();
  std::string mode = c.stringAttr("mode", "constant");
  if (mode != "constant" && mode != "reflect" && mode != "edge")
    return c.fail("attribute 'mode' = '" + mode + "' is not supported (constant, reflect, edge)");

  // Pads (and the axes they apply to), the constant value.
  std::optional<SmallVector<int64_t>> pads;
  SmallVector<int64_t> axes = llvm::to_vector(llvm::seq<int64_t>(0, rank));
  Value padValue;
  if (c.opset() < 11) {
    pads = c.intsAttr(c.opset() < 2 ? "paddings" : "pads");
    padValue = scalarConstant(b, l, et, c.floatAttr("value", 0.0f));
  } else {
    if (!c.hasInput(1))
      return c.fail("the 'pads' input is required");
    pads = constInts(c, 1);
    if (c.hasInput(2) && mode == "constant") {
      auto vt = c.inputType(2);
      if (!vt || vt.getNumElements() == 0)
        padValue = scalarConstant(b, l, et, 0.0);
      else
        padValue = scalarInput(c, 2);
    } else {
      padValue = scalarConstant(b, l, et, 0.0);
    }
    if (c.hasInput(3)) {
      auto a = constInts(c, 3);
      if (!a)
        return c.fail("the 'axes' input must be a constant");
      auto na = normalizeAxes(c, *a, rank, "'axes'");
      if (failed(na))
        return failure();
      axes = *na;
    }
  }
  int64_t nAxes = axes.size();
  auto pt = c.opset() >= 11 ? c.inputType(1) : RankedTensorType();
  if ((pads && (int64_t)pads->size() != 2 * nAxes) ||
      (!pads && (!pt || pt.getNumElements() != 2 * nAxes)))
    return c.fail("'pads' must have " + Twine(2 * nAxes) + " entries");

  if (pads) {
    SmallVector<int64_t> lo(rank, 0), hi(rank, 0);
    for (int64_t k = 0; k < nAxes; ++k) {
      lo[axes[k]] = (*pads)[k];
      hi[axes[k]] = (*pads)[nAxes + k];
    }
    if (mode == "constant") {
      // Negative pads crop first; the rest is a tensor.pad.
      Value src = data;
      if (llvm::any_of(lo, [](int64_t p) { return p < 0; }) ||
          llvm::any_of(hi, [](int64_t p) { return p < 0; })) {
        SmallVector<OpFoldResult> offs, szs, strides(rank, b.getIndexAttr(1));
        for (int64_t d = 0; d < rank; ++d) {
          int64_t cl = std::max<int64_t>(-lo[d], 0), ch = std::max<int64_t>(-hi[d], 0);
          offs.push_back(b.getIndexAttr(cl));
          if (!in.isDynamicDim(d)) {
            if (in.getDimSize(d) < cl + ch)
              return c.fail("negative pads crop more than dimension " + Twine(d) + " holds");
            szs.push_back(b.getIndexAttr(in.getDimSize(d) - cl - ch));
          } else {
            szs.push_back(subI(b, l, dimValue(b, l, data, d), cIdx(b, l, cl + ch)));
          }
        }
        src = tensor::ExtractSliceOp::create(b, l, data, offs, szs, strides);
      }
      SmallVector<int64_t> plo, phi;
      for (int64_t d = 0; d < rank; ++d) {
        plo.push_back(std::max<int64_t>(lo[d], 0));
        phi.push_back(std::max<int64_t>(hi[d], 0));
      }
      Value r = src;
      if (llvm::any_of(plo, [](int64_t p) { return p > 0; }) ||
          llvm::any_of(phi, [](int64_t p) { return p > 0; }))
        r = tensor::PadOp::create(b, l, Type(), src, getAsIndexOpFoldResult(b.getContext(), plo),
                                  getAsIndexOpFoldResult(b.getContext(), phi), padValue);
      return c.replace(castTo(b, l, r, rt));
    }
    // edge / reflect with constant pads: a gather with clamped / mirrored indices.
    for (int64_t d = 0; d < rank; ++d)
      if ((lo[d] != 0 || hi[d] != 0) && !in.isDynamicDim(d) && in.getDimSize(d) == 0)
        return c.fail("cannot pad an empty dimension in mode '" + mode + "'");
    auto dyn = dynamicSizes(rt, [&](int64_t d) {
      return addI(b, l, dimValue(b, l, data, d), cIdx(b, l, lo[d] + hi[d]));
    });
    SmallVector<Value> dims;
    for (int64_t d = 0; d < rank; ++d)
      dims.push_back(dimValue(b, l, data, d));
    return c.replace(buildIndexedGeneric(
        b, l, rt, dyn, {}, {}, [&](OpBuilder &nb, Location nl, ValueRange ivs, ValueRange) {
          SmallVector<Value> idx(ivs);
          for (int64_t d = 0; d < rank; ++d)
            if (lo[d] != 0 || hi[d] != 0)
              idx[d] = padSourceIndex(nb, nl, mode, ivs[d], cIdx(nb, nl, lo[d]), dims[d]);
          return tensor::ExtractOp::create(nb, nl, data, idx).getResult();
        }));
  }

  // Run-time pads: the result shape must be static; read the low pads and gather.
  if (!rt.hasStaticShape())
    return c.fail("the 'pads' input is not a constant and the result shape is not static");
  SmallVector<Value> lo(rank), dims;
  for (int64_t k = 0; k < nAxes; ++k)
    lo[axes[k]] = toIndex(b, l, extractElement(b, l, c.input(1), k));
  for (int64_t d = 0; d < rank; ++d)
    dims.push_back(dimValue(b, l, data, d));
  return c.replace(buildIndexedGeneric(
      b, l, rt, {}, {}, {}, [&](OpBuilder &nb, Location nl, ValueRange ivs, ValueRange) -> Value {
        SmallVector<Value> idx(ivs);
        Value inside;
        for (int64_t d = 0; d < rank; ++d) {
          if (!lo[d])
            continue;
          if (mode != "constant") {
            idx[d] = padSourceIndex(nb, nl, mode, ivs[d], lo[d], dims[d]);
            continue;
          }
          Value j = subI(nb, nl, ivs[d], lo[d]);
          Value ok = arith::AndIOp::create(
              nb, nl, cmpI(nb, nl, arith::CmpIPredicate::sge, j, cIdx(nb, nl, 0)),
              cmpI(nb, nl, arith::CmpIPredicate::slt, j, dims[d]));
          inside = inside ? arith::AndIOp::create(nb, nl, inside, ok).getResult() : ok;
          idx[d] = padSourceIndex(nb, nl, "edge", ivs[d], lo[d], dims[d]);
        }
        Value v = tensor::ExtractOp::create(nb, nl, data, idx);
        return inside ? select(nb, nl, inside, v, padValue) : v;
      }));
}

//===----------------------------------------------------------------------===//
// Resize, Upsample
//===----------------------------------------------------------------------===//

/// Per resized dimension, tables over the output coordinate: the `taps` source indices (i64)
/// and, for linear/cubic, their weights; the main generic then gathers and blends.
LogicalResult lowerResize(NodeContext &c, bool isUpsample) {
  if (failed(requireRanked(c, 0, "the input")))
    return failure();
  OpBuilder &b = c.rewriter;
  Location l = c.loc;
  Value data = c.input(0);
  auto in = c.inputType(0);
  auto rt = c.rankedResultType(0);
  int64_t rank = in.getRank();
  Type et = in.getElementType();
  if (in.getRank() != rt.getRank())
    return c.fail("the result has rank " + Twine(rt.getRank()) + ", expected " + Twine(rank));
  bool legacy = isUpsample || c.opset() < 11;
  std::string mode = c.stringAttr("mode", "nearest");
  if (mode == "bilinear" || mode == "trilinear")
    mode = "linear";
  if (mode != "nearest" && mode != "linear" && mode != "cubic")
    return c.fail("attribute 'mode' = '" + mode + "' is not supported");
  std::string ctm =
      legacy ? "asymmetric" : c.stringAttr("coordinate_transformation_mode", "half_pixel");
  bool crop = ctm == "tf_crop_and_resize";
  if (!crop && ctm != "half_pixel" && ctm != "asymmetric" && ctm != "align_corners" &&
      ctm != "pytorch_half_pixel" && ctm != "tf_half_pixel_for_nn" && ctm != "half_pixel_symmetric")
    return c.fail("attribute 'coordinate_transformation_mode' = '" + ctm + "' is not supported");
  std::string nearestMode = legacy ? "simple" : c.stringAttr("nearest_mode", "round_prefer_floor");
  if (nearestMode != "simple" && nearestMode != "round_prefer_floor" &&
      nearestMode != "round_prefer_ceil" && nearestMode != "floor" && nearestMode != "ceil")
    return c.fail("attribute 'nearest_mode' = '" + nearestMode + "' is not supported");
  if (c.intAttr("antialias", 0) != 0 && mode != "nearest")
    return c.fail("attribute 'antialias' = 1 is not supported");
  std::string policy = c.stringAttr("keep_aspect_ratio_policy", "stretch");
  if (policy != "stretch")
    return c.fail("attribute 'keep_aspect_ratio_policy' = '" + policy + "' is not supported");
  if (mode != "nearest" && !isa<FloatType>(et))
    return c.fail("mode '" + mode + "' needs a floating-point input");
  double cubicA = c.floatAttr("cubic_coeff_a", -0.75f);
  bool excludeOutside = c.intAttr("exclude_outside", 0) != 0;

  SmallVector<int64_t> axes = llvm::to_vector(llvm::seq<int64_t>(0, rank));
  if (c.hasAttr("axes")) {
    auto na = normalizeAxes(c, c.intsAttr("axes"), rank, "attribute 'axes'");
    if (failed(na))
      return failure();
    axes = *na;
  }
  // Scales: attribute (Upsample-7), input 1 (Upsample-9, Resize-10) or input 2 (Resize-11+); an
  // empty scales tensor means 'sizes' is given. Unknown scales are read at run time.
  SmallVector<std::optional<double>> scaleC(rank, 1.0);
  SmallVector<Value> scaleV(rank);
  unsigned scalesIdx = legacy ? 1 : 2;
  if (isUpsample && c.opset() < 9) {
    auto s = c.floatsAttr("scales");
    if ((int64_t)s.size() != rank)
      return c.fail("attribute 'scales' must have " + Twine(rank) + " entries");
    for (int64_t d = 0; d < rank; ++d)
      scaleC[d] = s[d];
  } else if (auto st = c.inputType(scalesIdx); st && st.getNumElements() != 0) {
    if (st.getRank() != 1 || st.getNumElements() != (int64_t)axes.size())
      return c.fail("'scales' must have " + Twine(axes.size()) + " entries");
    auto cst = getConstantFloats(c.input(scalesIdx));
    for (auto [k, d] : llvm::enumerate(axes)) {
      if (succeeded(cst)) {
        scaleC[d] = (*cst)[k];
      } else {
        scaleC[d] = std::nullopt;
        Value s = extractElement(b, l, c.input(scalesIdx), k);
        scaleV[d] = isa<Float64Type>(s.getType())
                        ? s
                        : arith::ExtFOp::create(b, l, b.getF64Type(), s).getResult();
      }
    }
  } else if (!legacy && c.hasInput(3)) {
    // sizes: the result type already holds them; the scale is the size ratio.
    for (int64_t d = 0; d < rank; ++d)
      scaleC[d] = in.isDynamicDim(d) || rt.isDynamicDim(d)
                      ? std::nullopt
                      : std::optional<double>((double)rt.getDimSize(d) / in.getDimSize(d));
  } else {
    return c.fail("one of 'scales' and 'sizes' must be given");
  }
  // tf_crop_and_resize: the region of interest [start..., end...] (input 1) in normalized
  // coordinates; points outside the input take 'extrapolation_value'.
  SmallVector<Value> roiStart(rank), roiEnd(rank);
  if (crop) {
    auto roiType = c.inputType(1);
    int64_t nAxes = axes.size();
    if (!roiType || roiType.getNumElements() != 2 * nAxes)
      return c.fail("tf_crop_and_resize needs a 'roi' input of " + Twine(2 * nAxes) + " entries");
    auto roiC = getConstantFloats(c.input(1));
    for (auto [k, d] : llvm::enumerate(axes)) {
      for (int64_t half = 0; half < 2; ++half) {
        Value v;
        if (succeeded(roiC)) {
          v = arith::ConstantOp::create(b, l, b.getF64FloatAttr((*roiC)[half * nAxes + k]));
        } else {
          v = extractElement(b, l, c.input(1), half * nAxes + k);
          if (!v.getType().isF64())
            v = arith::ExtFOp::create(b, l, b.getF64Type(), v);
        }
        (half ? roiEnd : roiStart)[d] = v;
      }
    }
    for (int64_t d = 0; d < rank; ++d)
      if (!roiStart[d]) {
        roiStart[d] = arith::ConstantOp::create(b, l, b.getF64FloatAttr(0.0));
        roiEnd[d] = arith::ConstantOp::create(b, l, b.getF64FloatAttr(1.0));
      }
  }
  Value extrapolation =
      crop ? scalarConstant(b, l, et, c.floatAttr("extrapolation_value", 0.0f)) : Value();
  for (int64_t d = 0; d < rank; ++d)
    if (scaleC[d] && *scaleC[d] <= 0)
      return c.fail("scale " + std::to_string(*scaleC[d]) + " of dimension " + Twine(d) +
                    " is not positive");

  int64_t taps = mode == "nearest" ? 1 : mode == "linear" ? 2 : 4;
  Type wt = et;
  if (isa<FloatType>(et) && et.getIntOrFloatBitWidth() < 32)
    wt = b.getF32Type();
  MLIRContext *ctx = b.getContext();
  auto f64 = b.getF64Type();
  auto f64c = [&](OpBuilder &nb, Location nl, double v) -> Value {
    return arith::ConstantOp::create(nb, nl, nb.getF64FloatAttr(v));
  };

  // Dimensions that change get one table generic each; a size-1 input dimension is read at 0
  // (every tap clamps there and the weights sum to one).
  SmallVector<int64_t> resized;
  SmallVector<bool> broadcastDim(rank, false);
  for (int64_t d = 0; d < rank; ++d) {
    bool identity = scaleC[d] && *scaleC[d] == 1.0 && in.getDimSize(d) == rt.getDimSize(d) &&
                    ctm != "tf_half_pixel_for_nn" && !crop;
    if (identity)
      continue;
    if (in.isDynamicDim(d) || rt.isDynamicDim(d))
      return c.fail("dimension " + Twine(d) +
                    " is resized but not static (pin input shapes with --input-shape)");
    if (in.getDimSize(d) == 1)
      broadcastDim[d] = true;
    else
      resized.push_back(d);
  }
  SmallVector<Value> tables; // per resized dim: taps index tables, then taps weight tables
  SmallVector<AffineMap> tableMaps;
  for (int64_t d : resized) {
    int64_t inN = in.getDimSize(d), outN = rt.getDimSize(d);
    SmallVector<Type> types(taps, RankedTensorType::get({outN}, b.getI64Type()));
    if (taps > 1)
      types.append(taps, RankedTensorType::get({outN}, wt));
    if (crop) // whether the source coordinate lies inside the input (i8: no i1 vectors)
      types.push_back(RankedTensorType::get({outN}, b.getI8Type()));
    auto t = buildIndexedGeneric(
        b, l, types, {}, {}, {},
        [&](OpBuilder &nb, Location nl, ValueRange ivs, ValueRange) -> SmallVector<Value> {
          Value x = arith::SIToFPOp::create(
              nb, nl, f64, arith::IndexCastOp::create(nb, nl, nb.getI64Type(), ivs[0]));
          Value scale = scaleC[d] ? f64c(nb, nl, *scaleC[d]) : scaleV[d];
          Value half = f64c(nb, nl, 0.5);
          Value inW = f64c(nb, nl, (double)inN);
          Value outW = arith::MulFOp::create(nb, nl, scale, inW);
          Value xo;
          if (crop) {
            Value one = f64c(nb, nl, 1.0), span = f64c(nb, nl, (double)(inN - 1));
            Value width = arith::SubFOp::create(nb, nl, roiEnd[d], roiStart[d]);
            Value r = arith::DivFOp::create(
                nb, nl,
                arith::MulFOp::create(nb, nl, arith::MulFOp::create(nb, nl, x, width), span),
                arith::SubFOp::create(nb, nl, outW, one));
            Value single = arith::DivFOp::create(nb, nl, arith::MulFOp::create(nb, nl, width, span),
                                                 f64c(nb, nl, 2.0));
            Value isOne = arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OEQ, outW, one);
            xo = arith::AddFOp::create(nb, nl, select(nb, nl, isOne, single, r),
                                       arith::MulFOp::create(nb, nl, roiStart[d], span));
          } else if (ctm == "asymmetric") {
            xo = arith::DivFOp::create(nb, nl, x, scale);
          } else if (ctm == "align_corners") {
            Value one = f64c(nb, nl, 1.0);
            Value r = arith::DivFOp::create(
                nb, nl, arith::MulFOp::create(nb, nl, x, f64c(nb, nl, (double)(inN - 1))),
                arith::SubFOp::create(nb, nl, outW, one));
            Value isOne = arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OEQ, outW, one);
            xo = select(nb, nl, isOne, f64c(nb, nl, 0.0), r);
          } else {
            xo = arith::DivFOp::create(nb, nl, arith::AddFOp::create(nb, nl, x, half), scale);
            if (ctm == "tf_half_pixel_for_nn") {
              // (x + 0.5) / scale
            } else if (ctm == "half_pixel_symmetric") {
              Value adj = arith::DivFOp::create(nb, nl, f64c(nb, nl, (double)outN), outW);
              Value center = f64c(nb, nl, inN / 2.0);
              Value offset = arith::MulFOp::create(
                  nb, nl, center, arith::SubFOp::create(nb, nl, f64c(nb, nl, 1.0), adj));
              xo = arith::SubFOp::create(nb, nl, arith::AddFOp::create(nb, nl, offset, xo), half);
            } else {
              xo = arith::SubFOp::create(nb, nl, xo, half);
              if (ctm == "pytorch_half_pixel") {
                Value isOne = arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OEQ, outW,
                                                    f64c(nb, nl, 1.0));
                xo = select(nb, nl, isOne, f64c(nb, nl, -0.5), xo);
              }
            }
          }
          Value fl = math::FloorOp::create(nb, nl, xo);
          Value ratio = arith::SubFOp::create(nb, nl, xo, fl);
          Value x0 = arith::FPToSIOp::create(nb, nl, nb.getI64Type(), fl);
          auto i64c = [&](int64_t v) -> Value {
            return arith::ConstantOp::create(nb, nl, nb.getI64IntegerAttr(v));
          };
          Value lo = i64c(0), hi = i64c(inN - 1);
          auto clamp64 = [&](Value v) {
            return arith::MinSIOp::create(nb, nl, arith::MaxSIOp::create(nb, nl, v, lo), hi)
                .getResult();
          };
          SmallVector<Value> out;
          auto finish = [&](SmallVector<Value> &res) {
            if (crop) {
              Value inside = arith::AndIOp::create(
                  nb, nl,
                  arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OGE, xo, f64c(nb, nl, 0.0)),
                  arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OLE, xo,
                                        f64c(nb, nl, (double)(inN - 1))));
              res.push_back(arith::ExtUIOp::create(nb, nl, nb.getI8Type(), inside));
            }
            return res;
          };
          if (mode == "nearest") {
            Value up; // whether to take x0 + 1
            auto cmpR = [&](arith::CmpFPredicate p, double v) {
              return arith::CmpFOp::create(nb, nl, p, ratio, f64c(nb, nl, v)).getResult();
            };
            if (nearestMode == "round_prefer_floor")
              up = cmpR(arith::CmpFPredicate::OGT, 0.5);
            else if (nearestMode == "round_prefer_ceil")
              up = cmpR(arith::CmpFPredicate::OGE, 0.5);
            else if (nearestMode == "ceil" ||
                     (nearestMode == "simple" && scaleC[d] && *scaleC[d] < 1.0))
              up = cmpR(arith::CmpFPredicate::OGT, 0.0);
            else if (nearestMode == "simple" && !scaleC[d])
              up = arith::AndIOp::create(nb, nl, cmpR(arith::CmpFPredicate::OGT, 0.0),
                                         arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OLT,
                                                               scale, f64c(nb, nl, 1.0)));
            Value idx = x0;
            if (up)
              idx = arith::AddIOp::create(nb, nl, x0,
                                          arith::ExtUIOp::create(nb, nl, nb.getI64Type(), up));
            out.push_back(clamp64(idx));
            return finish(out);
          }
          SmallVector<Value> w, raw;
          int64_t first = mode == "linear" ? 0 : -1;
          for (int64_t t = 0; t < taps; ++t)
            raw.push_back(arith::AddIOp::create(nb, nl, x0, i64c(first + t)));
          if (mode == "linear") {
            w.push_back(arith::SubFOp::create(nb, nl, f64c(nb, nl, 1.0), ratio));
            w.push_back(ratio);
          } else {
            // Keys cubic convolution with parameter A at distances 1+r, r, 1-r, 2-r.
            auto poly = [&](Value s, bool outer) -> Value {
              // outer (1 < |s| < 2): ((A s - 5A) s + 8A) s - 4A; inner: ((A+2) s - (A+3)) s s + 1
              auto mul = [&](Value a, Value b2) {
                return arith::MulFOp::create(nb, nl, a, b2).getResult();
              };
              auto add = [&](Value a, double v) {
                return arith::AddFOp::create(nb, nl, a, f64c(nb, nl, v)).getResult();
              };
              if (outer)
                return add(
                    mul(add(mul(add(mul(f64c(nb, nl, cubicA), s), -5 * cubicA), s), 8 * cubicA), s),
                    -4 * cubicA);
              return add(mul(mul(add(mul(f64c(nb, nl, cubicA + 2), s), -(cubicA + 3)), s), s), 1.0);
            };
            Value one = f64c(nb, nl, 1.0);
            Value omr = arith::SubFOp::create(nb, nl, one, ratio);
            w.push_back(poly(arith::AddFOp::create(nb, nl, ratio, one), true));
            w.push_back(poly(ratio, false));
            w.push_back(poly(omr, false));
            w.push_back(poly(arith::AddFOp::create(nb, nl, omr, one), true));
            if (excludeOutside) {
              Value sum = f64c(nb, nl, 0.0);
              for (int64_t t = 0; t < taps; ++t) {
                Value inside = arith::AndIOp::create(
                    nb, nl, arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::sge, raw[t], lo),
                    arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::sle, raw[t], hi));
                w[t] = select(nb, nl, inside, w[t], f64c(nb, nl, 0.0));
                sum = arith::AddFOp::create(nb, nl, sum, w[t]);
              }
              for (int64_t t = 0; t < taps; ++t)
                w[t] = arith::DivFOp::create(nb, nl, w[t], sum);
            }
          }
          for (int64_t t = 0; t < taps; ++t)
            out.push_back(clamp64(raw[t]));
          for (int64_t t = 0; t < taps; ++t)
            out.push_back(wt == f64 ? w[t] : arith::TruncFOp::create(nb, nl, wt, w[t]).getResult());
          return finish(out);
        });
    tables.append(t.begin(), t.end());
    tableMaps.append(t.size(), AffineMap::get(rank, 0, getAffineDimExpr(d, ctx), ctx));
  }

  int64_t per = (taps == 1 ? 1 : 2 * taps) + (crop ? 1 : 0);
  Value out = buildIndexedGeneric(
      b, l, rt, dynamicSizes(rt, [&](int64_t d) { return dimValue(b, l, data, d); }), tables,
      tableMaps, [&](OpBuilder &nb, Location nl, ValueRange ivs, ValueRange args) -> Value {
        int64_t k = resized.size();
        int64_t combos = 1;
        for (int64_t i = 0; i < k; ++i)
          combos *= taps;
        Value acc;
        SmallVector<Value> base(ivs);
        for (int64_t d = 0; d < rank; ++d)
          if (broadcastDim[d])
            base[d] = cIdx(nb, nl, 0);
        for (int64_t m = 0; m < combos; ++m) {
          SmallVector<Value> idx(base);
          Value w;
          for (int64_t i = 0, mm = m; i < k; ++i, mm /= taps) {
            int64_t t = mm % taps;
            idx[resized[i]] =
                arith::IndexCastOp::create(nb, nl, nb.getIndexType(), args[i * per + t]);
            if (taps > 1) {
              Value wi = args[i * per + taps + t];
              w = w ? arith::MulFOp::create(nb, nl, w, wi).getResult() : wi;
            }
          }
          Value v = tensor::ExtractOp::create(nb, nl, data, idx);
          if (taps == 1) {
            acc = v;
            break;
          }
          if (v.getType() != wt)
            v = arith::ExtFOp::create(nb, nl, wt, v);
          Value term = w ? arith::MulFOp::create(nb, nl, v, w).getResult() : v;
          acc = acc ? arith::AddFOp::create(nb, nl, acc, term).getResult() : term;
        }
        if (acc.getType() != et)
          acc = arith::TruncFOp::create(nb, nl, et, acc);
        if (crop)
          for (int64_t i = 0; i < k; ++i) {
            Value inside =
                arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::ne, args[i * per + per - 1],
                                      arith::ConstantOp::create(nb, nl, nb.getI8IntegerAttr(0)));
            acc = select(nb, nl, inside, acc, extrapolation);
          }
        return acc;
      });
  return c.replace(out);
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
  if (bs <= 0 || ch % (bs * bs) != 0)
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
// OneHot, Trilu, EyeLike
//===----------------------------------------------------------------------===//

LogicalResult lowerOneHot(NodeContext &c) {
  for (unsigned i = 0; i < 3; ++i)
    if (failed(requireRanked(c, i, i == 0 ? "'indices'" : i == 1 ? "'depth'" : "'values'")))
      return failure();
  OpBuilder &b = c.rewriter;
  Location l = c.loc;
  auto it = c.inputType(0);
  auto rt = c.rankedResultType(0);
  int64_t outRank = it.getRank() + 1;
  auto axis = normalizeAxis(c.intAttr("axis", -1), outRank);
  if (!axis)
    return c.fail("attribute 'axis' = " + Twine(c.intAttr("axis", -1)) +
                  " is out of range for rank " + Twine(outRank));
  if (c.inputType(2).getNumElements() != 2)
    return c.fail("'values' must hold exactly [off_value, on_value]");
  bool idxUnsigned = c.isUnsignedInput(0);
  Value depth = toIndex(b, l, scalarInput(c, 1), c.isUnsignedInput(1));
  Value off = extractElement(b, l, c.input(2), 0), on = extractElement(b, l, c.input(2), 1);
  MLIRContext *ctx = b.getContext();
  SmallVector<AffineExpr> exprs;
  for (int64_t d = 0; d < outRank; ++d)
    if (d != *axis)
      exprs.push_back(getAffineDimExpr(d, ctx));
  auto dyn = dynamicSizes(rt, [&](int64_t d) {
    if (d == *axis)
      return depth;
    return dimValue(b, l, c.input(0), d < *axis ? d : d - 1);
  });
  return c.replace(buildIndexedGeneric(
      b, l, rt, dyn, c.input(0), AffineMap::get(outRank, 0, exprs, ctx),
      [&](OpBuilder &nb, Location nl, ValueRange ivs, ValueRange args) -> Value {
        Value idx = toIndex(nb, nl, args[0], idxUnsigned);
        Value neg = cmpI(nb, nl, arith::CmpIPredicate::slt, idx, cIdx(nb, nl, 0));
        idx = select(nb, nl, neg, addI(nb, nl, idx, depth), idx);
        Value hit = cmpI(nb, nl, arith::CmpIPredicate::eq, idx, ivs[*axis]);
        return select(nb, nl, hit, on, off);
      }));
}

LogicalResult lowerTrilu(NodeContext &c) {
  if (failed(requireRanked(c, 0, "the input")))
    return failure();
  OpBuilder &b = c.rewriter;
  Location l = c.loc;
  auto in = c.inputType(0);
  auto rt = c.rankedResultType(0);
  int64_t rank = in.getRank();
  if (rank < 2)
    return c.fail("the input must have rank >= 2");
  bool upper = c.intAttr("upper", 1) != 0;
  Value k = c.hasInput(1) ? toIndex(b, l, scalarInput(c, 1)) : cIdx(b, l, 0);
  Value zero = scalarConstant(b, l, rt.getElementType(), 0.0);
  return c.replace(buildIndexedGeneric(
      b, l, rt, dynamicSizes(rt, [&](int64_t d) { return dimValue(b, l, c.input(0), d); }),
      c.input(0), b.getMultiDimIdentityMap(rank),
      [&](OpBuilder &nb, Location nl, ValueRange ivs, ValueRange args) -> Value {
        Value diff = subI(nb, nl, ivs[rank - 1], ivs[rank - 2]);
        Value keep =
            cmpI(nb, nl, upper ? arith::CmpIPredicate::sge : arith::CmpIPredicate::sle, diff, k);
        return select(nb, nl, keep, args[0], zero);
      }));
}

LogicalResult lowerEyeLike(NodeContext &c) {
  if (failed(requireRanked(c, 0, "the input")))
    return failure();
  OpBuilder &b = c.rewriter;
  Location l = c.loc;
  auto rt = c.rankedResultType(0);
  if (rt.getRank() != 2)
    return c.fail("the input must be 2-D");
  Value k = cIdx(b, l, c.intAttr("k", 0));
  Type et = rt.getElementType();
  Value one = scalarConstant(b, l, et, 1.0), zero = scalarConstant(b, l, et, 0.0);
  return c.replace(buildIndexedGeneric(
      b, l, rt, dynamicSizes(rt, [&](int64_t d) { return dimValue(b, l, c.input(0), d); }), {}, {},
      [&](OpBuilder &nb, Location nl, ValueRange ivs, ValueRange) -> Value {
        Value on = cmpI(nb, nl, arith::CmpIPredicate::eq, subI(nb, nl, ivs[1], ivs[0]), k);
        return select(nb, nl, on, one, zero);
      }));
}

//===----------------------------------------------------------------------===//
// ScatterElements, ScatterND (scf.for over the updates)
//===----------------------------------------------------------------------===//

/// Combines the old and the new value of a scattered element.
FailureOr<std::function<Value(OpBuilder &, Location, Value, Value)>> scatterCombiner(NodeContext &c,
                                                                                     Type et) {
  std::string red = c.stringAttr("reduction", "none");
  bool f = isa<FloatType>(et);
  bool u = c.isUnsignedInput(0);
  using Fn = std::function<Value(OpBuilder &, Location, Value, Value)>;
  if (red == "none")
    return Fn([](OpBuilder &, Location, Value, Value n) { return n; });
  if (red == "add")
    return Fn([f](OpBuilder &b, Location l, Value o, Value n) -> Value {
      return f ? arith::AddFOp::create(b, l, o, n).getResult()
               : arith::AddIOp::create(b, l, o, n).getResult();
    });
  if (red == "mul")
    return Fn([f](OpBuilder &b, Location l, Value o, Value n) -> Value {
      return f ? arith::MulFOp::create(b, l, o, n).getResult()
               : arith::MulIOp::create(b, l, o, n).getResult();
    });
  if (red == "max")
    return Fn([f, u](OpBuilder &b, Location l, Value o, Value n) -> Value {
      if (f)
        return arith::MaximumFOp::create(b, l, o, n);
      return u ? arith::MaxUIOp::create(b, l, o, n).getResult()
               : arith::MaxSIOp::create(b, l, o, n).getResult();
    });
  if (red == "min")
    return Fn([f, u](OpBuilder &b, Location l, Value o, Value n) -> Value {
      if (f)
        return arith::MinimumFOp::create(b, l, o, n);
      return u ? arith::MinUIOp::create(b, l, o, n).getResult()
               : arith::MinSIOp::create(b, l, o, n).getResult();
    });
  (void)c.fail("attribute 'reduction' = '" + red + "' is not supported");
  return failure();
}

/// An scf.for nest over the dims of `shapeOf` carrying `init`; `body` returns the new carried
/// tensor for the element at `ivs`.
Value scatterLoop(OpBuilder &b, Location l, Value shapeOf, Value init,
                  function_ref<Value(OpBuilder &, Location, ValueRange, Value)> body) {
  auto t = cast<RankedTensorType>(shapeOf.getType());
  SmallVector<Value> lbs, ubs, steps;
  for (int64_t d = 0; d < t.getRank(); ++d) {
    lbs.push_back(cIdx(b, l, 0));
    ubs.push_back(dimValue(b, l, shapeOf, d));
    steps.push_back(cIdx(b, l, 1));
  }
  auto nest = scf::buildLoopNest(
      b, l, lbs, ubs, steps, ValueRange{init},
      [&](OpBuilder &nb, Location nl, ValueRange ivs, ValueRange iter) -> scf::ValueVector {
        return {body(nb, nl, ivs, iter[0])};
      });
  return nest.results[0];
}

LogicalResult lowerScatterElements(NodeContext &c) {
  for (unsigned i = 0; i < 3; ++i)
    if (failed(requireRanked(c, i, i == 0 ? "'data'" : i == 1 ? "'indices'" : "'updates'")))
      return failure();
  OpBuilder &b = c.rewriter;
  Location l = c.loc;
  auto dt = c.inputType(0);
  auto rt = c.rankedResultType(0);
  int64_t r = dt.getRank();
  auto axis = normalizeAxis(c.intAttr("axis", 0), r);
  if (!axis || r == 0)
    return c.fail("attribute 'axis' = " + Twine(c.intAttr("axis", 0)) +
                  " is out of range for rank " + Twine(r));
  if (c.inputType(1).getRank() != r || c.inputType(2).getRank() != r)
    return c.fail("'indices' and 'updates' must have the rank of 'data'");
  auto combine = scatterCombiner(c, dt.getElementType());
  if (failed(combine))
    return failure();
  bool idxUnsigned = c.isUnsignedInput(1);
  Value data = c.input(0), indices = c.input(1), updates = c.input(2);
  Value n = dimValue(b, l, data, *axis);
  Value out = scatterLoop(
      b, l, indices, data, [&](OpBuilder &nb, Location nl, ValueRange ivs, Value acc) -> Value {
        Value i = tensor::ExtractOp::create(nb, nl, indices, ivs);
        Value u = tensor::ExtractOp::create(nb, nl, updates, ivs);
        SmallVector<Value> coords(ivs);
        coords[*axis] = normalizeIndex(nb, nl, toIndex(nb, nl, i, idxUnsigned), n);
        Value old = tensor::ExtractOp::create(nb, nl, acc, coords);
        Value v = (*combine)(nb, nl, old, u);
        return tensor::InsertOp::create(nb, nl, v, acc, coords);
      });
  return c.replace(castTo(b, l, out, rt));
}

LogicalResult lowerScatterND(NodeContext &c) {
  for (unsigned i = 0; i < 3; ++i)
    if (failed(requireRanked(c, i, i == 0 ? "'data'" : i == 1 ? "'indices'" : "'updates'")))
      return failure();
  OpBuilder &b = c.rewriter;
  Location l = c.loc;
  auto dt = c.inputType(0), it = c.inputType(1), ut = c.inputType(2);
  auto rt = c.rankedResultType(0);
  int64_t r = dt.getRank(), q = it.getRank();
  if (q < 1 || it.isDynamicDim(q - 1))
    return c.fail("the last dimension of the indices must be static");
  int64_t k = it.getDimSize(q - 1);
  if (k > r || ut.getRank() != q - 1 + r - k)
    return c.fail("'updates' of rank " + Twine(ut.getRank()) + " do not match " + Twine(k) +
                  "-tuples of indices into data of rank " + Twine(r));
  auto combine = scatterCombiner(c, dt.getElementType());
  if (failed(combine))
    return failure();
  bool idxUnsigned = c.isUnsignedInput(1);
  Value data = c.input(0), indices = c.input(1), updates = c.input(2);
  SmallVector<Value> sizes;
  for (int64_t j = 0; j < k; ++j)
    sizes.push_back(dimValue(b, l, data, j));
  Value out = scatterLoop(
      b, l, updates, data, [&](OpBuilder &nb, Location nl, ValueRange ivs, Value acc) -> Value {
        SmallVector<Value> iidx(ivs.take_front(q - 1)), coords;
        iidx.push_back(Value());
        for (int64_t j = 0; j < k; ++j) {
          iidx.back() = cIdx(nb, nl, j);
          Value v = tensor::ExtractOp::create(nb, nl, indices, iidx);
          coords.push_back(normalizeIndex(nb, nl, toIndex(nb, nl, v, idxUnsigned), sizes[j]));
        }
        for (int64_t d = q - 1; d < (int64_t)ivs.size(); ++d)
          coords.push_back(ivs[d]);
        Value u = tensor::ExtractOp::create(nb, nl, updates, ivs);
        Value old = tensor::ExtractOp::create(nb, nl, acc, coords);
        return tensor::InsertOp::create(nb, nl, (*combine)(nb, nl, old, u), acc, coords);
      });
  return c.replace(castTo(b, l, out, rt));
}

//===----------------------------------------------------------------------===//
// NonZero, Compress (static result types only)
//===----------------------------------------------------------------------===//

Value isNonZero(OpBuilder &b, Location l, Value v) {
  Type t = v.getType();
  if (t.isInteger(1))
    return v;
  if (isa<FloatType>(t))
    return arith::CmpFOp::create(b, l, arith::CmpFPredicate::UNE, v, scalarConstant(b, l, t, 0.0));
  return cmpI(b, l, arith::CmpIPredicate::ne, v, scalarConstant(b, l, t, 0.0));
}

LogicalResult lowerNonZero(NodeContext &c) {
  if (failed(requireRanked(c, 0, "the input")))
    return failure();
  OpBuilder &b = c.rewriter;
  Location l = c.loc;
  auto in = c.inputType(0);
  auto rt = c.rankedResultType(0);
  int64_t rank = in.getRank();
  if (!rt.hasStaticShape())
    return c.fail("the number of nonzero elements is data-dependent: the result type must be "
                  "static");
  int64_t nnz = rt.getDimSize(1);
  Type et = rt.getElementType();
  Value x = c.input(0);
  Value init = createFilled(b, l, rt, scalarConstant(b, l, et, 0.0));
  SmallVector<Value> lbs, ubs, steps;
  for (int64_t d = 0; d < rank; ++d) {
    lbs.push_back(cIdx(b, l, 0));
    ubs.push_back(dimValue(b, l, x, d));
    steps.push_back(cIdx(b, l, 1));
  }
  // Row-major walk; each nonzero element writes its coordinates into column `count`.
  auto nest = scf::buildLoopNest(
      b, l, lbs, ubs, steps, ValueRange{init, cIdx(b, l, 0)},
      [&](OpBuilder &nb, Location nl, ValueRange ivs, ValueRange iter) -> scf::ValueVector {
        Value v = tensor::ExtractOp::create(nb, nl, x, rank ? ivs : ValueRange{});
        Value take = arith::AndIOp::create(
            nb, nl, isNonZero(nb, nl, v),
            cmpI(nb, nl, arith::CmpIPredicate::slt, iter[1], cIdx(nb, nl, nnz)));
        auto ifOp = scf::IfOp::create(
            nb, nl, take,
            [&](OpBuilder &tb, Location tl) {
              Value acc = iter[0];
              for (int64_t d = 0; d < rank; ++d)
                acc = tensor::InsertOp::create(tb, tl, fromIndex(tb, tl, ivs[d], et), acc,
                                               ValueRange{cIdx(tb, tl, d), iter[1]});
              Value next = addI(tb, tl, iter[1], cIdx(tb, tl, 1));
              scf::YieldOp::create(tb, tl, ValueRange{acc, next});
            },
            [&](OpBuilder &eb, Location el) {
              scf::YieldOp::create(eb, el, ValueRange{iter[0], iter[1]});
            });
        return {ifOp.getResult(0), ifOp.getResult(1)};
      });
  return c.replace(nest.results[0]);
}

LogicalResult lowerCompress(NodeContext &c) {
  if (failed(requireRanked(c, 0, "the input")) || failed(requireRanked(c, 1, "'condition'")))
    return failure();
  OpBuilder &b = c.rewriter;
  Location l = c.loc;
  auto in = c.inputType(0);
  auto rt = c.rankedResultType(0);
  if (!rt.hasStaticShape() || !in.hasStaticShape())
    return c.fail("the number of selected slices is data-dependent: the input and result types "
                  "must be static");
  Value x = c.input(0);
  int64_t axis;
  if (c.hasAttr("axis")) {
    auto a = normalizeAxis(c.intAttr("axis", 0), in.getRank());
    if (!a || in.getRank() == 0)
      return c.fail("attribute 'axis' = " + Twine(c.intAttr("axis", 0)) +
                    " is out of range for rank " + Twine(in.getRank()));
    axis = *a;
  } else {
    x = reshapeStatic(b, l, x, {in.getNumElements()});
    axis = 0;
  }
  auto xt = cast<RankedTensorType>(x.getType());
  int64_t rank = xt.getRank();
  if (rt.getRank() != rank)
    return c.fail("the result has rank " + Twine(rt.getRank()) + ", expected " + Twine(rank));
  Value cond = c.input(1);
  auto ct = c.inputType(1);
  if (ct.getRank() != 1 || ct.isDynamicDim(0))
    return c.fail("'condition' must be a 1-D tensor of static length");
  int64_t len = std::min(ct.getDimSize(0), xt.getDimSize(axis));
  int64_t kept = rt.getDimSize(axis);
  // Slices of x along the axis (size 1) copied to position `count` when condition[i] holds.
  SmallVector<int64_t> sliceShape(xt.getShape());
  sliceShape[axis] = 1;
  auto sliceType = RankedTensorType::get(sliceShape, xt.getElementType());
  Value init = createFilled(b, l, rt, scalarConstant(b, l, rt.getElementType(), 0.0));
  auto loop = scf::ForOp::create(
      b, l, cIdx(b, l, 0), cIdx(b, l, len), cIdx(b, l, 1), ValueRange{init, cIdx(b, l, 0)},
      [&](OpBuilder &nb, Location nl, Value iv, ValueRange iter) {
        Value cv = isNonZero(nb, nl, tensor::ExtractOp::create(nb, nl, cond, iv));
        Value take = arith::AndIOp::create(
            nb, nl, cv, cmpI(nb, nl, arith::CmpIPredicate::slt, iter[1], cIdx(nb, nl, kept)));
        auto ifOp = scf::IfOp::create(
            nb, nl, take,
            [&](OpBuilder &tb, Location tl) {
              SmallVector<OpFoldResult> offs(rank, tb.getIndexAttr(0)), szs,
                  strides(rank, tb.getIndexAttr(1));
              for (int64_t d : sliceShape)
                szs.push_back(tb.getIndexAttr(d));
              offs[axis] = iv;
              Value s = tensor::ExtractSliceOp::create(tb, tl, sliceType, x, offs, szs, strides);
              offs[axis] = iter[1];
              Value acc = tensor::InsertSliceOp::create(tb, tl, s, iter[0], offs, szs, strides);
              scf::YieldOp::create(tb, tl, ValueRange{acc, addI(tb, tl, iter[1], cIdx(tb, tl, 1))});
            },
            [&](OpBuilder &eb, Location el) {
              scf::YieldOp::create(eb, el, ValueRange{iter[0], iter[1]});
            });
        scf::YieldOp::create(nb, nl, ifOp.getResults());
      });
  return c.replace(loop.getResult(0));
}

} // namespace

void registerShapeOps(OnnxHandlerTable &t) {
  t.add("Reshape", lowerReshape);
  t.add("Flatten", lowerFlatten);
  t.add("Squeeze", lowerSqueeze);
  t.add("Unsqueeze", lowerUnsqueeze);
  t.add("Transpose", lowerTranspose);
  t.add("Concat", lowerConcat);
  t.add("Split", lowerSplit);
  t.add("Slice", lowerSlice);
  t.add("Gather", lowerGather);
  t.add("GatherElements", lowerGatherElements);
  t.add("GatherND", lowerGatherND);
  t.add("Shape", lowerShape);
  t.add("Size", lowerSize);
  t.add("ConstantOfShape", lowerConstantOfShape);
  t.add("Expand", lowerExpand);
  t.add("Tile", lowerTile);
  t.add("Range", lowerRange);
  t.add("Pad", lowerPad);
  t.add("Resize", [](NodeContext &c) { return lowerResize(c, /*isUpsample=*/false); });
  t.add("Upsample", [](NodeContext &c) { return lowerResize(c, /*isUpsample=*/true); });
  t.add("DepthToSpace", lowerDepthToSpace);
  t.add("SpaceToDepth", lowerSpaceToDepth);
  t.add("OneHot", lowerOneHot);
  t.add("Trilu", lowerTrilu);
  t.add("EyeLike", lowerEyeLike);
  t.add("ScatterElements", lowerScatterElements);
  t.add("Scatter", lowerScatterElements);
  t.add("ScatterND", lowerScatterND);
  t.add("NonZero", lowerNonZero);
  t.add("Compress", lowerCompress);
}

} // namespace sparq::onnx
