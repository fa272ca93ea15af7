//===- passes/Codegen/InvertedResidual.cpp - a MobileNet block as one kernel call -===//
//
// Matches the inverted-residual form of a block sparq-block-fusion found (see
// InvertedResidual.h), packs its three filters, biases and clamps into the kernel's one constant
// (include/sparq/Formats/InvertedResidual.h) and calls sparq_uk_mbconv_f32_mt on tensors
// (to_buffer / to_tensor, like the attention and compressed-weight kernels).
//
//===----------------------------------------------------------------------===//
#include "passes/Codegen/InvertedResidual.h"

#include "passes/Codegen/KernelCost.h"
#include "passes/Codegen/MicroKernels.h"

#include "dialects/Common/ConstantData.h"
#include "dialects/Common/ScalarBuilder.h"
#include "sparq/Formats/InvertedResidual.h"
#include "sparq/Kernels/UKernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"

#include <cmath>
#include <limits>

#include "llvm/Support/FormatVariadic.h"

using namespace mlir;

namespace {

constexpr llvm::StringLiteral kSymbol = "sparq_uk_mbconv_f32_mt";
constexpr unsigned kNumArgs = 26;

/// The values of a constant, looking through reshapes (which keep the row-major order).
std::optional<std::vector<double>> constantValues(Value v) {
  while (Operation *def = v.getDefiningOp()) {
    if (isa<tensor::CollapseShapeOp, tensor::ExpandShapeOp>(def)) {
      v = def->getOperand(0);
      continue;
    }
    break;
  }
  Attribute attr;
  if (!matchPattern(v, m_Constant(&attr)))
    return std::nullopt;
  return sparq::readElementsAsDouble(attr);
}

/// The per-channel start of a convolution's accumulator: a constant broadcast along N, H, W or
/// a constant fill.
std::optional<std::vector<double>> biasOf(linalg::LinalgOp conv, int64_t channels) {
  Operation *def = conv.getDpsInitOperand(0)->get().getDefiningOp();
  if (auto bc = dyn_cast_or_null<linalg::BroadcastOp>(def)) {
    if (bc.getDimensions() != ArrayRef<int64_t>{0, 2, 3})
      return std::nullopt;
    std::optional<std::vector<double>> v = constantValues(bc.getInput());
    if (v && int64_t(v->size()) == channels)
      return v;
    return std::nullopt;
  }
  if (auto fill = dyn_cast_or_null<linalg::FillOp>(def)) {
    FloatAttr value;
    if (!matchPattern(fill.getInputs()[0], m_Constant(&value)))
      return std::nullopt;
    return std::vector<double>(size_t(channels), value.getValueAsDouble());
  }
  return std::nullopt;
}

/// Folds an elementwise generic computing a clamp of its one input (a chain of arith.maximumf /
/// minimumf with constants) into [lo, hi]; false for any other body.
bool foldClamp(Operation *op, float &lo, float &hi) {
  auto g = dyn_cast<linalg::GenericOp>(op);
  if (!g || g.getNumDpsInputs() != 1)
    return false;
  Block &body = g.getRegion().front();
  Value cur = body.getArgument(0);
  for (Operation &inner : body.without_terminator()) {
    if (inner.getNumOperands() != 2 || !isa<arith::MaximumFOp, arith::MinimumFOp>(inner))
      return false;
    Value other = inner.getOperand(0) == cur ? inner.getOperand(1) : inner.getOperand(0);
    FloatAttr c;
    if ((inner.getOperand(0) != cur && inner.getOperand(1) != cur) ||
        !matchPattern(other, m_Constant(&c)))
      return false;
    float v = float(c.getValueAsDouble());
    if (isa<arith::MaximumFOp>(inner)) {
      lo = std::max(lo, v);
      hi = std::max(hi, v);
    } else {
      hi = std::min(hi, v);
      lo = std::min(lo, v);
    }
    cur = inner.getResult(0);
  }
  return body.getTerminator()->getOperand(0) == cur;
}

/// Whether `op` is an elementwise generic adding its two inputs.
bool isAdd(Operation *op) {
  auto g = dyn_cast<linalg::GenericOp>(op);
  if (!g || g.getNumDpsInputs() != 2)
    return false;
  Block &body = g.getRegion().front();
  if (body.getOperations().size() != 2)
    return false;
  auto add = dyn_cast<arith::AddFOp>(body.front());
  return add && body.getTerminator()->getOperand(0) == add.getResult() &&
         llvm::is_contained(add->getOperands(), body.getArgument(0)) &&
         llvm::is_contained(add->getOperands(), body.getArgument(1));
}

bool isPointwise(linalg::Conv2DNchwFchwOp conv) {
  auto filter = cast<RankedTensorType>(conv.getDpsInputOperand(1)->get().getType());
  auto ones = [](DenseIntElementsAttr a) {
    return !a || llvm::all_of(a.getValues<int64_t>(), [](int64_t v) { return v == 1; });
  };
  return filter.getDimSize(2) == 1 && filter.getDimSize(3) == 1 && ones(conv.getStrides());
}

} // namespace

FailureOr<sparq::InvertedResidualFusion>
sparq::fuseInvertedResidual(ModuleOp module, Operation *root, ArrayRef<Operation *> path,
                            bool residual, int64_t maxScratchBytes, std::string &why) {
  auto fail = [&](const Twine &reason) {
    why = reason.str();
    return failure();
  };
  const float inf = std::numeric_limits<float>::infinity();
  float clamps[6] = {-inf, inf, -inf, inf, -inf, inf};
  // The ops from the root back: [add] [clamp3...] project [clamp2...] depthwise [pad]
  // [clamp1...] expand.
  SmallVector<Operation *> ops;
  if (root != path.front())
    ops.push_back(root);
  ops.append(path.begin(), path.end());
  size_t i = 0;
  Operation *add = nullptr;
  if (residual) {
    if (!isAdd(root))
      return fail("its residual join is not a plain addition");
    add = root;
    ++i;
  }
  auto clampsUntil = [&](int stage) {
    while (i < ops.size() && isa<linalg::GenericOp>(ops[i]) &&
           foldClamp(ops[i], clamps[2 * stage], clamps[2 * stage + 1]))
      ++i;
  };
  clampsUntil(2);
  auto project = i < ops.size() ? dyn_cast<linalg::Conv2DNchwFchwOp>(ops[i]) : nullptr;
  if (!project || !isPointwise(project))
    return fail("it does not end with a 1x1 convolution (after clamps)");
  ++i;
  clampsUntil(1);
  auto dw = i < ops.size() ? dyn_cast<linalg::DepthwiseConv2DNchwChwOp>(ops[i]) : nullptr;
  if (!dw)
    return fail("no depthwise convolution before its last 1x1 convolution");
  ++i;
  int64_t padT = 0, padL = 0;
  if (i < ops.size())
    if (auto pad = dyn_cast<tensor::PadOp>(ops[i])) {
      FloatAttr value;
      ArrayRef<int64_t> low = pad.getStaticLow(), high = pad.getStaticHigh();
      if (!matchPattern(pad.getConstantPaddingValue(), m_Constant(&value)) ||
          value.getValueAsDouble() != 0.0 || low.size() != 4 || low[0] || low[1] || high[0] ||
          high[1] || llvm::any_of(low, ShapedType::isDynamic) ||
          llvm::any_of(high, ShapedType::isDynamic))
        return fail("its depthwise input padding is not a static zero padding of H and W");
      padT = low[2];
      padL = low[3];
      ++i;
    }
  clampsUntil(0);
  auto expand = i < ops.size() ? dyn_cast<linalg::Conv2DNchwFchwOp>(ops[i]) : nullptr;
  if (!expand || !isPointwise(expand) || i + 1 != ops.size())
    return fail("it does not start with a 1x1 convolution (before clamps)");

  Value x = expand.getDpsInputOperand(0)->get();
  if (add && !llvm::is_contained(add->getOperands(), x))
    return fail("its residual is not the block input");
  auto xType = cast<RankedTensorType>(x.getType());
  auto outType = cast<RankedTensorType>(root->getResult(0).getType());
  auto dwOut = cast<RankedTensorType>(dw.getResult(0).getType());
  auto dwIn = cast<RankedTensorType>(dw.getDpsInputOperand(0)->get().getType());
  if (!xType.hasStaticShape() || !outType.hasStaticShape() || !dwIn.hasStaticShape() ||
      !xType.getElementType().isF32() || !outType.getElementType().isF32() ||
      !dwOut.getElementType().isF32())
    return fail("it is not static f32");
  const int64_t N = xType.getDimSize(0), C = xType.getDimSize(1), H = xType.getDimSize(2),
                W = xType.getDimSize(3);
  const int64_t CE = dwOut.getDimSize(1), OH = dwOut.getDimSize(2), OW = dwOut.getDimSize(3),
                CO = outType.getDimSize(1);
  auto dwFilter = cast<RankedTensorType>(dw.getDpsInputOperand(1)->get().getType());
  const int64_t KH = dwFilter.getDimSize(1), KW = dwFilter.getDimSize(2);
  auto attr2 = [](DenseIntElementsAttr a, int idx) {
    return a ? *(a.getValues<int64_t>().begin() + idx) : int64_t(1);
  };
  const int64_t SH = attr2(dw.getStrides(), 0), SW = attr2(dw.getStrides(), 1),
                DH = attr2(dw.getDilations(), 0), DW = attr2(dw.getDilations(), 1);
  if (KH > 7)
    return fail("its depthwise filter has more than 7 rows");
  // The padded input must cover what the output rows and columns read.
  if ((OH - 1) * SH + (KH - 1) * DH + 1 > dwIn.getDimSize(2) ||
      (OW - 1) * SW + (KW - 1) * DW + 1 > dwIn.getDimSize(3))
    return fail("its depthwise convolution reads past its padded input");
  const int64_t scratch = sparq::formats::invertedResidualScratchBytes(
      W, CE, CO, KH, DH, (OW - 1) * SW + (KW - 1) * DW + 1 - W, OW);
  if (scratch > maxScratchBytes)
    return fail(llvm::formatv("one row needs {0} bytes of kernel scratch, over {1}", scratch,
                              maxScratchBytes)
                    .str());
  std::optional<std::vector<double>> e = constantValues(expand.getDpsInputOperand(1)->get()),
                                     d = constantValues(dw.getDpsInputOperand(1)->get()),
                                     p = constantValues(project.getDpsInputOperand(1)->get());
  std::optional<std::vector<double>> be = biasOf(expand, CE), bd = biasOf(dw, CE),
                                     bp = biasOf(project, CO);
  if (!e || !d || !p)
    return fail("a filter is not a constant");
  if (!be || !bd || !bp)
    return fail("a convolution's initial value is not a constant bias");

  OpBuilder b(root);
  Location loc = root->getLoc();
  sparq::ScalarBuilder sb{b, loc};
  const sparq::formats::InvertedResidualLayout layout(C, CE, CO, KH, KW);
  std::vector<float> packed(size_t(layout.total));
  sparq::formats::packInvertedResidual(
      packed.data(), C, CE, CO, KH, KW, clamps,
      [&](int64_t ce, int64_t c) { return (*e)[ce * C + c]; },
      [&](int64_t ce, int64_t kh, int64_t kw) { return (*d)[(ce * KH + kh) * KW + kw]; },
      [&](int64_t o, int64_t ce) { return (*p)[o * CE + ce]; },
      [&](int64_t ce) { return (*be)[ce]; }, [&](int64_t ce) { return (*bd)[ce]; },
      [&](int64_t o) { return (*bp)[o]; });
  auto packedType = RankedTensorType::get({layout.total}, b.getF32Type());
  std::string blob = sparq::onnxNames(project.getLoc()) + "_mbconv";
  Value weights = arith::ConstantOp::create(
      b, loc, packedType, sparq::makeFloatConstant(packedType, packed, blob));
  Value out = memref::AllocOp::create(
      b, loc, MemRefType::get(outType.getShape(), outType.getElementType()), ValueRange{},
      b.getI64IntegerAttr(64));
  SmallVector<Value> args = {sparq::elementAddress(b, loc, out),
                             sb.cIdx(CO * OH * OW),
                             sb.cIdx(OH * OW),
                             sb.cIdx(OW),
                             sparq::readAddress(b, loc, x),
                             sb.cIdx(C * H * W),
                             sb.cIdx(H * W),
                             sb.cIdx(W),
                             sparq::readAddress(b, loc, weights)};
  for (int64_t v : {N, C, H, W, CE, CO, KH, KW, OH, OW, SH, SW, DH, DW, padT, padL,
                    int64_t(add ? SPARQ_UK_RESIDUAL : 0)})
    args.push_back(sb.cIdx(v));
  assert(args.size() == kNumArgs);
  sparq::declareIndexKernel(module, kSymbol, kNumArgs);
  auto call = func::CallOp::create(b, loc, kSymbol, TypeRange{}, args);
  // Flops of the three convolutions and the clamps/add ignored; bytes of the input, the output
  // and the packed weights.
  sparq::setKernelCost(call, sparq::KernelCost{2 * N * (H * W * C * CE + OH * OW * CE * KH * KW +
                                                        OH * OW * CE * CO),
                                               4 * (N * C * H * W + N * CO * OH * OW +
                                                    layout.total)});
  Value result = bufferization::ToTensorOp::create(b, loc, outType, out, /*restrict=*/true,
                                                   /*writable=*/true);
  root->getResult(0).replaceAllUsesWith(result);
  return InvertedResidualFusion{call, scratch};
}
