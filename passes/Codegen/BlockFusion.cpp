//===- passes/Codegen/BlockFusion.cpp - a residual block as one loop over row tiles ===//
//
// sparq-block-fusion finds convolution blocks (ResNet bottlenecks, MobileNet inverted residuals:
// up to three convolutions of which at most one has a spatial kernel, the elementwise ops and
// paddings between them, the bias broadcasts, the residual add and a projection shortcut) and
// computes each as one scf.forall over tiles of output rows: upstream's tile-and-fuse
// (scf::tileConsumerAndFuseProducersUsingSCF) tiles the block's last op and pulls every other op
// of the block into the loop, each computing the rows its consumer's tile needs (a k x k
// convolution's halo rows are recomputed by the neighbouring tiles). Intermediates exist only per
// tile, sized by the tile-height choice below to stay in the L2 cache; the convolutions inside
// keep running on the micro-kernels (sparq-cpu-select-ukernels marks them afterwards).
//
//===----------------------------------------------------------------------===//
#include "passes/Codegen/InvertedResidual.h"
#include "passes/Codegen/KernelCost.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/TilingInterface.h"

#include "llvm/ADT/SetVector.h"
#include <functional>
#include "llvm/Support/FormatVariadic.h"

namespace sparq {
#define GEN_PASS_DEF_BLOCKFUSIONPASS
#include "passes/Codegen/Passes.h.inc"
} // namespace sparq

using namespace mlir;

namespace {

constexpr int kMaxConvs = 3;
/// Stack one task of the inverted-residual kernel may use (its ring of expanded rows).
constexpr int64_t kMaxKernelScratch = 512 * 1024;

/// Kernel size, strides and dilation along H of an NCHW convolution (plain or depthwise).
struct RowWindow {
  int64_t kh = 1, kw = 1, stride = 1, strideW = 1, dilation = 1;
  bool spatial() const { return kh > 1 || kw > 1 || stride > 1 || strideW > 1; }
  /// Input rows the convolution reads to produce `rows` output rows.
  int64_t inputRows(int64_t rows) const { return (rows - 1) * stride + (kh - 1) * dilation + 1; }
};

std::optional<RowWindow> convWindow(Operation *op) {
  auto conv = dyn_cast<linalg::LinalgOp>(op);
  if (!conv || !isa<linalg::Conv2DNchwFchwOp, linalg::DepthwiseConv2DNchwChwOp>(op))
    return std::nullopt;
  auto filter = dyn_cast<RankedTensorType>(conv.getDpsInputOperand(1)->get().getType());
  if (!filter || !filter.hasStaticShape())
    return std::nullopt;
  auto strides = op->getAttrOfType<DenseIntElementsAttr>("strides");
  auto dilations = op->getAttrOfType<DenseIntElementsAttr>("dilations");
  RowWindow w;
  unsigned rank = filter.getRank();
  w.kh = filter.getDimSize(rank - 2);
  w.kw = filter.getDimSize(rank - 1);
  if (strides) {
    auto s = llvm::to_vector(strides.getValues<int64_t>());
    w.stride = s[0];
    w.strideW = s[1];
  }
  if (dilations)
    w.dilation = *dilations.getValues<int64_t>().begin();
  return w;
}

/// An all-parallel linalg.generic with one 4-D result indexed by the identity (an elementwise op,
/// possibly reading broadcast operands).
bool isElementwise(Operation *op) {
  auto generic = dyn_cast<linalg::GenericOp>(op);
  if (!generic || generic.getNumDpsInits() != 1 || generic.getNumReductionLoops() != 0 ||
      generic->getNumResults() != 1)
    return false;
  auto type = dyn_cast<RankedTensorType>(generic->getResult(0).getType());
  return type && type.getRank() == 4 &&
         generic.getMatchingIndexingMap(generic.getDpsInitOperand(0)).isIdentity() &&
         llvm::all_of(generic.getIndexingMapsArray(),
                      [](AffineMap m) { return m.isProjectedPermutation(); });
}

/// The full-size 4-D inputs of an elementwise op (identity-indexed), as opposed to broadcast
/// ones (a bias, a constant).
SmallVector<Value> fullInputs(linalg::GenericOp op) {
  SmallVector<Value> full;
  for (OpOperand *in : op.getDpsInputOperands())
    if (op.getMatchingIndexingMap(in).isIdentity())
      full.push_back(in->get());
  return full;
}

/// A block found from its last op: the ops tile-and-fuse may pull into the loop, and what the
/// report says about it.
struct BlockPlan {
  Operation *root = nullptr;
  llvm::SetVector<Operation *> ops;
  /// Convolutions on the main path, root side first.
  SmallVector<Operation *> convs;
  /// The ops of the main path from the root back to the block input.
  SmallVector<Operation *> path;
  bool residual = false, projection = false;
  std::string why;
};

/// Whether every user of every result of `op` is in `set`.
bool usedOnlyBy(Operation *op, const llvm::SetVector<Operation *> &set) {
  return llvm::all_of(op->getUsers(), [&](Operation *u) { return set.contains(u); });
}

/// The producers of `op`'s init operands and broadcast inputs that a tile needs too: broadcasts,
/// fills and elementwise ops of constants (a bias), each used only by `op`.
void addSideProducers(Operation *op, BlockPlan &plan) {
  for (Value v : op->getOperands()) {
    Operation *def = v.getDefiningOp();
    if (!def || plan.ops.contains(def) || !def->hasOneUse())
      continue;
    if (isa<linalg::BroadcastOp, linalg::FillOp>(def))
      plan.ops.insert(def);
  }
}

/// Walks back from `root` along the data operand of each op: convolutions (at most kMaxConvs,
/// at most one spatial), elementwise ops with one full-size operand, constant pads. Every value
/// on the path but the block input must have one use.
BlockPlan planBlock(Operation *root) {
  BlockPlan plan;
  plan.root = root;
  plan.ops.insert(root);
  Value skip;
  Value cur;
  if (isElementwise(root)) {
    SmallVector<Value> full = fullInputs(cast<linalg::GenericOp>(root));
    // The main operand: a convolution's result (through elementwise ops); with two, the other is
    // the skip connection.
    auto reachesConv = [](Value v) {
      for (int steps = 0; steps < 8; ++steps) {
        Operation *def = v.getDefiningOp();
        if (!def || !v.hasOneUse())
          return false;
        if (convWindow(def))
          return true;
        if (!isElementwise(def))
          return false;
        SmallVector<Value> next = fullInputs(cast<linalg::GenericOp>(def));
        if (next.size() != 1)
          return false;
        v = next[0];
      }
      return false;
    };
    if (full.size() == 1) {
      cur = full[0];
    } else if (full.size() == 2) {
      bool r0 = reachesConv(full[0]), r1 = reachesConv(full[1]);
      // With a convolution on both sides, the main path is the longer one; the other (a
      // projection) joins below.
      auto depth = [](Value v) {
        int n = 0;
        for (Operation *def = v.getDefiningOp(); def && n < 16; ++n) {
          if (convWindow(def))
            def = def->getOperand(0).getDefiningOp();
          else if (auto g = dyn_cast<linalg::GenericOp>(def))
            def = g.getDpsInputOperand(0)->get().getDefiningOp();
          else if (auto pad = dyn_cast<tensor::PadOp>(def))
            def = pad.getSource().getDefiningOp();
          else
            break;
        }
        return n;
      };
      if (r0 && (!r1 || depth(full[0]) >= depth(full[1]))) {
        cur = full[0];
        skip = full[1];
      } else if (r1) {
        cur = full[1];
        skip = full[0];
      }
      plan.residual = true;
    }
    if (!cur) {
      plan.why = "its last op does not read a convolution";
      return plan;
    }
  } else if (convWindow(root)) {
    cur = root->getResult(0);
  } else {
    plan.why = "not a convolution or an elementwise op";
    return plan;
  }
  addSideProducers(root, plan);
  if (convWindow(root)) {
    plan.convs.push_back(root);
    plan.path.push_back(root);
    cur = root->getOperand(0);
  }
  int spatial = plan.convs.empty() ? 0 : convWindow(root)->spatial();
  // Walk back; `stop` says why the chain ends where it does.
  std::string stop;
  while (true) {
    Operation *def = cur.getDefiningOp();
    if (!def) {
      stop = "the function's input";
      break;
    }
    if (cur == skip || def->getBlock() != root->getBlock())
      break;
    if (!cur.hasOneUse() || !usedOnlyBy(def, plan.ops)) {
      stop = "a value used more than once";
      break;
    }
    if (std::optional<RowWindow> w = convWindow(def)) {
      auto conv = cast<linalg::LinalgOp>(def);
      if ((int)plan.convs.size() == kMaxConvs) {
        stop = "a convolution past the third";
        break;
      }
      if (w->spatial() && spatial) {
        stop = "a second convolution with a spatial kernel or a stride";
        break;
      }
      if (!conv.hasPureTensorSemantics())
        break;
      spatial += w->spatial();
      plan.convs.push_back(def);
      plan.ops.insert(def);
      plan.path.push_back(def);
      addSideProducers(def, plan);
      cur = conv.getDpsInputOperand(0)->get();
      continue;
    }
    if (auto pad = dyn_cast<tensor::PadOp>(def)) {
      // Constant padding only (the tiled pad fills its border rows with it).
      if (!pad.getConstantPaddingValue()) {
        stop = "a padding that is not constant";
        break;
      }
      plan.ops.insert(def);
      plan.path.push_back(def);
      cur = pad.getSource();
      continue;
    }
    if (isElementwise(def)) {
      SmallVector<Value> next = fullInputs(cast<linalg::GenericOp>(def));
      if (next.size() != 1) {
        stop = "an elementwise op of two full-size tensors (a join)";
        break;
      }
      plan.ops.insert(def);
      plan.path.push_back(def);
      addSideProducers(def, plan);
      cur = next[0];
      continue;
    }
    // A compressed-weight layer is a kernel call on buffers by now (sparq-cpu-compressed-ukernels).
    if (isa<bufferization::ToTensorOp>(def))
      stop = "a compressed-weight layer (its kernel call is not tiled by block fusion yet)";
    else
      stop = "'" + def->getName().getStringRef().str() +
             "', which is not a convolution, an elementwise op or a padding";
    break;
  }
  // The block starts at its first convolution: ops after it on the path (towards the input) are
  // not part of it.
  while (!plan.path.empty() && !convWindow(plan.path.back())) {
    plan.ops.remove(plan.path.back());
    plan.path.pop_back();
  }
  Value input = plan.convs.empty()
                    ? Value()
                    : cast<linalg::LinalgOp>(plan.convs.back()).getDpsInputOperand(0)->get();
  // A projection shortcut: a convolution of the block input used only by the root.
  if (skip && input)
    if (Operation *def = skip.getDefiningOp())
      if (convWindow(def) && def->getOperand(0) == input && skip.hasOneUse() &&
          cast<linalg::LinalgOp>(def).hasPureTensorSemantics()) {
        plan.ops.insert(def);
        addSideProducers(def, plan);
        plan.projection = true;
      }
  if (plan.convs.size() < 2)
    plan.why = llvm::formatv("{0} convolution(s) on its main path; a block needs two{1}",
                             plan.convs.size(), stop.empty() ? "" : " (the chain stops at " + stop + ")")
                   .str();
  return plan;
}

} // namespace

namespace {

struct BlockFusionPass : public sparq::impl::BlockFusionPassBase<BlockFusionPass> {
  using BlockFusionPassBase::BlockFusionPassBase;
  BlockFusionPass(const sparq::BlockFusionPassOptions &options, sparq::FusionRecordSink sink)
      : BlockFusionPassBase(options), sink(std::move(sink)) {}

  sparq::FusionRecordSink sink;

  /// A remark (with `report`) and a record (to the sink) on the chain ending at `root`.
  void note(Operation *at, Operation *root, sparq::FusionRecord record) {
    record.root = sparq::onnxNames(root->getLoc());
    if (report) {
      if (record.fused && record.tileRows == 0)
        at->emitRemark("sparq-block-fusion: fused ")
            << record.kind << " (" << record.ops << " ops) row by row, " << record.tileBytes
            << " bytes of kernel scratch per task";
      else if (record.fused) {
        InFlightDiagnostic remark = at->emitRemark("sparq-block-fusion: fused ");
        remark << record.kind << " (" << record.ops << " ops) over tiles of " << record.tileRows
               << " output rows, " << record.tileBytes << " bytes of intermediates per tile";
        if (!record.kernelSkipped.empty())
          remark << " (not one kernel: " << record.kernelSkipped << ")";
      } else
        at->emitRemark("sparq-block-fusion: not fused: ") << record.reason;
    }
    if (sink)
      sink(record);
  }
  static sparq::FusionRecord notFused(std::string reason) {
    sparq::FusionRecord record;
    record.reason = std::move(reason);
    return record;
  }

  /// Bytes of per-tile intermediates live at once for output tiles of `rows` rows: the most, over
  /// the block's convolutions, of its input and output tiles (a padded input counted at its
  /// padded size: its producer writes into it). Elementwise ops become the kernels' epilogues and
  /// the block input is read in place, so neither counts.
  static int64_t tileBytes(const BlockPlan &plan, int64_t rows) {
    auto tile = [](Value v, int64_t r) {
      auto type = cast<RankedTensorType>(v.getType());
      return type.getDimSize(0) * type.getDimSize(1) * r * type.getDimSize(3) * 4;
    };
    int64_t most = 0, r = rows;
    for (Operation *conv : plan.convs) {
      RowWindow w = *convWindow(conv);
      int64_t in = 0, out = tile(conv->getResult(0), r);
      r = w.inputRows(r);
      if (conv != plan.convs.back())
        in = tile(cast<linalg::LinalgOp>(conv).getDpsInputOperand(0)->get(), r);
      most = std::max(most, in + out);
    }
    return most;
  }

  /// Upstream's tiled tensor.pad guards the case of a tile that reads no source rows with an
  /// scf.if (a tensor.generate of the padding value, else the pad of the slice). The else branch
  /// computes that case right too (an empty slice padded to the tile), and the kernels need one
  /// buffer layout for their input: keep only the else branch.
  static void dropZeroSliceGuards(RewriterBase &rewriter, Operation *loop) {
    SmallVector<scf::IfOp> guards;
    loop->walk([&](scf::IfOp op) {
      Block &then = op.getThenRegion().front();
      if (op.getNumResults() == 1 && !op.getElseRegion().empty() &&
          then.getOperations().size() == 2 && isa<tensor::GenerateOp>(then.front()))
        guards.push_back(op);
    });
    for (scf::IfOp op : guards) {
      Block &otherwise = op.getElseRegion().front();
      auto yield = cast<scf::YieldOp>(otherwise.getTerminator());
      Value result = yield.getOperand(0);
      rewriter.eraseOp(yield);
      rewriter.inlineBlockBefore(&otherwise, op);
      rewriter.replaceOp(op, result);
    }
  }

  /// Moves the tensor.extract_slice ops of values defined outside `loop` and of its shared
  /// outputs (with the index computations they use) to the top of its body, so that the
  /// micro-kernel epilogue folding finds a residual operand, and the output tile to write into,
  /// defined before the convolution that adds it.
  static void hoistInputSlices(RewriterBase &rewriter, scf::ForallOp loop) {
    Block *body = loop.getBody();
    SmallVector<tensor::ExtractSliceOp> slices;
    for (Operation &op : *body)
      if (auto slice = dyn_cast<tensor::ExtractSliceOp>(op))
        if (!loop.getRegion().isAncestor(slice.getSource().getParentRegion()) ||
            llvm::is_contained(loop.getRegionIterArgs(), slice.getSource()))
          slices.push_back(slice);
    llvm::DenseSet<Operation *> moved;
    Operation *last = nullptr;
    std::function<bool(Operation *)> movable = [&](Operation *op) {
      for (Value v : op->getOperands()) {
        Operation *def = v.getDefiningOp();
        if (!def || def->getBlock() != body || moved.contains(def))
          continue;
        if (!isa<affine::AffineApplyOp, affine::AffineMinOp, affine::AffineMaxOp,
                 arith::ConstantOp>(def) ||
            !movable(def))
          return false;
      }
      return true;
    };
    // Each op goes right after the previous one moved, its dependencies first.
    std::function<void(Operation *)> move = [&](Operation *op) {
      for (Value v : op->getOperands())
        if (Operation *def = v.getDefiningOp();
            def && def->getBlock() == body && !moved.contains(def))
          move(def);
      if (last)
        rewriter.moveOpAfter(op, last);
      else
        rewriter.moveOpBefore(op, body, body->begin());
      moved.insert(op);
      last = op;
    };
    for (tensor::ExtractSliceOp slice : slices)
      if (movable(slice))
        move(slice);
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (scratchKiB < 1 || minTiles < 1) {
      module.emitError("sparq-block-fusion: scratch-kib and min-tiles must be at least 1, got ")
          << scratchKiB.getValue() << " and " << minTiles.getValue();
      return signalPassFailure();
    }
    for (func::FuncOp func : module.getOps<func::FuncOp>())
      runOnFunction(module, func);
  }

  /// Erases the block's ops the fused form no longer uses, users first.
  static void eraseDead(RewriterBase &rewriter, const llvm::SetVector<Operation *> &ops) {
    SmallVector<Operation *> dead(ops.begin(), ops.end());
    llvm::sort(dead, [](Operation *a, Operation *b) { return b->isBeforeInBlock(a); });
    for (Operation *op : dead)
      if (op->use_empty())
        rewriter.eraseOp(op);
  }

  /// The block as one sparq_uk_mbconv_f32_mt call when it has that kernel's form; false (and
  /// nothing changed) otherwise, with the reason in `why` (empty when the kernel is off or the
  /// block has not three convolutions).
  bool fuseAsKernel(ModuleOp module, IRRewriter &rewriter, const BlockPlan &plan,
                    llvm::DenseSet<Operation *> &taken, std::string &why) {
    if (!invertedResidualKernel || plan.convs.size() != 3)
      return false;
    FailureOr<sparq::InvertedResidualFusion> fused = sparq::fuseInvertedResidual(
        module, plan.root, plan.path, plan.residual, kMaxKernelScratch, why);
    if (failed(fused))
      return false;
    // The block's ops are still there (only the root's uses moved to the call): the cost of the
    // ops the call replaces, as for a loop of row tiles, and their locations.
    SmallVector<Operation *> blockOps(plan.ops.begin(), plan.ops.end());
    SmallVector<Location> locs =
        llvm::map_to_vector(blockOps, [](Operation *op) { return op->getLoc(); });
    sparq::setKernelCost(fused->call, sparq::fusedCost(blockOps, {plan.root}));
    const std::string &kind = fused->kind;
    sparq::FusionRecord record;
    record.fused = true;
    record.kind = kind;
    record.ops = int64_t(plan.ops.size());
    record.tileRows = 0; // row by row, no row tiles
    record.tileBytes = fused->scratchBytes;
    Location blockLoc = rewriter.getFusedLoc(locs);
    record.names = sparq::onnxNames(blockLoc);
    Operation *call = fused->call;
    call->setAttr("sparq.fused_block", rewriter.getStringAttr(kind));
    note(call, plan.root, record);
    call->setLoc(blockLoc);
    for (Operation *op : plan.ops)
      taken.insert(op);
    eraseDead(rewriter, plan.ops);
    return true;
  }

  void runOnFunction(ModuleOp module, func::FuncOp func) {
    llvm::DenseSet<Operation *> taken;
    SmallVector<Operation *> candidates;
    func.walk([&](Operation *op) {
      if (isa<linalg::GenericOp, linalg::Conv2DNchwFchwOp, linalg::DepthwiseConv2DNchwChwOp>(op) &&
          op->getParentOp() == func)
        candidates.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    // From the end: a block's root is the last op of its block.
    for (Operation *root : llvm::reverse(candidates)) {
      if (taken.contains(root))
        continue;
      auto type = dyn_cast<RankedTensorType>(root->getResult(0).getType());
      if (!type || type.getRank() != 4 || !type.hasStaticShape() ||
          !cast<linalg::LinalgOp>(root).hasPureTensorSemantics())
        continue;
      BlockPlan plan = planBlock(root);
      if (!plan.why.empty()) {
        // Only convolution chains are worth a remark.
        if (!plan.convs.empty())
          note(root, root, notFused(plan.why));
        continue;
      }
      std::string kernelSkipped;
      if (fuseAsKernel(module, rewriter, plan, taken, kernelSkipped))
        continue;
      int64_t rows = type.getDimSize(2);
      // The tallest tile whose intermediates fit the scratch budget, with at least min-tiles
      // tiles; among the heights down to half of it, one that divides the rows if any.
      int64_t cap = std::max<int64_t>(1, (rows + minTiles - 1) / minTiles);
      int64_t budget = scratchKiB * 1024, th = 0;
      for (int64_t t = cap; t >= 1 && !th; --t)
        if (tileBytes(plan, t) <= budget)
          th = t;
      if (!th) {
        note(root, root,
             notFused(llvm::formatv("one output row needs {0} bytes of intermediates, over the "
                                    "{1} KiB scratch budget",
                                    tileBytes(plan, 1), int64_t(scratchKiB))));
        continue;
      }
      for (int64_t t = th; t * 2 >= th; --t)
        if (rows % t == 0) {
          th = t;
          break;
        }
      auto tileable = cast<TilingInterface>(root);
      SmallVector<OpFoldResult> sizes(tileable.getLoopIteratorTypes().size(),
                                      rewriter.getIndexAttr(0));
      sizes[0] = rewriter.getIndexAttr(1);
      sizes[2] = rewriter.getIndexAttr(th);
      scf::SCFTileAndFuseOptions options;
      options.tilingOptions.setTileSizes(sizes);
      options.tilingOptions.setLoopType(scf::SCFTilingOptions::LoopType::ForallOp);
      const llvm::SetVector<Operation *> &ops = plan.ops;
      options.setFusionControlFn(
          [&](tensor::ExtractSliceOp, OpResult producer,
              bool) -> std::optional<scf::SCFTileAndFuseOptions::ControlFnResult> {
            if (!ops.contains(producer.getOwner()))
              return std::nullopt;
            return scf::SCFTileAndFuseOptions::ControlFnResult{};
          });
      // The block's cost and its ops' locations, taken before tiling replaces them.
      SmallVector<Operation *> blockOps(ops.begin(), ops.end());
      sparq::KernelCost cost = sparq::fusedCost(blockOps, {root});
      SmallVector<Location> locs = llvm::map_to_vector(blockOps, [](Operation *op) {
        return op->getLoc();
      });
      rewriter.setInsertionPoint(root);
      FailureOr<scf::SCFTileAndFuseResult> fused =
          scf::tileConsumerAndFuseProducersUsingSCF(rewriter, tileable, options);
      if (failed(fused)) {
        note(root, root, notFused("tiling failed"));
        continue;
      }
      for (OpResult r : root->getResults())
        if (Value repl = fused->replacements.lookup(r))
          rewriter.replaceAllUsesWith(r, repl);
      std::string kind = llvm::formatv(
          "{0}{1} of {2} convolutions{3}", plan.residual ? "residual block" : "convolution chain",
          plan.projection ? " with projection" : "", plan.convs.size(),
          llvm::any_of(plan.convs, [](Operation *c) {
            return isa<linalg::DepthwiseConv2DNchwChwOp>(c);
          }) ? " (depthwise)" : "");
      Operation *loop = fused->loops.front().getOperation();
      dropZeroSliceGuards(rewriter, loop);
      hoistInputSlices(rewriter, cast<scf::ForallOp>(loop));
      loop->setAttr("sparq.fused_block", rewriter.getStringAttr(kind));
      loop->setAttr("sparq.tile_rows", rewriter.getI64IntegerAttr(th));
      sparq::setKernelCost(loop, cost);
      sparq::FusionRecord record;
      record.fused = true;
      record.kind = kind;
      record.ops = int64_t(ops.size());
      record.tileRows = th;
      record.tileBytes = tileBytes(plan, th);
      record.kernelSkipped = kernelSkipped;
      Location blockLoc = rewriter.getFusedLoc(locs);
      record.names = sparq::onnxNames(blockLoc);
      note(loop, root, record);
      loop->setLoc(blockLoc);
      for (Operation *op : ops)
        taken.insert(op);
      // The original ops are dead now (the loop computes the root).
      eraseDead(rewriter, ops);
    }
  }
};

} // namespace

std::unique_ptr<mlir::Pass> sparq::createBlockFusionPass(const BlockFusionPassOptions &options,
                                                         FusionRecordSink sink) {
  return std::make_unique<BlockFusionPass>(options, std::move(sink));
}
