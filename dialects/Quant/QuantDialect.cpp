//===- dialects/Quant/QuantDialect.cpp - sparq_quant dialect -----------------===//
#include "dialects/Quant/QuantDialect.h"

#include "dialects/Common/ConstantData.h"
#include "dialects/Common/ShapeCheck.h"
#include "sparq/Formats/PackedFormats.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>

using namespace mlir;
using namespace sparq::quant;
namespace fmt = sparq::formats;

#include "dialects/Quant/QuantDialect.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/Quant/QuantAttrs.cpp.inc"

void SparqQuantDialect::initialize() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialects/Quant/QuantAttrs.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "dialects/Quant/QuantOps.cpp.inc"
      >();
  detail::addSchemeInterface(*this);
}

//===----------------------------------------------------------------------===//
// SchemeAttr
//===----------------------------------------------------------------------===//

Attribute SchemeAttr::parse(AsmParser &parser, Type) {
  unsigned bits;
  StringRef sign, sym;
  int64_t group = kPerChannel;
  if (parser.parseLess() || parser.parseKeyword("bits") || parser.parseEqual() ||
      parser.parseInteger(bits) || parser.parseComma() || parser.parseKeyword(&sign) ||
      parser.parseComma() || parser.parseKeyword(&sym) || parser.parseComma())
    return {};
  if (sign != "signed" && sign != "unsigned") {
    parser.emitError(parser.getNameLoc(), "expected 'signed' or 'unsigned', got '") << sign << "'";
    return {};
  }
  if (sym != "symmetric" && sym != "asymmetric") {
    parser.emitError(parser.getNameLoc(), "expected 'symmetric' or 'asymmetric', got '")
        << sym << "'";
    return {};
  }
  if (succeeded(parser.parseOptionalKeyword("per_tensor"))) {
    group = kPerTensor;
  } else if (succeeded(parser.parseOptionalKeyword("per_channel"))) {
    group = kPerChannel;
  } else if (parser.parseKeyword("group") || parser.parseEqual() || parser.parseInteger(group)) {
    return {};
  }
  if (parser.parseGreater())
    return {};
  return getChecked([&] { return parser.emitError(parser.getNameLoc()); }, parser.getContext(),
                    bits, sign == "signed", sym == "symmetric", group);
}

void SchemeAttr::print(AsmPrinter &printer) const {
  printer << "<bits = " << getBits() << ", " << (getIsSigned() ? "signed" : "unsigned") << ", "
          << (getSymmetric() ? "symmetric" : "asymmetric") << ", ";
  if (isPerTensor())
    printer << "per_tensor";
  else if (isPerChannel())
    printer << "per_channel";
  else
    printer << "group = " << getGroup();
  printer << ">";
}

LogicalResult SchemeAttr::verify(function_ref<InFlightDiagnostic()> emitError, unsigned bits,
                                 bool isSigned, bool symmetric, int64_t group) {
  if (bits < 1 || bits > 8)
    return emitError() << "quantization bits must be in [1, 8], got " << bits;
  if (group < kPerTensor)
    return emitError() << "group size must be positive, got " << group;
  if (symmetric && !isSigned)
    return emitError() << "symmetric quantization needs signed codes (zero maps to code 0); use "
                          "'asymmetric' with unsigned codes";
  if (symmetric && bits < 2)
    return emitError() << "symmetric quantization needs at least 2 bits, got " << bits
                       << " (use sparq_shiftadd for binary weights)";
  return success();
}

SmallVector<int64_t, 2> SchemeAttr::paramShape(int64_t rows, int64_t k) const {
  if (isPerTensor())
    return {1, 1};
  if (isPerChannel() || ShapedType::isDynamic(k))
    return {rows, isPerChannel() ? 1 : ShapedType::kDynamic};
  return {rows, (int64_t)fmt::numGroups(k, getGroup())};
}

int SchemeAttr::minCode() const { return fmt::minValue(getBits(), getIsSigned()); }
int SchemeAttr::maxCode() const { return fmt::maxValue(getBits(), getIsSigned()); }

//===----------------------------------------------------------------------===//
// Op helpers
//===----------------------------------------------------------------------===//

namespace {

/// Verifies scales / zero points of a `[rows, k]` weight.
LogicalResult verifyParams(Operation *op, SchemeAttr scheme, int64_t rows, int64_t k,
                           Value scales, Value zeroPoints) {
  SmallVector<int64_t, 2> shape = scheme.paramShape(rows, k);
  std::string why = scheme.isPerTensor()    ? "per-tensor parameters"
                    : scheme.isPerChannel() ? "one parameter per row of a " +
                                                  sparq::formatShape({rows, k}) + " weight"
                                            : "one parameter per group of " +
                                                  std::to_string(scheme.getGroup()) + " of a " +
                                                  sparq::formatShape({rows, k}) + " weight";
  if (failed(sparq::verifyShape(op, "scales", scales.getType(), shape, why)))
    return failure();
  if (scheme.getSymmetric() && zeroPoints)
    return op->emitOpError("symmetric quantization takes no zero points");
  if (!scheme.getSymmetric() && !zeroPoints)
    return op->emitOpError("asymmetric quantization needs zero points");
  if (zeroPoints &&
      failed(sparq::verifyShape(op, "zero_points", zeroPoints.getType(), shape, why)))
    return failure();
  return success();
}

LogicalResult verifyRank2(Operation *op, StringRef what, Type t) {
  if (cast<ShapedType>(t).getRank() != 2)
    return op->emitOpError() << what << " must be a 2-D [rows, K] weight, got rank "
                             << cast<ShapedType>(t).getRank();
  return success();
}

int64_t packedBytes(int64_t k, unsigned bits) {
  return ShapedType::isDynamic(k) ? ShapedType::kDynamic : (int64_t)fmt::packedRowBytes(k, bits);
}

/// quantize / dequantize: a [rows, K] operand, a result of the same shape, parameters.
LogicalResult verifyElementwise(Operation *op, RankedTensorType in, Type result,
                                SchemeAttr scheme, Value scales, Value zeroPoints) {
  if (failed(verifyRank2(op, "input", in)))
    return failure();
  if (failed(sparq::verifyShape(op, "result", result, in.getShape(), "same shape as the input")))
    return failure();
  return verifyParams(op, scheme, in.getDimSize(0), in.getDimSize(1), scales, zeroPoints);
}

/// Constant scales and zero points (zero points reinterpreted per the scheme's signedness).
struct ConstParams {
  std::vector<double> scales;
  std::vector<int64_t> zeroPoints; ///< empty when symmetric
};
std::optional<ConstParams> readParams(SchemeAttr scheme, Attribute scales, Attribute zeroPoints,
                                      bool hasZeroPoints) {
  auto s = sparq::readElementsAsDouble(scales);
  if (!s)
    return std::nullopt;
  ConstParams p{std::move(*s), {}};
  if (hasZeroPoints) {
    auto z = sparq::readElementsAsInt(zeroPoints);
    if (!z)
      return std::nullopt;
    for (int64_t v : *z)
      p.zeroPoints.push_back(scheme.getIsSigned() ? v : (uint8_t)v);
  }
  return p;
}

/// Index of the scale / zero point of element (r, c) of a [rows, k] weight.
size_t paramIndex(SchemeAttr s, int64_t r, int64_t c, int64_t k) {
  if (s.isPerTensor())
    return 0;
  if (s.isPerChannel())
    return r;
  return r * fmt::numGroups(k, s.getGroup()) + fmt::groupOf(c, s.getGroup());
}

} // namespace

//===----------------------------------------------------------------------===//
// QuantizeOp / DequantizeOp
//===----------------------------------------------------------------------===//

LogicalResult QuantizeOp::verify() {
  return verifyElementwise(*this, getInput().getType(), getResult().getType(), getScheme(),
                           getScales(), getZeroPoints());
}

OpFoldResult QuantizeOp::fold(FoldAdaptor adaptor) {
  auto type = cast<RankedTensorType>(getResult().getType());
  if (!type.hasStaticShape())
    return {};
  auto w = sparq::readElementsAsDouble(adaptor.getInput());
  auto params = readParams(getScheme(), adaptor.getScales(), adaptor.getZeroPoints(),
                           (bool)getZeroPoints());
  if (!w || !params)
    return {};
  const std::vector<double> &s = params->scales;
  const std::vector<int64_t> &z = params->zeroPoints;
  SchemeAttr scheme = getScheme();
  int64_t rows = type.getDimSize(0), k = type.getDimSize(1);
  std::vector<int8_t> codes(rows * k);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < k; ++c) {
      size_t p = paramIndex(scheme, r, c, k);
      double scale = s[p];
      double q = scale == 0 ? 0 : std::nearbyint((*w)[r * k + c] / scale);
      q += z.empty() ? 0.0 : (double)z[p];
      q = std::min<double>(std::max<double>(q, scheme.minCode()), scheme.maxCode());
      codes[r * k + c] = static_cast<int8_t>(static_cast<int>(q));
    }
  return sparq::makeI8Constant(type, codes, "sparq_quant_codes");
}

LogicalResult DequantizeOp::verify() {
  return verifyElementwise(*this, getInput().getType(), getResult().getType(), getScheme(),
                           getScales(), getZeroPoints());
}

OpFoldResult DequantizeOp::fold(FoldAdaptor adaptor) {
  auto type = cast<RankedTensorType>(getResult().getType());
  if (!type.hasStaticShape() || !type.getElementType().isF32())
    return {};
  auto q = sparq::readElementsAsInt(adaptor.getInput());
  auto params = readParams(getScheme(), adaptor.getScales(), adaptor.getZeroPoints(),
                           (bool)getZeroPoints());
  if (!q || !params)
    return {};
  const std::vector<double> &s = params->scales;
  const std::vector<int64_t> &z = params->zeroPoints;
  SchemeAttr scheme = getScheme();
  int64_t rows = type.getDimSize(0), k = type.getDimSize(1);
  std::vector<float> w(rows * k);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < k; ++c) {
      size_t p = paramIndex(scheme, r, c, k);
      // Unsigned codes were stored in i8 bit patterns: reinterpret per the scheme.
      int64_t code = scheme.getIsSigned() ? (*q)[r * k + c] : (uint8_t)(*q)[r * k + c];
      int64_t zp = z.empty() ? 0 : z[p];
      w[r * k + c] = (float)((code - zp) * s[p]);
    }
  return sparq::makeFloatConstant(type, w, "sparq_quant_dequantized");
}

//===----------------------------------------------------------------------===//
// PackOp / UnpackOp
//===----------------------------------------------------------------------===//

LogicalResult PackOp::verify() {
  if (failed(verifyRank2(*this, "input", getInput().getType())))
    return failure();
  auto in = getInput().getType();
  unsigned bits = getScheme().getBits();
  return sparq::verifyShape(*this, "result", getResult().getType(),
                            {in.getDimSize(0), packedBytes(in.getDimSize(1), bits)},
                            "ceil(K * " + std::to_string(bits) + " / 8) bytes per row");
}

OpFoldResult PackOp::fold(FoldAdaptor adaptor) {
  auto inType = getInput().getType();
  auto type = cast<RankedTensorType>(getResult().getType());
  if (!inType.hasStaticShape() || !type.hasStaticShape())
    return {};
  auto q = sparq::readElementsAsInt(adaptor.getInput());
  if (!q)
    return {};
  SchemeAttr scheme = getScheme();
  unsigned bits = scheme.getBits();
  int64_t rows = inType.getDimSize(0), k = inType.getDimSize(1);
  size_t rowBytes = fmt::packedRowBytes(k, bits);
  std::vector<uint8_t> codes(k);
  std::vector<int8_t> out(rows * rowBytes);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < k; ++c) {
      int64_t v = (*q)[r * k + c];
      if (!scheme.getIsSigned())
        v = (uint8_t)v;
      if (v < scheme.minCode() || v > scheme.maxCode())
        return {}; // not representable: leave the op for the verifier of the producer to report
      codes[c] = fmt::encode((int)v, bits);
    }
    fmt::packCodes(codes.data(), k, bits, reinterpret_cast<uint8_t *>(&out[r * rowBytes]));
  }
  return sparq::makeI8Constant(type, out, "sparq_quant_packed");
}

LogicalResult UnpackOp::verify() {
  if (failed(verifyRank2(*this, "result", getResult().getType())))
    return failure();
  auto out = getResult().getType();
  unsigned bits = getScheme().getBits();
  return sparq::verifyShape(*this, "input", getInput().getType(),
                            {out.getDimSize(0), packedBytes(out.getDimSize(1), bits)},
                            "ceil(K * " + std::to_string(bits) + " / 8) bytes per row for K = " +
                                sparq::formatShape({out.getDimSize(1)}));
}

OpFoldResult UnpackOp::fold(FoldAdaptor adaptor) {
  if (auto pack = getInput().getDefiningOp<PackOp>())
    if (pack.getScheme() == getScheme() && pack.getInput().getType() == getResult().getType())
      return pack.getInput();
  auto type = cast<RankedTensorType>(getResult().getType());
  if (!type.hasStaticShape())
    return {};
  auto p = sparq::readElementsAsInt(adaptor.getInput());
  if (!p)
    return {};
  SchemeAttr scheme = getScheme();
  unsigned bits = scheme.getBits();
  int64_t rows = type.getDimSize(0), k = type.getDimSize(1);
  size_t rowBytes = fmt::packedRowBytes(k, bits);
  std::vector<uint8_t> row(rowBytes);
  std::vector<int8_t> out(rows * k);
  for (int64_t r = 0; r < rows; ++r) {
    for (size_t b = 0; b < rowBytes; ++b)
      row[b] = (uint8_t)(*p)[r * rowBytes + b];
    for (int64_t c = 0; c < k; ++c)
      out[r * k + c] = (int8_t)fmt::decode(fmt::codeAt(row.data(), c, bits), bits,
                                           scheme.getIsSigned());
  }
  return sparq::makeI8Constant(type, out, "sparq_quant_codes");
}

Operation *SparqQuantDialect::materializeConstant(OpBuilder &builder, Attribute value, Type type,
                                                 Location loc) {
  if (auto typed = dyn_cast<TypedAttr>(value))
    if (typed.getType() == type && arith::ConstantOp::isBuildableWith(typed, type))
      return arith::ConstantOp::create(builder, loc, type, typed);
  return nullptr;
}

#define GET_OP_CLASSES
#include "dialects/Quant/QuantOps.cpp.inc"
