//===- passes/ONNXToLinalg/ResizePad.cpp - Pad, Resize, Upsample and GridSample -----===//
//
// Pad with constant pads is tensor.pad (negative pads crop with tensor.extract_slice first); its
// edge and reflect modes, and pads read at run time, are a linalg.generic gathering with clamped or
// mirrored indices.
//
// Resize and Upsample build, per resized dimension, small tables over the output coordinate (the
// source indices of the taps and, for linear and cubic modes, their weights); one linalg.generic
// then gathers and blends the taps. Upsample and Resize-10 are Resize's legacy form: the
// 'asymmetric' coordinate transformation with the 'simple' nearest mode.
//
// GridSample reads its sampling points from the grid in one generic over the output and blends
// the taps there (nearest, bilinear, or bicubic with Resize's cubic weights).
//
//===----------------------------------------------------------------------===//
#include "passes/ONNXToLinalg/ONNXToLinalg.h"

#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

#include <cmath>

using namespace mlir;

namespace sparq::onnx {
namespace {

//===----------------------------------------------------------------------===//
// Pad
//===----------------------------------------------------------------------===//

/// Source index along one dimension of size `n` for output index `i` padded by `lo` in mode
/// edge (clamp) or reflect (mirror without repeating the border, periodic for any pad).
Value padSourceIndex(OpBuilder &b, Location l, StringRef mode, Value i, Value lo, Value n) {
  Value zero = ScalarBuilder{b, l}.cIdx(0), one = ScalarBuilder{b, l}.cIdx(1);
  Value j = ScalarBuilder{b, l}.sub(i, lo);
  Value nm1 = ScalarBuilder{b, l}.sub(n, one);
  if (mode == "edge")
    return ScalarBuilder{b, l}.clampS(j, zero, nm1);
  // reflect: period 2(n-1); j mod period into [0, period), then fold back. n == 1 -> 0.
  Value period =
      ScalarBuilder{b, l}.maxS(ScalarBuilder{b, l}.mul(nm1, ScalarBuilder{b, l}.cIdx(2)), one);
  Value m = arith::RemSIOp::create(b, l, j, period);
  m = ScalarBuilder{b, l}.select(ScalarBuilder{b, l}.cmp(arith::CmpIPredicate::slt, m, zero),
                                 ScalarBuilder{b, l}.add(m, period), m);
  Value folded =
      ScalarBuilder{b, l}.select(ScalarBuilder{b, l}.cmp(arith::CmpIPredicate::sgt, m, nm1),
                                 ScalarBuilder{b, l}.sub(period, m), m);
  return ScalarBuilder{b, l}.minS(folded, nm1);
}

/// The pads of a Pad node (nullopt: read at run time from input 1), the axes they apply to and
/// the constant value.
struct PadArgs {
  std::optional<SmallVector<int64_t>> pads;
  SmallVector<int64_t> axes;
  Value padValue;
};

/// Pad-1 and Pad-2: the pads (attribute `padsAttr`) and the constant 'value' are attributes; every
/// axis is padded.
FailureOr<PadArgs> padArgsFromAttrs(NodeContext &c, StringRef padsAttr, int64_t rank, Type et) {
  PadArgs a;
  a.pads = c.intsAttr(padsAttr);
  a.axes = llvm::to_vector(llvm::seq<int64_t>(0, rank));
  a.padValue = scalarConstant(c.rewriter, c.loc, et, c.floatAttr("value", 0.0f));
  return a;
}

/// Pad-11 and later: the pads, the constant value (used in mode 'constant') and, from Pad-18, the
/// axes are inputs 1 to 3.
FailureOr<PadArgs> padArgsFromInputs(NodeContext &c, StringRef mode, int64_t rank, Type et) {
  OpBuilder &b = c.rewriter;
  Location l = c.loc;
  if (!c.hasInput(1))
    return c.fail("the 'pads' input is required");
  PadArgs a;
  a.axes = llvm::to_vector(llvm::seq<int64_t>(0, rank));
  a.pads = constInts(c, 1);
  if (c.hasInput(2) && mode == "constant") {
    auto vt = c.inputType(2);
    if (!vt || vt.getNumElements() == 0)
      a.padValue = scalarConstant(b, l, et, 0.0);
    else
      a.padValue = scalarInput(c, 2);
  } else {
    a.padValue = scalarConstant(b, l, et, 0.0);
  }
  if (c.hasInput(3)) {
    auto axes = constInts(c, 3);
    if (!axes)
      return c.fail("the 'axes' input must be a constant");
    auto na = normalizeAxes(c, *axes, rank, "'axes'");
    if (failed(na))
      return failure();
    a.axes = *na;
  }
  return a;
}

/// Pad. `padsAttr` names the attribute holding the pads in Pad-1 ('paddings') and Pad-2 ('pads');
/// it is empty from Pad-11 on, where the pads are an input.
LogicalResult lowerPad(NodeContext &c, StringRef padsAttr) {
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
  FailureOr<PadArgs> args = padsAttr.empty() ? padArgsFromInputs(c, mode, rank, et)
                                             : padArgsFromAttrs(c, padsAttr, rank, et);
  if (failed(args))
    return failure();
  const std::optional<SmallVector<int64_t>> &pads = args->pads;
  ArrayRef<int64_t> axes = args->axes;
  Value padValue = args->padValue;
  int64_t nAxes = axes.size();
  auto pt = c.inputType(1); // the run-time pads (Pad-11 on)
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
            szs.push_back(ScalarBuilder{b, l}.sub(dimValue(b, l, data, d),
                                                  ScalarBuilder{b, l}.cIdx(cl + ch)));
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
      return ScalarBuilder{b, l}.add(dimValue(b, l, data, d),
                                     ScalarBuilder{b, l}.cIdx(lo[d] + hi[d]));
    });
    SmallVector<Value> dims;
    for (int64_t d = 0; d < rank; ++d)
      dims.push_back(dimValue(b, l, data, d));
    return c.replace(buildIndexedGeneric(
        b, l, rt, dyn, {}, {}, [&](OpBuilder &nb, Location nl, ValueRange ivs, ValueRange) {
          SmallVector<Value> idx(ivs);
          for (int64_t d = 0; d < rank; ++d)
            if (lo[d] != 0 || hi[d] != 0)
              idx[d] =
                  padSourceIndex(nb, nl, mode, ivs[d], ScalarBuilder{nb, nl}.cIdx(lo[d]), dims[d]);
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
          Value j = ScalarBuilder{nb, nl}.sub(ivs[d], lo[d]);
          Value ok = arith::AndIOp::create(
              nb, nl,
              ScalarBuilder{nb, nl}.cmp(arith::CmpIPredicate::sge, j,
                                        ScalarBuilder{nb, nl}.cIdx(0)),
              ScalarBuilder{nb, nl}.cmp(arith::CmpIPredicate::slt, j, dims[d]));
          inside = inside ? arith::AndIOp::create(nb, nl, inside, ok).getResult() : ok;
          idx[d] = padSourceIndex(nb, nl, "edge", ivs[d], lo[d], dims[d]);
        }
        Value v = tensor::ExtractOp::create(nb, nl, data, idx);
        return inside ? ScalarBuilder{nb, nl}.select(inside, v, padValue) : v;
      }));
}

//===----------------------------------------------------------------------===//
// Resize, Upsample
//===----------------------------------------------------------------------===//

/// The forms of Resize and Upsample.
enum class ResizeForm {
  /// Upsample up to opset 8: the 'scales' attribute, 'asymmetric' coordinates, 'simple' nearest.
  ScalesAttr,
  /// Upsample-9 and Resize-10: the scales are input 1; otherwise as ScalesAttr.
  ScalesInput,
  /// Resize-11 and later: roi, scales and sizes are inputs 1 to 3; the coordinate transformation
  /// and the nearest mode are attributes.
  Resize11,
};

/// The four weights of Keys' cubic convolution with parameter `a` for the taps at distances
/// 1+r, r, 1-r and 2-r from a point r (f64, in [0, 1)) past the second tap.
SmallVector<Value> keysCubicWeights(OpBuilder &b, Location l, Value r, double a) {
  auto c = [&](double v) -> Value { return arith::ConstantOp::create(b, l, b.getF64FloatAttr(v)); };
  auto mul = [&](Value x, Value y) -> Value { return arith::MulFOp::create(b, l, x, y); };
  auto add = [&](Value x, double v) -> Value { return arith::AddFOp::create(b, l, x, c(v)); };
  // outer (1 < |s| < 2): ((A s - 5A) s + 8A) s - 4A; inner: ((A+2) s - (A+3)) s s + 1
  auto outer = [&](Value s) { return add(mul(add(mul(add(mul(c(a), s), -5 * a), s), 8 * a), s), -4 * a); };
  auto inner = [&](Value s) { return add(mul(mul(add(mul(c(a + 2), s), -(a + 3)), s), s), 1.0); };
  Value omr = arith::SubFOp::create(b, l, c(1.0), r);
  return {outer(add(r, 1.0)), inner(r), inner(omr), outer(add(omr, 1.0))};
}

/// Per resized dimension, tables over the output coordinate: the `taps` source indices (i64)
/// and, for linear/cubic, their weights; the main generic then gathers and blends.
LogicalResult lowerResize(NodeContext &c, ResizeForm form) {
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
  bool legacy = form != ResizeForm::Resize11;
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
  bool sizesGiven = false;
  SmallVector<Value> runSize(rank); // output sizes read from 'sizes' at run time
  unsigned scalesIdx = legacy ? 1 : 2;
  if (form == ResizeForm::ScalesAttr) {
    auto s = c.floatsAttr("scales");
    if ((int64_t)s.size() != rank)
      return c.fail("attribute 'scales' must have " + Twine(rank) + " entries");
    for (int64_t d = 0; d < rank; ++d)
      scaleC[d] = s[d];
  } else if (auto st = c.inputType(scalesIdx);
             st && (!st.hasStaticShape() || st.getNumElements() != 0)) {
    if (st.getRank() != 1 ||
        (!st.isDynamicDim(0) && st.getNumElements() != (int64_t)axes.size()))
      return c.fail("'scales' must have " + Twine(axes.size()) + " entries");
    if (st.isDynamicDim(0)) // a run-time scales tensor: its length is checked then
      cf::AssertOp::create(b, l,
                           ScalarBuilder{b, l}.eq(dimValue(b, l, c.input(scalesIdx), 0),
                                                  ScalarBuilder{b, l}.cIdx(axes.size())),
                           c.op.describe() + ": 'scales' must have " +
                               std::to_string(axes.size()) + " entries");
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
    // sizes: the result type holds the static ones, the others are read at run time; the
    // scale is the size ratio.
    auto szt = c.inputType(3);
    if (!szt || szt.getRank() != 1 ||
        (!szt.isDynamicDim(0) && szt.getDimSize(0) != (int64_t)axes.size()))
      return c.fail("'sizes' must have " + Twine(axes.size()) + " entries");
    sizesGiven = true;
    for (auto [k, d] : llvm::enumerate(axes)) {
      if (!in.isDynamicDim(d) && !rt.isDynamicDim(d)) {
        scaleC[d] = (double)rt.getDimSize(d) / in.getDimSize(d);
        continue;
      }
      scaleC[d] = std::nullopt;
      runSize[d] = toIndex(b, l, extractElement(b, l, c.input(3), k), false);
    }
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
  // Sizes of dynamic dims are computed at run time: the input's, the output's from 'sizes' or
  // floor(input * scale) (times the roi's width for tf_crop_and_resize).
  SmallVector<int64_t> resized;
  SmallVector<bool> broadcastDim(rank, false);
  SmallVector<Value> inSize(rank), outSize(rank);
  ScalarBuilder sb{b, l};
  auto toF64 = [&](OpBuilder &nb, Location nl, Value i) -> Value {
    return arith::SIToFPOp::create(nb, nl, f64,
                                   arith::IndexCastOp::create(nb, nl, nb.getI64Type(), i));
  };
  for (int64_t d = 0; d < rank; ++d) {
    bool identity = scaleC[d] && *scaleC[d] == 1.0 && in.getDimSize(d) == rt.getDimSize(d) &&
                    ctm != "tf_half_pixel_for_nn" && !crop;
    if (identity && !in.isDynamicDim(d))
      continue;
    if (identity && rt.isDynamicDim(d) && !sizesGiven)
      continue; // scale 1 keeps the (run-time) size
    inSize[d] = dimValue(b, l, data, d);
    if (!rt.isDynamicDim(d)) {
      outSize[d] = sb.cIdx(rt.getDimSize(d));
    } else if (runSize[d]) {
      outSize[d] = runSize[d];
    } else {
      Value scale = scaleC[d] ? arith::ConstantOp::create(b, l, b.getF64FloatAttr(*scaleC[d]))
                              : scaleV[d];
      Value n = arith::MulFOp::create(b, l, toF64(b, l, inSize[d]), scale);
      if (crop)
        n = arith::MulFOp::create(b, l, n, arith::SubFOp::create(b, l, roiEnd[d], roiStart[d]));
      outSize[d] = arith::IndexCastOp::create(
          b, l, b.getIndexType(),
          arith::FPToSIOp::create(b, l, b.getI64Type(), math::FloorOp::create(b, l, n)));
    }
    if (!scaleC[d] && !scaleV[d]) // sizes given: the ratio of the run-time sizes
      scaleV[d] = arith::DivFOp::create(b, l, toF64(b, l, outSize[d]), toF64(b, l, inSize[d]));
    if (in.getDimSize(d) == 1)
      broadcastDim[d] = true;
    else
      resized.push_back(d);
  }
  SmallVector<Value> tables; // per resized dim: taps index tables, then taps weight tables
  SmallVector<AffineMap> tableMaps;
  for (int64_t d : resized) {
    int64_t outN = rt.getDimSize(d);
    SmallVector<Type> types(taps, RankedTensorType::get({outN}, b.getI64Type()));
    if (taps > 1)
      types.append(taps, RankedTensorType::get({outN}, wt));
    if (crop) // whether the source coordinate lies inside the input (i8: no i1 vectors)
      types.push_back(RankedTensorType::get({outN}, b.getI8Type()));
    Value inNf = toF64(b, l, inSize[d]), outNf = toF64(b, l, outSize[d]);
    Value inLast = arith::IndexCastOp::create(b, l, b.getI64Type(),
                                              sb.sub(inSize[d], sb.cIdx(1)));
    Value inLastF = arith::SIToFPOp::create(b, l, f64, inLast);
    SmallVector<Value> tableSizes;
    if (ShapedType::isDynamic(outN))
      tableSizes.push_back(outSize[d]);
    auto t = buildIndexedGeneric(
        b, l, types, tableSizes, {}, {},
        [&](OpBuilder &nb, Location nl, ValueRange ivs, ValueRange) -> SmallVector<Value> {
          Value x = arith::SIToFPOp::create(
              nb, nl, f64, arith::IndexCastOp::create(nb, nl, nb.getI64Type(), ivs[0]));
          Value scale = scaleC[d] ? f64c(nb, nl, *scaleC[d]) : scaleV[d];
          Value half = f64c(nb, nl, 0.5);
          Value outW = arith::MulFOp::create(nb, nl, scale, inNf);
          Value xo;
          if (crop) {
            Value one = f64c(nb, nl, 1.0), span = inLastF;
            Value width = arith::SubFOp::create(nb, nl, roiEnd[d], roiStart[d]);
            Value r = arith::DivFOp::create(
                nb, nl,
                arith::MulFOp::create(nb, nl, arith::MulFOp::create(nb, nl, x, width), span),
                arith::SubFOp::create(nb, nl, outW, one));
            Value single = arith::DivFOp::create(nb, nl, arith::MulFOp::create(nb, nl, width, span),
                                                 f64c(nb, nl, 2.0));
            Value isOne = arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OEQ, outW, one);
            xo = arith::AddFOp::create(nb, nl, ScalarBuilder{nb, nl}.select(isOne, single, r),
                                       arith::MulFOp::create(nb, nl, roiStart[d], span));
          } else if (ctm == "asymmetric") {
            xo = arith::DivFOp::create(nb, nl, x, scale);
          } else if (ctm == "align_corners") {
            Value one = f64c(nb, nl, 1.0);
            Value r = arith::DivFOp::create(
                nb, nl, arith::MulFOp::create(nb, nl, x, inLastF),
                arith::SubFOp::create(nb, nl, outW, one));
            Value isOne = arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OEQ, outW, one);
            xo = ScalarBuilder{nb, nl}.select(isOne, f64c(nb, nl, 0.0), r);
          } else {
            xo = arith::DivFOp::create(nb, nl, arith::AddFOp::create(nb, nl, x, half), scale);
            if (ctm == "tf_half_pixel_for_nn") {
              // (x + 0.5) / scale
            } else if (ctm == "half_pixel_symmetric") {
              Value adj = arith::DivFOp::create(nb, nl, outNf, outW);
              Value center = arith::DivFOp::create(nb, nl, inNf, f64c(nb, nl, 2.0));
              Value offset = arith::MulFOp::create(
                  nb, nl, center, arith::SubFOp::create(nb, nl, f64c(nb, nl, 1.0), adj));
              xo = arith::SubFOp::create(nb, nl, arith::AddFOp::create(nb, nl, offset, xo), half);
            } else {
              xo = arith::SubFOp::create(nb, nl, xo, half);
              if (ctm == "pytorch_half_pixel") {
                Value isOne = arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OEQ, outW,
                                                    f64c(nb, nl, 1.0));
                xo = ScalarBuilder{nb, nl}.select(isOne, f64c(nb, nl, -0.5), xo);
              }
            }
          }
          Value fl = math::FloorOp::create(nb, nl, xo);
          Value ratio = arith::SubFOp::create(nb, nl, xo, fl);
          Value x0 = arith::FPToSIOp::create(nb, nl, nb.getI64Type(), fl);
          auto i64c = [&](int64_t v) -> Value {
            return arith::ConstantOp::create(nb, nl, nb.getI64IntegerAttr(v));
          };
          Value lo = i64c(0), hi = inLast;
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
                  arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OLE, xo, inLastF));
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
            w = keysCubicWeights(nb, nl, ratio, cubicA);
            if (excludeOutside) {
              Value sum = f64c(nb, nl, 0.0);
              for (int64_t t = 0; t < taps; ++t) {
                Value inside = arith::AndIOp::create(
                    nb, nl, arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::sge, raw[t], lo),
                    arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::sle, raw[t], hi));
                w[t] = ScalarBuilder{nb, nl}.select(inside, w[t], f64c(nb, nl, 0.0));
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
      b, l, rt,
      dynamicSizes(rt, [&](int64_t d) { return outSize[d] ? outSize[d] : dimValue(b, l, data, d); }),
      tables,
      tableMaps, [&](OpBuilder &nb, Location nl, ValueRange ivs, ValueRange args) -> Value {
        int64_t k = resized.size();
        int64_t combos = 1;
        for (int64_t i = 0; i < k; ++i)
          combos *= taps;
        Value acc;
        SmallVector<Value> base(ivs);
        for (int64_t d = 0; d < rank; ++d)
          if (broadcastDim[d])
            base[d] = ScalarBuilder{nb, nl}.cIdx(0);
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
            acc = ScalarBuilder{nb, nl}.select(inside, acc, extrapolation);
          }
        return acc;
      });
  return c.replace(out);
}

/// GridSample (opset 16, 4-D): out[n][c][i][j] samples X[n][c] at the point grid[n][i][j] =
/// (x, y) in [-1, 1] coordinates (align_corners: -1 and 1 are the centres of the corner pixels,
/// else their outer edges), by nearest (round half to even), bilinear or bicubic (Keys, A =
/// -0.75) interpolation. A point outside [x_min, x_max] x [y_min, y_max] (the corner centres or
/// edges) is moved by 'border' (clamped to the corner centres) or 'reflection' (reflected
/// about the bounds) padding before the taps are taken; taps outside the image read 0
/// ('zeros'), the nearest edge pixel ('border') or their reflection ('reflection'). One generic
/// over the output; coordinates in f64.
LogicalResult lowerGridSample(NodeContext &c) {
  if (failed(requireRanked(c, 0, "the input")) || failed(requireRanked(c, 1, "the grid")))
    return failure();
  auto xt = c.inputType(0), gt = c.inputType(1);
  auto rt = c.rankedResultType(0);
  if (xt.getRank() != 4 || gt.getRank() != 4 || rt.getRank() != 4)
    return c.fail("only 4-D inputs (N, C, H, W) with grids (N, H_out, W_out, 2) are supported");
  if (!gt.isDynamicDim(3) && gt.getDimSize(3) != 2)
    return c.fail("the grid's last dimension must be 2, got " + Twine(gt.getDimSize(3)));
  if (!isa<FloatType>(xt.getElementType()) || !isa<FloatType>(gt.getElementType()))
    return c.fail("the input and the grid must be float tensors");
  std::string mode = c.stringAttr("mode", "bilinear");
  // Opset 20 renamed the modes (and allowed N-D inputs, which are refused above).
  if (mode == "linear")
    mode = "bilinear";
  else if (mode == "cubic")
    mode = "bicubic";
  std::string padding = c.stringAttr("padding_mode", "zeros");
  bool align = c.intAttr("align_corners", 0) != 0;
  if (mode != "bilinear" && mode != "nearest" && mode != "bicubic")
    return c.fail("attribute 'mode' = '" + mode +
                  "' is not bilinear (linear), nearest or bicubic (cubic)");
  if (padding != "zeros" && padding != "border" && padding != "reflection")
    return c.fail("attribute 'padding_mode' = '" + padding +
                  "' is not zeros, border or reflection");
  OpBuilder &b = c.rewriter;
  Location l = c.loc;
  Value x = c.input(0), grid = c.input(1);
  if (gt.isDynamicDim(3))
    cf::AssertOp::create(b, l,
                         ScalarBuilder{b, l}.eq(dimValue(b, l, grid, 3), ScalarBuilder{b, l}.cIdx(2)),
                         c.op.describe() + ": the grid's last dimension must be 2");
  Value hIdx = dimValue(b, l, x, 2), wIdx = dimValue(b, l, x, 3);
  auto dyn = dynamicSizes(rt, [&](int64_t i) {
    return i < 2 ? dimValue(b, l, x, i) : dimValue(b, l, grid, i - 1);
  });
  Type et = rt.getElementType();
  Value out = buildIndexedGeneric(
      b, l, rt, dyn, {}, {}, [&](OpBuilder &nb, Location nl, ValueRange ivs, ValueRange) -> Value {
        ScalarBuilder sb{nb, nl};
        Type f64 = nb.getF64Type(), i64 = nb.getI64Type();
        auto cf = [&](double v) -> Value { return arith::ConstantOp::create(nb, nl, nb.getF64FloatAttr(v)); };
        auto ci = [&](int64_t v) -> Value { return arith::ConstantOp::create(nb, nl, nb.getI64IntegerAttr(v)); };
        auto addf = [&](Value p, Value q) -> Value { return arith::AddFOp::create(nb, nl, p, q); };
        auto subf = [&](Value p, Value q) -> Value { return arith::SubFOp::create(nb, nl, p, q); };
        auto mulf = [&](Value p, Value q) -> Value { return arith::MulFOp::create(nb, nl, p, q); };
        auto cmpf = [&](arith::CmpFPredicate p, Value u, Value v) -> Value {
          return arith::CmpFOp::create(nb, nl, p, u, v);
        };
        auto cmpi = [&](arith::CmpIPredicate p, Value u, Value v) -> Value {
          return arith::CmpIOp::create(nb, nl, p, u, v);
        };
        auto selectv = [&](Value cond, Value u, Value v) { return sb.select(cond, u, v); };
        auto toF = [&](Value i) -> Value { return arith::SIToFPOp::create(nb, nl, f64, i); };
        auto floorI = [&](Value v) -> Value {
          return arith::FPToSIOp::create(nb, nl, i64, math::FloorOp::create(nb, nl, v));
        };
        Value hI = arith::IndexCastOp::create(nb, nl, i64, hIdx);
        Value wI = arith::IndexCastOp::create(nb, nl, i64, wIdx);
        Value hF = toF(hI), wF = toF(wI);
        Value n = ivs[0], ch = ivs[1];
        auto gridAt = [&](int64_t k) -> Value {
          Value v = tensor::ExtractOp::create(nb, nl, grid, ValueRange{n, ivs[2], ivs[3], sb.cIdx(k)});
          return arith::ExtFOp::create(nb, nl, f64, v).getResult();
        };
        // [-1, 1] to pixel coordinates.
        auto denormalize = [&](Value g, Value size) -> Value {
          Value g1 = addf(g, cf(1.0));
          return align ? mulf(mulf(g1, cf(0.5)), subf(size, cf(1.0)))
                       : mulf(subf(mulf(g1, size), cf(1.0)), cf(0.5));
        };
        Value px = denormalize(gridAt(0), wF), py = denormalize(gridAt(1), hF);
        Value xMin = cf(align ? 0.0 : -0.5), yMin = xMin;
        Value xMax = align ? subf(wF, cf(1.0)) : subf(wF, cf(0.5));
        Value yMax = align ? subf(hF, cf(1.0)) : subf(hF, cf(0.5));
        // Reflects v into [lo, hi] (repeatedly, as a mirror at each bound).
        auto reflect = [&](Value v, Value lo, Value hi) -> Value {
          Value range = subf(hi, lo);
          auto fold = [&](Value d, Value first, Value second, bool towardLo) -> Value {
            Value k = math::FloorOp::create(nb, nl, arith::DivFOp::create(nb, nl, d, range));
            Value rem = subf(d, mulf(k, range));
            Value half = math::FloorOp::create(nb, nl, mulf(k, cf(0.5)));
            Value even = cmpf(arith::CmpFPredicate::OEQ, subf(k, mulf(half, cf(2.0))), cf(0.0));
            Value a = towardLo ? addf(first, rem) : subf(first, rem);
            Value z = towardLo ? subf(second, rem) : addf(second, rem);
            return selectv(even, a, z);
          };
          Value below = fold(subf(lo, v), lo, hi, true);
          Value above = fold(subf(v, hi), hi, lo, false);
          return selectv(cmpf(arith::CmpFPredicate::OLT, v, lo), below,
                         selectv(cmpf(arith::CmpFPredicate::OGT, v, hi), above, v));
        };
        if (mode == "nearest") {
          px = math::RoundEvenOp::create(nb, nl, px);
          py = math::RoundEvenOp::create(nb, nl, py);
        }
        if (padding != "zeros") {
          Value outside = arith::OrIOp::create(
              nb, nl,
              arith::OrIOp::create(nb, nl, cmpf(arith::CmpFPredicate::OLT, px, xMin),
                                   cmpf(arith::CmpFPredicate::OGT, px, xMax)),
              arith::OrIOp::create(nb, nl, cmpf(arith::CmpFPredicate::OLT, py, yMin),
                                   cmpf(arith::CmpFPredicate::OGT, py, yMax)));
          Value mx, my;
          if (padding == "border") {
            mx = arith::MinimumFOp::create(nb, nl, arith::MaximumFOp::create(nb, nl, px, cf(0.0)),
                                           subf(wF, cf(1.0)));
            my = arith::MinimumFOp::create(nb, nl, arith::MaximumFOp::create(nb, nl, py, cf(0.0)),
                                           subf(hF, cf(1.0)));
          } else {
            mx = reflect(px, xMin, xMax);
            my = reflect(py, yMin, yMax);
          }
          px = selectv(outside, mx, px);
          py = selectv(outside, my, py);
        }
        // The pixel at integer (row, col), with the padding's rule outside the image.
        auto pixel = [&](Value row, Value col) -> Value {
          Value valid;
          if (padding == "zeros") {
            auto inRange = [&](Value i, Value size) -> Value {
              return arith::AndIOp::create(nb, nl, cmpi(arith::CmpIPredicate::sge, i, ci(0)),
                                           cmpi(arith::CmpIPredicate::slt, i, size));
            };
            valid = arith::AndIOp::create(nb, nl, inRange(row, hI), inRange(col, wI));
          } else if (padding == "reflection") {
            row = arith::FPToSIOp::create(nb, nl, i64, reflect(toF(row), yMin, yMax));
            col = arith::FPToSIOp::create(nb, nl, i64, reflect(toF(col), xMin, xMax));
          }
          // Clamped in every mode, so that no read leaves the image.
          auto clampI = [&](Value i, Value size) {
            return sb.clampS(i, ci(0), arith::SubIOp::create(nb, nl, size, ci(1)));
          };
          Value r = arith::IndexCastOp::create(nb, nl, nb.getIndexType(), clampI(row, hI));
          Value cc = arith::IndexCastOp::create(nb, nl, nb.getIndexType(), clampI(col, wI));
          Value v = tensor::ExtractOp::create(nb, nl, x, ValueRange{n, ch, r, cc});
          Value v64 = arith::ExtFOp::create(nb, nl, f64, v);
          return valid ? selectv(valid, v64, cf(0.0)) : v64;
        };
        Value result;
        if (mode == "nearest") {
          result = pixel(arith::FPToSIOp::create(nb, nl, i64, py),
                         arith::FPToSIOp::create(nb, nl, i64, px));
        } else if (mode == "bilinear") {
          Value x1 = floorI(px), y1 = floorI(py);
          Value x2 = arith::AddIOp::create(nb, nl, x1, ci(1));
          Value y2 = arith::AddIOp::create(nb, nl, y1, ci(1));
          Value dx1 = subf(px, toF(x1)), dx2 = subf(toF(x2), px);
          Value dy1 = subf(py, toF(y1)), dy2 = subf(toF(y2), py);
          Value top = addf(mulf(dx2, pixel(y1, x1)), mulf(dx1, pixel(y1, x2)));
          Value bottom = addf(mulf(dx2, pixel(y2, x1)), mulf(dx1, pixel(y2, x2)));
          result = addf(mulf(dy2, top), mulf(dy1, bottom));
        } else {
          Value x0 = arith::SubIOp::create(nb, nl, floorI(px), ci(1));
          Value y0 = arith::SubIOp::create(nb, nl, floorI(py), ci(1));
          SmallVector<Value> wx = keysCubicWeights(nb, nl, subf(subf(px, toF(x0)), cf(1.0)), -0.75);
          SmallVector<Value> wy = keysCubicWeights(nb, nl, subf(subf(py, toF(y0)), cf(1.0)), -0.75);
          result = cf(0.0);
          for (int64_t i = 0; i < 4; ++i) {
            Value rowSum = cf(0.0);
            Value row = arith::AddIOp::create(nb, nl, y0, ci(i));
            for (int64_t j = 0; j < 4; ++j)
              rowSum = addf(rowSum, mulf(wx[j], pixel(row, arith::AddIOp::create(nb, nl, x0, ci(j)))));
            result = addf(result, mulf(wy[i], rowSum));
          }
        }
        return arith::TruncFOp::create(nb, nl, et, result);
      });
  return c.replace(out);
}

} // namespace

void registerResizePadOps(OnnxHandlerTable &t) {
  t.add("GridSample", 16, lowerGridSample);
  // The pads are the attribute 'paddings' in Pad-1, 'pads' in Pad-2, input 1 from Pad-11.
  t.add("Pad", 1, [](NodeContext &c) { return lowerPad(c, "paddings"); });
  t.add("Pad", 2, [](NodeContext &c) { return lowerPad(c, "pads"); });
  t.add("Pad", 11, [](NodeContext &c) { return lowerPad(c, /*padsAttr=*/""); });
  t.add("Upsample", 1, [](NodeContext &c) { return lowerResize(c, ResizeForm::ScalesAttr); });
  t.add("Upsample", 9, [](NodeContext &c) { return lowerResize(c, ResizeForm::ScalesInput); });
  t.add("Resize", 10, [](NodeContext &c) { return lowerResize(c, ResizeForm::ScalesInput); });
  t.add("Resize", 11, [](NodeContext &c) { return lowerResize(c, ResizeForm::Resize11); });
}
} // namespace sparq::onnx
