//===- passes/Codegen/LinalgTileAndVectorize.cpp - tile + vectorize kernels ----===//
//
// Tiles contractions (matmul, batch_matmul, generic contractions) and convolutions on tensors so
// that each tile fits in vector registers, decomposes 2-D convolution tiles into 1-D ones, and
// vectorizes the tiles. Tile sizes are shrunk to divisors of the static loop ranges so every tile
// is full and static (no masking or peeling needed); a contraction's dynamic ranges get partial
// last tiles, which stay loops for LLVM to vectorize.
//
//===----------------------------------------------------------------------===//
#include "passes/Codegen/MicroKernels.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/TypeUtilities.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace sparq {
#define GEN_PASS_DEF_LINALGTILEANDVECTORIZEPASS
#include "passes/Codegen/Passes.h.inc"
} // namespace sparq

using namespace mlir;

namespace {

/// Iteration points above which an op is not vectorized whole (tiles are far smaller).
constexpr int64_t kMaxVectorizedPoints = 1 << 16;
/// Widest convolution filter whose taps a vectorized tile unrolls; wider ones loop over taps.
constexpr int64_t kMaxUnrolledFilterWidth = 4;

/// Largest divisor of `range` that is <= `want` (>= 1).
int64_t divisorTile(int64_t range, int64_t want) {
  if (range <= want)
    return range;
  for (int64_t t = want; t > 1; --t)
    if (range % t == 0)
      return t;
  return 1;
}

struct LinalgTileAndVectorizePass
    : public sparq::impl::LinalgTileAndVectorizePassBase<LinalgTileAndVectorizePass> {
  using LinalgTileAndVectorizePassBase::LinalgTileAndVectorizePassBase;

  /// Tile sizes per loop for a contraction or convolution; empty if not handled.
  SmallVector<int64_t> tileSizesFor(linalg::LinalgOp op) {
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    SmallVector<int64_t> tiles(ranges.size(), 0);
    if (linalg::isaContractionOpInterface(op)) {
      auto dims = linalg::inferContractionDims(op);
      if (failed(dims))
        return {};
      // A dynamic range (batch or sequence rows read at run time) is tiled by the wanted size
      // with a partial last tile: such a tile is not vectorized here (its shape is dynamic), and
      // LLVM's loop vectorizer takes its static inner loops, as for the static integer
      // contractions below. Untiled, the contraction ran as one (m, n, k) loop nest striding
      // down B's columns (a speech encoder's int8 MLP: 17 ms per MatMulInteger, 1.2 ms tiled).
      auto tileOf = [&](int64_t range, int64_t want) {
        return ShapedType::isDynamic(range) ? want : divisorTile(range, want);
      };
      for (unsigned d : dims->batch) tiles[d] = 1;
      for (unsigned d : dims->m) tiles[d] = 1;
      for (unsigned d : dims->n) tiles[d] = 1;
      for (unsigned d : dims->k) tiles[d] = 1;
      if (!dims->m.empty()) tiles[dims->m.back()] = tileOf(ranges[dims->m.back()], tileM);
      if (!dims->n.empty()) tiles[dims->n.back()] = tileOf(ranges[dims->n.back()], tileN);
      if (!dims->k.empty()) tiles[dims->k.back()] = tileOf(ranges[dims->k.back()], tileK);
      return tiles;
    }
    if (llvm::any_of(ranges, ShapedType::isDynamic))
      return {};
    if (isa<linalg::Conv2DNchwFchwOp, linalg::Conv2DNhwcHwcfOp, linalg::DepthwiseConv2DNhwcHwcOp,
            linalg::Conv1DNcwFcwOp, linalg::Conv1DNwcWcfOp>(op.getOperation())) {
      auto dims = linalg::inferConvolutionDims(op);
      if (failed(dims))
        return {};
      for (unsigned d : dims->batch) tiles[d] = 1;
      // All output-image dims but the innermost to 1; the innermost (width) is the M of the tile.
      for (unsigned d : dims->outputImage) tiles[d] = 1;
      tiles[dims->outputImage.back()] = divisorTile(ranges[dims->outputImage.back()], tileM);
      for (unsigned d : dims->outputChannel) tiles[d] = divisorTile(ranges[d], tileN);
      for (unsigned d : dims->depth) tiles[d] = divisorTile(ranges[d], tileN);
      for (unsigned d : dims->inputChannel) tiles[d] = divisorTile(ranges[d], tileK);
      // Filter rows to 1 so the 2-D tile decomposes into a 1-D convolution; keep the width
      // unless it is wide: the 1-D vectorizer unrolls every tap for every output column (a
      // 127-tap, stride-64 front end of a speech encoder took minutes of canonicalization over
      // the unrolled LLVM IR), so wide filters go one tap per iteration of a loop.
      for (unsigned d : dims->filterLoop) tiles[d] = 1;
      int64_t width = ranges[dims->filterLoop.back()];
      tiles[dims->filterLoop.back()] =
          !ShapedType::isDynamic(width) && width > kMaxUnrolledFilterWidth ? 1 : 0;
      return tiles;
    }
    return {};
  }

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    MLIRContext *ctx = &getContext();
    SmallVector<linalg::LinalgOp> targets;
    func.walk([&](linalg::LinalgOp op) {
      // Micro-kernel contractions are called whole (sparq-cpu-lower-ukernels).
      if (op.hasPureTensorSemantics() && !op->hasAttr(sparq::kMicroKernelAttr))
        targets.push_back(op);
    });

    IRRewriter rewriter(ctx);
    for (linalg::LinalgOp op : targets) {
      SmallVector<int64_t> tiles = tileSizesFor(op);
      if (tiles.empty())
        continue;
      scf::SCFTilingOptions options;
      options.setTileSizes(getAsIndexOpFoldResult(ctx, tiles));
      rewriter.setInsertionPoint(op);
      auto tiled = scf::tileUsingSCF(rewriter, cast<TilingInterface>(op.getOperation()), options);
      if (failed(tiled))
        continue;
      rewriter.replaceOp(op, tiled->replacements);
    }

    // 2-D convolution tiles with unit filter height become 1-D convolutions. Micro-kernel ops
    // (whose marker a rewrite would drop, and whose folded epilogues change their meaning) are
    // left out: the patterns run on every other op only.
    {
      RewritePatternSet patterns(ctx);
      linalg::populateDecomposeConvolutionPatterns(patterns);
      tensor::ExtractSliceOp::getCanonicalizationPatterns(patterns, ctx);
      SmallVector<Operation *> ops;
      func.walk([&](Operation *op) {
        if (!op->hasAttr(sparq::kMicroKernelAttr))
          ops.push_back(op);
      });
      // Only the listed ops and the ops the patterns create: with the default strictness the
      // driver also visits the users of rewritten ops, which decomposed a marked 1x1
      // convolution chunk one output row high into a 1-D convolution, dropping its marker and
      // vectorizing it whole (minutes of compile time for a batch-2 pointwise convolution).
      GreedyRewriteConfig config;
      config.setStrictness(GreedyRewriteStrictness::ExistingAndNewOps);
      (void)applyOpPatternsGreedily(ops, std::move(patterns), config);
    }

    // Vectorize every static contraction, convolution and fill.
    SmallVector<Operation *> toVectorize;
    func.walk([&](linalg::LinalgOp op) {
      if (!op.hasPureTensorSemantics() || op.hasDynamicShape() ||
          op->hasAttr(sparq::kMicroKernelAttr))
        return;
      // Vectors of i1 are bit-packed in memory while i1 tensors are byte-per-element: never
      // vectorize boolean ops.
      auto isBool = [](Type t) { return getElementTypeOrSelf(t).isInteger(1); };
      if (llvm::any_of(op->getOperandTypes(), isBool) ||
          llvm::any_of(op->getResultTypes(), isBool))
        return;
      // Only register-sized ops: a whole untiled tensor would become one huge vector (and a
      // stack temporary of that size when it is lowered).
      int64_t points = 1;
      for (int64_t r : op.getStaticLoopRanges())
        points *= r;
      if (points > kMaxVectorizedPoints)
        return;
      // Integer contractions (MatMulInteger, ConvInteger) stay loops: vector.contract over
      // i32 lowers to one reduction per output element, unrolled (half a million LLVM ops and
      // minutes of compile time for a small speech encoder), where LLVM's loop vectorizer
      // handles the scalar loops.
      bool integerContraction =
          linalg::isaContractionOpInterface(op) &&
          !isa<FloatType>(getElementTypeOrSelf(op->getResultTypes().front()));
      if ((linalg::isaContractionOpInterface(op) && !integerContraction) ||
          isa<linalg::Conv1DNwcWcfOp, linalg::Conv1DNcwFcwOp, linalg::DepthwiseConv1DNwcWcOp,
              linalg::FillOp>(op.getOperation()))
        toVectorize.push_back(op);
    });
    for (Operation *op : toVectorize) {
      rewriter.setInsertionPoint(op);
      auto result = linalg::vectorize(rewriter, op);
      if (succeeded(result))
        rewriter.replaceOp(op, result->replacements);
    }
    {
      RewritePatternSet patterns(ctx);
      vector::populateVectorReductionToContractPatterns(patterns);
      vector::TransferReadOp::getCanonicalizationPatterns(patterns, ctx);
      vector::TransferWriteOp::getCanonicalizationPatterns(patterns, ctx);
      (void)applyPatternsGreedily(func, std::move(patterns));
    }
  }
};

} // namespace
