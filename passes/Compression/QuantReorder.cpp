//===- passes/Compression/QuantReorder.cpp - prune before quantize ------------===//
#include "passes/Passes.h"

#include "dialects/Common/ConstantData.h"
#include "dialects/NM/NMDialect.h"
#include "dialects/Quant/QuantDialect.h"
#include "dialects/NM/Prune.h"
#include "dialects/Quant/Quantizer.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Matchers.h"

namespace sparq {
#define GEN_PASS_DEF_QUANTREORDERPASS
#include "passes/Compression/Passes.h.inc"
} // namespace sparq

using namespace mlir;
namespace cmp = sparq::compression;

namespace {

struct QuantReorderPass : public sparq::impl::QuantReorderPassBase<QuantReorderPass> {
  void runOnOperation() override {
    SmallVector<sparq::nm::PruneOp> prunes;
    getOperation().walk([&](sparq::nm::PruneOp op) { prunes.push_back(op); });
    bool failedAny = false;
    for (sparq::nm::PruneOp prune : prunes) {
      auto deq = prune.getInput().getDefiningOp<sparq::quant::DequantizeOp>();
      if (!deq)
        continue;
      auto q = deq.getInput().getDefiningOp<sparq::quant::QuantizeOp>();
      if (!q) {
        prune.emitError("cannot reorder quantize-then-prune: the pruned weight is dequantized "
                        "from codes that are not produced by sparq_quant.quantize");
        failedAny = true;
        continue;
      }
      Attribute wAttr;
      auto type = cast<RankedTensorType>(q.getInput().getType());
      if (!matchPattern(q.getInput(), m_Constant(&wAttr)) || !type.hasStaticShape() ||
          !type.getElementType().isF32()) {
        prune.emitError("cannot reorder quantize-then-prune: the weight is not a static f32 "
                        "constant, so its quantization parameters cannot be recomputed on the "
                        "values pruning keeps");
        failedAny = true;
        continue;
      }
      auto values = sparq::readElementsAsDouble(wAttr);
      if (!values)
        continue;
      int64_t rows = type.getDimSize(0), k = type.getDimSize(1);
      auto pattern = prune.getPattern();
      auto scheme = q.getScheme();
      std::vector<float> w(values->begin(), values->end());
      std::vector<float> pruned = cmp::pruneNM(w, rows, k, pattern.getN(), pattern.getM());
      std::vector<bool> keep(pruned.size());
      for (size_t i = 0; i < keep.size(); ++i)
        keep[i] = pruned[i] != 0;
      cmp::QuantConfig qc;
      qc.bits = scheme.getBits();
      qc.isSigned = scheme.getIsSigned();
      qc.symmetric = scheme.getSymmetric();
      qc.group = scheme.getGroup();
      cmp::Quantized params = cmp::quantize(pruned, rows, k, qc, &keep);

      OpBuilder b(prune);
      Location loc = prune.getLoc();
      auto sType = cast<RankedTensorType>(q.getScales().getType());
      Value scales = arith::ConstantOp::create(
          b, loc, sparq::makeFloatConstant(sType, params.scales, "reordered_scales"));
      Value zps;
      if (q.getZeroPoints())
        zps = arith::ConstantOp::create(
            b, loc,
            sparq::makeI8Constant(cast<RankedTensorType>(q.getZeroPoints().getType()),
                                  params.zeroPoints, "reordered_zero_points"));
      Value p = sparq::nm::PruneOp::create(b, loc, q.getInput(), pattern);
      Value codes = sparq::quant::QuantizeOp::create(b, loc, q.getResult().getType(), p, scales,
                                                     zps, scheme);
      Value d = sparq::quant::DequantizeOp::create(b, loc, prune.getType(), codes, scales, zps,
                                                   scheme);
      prune.getResult().replaceAllUsesWith(d);
      prune.erase();
      if (deq->use_empty())
        deq.erase();
      if (q->use_empty())
        q.erase();
    }
    if (failedAny)
      signalPassFailure();
  }
};

} // namespace
