//===- passes/Codegen/LinalgDistribute.cpp - split linalg ops into forall chunks ===//
#include "passes/Codegen/MicroKernels.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/Support/MathExtras.h"

#include <limits>

namespace sparq {
#define GEN_PASS_DEF_LINALGDISTRIBUTEPASS
#include "passes/Codegen/Passes.h.inc"
} // namespace sparq

using namespace mlir;

namespace {

/// Output columns per chunk of a one-row convolution: a multiple of the convolution kernel's
/// panel (32 pixels with AVX-512, two panels of 16 with AVX2).
constexpr int64_t kConvColumnGranule = 32;

struct LinalgDistributePass
    : public sparq::impl::LinalgDistributePassBase<LinalgDistributePass> {
  using LinalgDistributePassBase::LinalgDistributePassBase;

  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    SmallVector<linalg::LinalgOp> targets;
    getOperation().walk([&](linalg::LinalgOp op) {
      if (!op.hasPureTensorSemantics() || op.hasDynamicShape() ||
          op->getParentOfType<scf::ForallOp>())
        return;
      targets.push_back(op);
    });
    IRRewriter rewriter(ctx);
    for (linalg::LinalgOp op : targets) {
      SmallVector<int64_t> ranges = op.getStaticLoopRanges();
      // Saturating: huge static shapes must not overflow (they are worth splitting anyway).
      int64_t work = 1;
      for (int64_t r : ranges)
        if (llvm::MulOverflow(work, r, work))
          work = std::numeric_limits<int64_t>::max();
      if (work < minWork)
        continue;
      std::optional<unsigned> dim;
      int64_t tile = 0;
      // Micro-kernel convolutions split images, else output rows, else (one row of one image:
      // a 1-D convolution as 2-D) output columns in whole panels of kConvColumnGranule pixels
      // (the kernel computes a partial panel at the cost of a full one); never the filter; the
      // last chunk may be shorter.
      if (isa<linalg::Conv2DNchwFchwOp>(op.getOperation()) &&
          op->hasAttr(sparq::kMicroKernelAttr)) {
        const int64_t panels = llvm::divideCeil(ranges[3], kConvColumnGranule);
        unsigned d = ranges[0] >= maxChunks ? 0
                     : ranges[2] >= 2       ? 2
                     : ranges[0] < 2 && panels >= 2 ? 3
                                                    : 0;
        if (ranges[d] < 2)
          continue;
        dim = d;
        tile = d == 3 ? kConvColumnGranule * llvm::divideCeil(panels, std::min<int64_t>(maxChunks, panels))
                      : (ranges[d] + maxChunks - 1) / maxChunks;
      } else if (auto kind = op->getAttrOfType<StringAttr>(sparq::kMicroKernelAttr);
                 kind && kind.getValue() == sparq::kGemmKernel) {
        // The packed-weight GEMM kernel splits its work over the threads itself
        // (sparq_uk_sgemm_packed_f32_mt), so each thread packs its block of A once.
        continue;
      }
      // Otherwise the outermost parallel loop with at least two iterations.
      auto iters = op.getIteratorTypesArray();
      for (unsigned d = 0; !dim && d < ranges.size(); ++d)
        if (iters[d] == utils::IteratorType::parallel && ranges[d] >= 2)
          dim = d;
      if (!dim)
        continue;
      // The smallest tile that divides the range and gives at most maxChunks chunks.
      int64_t range = ranges[*dim];
      if (tile == 0) {
        // The largest chunk count <= maxChunks that divides the range (O(maxChunks), whatever
        // the size of the range).
        tile = range;
        for (int64_t chunks = std::min<int64_t>(maxChunks, range); chunks >= 2; --chunks)
          if (range % chunks == 0) {
            tile = range / chunks;
            break;
          }
      }
      if (tile >= range)
        continue;
      SmallVector<int64_t> tiles(ranges.size(), 0);
      tiles[*dim] = tile;
      scf::SCFTilingOptions options;
      options.setLoopType(scf::SCFTilingOptions::LoopType::ForallOp);
      options.setTileSizes(getAsIndexOpFoldResult(ctx, tiles));
      rewriter.setInsertionPoint(op);
      auto tiled = scf::tileUsingSCF(rewriter, cast<TilingInterface>(op.getOperation()), options);
      if (failed(tiled))
        continue;
      rewriter.replaceOp(op, tiled->replacements);
    }
  }
};

} // namespace
