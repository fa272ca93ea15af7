//===- dialects/Quant/QuantFormat.cpp - sparq_quant as a weight format ---------===//
//
// #sparq_quant.scheme as a weight format (WeightFormatAttrInterface): packed operands, the host
// compressor (Quantizer.h's round-to-nearest quantizer, packed with PackedFormats.h), the
// reference decode (sparq_quant.unpack + dequantize), its `--scheme` tokens, and the reference
// lowering of the dialect's ops to linalg.
//
//===----------------------------------------------------------------------===//
#include "dialects/Quant/QuantDialect.h"

#include "dialects/Common/ScalarBuilder.h"
#include "dialects/Quant/Quantizer.h"
#include "sparq/Formats/PackedFormats.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/Support/Regex.h"

using namespace mlir;
using namespace sparq;
using namespace sparq::quant;
namespace fmt = sparq::formats;
namespace cmp = sparq::compression;

//===----------------------------------------------------------------------===//
// WeightFormatAttrInterface
//===----------------------------------------------------------------------===//

std::string SchemeAttr::getSpelling() const {
  std::string s = "W" + std::to_string(getBits());
  s += getGroup() > 0 ? "g" + std::to_string(getGroup()) : isPerChannel() ? "pc" : "pt";
  return getSymmetric() ? s : s + "a";
}

bool SchemeAttr::isEncoding() const { return true; }

int64_t SchemeAttr::getInnerK(int64_t k) const { return k; }

void SchemeAttr::getPackedOperands(int64_t rows, int64_t k, SmallVectorImpl<Type> &types,
                                   SmallVectorImpl<std::string> &names) const {
  MLIRContext *ctx = getContext();
  Type i8 = IntegerType::get(ctx, 8), f32 = Float32Type::get(ctx);
  types.push_back(RankedTensorType::get({rows, (int64_t)fmt::packedRowBytes(k, getBits())}, i8));
  names.push_back("codes");
  types.push_back(RankedTensorType::get(paramShape(rows, k), f32));
  names.push_back("scales");
  if (!getSymmetric()) {
    types.push_back(RankedTensorType::get(paramShape(rows, k), i8));
    names.push_back("zero_points");
  }
}

llvm::Expected<weight::HostPart>
SchemeAttr::compressHost(ArrayRef<float> w, int64_t rows, int64_t k,
                         const weight::CompressOptions &options) const {
  cmp::QuantConfig qc;
  qc.bits = getBits();
  qc.isSigned = getIsSigned();
  qc.symmetric = getSymmetric();
  qc.group = getGroup();
  qc.searchClip = options.searchClip;
  std::vector<float> wv(w.begin(), w.end());
  weight::HostPart part;
  cmp::Quantized q;
  // After a pruning transform the sweep runs over the dense columns (the handed-on values'
  // positions), so the statistics of the dense K apply.
  llvm::Expected<const std::vector<double> *> u = options.compensationFactor(k, "GPTQ");
  if (!u)
    return u.takeError();
  if (*u) {
    q = cmp::quantizeGPTQ(wv, rows, k, qc, **u, options.positions, options.denseK);
    part.method = "gptq";
  } else {
    q = cmp::quantize(wv, rows, k, qc);
  }
  // Codes packed row by row (docs/packed-formats.md).
  unsigned bits = getBits();
  size_t rb = fmt::packedRowBytes(k, bits);
  std::vector<int8_t> packed(rows * rb);
  std::vector<uint8_t> row(k);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t i = 0; i < k; ++i)
      row[i] = fmt::encode(q.codes[r * k + i], bits);
    fmt::packCodes(row.data(), k, bits, reinterpret_cast<uint8_t *>(&packed[r * rb]));
  }
  part.packed.push_back(weight::toBytes(packed));
  part.packed.push_back(weight::toBytes(q.scales));
  if (!getSymmetric())
    part.packed.push_back(weight::toBytes(q.zeroPoints));
  part.values = std::move(q.dequantized);
  return part;
}

Value SchemeAttr::buildDecode(OpBuilder &b, Location loc, ValueRange packed, Value, int64_t rows,
                              int64_t k, Type floatType) const {
  auto codesType = RankedTensorType::get({rows, k}, b.getI8Type());
  Value codes = UnpackOp::create(b, loc, codesType, packed[0], *this);
  return DequantizeOp::create(b, loc, RankedTensorType::get({rows, k}, floatType), codes,
                              packed[1], getSymmetric() ? Value() : packed[2], *this);
}

std::string SchemeAttr::getKernelKey() const {
  std::string key = "q" + std::to_string(getBits()) + (getSymmetric() ? "s" : "a");
  return key + (getGroup() > 0 ? ".g" + std::to_string(getGroup()) : isPerChannel() ? ".pc" : ".pt");
}

//===----------------------------------------------------------------------===//
// Reference lowering of the sparq_quant ops
//===----------------------------------------------------------------------===//

namespace {

/// Scale and zero point of element (r, c) of a [rows, k] weight under `scheme`.
std::pair<Value, Value> params(ScalarBuilder &bb, SchemeAttr scheme, Value scales, Value zps,
                               Value r, Value c) {
  Value pr = scheme.isPerTensor() ? bb.cIdx(0) : r;
  Value pc = scheme.isPerTensor() || scheme.isPerChannel()
                 ? bb.cIdx(0)
                 : bb.div(c, bb.cIdx(scheme.getGroup()));
  Value s = bb.extract(scales, {pr, pc});
  Value z = zps ? bb.extract(zps, {pr, pc}) : Value();
  return {s, z};
}

struct LowerQuantUnpack : OpRewritePattern<UnpackOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(UnpackOp op, PatternRewriter &rewriter) const override {
    auto type = op.getResult().getType();
    if (failed(requireStatic(op, type, "result")))
      return failure();
    unsigned bits = op.getScheme().getBits();
    bool isSigned = op.getScheme().getIsSigned();
    int64_t rowBytes = fmt::packedRowBytes(type.getDimSize(1), bits);
    Value packed = op.getInput();
    Value r = generate(rewriter, op.getLoc(), type, {}, [&](ScalarBuilder &bb) {
      Value code = bb.code(packed, {bb.index(0)}, bb.index(1), bits, rowBytes);
      if (isSigned)
        code = bb.signExtend(code, bits);
      return arith::TruncIOp::create(bb.b, bb.loc, bb.b.getI8Type(), code).getResult();
    });
    rewriter.replaceOp(op, r);
    return success();
  }
};

struct LowerQuantPack : OpRewritePattern<PackOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(PackOp op, PatternRewriter &rewriter) const override {
    auto inType = op.getInput().getType();
    auto type = op.getResult().getType();
    if (failed(requireStatic(op, inType, "input")))
      return failure();
    unsigned bits = op.getScheme().getBits();
    int64_t k = inType.getDimSize(1);
    Value in = op.getInput();
    Value r = generate(rewriter, op.getLoc(), type, {}, [&](ScalarBuilder &bb) {
      Value row = bb.index(0);
      Value byte = bb.packedByte(bb.index(1), bits, k, [&](Value e) -> Value {
        Value code = arith::ExtUIOp::create(bb.b, bb.loc, bb.b.getI32Type(),
                                            bb.extract(in, {row, e}));
        return arith::AndIOp::create(bb.b, bb.loc, code, bb.cI32((1 << bits) - 1));
      });
      return arith::TruncIOp::create(bb.b, bb.loc, bb.b.getI8Type(), byte).getResult();
    });
    rewriter.replaceOp(op, r);
    return success();
  }
};

struct LowerQuantDequantize : OpRewritePattern<DequantizeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(DequantizeOp op, PatternRewriter &rewriter) const override {
    auto type = op.getResult().getType();
    SchemeAttr scheme = op.getScheme();
    Value codes = op.getInput(), scales = op.getScales(), zps = op.getZeroPoints();
    Type et = type.getElementType();
    Value r = generate(rewriter, op.getLoc(), type,
                       dynamicSizes(rewriter, op.getLoc(), type, codes), [&](ScalarBuilder &bb) {
      Value row = bb.index(0), col = bb.index(1);
      auto [s, z] = params(bb, scheme, scales, zps, row, col);
      Value q = bb.extract(codes, {row, col});
      Value qi = scheme.getIsSigned()
                     ? arith::ExtSIOp::create(bb.b, bb.loc, bb.b.getI32Type(), q).getResult()
                     : arith::ExtUIOp::create(bb.b, bb.loc, bb.b.getI32Type(), q).getResult();
      if (z)
        qi = bb.sub(qi, scheme.getIsSigned()
                            ? arith::ExtSIOp::create(bb.b, bb.loc, bb.b.getI32Type(), z).getResult()
                            : arith::ExtUIOp::create(bb.b, bb.loc, bb.b.getI32Type(), z)
                                  .getResult());
      Value qf = arith::SIToFPOp::create(bb.b, bb.loc, et, qi);
      if (s.getType() != et)
        s = arith::TruncFOp::create(bb.b, bb.loc, et, s);
      return arith::MulFOp::create(bb.b, bb.loc, qf, s).getResult();
    });
    rewriter.replaceOp(op, r);
    return success();
  }
};

struct LowerQuantQuantize : OpRewritePattern<QuantizeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(QuantizeOp op, PatternRewriter &rewriter) const override {
    auto type = op.getResult().getType();
    SchemeAttr scheme = op.getScheme();
    Value w = op.getInput(), scales = op.getScales(), zps = op.getZeroPoints();
    Value r = generate(rewriter, op.getLoc(), type,
                       dynamicSizes(rewriter, op.getLoc(), type, w), [&](ScalarBuilder &bb) {
      Value row = bb.index(0), col = bb.index(1);
      auto [s, z] = params(bb, scheme, scales, zps, row, col);
      Value x = bb.extract(w, {row, col});
      Type ft = x.getType();
      if (s.getType() != ft)
        s = arith::ExtFOp::create(bb.b, bb.loc, ft, s);
      Value zeroF = arith::ConstantOp::create(bb.b, bb.loc, bb.b.getFloatAttr(ft, 0.0));
      Value isZero = arith::CmpFOp::create(bb.b, bb.loc, arith::CmpFPredicate::OEQ, s, zeroF);
      Value q = math::RoundEvenOp::create(bb.b, bb.loc, arith::DivFOp::create(bb.b, bb.loc, x, s));
      q = bb.select(isZero, zeroF, q);
      if (z) {
        Value zi = scheme.getIsSigned()
                       ? arith::ExtSIOp::create(bb.b, bb.loc, bb.b.getI32Type(), z).getResult()
                       : arith::ExtUIOp::create(bb.b, bb.loc, bb.b.getI32Type(), z).getResult();
        q = arith::AddFOp::create(bb.b, bb.loc, q, arith::SIToFPOp::create(bb.b, bb.loc, ft, zi));
      }
      Value lo = arith::ConstantOp::create(bb.b, bb.loc, bb.b.getFloatAttr(ft, scheme.minCode()));
      Value hi = arith::ConstantOp::create(bb.b, bb.loc, bb.b.getFloatAttr(ft, scheme.maxCode()));
      q = arith::MinimumFOp::create(bb.b, bb.loc, arith::MaximumFOp::create(bb.b, bb.loc, q, lo),
                                    hi);
      Value qi = arith::FPToSIOp::create(bb.b, bb.loc, bb.b.getI32Type(), q);
      return arith::TruncIOp::create(bb.b, bb.loc, bb.b.getI8Type(), qi).getResult();
    });
    rewriter.replaceOp(op, r);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Scheme tokens
//===----------------------------------------------------------------------===//

struct QuantSchemeInterface : public weight::WeightSchemeDialectInterface {
  using WeightSchemeDialectInterface::WeightSchemeDialectInterface;

  Attribute parseSchemeToken(StringRef token, std::string &error) const override {
    llvm::Regex re("^[wW]([0-9]+)(g([0-9]+)|pc|pt)?(a)?$");
    SmallVector<StringRef> m;
    if (!re.match(token, &m))
      return {};
    unsigned bits = 0;
    int64_t group = 128;
    bool symmetric = m[4].empty();
    if (m[1].getAsInteger(10, bits) || bits < 1 || bits > 8) {
      error = "scheme '" + token.str() + "': bits must be in [1, 8]";
      return {};
    }
    if (m[2] == "pc")
      group = SchemeAttr::kPerChannel;
    else if (m[2] == "pt")
      group = SchemeAttr::kPerTensor;
    else if (!m[3].empty() && (m[3].getAsInteger(10, group) || group <= 0)) {
      error = "scheme '" + token.str() + "': the group size must be positive";
      return {};
    }
    if (symmetric && bits < 2) {
      error = "scheme '" + token.str() +
              "': symmetric quantization needs at least 2 bits (use w1a, or sa1 for binary "
              "weights)";
      return {};
    }
    return SchemeAttr::get(getContext(), bits, /*isSigned=*/symmetric, symmetric, group);
  }

  void describeSchemeTokens(llvm::raw_ostream &os) const override {
    os << "  wB[gG|pc|pt][a]  B-bit integer quantization (B = 1-8) in groups of G along K "
          "(default 128), per channel (pc) or per tensor (pt); 'a': asymmetric (unsigned codes "
          "and zero points), e.g. w4g128, w3pca\n";
  }

  void populateReferenceLoweringPatterns(RewritePatternSet &patterns) const override {
    patterns.add<LowerQuantUnpack, LowerQuantPack, LowerQuantDequantize, LowerQuantQuantize>(
        patterns.getContext());
  }
};

} // namespace

void sparq::quant::detail::addSchemeInterface(SparqQuantDialect &dialect) {
  dialect.addInterfaces<QuantSchemeInterface>();
}
