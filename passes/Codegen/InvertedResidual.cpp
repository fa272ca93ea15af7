//===- passes/Codegen/InvertedResidual.cpp - a MobileNet block as one kernel call -===//
//
// Matches the inverted-residual form of a block sparq-block-fusion found (see
// InvertedResidual.h), packs its three filters, biases and clamps into the kernel's one constant
// (include/sparq/Formats/InvertedResidual.h) and calls sparq_uk_mbconv_f32_mt on tensors
// (to_buffer / to_tensor, like the attention and compressed-weight kernels).
//
//===----------------------------------------------------------------------===//
#include "passes/Codegen/InvertedResidual.h"

#include "passes/Codegen/KernelCost.h" // onnxNames
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
constexpr unsigned kNumArgs = 27;
constexpr llvm::StringLiteral kPackSymbol = "sparq_uk_mbconv_pack_f32";

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

/// Folds the ops of `body` from `it` on, a chain of arith.maximumf / minimumf of the running
/// value `cur` with constants ending in the yield of it, into the clamp [lo, hi]; false for
/// anything else.
bool foldClampChain(Block &body, Block::iterator it, Value cur, float &lo, float &hi) {
  for (; it != body.end() && !it->hasTrait<OpTrait::IsTerminator>(); ++it) {
    Operation &inner = *it;
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

/// An elementwise generic computing a clamp of its one input (ReLU, ReLU6, Clip), folded into
/// [lo, hi].
bool foldClamp(Operation *op, float &lo, float &hi) {
  auto g = dyn_cast<linalg::GenericOp>(op);
  if (!g || g.getNumDpsInputs() != 1)
    return false;
  Block &body = g.getRegion().front();
  return foldClampChain(body, body.begin(), body.getArgument(0), lo, hi);
}

/// An elementwise generic adding its two inputs, then possibly clamping the sum (a ReLU after
/// a residual add, fused into it by elementwise fusion), the clamp folded into [lo, hi].
bool foldAddClamp(Operation *op, float &lo, float &hi) {
  auto g = dyn_cast<linalg::GenericOp>(op);
  if (!g || g.getNumDpsInputs() != 2)
    return false;
  Block &body = g.getRegion().front();
  auto add = dyn_cast<arith::AddFOp>(body.front());
  return add && llvm::is_contained(add->getOperands(), body.getArgument(0)) &&
         llvm::is_contained(add->getOperands(), body.getArgument(1)) &&
         foldClampChain(body, std::next(body.begin()), add.getResult(), lo, hi);
}

/// The (H, W) values of a convolution's strides or dilations attribute (1 when absent).
std::pair<int64_t, int64_t> hw(Operation *conv, StringRef name) {
  auto a = conv->getAttrOfType<DenseIntElementsAttr>(name);
  if (!a)
    return {1, 1};
  auto v = llvm::to_vector(a.getValues<int64_t>());
  return {v[0], v[1]};
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
  float clamps[8] = {-inf, inf, -inf, inf, -inf, inf, -inf, inf};
  // The ops from the root back: [add (+ clamp 4)] [clamp 3...] project [clamp 2...] middle
  // [pad] [clamp 1...] expand.
  SmallVector<Operation *> ops;
  if (root != path.front())
    ops.push_back(root);
  ops.append(path.begin(), path.end());
  size_t i = 0;
  Operation *add = nullptr;
  if (residual) {
    if (!foldAddClamp(root, clamps[6], clamps[7]))
      return fail("its residual join is not an addition (and a clamp)");
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
  Operation *middle = i < ops.size() ? ops[i] : nullptr;
  if (!isa_and_nonnull<linalg::DepthwiseConv2DNchwChwOp, linalg::Conv2DNchwFchwOp>(middle))
    return fail("no convolution before its last 1x1 convolution");
  const bool full = isa<linalg::Conv2DNchwFchwOp>(middle);
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
        return fail("its middle convolution's padding is not a static zero padding of H and W");
      padT = low[2];
      padL = low[3];
      ++i;
    }
  clampsUntil(0);
  auto expand = i < ops.size() ? dyn_cast<linalg::Conv2DNchwFchwOp>(ops[i]) : nullptr;
  if (!expand || !isPointwise(expand) || i + 1 != ops.size())
    return fail("it does not start with a 1x1 convolution (before clamps)");

  auto mid = cast<linalg::LinalgOp>(middle);
  Value x = expand.getDpsInputOperand(0)->get();
  auto xType = cast<RankedTensorType>(x.getType());
  auto outType = cast<RankedTensorType>(root->getResult(0).getType());
  auto midOut = cast<RankedTensorType>(middle->getResult(0).getType());
  auto midIn = cast<RankedTensorType>(mid.getDpsInputOperand(0)->get().getType());
  if (!xType.hasStaticShape() || !outType.hasStaticShape() || !midIn.hasStaticShape() ||
      !xType.getElementType().isF32() || !outType.getElementType().isF32() ||
      !midOut.getElementType().isF32())
    return fail("it is not static f32");
  const int64_t N = xType.getDimSize(0), C = xType.getDimSize(1), H = xType.getDimSize(2),
                W = xType.getDimSize(3);
  const int64_t CE = midIn.getDimSize(1), CM = midOut.getDimSize(1), OH = midOut.getDimSize(2),
                OW = midOut.getDimSize(3), CO = outType.getDimSize(1);
  auto midFilter = cast<RankedTensorType>(mid.getDpsInputOperand(1)->get().getType());
  const unsigned fr = midFilter.getRank();
  const int64_t KH = midFilter.getDimSize(fr - 2), KW = midFilter.getDimSize(fr - 1);
  const auto [SH, SW] = hw(middle, "strides");
  const auto [DH, DW] = hw(middle, "dilations");
  // The skip connection: the block input itself, or a 1x1 convolution of it (a projection
  // shortcut) with the middle convolution's strides.
  linalg::Conv2DNchwFchwOp shortcut;
  if (add) {
    Value main = path.front()->getResult(0);
    Value skip = add->getOperand(0) == main ? add->getOperand(1) : add->getOperand(0);
    if (skip != x) {
      shortcut = skip.getDefiningOp<linalg::Conv2DNchwFchwOp>();
      auto filter = shortcut ? cast<RankedTensorType>(shortcut.getDpsInputOperand(1)->get().getType())
                             : RankedTensorType();
      if (!shortcut || shortcut.getDpsInputOperand(0)->get() != x ||
          filter.getDimSize(2) != 1 || filter.getDimSize(3) != 1 ||
          hw(shortcut, "strides") != std::make_pair(SH, SW) ||
          cast<RankedTensorType>(skip.getType()) != outType)
        return fail("its skip connection is neither the block input nor a 1x1 convolution of "
                    "it with the block's stride");
    } else if (xType != outType) {
      return fail("its residual input and output differ in shape");
    }
  }
  if (KH > 7 || KW > 7)
    return fail("its middle filter is larger than 7x7");
  if ((OH - 1) * SH + (KH - 1) * DH + 1 > midIn.getDimSize(2) ||
      (OW - 1) * SW + (KW - 1) * DW + 1 > midIn.getDimSize(3))
    return fail("its middle convolution reads past its padded input");
  const int64_t scratch = sparq::formats::invertedResidualScratchBytes(
      W, CE, CM, CO, KH, DH, SH, (OW - 1) * SW + (KW - 1) * DW + 1 - W, OW);
  if (scratch > maxScratchBytes)
    return fail(llvm::formatv("one row needs {0} bytes of kernel scratch, over {1}", scratch,
                              maxScratchBytes)
                    .str());
  // A filter is a constant (packed here) or computed in the model, e.g. decoded from
  // compressed weights (packed at each call by sparq_uk_mbconv_pack_f32 into a copy of the
  // constant buffer): its values here stay zeros, `computed` holds the tensor.
  struct Filter {
    std::optional<std::vector<double>> values;
    Value computed;
  };
  auto filterOf = [&](linalg::LinalgOp conv) {
    Value f = conv.getDpsInputOperand(1)->get();
    Filter r{constantValues(f), Value()};
    auto t = dyn_cast<RankedTensorType>(f.getType());
    if (!r.values && t && t.hasStaticShape() && t.getElementType().isF32())
      r.computed = f;
    return r;
  };
  Filter e = filterOf(expand), d = filterOf(mid), p = filterOf(project), sc;
  std::optional<std::vector<double>> be = biasOf(expand, CE),
                                     bd = biasOf(mid, CM),
                                     bp = biasOf(project, CO);
  std::optional<std::vector<double>> bs;
  if (shortcut) {
    sc = filterOf(shortcut);
    bs = biasOf(shortcut, CO);
  }
  auto known = [](const Filter &f) { return f.values || f.computed; };
  if (!known(e) || !known(d) || !known(p) || (shortcut && !known(sc)))
    return fail("a filter is neither a constant nor a static f32 tensor");
  if (!be || !bd || !bp || (shortcut && !bs))
    return fail("a convolution's initial value is not a constant bias");
  auto value = [](const Filter &f, int64_t i) { return f.values ? (*f.values)[i] : 0.0; };

  OpBuilder b(root);
  Location loc = root->getLoc();
  sparq::ScalarBuilder sb{b, loc};
  const bool projection = bool(shortcut);
  const sparq::formats::InvertedResidualLayout layout(C, CE, CM, CO, KH, KW, full, projection);
  std::vector<float> packed(size_t(layout.total));
  sparq::formats::packInvertedResidual(
      packed.data(), C, CE, CM, CO, KH, KW, full, projection, clamps,
      [&](int64_t ce, int64_t c) { return value(e, ce * C + c); },
      [&](int64_t m, int64_t ce, int64_t kh, int64_t kw) {
        return value(d, sparq::formats::middleFilterIndex(m, ce, kh, kw, CE, KH, KW, full));
      },
      [&](int64_t o, int64_t m) { return value(p, o * CM + m); },
      [&](int64_t o, int64_t c) { return projection ? value(sc, o * C + c) : 0.0; },
      [&](int64_t ce) { return (*be)[ce]; }, [&](int64_t m) { return (*bd)[m]; },
      [&](int64_t o) { return (*bp)[o]; },
      [&](int64_t o) { return projection ? (*bs)[o] : 0.0; });
  auto packedType = RankedTensorType::get({layout.total}, b.getF32Type());
  std::string blob = sparq::onnxNames(project.getLoc()) + "_block";
  Value weights = arith::ConstantOp::create(
      b, loc, packedType, sparq::makeFloatConstant(packedType, packed, blob));
  const int64_t flags = (add && !projection ? SPARQ_UK_RESIDUAL : 0) |
                        (projection ? SPARQ_UK_PROJECTION : 0) | (full ? SPARQ_UK_FULL_CONV : 0);
  Value weightsAddress = sparq::readAddress(b, loc, weights);
  const bool decoded = e.computed || d.computed || p.computed || sc.computed;
  if (decoded) {
    // The buffer the kernel reads, packed at each call (freed by the deallocation pipeline at
    // the end of the block, after the kernel's call).
    Value buffer = memref::AllocOp::create(
        b, loc, MemRefType::get({layout.total}, b.getF32Type()), ValueRange{},
        b.getI64IntegerAttr(64));
    auto address = [&](const Filter &f) {
      return f.computed ? sparq::readAddress(b, loc, f.computed) : sb.cIdx(0);
    };
    SmallVector<Value> packArgs = {sparq::elementAddress(b, loc, buffer), weightsAddress,
                                   address(e), address(d), address(p), address(sc)};
    for (int64_t v : {C, CE, CM, CO, KH, KW, flags})
      packArgs.push_back(sb.cIdx(v));
    sparq::declareIndexKernel(module, kPackSymbol, unsigned(packArgs.size()));
    func::CallOp::create(b, loc, kPackSymbol, TypeRange{}, packArgs);
    weightsAddress = sparq::elementAddress(b, loc, buffer);
  }
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
                             weightsAddress};
  for (int64_t v : {N, C, H, W, CE, CM, CO, KH, KW, OH, OW, SH, SW, DH, DW, padT, padL, flags})
    args.push_back(sb.cIdx(v));
  assert(args.size() == kNumArgs);
  sparq::declareIndexKernel(module, kSymbol, kNumArgs);
  auto call = func::CallOp::create(b, loc, kSymbol, TypeRange{}, args);
  Value result = bufferization::ToTensorOp::create(b, loc, outType, out, /*restrict=*/true,
                                                   /*writable=*/true);
  root->getResult(0).replaceAllUsesWith(result);
  std::string kind = llvm::formatv(
      "{0} of 3 convolutions{1} (one kernel{2})",
      full ? "bottleneck block" : "inverted residual block",
      projection ? " with a projection shortcut" : add ? " with the input added" : "",
      decoded ? "; filters decoded from compressed weights, packed at each call" : "");
  return InvertedResidualFusion{call, scratch, kind};
}
