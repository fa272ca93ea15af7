//===- passes/Codegen/MicroKernels.cpp - contractions on the CPU micro-kernels ===//
//
// sparq-cpu-select-ukernels marks, on tensors, the ops the CPU micro-kernels run: f32
// contractions (with a constant weight, or a right-hand side computed at run time), NCHW
// convolutions with a constant filter and NCHW depthwise convolutions.
// sparq-cpu-lower-ukernels, after bufferization, packs constant weights and filters at compile
// time (include/sparq/Formats/DensePanels.h) and replaces each marked op with a call of its
// kernel (runtime/kernels) on the addresses, sizes and strides of its buffers.
//
//===----------------------------------------------------------------------===//
#include "passes/Codegen/MicroKernels.h"
#include "passes/Passes.h"

#include "dialects/Common/ConstantData.h"
#include "dialects/Common/ScalarBuilder.h"
#include "sparq/Formats/DensePanels.h"
#include "sparq/Kernels/UKernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <map>
#include <tuple>

namespace sparq {
#define GEN_PASS_DEF_SELECTMICROKERNELSPASS
#define GEN_PASS_DEF_LOWERMICROKERNELSPASS
#include "passes/Codegen/Passes.h.inc"
} // namespace sparq

using namespace mlir;

namespace sparq {

std::optional<PackedGemm> matchPackedGemm(linalg::LinalgOp op) {
  if (op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1 ||
      !linalg::isaContractionOpInterface(op))
    return std::nullopt;
  for (OpOperand &operand : op->getOpOperands())
    if (!getElementTypeOrSelf(operand.get().getType()).isF32())
      return std::nullopt;
  FailureOr<linalg::ContractionDimensions> dims = linalg::inferContractionDims(op);
  if (failed(dims) || dims->n.empty() || dims->k.empty())
    return std::nullopt;
  // The loops each operand indexes, in order; ~0u for a non-dimension expression.
  auto results = [&](AffineMap map) {
    SmallVector<unsigned> loops;
    for (AffineExpr e : map.getResults()) {
      auto d = dyn_cast<AffineDimExpr>(e);
      loops.push_back(d ? d.getPosition() : ~0u);
    }
    return loops;
  };
  auto isIn = [](ArrayRef<unsigned> set, unsigned d) { return llvm::is_contained(set, d); };
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  SmallVector<unsigned> out = results(maps[2]);
  // C[batch..., m..., n...]: the output's leading loops are the batch group, its trailing ones
  // the n group, the rest the m group.
  size_t nb = dims->batch.size(), split = out.size() - dims->n.size();
  if (out.size() < nb + dims->n.size() ||
      !llvm::all_of(ArrayRef(out).take_front(nb), [&](unsigned d) { return isIn(dims->batch, d); }) ||
      !llvm::all_of(ArrayRef(out).slice(nb, split - nb),
                    [&](unsigned d) { return isIn(dims->m, d); }) ||
      !llvm::all_of(ArrayRef(out).drop_front(split), [&](unsigned d) { return isIn(dims->n, d); }))
    return std::nullopt;
  PackedGemm g;
  g.batchLoops.assign(out.begin(), out.begin() + nb);
  g.mLoops.assign(out.begin() + nb, out.begin() + split);
  g.nLoops.assign(out.begin() + split, out.end());
  if (g.mLoops.size() != dims->m.size())
    return std::nullopt;
  for (unsigned lhs = 0; lhs < 2; ++lhs) {
    SmallVector<unsigned> a = results(maps[lhs]), b = results(maps[1 - lhs]);
    // A[batch..., m..., k...] with the k group in the order A indexes it.
    SmallVector<unsigned> bm(g.batchLoops);
    bm.append(g.mLoops);
    if (a.size() != bm.size() + dims->k.size() || !llvm::equal(ArrayRef(a).take_front(bm.size()), bm))
      continue;
    SmallVector<unsigned> k(a.begin() + bm.size(), a.end());
    if (!llvm::all_of(k, [&](unsigned d) { return isIn(dims->k, d); }))
      continue;
    // B[batch..., k..., n...] or B[batch..., n..., k...], each group in the order A and C index
    // it.
    SmallVector<unsigned> kn(g.batchLoops), nk(g.batchLoops);
    kn.append(k);
    kn.append(g.nLoops);
    nk.append(g.nLoops);
    nk.append(k);
    if (b == kn) {
      g.rhsTransposed = false;
    } else if (b == nk) {
      g.rhsTransposed = true;
    } else {
      continue;
    }
    g.kLoops = k;
    g.lhs = lhs;
    g.rhs = 1 - lhs;
    return g;
  }
  return std::nullopt;
}

func::FuncOp declareKernelFunction(ModuleOp module, StringRef name, FunctionType type,
                                   SymbolTable *symbols) {
  Operation *existing =
      symbols ? symbols->lookup(name) : SymbolTable::lookupSymbolIn(module, name);
  if (existing)
    return dyn_cast<func::FuncOp>(existing);
  OpBuilder b = OpBuilder::atBlockBegin(module.getBody());
  auto fn = func::FuncOp::create(b, module.getLoc(), name, type);
  fn.setPrivate();
  if (symbols)
    symbols->insert(fn);
  return fn;
}

func::FuncOp declareIndexKernel(ModuleOp module, StringRef name, unsigned numArgs,
                                SymbolTable *symbols) {
  Builder b(module.getContext());
  return declareKernelFunction(
      module, name, b.getFunctionType(SmallVector<Type>(numArgs, b.getIndexType()), {}), symbols);
}

Value elementAddress(OpBuilder &b, Location loc, Value memref,
                     memref::ExtractStridedMetadataOp meta) {
  auto type = cast<MemRefType>(memref.getType());
  if (!meta)
    meta = memref::ExtractStridedMetadataOp::create(b, loc, memref);
  Value base = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, memref);
  ScalarBuilder sb{b, loc};
  return sb.add(base, sb.mul(meta.getOffset(), sb.cIdx((type.getElementTypeBitWidth() + 7) / 8)));
}

std::optional<std::pair<unsigned, unsigned>> swappedTrailingGroups(ArrayRef<int64_t> perm) {
  const unsigned n = unsigned(perm.size());
  unsigned p = 0;
  while (p < n && perm[p] == int64_t(p))
    ++p;
  if (p + 1 >= n)
    return std::nullopt;
  const unsigned q = unsigned(perm[p]);
  if (q <= p || q >= n)
    return std::nullopt;
  for (unsigned i = p; i < n; ++i) {
    // Output dims [p, p + n - q) are input dims [q, n), the rest input dims [p, q).
    const unsigned want = i < p + (n - q) ? q + (i - p) : p + (i - p - (n - q));
    if (perm[i] != int64_t(want))
      return std::nullopt;
  }
  return std::make_pair(p, q);
}

std::optional<unsigned> rowSumsSplit(linalg::LinalgOp op) {
  if (op.getNumDpsInputs() != 1 || op.getNumDpsInits() != 1 || op->getNumRegions() != 1)
    return std::nullopt;
  auto inType = dyn_cast<ShapedType>(op.getDpsInputOperand(0)->get().getType());
  auto outType = dyn_cast<ShapedType>(op.getDpsInitOperand(0)->get().getType());
  if (!inType || !outType || !inType.getElementType().isF32() ||
      !outType.getElementType().isF32())
    return std::nullopt;
  const unsigned n = op.getNumLoops();
  auto iters = op.getIteratorTypesArray();
  unsigned p = 0;
  while (p < n && iters[p] == utils::IteratorType::parallel)
    ++p;
  if (p == n || !llvm::all_of(ArrayRef(iters).drop_front(p), [](utils::IteratorType t) {
        return t == utils::IteratorType::reduction;
      }))
    return std::nullopt;
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  SmallVector<AffineExpr> kept;
  for (unsigned d = 0; d < p; ++d)
    kept.push_back(getAffineDimExpr(d, op.getContext()));
  if (!maps[0].isIdentity() || maps[1] != AffineMap::get(n, 0, kept, op.getContext()))
    return std::nullopt;
  // The body: yield(addf(element, accumulator)), either operand order.
  Block &body = op->getRegion(0).front();
  if (body.getOperations().size() != 2)
    return std::nullopt;
  auto add = dyn_cast<arith::AddFOp>(body.front());
  auto yield = body.getTerminator();
  if (!add || yield->getNumOperands() != 1 || yield->getOperand(0) != add.getResult())
    return std::nullopt;
  Value elem = body.getArgument(0), acc = body.getArgument(1);
  if (!((add.getLhs() == elem && add.getRhs() == acc) ||
        (add.getLhs() == acc && add.getRhs() == elem)))
    return std::nullopt;
  return p;
}

bool swapsLastTwoDims(ArrayRef<int64_t> perm) {
  const unsigned n = unsigned(perm.size());
  return swappedTrailingGroups(perm) == std::make_optional(std::make_pair(n - 2, n - 1));
}

Value convertElements(OpBuilder &b, Location loc, Value x, Type to,
                      function_ref<Value(OpBuilder &, Location, Value)> convert) {
  auto type = cast<RankedTensorType>(x.getType());
  const int64_t rank = type.getRank();
  SmallVector<Value> dyn;
  for (int64_t d = 0; d < rank; ++d)
    if (type.isDynamicDim(d))
      dyn.push_back(tensor::DimOp::create(b, loc, x, d));
  Value init = tensor::EmptyOp::create(b, loc, type.getShape(), to, dyn);
  SmallVector<AffineMap> maps(2, b.getMultiDimIdentityMap(rank));
  SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
  return linalg::GenericOp::create(b, loc, init.getType(), ValueRange{x}, ValueRange{init}, maps,
                                   iters,
                                   [&](OpBuilder &nb, Location nl, ValueRange a) {
                                     linalg::YieldOp::create(nb, nl, convert(nb, nl, a[0]));
                                   })
      .getResult(0);
}

Value productOverRows(OpBuilder &b, Location loc, Value x, int64_t n,
                      function_ref<Value(OpBuilder &, Location, Value)> product) {
  auto inType = cast<RankedTensorType>(x.getType());
  const int64_t rank = inType.getRank(), k = inType.getDimSize(rank - 1);
  int64_t m = 1;
  for (int64_t d = 0; d + 1 < rank; ++d)
    m = inType.isDynamicDim(d) || ShapedType::isDynamic(m) ? ShapedType::kDynamic
                                                           : m * inType.getDimSize(d);
  SmallVector<ReassociationIndices> collapse;
  Value rows = x;
  if (rank > 2) {
    ReassociationIndices lead;
    for (int64_t d = 0; d + 1 < rank; ++d)
      lead.push_back(d);
    collapse = {lead, {rank - 1}};
    rows = tensor::CollapseShapeOp::create(
        b, loc, RankedTensorType::get({m, k}, inType.getElementType()), x, collapse);
  }
  Value y = product(b, loc, rows);
  if (rank > 2) {
    // The leading dims of the result are the input's (read at run time where dynamic).
    SmallVector<OpFoldResult> shape;
    for (int64_t d = 0; d + 1 < rank; ++d)
      shape.push_back(inType.isDynamicDim(d)
                          ? OpFoldResult(tensor::DimOp::create(b, loc, x, d).getResult())
                          : OpFoldResult(b.getIndexAttr(inType.getDimSize(d))));
    shape.push_back(b.getIndexAttr(n));
    SmallVector<int64_t> dims(inType.getShape());
    dims.back() = n;
    y = tensor::ExpandShapeOp::create(b, loc, RankedTensorType::get(dims, b.getF32Type()), y,
                                      collapse, shape);
  }
  return y;
}

Value readAddress(OpBuilder &b, Location loc, Value v) {
  auto t = cast<RankedTensorType>(v.getType());
  Value buffer = bufferization::ToBufferOp::create(
      b, loc, MemRefType::get(t.getShape(), t.getElementType()), v, /*readOnly=*/true);
  return elementAddress(b, loc, buffer);
}

} // namespace sparq

namespace {

constexpr llvm::StringLiteral kGemmSymbol = "sparq_uk_sgemm_packed_f32_mt";
constexpr llvm::StringLiteral kConvSymbol = "sparq_uk_conv2d_nchw_packed_f32";
constexpr llvm::StringLiteral kPackFilterSymbol = "sparq_uk_pack_filter_f32";
constexpr llvm::StringLiteral kDepthwiseSymbol = "sparq_uk_dwconv2d_nchw_f32";
constexpr llvm::StringLiteral kGemmRuntimeSymbol = "sparq_uk_sgemm_f32";
constexpr llvm::StringLiteral kTransposeSymbol = "sparq_uk_transpose_f32";
constexpr llvm::StringLiteral kRowSumsSymbol = "sparq_uk_row_sums_f32";

/// Whether dims [from, to) of `t` collapse into one: ignoring unit dims, each dim's stride is the
/// next one's stride times its size.
bool collapsible(MemRefType t, unsigned from, unsigned to) {
  auto [strides, offset] = t.getStridesAndOffset();
  SmallVector<unsigned> dims;
  for (unsigned d = from; d < to; ++d)
    if (t.isDynamicDim(d) || t.getDimSize(d) != 1)
      dims.push_back(d);
  for (size_t i = 0; i + 1 < dims.size(); ++i) {
    unsigned d = dims[i], e = dims[i + 1];
    if (ShapedType::isDynamic(strides[d]) || ShapedType::isDynamic(strides[e]) ||
        t.isDynamicDim(e) || strides[d] != strides[e] * t.getDimSize(e))
      return false;
  }
  return true;
}

/// Whether the innermost dim of [from, to) of `t` that is not statically 1 has stride 1 (or there
/// is none).
bool unitStride(MemRefType t, unsigned from, unsigned to) {
  auto [strides, offset] = t.getStridesAndOffset();
  for (unsigned d = to; d > from; --d)
    if (t.isDynamicDim(d - 1) || t.getDimSize(d - 1) != 1)
      return strides[d - 1] == 1;
  return true;
}

/// The size (its dims' sizes multiplied) and stride of dims [from, to) of `t` collapsed into one
/// (collapsible): the stride of its innermost dim not statically 1, 0 when every dim is 1.
std::pair<Value, Value> collapsedGroup(sparq::ScalarBuilder &sb, MemRefType t,
                                       memref::ExtractStridedMetadataOp meta, unsigned from,
                                       unsigned to) {
  Value size = sb.cIdx(1), stride = sb.cIdx(0);
  for (unsigned d = from; d < to; ++d) {
    size = sb.mul(size, meta.getSizes()[d]);
    if (t.isDynamicDim(d) || t.getDimSize(d) != 1)
      stride = meta.getStrides()[d];
  }
  return {size, stride};
}

struct SelectMicroKernelsPass
    : public sparq::impl::SelectMicroKernelsPassBase<SelectMicroKernelsPass> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    getOperation().walk([&](linalg::LinalgOp op) {
      if (!op.hasPureTensorSemantics())
        return;
      // The convolution kernels read every size at run time (a block fused by sparq-block-fusion
      // has tiles of a dynamic number of rows).
      auto allF32 = [&] {
        return llvm::all_of(op->getOperandTypes(),
                            [](Type t) { return getElementTypeOrSelf(t).isF32(); });
      };
      if (auto transpose = dyn_cast<linalg::TransposeOp>(op.getOperation())) {
        // Batched 2-D transposes: the last two dims swapped (attention's Kᵀ), or two trailing
        // groups of dims (NCHW <-> NHWC around a channels-last product).
        if (sparq::swappedTrailingGroups(transpose.getPermutation()) && allF32())
          op->setAttr(sparq::kMicroKernelAttr, StringAttr::get(ctx, sparq::kTransposeKernel));
        return;
      }
      if (sparq::rowSumsSplit(op)) {
        // A sum over trailing dims (a global average pool, ReduceSum/ReduceMean over the last
        // axes): the kernel sums rows with several vector accumulators.
        op->setAttr(sparq::kMicroKernelAttr, StringAttr::get(ctx, sparq::kRowSumsKernel));
        return;
      }
      if (isa<linalg::DepthwiseConv2DNchwChwOp>(op.getOperation())) {
        // The kernel reads the filter as a contiguous C x KH x KW block of known KH and KW.
        auto filter = dyn_cast<RankedTensorType>(op.getDpsInputOperand(1)->get().getType());
        if (allF32() && filter && !filter.isDynamicDim(1) && !filter.isDynamicDim(2))
          op->setAttr(sparq::kMicroKernelAttr, StringAttr::get(ctx, sparq::kDepthwiseKernel));
        return;
      }
      if (isa<linalg::Conv2DNchwFchwOp>(op.getOperation())) {
        // A constant filter is packed at compile time, a computed one (weights dequantized or
        // normalized in the graph) at each call.
        auto filter = dyn_cast<RankedTensorType>(op.getDpsInputOperand(1)->get().getType());
        if (allF32() && filter && filter.hasStaticShape())
          op->setAttr(sparq::kMicroKernelAttr, StringAttr::get(ctx, sparq::kConvKernel));
        return;
      }
      // The GEMM kernels read M at run time: a contraction whose only dynamic loops are rows of
      // the activation (a symbolic batch or sequence length) still gets one.
      if (op.hasDynamicShape()) {
        std::optional<sparq::PackedGemm> g = sparq::matchPackedGemm(op);
        SmallVector<int64_t> ranges = op.getStaticLoopRanges();
        if (!g || !g->batchLoops.empty() ||
            llvm::any_of(llvm::concat<const unsigned>(g->kLoops, g->nLoops),
                         [&](unsigned l) { return ShapedType::isDynamic(ranges[l]); }))
          return;
      }
      std::optional<sparq::PackedGemm> g = sparq::matchPackedGemm(op);
      if (!g)
        return;
      // A constant weight (possibly reshaped: row-major reshapes keep the element order) is
      // packed at compile time; any other right-hand side is read at run time.
      Value w = op.getDpsInputOperand(g->rhs)->get();
      while (w.getDefiningOp<tensor::ExpandShapeOp>() || w.getDefiningOp<tensor::CollapseShapeOp>())
        w = w.getDefiningOp()->getOperand(0);
      bool constant = w.getDefiningOp<arith::ConstantOp>() && g->batchLoops.empty();
      op->setAttr(sparq::kMicroKernelAttr,
                  StringAttr::get(ctx, constant ? sparq::kGemmKernel : sparq::kGemmRuntimeKernel));
    });

    // Epilogues: a residual add folds into the accumulator the kernel starts from, and a ReLU
    // into the kernel's final store.
    SmallVector<linalg::LinalgOp> marked;
    getOperation().walk([&](linalg::LinalgOp op) {
      if (op->hasAttr(sparq::kMicroKernelAttr))
        marked.push_back(op);
    });
    IRRewriter rewriter(ctx);
    // foldResidualAdd may replace the op: keep the list current for the pads below (ASan found
    // them read from the erased op).
    for (linalg::LinalgOp &op : marked) {
      op = foldResidualAdd(rewriter, op);
      foldRelu(rewriter, op);
      foldBias(rewriter, op);
    }

    // A padded input of a depthwise kernel becomes fill + insert_slice, so that bufferization
    // (eliminate-empty-tensors) lets the producer write straight into the padded buffer instead
    // of a copy of its whole output. Measured: the depthwise block benchmark gains (its padded
    // tensor is the block's widest, 256 channels), the ResNet bottleneck loses (a 64-channel pad
    // saves less than the producer's 1x1 convolution loses by writing row by row), so only
    // depthwise inputs are treated.
    SmallVector<Operation *> pads;
    for (linalg::LinalgOp op : marked)
      if (isa<linalg::DepthwiseConv2DNchwChwOp>(op.getOperation()))
        if (auto pad = op.getDpsInputOperand(0)->get().getDefiningOp<tensor::PadOp>())
          pads.push_back(pad);
    if (!pads.empty()) {
      RewritePatternSet patterns(ctx);
      linalg::populateDecomposePadPatterns(patterns);
      (void)applyOpPatternsGreedily(pads, std::move(patterns));
      // The padded buffer must exist before the producer's own empty output for the elimination
      // to apply: move its empty + fill up there.
      getOperation().walk([&](tensor::InsertSliceOp insert) {
        auto fill = insert.getDest().getDefiningOp<linalg::FillOp>();
        auto producer = insert.getSource().getDefiningOp<DestinationStyleOpInterface>();
        if (!fill || !fill->hasOneUse() || !producer || producer.getNumDpsInits() != 1)
          return;
        auto empty = fill.getOutputs()[0].getDefiningOp<tensor::EmptyOp>();
        auto producerEmpty = producer.getDpsInitOperand(0)->get().getDefiningOp<tensor::EmptyOp>();
        Operation *target = producerEmpty ? producerEmpty.getOperation() : producer.getOperation();
        Value scalar = fill.getInputs()[0];
        // The fill value and the run-time sizes of the padded buffer must exist there.
        auto availableAtTarget = [&](Value v) {
          Operation *def = v.getDefiningOp();
          return !def || (def->getBlock() == target->getBlock() && def->isBeforeInBlock(target));
        };
        if (!empty || !empty->hasOneUse() || target->getBlock() != fill->getBlock() ||
            !availableAtTarget(scalar) || !llvm::all_of(empty->getOperands(), availableAtTarget))
          return;
        empty->moveBefore(target);
        fill->moveBefore(target);
      });
    }
  }

  /// The single user of `op`'s result if it is an all-parallel, identity-indexed linalg.generic
  /// with one result and `numInputs` inputs whose body starts with an op of kind OpTy and yields
  /// either it or max(it, 0) (setting `withRelu`).
  template <typename OpTy>
  static linalg::GenericOp elementwiseUser(linalg::LinalgOp op, unsigned numInputs,
                                           bool *withRelu = nullptr) {
    Value result = op->getResult(0);
    if (!result.hasOneUse())
      return {};
    auto user = dyn_cast<linalg::GenericOp>(*result.getUsers().begin());
    if (!user || user.getNumDpsInputs() != numInputs || user.getNumDpsInits() != 1 ||
        user.getNumReductionLoops() != 0 ||
        !llvm::all_of(user.getIndexingMapsArray(), [](AffineMap m) { return m.isIdentity(); }) ||
        user.getResult(0).getType() != result.getType())
      return {};
    Block &body = user.getRegion().front();
    if (!isa<OpTy>(body.front()))
      return {};
    Value first = body.front().getResult(0);
    auto yield = cast<linalg::YieldOp>(body.getTerminator());
    if (yield.getNumOperands() != 1)
      return {};
    if (body.getOperations().size() == 2 && yield.getOperand(0) == first)
      return user;
    if (!withRelu || body.getOperations().size() != 3)
      return {};
    auto maxf = dyn_cast<arith::MaximumFOp>(*std::next(body.begin()));
    if (!maxf || yield.getOperand(0) != maxf.getResult() ||
        !((maxf.getLhs() == first && isZero(maxf.getRhs())) ||
          (maxf.getRhs() == first && isZero(maxf.getLhs()))))
      return {};
    *withRelu = true;
    return user;
  }

  /// Whether `v` can be used at `op` when defined where it is: an op earlier in op's block, or a
  /// block argument of an enclosing region.
  static bool availableBefore(Value v, Operation *op) {
    if (Operation *def = v.getDefiningOp())
      return def->getBlock() == op->getBlock() && def->isBeforeInBlock(op);
    return v.getParentRegion()->isAncestor(op->getParentRegion());
  }

  static bool isZero(Value v) {
    FloatAttr attr;
    return matchPattern(v, m_Constant(&attr)) && attr.getValue().isZero();
  }

  /// Whether every loop of `op` has iterations (kernels apply the ReLU epilogue when they store
  /// the last reduction block, so there must be one).
  static bool hasIterations(linalg::LinalgOp op) {
    return llvm::none_of(op.getStaticLoopRanges(), [](int64_t r) { return r == 0; });
  }

  /// y = kernel(..., init) ; z = y + t (or max(y + t, 0))   ==>   z = kernel(..., init + t)
  /// (with the ReLU epilogue), with init + t one
  /// elementwise pass (reading the bias directly when init is its broadcast) instead of the
  /// broadcast pass and the add pass. Requires t to be available before the kernel op.
  static linalg::LinalgOp foldResidualAdd(IRRewriter &rewriter, linalg::LinalgOp op) {
    bool withRelu = false;
    linalg::GenericOp add = elementwiseUser<arith::AddFOp>(op, 2, &withRelu);
    if (!add || op.getNumDpsInits() != 1 || (withRelu && !hasIterations(op)))
      return op;
    Block &body = add.getRegion().front();
    auto addf = cast<arith::AddFOp>(body.front());
    // Both operands of the add are the block arguments of the two inputs.
    if (!isa<BlockArgument>(addf.getLhs()) || !isa<BlockArgument>(addf.getRhs()) ||
        addf.getLhs() == addf.getRhs() ||
        cast<BlockArgument>(addf.getLhs()).getArgNumber() >= 2 ||
        cast<BlockArgument>(addf.getRhs()).getArgNumber() >= 2)
      return op;
    Value result = op->getResult(0);
    unsigned mine = add.getDpsInputOperand(0)->get() == result ? 0 : 1;
    Value other = add.getDpsInputOperand(1 - mine)->get();
    if (other == result)
      return op;
    if (!availableBefore(other, op))
      return op;
    Value init = op.getDpsInitOperand(0)->get();
    rewriter.setInsertionPoint(op);
    Location loc = add.getLoc();
    auto type = cast<RankedTensorType>(result.getType());
    unsigned rank = type.getRank();
    SmallVector<utils::IteratorType> parallel(rank, utils::IteratorType::parallel);
    AffineMap id = rewriter.getMultiDimIdentityMap(rank);
    Value source = init;
    AffineMap sourceMap = id;
    if (auto bcast = init.getDefiningOp<linalg::BroadcastOp>(); bcast && init.hasOneUse()) {
      // The bias itself, indexed by the dims the broadcast keeps.
      source = bcast.getInput();
      SmallVector<AffineExpr> kept;
      for (unsigned d = 0; d < rank; ++d)
        if (!llvm::is_contained(bcast.getDimensions(), int64_t(d)))
          kept.push_back(rewriter.getAffineDimExpr(d));
      sourceMap = AffineMap::get(rank, 0, kept, rewriter.getContext());
    }
    // The accumulator is written where the add wrote its result (in a fused block's row tile,
    // the slice of the block's output, so the kernel stores there and no tile is copied) when
    // that destination is available here; otherwise a new tensor of the convolution's own
    // accumulator sizes (dynamic in row tiles and with dynamic shapes; the residual operand may
    // be defined after the convolution, its sizes are not available here).
    Value empty = add.getDpsInitOperand(0)->get();
    if (empty.getType() != type || !availableBefore(empty, op))
      empty = tensor::EmptyOp::create(rewriter, loc,
                                      tensor::getMixedSizes(rewriter, loc, init),
                                      type.getElementType());
    auto newInit = linalg::GenericOp::create(
        rewriter, loc, TypeRange{type}, ValueRange{source, other}, ValueRange{empty},
        ArrayRef<AffineMap>{sourceMap, id, id}, parallel,
        [&](OpBuilder &b, Location l, ValueRange args) {
          linalg::YieldOp::create(b, l, arith::AddFOp::create(b, l, args[0], args[1]).getResult());
        });
    Operation *clone = rewriter.clone(*op);
    clone->setOperand(op.getDpsInitOperand(0)->getOperandNumber(), newInit.getResult(0));
    if (withRelu)
      clone->setAttr(sparq::kMicroKernelReluAttr, rewriter.getUnitAttr());
    rewriter.replaceOp(add, clone->getResults());
    rewriter.eraseOp(op);
    if (init.use_empty())
      if (Operation *def = init.getDefiningOp(); def && isa<linalg::BroadcastOp>(def))
        rewriter.eraseOp(def);
    return cast<linalg::LinalgOp>(clone);
  }

  /// conv(..., broadcast(b))   ==>   conv(..., empty) {sparq.ukernel.bias = b}, for a convolution
  /// (or depthwise one with a constant filter) whose accumulator starts from a constant
  /// per-channel bias: the kernel starts from the bias itself (no broadcast pass, no read of the
  /// accumulator). The attribute changes the op's meaning: its init is ignored from here on, so
  /// only ops whose lowering cannot fall back to plain loops get it.
  static void foldBias(IRRewriter &rewriter, linalg::LinalgOp op) {
    if (!isa<linalg::Conv2DNchwFchwOp, linalg::DepthwiseConv2DNchwChwOp>(op.getOperation()))
      return;
    if (isa<linalg::DepthwiseConv2DNchwChwOp>(op.getOperation())) {
      Value filter = op.getDpsInputOperand(1)->get();
      while (filter.getDefiningOp<tensor::CollapseShapeOp>() ||
             filter.getDefiningOp<tensor::ExpandShapeOp>())
        filter = filter.getDefiningOp()->getOperand(0);
      if (!filter.getDefiningOp<arith::ConstantOp>())
        return;
    }
    Value init = op.getDpsInitOperand(0)->get();
    auto bcast = init.getDefiningOp<linalg::BroadcastOp>();
    if (!bcast || !init.hasOneUse() || bcast.getDimensions() != ArrayRef<int64_t>{0, 2, 3})
      return;
    auto constant = bcast.getInput().getDefiningOp<arith::ConstantOp>();
    auto value = constant ? dyn_cast<ElementsAttr>(constant.getValue()) : ElementsAttr();
    if (!value || !value.getElementType().isF32() || !sparq::readElementsAsDouble(value))
      return;
    rewriter.setInsertionPoint(op);
    auto type = cast<RankedTensorType>(init.getType());
    Value empty =
        tensor::EmptyOp::create(rewriter, op.getLoc(),
                                tensor::getMixedSizes(rewriter, op.getLoc(), bcast.getInit()),
                                type.getElementType());
    rewriter.modifyOpInPlace(op, [&] {
      op.getDpsInitOperand(0)->set(empty);
      op->setAttr(sparq::kMicroKernelBiasAttr, value);
    });
    rewriter.eraseOp(bcast);
  }

  /// y = kernel(...) ; z = max(y, 0)   ==>   z = kernel(...) {sparq.ukernel.relu}: the kernel
  /// stores max(., 0) (NaN-propagating like arith.maximumf; -0.0 results stay -0.0).
  static void foldRelu(IRRewriter &rewriter, linalg::LinalgOp op) {
    linalg::GenericOp relu = elementwiseUser<arith::MaximumFOp>(op, 1);
    if (!relu)
      return;
    auto maxf = cast<arith::MaximumFOp>(relu.getRegion().front().front());
    auto isInput = [&](Value v) {
      auto arg = dyn_cast<BlockArgument>(v);
      return arg && arg.getArgNumber() == 0;
    };
    if (!((isInput(maxf.getLhs()) && isZero(maxf.getRhs())) ||
          (isInput(maxf.getRhs()) && isZero(maxf.getLhs()))))
      return;
    if (!hasIterations(op))
      return;
    op->setAttr(sparq::kMicroKernelReluAttr, rewriter.getUnitAttr());
    rewriter.replaceOp(relu, op->getResults());
  }
};

struct LowerMicroKernelsPass
    : public sparq::impl::LowerMicroKernelsPassBase<LowerMicroKernelsPass> {
  using LowerMicroKernelsPassBase::LowerMicroKernelsPassBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<linalg::LinalgOp> targets;
    module.walk([&](linalg::LinalgOp op) {
      if (op->hasAttr(sparq::kMicroKernelAttr) && op.hasPureBufferSemantics())
        targets.push_back(op);
    });
    if (targets.empty())
      return;
    if (panelWidth <= 0 || panelWidth % 8 != 0) {
      module.emitError() << "sparq-cpu-lower-ukernels: panel-width must be a positive multiple "
                            "of 8, got "
                         << panelWidth;
      return signalPassFailure();
    }
    if (tileRows <= 0) {
      module.emitError() << "sparq-cpu-lower-ukernels: tile-rows must be positive, got "
                         << tileRows;
      return signalPassFailure();
    }
    SymbolTable symbols(module);
    sparq::declareIndexKernel(module, kGemmSymbol, 9, &symbols);
    sparq::declareIndexKernel(module, kConvSymbol, 22, &symbols);
    sparq::declareIndexKernel(module, kPackFilterSymbol, 5, &symbols);
    sparq::declareIndexKernel(module, kDepthwiseSymbol, 21, &symbols);
    sparq::declareIndexKernel(module, kGemmRuntimeSymbol, 14, &symbols);
    sparq::declareIndexKernel(module, kTransposeSymbol, 9, &symbols);
    sparq::declareIndexKernel(module, kRowSumsSymbol, 6, &symbols);
    for (linalg::LinalgOp op : targets) {
      LogicalResult lowered =
          op->getAttrOfType<StringAttr>(sparq::kMicroKernelAttr).getValue() ==
                  sparq::kRowSumsKernel
              ? lowerRowSums(op)
          : isa<linalg::TransposeOp>(op.getOperation())               ? lowerTranspose(op)
          : isa<linalg::Conv2DNchwFchwOp>(op.getOperation())          ? lowerConv(op, symbols)
          : isa<linalg::DepthwiseConv2DNchwChwOp>(op.getOperation()) ? lowerDepthwise(op, symbols)
          : op->getAttrOfType<StringAttr>(sparq::kMicroKernelAttr).getValue() ==
                  sparq::kGemmRuntimeKernel
              ? lowerRuntimeGemm(op)
              : lower(op, symbols);
      if (failed(lowered))
        return signalPassFailure();
    }
  }

private:
  /// SPARQ_UK_ACCUMULATE (linalg ops accumulate into their init) or SPARQ_UK_BIAS, plus
  /// SPARQ_UK_RELU when the selection folded a ReLU into the op.
  static int64_t kernelFlags(Operation *op) {
    // A folded bias replaces the accumulator's initial value (SPARQ_UK_BIAS, no ACCUMULATE).
    int64_t start = op->hasAttr(sparq::kMicroKernelBiasAttr) ? SPARQ_UK_BIAS : SPARQ_UK_ACCUMULATE;
    return start | (op->hasAttr(sparq::kMicroKernelReluAttr) ? SPARQ_UK_RELU : 0);
  }

  /// Packed copies of weight globals, by (global, transposed).
  std::map<std::tuple<Operation *, unsigned, int64_t>, memref::GlobalOp> packed;

  /// The packed global for `source` read as B[k][n] (or B[n][k] when transposed).
  FailureOr<memref::GlobalOp> packedGlobal(memref::GlobalOp source, bool transposed, int64_t k,
                                           SymbolTable &symbols) {
    auto key = std::make_tuple(source.getOperation(), unsigned(transposed), k);
    if (auto it = packed.find(key); it != packed.end())
      return it->second;
    auto init = dyn_cast_or_null<ElementsAttr>(source.getInitialValueAttr());
    MemRefType type = source.getType();
    if (!source.getConstant() || !init || !type.hasStaticShape() || k <= 0 ||
        type.getNumElements() % k != 0)
      return source.emitError("sparq-cpu-lower-ukernels: the weight of a micro-kernel "
                              "contraction must be a constant global with a value");
    std::optional<std::vector<double>> values = sparq::readElementsAsDouble(init);
    if (!values)
      return source.emitError("sparq-cpu-lower-ukernels: cannot read the weight's elements");
    // Row-major: the k group and the n group each flatten to one dimension.
    int64_t n = type.getNumElements() / k;
    std::vector<float> panels(sparq::formats::packedPanelElements(k, n, panelWidth));
    const std::vector<double> &v = *values;
    sparq::formats::packPanels<float>(
        k, n, panelWidth,
        [&](int64_t kk, int64_t nn) { return transposed ? v[nn * k + kk] : v[kk * n + nn]; },
        panels.data());
    std::string name = (source.getSymName() + "_panels" + std::to_string(panelWidth) +
                        (transposed ? "_t" : "") + "_k" + std::to_string(k))
                           .str();
    return packed[key] = createGlobal(
               source, name, {sparq::formats::panelCount(n, panelWidth), k, panelWidth}, panels,
               symbols);
  }

  /// A 64-byte aligned private constant global `name` of f32 `values`, next to `source`.
  memref::GlobalOp createGlobal(memref::GlobalOp source, StringRef name,
                                ArrayRef<int64_t> shape, ArrayRef<float> values,
                                SymbolTable &symbols) {
    auto tensorType = RankedTensorType::get(shape, Float32Type::get(&getContext()));
    TypedAttr value = sparq::makeFloatConstant(tensorType, values, name);
    OpBuilder b(source);
    b.setInsertionPointAfter(source);
    auto global = memref::GlobalOp::create(
        b, source.getLoc(), name, b.getStringAttr("private"),
        MemRefType::get(tensorType.getShape(), tensorType.getElementType()), value,
        /*constant=*/true, b.getI64IntegerAttr(64));
    symbols.insert(global);
    return global;
  }


  LogicalResult lower(linalg::LinalgOp op, SymbolTable &symbols) {
    auto fail = [&](const Twine &why) {
      return op.emitError("sparq-cpu-lower-ukernels: cannot call the micro-kernel: " + why);
    };
    std::optional<sparq::PackedGemm> g = sparq::matchPackedGemm(op);
    if (!g)
      return fail("the marked op is no longer a plain f32 contraction");
    OpBuilder b(op);
    Location loc = op.getLoc();
    auto cst = [&](int64_t v) { return sparq::ScalarBuilder{b, loc}.cIdx(v); };

    // B: a constant global, possibly reshaped, read whole (subviews that cover all of it are
    // accepted).
    Value rhs = op.getDpsInputOperand(g->rhs)->get();
    unsigned kRank = g->kLoops.size(), nRank = g->nLoops.size();
    unsigned nFirst = g->rhsTransposed ? 0 : kRank, kFirst = g->rhsTransposed ? nRank : 0;
    memref::GetGlobalOp getGlobal;
    // The weight as the contraction indexes it, before any chunking subview.
    MemRefType viewType;
    for (Value v = rhs;;) {
      if (auto sv = v.getDefiningOp<memref::SubViewOp>()) {
        if (sv.getSourceType().getRank() != kRank + nRank ||
            sv.getType().getRank() != kRank + nRank ||
            !llvm::all_of(sv.getStaticStrides(), [](int64_t s) { return s == 1; }))
          return fail("the weight is read through a strided or rank-reducing view");
        SmallVector<OpFoldResult> offsets = sv.getMixedOffsets();
        for (unsigned d = 0; d < kRank; ++d) {
          std::optional<int64_t> kOff = getConstantIntValue(offsets[kFirst + d]);
          if (!kOff || *kOff != 0)
            return fail("the weight is split along the reduction dimension");
        }
        for (unsigned d = 0; d < nRank; ++d) {
          std::optional<int64_t> nOff = getConstantIntValue(offsets[nFirst + d]);
          if (!nOff || *nOff != 0 || sv.getType().isDynamicDim(nFirst + d) ||
              sv.getType().getDimSize(nFirst + d) != sv.getSourceType().getDimSize(nFirst + d))
            return fail("the weight is split along N (the kernel takes the whole packed weight "
                        "and splits the work over the threads itself)");
        }
        v = sv.getSource();
        continue;
      }
      if (!viewType)
        viewType = cast<MemRefType>(v.getType());
      // Row-major reshapes of the whole global keep the element order.
      if (isa_and_nonnull<memref::CastOp, memref::ExpandShapeOp, memref::CollapseShapeOp>(
              v.getDefiningOp())) {
        v = v.getDefiningOp()->getOperand(0);
        continue;
      }
      getGlobal = v.getDefiningOp<memref::GetGlobalOp>();
      break;
    }
    if (!getGlobal)
      return fail("the weight is not a constant global");
    auto source = symbols.lookup<memref::GlobalOp>(getGlobal.getName());
    if (!source)
      return fail("the weight's global '" + getGlobal.getName() + "' does not exist");
    MemRefType weightType = viewType;
    if (!weightType.hasStaticShape() || !weightType.getLayout().isIdentity())
      return fail("the weight's view is not a static row-major buffer");
    int64_t k = 1;
    for (unsigned d = 0; d < kRank; ++d)
      k *= weightType.getDimSize(kFirst + d);
    FailureOr<memref::GlobalOp> panels = packedGlobal(source, g->rhsTransposed, k, symbols);
    if (failed(panels))
      return failure();
    Value lhs = op.getDpsInputOperand(g->lhs)->get();
    Value out = op.getDpsInitOperand(0)->get();
    auto lhsType = cast<MemRefType>(lhs.getType()), outType = cast<MemRefType>(out.getType());
    unsigned mRank = g->mLoops.size();
    // Row-major: unit inner stride, the m group and the trailing (k or n) group each collapse
    // into one dimension.
    auto rowMajor = [&](MemRefType t) {
      return t.getStridesAndOffset().first.back() == 1 && collapsible(t, 0, mRank) &&
             collapsible(t, mRank, t.getRank());
    };
    // A view the kernel cannot address as rows and columns (e.g. a result written in place
    // into a slice of a concatenation along an inner dimension) stays a linalg op, which later
    // becomes plain loops: correct, but not the kernel's speed.
    if (!rowMajor(lhsType) || !rowMajor(outType)) {
      op->removeAttr(sparq::kMicroKernelAttr);
      return success();
    }
    // A dynamic reduction size of the activation equals the weight's at run time (the
    // contraction's shared loop; sparq-runtime-checks verifies it before any kernel runs).
    int64_t lhsK = 1;
    bool lhsKDynamic = false;
    for (unsigned d = mRank; d < lhsType.getRank(); ++d) {
      lhsKDynamic |= lhsType.isDynamicDim(d);
      lhsK *= lhsType.isDynamicDim(d) ? 1 : lhsType.getDimSize(d);
    }
    if (!lhsKDynamic && lhsK != k)
      return fail("the activation's reduction size does not match the weight");

    // Element addresses and the run-time sizes and row strides.
    auto address = [&](Value memref, memref::ExtractStridedMetadataOp meta) {
      return sparq::elementAddress(b, loc, memref, meta);
    };
    auto lhsMeta = memref::ExtractStridedMetadataOp::create(b, loc, lhs);
    auto outMeta = memref::ExtractStridedMetadataOp::create(b, loc, out);
    Value m = cst(1), n = cst(1);
    for (unsigned d = 0; d < mRank; ++d)
      m = arith::MulIOp::create(b, loc, m, outMeta.getSizes()[d]);
    for (unsigned d = mRank; d < outType.getRank(); ++d)
      n = arith::MulIOp::create(b, loc, n, outMeta.getSizes()[d]);
    // Row strides: of the innermost m dimension that is not a unit one (any value when M = 1).
    auto rowStride = [&](MemRefType t, memref::ExtractStridedMetadataOp meta) -> Value {
      for (int d = int(mRank) - 1; d >= 0; --d)
        if (t.isDynamicDim(d) || t.getDimSize(d) != 1)
          return meta.getStrides()[d];
      return cst(0);
    };
    Value lda = rowStride(lhsType, lhsMeta);
    Value ldc = rowStride(outType, outMeta);
    Value bAddr = memref::ExtractAlignedPointerAsIndexOp::create(
        b, loc, memref::GetGlobalOp::create(b, loc, panels->getType(), panels->getSymName()));
    Value args[] = {address(out, outMeta), ldc,    address(lhs, lhsMeta), lda, bAddr, m, n,
                    cst(k),                cst(kernelFlags(op))};
    func::CallOp::create(b, loc, kGemmSymbol, TypeRange{}, args);
    op->erase();
    return success();
  }

  /// The filter of a marked convolution, the `f` rows of constant global `source` (row-major,
  /// any shape: a 1-D convolution's [F, C, KW] filter reshaped to [F, C, 1, KW]), packed in
  /// tiles of `tileRows` output channels.
  FailureOr<memref::GlobalOp> packedFilter(memref::GlobalOp source, int64_t f,
                                           SymbolTable &symbols) {
    auto key = std::make_tuple(source.getOperation(), 2u, f);
    if (auto it = packed.find(key); it != packed.end())
      return it->second;
    auto init = dyn_cast_or_null<ElementsAttr>(source.getInitialValueAttr());
    MemRefType type = source.getType();
    if (!source.getConstant() || !init || !type.hasStaticShape() || f <= 0 ||
        type.getNumElements() % f != 0)
      return source.emitError("sparq-cpu-lower-ukernels: the filter of a micro-kernel "
                              "convolution must be a constant global of F rows with a value");
    std::optional<std::vector<double>> values = sparq::readElementsAsDouble(init);
    if (!values)
      return source.emitError("sparq-cpu-lower-ukernels: cannot read the filter's elements");
    int64_t k = type.getNumElements() / f;
    std::vector<float> tiles(sparq::formats::panelCount(f, tileRows) * k * tileRows);
    const std::vector<double> &v = *values;
    sparq::formats::packRowTiles<float>(
        f, k, tileRows, [&](int64_t row, int64_t kk) { return v[row * k + kk]; }, tiles.data());
    std::string name = (source.getSymName() + "_rowtiles" + std::to_string(tileRows)).str();
    return packed[key] = createGlobal(
               source, name, {sparq::formats::panelCount(f, tileRows), k, tileRows}, tiles,
               symbols);
  }

  /// A contraction whose right-hand side is read at run time (sparq_uk_sgemm_f32): every operand
  /// must collapse to [batch, rows, columns]; otherwise the op stays a linalg op (plain loops).
  LogicalResult lowerRuntimeGemm(linalg::LinalgOp op) {
    std::optional<sparq::PackedGemm> g = sparq::matchPackedGemm(op);
    if (!g)
      return op.emitError("sparq-cpu-lower-ukernels: the marked op is no longer a plain f32 "
                          "contraction");
    unsigned nb = g->batchLoops.size(), nm = g->mLoops.size(), nn = g->nLoops.size(),
             nk = g->kLoops.size();
    Value lhs = op.getDpsInputOperand(g->lhs)->get(), rhs = op.getDpsInputOperand(g->rhs)->get();
    Value out = op.getDpsInitOperand(0)->get();
    // Group sizes (in dims) of each operand, outer to inner.
    SmallVector<unsigned> lhsGroups = {nb, nm, nk}, outGroups = {nb, nm, nn};
    SmallVector<unsigned> rhsGroups = g->rhsTransposed ? SmallVector<unsigned>{nb, nn, nk}
                                                       : SmallVector<unsigned>{nb, nk, nn};
    auto fits = [&](Value v, ArrayRef<unsigned> groups) {
      auto t = cast<MemRefType>(v.getType());
      if (t.getStridesAndOffset().first.back() != 1)
        return false;
      unsigned from = 0;
      for (unsigned size : groups) {
        if (!collapsible(t, from, from + size))
          return false;
        from += size;
      }
      return true;
    };
    if (!fits(lhs, lhsGroups) || !fits(rhs, rhsGroups) || !fits(out, outGroups)) {
      op->removeAttr(sparq::kMicroKernelAttr);
      return success();
    }
    OpBuilder b(op);
    Location loc = op.getLoc();
    auto cst = [&](int64_t v) { return sparq::ScalarBuilder{b, loc}.cIdx(v); };
    struct Operand {
      Value addr;
      SmallVector<Value> sizes, strides; ///< per group: product of sizes, row stride
    };
    auto describe = [&](Value v, ArrayRef<unsigned> groups) {
      auto t = cast<MemRefType>(v.getType());
      auto meta = memref::ExtractStridedMetadataOp::create(b, loc, v);
      Operand o;
      o.addr = sparq::elementAddress(b, loc, v, meta);
      unsigned from = 0;
      for (unsigned size : groups) {
        Value n = cst(1), stride = cst(0);
        for (unsigned d = from; d < from + size; ++d)
          n = arith::MulIOp::create(b, loc, n, meta.getSizes()[d]);
        // The stride of the group's innermost dim that is not a unit one.
        for (int d = int(from + size) - 1; d >= int(from); --d)
          if (t.isDynamicDim(d) || t.getDimSize(d) != 1) {
            stride = meta.getStrides()[d];
            break;
          }
        o.sizes.push_back(n);
        o.strides.push_back(stride);
        from += size;
      }
      return o;
    };
    Operand a = describe(lhs, lhsGroups), w = describe(rhs, rhsGroups), c = describe(out, outGroups);
    int64_t flags = kernelFlags(op) | (g->rhsTransposed ? SPARQ_UK_B_TRANSPOSED : 0);
    Value args[] = {c.addr,     c.strides[0], c.strides[1], a.addr,     a.strides[0],
                    a.strides[1], w.addr,     w.strides[0], w.strides[1], c.sizes[0],
                    c.sizes[1], c.sizes[2],   a.sizes[2],   cst(flags)};
    func::CallOp::create(b, loc, kGemmRuntimeSymbol, TypeRange{}, args);
    op->erase();
    return success();
  }

  /// The address of element `first` of the bias folded into `op` (sparq.ukernel.bias, kept as a
  /// constant global), or 0 without one.
  Value biasAddress(OpBuilder &b, Location loc, Operation *op, SymbolTable &symbols,
                    Value first) {
    auto bias = op->getAttrOfType<ElementsAttr>(sparq::kMicroKernelBiasAttr);
    if (!bias)
      return arith::ConstantIndexOp::create(b, loc, 0);
    memref::GlobalOp &global = biasGlobals[bias];
    if (!global) {
      std::optional<std::vector<double>> values = sparq::readElementsAsDouble(bias);
      std::vector<float> floats(values->begin(), values->end());
      auto module = op->getParentOfType<ModuleOp>();
      OpBuilder mb = OpBuilder::atBlockBegin(module.getBody());
      auto tensorType = RankedTensorType::get({int64_t(floats.size())}, mb.getF32Type());
      global = memref::GlobalOp::create(
          mb, op->getLoc(), "sparq_bias", mb.getStringAttr("private"),
          MemRefType::get(tensorType.getShape(), mb.getF32Type()),
          sparq::makeFloatConstant(tensorType, floats, "sparq_bias"), /*constant=*/true,
          mb.getI64IntegerAttr(64));
      symbols.insert(global);
    }
    Value base = memref::ExtractAlignedPointerAsIndexOp::create(
        b, loc, memref::GetGlobalOp::create(b, loc, global.getType(), global.getSymName()));
    return arith::AddIOp::create(
        b, loc, base,
        arith::MulIOp::create(b, loc, first, arith::ConstantIndexOp::create(b, loc, 4)));
  }

  /// Constant globals of folded biases, by value.
  llvm::DenseMap<Attribute, memref::GlobalOp> biasGlobals;

  /// A transpose of two trailing groups of dims (rows [p, q) and columns [q, n) of the input,
  /// swappedTrailingGroups) as sparq_uk_transpose_f32 over the leading dims [0, p) collapsed
  /// into one batch; buffers whose groups do not collapse, or whose innermost dim is not
  /// contiguous, keep the loops linalg.transpose lowers to.
  LogicalResult lowerTranspose(linalg::LinalgOp linalgOp) {
    auto op = cast<linalg::TransposeOp>(linalgOp.getOperation());
    Value in = op.getInput(), out = op.getInit();
    auto inType = cast<MemRefType>(in.getType()), outType = cast<MemRefType>(out.getType());
    const unsigned n = inType.getRank();
    auto groups = sparq::swappedTrailingGroups(op.getPermutation());
    // The output's dims: [0, p), then the input's columns [p, m), then its rows [m, n).
    const unsigned p = groups ? groups->first : 0, q = groups ? groups->second : 0,
                   m = p + (n - q);
    if (!groups || !unitStride(inType, q, n) || !unitStride(outType, m, n) ||
        !collapsible(inType, 0, p) || !collapsible(outType, 0, p) ||
        !collapsible(inType, p, q) || !collapsible(inType, q, n) ||
        !collapsible(outType, p, m) || !collapsible(outType, m, n)) {
      op->removeAttr(sparq::kMicroKernelAttr);
      return success();
    }
    OpBuilder b(op);
    Location loc = op.getLoc();
    sparq::ScalarBuilder sb{b, loc};
    auto inMeta = memref::ExtractStridedMetadataOp::create(b, loc, in);
    auto outMeta = memref::ExtractStridedMetadataOp::create(b, loc, out);
    auto [batch, inStrideB] = collapsedGroup(sb, inType, inMeta, 0, p);
    Value outStrideB = collapsedGroup(sb, outType, outMeta, 0, p).second;
    auto [rows, ldi] = collapsedGroup(sb, inType, inMeta, p, q);
    Value cols = collapsedGroup(sb, inType, inMeta, q, n).first;
    Value ldo = collapsedGroup(sb, outType, outMeta, p, m).second;
    Value args[] = {sparq::elementAddress(b, loc, out, outMeta),
                    outStrideB,
                    ldo,
                    sparq::elementAddress(b, loc, in, inMeta),
                    inStrideB,
                    ldi,
                    batch,
                    rows,
                    cols};
    func::CallOp::create(b, loc, kTransposeSymbol, TypeRange{}, args);
    op->erase();
    return success();
  }

  /// A sum over the trailing dims [p, n) (rowSumsSplit) as sparq_uk_row_sums_f32 over the kept
  /// dims [0, p) collapsed into rows and the summed ones into a row; buffers whose groups do not
  /// collapse, or whose summed elements are not contiguous, keep the loops of the linalg op.
  LogicalResult lowerRowSums(linalg::LinalgOp op) {
    std::optional<unsigned> split = sparq::rowSumsSplit(op);
    Value in = op.getDpsInputOperand(0)->get(), out = op.getDpsInitOperand(0)->get();
    auto inType = dyn_cast<MemRefType>(in.getType());
    auto outType = dyn_cast<MemRefType>(out.getType());
    const unsigned p = split.value_or(0), n = inType ? inType.getRank() : 0;
    if (!split || !inType || !outType || !unitStride(inType, p, n) ||
        !collapsible(inType, 0, p) || !collapsible(inType, p, n) || !collapsible(outType, 0, p)) {
      op->removeAttr(sparq::kMicroKernelAttr);
      return success();
    }
    OpBuilder b(op);
    Location loc = op.getLoc();
    sparq::ScalarBuilder sb{b, loc};
    auto inMeta = memref::ExtractStridedMetadataOp::create(b, loc, in);
    auto outMeta = memref::ExtractStridedMetadataOp::create(b, loc, out);
    auto [rows, inStride] = collapsedGroup(sb, inType, inMeta, 0, p);
    Value len = collapsedGroup(sb, inType, inMeta, p, n).first;
    Value outStride = collapsedGroup(sb, outType, outMeta, 0, p).second;
    Value args[] = {sparq::elementAddress(b, loc, out, outMeta), outStride,
                    sparq::elementAddress(b, loc, in, inMeta), inStride, rows, len};
    func::CallOp::create(b, loc, kRowSumsSymbol, TypeRange{}, args);
    op->erase();
    return success();
  }

  LogicalResult lowerDepthwise(linalg::LinalgOp linalgOp, SymbolTable &symbols) {
    auto op = cast<linalg::DepthwiseConv2DNchwChwOp>(linalgOp.getOperation());
    auto fail = [&](const Twine &why) {
      return op.emitError("sparq-cpu-lower-ukernels: cannot call the depthwise kernel: " + why);
    };
    Value in = op.getDpsInputOperand(0)->get(), filter = op.getDpsInputOperand(1)->get();
    Value out = op.getDpsInitOperand(0)->get();
    auto inType = cast<MemRefType>(in.getType()), outType = cast<MemRefType>(out.getType());
    auto filterType = cast<MemRefType>(filter.getType());
    if (inType.getStridesAndOffset().first[3] != 1 || outType.getStridesAndOffset().first[3] != 1)
      return fail("the input or output does not have a unit W stride");
    auto [fStrides, fOffset] = filterType.getStridesAndOffset();
    if (filterType.isDynamicDim(1) || filterType.isDynamicDim(2) || fStrides[2] != 1 ||
        fStrides[1] != filterType.getDimSize(2) ||
        fStrides[0] != filterType.getDimSize(1) * filterType.getDimSize(2))
      return fail("the filter is not contiguous C x KH x KW");
    OpBuilder b(op);
    Location loc = op.getLoc();
    auto cst = [&](int64_t v) { return sparq::ScalarBuilder{b, loc}.cIdx(v); };
    auto address = [&](Value memref, memref::ExtractStridedMetadataOp meta) {
      return sparq::elementAddress(b, loc, memref, meta);
    };
    auto inMeta = memref::ExtractStridedMetadataOp::create(b, loc, in);
    auto outMeta = memref::ExtractStridedMetadataOp::create(b, loc, out);
    auto filterMeta = memref::ExtractStridedMetadataOp::create(b, loc, filter);
    auto strides = llvm::to_vector(op.getStrides().getValues<int64_t>());
    auto dilations = llvm::to_vector(op.getDilations().getValues<int64_t>());
    Value args[] = {address(out, outMeta),     outMeta.getStrides()[0], outMeta.getStrides()[1],
                    outMeta.getStrides()[2],   address(in, inMeta),     inMeta.getStrides()[0],
                    inMeta.getStrides()[1],    inMeta.getStrides()[2],  address(filter, filterMeta),
                    outMeta.getSizes()[0],     outMeta.getSizes()[1],   filterMeta.getSizes()[1],
                    filterMeta.getSizes()[2],  outMeta.getSizes()[2],   outMeta.getSizes()[3],
                    cst(strides[0]),           cst(strides[1]),         cst(dilations[0]),
                    cst(dilations[1]),
                    // The bias of this chunk's first channel: the filter view starts at
                    // channel offset / (KH * KW) of a constant filter.
                    biasAddress(b, loc, op, symbols,
                                arith::DivUIOp::create(
                                    b, loc, filterMeta.getOffset(),
                                    arith::MulIOp::create(b, loc, filterMeta.getSizes()[1],
                                                          filterMeta.getSizes()[2]))),
                    cst(kernelFlags(op))};
    func::CallOp::create(b, loc, kDepthwiseSymbol, TypeRange{}, args);
    op->erase();
    return success();
  }

  LogicalResult lowerConv(linalg::LinalgOp linalgOp, SymbolTable &symbols) {
    auto op = cast<linalg::Conv2DNchwFchwOp>(linalgOp.getOperation());
    auto fail = [&](const Twine &why) {
      return op.emitError("sparq-cpu-lower-ukernels: cannot call the convolution kernel: " + why);
    };
    Value in = op.getDpsInputOperand(0)->get(), filter = op.getDpsInputOperand(1)->get();
    Value out = op.getDpsInitOperand(0)->get();
    // A constant filter, possibly reshaped (row-major reshapes keep the element order).
    Value f = filter;
    while (isa_and_nonnull<memref::CastOp, memref::ExpandShapeOp, memref::CollapseShapeOp>(
        f.getDefiningOp()))
      f = f.getDefiningOp()->getOperand(0);
    auto getGlobal = f.getDefiningOp<memref::GetGlobalOp>();
    auto source =
        getGlobal ? symbols.lookup<memref::GlobalOp>(getGlobal.getName()) : memref::GlobalOp();
    if (getGlobal && !source)
      return fail("the filter's global '" + getGlobal.getName() + "' does not exist");
    // A computed filter: F rows of C*KH*KW contiguous floats, packed at each call.
    auto filterType = cast<MemRefType>(filter.getType());
    if (!filterType.hasStaticShape())
      return fail("the filter does not have a static shape");
    if (!source) {
      auto [fStrides, fOffset] = filterType.getStridesAndOffset();
      if (fStrides[3] != 1 || fStrides[2] != filterType.getDimSize(3) ||
          fStrides[1] != filterType.getDimSize(2) * filterType.getDimSize(3)) {
        op->removeAttr(sparq::kMicroKernelAttr); // stays a loop nest
        return success();
      }
    }
    FailureOr<memref::GlobalOp> tiles =
        source ? packedFilter(source, filterType.getDimSize(0), symbols)
               : FailureOr<memref::GlobalOp>(memref::GlobalOp());
    if (failed(tiles))
      return failure();
    auto inType = cast<MemRefType>(in.getType()), outType = cast<MemRefType>(out.getType());
    auto [inStrides, inOffset] = inType.getStridesAndOffset();
    auto [outStrides, outOffset] = outType.getStridesAndOffset();
    if (inStrides[3] != 1)
      return fail("the input does not have a unit W stride");
    if (outStrides[3] != 1)
      return fail("the output does not have a unit W stride");

    OpBuilder b(op);
    Location loc = op.getLoc();
    auto cst = [&](int64_t v) { return sparq::ScalarBuilder{b, loc}.cIdx(v); };
    auto address = [&](Value memref, memref::ExtractStridedMetadataOp meta) {
      return sparq::elementAddress(b, loc, memref, meta);
    };
    auto inMeta = memref::ExtractStridedMetadataOp::create(b, loc, in);
    auto outMeta = memref::ExtractStridedMetadataOp::create(b, loc, out);
    Value tileBase, scratch;
    if (source) {
      tileBase = memref::ExtractAlignedPointerAsIndexOp::create(
          b, loc, memref::GetGlobalOp::create(b, loc, tiles->getType(), tiles->getSymName()));
    } else {
      const int64_t fRows = filterType.getDimSize(0);
      const int64_t k = filterType.getNumElements() / std::max<int64_t>(fRows, 1);
      scratch = memref::AllocOp::create(
          b, loc,
          MemRefType::get({sparq::formats::panelCount(fRows, tileRows) * k * tileRows},
                          b.getF32Type()),
          b.getI64IntegerAttr(64));
      tileBase = sparq::elementAddress(b, loc, scratch);
      auto filterMeta = memref::ExtractStridedMetadataOp::create(b, loc, filter);
      Value packArgs[] = {tileBase, address(filter, filterMeta), cst(fRows), cst(k),
                          filterMeta.getStrides()[0]};
      func::CallOp::create(b, loc, kPackFilterSymbol, TypeRange{}, packArgs);
    }
    auto strides = llvm::to_vector(op.getStrides().getValues<int64_t>());
    auto dilations = llvm::to_vector(op.getDilations().getValues<int64_t>());
    Value args[] = {address(out, outMeta), outMeta.getStrides()[0], outMeta.getStrides()[1],
                    outMeta.getStrides()[2],
                    address(in, inMeta),   inMeta.getStrides()[0],  inMeta.getStrides()[1],
                    inMeta.getStrides()[2], tileBase,               outMeta.getSizes()[0],
                    outMeta.getSizes()[1], cst(filterType.getDimSize(1)),
                    cst(filterType.getDimSize(2)), cst(filterType.getDimSize(3)),
                    outMeta.getSizes()[2], outMeta.getSizes()[3], cst(strides[0]),
                    cst(strides[1]),       cst(dilations[0]),      cst(dilations[1]),
                    biasAddress(b, loc, op, symbols, cst(0)), cst(kernelFlags(op))};
    func::CallOp::create(b, loc, kConvSymbol, TypeRange{}, args);
    if (scratch)
      memref::DeallocOp::create(b, loc, scratch);
    op->erase();
    return success();
  }
};

} // namespace
