//===- passes/Codegen/AttentionFusion.cpp - attention as one online-softmax kernel ===//
//
// sparq-cpu-fuse-attention: matches, on tensors before elementwise fusion, the ops that
// sparq-convert-onnx-to-linalg makes of MatMul(Q, Kᵀ) -> scale -> [+ mask] -> Softmax(-1) ->
// MatMul(., V) and replaces them with one call of sparq_uk_attention_f32_mt, built on tensors
// through bufferization.to_buffer / to_tensor like the compressed-weight kernels. See the
// pass description in Passes.td and docs/codegen.md ("Attention").
//
//===----------------------------------------------------------------------===//
#include "passes/Codegen/KernelCost.h"
#include "passes/Codegen/MicroKernels.h"
#include "passes/Passes.h"

#include "dialects/Common/ConstantData.h"
#include "dialects/Common/ScalarBuilder.h"
#include "sparq/Kernels/UKernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"

#include <cmath>
#include <string>

namespace sparq {
#define GEN_PASS_DEF_FUSEATTENTIONPASS
#include "passes/Codegen/Passes.h.inc"
} // namespace sparq

using namespace mlir;

namespace {

constexpr llvm::StringLiteral kAttentionSymbol = "sparq_uk_attention_f32_mt";
/// The kernel's limits and blocking (runtime/kernels/Attention.cpp).
constexpr int64_t kMaxHeadDim = 256;
constexpr int64_t kQueryRowsPerTask = SPARQ_UK_ATTENTION_ROWS;
/// A constant mask entry at or below this is "masked" in a causal pattern.
constexpr double kMaskedBelow = -1e9;

/// The value of a scalar f32 constant (rank 0, or a splat), if `v` is one.
std::optional<double> scalarConstant(Value v) {
  Attribute attr;
  if (!matchPattern(v, m_Constant(&attr)))
    return std::nullopt;
  if (auto f = dyn_cast<FloatAttr>(attr))
    return f.getValueAsDouble();
  if (auto d = dyn_cast<DenseFPElementsAttr>(attr); d && d.isSplat())
    return d.getSplatValue<APFloat>().convertToDouble();
  return std::nullopt;
}

/// Whether `init` is a linalg.fill of the constant `value`.
bool isFillOf(Value init, double value) {
  auto fill = init.getDefiningOp<linalg::FillOp>();
  if (!fill)
    return false;
  std::optional<double> v = scalarConstant(fill.getInputs()[0]);
  return v && (*v == value || (std::isinf(value) && std::isinf(*v) && (*v < 0) == (value < 0)));
}

/// Users of `v` other than tensor.dim (run-time checks read the sizes of intermediates; the
/// rewrite answers those from the sizes the ops' inits carry).
SmallVector<Operation *> realUsers(Value v) {
  SmallVector<Operation *> users;
  for (Operation *u : v.getUsers())
    if (!isa<tensor::DimOp>(u))
      users.push_back(u);
  return users;
}
bool hasOneRealUse(Value v) { return realUsers(v).size() == 1; }

bool allParallel(linalg::LinalgOp op) {
  return op.getNumLoops() == op.getNumParallelLoops();
}

/// The ops of a body, without its terminator, if it has exactly `n` of them.
std::optional<SmallVector<Operation *>> bodyOps(Block &body, size_t n) {
  SmallVector<Operation *> ops;
  for (Operation &op : body.without_terminator())
    ops.push_back(&op);
  if (ops.size() != n)
    return std::nullopt;
  return ops;
}

/// A (batch) matmul C[b...][m][n] = sum_k A[b...][m][k] B[b...][k][n] on f32 tensors,
/// accumulating into a zero fill: a named matmul / batch_matmul, or the generic the ONNX lowering
/// gives a MatMul with dynamic sizes, whose operands may index a batch dim that is 1 in the
/// result at 0.
bool isPlainMatmul(Operation *op) {
  auto linalgOp = dyn_cast_or_null<linalg::LinalgOp>(op);
  if (!linalgOp || !linalgOp.hasPureTensorSemantics() || linalgOp.getNumDpsInputs() != 2 ||
      linalgOp.getNumDpsInits() != 1)
    return false;
  // Body: out + in0 * in1 (upstream's contraction check wants projected permutations, which
  // a 0 index is not).
  Block &body = linalgOp->getRegion(0).front();
  auto ops = bodyOps(body, 2);
  if (!ops)
    return false;
  auto mul = dyn_cast<arith::MulFOp>((*ops)[0]);
  auto add = dyn_cast<arith::AddFOp>((*ops)[1]);
  if (!mul || !add || body.getTerminator()->getOperand(0) != add.getResult() ||
      !((mul.getLhs() == body.getArgument(0) && mul.getRhs() == body.getArgument(1)) ||
        (mul.getLhs() == body.getArgument(1) && mul.getRhs() == body.getArgument(0))) ||
      !((add.getLhs() == body.getArgument(2) && add.getRhs() == mul.getResult()) ||
        (add.getRhs() == body.getArgument(2) && add.getLhs() == mul.getResult())))
    return false;
  for (Value v : op->getOperands())
    if (!cast<RankedTensorType>(v.getType()).getElementType().isF32())
      return false;
  SmallVector<AffineMap> maps = linalgOp.getIndexingMapsArray();
  auto cType = cast<RankedTensorType>(op->getResult(0).getType());
  unsigned r = cType.getRank();
  if (r < 2 || linalgOp.getNumLoops() != r + 1 || linalgOp.getNumReductionLoops() != 1 ||
      maps[2] != AffineMap::getMultiDimIdentityMap(r + 1, op->getContext()).getMajorSubMap(r))
    return false;
  // Operand results: batch dims (the loop's own, or 0 where the result's dim is 1), then the
  // two matrix dims.
  auto indexes = [&](AffineMap map, unsigned row, unsigned col) {
    if (map.getNumResults() != r)
      return false;
    for (unsigned i = 0; i + 2 < r; ++i) {
      AffineExpr e = map.getResult(i);
      auto d = dyn_cast<AffineDimExpr>(e);
      auto c = dyn_cast<AffineConstantExpr>(e);
      if (!(d && d.getPosition() == i) && !(c && c.getValue() == 0 && cType.getDimSize(i) == 1))
        return false;
    }
    auto d0 = dyn_cast<AffineDimExpr>(map.getResult(r - 2));
    auto d1 = dyn_cast<AffineDimExpr>(map.getResult(r - 1));
    return d0 && d1 && d0.getPosition() == row && d1.getPosition() == col;
  };
  return indexes(maps[0], r - 2, r) && indexes(maps[1], r, r - 1) &&
         isFillOf(linalgOp.getDpsInits()[0], 0.0);
}

/// The softmax over the last dim of X as sparq-convert-onnx-to-linalg lowers it: m = max(X)
/// (linalg.reduce from -inf), s = sum(exp(X - m)) (a reduction generic from 0) and the result
/// exp(X - m) / s (`div`, a parallel generic).
struct Softmax {
  linalg::GenericOp div, sum;
  linalg::ReduceOp max;
  Value input;
};

/// The third op of a 3-op body that starts exp(arg0 - arg1) (the value it combines with that
/// exponential is checked by the caller), or null.
Operation *afterExpOfDifference(Block &body, Value &exp) {
  auto ops = bodyOps(body, 3);
  if (!ops)
    return nullptr;
  auto sub = dyn_cast<arith::SubFOp>((*ops)[0]);
  auto e = dyn_cast<math::ExpOp>((*ops)[1]);
  if (!sub || !e || sub.getLhs() != body.getArgument(0) || sub.getRhs() != body.getArgument(1) ||
      e.getOperand() != sub.getResult() ||
      body.getTerminator()->getOperand(0) != (*ops)[2]->getResult(0))
    return nullptr;
  exp = e.getResult();
  return (*ops)[2];
}

std::optional<Softmax> matchSoftmax(linalg::GenericOp div) {
  if (div.getNumDpsInputs() != 3 || div.getNumDpsInits() != 1 || !allParallel(div))
    return std::nullopt;
  // exp(x - m) / s
  Block &body = div.getRegion().front();
  Value exp;
  auto quot = dyn_cast_or_null<arith::DivFOp>(afterExpOfDifference(body, exp));
  if (!quot || quot.getLhs() != exp || quot.getRhs() != body.getArgument(2))
    return std::nullopt;
  Softmax s;
  s.div = div;
  s.input = div.getDpsInputs()[0];
  auto xType = dyn_cast<RankedTensorType>(s.input.getType());
  if (!xType || !xType.getElementType().isF32() || xType.getRank() < 2)
    return std::nullopt;
  unsigned n = xType.getRank();
  SmallVector<AffineMap> maps = div.getIndexingMapsArray();
  AffineMap identity = AffineMap::getMultiDimIdentityMap(n, div.getContext());
  AffineMap rows = identity.dropResult(n - 1);
  if (maps[0] != identity || maps[1] != rows || maps[2] != rows || maps[3] != identity)
    return std::nullopt;
  s.max = div.getDpsInputs()[1].getDefiningOp<linalg::ReduceOp>();
  s.sum = div.getDpsInputs()[2].getDefiningOp<linalg::GenericOp>();
  if (!s.max || !s.sum || s.max.getInputs().size() != 1 || s.max.getInputs()[0] != s.input ||
      s.max.getDimensions() != ArrayRef<int64_t>{int64_t(n) - 1} ||
      !isFillOf(s.max.getInits()[0], -INFINITY))
    return std::nullopt;
  Block &maxBody = s.max.getRegion().front();
  auto maxOps = bodyOps(maxBody, 1);
  if (!maxOps || !isa<arith::MaximumFOp>((*maxOps)[0]))
    return std::nullopt;
  // sum: inputs (X, m), init a zero fill, body exp(x - m) + out.
  if (s.sum.getNumDpsInputs() != 2 || s.sum.getDpsInputs()[0] != s.input ||
      s.sum.getDpsInputs()[1] != s.max.getResult(0) || !isFillOf(s.sum.getDpsInits()[0], 0.0) ||
      s.sum.getNumReductionLoops() != 1)
    return std::nullopt;
  SmallVector<AffineMap> sumMaps = s.sum.getIndexingMapsArray();
  if (sumMaps[0] != identity || sumMaps[1] != rows || sumMaps[2] != rows)
    return std::nullopt;
  // exp(x - m) + out
  Block &sumBody = s.sum.getRegion().front();
  Value exp2;
  auto add = dyn_cast_or_null<arith::AddFOp>(afterExpOfDifference(sumBody, exp2));
  Value acc = sumBody.getArgument(2);
  if (!add || !((add.getLhs() == acc && add.getRhs() == exp2) ||
                (add.getRhs() == acc && add.getLhs() == exp2)))
    return std::nullopt;
  // X feeds only the softmax; m and s only its own ops.
  if (!llvm::all_of(realUsers(s.input), [&](Operation *u) {
        return u == s.div || u == s.sum || u == s.max;
      }) ||
      realUsers(s.max.getResult(0)).size() != 2 || !hasOneRealUse(s.sum.getResult(0)))
    return std::nullopt;
  return s;
}

/// A matched attention block.
struct AttentionBlock {
  Operation *scores = nullptr;   ///< Q Kᵀ
  Operation *output = nullptr;   ///< P V
  Softmax softmax;
  SmallVector<Operation *> ops;  ///< every op replaced, consumers first
  double scale = 1.0;
  Value mask;                    ///< an additive mask read by the kernel, or null
  Value k;                       ///< K itself ([.., T, D]) when Kᵀ is its transpose, or null
  bool maskPerBatch = false;
  bool causal = false;
  int64_t offset = 0;
};

/// Whether the constant [S, T] mask `values` is causal: 0 for key j <= i + offset and at most
/// kMaskedBelow above; sets `offset` (>= 0, so that every row attends key 0).
bool isCausal(ArrayRef<double> values, int64_t S, int64_t T, int64_t &offset) {
  int64_t zeros = 0;
  while (zeros < T && values[zeros] == 0.0)
    ++zeros;
  if (zeros == 0)
    return false;
  offset = zeros - 1;
  for (int64_t i = 0; i < S; ++i)
    for (int64_t j = 0; j < T; ++j) {
      double v = values[i * T + j];
      if (j <= i + offset ? v != 0.0 : !(v <= kMaskedBelow))
        return false;
    }
  return true;
}

struct FuseAttentionPass : public sparq::impl::FuseAttentionPassBase<FuseAttentionPass> {
  using FuseAttentionPassBase::FuseAttentionPassBase;
  FuseAttentionPass(const sparq::FuseAttentionPassOptions &options, sparq::FusionRecordSink sink)
      : FuseAttentionPassBase(options), sink(std::move(sink)) {}

  sparq::FusionRecordSink sink;

  void note(Operation *root, sparq::FusionRecord record) {
    record.root = sparq::onnxNames(root->getLoc());
    if (report) {
      if (record.fused)
        root->emitRemark("sparq-cpu-fuse-attention: fused ")
            << record.kind << " (" << record.ops << " ops) over blocks of " << record.tileRows
            << " query rows, " << record.tileBytes << " bytes of intermediates per block";
      else
        root->emitRemark("sparq-cpu-fuse-attention: not fused: ") << record.reason;
    }
    if (sink)
      sink(record);
  }

  /// The attention block whose softmax is `s`, or the reason it is not one. `related` is set
  /// when the softmax reads a matmul or feeds one (only then is a failure worth a remark).
  FailureOr<AttentionBlock> match(Softmax s, std::string &why, bool &related) {
    AttentionBlock blk;
    blk.softmax = s;
    related = false;
    // Consumer: P (collapsed to the matmul's rank when the scores were expanded) V.
    Value p = s.div.getResult(0);
    auto isMatmul = [](Operation *op) {
      auto l = dyn_cast_or_null<linalg::LinalgOp>(op);
      return l && l.getNumDpsInputs() == 2 && l.getNumReductionLoops() == 1;
    };
    for (Operation *u : realUsers(p)) {
      related = related || isMatmul(u);
      if (auto c = dyn_cast<tensor::CollapseShapeOp>(u))
        related = related || llvm::any_of(c->getUsers(), isMatmul);
    }
    if (!hasOneRealUse(p))
      return why = "the probabilities have other users", failure();
    Operation *user = realUsers(p)[0];
    auto collapse = dyn_cast<tensor::CollapseShapeOp>(user);
    if (collapse) {
      if (!hasOneRealUse(collapse.getResult()))
        return why = "the probabilities have other users", failure();
      user = realUsers(collapse.getResult())[0];
    }
    // Producer chain of X, last op first: elementwise ops with one constant or mask operand,
    // then (an expand_shape of) the scores matmul.
    SmallVector<linalg::GenericOp> elementwise;
    Value x = s.input;
    while (auto g = x.getDefiningOp<linalg::GenericOp>()) {
      if (g.getNumDpsInputs() != 2 || g.getNumDpsInits() != 1 || !allParallel(g) ||
          (!elementwise.empty() && !hasOneRealUse(x)))
        break;
      elementwise.push_back(g);
      x = g.getDpsInputs()[0];
    }
    auto expand = x.getDefiningOp<tensor::ExpandShapeOp>();
    if (expand) {
      if (!hasOneRealUse(expand.getResult()))
        return why = "the scores have other users", failure();
      x = expand.getSrc();
    }
    related = related || isMatmul(x.getDefiningOp());
    if (!isPlainMatmul(x.getDefiningOp()))
      return why = "the softmax input is not a (batch) matmul of f32 tensors, scaled and "
                   "masked",
             failure();
    if (!hasOneRealUse(x))
      return why = "the scores have other users", failure();
    blk.scores = x.getDefiningOp();
    if (!isPlainMatmul(user) || user->getOperand(0) != (collapse ? collapse.getResult() : p))
      return why = "the softmax result is not the left operand of a (batch) matmul", failure();
    blk.output = user;
    // The expand/collapse pair must restore the matmul's shape.
    if ((expand != nullptr) != (collapse != nullptr) ||
        (expand && (expand.getReassociationIndices() != collapse.getReassociationIndices() ||
                    collapse.getResultType() != expand.getSrcType())))
      return why = "the probabilities are reshaped differently from the scores", failure();
    // The elementwise ops, first applied first: scale factors, then at most one mask.
    auto xType = cast<RankedTensorType>(s.input.getType());
    unsigned n = xType.getRank();
    AffineMap identity = AffineMap::getMultiDimIdentityMap(n, &getContext());
    for (linalg::GenericOp g : llvm::reverse(elementwise)) {
      SmallVector<AffineMap> maps = g.getIndexingMapsArray();
      Block &body = g.getRegion().front();
      auto ops = bodyOps(body, 1);
      if (maps[0] != identity || maps[2] != identity || !ops ||
          body.getTerminator()->getOperand(0) != (*ops)[0]->getResult(0))
        return why = "an op between the scores and the softmax is not a scale or a mask",
               failure();
      Operation *op = (*ops)[0];
      Value other = g.getDpsInputs()[1];
      bool xFirst = op->getNumOperands() == 2 && op->getOperand(0) == body.getArgument(0) &&
                    op->getOperand(1) == body.getArgument(1);
      bool xSecond = op->getNumOperands() == 2 && op->getOperand(1) == body.getArgument(0) &&
                     op->getOperand(0) == body.getArgument(1);
      std::optional<double> c = scalarConstant(other);
      if (c && isa<arith::MulFOp>(op) && (xFirst || xSecond) && !blk.mask && !blk.causal) {
        blk.scale *= *c;
      } else if (c && isa<arith::DivFOp>(op) && xFirst && !blk.mask && !blk.causal && *c != 0) {
        blk.scale /= *c;
      } else if (isa<arith::AddFOp>(op) && (xFirst || xSecond) && !blk.mask && !blk.causal) {
        if (failed(matchMask(blk, other, maps[1], xType, why)))
          return failure();
      } else {
        return why = "an op between the scores and the softmax is not a scale by a constant "
                     "followed by an additive mask",
               failure();
      }
      blk.ops.push_back(g);
    }
    auto q = cast<RankedTensorType>(blk.scores->getOperand(0).getType());
    auto v = cast<RankedTensorType>(blk.output->getOperand(1).getType());
    const int64_t D = q.getShape().back();
    if (ShapedType::isDynamic(D) || v.getShape().back() != D)
      return why = "the head dimension is dynamic, or differs between Q and V", failure();
    if (D > kMaxHeadDim)
      return why = "head dimension " + std::to_string(D) + " is above " +
                   std::to_string(kMaxHeadDim),
             failure();
    // Consumers first, for erasing.
    std::reverse(blk.ops.begin(), blk.ops.end());
    SmallVector<Operation *> ops = {blk.output};
    if (collapse)
      ops.push_back(collapse);
    ops.append({s.div, s.sum, s.max});
    ops.append(blk.ops.begin(), blk.ops.end());
    if (expand)
      ops.push_back(expand);
    ops.push_back(blk.scores);
    // Kᵀ made by a transpose of K's last two dims (then collapsed to the matmul's rank) used
    // only here: the kernel reads K's rows, and the transpose of the whole K (a copy of the KV
    // cache per decoding step) goes. With one task of query rows per batch (static S <= 128)
    // that task transposes each key block as it reads it; with more, the kernel packs every
    // block once into the scratch the call passes (kpack) and all tasks read that copy (each
    // task transposing every block again was 6-20 % slower than the copy at S = 2048).
    Value kt = blk.scores->getOperand(1);
    auto kc = kt.getDefiningOp<tensor::CollapseShapeOp>();
    if (auto tr = (kc ? kc.getSrc() : kt).getDefiningOp<linalg::TransposeOp>()) {
      bool swapsLast = sparq::swapsLastTwoDims(tr.getPermutation());
      if (kc) {
        auto groups = kc.getReassociationIndices();
        swapsLast = swapsLast && groups.size() >= 2 && groups.back().size() == 1 &&
                    groups[groups.size() - 2].size() == 1 && hasOneRealUse(kc.getResult());
      }
      if (swapsLast && hasOneRealUse(tr->getResult(0))) {
        blk.k = tr.getInput();
        if (kc)
          ops.push_back(kc);
        ops.push_back(tr);
      }
    }
    blk.ops = ops;
    return blk;
  }

  /// The additive mask `mask` indexed by `map` in the scores' (expanded) loops.
  LogicalResult matchMask(AttentionBlock &blk, Value mask, AffineMap map, RankedTensorType xType,
                          std::string &why) {
    auto type = dyn_cast<RankedTensorType>(mask.getType());
    unsigned n = xType.getRank();
    if (!type || !type.getElementType().isF32())
      return why = "the mask is not an f32 tensor", failure();
    const int64_t S = xType.getDimSize(n - 2), T = xType.getDimSize(n - 1);
    // Sizes that may be equal: the lowering checked broadcasts of dynamic sizes at run time.
    auto compatible = [](int64_t a, int64_t b) {
      return a == b || ShapedType::isDynamic(a) || ShapedType::isDynamic(b);
    };
    unsigned r = map.getNumResults();
    auto isDim = [&](unsigned result, unsigned dim) {
      auto d = dyn_cast<AffineDimExpr>(map.getResult(result));
      return d && d.getPosition() == dim;
    };
    if (r < 2 || !isDim(r - 2, n - 2) || !isDim(r - 1, n - 1) ||
        !compatible(type.getDimSize(r - 2), S) || !compatible(type.getDimSize(r - 1), T))
      return why = "the mask does not cover the scores' last two dims", failure();
    bool broadcast = true;
    for (unsigned i = 0; i + 2 < r; ++i) {
      auto cst = dyn_cast<AffineConstantExpr>(map.getResult(i));
      if (!cst || cst.getValue() != 0 || type.getDimSize(i) != 1)
        broadcast = false;
    }
    if (!broadcast) {
      if (map != AffineMap::getMultiDimIdentityMap(n, map.getContext()) ||
          type.getRank() != xType.getRank() ||
          !llvm::all_of(llvm::seq<unsigned>(0, n), [&](unsigned i) {
            return compatible(type.getDimSize(i), xType.getDimSize(i));
          }))
        return why = "the mask is neither one matrix for every batch nor one per batch",
               failure();
      blk.maskPerBatch = true;
    }
    Attribute attr;
    if (broadcast && type.hasStaticShape() && matchPattern(mask, m_Constant(&attr)))
      if (std::optional<std::vector<double>> values = sparq::readElementsAsDouble(attr))
        if (isCausal(*values, S, T, blk.offset)) {
          blk.causal = true;
          return success();
        }
    blk.mask = mask;
    return success();
  }

  /// Replaces the block with the kernel call; adds the ops it erases to `erased`.
  void rewrite(ModuleOp module, AttentionBlock &blk, llvm::SmallPtrSetImpl<Operation *> &erased) {
    OpBuilder b(blk.output);
    Location loc = blk.output->getLoc();
    sparq::ScalarBuilder sb{b, loc};
    Value q = blk.scores->getOperand(0), kt = blk.scores->getOperand(1);
    Value v = blk.output->getOperand(1);
    auto outType = cast<RankedTensorType>(blk.output->getResult(0).getType());
    auto qType = cast<RankedTensorType>(q.getType());
    unsigned r = qType.getRank();
    // Sizes as values (constants where static): B, S and D from Q, T from Kᵀ.
    auto dim = [&](Value v, unsigned i) -> Value {
      int64_t size = cast<RankedTensorType>(v.getType()).getDimSize(i);
      if (!ShapedType::isDynamic(size))
        return sb.cIdx(size);
      return tensor::DimOp::create(b, loc, v, int64_t(i));
    };
    Value B = sb.cIdx(1), S = dim(q, r - 2), D = dim(q, r - 1);
    Value T = blk.k ? dim(blk.k, cast<RankedTensorType>(blk.k.getType()).getRank() - 2)
                    : dim(kt, r - 1);
    for (unsigned i = 0; i + 2 < r; ++i)
      B = sb.mul(B, dim(q, i));
    SmallVector<Value> dynamicSizes;
    for (unsigned i = 0; i < r; ++i)
      if (outType.isDynamicDim(i))
        dynamicSizes.push_back(dim(q, i)); // a dynamic result dim is Q's (not a broadcast 1)
    Value out = memref::AllocOp::create(
        b, loc, MemRefType::get(outType.getShape(), outType.getElementType()), dynamicSizes,
        b.getI64IntegerAttr(64));
    Value zero = sb.cIdx(0), SD = sb.mul(S, D), TD = sb.mul(T, D);
    SmallVector<Value> args = {sparq::elementAddress(b, loc, out), SD, D,
                               sparq::readAddress(b, loc, q), SD, D,
                               sparq::readAddress(b, loc, blk.k ? blk.k : kt),
                               TD, blk.k ? D : T,
                               sparq::readAddress(b, loc, v), TD, D};
    if (blk.mask)
      args.append({sparq::readAddress(b, loc, blk.mask), blk.maskPerBatch ? sb.mul(S, T) : zero,
                   T});
    else
      args.append({zero, zero, zero});
    args.append({B, S, T, D});
    args.push_back(arith::ConstantOp::create(b, loc, b.getF32FloatAttr(float(blk.scale))));
    args.append({sb.cIdx(blk.offset), sb.cIdx((blk.causal ? SPARQ_UK_CAUSAL : 0) |
                                               (blk.k ? SPARQ_UK_K_ROWS : 0))});
    // The packed-key scratch (B x ceil(T / KEYS) x D x KEYS floats) where a batch may have more
    // than one task of query rows (the kernel uses it only then; freed by the deallocation
    // pipeline at the end of the block, after the call).
    int64_t staticS = qType.getDimSize(r - 2);
    if (ShapedType::isDynamic(staticS) || staticS > kQueryRowsPerTask) {
      Value keys = sb.cIdx(SPARQ_UK_ATTENTION_KEYS);
      Value blocks = sb.div(sb.add(T, sb.cIdx(SPARQ_UK_ATTENTION_KEYS - 1)), keys);
      Value floats = sb.mul(sb.mul(B, blocks), sb.mul(D, keys));
      Value kpack = memref::AllocOp::create(
          b, loc, MemRefType::get({ShapedType::kDynamic}, b.getF32Type()), ValueRange{floats},
          b.getI64IntegerAttr(64));
      args.push_back(sparq::elementAddress(b, loc, kpack));
    } else {
      args.push_back(zero);
    }
    SmallVector<Type> types(args.size(), b.getIndexType());
    types[types.size() - 4] = b.getF32Type(); // scale, before causalOffset, flags and kpack
    sparq::declareKernelFunction(module, kAttentionSymbol, b.getFunctionType(types, {}));
    auto call = func::CallOp::create(b, loc, kAttentionSymbol, TypeRange{}, args);
    // Flops of the two products (fewer under a causal mask), the bytes of Q, K, V, the mask and
    // O; unknown with dynamic sizes.
    sparq::KernelCost cost{-1, -1};
    auto qt = cast<RankedTensorType>(q.getType()), ktt = cast<RankedTensorType>(kt.getType());
    if (qt.hasStaticShape() && ktt.hasStaticShape()) {
      int64_t nb = 1;
      for (unsigned i = 0; i + 2 < r; ++i)
        nb *= qt.getDimSize(i);
      const int64_t ns = qt.getDimSize(r - 2), nd = qt.getDimSize(r - 1),
                    nt = ktt.getDimSize(r - 1);
      int64_t pairs = 0;
      for (int64_t i = 0; i < ns; ++i)
        pairs += blk.causal ? std::min(nt, i + blk.offset + 1) : nt;
      cost = sparq::KernelCost{4 * nb * pairs * nd, 4 * nb * (2 * ns * nd + 2 * nt * nd)};
      int64_t maskBytes = blk.mask ? sparq::shapedBytes(blk.mask.getType()) : 0;
      cost.bytes = maskBytes < 0 ? -1 : cost.bytes + maskBytes;
    }
    sparq::setKernelCost(call, cost);
    Value result = bufferization::ToTensorOp::create(b, loc, outType, out, /*restrict=*/true,
                                                     /*writable=*/true);
    blk.output->getResult(0).replaceAllUsesWith(result);
    // Sizes read from the replaced ops come from what their results' sizes are made of.
    for (Operation *op : blk.ops) {
      SmallVector<tensor::DimOp> dims;
      for (Operation *u : op->getUsers())
        if (auto d = dyn_cast<tensor::DimOp>(u))
          dims.push_back(d);
      if (dims.empty())
        continue;
      OpBuilder at(op);
      ReifiedRankedShapedTypeDims shapes;
      if (failed(reifyResultShapes(at, op, shapes)))
        continue;
      for (tensor::DimOp d : dims) {
        std::optional<int64_t> index = d.getConstantIndex();
        if (!index)
          continue;
        unsigned resultNo = cast<OpResult>(d.getSource()).getResultNumber();
        d.getResult().replaceAllUsesWith(
            getValueOrCreateConstantIndexOp(at, d.getLoc(), shapes[resultNo][*index]));
        d.erase();
      }
    }
    for (Operation *op : blk.ops)
      if (op->use_empty()) {
        erased.insert(op);
        op->erase();
      }
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<linalg::GenericOp> candidates;
    module.walk([&](linalg::GenericOp g) { candidates.push_back(g); });
    // Ops a rewrite erased (a later candidate may be one: the dynamic-shape scores matmul
    // and the softmax's sum are generics too); never looked at again.
    llvm::SmallPtrSet<Operation *, 16> erased;
    for (linalg::GenericOp g : candidates) {
      if (erased.contains(g.getOperation()))
        continue;
      std::optional<Softmax> s = matchSoftmax(g);
      if (!s)
        continue;
      std::string why;
      bool related = false;
      FailureOr<AttentionBlock> blk = match(*s, why, related);
      if (failed(blk)) {
        if (related) {
          sparq::FusionRecord record;
          record.reason = "attention: " + why;
          note(g, record);
        }
        continue;
      }
      sparq::FusionRecord record;
      record.fused = true;
      record.kind = std::string("attention (online softmax") + (blk->causal ? ", causal" : "") +
                    (blk->mask ? ", mask" : "") + (blk->k ? ", K rows" : "") + ")";
      record.ops = int64_t(blk->ops.size());
      std::string names;
      for (Operation *op : blk->ops) {
        std::string n = sparq::onnxNames(op->getLoc());
        if (!n.empty() && names.find(n) == std::string::npos)
          names = names.empty() ? n : n + "+" + names;
      }
      record.names = names;
      record.tileRows = kQueryRowsPerTask;
      auto q = cast<RankedTensorType>(blk->scores->getOperand(0).getType());
      record.tileBytes = 4 * kQueryRowsPerTask * q.getShape().back();
      note(blk->output, record);
      rewrite(module, *blk, erased);
    }
  }
};

} // namespace

std::unique_ptr<mlir::Pass>
sparq::createFuseAttentionPass(const FuseAttentionPassOptions &options, FusionRecordSink sink) {
  return std::make_unique<FuseAttentionPass>(options, std::move(sink));
}
