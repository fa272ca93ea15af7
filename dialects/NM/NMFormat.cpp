//===- dialects/NM/NMFormat.cpp - sparq_nm as a weight format ------------------===//
//
// #sparq_nm.pattern as a weight format (WeightFormatAttrInterface, a transform): the host
// compressor (magnitude pruning and packing with PackedFormats.h), its host and IR decode
// (sparq_nm.unpack), its `--scheme` tokens, and the reference lowering of the dialect's ops.
//
//===----------------------------------------------------------------------===//
#include "dialects/NM/NMDialect.h"

#include "dialects/Common/ScalarBuilder.h"
#include "dialects/NM/Prune.h"
#include "sparq/Formats/PackedFormats.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/Support/Regex.h"

#include <cmath>

using namespace mlir;
using namespace sparq;
using namespace sparq::nm;
namespace fmt = sparq::formats;
namespace cmp = sparq::compression;

//===----------------------------------------------------------------------===//
// WeightFormatAttrInterface
//===----------------------------------------------------------------------===//

std::string PatternAttr::getSpelling() const {
  return std::to_string(getN()) + ":" + std::to_string(getM());
}

bool PatternAttr::isEncoding() const { return false; }

int64_t PatternAttr::getInnerK(int64_t k) const { return keptPerRow(k); }

void PatternAttr::getPackedOperands(int64_t rows, int64_t k, SmallVectorImpl<Type> &types,
                                    SmallVectorImpl<std::string> &names) const {
  types.push_back(
      RankedTensorType::get({rows, indexRowBytes(k)}, IntegerType::get(getContext(), 8)));
  names.push_back("indices");
}

llvm::Expected<weight::HostPart> PatternAttr::compressHost(ArrayRef<float> w, int64_t rows,
                                                           int64_t k,
                                                           const weight::CompressOptions &options) const {
  unsigned n = getN(), m = getM();
  std::vector<float> wv(w.begin(), w.end()), pruned;
  weight::HostPart part;
  const weight::InputStatistics *stats = options.statsFor(k);
  if (stats && options.method == weight::Method::Wanda) {
    std::vector<double> norm(k);
    for (int64_t c = 0; c < k; ++c)
      norm[c] = std::sqrt(stats->meanSquare(c));
    pruned = cmp::pruneNMWanda(wv, rows, k, n, m, norm);
    part.method = "wanda";
  } else if (options.method == weight::Method::SparseGPT && stats) {
    llvm::Expected<const std::vector<double> *> u = options.compensationFactor(k, "SparseGPT");
    if (!u)
      return u.takeError();
    pruned = cmp::pruneNMSparseGPT(wv, rows, k, n, m, **u);
    part.method = "sparsegpt";
  } else {
    pruned = cmp::pruneNM(wv, rows, k, n, m);
  }
  size_t kept = fmt::nmKeptPerRow(k, n, m), ib = fmt::nmIndexRowBytes(k, n, m);
  part.values.assign(rows * kept, 0.0f);
  std::vector<int8_t> indices(rows * ib, 0);
  for (int64_t r = 0; r < rows; ++r)
    fmt::nmPackRow(&pruned[r * k], k, n, m, &part.values[r * kept],
                   reinterpret_cast<uint8_t *>(&indices[r * ib]));
  // The dense column of each kept value; -1 for the zero slots a short last group has past K.
  part.positions.assign(rows * kept, -1);
  unsigned ibits = fmt::nmIndexBits(m);
  for (int64_t r = 0; r < rows; ++r)
    for (size_t s = 0; s < kept; ++s) {
      int64_t col = (int64_t)((s / n) * m +
                              fmt::codeAt(reinterpret_cast<const uint8_t *>(&indices[r * ib]),
                                          s, ibits));
      if (col < k)
        part.positions[r * kept + s] = col;
    }
  part.packed.push_back(weight::toBytes(indices));
  return part;
}

std::vector<float> PatternAttr::expandHost(ArrayRef<float> inner, const weight::HostPart &part,
                                           int64_t rows, int64_t k) const {
  unsigned n = getN(), m = getM();
  size_t kept = fmt::nmKeptPerRow(k, n, m), ib = fmt::nmIndexRowBytes(k, n, m);
  std::vector<float> dense(rows * k, 0.0f);
  const auto *indices = reinterpret_cast<const uint8_t *>(part.packed[0].data());
  for (int64_t r = 0; r < rows; ++r)
    fmt::nmUnpackRow(&inner[r * kept], indices + r * ib, k, n, m, &dense[r * k]);
  return dense;
}

Value PatternAttr::buildDecode(OpBuilder &b, Location loc, ValueRange packed, Value inner,
                               int64_t rows, int64_t k, Type floatType) const {
  return UnpackOp::create(b, loc, RankedTensorType::get({rows, k}, floatType), inner, packed[0],
                          *this);
}

std::string PatternAttr::getKernelKey() const {
  return "nm" + std::to_string(getN()) + "of" + std::to_string(getM());
}

//===----------------------------------------------------------------------===//
// Reference lowering of the sparq_nm ops
//===----------------------------------------------------------------------===//

namespace {

/// |x| of element (row, p) of `dense`, and whether p < k.
struct NMGroupScan {
  ScalarBuilder &bb;
  Value dense, row;
  int64_t k;
  Value at(Value p) { return bb.extract(dense, {row, bb.minIdx(p, bb.cIdx(k - 1))}); }
  Value valid(Value p) { return bb.ult(p, bb.cIdx(k)); }
};

struct LowerNMPrune : OpRewritePattern<PruneOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(PruneOp op, PatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(op.getResult().getType());
    if (failed(requireStatic(op, type, "weight")))
      return failure();
    unsigned n = op.getPattern().getN(), m = op.getPattern().getM();
    int64_t k = type.getDimSize(1);
    Value dense = op.getInput();
    Value r = generate(rewriter, op.getLoc(), type, {}, [&](ScalarBuilder &bb) {
      Value row = bb.index(0), c = bb.index(1);
      NMGroupScan scan{bb, dense, row, k};
      Value x = scan.at(c);
      Value ax = math::AbsFOp::create(bb.b, bb.loc, x);
      Value g0 = bb.mul(bb.div(c, bb.cIdx(m)), bb.cIdx(m));
      // rank = number of group members that beat x (larger |.|, or equal at a lower position).
      Value rank = bb.cIdx(0);
      for (unsigned j = 0; j < m; ++j) {
        Value p = bb.add(g0, bb.cIdx(j));
        Value ap = math::AbsFOp::create(bb.b, bb.loc, scan.at(p));
        Value gt = arith::CmpFOp::create(bb.b, bb.loc, arith::CmpFPredicate::OGT, ap, ax);
        Value eqLower = arith::AndIOp::create(
            bb.b, bb.loc, arith::CmpFOp::create(bb.b, bb.loc, arith::CmpFPredicate::OEQ, ap, ax),
            bb.ult(p, c));
        Value beats = arith::AndIOp::create(
            bb.b, bb.loc, scan.valid(p), arith::OrIOp::create(bb.b, bb.loc, gt, eqLower));
        rank = bb.add(rank, bb.select(beats, bb.cIdx(1), bb.cIdx(0)));
      }
      Value zero = arith::ConstantOp::create(bb.b, bb.loc, bb.b.getFloatAttr(x.getType(), 0.0));
      return bb.select(bb.ult(rank, bb.cIdx(n)), x, zero);
    });
    rewriter.replaceOp(op, r);
    return success();
  }
};

/// Position (0..M-1) inside group g of the kept slot s, per the N:M packed layout: non-zeros are
/// kept, then the lowest free positions until the group has N entries, in position order.
Value nmSlotPosition(ScalarBuilder &bb, NMGroupScan &scan, Value g, Value s, unsigned n, unsigned m) {
  Value g0 = bb.mul(g, bb.cIdx(m));
  SmallVector<Value> nz(m);
  Value nnz = bb.cIdx(0);
  for (unsigned j = 0; j < m; ++j) {
    Value p = bb.add(g0, bb.cIdx(j));
    Value x = scan.at(p);
    Value zero = arith::ConstantOp::create(bb.b, bb.loc, bb.b.getFloatAttr(x.getType(), 0.0));
    nz[j] = arith::AndIOp::create(
        bb.b, bb.loc, scan.valid(p),
        arith::CmpFOp::create(bb.b, bb.loc, arith::CmpFPredicate::UNE, x, zero));
    nnz = bb.add(nnz, bb.select(nz[j], bb.cIdx(1), bb.cIdx(0)));
  }
  Value need = bb.sub(bb.cIdx(n), bb.minIdx(nnz, bb.cIdx(n)));
  Value zerosSeen = bb.cIdx(0), taken = bb.cIdx(0), pos = bb.cIdx(0);
  for (unsigned j = 0; j < m; ++j) {
    Value fill = arith::AndIOp::create(
        bb.b, bb.loc,
        arith::XOrIOp::create(bb.b, bb.loc, nz[j],
                              arith::ConstantIntOp::create(bb.b, bb.loc, 1, 1)),
        bb.ult(zerosSeen, need));
    Value isTaken = arith::OrIOp::create(bb.b, bb.loc, nz[j], fill);
    Value hit = arith::AndIOp::create(bb.b, bb.loc, isTaken, bb.eq(taken, s));
    pos = bb.select(hit, bb.cIdx(j), pos);
    taken = bb.add(taken, bb.select(isTaken, bb.cIdx(1), bb.cIdx(0)));
    zerosSeen = bb.add(zerosSeen, bb.select(nz[j], bb.cIdx(0), bb.cIdx(1)));
  }
  return pos;
}

struct LowerNMPack : OpRewritePattern<PackOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(PackOp op, PatternRewriter &rewriter) const override {
    auto inType = op.getInput().getType();
    if (failed(requireStatic(op, inType, "weight")))
      return failure();
    unsigned n = op.getPattern().getN(), m = op.getPattern().getM();
    unsigned ibits = fmt::nmIndexBits(m);
    int64_t k = inType.getDimSize(1);
    int64_t kept = fmt::nmKeptPerRow(k, n, m);
    Value dense = op.getInput();
    Location loc = op.getLoc();
    Value values = generate(rewriter, loc, op.getValues().getType(), {}, [&](ScalarBuilder &bb) {
      Value row = bb.index(0), slot = bb.index(1);
      NMGroupScan scan{bb, dense, row, k};
      Value g = bb.div(slot, bb.cIdx(n));
      Value p = bb.add(bb.mul(g, bb.cIdx(m)),
                       nmSlotPosition(bb, scan, g, bb.rem(slot, bb.cIdx(n)), n, m));
      Value x = scan.at(p);
      Value zero = arith::ConstantOp::create(bb.b, bb.loc, bb.b.getFloatAttr(x.getType(), 0.0));
      return bb.select(scan.valid(p), x, zero);
    });
    Value indices = generate(rewriter, loc, op.getIndices().getType(), {}, [&](ScalarBuilder &bb) {
      NMGroupScan scan{bb, dense, bb.index(0), k};
      Value byte = bb.packedByte(bb.index(1), ibits, kept, [&](Value e) -> Value {
        return bb.toI32(
            nmSlotPosition(bb, scan, bb.div(e, bb.cIdx(n)), bb.rem(e, bb.cIdx(n)), n, m));
      });
      return arith::TruncIOp::create(bb.b, bb.loc, bb.b.getI8Type(), byte).getResult();
    });
    rewriter.replaceOp(op, {values, indices});
    return success();
  }
};

/// The dense weight in two linalg.generics: first the position (0..M-1) of every kept slot,
/// decoded once from the index bits; then the weight as [rows, G, M] (G = ceil(K/M) groups),
/// element (r, g, j) the kept value of group g whose position is j, else 0, reading the N slots
/// of its group through constant-offset indexing maps, so every access is affine in the loop
/// indices and LLVM vectorizes the loop (decoding the index bits of every slot for every dense
/// position, with the group found by a division, ran at ~1 ns per weight: 0.015 ms for a 256 x
/// 64 filter of cnn_blocks at 2:4). Collapsed to [rows, G * M] and cut to K columns.
struct LowerNMUnpack : OpRewritePattern<UnpackOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(UnpackOp op, PatternRewriter &rewriter) const override {
    auto type = op.getResult().getType();
    if (failed(requireStatic(op, type, "result")))
      return failure();
    Location loc = op.getLoc();
    unsigned n = op.getPattern().getN(), m = op.getPattern().getM();
    unsigned ibits = fmt::nmIndexBits(m);
    int64_t rows = type.getDimSize(0), k = type.getDimSize(1), groups = (k + m - 1) / m;
    int64_t idxBytes = op.getPattern().indexRowBytes(k);
    Value values = op.getValues(), indices = op.getIndices();
    Type et = type.getElementType(), i32 = rewriter.getI32Type();
    Value positions = generate(
        rewriter, loc, RankedTensorType::get({rows, groups * n}, i32), {}, [&](ScalarBuilder &bb) {
          return bb.code(indices, {bb.index(0)}, bb.index(1), ibits, idxBytes);
        });
    SmallVector<ReassociationIndices> split{{0}, {1, 2}};
    Value v3 = tensor::ExpandShapeOp::create(
        rewriter, loc, RankedTensorType::get({rows, groups, int64_t(n)}, et), values, split);
    Value p3 = tensor::ExpandShapeOp::create(
        rewriter, loc, RankedTensorType::get({rows, groups, int64_t(n)}, i32), positions, split);
    SmallVector<Value> inputs;
    SmallVector<AffineMap> maps;
    MLIRContext *ctx = rewriter.getContext();
    AffineExpr r = getAffineDimExpr(0, ctx), g = getAffineDimExpr(1, ctx);
    for (Value t : {v3, p3})
      for (unsigned slot = 0; slot < n; ++slot) {
        inputs.push_back(t);
        maps.push_back(AffineMap::get(3, 0, {r, g, getAffineConstantExpr(slot, ctx)}, ctx));
      }
    maps.push_back(rewriter.getMultiDimIdentityMap(3));
    auto denseType = RankedTensorType::get({rows, groups, int64_t(m)}, et);
    Value init = tensor::EmptyOp::create(rewriter, loc, denseType.getShape(), et);
    SmallVector<utils::IteratorType> iters(3, utils::IteratorType::parallel);
    Value dense =
        linalg::GenericOp::create(
            rewriter, loc, denseType, inputs, ValueRange{init}, maps, iters,
            [&](OpBuilder &nb, Location nl, ValueRange args) {
              ScalarBuilder bb{nb, nl};
              Value j = bb.toI32(bb.index(2));
              Value result = bb.cF(et, 0.0);
              for (unsigned slot = 0; slot < n; ++slot)
                result = bb.select(bb.eq(args[n + slot], j), args[slot], result);
              linalg::YieldOp::create(nb, nl, result);
            })
            .getResult(0);
    Value flat = tensor::CollapseShapeOp::create(rewriter, loc, dense,
                                                 ArrayRef<ReassociationIndices>{{0}, {1, 2}});
    if (groups * m != k)
      flat = tensor::ExtractSliceOp::create(
          rewriter, loc, type, flat,
          ArrayRef<OpFoldResult>{rewriter.getIndexAttr(0), rewriter.getIndexAttr(0)},
          ArrayRef<OpFoldResult>{rewriter.getIndexAttr(rows), rewriter.getIndexAttr(k)},
          ArrayRef<OpFoldResult>{rewriter.getIndexAttr(1), rewriter.getIndexAttr(1)});
    rewriter.replaceOp(op, flat);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Scheme tokens
//===----------------------------------------------------------------------===//

struct NMSchemeInterface : public weight::WeightSchemeDialectInterface {
  using WeightSchemeDialectInterface::WeightSchemeDialectInterface;

  Attribute parseSchemeToken(StringRef token, std::string &error) const override {
    auto [ns, ms] = token.split(':');
    unsigned n = 0, m = 0;
    if (ms.empty() || ns.getAsInteger(10, n) || ms.getAsInteger(10, m))
      return {};
    if (!fmt::nmValid(n, m)) {
      error = "sparsity '" + token.str() + "' is not N:M with 1 <= N < M <= 16";
      return {};
    }
    return PatternAttr::get(getContext(), n, m);
  }

  void describeSchemeTokens(llvm::raw_ostream &os) const override {
    os << "  N:M              N:M structured sparsity along K (1 <= N < M <= 16), e.g. 2:4; "
          "formats after it compress the kept values\n";
  }

  void populateReferenceLoweringPatterns(RewritePatternSet &patterns) const override {
    patterns.add<LowerNMPrune, LowerNMPack, LowerNMUnpack>(patterns.getContext());
  }
};

} // namespace

void sparq::nm::detail::addSchemeInterface(SparqNMDialect &dialect) {
  dialect.addInterfaces<NMSchemeInterface>();
}
