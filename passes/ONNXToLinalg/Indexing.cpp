//===- passes/ONNXToLinalg/Indexing.cpp - slicing, gathering and scattering ONNX operators ---===//
//
// Concat, Split, Slice, Gather, GatherElements, GatherND, OneHot, Trilu, ScatterElements /
// Scatter, ScatterND, NonZero and Compress.
//
// Slicing becomes tensor.extract_slice / tensor.concat (a reversing generic for negative steps),
// gathers and index-driven selections a linalg.generic whose body reads the source with
// tensor.extract. Scatters and the data-dependent NonZero/Compress are scf.for loops over tensors,
// the only form that expresses their sequential writes.
//
// Out-of-range indices are errors, as in onnxruntime: constant indices are checked at compile
// time, the others by a check before the op that ends the invocation with a message naming the
// node (checkIndices; runtime/kernels/Checks.cpp). The reads themselves still clamp, so generated
// code never reads or writes outside a tensor. Data-dependent inputs (Split's sizes, Slice's starts/ends/axes/steps, ...) are
// folded when they are constants and read at run time otherwise, where the result type is static.
//
//===----------------------------------------------------------------------===//
#include "passes/ONNXToLinalg/ONNXToLinalg.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

using namespace mlir;

namespace sparq::onnx {
namespace {

//===----------------------------------------------------------------------===//
// Small helpers
//===----------------------------------------------------------------------===//

/// Normalizes a possibly negative index against `size` and clamps it into [0, size - 1], so that
/// out-of-range indices (undefined in ONNX) never read outside the tensor.
Value normalizeIndex(OpBuilder &b, Location l, Value idx, Value size) {
  Value zero = ScalarBuilder{b, l}.cIdx(0);
  Value neg = ScalarBuilder{b, l}.cmp(arith::CmpIPredicate::slt, idx, zero);
  idx = ScalarBuilder{b, l}.select(neg, ScalarBuilder{b, l}.add(idx, size), idx);
  return ScalarBuilder{b, l}.clampS(idx, zero,
                                    ScalarBuilder{b, l}.sub(size, ScalarBuilder{b, l}.cIdx(1)));
}

/// Checks that every element of `indices` lies in [-n, n), n being `sizes[0]`, or with several
/// sizes (GatherND's index tuples along the last dimension), `sizes[j]` for component j. Constant
/// indices against static sizes are checked now; the others by a reduction over the indices and
/// a cf.assert after it, at the top level (sparq-lower-runtime-checks turns it into the
/// invocation's error). An empty data dimension (n = 0) admits no index.
LogicalResult checkIndices(NodeContext &c, Value indices, bool idxUnsigned, ArrayRef<Value> sizes,
                           const Twine &what) {
  OpBuilder &b = c.rewriter;
  Location l = c.loc;
  auto it = cast<RankedTensorType>(indices.getType());
  SmallVector<std::optional<int64_t>> staticSizes;
  for (Value n : sizes)
    staticSizes.push_back(getConstantIntValue(n));
  if (auto values = getConstantInts(indices); succeeded(values) && it.hasStaticShape() &&
                                              llvm::all_of(staticSizes, [](auto n) { return n.has_value(); })) {
    for (auto [pos, v] : llvm::enumerate(*values)) {
      int64_t n = *staticSizes[sizes.size() == 1 ? 0 : pos % sizes.size()];
      if ((idxUnsigned && uint64_t(v) >= uint64_t(n)) || (!idxUnsigned && (v < -n || v >= n)))
        return c.fail("index " + Twine(v) + " (element " + Twine(pos) + " of the indices) is out of range for " +
                      what + " of size " + Twine(n));
    }
    return success();
  }
  MLIRContext *ctx = b.getContext();
  int64_t q = it.getRank();
  auto flagType = RankedTensorType::get({}, b.getI1Type());
  Value init = createFilled(b, l, flagType, arith::ConstantIntOp::create(b, l, 0, 1));
  SmallVector<AffineMap> maps = {b.getMultiDimIdentityMap(q), AffineMap::get(q, 0, {}, ctx)};
  SmallVector<utils::IteratorType> iters(q, utils::IteratorType::reduction);
  Value bad = linalg::GenericOp::create(
                  b, l, TypeRange{flagType}, ValueRange{indices}, ValueRange{init}, maps, iters,
                  [&](OpBuilder &nb, Location nl, ValueRange args) {
                    ScalarBuilder sb{nb, nl};
                    Value idx = toIndex(nb, nl, args[0], idxUnsigned);
                    Value n = sizes[0];
                    for (size_t j = 1; j < sizes.size(); ++j)
                      n = sb.select(sb.eq(sb.index(unsigned(q - 1)), sb.cIdx(int64_t(j))),
                                    sizes[j], n);
                    Value low = sb.cmp(arith::CmpIPredicate::slt, idx, sb.sub(sb.cIdx(0), n));
                    Value high = sb.cmp(arith::CmpIPredicate::sge, idx, n);
                    Value out = arith::OrIOp::create(
                        nb, nl, args[1], arith::OrIOp::create(nb, nl, low, high));
                    linalg::YieldOp::create(nb, nl, out);
                  })
                  .getResult(0);
  Value anyBad = tensor::ExtractOp::create(b, l, bad, ValueRange{});
  Value ok = arith::XOrIOp::create(b, l, anyBad, arith::ConstantIntOp::create(b, l, 1, 1));
  std::string msg;
  llvm::raw_string_ostream os(msg);
  os << c.op.describe() << ": an index is out of range for " << what
     << " (indices must lie in [-n, n), n being its size)";
  cf::AssertOp::create(b, l, ok, msg);
  return success();
}

/// A tensor.empty of the given (static or dynamic) sizes.
Value emptyOfSizes(OpBuilder &b, Location l, ArrayRef<OpFoldResult> sizes, Type elemType) {
  return tensor::EmptyOp::create(b, l, sizes, elemType);
}

//===----------------------------------------------------------------------===//
// Concat, Split
//===----------------------------------------------------------------------===//

LogicalResult lowerConcat(NodeContext &c) {
  auto rt = c.rankedResultType(0);
  int64_t rank = rt.getRank();
  auto axis = axisAttr(c, rank);
  if (failed(axis))
    return failure();
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

/// Split; `splitFromInput`: the sizes are the optional input 1 (Split-13 and later), not the
/// optional 'split' attribute (up to Split-11).
LogicalResult lowerSplit(NodeContext &c, bool splitFromInput) {
  if (failed(requireRanked(c, 0, "the input")))
    return failure();
  OpBuilder &b = c.rewriter;
  Location l = c.loc;
  auto in = c.inputType(0);
  int64_t rank = in.getRank();
  auto axis = axisAttr(c, rank);
  if (failed(axis))
    return failure();
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
    bool hasSplitInput = splitFromInput && c.hasInput(1);
    std::optional<SmallVector<int64_t>> split;
    if (!splitFromInput && c.hasAttr("split"))
      split = c.intsAttr("split");
    else if (hasSplitInput)
      split = constInts(c, 1);
    if (split && split->size() != n)
      return c.fail("'split' has " + Twine(split->size()) + " entries for " + Twine(n) +
                    " outputs");
    ScalarBuilder sb{b, l};
    for (unsigned i = 0; i < n; ++i) {
      if (sizes[i])
        continue;
      if (split)
        sizes[i] = b.getIndexAttr((*split)[i]);
      else if (hasSplitInput)
        sizes[i] = toIndex(b, l, extractElement(b, l, c.input(1), i));
      else if (i + 1 < n || n == 1)
        sizes[i] = arith::CeilDivUIOp::create(b, l, dimValue(b, l, c.input(0), *axis), sb.cIdx(n))
                       .getResult();
      else // last of equal parts: what remains
        sizes[i] = sb.sub(dimValue(b, l, c.input(0), *axis),
                          sb.mul(arith::CeilDivUIOp::create(
                                     b, l, dimValue(b, l, c.input(0), *axis), sb.cIdx(n)),
                                 sb.cIdx(n - 1)));
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
      offset = ScalarBuilder{b, l}.add(getValueOrCreateConstantIndexOp(b, l, offset),
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
            idx[i] = ScalarBuilder{nb, nl}.sub(
                ScalarBuilder{nb, nl}.sub(dimValue(nb, nl, v, i), ScalarBuilder{nb, nl}.cIdx(1)),
                ivs[i]);
        return tensor::ExtractOp::create(nb, nl, v, idx).getResult();
      });
}

/// Slice with run-time axes or steps (Slice-10 on): with a static result shape, output
/// dimension d reads data[start_d + i * step_d], where start_d (clamped as ONNX does) and step_d
/// are selected at run time from the entries whose axis is d.
LogicalResult lowerSliceRuntime(NodeContext &c) {
  OpBuilder &b = c.rewriter;
  Location l = c.loc;
  ScalarBuilder sb{b, l};
  auto in = c.inputType(0);
  auto rt = c.rankedResultType(0);
  int64_t rank = in.getRank();
  Value data = c.input(0);
  for (unsigned i = 1; i <= 4; ++i)
    if (c.hasInput(i) && (!c.inputType(i) || c.inputType(i).getRank() != 1))
      return c.fail("'starts', 'ends', 'axes' and 'steps' must be 1-D tensors");
  Value zero = sb.cIdx(0), one = sb.cIdx(1);
  Value count = dimValue(b, l, c.input(1), 0);
  Value ok = sb.eq(dimValue(b, l, c.input(2), 0), count);
  for (unsigned i = 3; i <= 4; ++i)
    if (c.hasInput(i))
      ok = arith::AndIOp::create(b, l, ok, sb.eq(dimValue(b, l, c.input(i), 0), count));
  cf::AssertOp::create(b, l, ok,
                       c.op.describe() +
                           ": 'starts', 'ends', 'axes' and 'steps' must have the same length");
  // Per dimension: first index, step and element count, updated by each entry k whose axis
  // names it (ONNX's clamping for positive and negative steps).
  SmallVector<Value> init, dims;
  for (int64_t d = 0; d < rank; ++d)
    dims.push_back(dimValue(b, l, data, d));
  init.append(rank, zero);
  init.append(rank, one);
  init.append(dims.begin(), dims.end());
  auto loop = scf::ForOp::create(
      b, l, zero, count, one, init,
      [&](OpBuilder &nb, Location nl, Value k, ValueRange acc) {
        ScalarBuilder s{nb, nl};
        Value z = s.cIdx(0), o = s.cIdx(1);
        auto read = [&](unsigned input) {
          return toIndex(nb, nl, s.extract(c.input(input), k), false);
        };
        Value ax = c.hasInput(3) ? read(3) : k;
        ax = s.select(s.cmp(arith::CmpIPredicate::slt, ax, z), s.add(ax, s.cIdx(rank)), ax);
        Value st = c.hasInput(4) ? read(4) : o;
        Value sv = read(1), ev = read(2);
        Value pos = s.cmp(arith::CmpIPredicate::sgt, st, z);
        SmallVector<Value> next(acc);
        for (int64_t d = 0; d < rank; ++d) {
          Value n = dims[d], nm1 = s.sub(n, o);
          auto wrap = [&](Value v) {
            return s.select(s.cmp(arith::CmpIPredicate::slt, v, z), s.add(v, n), v);
          };
          Value sw = wrap(sv), ew = wrap(ev);
          Value sPos = s.clampS(sw, z, n), ePos = s.clampS(ew, z, n);
          Value sNeg = s.clampS(sw, z, nm1), eNeg = s.clampS(ew, s.cIdx(-1), nm1);
          Value cntPos = s.maxS(arith::CeilDivSIOp::create(nb, nl, s.sub(ePos, sPos), st), z);
          Value cntNeg = s.maxS(arith::CeilDivSIOp::create(nb, nl, s.sub(sNeg, eNeg),
                                                           s.sub(z, st)),
                                z);
          Value match = s.eq(ax, s.cIdx(d));
          next[d] = s.select(match, s.select(pos, sPos, sNeg), acc[d]);
          next[rank + d] = s.select(match, st, acc[rank + d]);
          next[2 * rank + d] = s.select(match, s.select(pos, cntPos, cntNeg), acc[2 * rank + d]);
        }
        scf::YieldOp::create(nb, nl, next);
      });
  ValueRange res = loop.getResults();
  SmallVector<Value> start(res.begin(), res.begin() + rank),
      step(res.begin() + rank, res.begin() + 2 * rank), sizes(res.begin() + 2 * rank, res.end());
  for (int64_t d = 0; d < rank; ++d)
    if (!rt.isDynamicDim(d))
      sizes[d] = sb.cIdx(rt.getDimSize(d));
  // A zero step is an error; a static result size must match the computed count.
  Value good = arith::ConstantIntOp::create(b, l, 1, 1);
  for (int64_t d = 0; d < rank; ++d)
    good = arith::AndIOp::create(b, l, good, arith::CmpIOp::create(b, l, arith::CmpIPredicate::ne,
                                                                   step[d], zero));
  cf::AssertOp::create(b, l, good, c.op.describe() + ": 'steps' has a zero entry");
  return c.replace(buildIndexedGeneric(
      b, l, rt, dynamicSizes(rt, [&](int64_t d) { return sizes[d]; }), {}, {},
      [&](OpBuilder &nb, Location nl, ValueRange ivs, ValueRange) -> Value {
        SmallVector<Value> idx;
        for (int64_t d = 0; d < rank; ++d)
          idx.push_back(
              ScalarBuilder{nb, nl}.add(start[d], ScalarBuilder{nb, nl}.mul(ivs[d], step[d])));
        return tensor::ExtractOp::create(nb, nl, data, idx);
      }));
}

/// The `count` entries of starts, ends, axes and steps of a Slice node; each nullopt when it is
/// only known at run time (starts/ends are then read from inputs 1/2).
struct SliceArgs {
  int64_t count;
  std::optional<SmallVector<int64_t>> starts, ends, axes, steps;
};

/// Slice-1: starts, ends and axes are attributes, steps are 1.
FailureOr<SliceArgs> sliceArgsFromAttrs(NodeContext &c) {
  SliceArgs a;
  a.starts = c.intsAttr("starts");
  a.ends = c.intsAttr("ends");
  a.count = a.starts->size();
  SmallVector<int64_t> dfltAxes = llvm::to_vector(llvm::seq<int64_t>(0, a.count));
  a.axes = c.intsAttr("axes", dfltAxes);
  a.steps = SmallVector<int64_t>(a.count, 1);
  return a;
}

/// Slice-10 and later: starts, ends, axes and steps are inputs 1 to 4, folded when constant.
FailureOr<SliceArgs> sliceArgsFromInputs(NodeContext &c) {
  for (unsigned i = 1; i <= 2; ++i) {
    auto t = c.inputType(i);
    if (!t || t.getRank() != 1)
      return c.fail(Twine(i == 1 ? "'starts'" : "'ends'") + " must be a 1-D tensor");
    if (t.isDynamicDim(0)) // read at run time, with axes and steps
      return SliceArgs{ShapedType::kDynamic, std::nullopt, std::nullopt, std::nullopt,
                       std::nullopt};
  }
  SliceArgs a;
  a.count = c.inputType(1).getDimSize(0);
  a.starts = constInts(c, 1);
  a.ends = constInts(c, 2);
  a.axes = c.hasInput(3) ? constInts(c, 3) : llvm::to_vector(llvm::seq<int64_t>(0, a.count));
  a.steps = c.hasInput(4) ? constInts(c, 4) : SmallVector<int64_t>(a.count, 1);
  return a;
}

/// Slice, with its arguments read by `readArgs` (one of the two above).
LogicalResult lowerSlice(NodeContext &c, FailureOr<SliceArgs> (*readArgs)(NodeContext &)) {
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

  // starts/ends: constants or run-time values; axes/steps: constants, else the run-time form.
  FailureOr<SliceArgs> args = readArgs(c);
  if (failed(args))
    return failure();
  int64_t count = args->count;
  const std::optional<SmallVector<int64_t>> &starts = args->starts, &ends = args->ends,
                                            &axesC = args->axes, &steps = args->steps;
  if (!axesC || !steps)
    return lowerSliceRuntime(c);
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
    Value zero = ScalarBuilder{b, l}.cIdx(0), one = ScalarBuilder{b, l}.cIdx(1);
    auto read = [&](const std::optional<SmallVector<int64_t>> &cst, unsigned input) -> Value {
      if (cst)
        return ScalarBuilder{b, l}.cIdx((*cst)[k]);
      return toIndex(b, l, extractElement(b, l, c.input(input), k));
    };
    auto wrap = [&](Value v) {
      return ScalarBuilder{b, l}.select(ScalarBuilder{b, l}.cmp(arith::CmpIPredicate::slt, v, zero),
                                        ScalarBuilder{b, l}.add(v, n), v);
    };
    Value s = wrap(read(starts, 1)), e = wrap(read(ends, 2)), cnt, off;
    if (step > 0) {
      s = ScalarBuilder{b, l}.clampS(s, zero, n);
      e = ScalarBuilder{b, l}.clampS(e, zero, n);
      cnt = ScalarBuilder{b, l}.maxS(arith::CeilDivSIOp::create(b, l, ScalarBuilder{b, l}.sub(e, s),
                                                                ScalarBuilder{b, l}.cIdx(step)),
                                     zero);
      off = s;
    } else {
      Value nm1 = ScalarBuilder{b, l}.sub(n, one);
      s = ScalarBuilder{b, l}.clampS(s, zero, nm1);
      e = ScalarBuilder{b, l}.clampS(e, ScalarBuilder{b, l}.cIdx(-1), nm1);
      cnt = ScalarBuilder{b, l}.maxS(arith::CeilDivSIOp::create(b, l, ScalarBuilder{b, l}.sub(s, e),
                                                                ScalarBuilder{b, l}.cIdx(-step)),
                                     zero);
      if (!rt.isDynamicDim(a))
        cnt = ScalarBuilder{b, l}.cIdx(rt.getDimSize(a));
      Value last =
          ScalarBuilder{b, l}.add(s, ScalarBuilder{b, l}.mul(ScalarBuilder{b, l}.sub(cnt, one),
                                                             ScalarBuilder{b, l}.cIdx(step)));
      off = ScalarBuilder{b, l}.select(
          ScalarBuilder{b, l}.cmp(arith::CmpIPredicate::sgt, cnt, zero), last, zero);
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
  auto axis = axisAttr(c, r);
  if (failed(axis))
    return failure();
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
  if (failed(checkIndices(c, indices, idxUnsigned, n, "axis " + Twine(*axis) + " of the data")))
    return failure();
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
  auto axis = axisAttr(c, r);
  if (failed(axis))
    return failure();
  if (it.getRank() != r)
    return c.fail("indices have rank " + Twine(it.getRank()) + " but data has rank " + Twine(r));
  bool idxUnsigned = c.isUnsignedInput(1);
  Value n = dimValue(b, l, data, *axis);
  if (failed(checkIndices(c, indices, idxUnsigned, n, "axis " + Twine(*axis) + " of the data")))
    return failure();
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
  if (k > 0 && failed(checkIndices(c, indices, idxUnsigned, sizes,
                                   "dimensions " + Twine(bd) + ".." + Twine(bd + k - 1) +
                                       " of the data")))
    return failure();
  auto dyn = dynamicSizes(rt, [&](int64_t i) {
    return i < q - 1 ? dimValue(b, l, indices, i) : dimValue(b, l, data, i - (q - 1) + bd + k);
  });
  Value out = buildIndexedGeneric(
      b, l, rt, dyn, {}, {}, [&](OpBuilder &nb, Location nl, ValueRange ivs, ValueRange) -> Value {
        SmallVector<Value> coords(ivs.take_front(bd));
        SmallVector<Value> iidx(ivs.take_front(q - 1));
        iidx.push_back(Value());
        for (int64_t j = 0; j < k; ++j) {
          iidx.back() = ScalarBuilder{nb, nl}.cIdx(j);
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
// OneHot, Trilu
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
  auto axis = axisAttr(c, outRank, -1);
  if (failed(axis))
    return failure();
  auto vt = c.inputType(2);
  if (vt.getRank() != 1 || (vt.hasStaticShape() && vt.getNumElements() != 2))
    return c.fail("'values' must hold exactly [off_value, on_value]");
  if (!vt.hasStaticShape()) // its length is read at run time
    cf::AssertOp::create(b, l,
                         ScalarBuilder{b, l}.eq(dimValue(b, l, c.input(2), 0),
                                                ScalarBuilder{b, l}.cIdx(2)),
                         c.op.describe() + ": 'values' must hold exactly [off_value, on_value]");
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
        Value neg = ScalarBuilder{nb, nl}.cmp(arith::CmpIPredicate::slt, idx,
                                              ScalarBuilder{nb, nl}.cIdx(0));
        idx = ScalarBuilder{nb, nl}.select(neg, ScalarBuilder{nb, nl}.add(idx, depth), idx);
        Value hit = ScalarBuilder{nb, nl}.cmp(arith::CmpIPredicate::eq, idx, ivs[*axis]);
        return ScalarBuilder{nb, nl}.select(hit, on, off);
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
  Value k = c.hasInput(1) ? toIndex(b, l, scalarInput(c, 1)) : ScalarBuilder{b, l}.cIdx(0);
  Value zero = scalarConstant(b, l, rt.getElementType(), 0.0);
  return c.replace(buildIndexedGeneric(
      b, l, rt, dynamicSizes(rt, [&](int64_t d) { return dimValue(b, l, c.input(0), d); }),
      c.input(0), b.getMultiDimIdentityMap(rank),
      [&](OpBuilder &nb, Location nl, ValueRange ivs, ValueRange args) -> Value {
        Value diff = ScalarBuilder{nb, nl}.sub(ivs[rank - 1], ivs[rank - 2]);
        Value keep = ScalarBuilder{nb, nl}.cmp(
            upper ? arith::CmpIPredicate::sge : arith::CmpIPredicate::sle, diff, k);
        return ScalarBuilder{nb, nl}.select(keep, args[0], zero);
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
    lbs.push_back(ScalarBuilder{b, l}.cIdx(0));
    ubs.push_back(dimValue(b, l, shapeOf, d));
    steps.push_back(ScalarBuilder{b, l}.cIdx(1));
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
  auto axis = axisAttr(c, r);
  if (failed(axis))
    return failure();
  if (c.inputType(1).getRank() != r || c.inputType(2).getRank() != r)
    return c.fail("'indices' and 'updates' must have the rank of 'data'");
  auto combine = scatterCombiner(c, dt.getElementType());
  if (failed(combine))
    return failure();
  bool idxUnsigned = c.isUnsignedInput(1);
  Value data = c.input(0), indices = c.input(1), updates = c.input(2);
  Value n = dimValue(b, l, data, *axis);
  if (failed(checkIndices(c, indices, idxUnsigned, n, "axis " + Twine(*axis) + " of the data")))
    return failure();
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
  if (k > 0 && failed(checkIndices(c, indices, idxUnsigned, sizes,
                                   "dimensions 0.." + Twine(k - 1) + " of the data")))
    return failure();
  Value out = scatterLoop(
      b, l, updates, data, [&](OpBuilder &nb, Location nl, ValueRange ivs, Value acc) -> Value {
        SmallVector<Value> iidx(ivs.take_front(q - 1)), coords;
        iidx.push_back(Value());
        for (int64_t j = 0; j < k; ++j) {
          iidx.back() = ScalarBuilder{nb, nl}.cIdx(j);
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
    lbs.push_back(ScalarBuilder{b, l}.cIdx(0));
    ubs.push_back(dimValue(b, l, x, d));
    steps.push_back(ScalarBuilder{b, l}.cIdx(1));
  }
  // Row-major walk; each nonzero element writes its coordinates into column `count`.
  auto nest = scf::buildLoopNest(
      b, l, lbs, ubs, steps, ValueRange{init, ScalarBuilder{b, l}.cIdx(0)},
      [&](OpBuilder &nb, Location nl, ValueRange ivs, ValueRange iter) -> scf::ValueVector {
        Value v = tensor::ExtractOp::create(nb, nl, x, rank ? ivs : ValueRange{});
        Value take =
            arith::AndIOp::create(nb, nl, isNonZero(nb, nl, v),
                                  ScalarBuilder{nb, nl}.cmp(arith::CmpIPredicate::slt, iter[1],
                                                            ScalarBuilder{nb, nl}.cIdx(nnz)));
        auto ifOp = scf::IfOp::create(
            nb, nl, take,
            [&](OpBuilder &tb, Location tl) {
              Value acc = iter[0];
              for (int64_t d = 0; d < rank; ++d)
                acc = tensor::InsertOp::create(tb, tl, fromIndex(tb, tl, ivs[d], et), acc,
                                               ValueRange{ScalarBuilder{tb, tl}.cIdx(d), iter[1]});
              Value next = ScalarBuilder{tb, tl}.add(iter[1], ScalarBuilder{tb, tl}.cIdx(1));
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
    auto a = axisAttr(c, in.getRank());
    if (failed(a))
      return failure();
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
      b, l, ScalarBuilder{b, l}.cIdx(0), ScalarBuilder{b, l}.cIdx(len), ScalarBuilder{b, l}.cIdx(1),
      ValueRange{init, ScalarBuilder{b, l}.cIdx(0)},
      [&](OpBuilder &nb, Location nl, Value iv, ValueRange iter) {
        Value cv = isNonZero(nb, nl, tensor::ExtractOp::create(nb, nl, cond, iv));
        Value take =
            arith::AndIOp::create(nb, nl, cv,
                                  ScalarBuilder{nb, nl}.cmp(arith::CmpIPredicate::slt, iter[1],
                                                            ScalarBuilder{nb, nl}.cIdx(kept)));
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
              scf::YieldOp::create(tb, tl,
                                   ValueRange{acc, ScalarBuilder{tb, tl}.add(
                                                       iter[1], ScalarBuilder{tb, tl}.cIdx(1))});
            },
            [&](OpBuilder &eb, Location el) {
              scf::YieldOp::create(eb, el, ValueRange{iter[0], iter[1]});
            });
        scf::YieldOp::create(nb, nl, ifOp.getResults());
      });
  return c.replace(loop.getResult(0));
}

} // namespace

void registerIndexingOps(OnnxHandlerTable &t) {
  t.add("Concat", 1, lowerConcat);
  // The sizes are the 'split' attribute up to opset 12, input 1 from 13.
  t.add("Split", 1, [](NodeContext &c) { return lowerSplit(c, /*splitFromInput=*/false); });
  t.add("Split", 13, [](NodeContext &c) { return lowerSplit(c, /*splitFromInput=*/true); });
  // starts/ends/axes are attributes in Slice-1, inputs (with steps) from Slice-10.
  t.add("Slice", 1, [](NodeContext &c) { return lowerSlice(c, sliceArgsFromAttrs); });
  t.add("Slice", 10, [](NodeContext &c) { return lowerSlice(c, sliceArgsFromInputs); });
  t.add("Gather", 1, lowerGather);
  t.add("GatherElements", 11, lowerGatherElements);
  t.add("GatherND", 11, lowerGatherND);
  t.add("OneHot", 9, lowerOneHot);
  t.add("Trilu", 14, lowerTrilu);
  t.add("ScatterElements", 11, lowerScatterElements);
  t.add("Scatter", 9, lowerScatterElements);
  t.add("ScatterND", 11, lowerScatterND);
  t.add("NonZero", 9, lowerNonZero);
  t.add("Compress", 9, lowerCompress);
}
} // namespace sparq::onnx
