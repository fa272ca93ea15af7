//===- dialects/ShiftAdd/ShiftAddDialect.cpp - sparq_shiftadd dialect ---------===//
#include "dialects/ShiftAdd/ShiftAddDialect.h"

#include "dialects/Common/ConstantData.h"
#include "dialects/Common/ShapeCheck.h"
#include "sparq/Formats/PackedFormats.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>

using namespace mlir;
using namespace sparq::shiftadd;
namespace fmt = sparq::formats;

#include "dialects/ShiftAdd/ShiftAddDialect.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/ShiftAdd/ShiftAddAttrs.cpp.inc"

void SparqShiftAddDialect::initialize() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialects/ShiftAdd/ShiftAddAttrs.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "dialects/ShiftAdd/ShiftAddOps.cpp.inc"
      >();
  detail::addSchemeInterface(*this);
}

LogicalResult BCQAttr::verify(function_ref<InFlightDiagnostic()> emitError, unsigned q,
                              int64_t group, bool) {
  if (q < 1 || q > 8)
    return emitError() << "the number of binary planes q must be in [1, 8], got " << q;
  if (group < 1)
    return emitError() << "the scale group size must be positive, got " << group;
  return success();
}

namespace {

int64_t rowBytes(int64_t k) {
  return ShapedType::isDynamic(k) ? k : (int64_t)fmt::bcqRowBytes(k);
}
int64_t groups(int64_t k, int64_t g) {
  return ShapedType::isDynamic(k) ? k : (int64_t)fmt::numGroups(k, g);
}

/// Checks codes [q, rows, ceil(K/8)] and scales [q, rows, ceil(K/group)].
LogicalResult verifyCodesAndScales(Operation *op, BCQAttr config, int64_t rows, int64_t k,
                                   Type codes, Type scales) {
  int64_t q = config.getQ();
  if (failed(sparq::verifyShape(op, "codes", codes, {q, rows, rowBytes(k)},
                                "q sign planes of ceil(K/8) bytes per row for K = " +
                                    sparq::formatShape({k}))))
    return failure();
  return sparq::verifyShape(op, "scales", scales, {q, rows, groups(k, config.getGroup())},
                            "one scale per plane, row and group of " +
                                std::to_string(config.getGroup()));
}

/// With pow2 scales, every constant scale must be a (signed) power of two.
LogicalResult verifyPow2(Operation *op, BCQAttr config, Value scales) {
  if (!config.getPow2())
    return success();
  Attribute attr;
  if (!matchPattern(scales, m_Constant(&attr)))
    return success();
  auto values = sparq::readElementsAsDouble(attr);
  if (!values)
    return success();
  for (size_t i = 0; i < values->size(); ++i) {
    double v = std::fabs((*values)[i]);
    int e;
    if (v != 0 && std::frexp(v, &e) != 0.5)
      return op->emitOpError("pow2 scales must be powers of two, but scale #")
             << i << " is " << (*values)[i];
  }
  return success();
}

} // namespace

LogicalResult PackSignsOp::verify() {
  auto in = getSigns().getType();
  if (in.getRank() != 3)
    return emitOpError("signs must be [q, rows, K], got rank ") << in.getRank();
  if (!in.isDynamicDim(0) && in.getDimSize(0) != getConfig().getQ())
    return emitOpError("signs hold ") << in.getDimSize(0) << " planes but the config has q = "
                                      << getConfig().getQ();
  return sparq::verifyShape(*this, "codes", getCodes().getType(),
                            {in.getDimSize(0), in.getDimSize(1), rowBytes(in.getDimSize(2))},
                            "ceil(K/8) bytes per row");
}

OpFoldResult PackSignsOp::fold(FoldAdaptor adaptor) {
  auto in = getSigns().getType();
  auto type = cast<RankedTensorType>(getCodes().getType());
  if (!in.hasStaticShape())
    return {};
  auto s = sparq::readElementsAsDouble(adaptor.getSigns());
  if (!s)
    return {};
  int64_t rows = in.getDimSize(0) * in.getDimSize(1), k = in.getDimSize(2);
  size_t rb = fmt::bcqRowBytes(k);
  std::vector<int8_t> out(rows * rb);
  for (int64_t r = 0; r < rows; ++r)
    fmt::bcqPackRow(&(*s)[r * k], k, reinterpret_cast<uint8_t *>(&out[r * rb]));
  return sparq::makeI8Constant(type, out, "sparq_shiftadd_codes");
}

LogicalResult DequantizeOp::verify() {
  auto out = getResult().getType();
  if (out.getRank() != 2)
    return emitOpError("result must be a 2-D [rows, K] weight, got rank ") << out.getRank();
  if (failed(verifyCodesAndScales(*this, getConfig(), out.getDimSize(0), out.getDimSize(1),
                                  getCodes().getType(), getScales().getType())))
    return failure();
  return verifyPow2(*this, getConfig(), getScales());
}

OpFoldResult DequantizeOp::fold(FoldAdaptor adaptor) {
  auto type = cast<RankedTensorType>(getResult().getType());
  if (!type.hasStaticShape() || !type.getElementType().isF32())
    return {};
  auto codes = sparq::readElementsAsInt(adaptor.getCodes());
  auto scales = sparq::readElementsAsDouble(adaptor.getScales());
  if (!codes || !scales)
    return {};
  int64_t rows = type.getDimSize(0), k = type.getDimSize(1), q = getConfig().getQ();
  int64_t g = getConfig().getGroup();
  size_t rb = fmt::bcqRowBytes(k), ng = fmt::numGroups(k, g);
  std::vector<float> w(rows * k, 0.0f);
  std::vector<uint8_t> row(rb);
  for (int64_t p = 0; p < q; ++p)
    for (int64_t r = 0; r < rows; ++r) {
      for (size_t b = 0; b < rb; ++b)
        row[b] = (uint8_t)(*codes)[(p * rows + r) * rb + b];
      for (int64_t c = 0; c < k; ++c)
        w[r * k + c] += (float)((*scales)[(p * rows + r) * ng + fmt::groupOf(c, g)] *
                                fmt::bcqSignAt(row.data(), c));
    }
  return sparq::makeFloatConstant(type, w, "sparq_shiftadd_dequantized");
}

Operation *SparqShiftAddDialect::materializeConstant(OpBuilder &builder, Attribute value, Type type,
                                                 Location loc) {
  if (auto typed = dyn_cast<TypedAttr>(value))
    if (typed.getType() == type && arith::ConstantOp::isBuildableWith(typed, type))
      return arith::ConstantOp::create(builder, loc, type, typed);
  return nullptr;
}

#define GET_OP_CLASSES
#include "dialects/ShiftAdd/ShiftAddOps.cpp.inc"
