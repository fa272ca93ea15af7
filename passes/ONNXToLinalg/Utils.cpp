//===- passes/ONNXToLinalg/Utils.cpp - helpers shared by ONNX handlers ---------===//
#include "passes/ONNXToLinalg/ONNXToLinalg.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/IR/AffineMap.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/Dialect/Utils/StructuredOpsUtils.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cstring>

using namespace mlir;

namespace sparq::onnx {

//===----------------------------------------------------------------------===//
// NodeContext
//===----------------------------------------------------------------------===//

bool NodeContext::hasInput(unsigned i) const {
  return i < operands.size() && !isa<NoneType>(operands[i].getType());
}

RankedTensorType NodeContext::inputType(unsigned i) const {
  if (!hasInput(i))
    return nullptr;
  return dyn_cast<RankedTensorType>(operands[i].getType());
}

Type NodeContext::onnxInputElementType(unsigned i) const {
  if (i >= op.getInputs().size())
    return nullptr;
  Type t = op.getInputs()[i].getType();
  if (auto st = dyn_cast<ShapedType>(t))
    return st.getElementType();
  return t;
}

bool NodeContext::isUnsignedInput(unsigned i) const {
  auto it = dyn_cast_or_null<IntegerType>(onnxInputElementType(i));
  return it && (it.isUnsigned() || it.getWidth() == 1);
}

Type NodeContext::resultType(unsigned i) const {
  return typeConverter.convertType(op->getResult(i).getType());
}

RankedTensorType NodeContext::rankedResultType(unsigned i) const {
  return dyn_cast_or_null<RankedTensorType>(resultType(i));
}

Type NodeContext::onnxResultElementType(unsigned i) const {
  Type t = op->getResult(i).getType();
  if (auto st = dyn_cast<ShapedType>(t))
    return st.getElementType();
  return t;
}

int64_t NodeContext::intAttr(StringRef name, int64_t dflt) const {
  if (auto a = dyn_cast_or_null<IntegerAttr>(attr(name)))
    return a.getInt();
  return dflt;
}

float NodeContext::floatAttr(StringRef name, float dflt) const {
  Attribute a = attr(name);
  if (auto f = dyn_cast_or_null<FloatAttr>(a))
    return f.getValueAsDouble();
  if (auto i = dyn_cast_or_null<IntegerAttr>(a))
    return i.getInt();
  return dflt;
}

std::string NodeContext::stringAttr(StringRef name, StringRef dflt) const {
  if (auto s = dyn_cast_or_null<StringAttr>(attr(name)))
    return s.getValue().str();
  return dflt.str();
}

SmallVector<int64_t> NodeContext::intsAttr(StringRef name, ArrayRef<int64_t> dflt) const {
  Attribute a = attr(name);
  if (auto arr = dyn_cast_or_null<DenseI64ArrayAttr>(a))
    return SmallVector<int64_t>(arr.asArrayRef());
  if (auto i = dyn_cast_or_null<IntegerAttr>(a))
    return {i.getInt()};
  return SmallVector<int64_t>(dflt);
}

SmallVector<float> NodeContext::floatsAttr(StringRef name) const {
  Attribute a = attr(name);
  if (auto arr = dyn_cast_or_null<DenseF32ArrayAttr>(a))
    return SmallVector<float>(arr.asArrayRef());
  if (auto f = dyn_cast_or_null<FloatAttr>(a))
    return {(float)f.getValueAsDouble()};
  return {};
}

LogicalResult NodeContext::fail(const Twine &msg) const {
  return op.emitError() << op.describe() << ": " << msg;
}

LogicalResult NodeContext::replace(ValueRange values) {
  // Absent optional outputs (OnnxHandlerTable::acceptAbsentOutputs) have no users.
  SmallVector<Value> all(values);
  for (auto [i, result] : llvm::enumerate(op->getResults()))
    if (isa<NoneType>(result.getType()))
      all[i] = NoneOp::create(rewriter, loc, result.getType()).getResult();
  rewriter.replaceOp(op, all);
  return success();
}

//===----------------------------------------------------------------------===//
// OnnxHandlerTable
//===----------------------------------------------------------------------===//

namespace {
/// The key of an operator in the table: its op_type in the default domain, `domain::op_type`
/// in any other.
std::string handlerKey(StringRef domain, StringRef opType) {
  if (domain.empty() || domain == "ai.onnx")
    return opType.str();
  return (domain + "::" + opType).str();
}
} // namespace

void OnnxHandlerTable::add(StringRef domain, StringRef opType, int64_t sinceVersion,
                           OnnxHandler handler) {
  auto &versions = handlers[handlerKey(domain, opType)];
  auto it = llvm::lower_bound(versions, sinceVersion,
                              [](const auto &entry, int64_t v) { return entry.first < v; });
  assert((it == versions.end() || it->first != sinceVersion) &&
         "ONNX handler registered twice for the same op_type and since-version");
  versions.insert(it, {sinceVersion, std::move(handler)});
}

const OnnxHandler *OnnxHandlerTable::lookup(StringRef domain, StringRef opType,
                                            int64_t opset) const {
  auto found = handlers.find(handlerKey(domain, opType));
  if (found == handlers.end())
    return nullptr;
  const auto &versions = found->second;
  // The last handler whose since-version is <= opset.
  auto it = llvm::upper_bound(versions, opset,
                              [](int64_t v, const auto &entry) { return v < entry.first; });
  return it == versions.begin() ? nullptr : &std::prev(it)->second;
}

std::optional<int64_t> OnnxHandlerTable::firstVersion(StringRef domain,
                                                      StringRef opType) const {
  auto found = handlers.find(handlerKey(domain, opType));
  if (found == handlers.end() || found->second.empty())
    return std::nullopt;
  return found->second.front().first;
}

//===----------------------------------------------------------------------===//
// Constants
//===----------------------------------------------------------------------===//

namespace {
/// Reads element `i` of raw little-endian storage of `elemType` as a double / int64.
template <typename T>
T readRaw(const char *data, Type elemType, size_t i, bool &ok) {
  ok = true;
  if (auto it = dyn_cast<IntegerType>(elemType)) {
    unsigned w = it.getWidth();
    unsigned bytes = w == 1 ? 1 : w / 8;
    const char *p = data + i * bytes;
    bool isUnsigned = it.isUnsigned() || w == 1;
    switch (bytes) {
    case 1: { uint8_t u; std::memcpy(&u, p, 1); return isUnsigned ? (T)u : (T)(int8_t)u; }
    case 2: { uint16_t u; std::memcpy(&u, p, 2); return isUnsigned ? (T)u : (T)(int16_t)u; }
    case 4: { uint32_t u; std::memcpy(&u, p, 4); return isUnsigned ? (T)u : (T)(int32_t)u; }
    case 8: { uint64_t u; std::memcpy(&u, p, 8); return isUnsigned ? (T)u : (T)(int64_t)u; }
    default: break;
    }
  } else if (elemType.isF32()) {
    float f; std::memcpy(&f, data + i * 4, 4); return (T)f;
  } else if (elemType.isF64()) {
    double f; std::memcpy(&f, data + i * 8, 8); return (T)f;
  }
  ok = false;
  return T();
}

template <typename T>
FailureOr<SmallVector<T>> getConstantValues(Value v) {
  auto cst = v.getDefiningOp<arith::ConstantOp>();
  if (!cst)
    return failure();
  auto type = dyn_cast<ShapedType>(cst.getType());
  if (!type || !type.hasStaticShape())
    return failure();
  Type elemType = type.getElementType();
  SmallVector<T> out;
  if (auto dense = dyn_cast<DenseElementsAttr>(cst.getValue())) {
    if (isa<IntegerType>(elemType)) {
      bool isUnsigned = elemType.isUnsignedInteger() || elemType.isInteger(1);
      for (APInt x : dense.getValues<APInt>())
        out.push_back(isUnsigned ? (T)x.getZExtValue() : (T)x.getSExtValue());
    } else if (isa<FloatType>(elemType)) {
      for (APFloat x : dense.getValues<APFloat>())
        out.push_back((T)x.convertToDouble());
    } else {
      return failure();
    }
    return out;
  }
  if (auto res = dyn_cast<DenseResourceElementsAttr>(cst.getValue())) {
    AsmResourceBlob *blob = res.getRawHandle().getBlob();
    if (!blob)
      return failure();
    ArrayRef<char> data = blob->getData();
    int64_t n = type.getNumElements();
    for (int64_t i = 0; i < n; ++i) {
      bool ok;
      T x = readRaw<T>(data.data(), elemType, i, ok);
      if (!ok)
        return failure();
      out.push_back(x);
    }
    return out;
  }
  return failure();
}
} // namespace

FailureOr<SmallVector<int64_t>> getConstantInts(Value v) {
  return getConstantValues<int64_t>(v);
}

FailureOr<SmallVector<double>> getConstantFloats(Value v) {
  return getConstantValues<double>(v);
}

//===----------------------------------------------------------------------===//
// Builders
//===----------------------------------------------------------------------===//

Value createEmpty(OpBuilder &b, Location loc, RankedTensorType type, ValueRange dynSizes) {
  return tensor::EmptyOp::create(b, loc, type.getShape(), type.getElementType(), dynSizes);
}

Value createFilled(OpBuilder &b, Location loc, RankedTensorType type, Value value,
                   ValueRange dynSizes) {
  Value empty = createEmpty(b, loc, type, dynSizes);
  return linalg::FillOp::create(b, loc, value, empty).getResult(0);
}

int64_t product(ArrayRef<int64_t> v) {
  int64_t p = 1;
  for (int64_t x : v)
    p *= x;
  return p;
}

Value scalarConstant(OpBuilder &b, Location loc, Type type, double v) {
  if (auto ft = dyn_cast<FloatType>(type))
    return arith::ConstantOp::create(b, loc, b.getFloatAttr(ft, v));
  if (type.isIndex())
    return arith::ConstantIndexOp::create(b, loc, (int64_t)v);
  return arith::ConstantOp::create(b, loc, b.getIntegerAttr(type, (int64_t)v));
}

FailureOr<SmallVector<int64_t>> broadcastShapes(ArrayRef<SmallVector<int64_t>> shapes) {
  size_t rank = 0;
  for (auto &s : shapes)
    rank = std::max(rank, s.size());
  SmallVector<int64_t> out(rank, 1);
  for (auto &s : shapes) {
    size_t off = rank - s.size();
    for (size_t i = 0; i < s.size(); ++i) {
      int64_t d = s[i], &o = out[off + i];
      if (d == 1)
        continue;
      if (o == 1 || o == d)
        o = d;
      else if (ShapedType::isDynamic(o) || ShapedType::isDynamic(d))
        o = ShapedType::isDynamic(o) ? d : o;
      else
        return failure();
    }
  }
  return out;
}

Value buildElementwise(OpBuilder &b, Location loc, ValueRange inputs,
                       RankedTensorType resultType, ScalarBodyFn body) {
  int64_t rank = resultType.getRank();
  MLIRContext *ctx = b.getContext();
  SmallVector<AffineMap> maps;
  SmallVector<Value> dynSizes;
  SmallVector<Value> tensorInputs;
  for (Value in : inputs) {
    auto t = cast<RankedTensorType>(in.getType());
    SmallVector<AffineExpr> exprs;
    int64_t off = rank - t.getRank();
    for (int64_t i = 0; i < t.getRank(); ++i) {
      int64_t d = t.getDimSize(i);
      int64_t od = resultType.getDimSize(off + i);
      if (d == 1 && od != 1)
        exprs.push_back(getAffineConstantExpr(0, ctx));
      else
        exprs.push_back(getAffineDimExpr(off + i, ctx));
    }
    maps.push_back(AffineMap::get(rank, 0, exprs, ctx));
    tensorInputs.push_back(in);
  }
  for (int64_t i = 0; i < rank; ++i) {
    if (!resultType.isDynamicDim(i))
      continue;
    Value size;
    for (Value in : inputs) {
      auto t = cast<RankedTensorType>(in.getType());
      int64_t off = rank - t.getRank();
      if (i < off || t.getDimSize(i - off) == 1)
        continue;
      size = tensor::DimOp::create(b, loc, in, i - off);
      break;
    }
    if (!size)
      size = arith::ConstantIndexOp::create(b, loc, 1);
    dynSizes.push_back(size);
  }
  maps.push_back(b.getMultiDimIdentityMap(rank));
  Value init = createEmpty(b, loc, resultType, dynSizes);
  SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
  auto generic = linalg::GenericOp::create(
      b, loc, resultType, tensorInputs, ValueRange{init}, maps, iters,
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value r = body(nb, nl, args.drop_back());
        linalg::YieldOp::create(nb, nl, r);
      });
  return generic.getResult(0);
}

Value castScalar(OpBuilder &b, Location loc, Value v, Type dst, bool srcUnsigned,
                 bool dstUnsigned) {
  Type src = v.getType();
  if (src == dst)
    return v;
  auto srcF = dyn_cast<FloatType>(src);
  auto dstF = dyn_cast<FloatType>(dst);
  if (srcF && dstF) {
    if (srcF.getWidth() < dstF.getWidth())
      return arith::ExtFOp::create(b, loc, dst, v);
    if (srcF.getWidth() > dstF.getWidth())
      return arith::TruncFOp::create(b, loc, dst, v);
    // f16 <-> bf16: go through f32.
    Value f32 = arith::ExtFOp::create(b, loc, b.getF32Type(), v);
    return arith::TruncFOp::create(b, loc, dst, f32);
  }
  if (srcF) {
    if (dst.isInteger(1)) {
      Value zero = scalarConstant(b, loc, src, 0.0);
      return arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNE, v, zero);
    }
    if (dstUnsigned)
      return arith::FPToUIOp::create(b, loc, dst, v);
    return arith::FPToSIOp::create(b, loc, dst, v);
  }
  if (dstF) {
    if (srcUnsigned)
      return arith::UIToFPOp::create(b, loc, dst, v);
    return arith::SIToFPOp::create(b, loc, dst, v);
  }
  unsigned sw = src.getIntOrFloatBitWidth(), dw = dst.getIntOrFloatBitWidth();
  if (dw == 1) {
    Value zero = scalarConstant(b, loc, src, 0);
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, v, zero);
  }
  if (sw < dw) {
    if (srcUnsigned)
      return arith::ExtUIOp::create(b, loc, dst, v);
    return arith::ExtSIOp::create(b, loc, dst, v);
  }
  if (sw > dw)
    return arith::TruncIOp::create(b, loc, dst, v);
  return v;
}

std::optional<int64_t> normalizeAxis(int64_t axis, int64_t rank) {
  if (axis < 0)
    axis += rank;
  if (axis < 0 || axis >= std::max<int64_t>(rank, 1))
    return std::nullopt;
  return axis;
}

FailureOr<int64_t> axisAttr(const NodeContext &c, int64_t rank, int64_t dflt) {
  int64_t axis = c.intAttr("axis", dflt);
  auto a = normalizeAxis(axis, rank);
  if (!a || rank == 0)
    return c.fail("attribute 'axis' = " + Twine(axis) + " is out of range for rank " + Twine(rank));
  return *a;
}

std::string joinInts(ArrayRef<int64_t> v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i)
    s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

} // namespace sparq::onnx

//===----------------------------------------------------------------------===//
// Linear / PoolingNorm group (Linear.cpp, PoolingNorm.cpp): static reshapes, padding and the
// sliding windows of convolutions and pools.
//===----------------------------------------------------------------------===//
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

namespace sparq::onnx {

LogicalResult requireStaticShape(const NodeContext &c, RankedTensorType t, const Twine &what) {
  if (!t || !t.hasStaticShape())
    return c.fail(what + " must have a static shape (pin input shapes with --input-shape)");
  return success();
}

Value reshapeStatic(OpBuilder &b, Location loc, Value v, ArrayRef<int64_t> shape) {
  auto src = cast<RankedTensorType>(v.getType());
  if (src.getShape() == shape)
    return v;
  auto dst = RankedTensorType::get(shape, src.getElementType());
  if (src.getRank() > dst.getRank()) {
    if (auto assoc = getReassociationIndicesForReshape(src, dst))
      return tensor::CollapseShapeOp::create(b, loc, dst, v, *assoc);
  } else if (src.getRank() < dst.getRank()) {
    if (auto assoc = getReassociationIndicesForReshape(dst, src))
      return tensor::ExpandShapeOp::create(b, loc, dst, v, *assoc);
  }
  // No single reassociation: through 1-D (or 0-D <-> 1-D).
  auto all = [](int64_t rank) {
    ReassociationIndices r;
    for (int64_t i = 0; i < rank; ++i)
      r.push_back(i);
    return SmallVector<ReassociationIndices>(rank ? 1 : 0, r);
  };
  auto flatType = RankedTensorType::get({src.getNumElements()}, src.getElementType());
  Value flat = v;
  if (src.getRank() != 1)
    flat = src.getRank() == 0
               ? tensor::ExpandShapeOp::create(b, loc, flatType, v, all(0)).getResult()
               : tensor::CollapseShapeOp::create(b, loc, flatType, v, all(src.getRank()))
                     .getResult();
  if (dst.getRank() == 1)
    return flat;
  if (dst.getRank() == 0)
    return tensor::CollapseShapeOp::create(b, loc, dst, flat, all(0));
  return tensor::ExpandShapeOp::create(b, loc, dst, flat, all(dst.getRank()));
}

Value padStatic(OpBuilder &b, Location loc, Value v, ArrayRef<int64_t> lo, ArrayRef<int64_t> hi,
                Value padValue) {
  return padDynamic(b, loc, v, getAsIndexOpFoldResult(b.getContext(), lo),
                    getAsIndexOpFoldResult(b.getContext(), hi), padValue);
}

Value padDynamic(OpBuilder &b, Location loc, Value v, ArrayRef<OpFoldResult> lo,
                 ArrayRef<OpFoldResult> hi, Value padValue) {
  auto t = cast<RankedTensorType>(v.getType());
  SmallVector<int64_t> shape(t.getShape());
  bool none = true;
  for (int64_t i = 0; i < t.getRank(); ++i) {
    std::optional<int64_t> l = getConstantIntValue(lo[i]), h = getConstantIntValue(hi[i]);
    none = none && l == 0 && h == 0;
    if (!l || !h)
      shape[i] = ShapedType::kDynamic;
    else if (!t.isDynamicDim(i))
      shape[i] += *l + *h;
  }
  if (none)
    return v;
  return tensor::PadOp::create(b, loc, RankedTensorType::get(shape, t.getElementType()), v, lo,
                               hi, padValue);
}

namespace {
/// The window attributes of a node sliding over `n` spatial dims: strides, dilations, pads
/// (all checked for count and range) and auto_pad.
struct WindowAttrs {
  SmallVector<int64_t> strides, dilations, pads;
  std::string autoPad;
};
FailureOr<WindowAttrs> readWindowAttrs(const NodeContext &c, size_t n,
                                       ArrayRef<int64_t> staticKernel) {
  WindowAttrs a;
  a.strides = c.intsAttr("strides", SmallVector<int64_t>(n, 1));
  a.dilations = c.intsAttr("dilations", SmallVector<int64_t>(n, 1));
  a.pads = c.intsAttr("pads", SmallVector<int64_t>(2 * n, 0));
  auto checkCount = [&](StringRef name, ArrayRef<int64_t> v, size_t want) -> LogicalResult {
    if (v.size() == want)
      return success();
    return c.fail("attribute '" + name + "' has " + Twine(v.size()) + " entries, expected " +
                  Twine(want) + " for " + Twine(n) + " spatial dimensions");
  };
  auto checkMin = [&](StringRef name, ArrayRef<int64_t> v, int64_t min) -> LogicalResult {
    if (llvm::all_of(v, [&](int64_t x) { return x >= min; }))
      return success();
    return c.fail("attribute '" + name + "' = " + joinInts(v) + " has entries below " +
                  Twine(min));
  };
  if (failed(checkCount("kernel_shape", staticKernel, n)) ||
      failed(checkCount("strides", a.strides, n)) ||
      failed(checkCount("dilations", a.dilations, n)) ||
      failed(checkCount("pads", a.pads, 2 * n)) ||
      failed(checkMin("strides", a.strides, 1)) ||
      failed(checkMin("dilations", a.dilations, 1)) || failed(checkMin("pads", a.pads, 0)))
    return failure();
  for (int64_t k : staticKernel)
    if (!ShapedType::isDynamic(k) && k < 1)
      return c.fail("attribute 'kernel_shape' = " + joinInts(staticKernel) +
                    " has entries below 1");
  a.autoPad = c.stringAttr("auto_pad", "NOTSET");
  if (a.autoPad != "NOTSET" && a.autoPad != "VALID" && a.autoPad != "SAME_UPPER" &&
      a.autoPad != "SAME_LOWER")
    return c.fail("attribute 'auto_pad' = '" + a.autoPad + "' is not supported");
  return a;
}
} // namespace

FailureOr<DynamicWindow> readDynamicWindow(const NodeContext &c, Value x,
                                           ArrayRef<OpFoldResult> kernel, bool ceilMode) {
  OpBuilder &b = c.rewriter;
  Location l = c.loc;
  ScalarBuilder sb{b, l};
  auto in = cast<RankedTensorType>(x.getType());
  size_t n = in.getRank() - 2;
  SmallVector<int64_t> staticKernel;
  for (OpFoldResult k : kernel)
    staticKernel.push_back(getConstantIntValue(k).value_or(ShapedType::kDynamic));
  auto attrs = readWindowAttrs(c, n, staticKernel);
  if (failed(attrs))
    return failure();
  DynamicWindow w;
  w.strides = attrs->strides;
  w.dilations = attrs->dilations;
  auto idx = [&](OpFoldResult v) { return getValueOrCreateConstantIndexOp(b, l, v); };
  Value zero = sb.cIdx(0), one = sb.cIdx(1);
  for (size_t i = 0; i < n; ++i) {
    Value size = dimValue(b, l, x, 2 + i), s = sb.cIdx(w.strides[i]);
    Value k = idx(kernel[i]);
    w.kernel.push_back(k);
    Value extent = sb.add(sb.mul(sb.sub(k, one), sb.cIdx(w.dilations[i])), one);
    Value lo = sb.cIdx(attrs->pads[i]), hi = sb.cIdx(attrs->pads[n + i]);
    if (attrs->autoPad == "VALID") {
      lo = hi = zero;
    } else if (attrs->autoPad != "NOTSET") {
      // SAME: ceil(size / stride) outputs, the padding split (the odd one high or low).
      Value o = arith::CeilDivUIOp::create(b, l, size, s);
      Value total = sb.maxS(sb.sub(sb.add(sb.mul(sb.sub(o, one), s), extent), size), zero);
      Value half = arith::DivUIOp::create(b, l, total, sb.cIdx(2));
      lo = attrs->autoPad == "SAME_UPPER" ? half : sb.sub(total, half);
      hi = sb.sub(total, lo);
    }
    Value span = sb.add(sb.add(size, lo), hi);
    cf::AssertOp::create(b, l, sb.cmp(arith::CmpIPredicate::sge, span, extent),
                         c.op.describe() + ": the window is larger than the padded input along "
                                           "spatial dimension " + std::to_string(i));
    Value rest = sb.sub(span, extent);
    Value out = sb.add(arith::DivUIOp::create(b, l, rest, s), one);
    Value ceilHi = zero;
    if (ceilMode) {
      // Round up, but the last window must start inside the input or its low padding.
      Value up = sb.add(arith::CeilDivUIOp::create(b, l, rest, s), one);
      Value lastStart = sb.mul(sb.sub(up, one), s);
      out = sb.select(sb.cmp(arith::CmpIPredicate::sge, lastStart, sb.add(size, lo)),
                      sb.sub(up, one), up);
      ceilHi = sb.maxS(sb.sub(sb.add(sb.mul(sb.sub(out, one), s), extent), span), zero);
    }
    w.padLo.push_back(lo);
    w.padHi.push_back(hi);
    w.ceilHi.push_back(ceilHi);
    w.out.push_back(out);
  }
  return w;
}

FailureOr<SlidingWindow> readSlidingWindow(const NodeContext &c, RankedTensorType in,
                                           ArrayRef<int64_t> kernel, RankedTensorType out,
                                           bool ceilMode) {
  size_t n = in.getRank() - 2;
  auto attrs = readWindowAttrs(c, n, kernel);
  if (failed(attrs))
    return failure();
  SlidingWindow w;
  w.kernel.assign(kernel.begin(), kernel.end());
  w.strides = attrs->strides;
  w.dilations = attrs->dilations;
  const SmallVector<int64_t> &pads = attrs->pads;
  const std::string &autoPad = attrs->autoPad;
  w.padLo.assign(pads.begin(), pads.begin() + n);
  w.padHi.assign(pads.begin() + n, pads.end());
  for (size_t i = 0; i < n; ++i) {
    int64_t size = in.getDimSize(2 + i);
    int64_t extent = (w.kernel[i] - 1) * w.dilations[i] + 1;
    if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
      int64_t o = (size + w.strides[i] - 1) / w.strides[i];
      int64_t total = std::max<int64_t>((o - 1) * w.strides[i] + extent - size, 0);
      int64_t half = total / 2;
      w.padLo[i] = autoPad == "SAME_UPPER" ? half : total - half;
      w.padHi[i] = total - w.padLo[i];
    } else if (autoPad == "VALID") {
      w.padLo[i] = w.padHi[i] = 0;
    }
    int64_t span = size + w.padLo[i] + w.padHi[i];
    if (span < extent) {
      (void)c.fail("the window extent " + Twine(extent) + " along spatial dimension " + Twine(i) +
                   " exceeds the padded input size " + Twine(span));
      return failure();
    }
    int64_t floorOut = (span - extent) / w.strides[i] + 1;
    int64_t ceilOut = (span - extent + w.strides[i] - 1) / w.strides[i] + 1;
    int64_t o = out.getDimSize(2 + i);
    if (ceilMode ? (o < floorOut || o > ceilOut) : o != floorOut) {
      (void)c.fail("the result size " + Twine(o) + " along spatial dimension " + Twine(i) +
                   " does not match the window (expected " + Twine(ceilMode ? ceilOut : floorOut) +
                   ")");
      return failure();
    }
    w.ceilHi.push_back(std::max<int64_t>(0, (o - 1) * w.strides[i] + extent - span));
  }
  return w;
}

//===----------------------------------------------------------------------===//
// Shape / Indexing / ResizePad group (Shape.cpp, Indexing.cpp, ResizePad.cpp): index arithmetic,
// run-time sizes and elements, index-driven generics.
//===----------------------------------------------------------------------===//

Value toIndex(OpBuilder &b, Location l, Value v, bool isUnsigned) {
  Type t = v.getType();
  if (t.isIndex())
    return v;
  if (isa<FloatType>(t))
    v = arith::FPToSIOp::create(b, l, b.getI64Type(), v);
  else if (isUnsigned && t.getIntOrFloatBitWidth() < 64)
    v = arith::ExtUIOp::create(b, l, b.getI64Type(), v);
  return arith::IndexCastOp::create(b, l, b.getIndexType(), v);
}

Value fromIndex(OpBuilder &b, Location l, Value v, Type t) {
  return arith::IndexCastOp::create(b, l, t, v);
}

OpFoldResult dimOf(OpBuilder &b, Location l, Value v, int64_t d) {
  auto t = cast<RankedTensorType>(v.getType());
  if (!t.isDynamicDim(d))
    return b.getIndexAttr(t.getDimSize(d));
  return tensor::DimOp::create(b, l, v, d).getResult();
}
Value dimValue(OpBuilder &b, Location l, Value v, int64_t d) {
  return getValueOrCreateConstantIndexOp(b, l, dimOf(b, l, v, d));
}

SmallVector<Value> dynamicSizes(RankedTensorType type, function_ref<Value(int64_t)> dim) {
  SmallVector<Value> sizes;
  for (int64_t i = 0; i < type.getRank(); ++i)
    if (type.isDynamicDim(i))
      sizes.push_back(dim(i));
  return sizes;
}

Value extractElement(OpBuilder &b, Location l, Value t, int64_t i) {
  auto tt = cast<RankedTensorType>(t.getType());
  ScalarBuilder sb{b, l};
  SmallVector<Value> idx(tt.getRank());
  if (tt.hasStaticShape()) {
    for (int64_t d = tt.getRank() - 1; d >= 0; --d) {
      int64_t n = std::max<int64_t>(tt.getDimSize(d), 1);
      idx[d] = sb.cIdx(i % n);
      i /= n;
    }
  } else {
    // Row-major position i split by the run-time sizes (the outermost index takes the rest).
    Value rest = sb.cIdx(i);
    for (int64_t d = tt.getRank() - 1; d >= 0; --d) {
      if (d == 0) {
        idx[d] = rest;
        break;
      }
      Value n = dimValue(b, l, t, d);
      idx[d] = arith::RemUIOp::create(b, l, rest, n);
      rest = arith::DivUIOp::create(b, l, rest, n);
    }
  }
  return tensor::ExtractOp::create(b, l, t, idx);
}

Value castTo(OpBuilder &b, Location l, Value v, Type type) {
  if (v.getType() == type)
    return v;
  return tensor::CastOp::create(b, l, type, v);
}

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

Value broadcastAtRunTime(OpBuilder &b, Location loc, Value v, RankedTensorType type,
                         ValueRange dynSizes) {
  auto vt = cast<RankedTensorType>(v.getType());
  int64_t off = type.getRank() - vt.getRank();
  SmallVector<Value> isOne(vt.getRank());
  ScalarBuilder sb{b, loc};
  for (int64_t i = 0; i < vt.getRank(); ++i)
    if (vt.isDynamicDim(i))
      isOne[i] = sb.eq(dimValue(b, loc, v, i), sb.cIdx(1));
  return buildIndexedGeneric(
      b, loc, type, dynSizes, {}, {},
      [&](OpBuilder &nb, Location nl, ValueRange ivs, ValueRange) -> Value {
        ScalarBuilder s{nb, nl};
        SmallVector<Value> idx;
        for (int64_t i = 0; i < vt.getRank(); ++i) {
          if (vt.getDimSize(i) == 1)
            idx.push_back(s.cIdx(0));
          else if (isOne[i])
            idx.push_back(s.select(isOne[i], s.cIdx(0), ivs[off + i]));
          else
            idx.push_back(ivs[off + i]);
        }
        return tensor::ExtractOp::create(nb, nl, v, idx);
      });
}

std::optional<SmallVector<int64_t>> constInts(const NodeContext &c, unsigned i) {
  if (!c.hasInput(i))
    return std::nullopt;
  auto v = getConstantInts(c.input(i));
  if (failed(v))
    return std::nullopt;
  return *v;
}

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

Value isNonZero(OpBuilder &b, Location l, Value v) {
  Type t = v.getType();
  if (t.isInteger(1))
    return v;
  if (isa<FloatType>(t))
    return arith::CmpFOp::create(b, l, arith::CmpFPredicate::UNE, v, scalarConstant(b, l, t, 0.0));
  return ScalarBuilder{b, l}.cmp(arith::CmpIPredicate::ne, v, scalarConstant(b, l, t, 0.0));
}

Value scalarInput(NodeContext &c, unsigned i) {
  return extractElement(c.rewriter, c.loc, c.input(i), 0);
}

} // namespace sparq::onnx
