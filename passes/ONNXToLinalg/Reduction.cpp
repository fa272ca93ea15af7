//===- passes/ONNXToLinalg/Reduction.cpp - reductions, softmax, arg-reductions -===//
//
// Reduce* (every opset form: axes attribute or input, keepdims, noop_with_empty_axes), Softmax /
// LogSoftmax / Hardmax (coerce-to-2-D semantics before opset 13, one axis from 13), ArgMax /
// ArgMin, CumSum and Einsum.
//
// A reduction over a set of input dimensions produces a tensor of the kept dimensions only: a
// `linalg.reduce` when the reduction is a bare combiner (sum, product, max, min), otherwise a
// `linalg.generic` whose reduction body applies the per-element part first (|x|, x*x, exp(x-m)).
// keepdims re-inserts the unit dimensions with `tensor.expand_shape`. Sums and products of f16 and
// bf16 accumulate in f32. Softmax, LogSoftmax and LogSumExp subtract the maximum first. CumSum is
// an `scf.for` over the scanned axis carrying the running sum (linalg has no scan). Einsum is one
// `linalg.generic` (output labels parallel, the others reduced, diagonals and ellipsis
// broadcasting in the indexing maps).
//
// Axes known only at run time: for Reduce*, the static input and result shapes usually leave one
// possible set of reduced dimensions (up to unit dimensions); when several remain (keepdims=0,
// equal sizes) an `scf.index_switch` on the axes' bit mask selects among them. CumSum's run-time
// axis switches over the input's dimensions the same way.
//
//===----------------------------------------------------------------------===//
#include "passes/ONNXToLinalg/ONNXToLinalg.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/AffineMap.h"
#include "llvm/ADT/STLExtras.h"

#include <cmath>
#include <map>

using namespace mlir;

namespace sparq::onnx {
namespace {

bool isFloat(Type t) { return isa<FloatType>(t); }

/// The type sums and products accumulate in: f32 for narrower floats, else the element type.
Type accumulatorType(Type elem) {
  if (auto ft = dyn_cast<FloatType>(elem); ft && ft.getWidth() < 32)
    return Float32Type::get(elem.getContext());
  return elem;
}

/// `t` printed in quotes, as MLIR diagnostics print types.
std::string typeStr(Type t) {
  std::string str;
  llvm::raw_string_ostream os(str);
  os << "'" << t << "'";
  return str;
}

Value intConstant(OpBuilder &b, Location l, Type t, const APInt &v) {
  return arith::ConstantOp::create(b, l, b.getIntegerAttr(t, v));
}

/// Size of dimension `d` of `v` as an index value.
Value dimSize(OpBuilder &b, Location l, Value v, int64_t d) {
  auto t = cast<RankedTensorType>(v.getType());
  if (!t.isDynamicDim(d))
    return arith::ConstantIndexOp::create(b, l, t.getDimSize(d));
  return tensor::DimOp::create(b, l, v, d);
}

/// The dimensions of a rank-`rank` tensor reduced by an operation, and the ones kept.
struct ReduceShape {
  RankedTensorType inType;
  SmallVector<int64_t> dims; // sorted, unique
  SmallVector<int64_t> kept;

  ReduceShape(RankedTensorType inType, ArrayRef<int64_t> reduced) : inType(inType) {
    dims.assign(reduced.begin(), reduced.end());
    llvm::sort(dims);
    dims.erase(std::unique(dims.begin(), dims.end()), dims.end());
    for (int64_t d = 0; d < inType.getRank(); ++d)
      if (!llvm::is_contained(dims, d))
        kept.push_back(d);
  }
  int64_t rank() const { return inType.getRank(); }
  bool isReduced(int64_t d) const { return llvm::is_contained(dims, d); }

  /// The type of a reduced result: the kept dimensions only.
  RankedTensorType reducedType(Type elem) const {
    SmallVector<int64_t> shape;
    for (int64_t d : kept)
      shape.push_back(inType.getDimSize(d));
    return RankedTensorType::get(shape, elem);
  }
  /// The type of a keepdims result: reduced dimensions become 1.
  RankedTensorType keepDimsType(Type elem) const {
    SmallVector<int64_t> shape(inType.getShape());
    for (int64_t d : dims)
      shape[d] = 1;
    return RankedTensorType::get(shape, elem);
  }
  /// tensor.dim of `full` (a tensor of `inType`'s shape) for the dynamic kept dimensions.
  SmallVector<Value> reducedDynSizes(OpBuilder &b, Location l, Value full) const {
    SmallVector<Value> out;
    for (int64_t d : kept)
      if (inType.isDynamicDim(d))
        out.push_back(tensor::DimOp::create(b, l, full, d));
    return out;
  }
  /// (d0, ..., dn) -> (kept dims).
  AffineMap keptMap(MLIRContext *ctx) const {
    SmallVector<AffineExpr> exprs;
    for (int64_t d : kept)
      exprs.push_back(getAffineDimExpr(d, ctx));
    return AffineMap::get(rank(), 0, exprs, ctx);
  }
};

using ReduceBodyFn = function_ref<Value(OpBuilder &, Location, ValueRange, Value)>;

/// linalg.generic reducing `s.dims` of the full-shape tensors `fullInputs` (identity maps),
/// reading the reduced-shape tensors `keptInputs` (kept-dimension maps), starting from the scalar
/// `init`. `body(ins, acc)` returns the new accumulator.
Value buildReduceGeneric(OpBuilder &b, Location l, const ReduceShape &s, ValueRange fullInputs,
                         ValueRange keptInputs, Value init, ReduceBodyFn body) {
  MLIRContext *ctx = b.getContext();
  RankedTensorType outType = s.reducedType(init.getType());
  Value out = createFilled(b, l, outType, init, s.reducedDynSizes(b, l, fullInputs[0]));
  SmallVector<AffineMap> maps;
  SmallVector<Value> ins;
  for (Value v : fullInputs) {
    maps.push_back(b.getMultiDimIdentityMap(s.rank()));
    ins.push_back(v);
  }
  for (Value v : keptInputs) {
    maps.push_back(s.keptMap(ctx));
    ins.push_back(v);
  }
  maps.push_back(s.keptMap(ctx));
  SmallVector<utils::IteratorType> iters;
  for (int64_t d = 0; d < s.rank(); ++d)
    iters.push_back(s.isReduced(d) ? utils::IteratorType::reduction
                                   : utils::IteratorType::parallel);
  auto op = linalg::GenericOp::create(
      b, l, outType, ins, ValueRange{out}, maps, iters,
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value r = body(nb, nl, args.drop_back(), args.back());
        linalg::YieldOp::create(nb, nl, r);
      });
  return op.getResult(0);
}

/// A bare combiner reduction of `input` over `s.dims`: linalg.reduce (a generic when no dimension
/// is reduced, which linalg.reduce does not express).
Value buildReduceNamed(OpBuilder &b, Location l, const ReduceShape &s, Value input, Value init,
                       function_ref<Value(OpBuilder &, Location, Value, Value)> combine) {
  if (s.dims.empty())
    return buildReduceGeneric(b, l, s, {input}, {}, init,
                              [&](OpBuilder &nb, Location nl, ValueRange a, Value acc) {
                                return combine(nb, nl, a[0], acc);
                              });
  RankedTensorType outType = s.reducedType(init.getType());
  Value out = createFilled(b, l, outType, init, s.reducedDynSizes(b, l, input));
  auto op = linalg::ReduceOp::create(b, l, ValueRange{input}, ValueRange{out}, s.dims,
                                     [&](OpBuilder &nb, Location nl, ValueRange args) {
                                       Value r = combine(nb, nl, args[0], args[1]);
                                       linalg::YieldOp::create(nb, nl, r);
                                     });
  return op.getResult(0);
}

/// A parallel linalg.generic over the full shape of `s` producing `outElem`, reading full-shape
/// `fullInputs` and reduced-shape `keptInputs` (broadcast along the reduced dimensions).
/// `dynSource` is a full-shape tensor to read dynamic sizes from.
Value buildBroadcastGeneric(OpBuilder &b, Location l, const ReduceShape &s, Value dynSource,
                            ValueRange fullInputs, ValueRange keptInputs, Type outElem,
                            function_ref<Value(OpBuilder &, Location, ValueRange)> body) {
  MLIRContext *ctx = b.getContext();
  auto outType = RankedTensorType::get(s.inType.getShape(), outElem);
  SmallVector<Value> dyn;
  for (int64_t d = 0; d < s.rank(); ++d)
    if (s.inType.isDynamicDim(d))
      dyn.push_back(tensor::DimOp::create(b, l, dynSource, d));
  Value out = createEmpty(b, l, outType, dyn);
  SmallVector<AffineMap> maps;
  SmallVector<Value> ins;
  for (Value v : fullInputs) {
    maps.push_back(b.getMultiDimIdentityMap(s.rank()));
    ins.push_back(v);
  }
  for (Value v : keptInputs) {
    maps.push_back(s.keptMap(ctx));
    ins.push_back(v);
  }
  maps.push_back(b.getMultiDimIdentityMap(s.rank()));
  SmallVector<utils::IteratorType> iters(s.rank(), utils::IteratorType::parallel);
  auto op = linalg::GenericOp::create(b, l, outType, ins, ValueRange{out}, maps, iters,
                                      [&](OpBuilder &nb, Location nl, ValueRange args) {
                                        Value r = body(nb, nl, args.drop_back());
                                        linalg::YieldOp::create(nb, nl, r);
                                      });
  return op.getResult(0);
}

/// Elementwise map over reduced-shape tensors of identical shape.
Value mapReduced(OpBuilder &b, Location l, ValueRange ins, Type outElem,
                 function_ref<Value(OpBuilder &, Location, ValueRange)> body) {
  auto t = cast<RankedTensorType>(ins[0].getType());
  return buildElementwise(b, l, ins, t.clone(outElem), body);
}

/// Re-inserts the reduced dimensions of `s` as unit dimensions.
Value expandKeepDims(OpBuilder &b, Location l, const ReduceShape &s, Value reduced) {
  if (s.dims.empty())
    return reduced;
  auto elem = cast<RankedTensorType>(reduced.getType()).getElementType();
  SmallVector<ReassociationIndices> assoc;
  if (!s.kept.empty()) {
    // Each kept dimension takes the reduced dimensions that follow it; leading reduced
    // dimensions join the first group.
    for (int64_t d = 0; d < s.rank(); ++d) {
      if (s.isReduced(d) && !assoc.empty()) {
        assoc.back().push_back(d);
        continue;
      }
      if (s.isReduced(d))
        continue;
      ReassociationIndices group;
      if (assoc.empty())
        for (int64_t e = 0; e < d; ++e)
          group.push_back(e);
      group.push_back(d);
      assoc.push_back(group);
    }
  }
  return tensor::ExpandShapeOp::create(b, l, s.keepDimsType(elem), reduced, assoc);
}

/// Replaces the node's results with `values`, inserting a tensor.cast where only static
/// information differs.
LogicalResult finish(NodeContext &c, ArrayRef<Value> values) {
  SmallVector<Value> out;
  for (auto [i, value] : llvm::enumerate(values)) {
    Value v = value;
    Type want = c.resultType(i);
    if (v.getType() != want) {
      if (!tensor::CastOp::areCastCompatible(v.getType(), want))
        return c.fail("computed result type " + typeStr(v.getType()) +
                      " does not match the node's result type " + typeStr(want));
      v = tensor::CastOp::create(c.rewriter, c.loc, want, v);
    }
    out.push_back(v);
  }
  return c.replace(out);
}

//===----------------------------------------------------------------------===//
// Combiners
//===----------------------------------------------------------------------===//

Value addValues(OpBuilder &b, Location l, Value x, Value y) {
  if (isFloat(x.getType()))
    return arith::AddFOp::create(b, l, x, y);
  return arith::AddIOp::create(b, l, x, y);
}

Value mulValues(OpBuilder &b, Location l, Value x, Value y) {
  if (isFloat(x.getType()))
    return arith::MulFOp::create(b, l, x, y);
  return arith::MulIOp::create(b, l, x, y);
}

/// max (isMax) or min, NaN-propagating for floats, signed or unsigned for integers.
Value maxMin(OpBuilder &b, Location l, Value x, Value y, bool isMax, bool isUnsigned) {
  if (isFloat(x.getType())) {
    if (isMax)
      return arith::MaximumFOp::create(b, l, x, y);
    return arith::MinimumFOp::create(b, l, x, y);
  }
  if (isUnsigned)
    return isMax ? arith::MaxUIOp::create(b, l, x, y).getResult()
                 : arith::MinUIOp::create(b, l, x, y).getResult();
  return isMax ? arith::MaxSIOp::create(b, l, x, y).getResult()
               : arith::MinSIOp::create(b, l, x, y).getResult();
}

/// The identity of max (isMax) or min: -inf/+inf or the integer type's extreme value.
Value maxMinIdentity(OpBuilder &b, Location l, Type t, bool isMax, bool isUnsigned) {
  if (isFloat(t))
    return scalarConstant(b, l, t, isMax ? -INFINITY : INFINITY);
  unsigned w = t.getIntOrFloatBitWidth();
  if (isUnsigned)
    return intConstant(b, l, t, isMax ? APInt::getMinValue(w) : APInt::getMaxValue(w));
  return intConstant(b, l, t, isMax ? APInt::getSignedMinValue(w) : APInt::getSignedMaxValue(w));
}

Value extendTo(OpBuilder &b, Location l, Value v, Type t) {
  if (v.getType() == t)
    return v;
  return castScalar(b, l, v, t, false, false);
}

//===----------------------------------------------------------------------===//
// Reduce*
//===----------------------------------------------------------------------===//

enum class ReduceKind { Sum, Mean, Prod, Max, Min, L1, L2, LogSum, LogSumExp, SumSquare };

/// The sets of dimensions whose reduction turns `in` into `out` (with keepdims or without), one
/// representative per distinct set of non-unit dimensions (reducing a unit dimension or not gives
/// the same values). Empty when the shapes are not static or not related by a reduction.
SmallVector<SmallVector<int64_t>> candidateReducedDims(RankedTensorType in, RankedTensorType out,
                                                       bool keepdims) {
  SmallVector<SmallVector<int64_t>> found;
  if (!in || !out || !in.hasStaticShape() || !out.hasStaticShape())
    return found;
  int64_t rin = in.getRank(), rout = out.getRank();
  if (keepdims) {
    if (rin != rout)
      return found;
    SmallVector<int64_t> dims;
    for (int64_t d = 0; d < rin; ++d) {
      if (in.getDimSize(d) == out.getDimSize(d))
        continue;
      if (out.getDimSize(d) != 1)
        return found;
      dims.push_back(d);
    }
    found.push_back(dims);
    return found;
  }
  if (rout > rin || rin > 20)
    return found;
  SmallVector<uint32_t> nonUnitMasks;
  for (uint32_t mask = 0; mask < (1u << rin); ++mask) {
    if (llvm::popcount(mask) != rin - rout)
      continue;
    SmallVector<int64_t> removed, keptShape;
    uint32_t nonUnit = 0;
    for (int64_t d = 0; d < rin; ++d) {
      if (mask & (1u << d)) {
        removed.push_back(d);
        if (in.getDimSize(d) != 1)
          nonUnit |= 1u << d;
      } else {
        keptShape.push_back(in.getDimSize(d));
      }
    }
    if (ArrayRef<int64_t>(keptShape) != out.getShape() || llvm::is_contained(nonUnitMasks, nonUnit))
      continue;
    nonUnitMasks.push_back(nonUnit);
    found.push_back(removed);
  }
  return found;
}

/// Whether the Reduce* shapes leave unit dims undecided (dynamic dims): axes read at run time are
/// then matched by their full mask of named dimensions.
bool reduceShapesDynamic(RankedTensorType in, RankedTensorType out) {
  return !in || !out || !in.hasStaticShape() || !out.hasStaticShape();
}

/// With dynamic shapes, every set of reduced dimensions the ranks allow (any set with keepdims,
/// rank(in) - rank(out) dimensions without), the one empty axes mean first (every dimension, or
/// none with noop_with_empty_axes) when the ranks allow it. Empty above rank 6 (the switch
/// would grow too large).
SmallVector<SmallVector<int64_t>> candidateReducedDimsDynamic(RankedTensorType in,
                                                              RankedTensorType out, bool keepdims,
                                                              bool noop) {
  SmallVector<SmallVector<int64_t>> found;
  if (!in || !out || !reduceShapesDynamic(in, out))
    return found;
  int64_t rin = in.getRank(), rout = out.getRank();
  if (rin > 6 || (keepdims && rin != rout) || (!keepdims && rout > rin))
    return found;
  // Whether reducing `dims` can give the result type (dynamic dims match anything).
  auto fits = [&](ArrayRef<int64_t> dims) {
    SmallVector<int64_t> shape;
    for (int64_t d = 0; d < rin; ++d) {
      bool reduced = llvm::is_contained(dims, d);
      if (reduced && keepdims)
        shape.push_back(1);
      else if (!reduced)
        shape.push_back(in.getDimSize(d));
    }
    return succeeded(verifyCompatibleShape(shape, out.getShape()));
  };
  SmallVector<int64_t> emptyMeaning;
  if (!noop)
    emptyMeaning = llvm::to_vector(llvm::seq<int64_t>(0, rin));
  if (fits(emptyMeaning))
    found.push_back(emptyMeaning);
  for (uint32_t mask = 1; mask < (1u << rin); ++mask) {
    SmallVector<int64_t> dims;
    for (int64_t d = 0; d < rin; ++d)
      if (mask & (1u << d))
        dims.push_back(d);
    if ((!found.empty() && dims == found.front()) || !fits(dims))
      continue;
    found.push_back(dims);
  }
  return found;
}

/// Bit mask of the non-unit dimensions among `dims` of `type`.
uint64_t nonUnitMask(RankedTensorType type, ArrayRef<int64_t> dims) {
  uint64_t m = 0;
  for (int64_t d : dims)
    if (type.getDimSize(d) != 1)
      m |= uint64_t(1) << d;
  return m;
}

/// The reduced dimensions of a Reduce* node. `axesFromInput` selects the opset form that reads
/// the axes from input 1 (with noop_with_empty_axes) instead of the `axes` attribute. Returns one
/// set, or, for axes computed at run time, every set the static input and result shapes allow
/// (the caller selects among them at run time).
FailureOr<SmallVector<SmallVector<int64_t>>> reduceDims(NodeContext &c, int64_t rank,
                                                        bool axesFromInput) {
  SmallVector<int64_t> axes;
  bool noop = false;
  if (axesFromInput) {
    noop = c.intAttr("noop_with_empty_axes", 0) != 0;
    auto axesType = c.inputType(1);
    bool knownEmpty = axesType && axesType.hasStaticShape() && axesType.getNumElements() == 0;
    if (c.hasInput(1) && !knownEmpty) {
      auto cst = getConstantInts(c.input(1));
      if (succeeded(cst)) {
        axes = *cst;
      } else {
        auto sets = candidateReducedDims(c.inputType(0), c.rankedResultType(0),
                                         c.intAttr("keepdims", 1) != 0);
        if (sets.empty())
          sets = candidateReducedDimsDynamic(c.inputType(0), c.rankedResultType(0),
                                             c.intAttr("keepdims", 1) != 0, noop);
        if (sets.empty()) {
          (void)c.fail("the axes input is not a constant and no set of reduced axes turns the "
                       "input shape into the result shape");
          return failure();
        }
        if (sets.size() > 1 && (!axesType || axesType.getRank() > 1 || rank > 63)) {
          (void)c.fail("the axes input is not a constant and not a 1-D tensor");
          return failure();
        }
        return sets;
      }
    }
  } else {
    axes = c.intsAttr("axes");
  }
  SmallVector<int64_t> dims;
  if (axes.empty()) {
    if (!noop)
      for (int64_t d = 0; d < rank; ++d)
        dims.push_back(d);
    return SmallVector<SmallVector<int64_t>>{dims};
  }
  for (int64_t a : axes) {
    auto d = normalizeAxis(a, rank);
    if (!d || rank == 0) {
      (void)c.fail("axis " + Twine(a) + " is out of range for an input of rank " + Twine(rank));
      return failure();
    }
    dims.push_back(*d);
  }
  return SmallVector<SmallVector<int64_t>>{dims};
}

/// Number of elements reduced over, as a scalar of type `t` (float or integer).
Value reducedCount(OpBuilder &b, Location l, const ReduceShape &s, Value input, Type t) {
  int64_t count = 1;
  bool dynamic = false;
  for (int64_t d : s.dims) {
    if (s.inType.isDynamicDim(d))
      dynamic = true;
    else
      count *= s.inType.getDimSize(d);
  }
  if (!dynamic)
    return scalarConstant(b, l, t, (double)count);
  Value n = arith::ConstantIndexOp::create(b, l, count);
  for (int64_t d : s.dims)
    if (s.inType.isDynamicDim(d))
      n = arith::MulIOp::create(b, l, n, tensor::DimOp::create(b, l, input, d));
  Value n64 = arith::IndexCastOp::create(b, l, b.getI64Type(), n);
  return castScalar(b, l, n64, t, false, false);
}

Value buildReduce(OpBuilder &b, Location l, ReduceKind kind, const ReduceShape &s, Value x,
                  bool u, bool keepdims);

/// A Reduce* node; `axesFromInput` as in reduceDims.
LogicalResult lowerReduce(NodeContext &c, ReduceKind kind, bool axesFromInput) {
  auto inType = c.inputType(0);
  if (!inType)
    return c.fail("input 0 is not a ranked tensor");
  Type elem = inType.getElementType();
  bool fp = isFloat(elem);
  bool u = c.isUnsignedInput(0);
  if (!fp && !isa<IntegerType>(elem))
    return c.fail("unsupported element type " + typeStr(elem));
  if (!fp && (kind == ReduceKind::LogSum || kind == ReduceKind::LogSumExp))
    return c.fail("only floating-point element types are supported");
  auto sets = reduceDims(c, inType.getRank(), axesFromInput);
  if (failed(sets))
    return failure();
  bool keepdims = c.intAttr("keepdims", 1) != 0;
  OpBuilder &b = c.rewriter;
  Location l = c.loc;
  Value x = c.input(0);
  if (sets->size() == 1)
    return finish(c, {buildReduce(b, l, kind, ReduceShape(inType, sets->front()), x, u, keepdims)});

  // Axes known only at run time, several candidate sets: switch on the mask of the non-unit
  // reduced dimensions. Axes that match no candidate (an invalid model: the result shape says
  // otherwise) select the first candidate.
  // With dynamic shapes the cases are the full masks of the named dimensions (mask 0, empty
  // axes, is the default: the first candidate).
  bool fullMask = reduceShapesDynamic(inType, c.rankedResultType(0));
  auto axesType = c.inputType(1);
  Type i64 = b.getI64Type();
  Value rank = intConstant(b, l, i64, APInt(64, inType.getRank()));
  auto orAxis = [&](OpBuilder &nb, Location nl, Value mask, Value a) -> Value {
    Value zero = intConstant(nb, nl, i64, APInt(64, 0));
    Value one = intConstant(nb, nl, i64, APInt(64, 1));
    a = castScalar(nb, nl, a, i64, false, false);
    Value neg = arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::slt, a, zero);
    a = arith::SelectOp::create(nb, nl, neg, arith::AddIOp::create(nb, nl, a, rank), a);
    return arith::OrIOp::create(nb, nl, mask, arith::ShLIOp::create(nb, nl, one, a));
  };
  Value mask = intConstant(b, l, i64, APInt(64, 0));
  if (axesType.hasStaticShape()) {
    for (int64_t j = 0; j < axesType.getNumElements(); ++j) {
      SmallVector<Value> idx;
      if (axesType.getRank() == 1)
        idx.push_back(arith::ConstantIndexOp::create(b, l, j));
      mask = orAxis(b, l, mask, tensor::ExtractOp::create(b, l, c.input(1), idx));
    }
  } else {
    Value lb = arith::ConstantIndexOp::create(b, l, 0), step = arith::ConstantIndexOp::create(b, l, 1);
    mask = scf::ForOp::create(b, l, lb, tensor::DimOp::create(b, l, c.input(1), 0), step,
                              ValueRange{mask},
                              [&](OpBuilder &nb, Location nl, Value j, ValueRange acc) {
                                Value a = tensor::ExtractOp::create(nb, nl, c.input(1), j);
                                scf::YieldOp::create(nb, nl, orAxis(nb, nl, acc[0], a));
                              })
               .getResult(0);
  }
  if (!fullMask) {
    uint64_t allNonUnit =
        nonUnitMask(inType, llvm::to_vector(llvm::seq<int64_t>(0, inType.getRank())));
    mask = arith::AndIOp::create(b, l, mask, intConstant(b, l, i64, APInt(64, allNonUnit)));
  }
  mask = arith::IndexCastOp::create(b, l, b.getIndexType(), mask);
  SmallVector<int64_t> cases;
  for (auto &set : llvm::drop_begin(*sets)) {
    int64_t m = 0;
    for (int64_t d : set)
      m |= int64_t(1) << d;
    cases.push_back(fullMask ? m : (int64_t)nonUnitMask(inType, set));
  }
  auto sw = scf::IndexSwitchOp::create(b, l, TypeRange{c.resultType(0)}, mask, cases,
                                       cases.size());
  {
    OpBuilder::InsertionGuard guard(b);
    for (auto [k, set] : llvm::enumerate(*sets)) {
      Region &region = k == 0 ? sw.getDefaultRegion() : sw.getCaseRegions()[k - 1];
      b.setInsertionPointToStart(&region.emplaceBlock());
      Value r = buildReduce(b, l, kind, ReduceShape(inType, set), x, u, keepdims);
      if (r.getType() != c.resultType(0))
        r = tensor::CastOp::create(b, l, c.resultType(0), r);
      scf::YieldOp::create(b, l, r);
    }
  }
  return finish(c, {sw.getResult(0)});
}

/// The reduction of `x` over `s.dims` for a Reduce* node of `kind`.
Value buildReduce(OpBuilder &b, Location l, ReduceKind kind, const ReduceShape &s, Value x,
                  bool u, bool keepdims) {
  Type elem = s.inType.getElementType();
  bool fp = isFloat(elem);
  Value r;
  if (kind == ReduceKind::Max || kind == ReduceKind::Min) {
    bool isMax = kind == ReduceKind::Max;
    r = buildReduceNamed(b, l, s, x, maxMinIdentity(b, l, elem, isMax, u),
                         [&](OpBuilder &nb, Location nl, Value v, Value acc) {
                           return maxMin(nb, nl, v, acc, isMax, u);
                         });
  } else if (kind == ReduceKind::LogSumExp) {
    // log(sum(exp(x - m))) + m with m the maximum (0 where it is infinite, so that all -inf
    // gives -inf and a +inf gives +inf rather than NaN).
    Type acc = accumulatorType(elem);
    Value m = buildReduceNamed(b, l, s, x, maxMinIdentity(b, l, elem, true, false),
                               [&](OpBuilder &nb, Location nl, Value v, Value a) {
                                 return maxMin(nb, nl, v, a, true, false);
                               });
    Value inf = scalarConstant(b, l, acc, INFINITY);
    Value zero = scalarConstant(b, l, acc, 0.0);
    auto safeShift = [&](OpBuilder &nb, Location nl, Value mv) -> Value {
      mv = extendTo(nb, nl, mv, acc);
      Value isInf = arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OEQ,
                                          math::AbsFOp::create(nb, nl, mv), inf);
      return arith::SelectOp::create(nb, nl, isInf, zero, mv);
    };
    Value sum = buildReduceGeneric(
        b, l, s, {x}, {m}, zero,
        [&](OpBuilder &nb, Location nl, ValueRange a, Value sacc) -> Value {
          Value d = arith::SubFOp::create(nb, nl, extendTo(nb, nl, a[0], acc),
                                          safeShift(nb, nl, a[1]));
          return arith::AddFOp::create(nb, nl, sacc, math::ExpOp::create(nb, nl, d));
        });
    r = mapReduced(b, l, {sum, m}, elem, [&](OpBuilder &nb, Location nl, ValueRange a) {
      Value v = arith::AddFOp::create(nb, nl, math::LogOp::create(nb, nl, a[0]),
                                      safeShift(nb, nl, a[1]));
      return extendTo(nb, nl, v, elem);
    });
  } else {
    Type acc = accumulatorType(elem);
    bool isProd = kind == ReduceKind::Prod;
    Value init = scalarConstant(b, l, acc, isProd ? 1.0 : 0.0);
    auto combine = [&](OpBuilder &nb, Location nl, Value v, Value a) {
      return isProd ? mulValues(nb, nl, a, v) : addValues(nb, nl, a, v);
    };
    bool hasPre = kind == ReduceKind::L1 || kind == ReduceKind::L2 ||
                  kind == ReduceKind::SumSquare || acc != elem;
    if (!hasPre) {
      r = buildReduceNamed(b, l, s, x, init, combine);
    } else {
      r = buildReduceGeneric(b, l, s, {x}, {}, init,
                             [&](OpBuilder &nb, Location nl, ValueRange a, Value av) {
                               Value v = extendTo(nb, nl, a[0], acc);
                               if (kind == ReduceKind::L1)
                                 v = fp ? math::AbsFOp::create(nb, nl, v).getResult()
                                        : u ? v : math::AbsIOp::create(nb, nl, v).getResult();
                               else if (kind == ReduceKind::L2 || kind == ReduceKind::SumSquare)
                                 v = mulValues(nb, nl, v, v);
                               return combine(nb, nl, v, av);
                             });
    }
    // The final elementwise step, back in the element type.
    Value count = kind == ReduceKind::Mean ? reducedCount(b, l, s, x, acc) : Value();
    bool needsPost = acc != elem || kind == ReduceKind::Mean || kind == ReduceKind::L2 ||
                     kind == ReduceKind::LogSum;
    if (needsPost)
      r = mapReduced(b, l, {r}, elem, [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
        Value v = a[0];
        switch (kind) {
        case ReduceKind::Mean:
          if (fp)
            v = arith::DivFOp::create(nb, nl, v, count);
          else if (u)
            v = arith::DivUIOp::create(nb, nl, v, count);
          else
            v = arith::DivSIOp::create(nb, nl, v, count);
          break;
        case ReduceKind::L2:
          if (fp) {
            v = math::SqrtOp::create(nb, nl, v);
          } else {
            // Integer L2 norms: the square root in f64, truncated like numpy's astype.
            Value f = castScalar(nb, nl, v, nb.getF64Type(), u, false);
            v = castScalar(nb, nl, math::SqrtOp::create(nb, nl, f), elem, false, u);
          }
          break;
        case ReduceKind::LogSum:
          v = math::LogOp::create(nb, nl, v);
          break;
        default:
          break;
        }
        return extendTo(nb, nl, v, elem);
      });
  }
  if (keepdims)
    r = expandKeepDims(b, l, s, r);
  return r;
}

//===----------------------------------------------------------------------===//
// Softmax, LogSoftmax, Hardmax, ArgMax, ArgMin
//===----------------------------------------------------------------------===//

/// The dimensions Softmax-like nodes normalize over: with `coerce2D` (before opset 13) [axis,
/// rank), the input being coerced to 2-D at `axis` (default 1), else {axis} (default -1). Also
/// checks that input 0 is a ranked float tensor.
FailureOr<SmallVector<int64_t>> softmaxDims(NodeContext &c, bool coerce2D) {
  auto inType = c.inputType(0);
  if (!inType)
    return c.fail("input 0 is not a ranked tensor");
  if (!isFloat(inType.getElementType()))
    return c.fail("only floating-point element types are supported");
  int64_t rank = inType.getRank();
  int64_t axis = c.intAttr("axis", coerce2D ? 1 : -1);
  if (rank == 0) {
    (void)c.fail("the input must have rank >= 1");
    return failure();
  }
  auto a = normalizeAxis(axis, rank);
  if (!a) {
    (void)c.fail("axis " + Twine(axis) + " is out of range for an input of rank " + Twine(rank));
    return failure();
  }
  SmallVector<int64_t> dims{*a};
  if (coerce2D)
    for (int64_t d = *a + 1; d < rank; ++d)
      dims.push_back(d);
  return dims;
}

LogicalResult lowerSoftmax(NodeContext &c, bool isLog, bool coerce2D) {
  auto dims = softmaxDims(c, coerce2D);
  if (failed(dims))
    return failure();
  auto inType = c.inputType(0);
  Type elem = inType.getElementType();
  ReduceShape s(inType, *dims);
  OpBuilder &b = c.rewriter;
  Location l = c.loc;
  Value x = c.input(0);
  Type acc = accumulatorType(elem);

  Value m = buildReduceNamed(b, l, s, x, maxMinIdentity(b, l, elem, true, false),
                             [&](OpBuilder &nb, Location nl, Value v, Value a) {
                               return maxMin(nb, nl, v, a, true, false);
                             });
  auto shifted = [&](OpBuilder &nb, Location nl, Value xv, Value mv) -> Value {
    return arith::SubFOp::create(nb, nl, extendTo(nb, nl, xv, acc), extendTo(nb, nl, mv, acc));
  };
  Value sum = buildReduceGeneric(
      b, l, s, {x}, {m}, scalarConstant(b, l, acc, 0.0),
      [&](OpBuilder &nb, Location nl, ValueRange a, Value sacc) -> Value {
        return arith::AddFOp::create(nb, nl, sacc,
                                     math::ExpOp::create(nb, nl, shifted(nb, nl, a[0], a[1])));
      });
  if (isLog)
    sum = mapReduced(b, l, {sum}, acc, [](OpBuilder &nb, Location nl, ValueRange a) -> Value {
      return math::LogOp::create(nb, nl, a[0]);
    });
  Value r = buildBroadcastGeneric(
      b, l, s, x, {x}, {m, sum}, elem, [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
        Value d = shifted(nb, nl, a[0], a[1]);
        Value v = isLog ? arith::SubFOp::create(nb, nl, d, a[2]).getResult()
                        : arith::DivFOp::create(nb, nl, math::ExpOp::create(nb, nl, d), a[2])
                              .getResult();
        return extendTo(nb, nl, v, elem);
      });
  return finish(c, {r});
}

/// Row-major linear index of the current iteration within the dimensions `s.dims` (inside a
/// linalg region), as i64. `sizes` holds the index-typed sizes of those dimensions.
Value linearIndex(OpBuilder &b, Location l, const ReduceShape &s, ArrayRef<Value> sizes) {
  Value lin;
  for (auto [k, d] : llvm::enumerate(s.dims)) {
    Value i = linalg::IndexOp::create(b, l, d);
    lin = lin ? arith::AddIOp::create(b, l, arith::MulIOp::create(b, l, lin, sizes[k]), i)
                    .getResult()
              : i;
  }
  return arith::IndexCastOp::create(b, l, b.getI64Type(), lin);
}

/// For each kept position, the linear index (within `s.dims`) of the first (or last) element
/// equal to the maximum (isMax) or minimum; NaN counts as the extreme value, as in numpy.
/// Returns the reduced-shape i64 tensor.
Value extremeIndex(OpBuilder &b, Location l, const ReduceShape &s, Value x, bool isMax,
                   bool last, bool isUnsigned) {
  Type elem = s.inType.getElementType();
  Value m = buildReduceNamed(b, l, s, x, maxMinIdentity(b, l, elem, isMax, isUnsigned),
                             [&](OpBuilder &nb, Location nl, Value v, Value a) {
                               return maxMin(nb, nl, v, a, isMax, isUnsigned);
                             });
  SmallVector<Value> sizes;
  for (int64_t d : s.dims)
    sizes.push_back(dimSize(b, l, x, d));
  Type i64 = b.getI64Type();
  APInt sentinel = last ? APInt(64, -1, true) : APInt::getSignedMaxValue(64);
  Value init = intConstant(b, l, i64, sentinel);
  return buildReduceGeneric(
      b, l, s, {x}, {m}, init, [&](OpBuilder &nb, Location nl, ValueRange a, Value acc) -> Value {
        Value match;
        if (isFloat(elem)) {
          Value eq = arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OEQ, a[0], a[1]);
          Value nan = arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::UNO, a[0], a[0]);
          match = arith::OrIOp::create(nb, nl, eq, nan);
        } else {
          match = arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::eq, a[0], a[1]);
        }
        Value cand = arith::SelectOp::create(nb, nl, match, linearIndex(nb, nl, s, sizes), init);
        if (last)
          return arith::MaxSIOp::create(nb, nl, acc, cand);
        return arith::MinSIOp::create(nb, nl, acc, cand);
      });
}

LogicalResult lowerArgExtreme(NodeContext &c, bool isMax) {
  auto inType = c.inputType(0);
  if (!inType)
    return c.fail("input 0 is not a ranked tensor");
  Type elem = inType.getElementType();
  if (!isFloat(elem) && !isa<IntegerType>(elem))
    return c.fail("unsupported element type " + typeStr(elem));
  int64_t rank = inType.getRank();
  int64_t axis = c.intAttr("axis", 0);
  auto a = normalizeAxis(axis, rank);
  if (!a || rank == 0)
    return c.fail("axis " + Twine(axis) + " is out of range for an input of rank " + Twine(rank));
  ReduceShape s(inType, {*a});
  bool last = c.intAttr("select_last_index", 0) != 0;
  Value r = extremeIndex(c.rewriter, c.loc, s, c.input(0), isMax, last, c.isUnsignedInput(0));
  if (c.intAttr("keepdims", 1) != 0)
    r = expandKeepDims(c.rewriter, c.loc, s, r);
  return finish(c, {r});
}

LogicalResult lowerHardmax(NodeContext &c, bool coerce2D) {
  auto dims = softmaxDims(c, coerce2D);
  if (failed(dims))
    return failure();
  auto inType = c.inputType(0);
  Type elem = inType.getElementType();
  ReduceShape s(inType, *dims);
  OpBuilder &b = c.rewriter;
  Location l = c.loc;
  Value x = c.input(0);
  Value first = extremeIndex(b, l, s, x, /*isMax=*/true, /*last=*/false, false);
  SmallVector<Value> sizes;
  for (int64_t d : s.dims)
    sizes.push_back(dimSize(b, l, x, d));
  Value one = scalarConstant(b, l, elem, 1.0), zero = scalarConstant(b, l, elem, 0.0);
  Value r = buildBroadcastGeneric(b, l, s, x, {}, {first}, elem,
                                  [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
                                    Value hit = arith::CmpIOp::create(
                                        nb, nl, arith::CmpIPredicate::eq,
                                        linearIndex(nb, nl, s, sizes), a[0]);
                                    return arith::SelectOp::create(nb, nl, hit, one, zero);
                                  });
  return finish(c, {r});
}

//===----------------------------------------------------------------------===//
// CumSum
//===----------------------------------------------------------------------===//

/// Inclusive or exclusive, forward or reverse running sum of `x` along `axis`: an scf.for over
/// the axis carrying the running sum of the slices seen so far.
Value buildCumSum(OpBuilder &b, Location l, Value x, int64_t axis, bool exclusive, bool reverse) {
  auto inType = cast<RankedTensorType>(x.getType());
  Type elem = inType.getElementType();
  int64_t rank = inType.getRank();
  ReduceShape s(inType, {axis});
  RankedTensorType sliceType = s.reducedType(elem);
  Value acc0 = createFilled(b, l, sliceType, scalarConstant(b, l, elem, 0.0),
                            s.reducedDynSizes(b, l, x));
  SmallVector<Value> dyn;
  for (int64_t d = 0; d < rank; ++d)
    if (inType.isDynamicDim(d))
      dyn.push_back(tensor::DimOp::create(b, l, x, d));
  Value out0 = createEmpty(b, l, inType, dyn);
  SmallVector<OpFoldResult> sizes, strides(rank, b.getIndexAttr(1));
  for (int64_t d = 0; d < rank; ++d) {
    if (d == axis)
      sizes.push_back(b.getIndexAttr(1));
    else if (inType.isDynamicDim(d))
      sizes.push_back(tensor::DimOp::create(b, l, x, d).getResult());
    else
      sizes.push_back(b.getIndexAttr(inType.getDimSize(d)));
  }
  Value n = dimSize(b, l, x, axis);
  Value zero = arith::ConstantIndexOp::create(b, l, 0);
  Value one = arith::ConstantIndexOp::create(b, l, 1);
  auto loop = scf::ForOp::create(
      b, l, zero, n, one, ValueRange{acc0, out0},
      [&](OpBuilder &nb, Location nl, Value iv, ValueRange args) {
        Value k = iv;
        if (reverse)
          k = arith::SubIOp::create(nb, nl, arith::SubIOp::create(nb, nl, n, one), iv);
        SmallVector<OpFoldResult> offsets(rank, nb.getIndexAttr(0));
        offsets[axis] = k;
        Value xs = tensor::ExtractSliceOp::create(nb, nl, sliceType, x, offsets, sizes, strides);
        Value acc = args[0];
        Value out = args[1];
        if (exclusive)
          out = tensor::InsertSliceOp::create(nb, nl, acc, out, offsets, sizes, strides);
        // Accumulate into the carried tensor itself (destination-passing style), so the loop's
        // yielded value bufferizes in place of its iteration argument.
        SmallVector<AffineMap> maps(2, nb.getMultiDimIdentityMap(rank - 1));
        SmallVector<utils::IteratorType> iters(rank - 1, utils::IteratorType::parallel);
        Value next = linalg::GenericOp::create(
                         nb, nl, sliceType, ValueRange{xs}, ValueRange{acc}, maps, iters,
                         [](OpBuilder &eb, Location el, ValueRange a) {
                           linalg::YieldOp::create(eb, el, addValues(eb, el, a[1], a[0]));
                         })
                         .getResult(0);
        if (!exclusive)
          out = tensor::InsertSliceOp::create(nb, nl, next, out, offsets, sizes, strides);
        scf::YieldOp::create(nb, nl, ValueRange{next, out});
      });
  return loop.getResult(1);
}

LogicalResult lowerCumSum(NodeContext &c) {
  auto inType = c.inputType(0);
  if (!inType)
    return c.fail("input 0 is not a ranked tensor");
  Type elem = inType.getElementType();
  if (!isFloat(elem) && !isa<IntegerType>(elem))
    return c.fail("unsupported element type " + typeStr(elem));
  int64_t rank = inType.getRank();
  if (rank == 0)
    return c.fail("the input must have rank >= 1");
  auto axisType = c.inputType(1);
  if (!axisType || !axisType.hasStaticShape() || axisType.getNumElements() != 1 ||
      !isa<IntegerType>(axisType.getElementType()))
    return c.fail("the axis input must be an integer tensor holding one value");
  bool exclusive = c.intAttr("exclusive", 0) != 0;
  bool reverse = c.intAttr("reverse", 0) != 0;
  OpBuilder &b = c.rewriter;
  Location l = c.loc;
  Value x = c.input(0);

  auto axisVals = getConstantInts(c.input(1));
  if (succeeded(axisVals) || rank == 1) {
    // A rank-1 input has only one valid axis, whatever the value.
    int64_t axisVal = succeeded(axisVals) ? (*axisVals)[0] : 0;
    auto axis = normalizeAxis(axisVal, rank);
    if (!axis)
      return c.fail("axis " + Twine(axisVal) + " is out of range for an input of rank " +
                    Twine(rank));
    return finish(c, {buildCumSum(b, l, x, *axis, exclusive, reverse)});
  }
  // The axis is only known at run time: switch over the valid axes. An out-of-range axis (an
  // invalid model) yields the input unchanged.
  SmallVector<Value> idx(axisType.getRank(), arith::ConstantIndexOp::create(b, l, 0));
  Value a = tensor::ExtractOp::create(b, l, c.input(1), idx);
  a = arith::IndexCastOp::create(b, l, b.getIndexType(), a);
  Value r = arith::ConstantIndexOp::create(b, l, rank);
  Value neg = arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, a,
                                    arith::ConstantIndexOp::create(b, l, 0));
  a = arith::SelectOp::create(b, l, neg, arith::AddIOp::create(b, l, a, r), a);
  SmallVector<int64_t> cases;
  for (int64_t d = 0; d < rank; ++d)
    cases.push_back(d);
  auto sw = scf::IndexSwitchOp::create(b, l, TypeRange{inType}, a, cases, cases.size());
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&sw.getDefaultRegion().emplaceBlock());
    scf::YieldOp::create(b, l, x);
    for (int64_t d = 0; d < rank; ++d) {
      b.setInsertionPointToStart(&sw.getCaseRegions()[d].emplaceBlock());
      scf::YieldOp::create(b, l, buildCumSum(b, l, x, d, exclusive, reverse));
    }
  }
  return finish(c, {sw.getResult(0)});
}

//===----------------------------------------------------------------------===//
// Einsum
//===----------------------------------------------------------------------===//

/// One operand's subscripts: a label per dimension; ellipsis dimensions get labels >= 256
/// numbered from the right (256 = the last ellipsis dimension), so they broadcast numpy-style.
struct EinsumTerm {
  SmallVector<int> labels;
  bool hasEllipsis = false;
};

/// Parses one term of an equation for an operand of `rank` (-1 for the output, where the
/// ellipsis width is `ellipsisRank`).
FailureOr<EinsumTerm> parseEinsumTerm(StringRef term, int64_t rank, int64_t ellipsisRank) {
  EinsumTerm t;
  SmallVector<int> before, after;
  size_t pos = term.find("...");
  StringRef head = pos == StringRef::npos ? term : term.substr(0, pos);
  StringRef tail = pos == StringRef::npos ? StringRef() : term.substr(pos + 3);
  if (tail.contains('.') || head.contains('.'))
    return failure();
  for (char ch : head) {
    if (!llvm::isAlpha(ch))
      return failure();
    before.push_back(ch);
  }
  for (char ch : tail) {
    if (!llvm::isAlpha(ch))
      return failure();
    after.push_back(ch);
  }
  int64_t named = before.size() + after.size();
  int64_t ell = 0;
  if (pos != StringRef::npos) {
    t.hasEllipsis = true;
    ell = rank >= 0 ? rank - named : ellipsisRank;
    if (ell < 0)
      return failure();
  } else if (rank >= 0 && named != rank) {
    return failure();
  }
  t.labels = before;
  for (int64_t e = ell - 1; e >= 0; --e)
    t.labels.push_back(256 + e);
  t.labels.append(after.begin(), after.end());
  return t;
}

LogicalResult lowerEinsum(NodeContext &c) {
  std::string eq = c.stringAttr("equation", "");
  std::string equation;
  for (char ch : eq)
    if (!std::isspace((unsigned char)ch))
      equation.push_back(ch);
  auto bad = [&](const Twine &why) {
    return c.fail("unsupported equation '" + eq + "': " + why);
  };
  StringRef eqRef(equation);
  auto [lhs, rhs] = eqRef.split("->");
  bool explicitOut = eqRef.contains("->");
  SmallVector<StringRef> terms;
  lhs.split(terms, ',');
  if (terms.size() != c.numInputs())
    return bad("it has " + Twine(terms.size()) + " input terms for " + Twine(c.numInputs()) +
               " inputs");
  auto resultType = c.rankedResultType(0);
  Type elem = resultType.getElementType();
  if (!isFloat(elem) && !isa<IntegerType>(elem))
    return c.fail("unsupported element type " + typeStr(elem));

  SmallVector<EinsumTerm> ins;
  SmallVector<RankedTensorType> inTypes;
  int64_t ellipsisRank = 0;
  std::map<int, int64_t> sizes; // label -> static size (or dynamic), sizes != 1 win
  std::map<int, std::pair<unsigned, int64_t>> source; // label -> (input, dim) for dynamic sizes
  std::map<int, int> counts;
  for (auto [i, term] : llvm::enumerate(terms)) {
    auto type = c.inputType(i);
    if (!type)
      return c.fail("input " + Twine(i) + " is not a ranked tensor");
    auto t = parseEinsumTerm(term, type.getRank(), 0);
    if (failed(t))
      return bad("term '" + term + "' does not match input " + Twine(i) + " of rank " +
                 Twine(type.getRank()));
    for (auto [d, lab] : llvm::enumerate(t->labels)) {
      int64_t sz = type.getDimSize(d);
      if (lab >= 256)
        ellipsisRank = std::max<int64_t>(ellipsisRank, lab - 255);
      auto it = sizes.find(lab);
      if (it == sizes.end() || it->second == 1 || ShapedType::isDynamic(it->second)) {
        if (it == sizes.end() || sz != 1) {
          sizes[lab] = sz;
          source[lab] = {(unsigned)i, (int64_t)d};
        }
      } else if (sz != 1 && !ShapedType::isDynamic(sz) && sz != it->second) {
        return bad("dimension sizes " + Twine(it->second) + " and " + Twine(sz) +
                   " of one subscript differ");
      }
      // Count each label once per operand occurrence for the implicit output.
      if (lab < 256)
        ++counts[lab];
    }
    ins.push_back(*t);
    inTypes.push_back(type);
  }
  EinsumTerm out;
  if (explicitOut) {
    auto t = parseEinsumTerm(rhs, -1, ellipsisRank);
    if (failed(t))
      return bad("the output term '" + rhs + "' is malformed");
    out = *t;
    // Without an ellipsis in the output, ellipsis dimensions are summed over.
    for (int lab : out.labels) {
      if (llvm::count(out.labels, lab) > 1)
        return bad("an output subscript is repeated");
      if (!sizes.count(lab))
        return bad("an output subscript does not appear in the inputs");
    }
  } else {
    for (int64_t e = ellipsisRank - 1; e >= 0; --e)
      out.labels.push_back(256 + e);
    for (auto [lab, n] : counts) // std::map: sorted by character code
      if (n == 1)
        out.labels.push_back(lab);
  }
  if ((int64_t)out.labels.size() != resultType.getRank())
    return bad("the output has " + Twine(out.labels.size()) +
               " dimensions but the result has rank " + Twine(resultType.getRank()));

  // Loops: the output dimensions in order, then the summed labels.
  SmallVector<int> loops(out.labels.begin(), out.labels.end());
  for (auto &t : ins)
    for (int lab : t.labels)
      if (!llvm::is_contained(loops, lab))
        loops.push_back(lab);
  MLIRContext *ctx = c.rewriter.getContext();
  auto loopIndex = [&](int lab) {
    return (unsigned)std::distance(loops.begin(), llvm::find(loops, lab));
  };
  SmallVector<AffineMap> maps;
  for (auto [i, t] : llvm::enumerate(ins)) {
    SmallVector<AffineExpr> exprs;
    for (auto [d, lab] : llvm::enumerate(t.labels)) {
      int64_t sz = inTypes[i].getDimSize(d);
      if (sz == 1 && sizes[lab] != 1)
        exprs.push_back(getAffineConstantExpr(0, ctx)); // broadcast
      else
        exprs.push_back(getAffineDimExpr(loopIndex(lab), ctx));
    }
    maps.push_back(AffineMap::get(loops.size(), 0, exprs, ctx));
  }
  SmallVector<AffineExpr> outExprs;
  SmallVector<Value> dyn;
  OpBuilder &b = c.rewriter;
  Location l = c.loc;
  for (auto [d, lab] : llvm::enumerate(out.labels)) {
    outExprs.push_back(getAffineDimExpr(d, ctx));
    int64_t want = resultType.getDimSize(d);
    if (!ShapedType::isDynamic(want) && !ShapedType::isDynamic(sizes[lab]) && want != sizes[lab])
      return bad("output dimension " + Twine(d) + " has size " + Twine(sizes[lab]) +
                 " but the result type says " + Twine(want));
    if (ShapedType::isDynamic(want)) {
      auto [inIdx, inDim] = source[lab];
      dyn.push_back(tensor::DimOp::create(b, l, c.input(inIdx), inDim));
    }
  }
  maps.push_back(AffineMap::get(loops.size(), 0, outExprs, ctx));
  SmallVector<utils::IteratorType> iters;
  for (size_t k = 0; k < loops.size(); ++k)
    iters.push_back(k < out.labels.size() ? utils::IteratorType::parallel
                                          : utils::IteratorType::reduction);
  Value init = createFilled(b, l, resultType, scalarConstant(b, l, elem, 0.0), dyn);
  SmallVector<Value> operands;
  for (unsigned i = 0; i < c.numInputs(); ++i)
    operands.push_back(c.input(i));
  auto op = linalg::GenericOp::create(
      b, l, resultType, operands, ValueRange{init}, maps, iters,
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value p = args[0];
        for (Value v : args.drop_front().drop_back())
          p = mulValues(nb, nl, p, v);
        linalg::YieldOp::create(nb, nl, addValues(nb, nl, args.back(), p));
      });
  return finish(c, {op.getResult(0)});
}

} // namespace

void registerReductionOps(OnnxHandlerTable &t) {
  // The axes are an attribute from opset 1, input 1 from `axesInputVersion` (13 for ReduceSum, 18
  // for the others).
  auto addReduce = [&](StringRef name, ReduceKind kind, int64_t axesInputVersion) {
    t.add(name, 1, [=](NodeContext &c) { return lowerReduce(c, kind, /*axesFromInput=*/false); });
    t.add(name, axesInputVersion,
          [=](NodeContext &c) { return lowerReduce(c, kind, /*axesFromInput=*/true); });
  };
  addReduce("ReduceSum", ReduceKind::Sum, 13);
  addReduce("ReduceMean", ReduceKind::Mean, 18);
  addReduce("ReduceProd", ReduceKind::Prod, 18);
  addReduce("ReduceMax", ReduceKind::Max, 18);
  addReduce("ReduceMin", ReduceKind::Min, 18);
  addReduce("ReduceL1", ReduceKind::L1, 18);
  addReduce("ReduceL2", ReduceKind::L2, 18);
  addReduce("ReduceLogSum", ReduceKind::LogSum, 18);
  addReduce("ReduceLogSumExp", ReduceKind::LogSumExp, 18);
  addReduce("ReduceSumSquare", ReduceKind::SumSquare, 18);

  // Before opset 13 the input is coerced to 2-D at 'axis'; from 13 one axis is normalized.
  for (bool coerce2D : {true, false}) {
    int64_t since = coerce2D ? 1 : 13;
    t.add("Softmax", since, [=](NodeContext &c) { return lowerSoftmax(c, false, coerce2D); });
    t.add("LogSoftmax", since, [=](NodeContext &c) { return lowerSoftmax(c, true, coerce2D); });
    t.add("Hardmax", since, [=](NodeContext &c) { return lowerHardmax(c, coerce2D); });
  }
  t.add("ArgMax", 1, [](NodeContext &c) { return lowerArgExtreme(c, /*isMax=*/true); });
  t.add("ArgMin", 1, [](NodeContext &c) { return lowerArgExtreme(c, /*isMax=*/false); });
  t.add("CumSum", 11, lowerCumSum);
  t.add("Einsum", 12, lowerEinsum);
}

} // namespace sparq::onnx
