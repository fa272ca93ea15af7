//===- dialects/ShiftAdd/ShiftAddFormat.cpp - sparq_shiftadd as a weight format ===//
//
// #sparq_shiftadd.bcq as a weight format (WeightFormatAttrInterface, an encoding): the host
// compressor (BCQFit.h's alternating fit, sign planes packed with PackedFormats.h), the reference
// decode (sparq_shiftadd.dequantize), its `--scheme` tokens, and the reference lowering of the
// dialect's ops.
//
//===----------------------------------------------------------------------===//
#include "dialects/ShiftAdd/ShiftAddDialect.h"

#include "dialects/Common/ScalarBuilder.h"
#include "dialects/ShiftAdd/BCQFit.h"
#include "sparq/Formats/PackedFormats.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/Support/Regex.h"

using namespace mlir;
using namespace sparq;
using namespace sparq::shiftadd;
namespace fmt = sparq::formats;
namespace cmp = sparq::compression;

//===----------------------------------------------------------------------===//
// WeightFormatAttrInterface
//===----------------------------------------------------------------------===//

std::string BCQAttr::getSpelling() const {
  return "SA" + std::to_string(getQ()) + (getPow2() ? "p2" : "");
}

bool BCQAttr::isEncoding() const { return true; }

int64_t BCQAttr::getInnerK(int64_t k) const { return k; }

void BCQAttr::getPackedOperands(int64_t rows, int64_t k, SmallVectorImpl<Type> &types,
                                SmallVectorImpl<std::string> &names) const {
  MLIRContext *ctx = getContext();
  int64_t q = getQ();
  types.push_back(RankedTensorType::get({q, rows, (int64_t)fmt::bcqRowBytes(k)},
                                        IntegerType::get(ctx, 8)));
  names.push_back("codes");
  types.push_back(RankedTensorType::get({q, rows, (int64_t)fmt::numGroups(k, getGroup())},
                                        Float32Type::get(ctx)));
  names.push_back("scales");
}

llvm::Expected<weight::HostPart> BCQAttr::compressHost(ArrayRef<float> w, int64_t rows, int64_t k,
                                                       const weight::CompressOptions &options) const {
  cmp::BCQConfig config;
  config.q = getQ();
  config.group = getGroup();
  config.pow2 = getPow2();
  std::vector<float> wv(w.begin(), w.end());
  weight::HostPart part;
  cmp::BCQ fit;
  // With statistics of the dense K (directly or after a pruning transform), GPTQ and SparseGPT
  // fit the planes activation-aware with compensation.
  llvm::Expected<const std::vector<double> *> u =
      options.compensationFactor(k, "shift-add fit");
  if (!u)
    return u.takeError();
  if (*u) {
    const weight::InputStatistics &stats = *options.statsFor(k);
    std::vector<double> importance((size_t)stats.size());
    for (int64_t c = 0; c < stats.size(); ++c)
      importance[c] = stats.meanSquare(c);
    fit = cmp::fitBCQCompensated(wv, rows, k, config, **u, importance, options.positions,
                                 options.denseK);
    part.method = "gptq";
  } else {
    fit = cmp::fitBCQ(wv, rows, k, config);
  }
  size_t rb = fmt::bcqRowBytes(k);
  std::vector<int8_t> packed(getQ() * rows * rb);
  for (int64_t r = 0; r < (int64_t)getQ() * rows; ++r)
    fmt::bcqPackRow(&fit.signs[r * k], k, reinterpret_cast<uint8_t *>(&packed[r * rb]));
  part.packed.push_back(weight::toBytes(packed));
  part.packed.push_back(weight::toBytes(fit.scales));
  part.values = std::move(fit.dequantized);
  return part;
}

Value BCQAttr::buildDecode(OpBuilder &b, Location loc, ValueRange packed, Value, int64_t rows,
                           int64_t k, Type floatType) const {
  return DequantizeOp::create(b, loc, RankedTensorType::get({rows, k}, floatType), packed[0],
                              packed[1], *this);
}

std::string BCQAttr::getKernelKey() const {
  return "bcq" + std::to_string(getQ()) + ".g" + std::to_string(getGroup()) +
         (getPow2() ? ".p2" : "");
}

//===----------------------------------------------------------------------===//
// Reference lowering of the sparq_shiftadd ops
//===----------------------------------------------------------------------===//

namespace {

struct LowerPackSigns : OpRewritePattern<PackSignsOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(PackSignsOp op,
                                PatternRewriter &rewriter) const override {
    auto inType = op.getSigns().getType();
    if (failed(requireStatic(op, inType, "signs")))
      return failure();
    int64_t k = inType.getDimSize(2);
    Value signs = op.getSigns();
    // A sign plane is a row of 1-bit codes: 1 for +1 (x >= 0), 0 for -1.
    Value r = generate(rewriter, op.getLoc(), op.getCodes().getType(), {}, [&](ScalarBuilder &bb) {
      Value p = bb.index(0), row = bb.index(1);
      Value byte = bb.packedByte(bb.index(2), 1, k, [&](Value e) -> Value {
        Value x = bb.extract(signs, {p, row, e});
        Value zero = arith::ConstantOp::create(bb.b, bb.loc, bb.b.getFloatAttr(x.getType(), 0.0));
        Value pos = arith::CmpFOp::create(bb.b, bb.loc, arith::CmpFPredicate::UGE, x, zero);
        return arith::ExtUIOp::create(bb.b, bb.loc, bb.b.getI32Type(), pos).getResult();
      });
      return arith::TruncIOp::create(bb.b, bb.loc, bb.b.getI8Type(), byte).getResult();
    });
    rewriter.replaceOp(op, r);
    return success();
  }
};

struct LowerBCQDequantize : OpRewritePattern<DequantizeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(DequantizeOp op,
                                PatternRewriter &rewriter) const override {
    auto type = op.getResult().getType();
    if (failed(requireStatic(op, type, "result")))
      return failure();
    unsigned q = op.getConfig().getQ();
    int64_t group = op.getConfig().getGroup();
    int64_t rowBytes = fmt::bcqRowBytes(type.getDimSize(1));
    Value codes = op.getCodes(), scales = op.getScales();
    Type et = type.getElementType();
    Value r = generate(rewriter, op.getLoc(), type, {}, [&](ScalarBuilder &bb) {
      Value row = bb.index(0), c = bb.index(1);
      Value acc = arith::ConstantOp::create(bb.b, bb.loc, bb.b.getFloatAttr(et, 0.0));
      for (unsigned p = 0; p < q; ++p) {
        Value bit = bb.code(codes, {bb.cIdx(p), row}, c, 1, rowBytes);
        Value s = bb.extract(scales, {bb.cIdx(p), row, bb.div(c, bb.cIdx(group))});
        if (s.getType() != et)
          s = arith::TruncFOp::create(bb.b, bb.loc, et, s);
        Value neg = arith::NegFOp::create(bb.b, bb.loc, s);
        acc = arith::AddFOp::create(bb.b, bb.loc, acc, bb.select(bb.eq(bit, bb.cI32(1)), s, neg));
      }
      return acc;
    });
    rewriter.replaceOp(op, r);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Scheme tokens
//===----------------------------------------------------------------------===//

struct ShiftAddSchemeInterface : public weight::WeightSchemeDialectInterface {
  using WeightSchemeDialectInterface::WeightSchemeDialectInterface;

  Attribute parseSchemeToken(StringRef token, std::string &error) const override {
    llvm::Regex re("^[sS][aA]([0-9]+)(g([0-9]+))?(p2)?$");
    SmallVector<StringRef> m;
    if (!re.match(token, &m))
      return {};
    unsigned q = 0;
    int64_t group = 128;
    if (m[1].getAsInteger(10, q) || q < 1 || q > 8) {
      error = "scheme '" + token.str() + "': shift-add needs 1 to 8 binary planes";
      return {};
    }
    if (!m[3].empty() && (m[3].getAsInteger(10, group) || group <= 0)) {
      error = "scheme '" + token.str() + "': shift-add needs a positive group size";
      return {};
    }
    return BCQAttr::get(getContext(), q, group, !m[4].empty());
  }

  void describeSchemeTokens(llvm::raw_ostream &os) const override {
    os << "  saQ[gG][p2]      shift-add: Q binary planes (1-8) with scales per group of G along "
          "K (default 128); p2: power-of-two scales, e.g. sa3g128\n";
  }

  void populateReferenceLoweringPatterns(RewritePatternSet &patterns) const override {
    patterns.add<LowerPackSigns, LowerBCQDequantize>(patterns.getContext());
  }
};

} // namespace

void sparq::shiftadd::detail::addSchemeInterface(SparqShiftAddDialect &dialect) {
  dialect.addInterfaces<ShiftAddSchemeInterface>();
}
