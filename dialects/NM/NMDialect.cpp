//===- dialects/NM/NMDialect.cpp - sparq_nm dialect ---------------------------===//
#include "dialects/NM/NMDialect.h"

#include "dialects/Common/ConstantData.h"
#include "dialects/Common/ShapeCheck.h"
#include "sparq/Formats/PackedFormats.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace sparq::nm;
namespace fmt = sparq::formats;

#include "dialects/NM/NMDialect.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/NM/NMAttrs.cpp.inc"

void SparqNMDialect::initialize() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialects/NM/NMAttrs.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "dialects/NM/NMOps.cpp.inc"
      >();
  detail::addSchemeInterface(*this);
}

//===----------------------------------------------------------------------===//
// PatternAttr
//===----------------------------------------------------------------------===//

LogicalResult PatternAttr::verify(function_ref<InFlightDiagnostic()> emitError, unsigned n,
                                  unsigned m) {
  if (!fmt::nmValid(n, m))
    return emitError() << "N:M sparsity needs 1 <= N < M <= 16, got " << n << ":" << m;
  return success();
}

Attribute PatternAttr::parse(AsmParser &parser, Type) {
  unsigned n, m;
  if (parser.parseLess() || parser.parseInteger(n) || parser.parseColon() ||
      parser.parseInteger(m) || parser.parseGreater())
    return {};
  return getChecked([&] { return parser.emitError(parser.getNameLoc()); }, parser.getContext(), n,
                    m);
}

void PatternAttr::print(AsmPrinter &printer) const {
  printer << "<" << getN() << ":" << getM() << ">";
}

int64_t PatternAttr::keptPerRow(int64_t k) const {
  return ShapedType::isDynamic(k) ? k : (int64_t)fmt::nmKeptPerRow(k, getN(), getM());
}

int64_t PatternAttr::indexRowBytes(int64_t k) const {
  return ShapedType::isDynamic(k) ? k : (int64_t)fmt::nmIndexRowBytes(k, getN(), getM());
}

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

namespace {

LogicalResult verifyRank2(Operation *op, StringRef what, Type t) {
  if (cast<ShapedType>(t).getRank() != 2)
    return op->emitOpError() << what << " must be a 2-D [rows, K] weight, got rank "
                             << cast<ShapedType>(t).getRank();
  return success();
}

std::string patternText(PatternAttr p) {
  return std::to_string(p.getN()) + ":" + std::to_string(p.getM());
}

/// Checks packed values [rows, kept(K)] and indices [rows, indexBytes(K)] for reduction size k.
LogicalResult verifyPacked(Operation *op, PatternAttr pattern, int64_t rows, int64_t k,
                           Type values, Type indices) {
  std::string kText = sparq::formatShape({k});
  if (failed(sparq::verifyShape(op, "values", values, {rows, pattern.keptPerRow(k)},
                                "ceil(K/M)*N = " + sparq::formatShape({pattern.keptPerRow(k)}) +
                                    " kept values per row for " + patternText(pattern) +
                                    " and K = " + kText)))
    return failure();
  return sparq::verifyShape(op, "indices", indices, {rows, pattern.indexRowBytes(k)},
                            std::to_string(fmt::nmIndexBits(pattern.getM())) +
                                "-bit positions of the kept values of a row with K = " + kText);
}

} // namespace

//===----------------------------------------------------------------------===//
// PruneOp
//===----------------------------------------------------------------------===//

LogicalResult PruneOp::verify() { return verifyRank2(*this, "input", getInput().getType()); }

OpFoldResult PruneOp::fold(FoldAdaptor adaptor) {
  auto type = cast<RankedTensorType>(getResult().getType());
  if (!type.hasStaticShape() || !type.getElementType().isF32())
    return {};
  auto w = sparq::readElementsAsDouble(adaptor.getInput());
  if (!w)
    return {};
  int64_t rows = type.getDimSize(0), k = type.getDimSize(1);
  std::vector<float> in(w->begin(), w->end()), out(in.size());
  for (int64_t r = 0; r < rows; ++r)
    fmt::nmPruneRow(&in[r * k], k, getPattern().getN(), getPattern().getM(), &out[r * k]);
  return sparq::makeFloatConstant(type, out, "sparq_nm_pruned");
}

//===----------------------------------------------------------------------===//
// PackOp / UnpackOp
//===----------------------------------------------------------------------===//

LogicalResult PackOp::verify() {
  if (failed(verifyRank2(*this, "input", getInput().getType())))
    return failure();
  auto in = getInput().getType();
  if (getValues().getType().getElementType() != in.getElementType())
    return emitOpError("values must have the input's element type");
  return verifyPacked(*this, getPattern(), in.getDimSize(0), in.getDimSize(1),
                      getValues().getType(), getIndices().getType());
}

LogicalResult PackOp::fold(FoldAdaptor adaptor, SmallVectorImpl<OpFoldResult> &results) {
  auto in = getInput().getType();
  if (!in.hasStaticShape() || !in.getElementType().isF32())
    return failure();
  auto w = sparq::readElementsAsDouble(adaptor.getInput());
  if (!w)
    return failure();
  unsigned n = getPattern().getN(), m = getPattern().getM();
  int64_t rows = in.getDimSize(0), k = in.getDimSize(1);
  std::vector<float> dense(w->begin(), w->end());
  size_t kept = fmt::nmKeptPerRow(k, n, m), ib = fmt::nmIndexRowBytes(k, n, m);
  std::vector<float> values(rows * kept);
  std::vector<int8_t> indices(rows * ib);
  for (int64_t r = 0; r < rows; ++r)
    if (!fmt::nmPackRow(&dense[r * k], k, n, m, &values[r * kept],
                        reinterpret_cast<uint8_t *>(&indices[r * ib]))) {
      emitOpError("constant input row ") << r << " is not " << patternText(getPattern())
                                         << "-sparse (prune it first)";
      return failure();
    }
  results.push_back(sparq::makeFloatConstant(cast<RankedTensorType>(getValues().getType()),
                                             values, "sparq_nm_values"));
  results.push_back(sparq::makeI8Constant(cast<RankedTensorType>(getIndices().getType()), indices,
                                          "sparq_nm_indices"));
  return success();
}

LogicalResult UnpackOp::verify() {
  if (failed(verifyRank2(*this, "result", getResult().getType())))
    return failure();
  auto out = getResult().getType();
  if (getValues().getType().getElementType() != out.getElementType())
    return emitOpError("values must have the result's element type");
  return verifyPacked(*this, getPattern(), out.getDimSize(0), out.getDimSize(1),
                      getValues().getType(), getIndices().getType());
}

OpFoldResult UnpackOp::fold(FoldAdaptor adaptor) {
  if (auto pack = getValues().getDefiningOp<PackOp>())
    if (pack.getIndices() == getIndices() && pack.getPattern() == getPattern() &&
        pack.getInput().getType() == getResult().getType())
      return pack.getInput();
  auto type = cast<RankedTensorType>(getResult().getType());
  if (!type.hasStaticShape() || !type.getElementType().isF32())
    return {};
  auto v = sparq::readElementsAsDouble(adaptor.getValues());
  auto idx = sparq::readElementsAsInt(adaptor.getIndices());
  if (!v || !idx)
    return {};
  unsigned n = getPattern().getN(), m = getPattern().getM();
  int64_t rows = type.getDimSize(0), k = type.getDimSize(1);
  size_t kept = fmt::nmKeptPerRow(k, n, m), ib = fmt::nmIndexRowBytes(k, n, m);
  std::vector<float> values(v->begin(), v->end()), out(rows * k);
  std::vector<uint8_t> indices(idx->size());
  for (size_t i = 0; i < idx->size(); ++i)
    indices[i] = (uint8_t)(*idx)[i];
  for (int64_t r = 0; r < rows; ++r)
    fmt::nmUnpackRow(&values[r * kept], &indices[r * ib], k, n, m, &out[r * k]);
  return sparq::makeFloatConstant(type, out, "sparq_nm_dense");
}

Operation *SparqNMDialect::materializeConstant(OpBuilder &builder, Attribute value, Type type,
                                                 Location loc) {
  if (auto typed = dyn_cast<TypedAttr>(value))
    if (typed.getType() == type && arith::ConstantOp::isBuildableWith(typed, type))
      return arith::ConstantOp::create(builder, loc, type, typed);
  return nullptr;
}

#define GET_OP_CLASSES
#include "dialects/NM/NMOps.cpp.inc"
