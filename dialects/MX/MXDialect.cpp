//===- dialects/MX/MXDialect.cpp - sparq_mx dialect ---------------------------===//
//
// MXFP4 and NVFP4 as weight formats: packed operands, the host compressor (MXFormats.h), the
// reference decode (table lookups in a linalg.generic) and the `--scheme` tokens.
//
//===----------------------------------------------------------------------===//
#include "dialects/MX/MXDialect.h"

#include "dialects/Common/ScalarBuilder.h"
#include "dialects/MX/MXFormats.h"
#include "sparq/Formats/PackedFormats.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

#include <vector>

using namespace mlir;
using namespace sparq;
using namespace sparq::mx;
namespace fmt = sparq::formats;

#include "dialects/MX/MXDialect.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/MX/MXAttrs.cpp.inc"

namespace {

/// What distinguishes the two formats.
struct FP4Kind {
  size_t block;
  bool nv; ///< E4M3 block scales and a tensor scale (NVFP4), else E8M0 (MXFP4)
};

void fp4Operands(MLIRContext *ctx, FP4Kind kind, int64_t rows, int64_t k,
                 SmallVectorImpl<Type> &types, SmallVectorImpl<std::string> &names) {
  Type i8 = IntegerType::get(ctx, 8);
  types.push_back(RankedTensorType::get({rows, (int64_t)fmt::packedRowBytes(k, 4)}, i8));
  names.push_back("codes");
  types.push_back(RankedTensorType::get({rows, (int64_t)fmt::numGroups(k, kind.block)}, i8));
  names.push_back("scales");
  if (kind.nv) {
    types.push_back(RankedTensorType::get({1}, Float32Type::get(ctx)));
    names.push_back("tensor_scale");
  }
}

weight::HostPart fp4Compress(FP4Kind kind, ArrayRef<float> w, int64_t rows, int64_t k) {
  size_t blocks = fmt::numGroups(k, kind.block), rowBytes = fmt::packedRowBytes(k, 4);
  std::vector<int8_t> codes(rows * rowBytes), scales(rows * blocks);
  std::vector<float> dequantized(rows * k);
  float g = 1.0f;
  if (kind.nv) {
    float amax = 0;
    for (float v : w)
      amax = std::fmax(amax, std::fabs(v));
    g = nvfp4TensorScale(amax);
  }
  std::vector<uint8_t> rowCodes(k);
  for (int64_t r = 0; r < rows; ++r) {
    const float *x = &w[r * k];
    for (size_t b = 0; b < blocks; ++b) {
      size_t begin = b * kind.block, n = std::min<size_t>(kind.block, k - begin);
      uint8_t s = kind.nv ? nvfp4BlockScale(x + begin, n, g) : mxfp4BlockScale(x + begin, n);
      float scale = kind.nv ? e4m3Value(s) * g : e8m0Value(s);
      scales[r * blocks + b] = static_cast<int8_t>(s);
      for (size_t i = begin; i < begin + n; ++i) {
        rowCodes[i] = scale > 0 ? e2m1Encode(x[i] / scale) : 0;
        dequantized[r * k + i] = e2m1Value(rowCodes[i]) * scale;
      }
    }
    fmt::packCodes(rowCodes.data(), k, 4, reinterpret_cast<uint8_t *>(&codes[r * rowBytes]));
  }
  weight::HostPart part;
  part.packed.push_back(weight::toBytes(codes));
  part.packed.push_back(weight::toBytes(scales));
  if (kind.nv)
    part.packed.push_back(weight::toBytes(std::vector<float>{g}));
  part.values = std::move(dequantized);
  return part;
}

/// A 1-D f32 constant table of `n` entries `f(i)`.
Value table(OpBuilder &b, Location loc, int64_t n, float (*f)(uint8_t)) {
  std::vector<float> values(n);
  for (int64_t i = 0; i < n; ++i)
    values[i] = f(static_cast<uint8_t>(i));
  auto type = RankedTensorType::get({n}, b.getF32Type());
  return arith::ConstantOp::create(b, loc, DenseElementsAttr::get(type, ArrayRef<float>(values)));
}

Value fp4Decode(FP4Kind kind, OpBuilder &b, Location loc, ValueRange packed, int64_t rows,
                int64_t k, Type floatType) {
  Value elements = table(b, loc, 16, e2m1Value);
  Value scaleTable = table(b, loc, 256, kind.nv ? e4m3Value : e8m0Value);
  Value codes = packed[0], scales = packed[1];
  Value tensorScale = kind.nv ? packed[2] : Value();
  int64_t rowBytes = fmt::packedRowBytes(k, 4);
  auto type = RankedTensorType::get({rows, k}, b.getF32Type());
  Value w = generate(b, loc, type, {}, [&](ScalarBuilder &bb) {
    Value r = bb.index(0), c = bb.index(1);
    Value element = bb.extract(elements, {bb.toIndex(bb.code(codes, {r}, c, 4, rowBytes))});
    Value scaleByte = arith::ExtUIOp::create(bb.b, bb.loc, bb.b.getI32Type(),
                                             bb.extract(scales, {r, bb.div(c, bb.cIdx(kind.block))}));
    Value scale = bb.extract(scaleTable, {bb.toIndex(scaleByte)});
    if (tensorScale)
      scale = arith::MulFOp::create(bb.b, bb.loc, scale, bb.extract(tensorScale, {bb.cIdx(0)}));
    return arith::MulFOp::create(bb.b, bb.loc, element, scale).getResult();
  });
  if (floatType != b.getF32Type())
    w = generate(b, loc, RankedTensorType::get({rows, k}, floatType), {}, [&](ScalarBuilder &bb) {
      Value x = bb.extract(w, {bb.index(0), bb.index(1)});
      return arith::TruncFOp::create(bb.b, bb.loc, floatType, x).getResult();
    });
  return w;
}

constexpr FP4Kind kMX{kMXFP4Block, false}, kNV{kNVFP4Block, true};

struct MXSchemeInterface : public weight::WeightSchemeDialectInterface {
  using WeightSchemeDialectInterface::WeightSchemeDialectInterface;

  Attribute parseSchemeToken(StringRef token, std::string &) const override {
    if (token.equals_insensitive("mxfp4"))
      return MXFP4Attr::get(getContext());
    if (token.equals_insensitive("nvfp4"))
      return NVFP4Attr::get(getContext());
    return {};
  }

  void describeSchemeTokens(llvm::raw_ostream &os) const override {
    os << "  mxfp4            OCP MXFP4: FP4 E2M1 values, one E8M0 scale per 32 along K "
          "(4.25 bits/weight)\n"
       << "  nvfp4            NVFP4: FP4 E2M1 values, one FP8 E4M3 scale per 16 along K and "
          "an fp32 tensor scale (4.5 bits/weight)\n";
  }
};

} // namespace

void SparqMXDialect::initialize() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialects/MX/MXAttrs.cpp.inc"
      >();
  addInterfaces<MXSchemeInterface>();
}

//===----------------------------------------------------------------------===//
// WeightFormatAttrInterface
//===----------------------------------------------------------------------===//

#define SPARQ_FP4_FORMAT(Attr, kind, spelling, key)                                             \
  std::string Attr::getSpelling() const { return spelling; }                                    \
  bool Attr::isEncoding() const { return true; }                                                \
  int64_t Attr::getInnerK(int64_t k) const { return k; }                                        \
  void Attr::getPackedOperands(int64_t rows, int64_t k, SmallVectorImpl<Type> &types,           \
                               SmallVectorImpl<std::string> &names) const {                     \
    fp4Operands(getContext(), kind, rows, k, types, names);                                     \
  }                                                                                             \
  llvm::Expected<weight::HostPart> Attr::compressHost(                                          \
      ArrayRef<float> w, int64_t rows, int64_t k, const weight::CompressOptions &) const {      \
    return fp4Compress(kind, w, rows, k);                                                       \
  }                                                                                             \
  Value Attr::buildDecode(OpBuilder &b, Location loc, ValueRange packed, Value, int64_t rows,   \
                          int64_t k, Type floatType) const {                                    \
    return fp4Decode(kind, b, loc, packed, rows, k, floatType);                                 \
  }                                                                                             \
  std::string Attr::getKernelKey() const { return key; }

SPARQ_FP4_FORMAT(MXFP4Attr, kMX, "MXFP4", "mxfp4")
SPARQ_FP4_FORMAT(NVFP4Attr, kNV, "NVFP4", "nvfp4")
