//===- passes/Codegen/FoldConstantElementwise.cpp - elementwise ops on constants ===//
//
// An elementwise linalg.generic whose inputs are all constants is evaluated at compile time
// into a new constant. The case that matters: weights stored as integers and converted by the
// graph itself (Cast -> Mul by a scale -> Add an offset, as some exporters write a quantized
// convolution's filter) were converted again at every call, and the convolution then packed the
// computed filter at every call; folded, the filter is a constant the kernel packs once at
// compile time. The body is interpreted op by op with the arithmetic of the target (float32
// operations rounded as float32, integers wrapping at their width), so the folded values are
// the ones the code would compute. Ops outside the interpreted set, non-elementwise generics,
// results beyond `maxElements` and results much larger than their inputs (broadcasts) are left
// to run time.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "dialects/Common/ConstantData.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"

#include <cstring>

using namespace mlir;

namespace {

/// A scalar of the interpreter: float32/float64 as double (float32 values exactly), integers
/// sign-extended from their width into int64.
struct Scalar {
  double f = 0;
  int64_t i = 0;
};

/// The element types the interpreter computes in.
bool isSupportedType(Type t) {
  if (t.isF32() || t.isF64())
    return true;
  auto it = dyn_cast<IntegerType>(t);
  return it && it.getWidth() >= 2 && it.getWidth() <= 64;
}

int64_t wrapTo(uint64_t v, unsigned width) {
  if (width >= 64)
    return int64_t(v);
  uint64_t m = (uint64_t(1) << width) - 1;
  v &= m;
  return (v >> (width - 1)) & 1 ? int64_t(v | ~m) : int64_t(v);
}

uint64_t zext(int64_t v, unsigned width) {
  return width >= 64 ? uint64_t(v) : uint64_t(v) & ((uint64_t(1) << width) - 1);
}

/// One interpreted op: its result from the operand scalars, or nullopt when the op is not one
/// the interpreter knows (then nothing is folded).
std::optional<Scalar> evaluate(Operation *op, ArrayRef<Scalar> in) {
  Type rt = op->getResult(0).getType();
  bool f32 = rt.isF32();
  auto fp = [&](double v) {
    Scalar s;
    s.f = f32 ? double(float(v)) : v;
    return s;
  };
  // float32 arithmetic done in float (one rounding, as the target does it).
  auto binF = [&](auto fn) -> Scalar {
    if (f32)
      return fp(double(fn(float(in[0].f), float(in[1].f))));
    return fp(fn(in[0].f, in[1].f));
  };
  auto integer = [&](uint64_t v) {
    Scalar s;
    s.i = wrapTo(v, rt.getIntOrFloatBitWidth());
    return s;
  };
  auto srcWidth = [&]() { return op->getOperand(0).getType().getIntOrFloatBitWidth(); };
  if (isa<arith::AddFOp>(op))
    return binF([](auto a, auto b) { return a + b; });
  if (isa<arith::SubFOp>(op))
    return binF([](auto a, auto b) { return a - b; });
  if (isa<arith::MulFOp>(op))
    return binF([](auto a, auto b) { return a * b; });
  if (isa<arith::DivFOp>(op))
    return binF([](auto a, auto b) { return a / b; });
  if (isa<arith::NegFOp>(op))
    return fp(-in[0].f);
  if (isa<arith::SIToFPOp>(op))
    return fp(double(in[0].i));
  if (isa<arith::UIToFPOp>(op))
    return fp(double(zext(in[0].i, srcWidth())));
  if (isa<arith::ExtFOp, arith::TruncFOp>(op))
    return fp(in[0].f);
  if (isa<arith::ExtSIOp, arith::TruncIOp>(op))
    return integer(uint64_t(in[0].i));
  if (isa<arith::ExtUIOp>(op))
    return integer(zext(in[0].i, srcWidth()));
  if (isa<arith::AddIOp>(op))
    return integer(uint64_t(in[0].i) + uint64_t(in[1].i));
  if (isa<arith::SubIOp>(op))
    return integer(uint64_t(in[0].i) - uint64_t(in[1].i));
  if (isa<arith::MulIOp>(op))
    return integer(uint64_t(in[0].i) * uint64_t(in[1].i));
  return std::nullopt;
}

/// The elements of a constant tensor in the interpreter's form.
std::optional<std::vector<Scalar>> readConstant(Value v) {
  Attribute attr;
  if (!matchPattern(v, m_Constant(&attr)))
    return std::nullopt;
  Type et = cast<ShapedType>(v.getType()).getElementType();
  if (!isSupportedType(et))
    return std::nullopt;
  std::vector<Scalar> out;
  if (isa<FloatType>(et)) {
    auto d = sparq::readElementsAsDouble(attr);
    if (!d)
      return std::nullopt;
    out.resize(d->size());
    for (size_t i = 0; i < d->size(); ++i)
      out[i].f = (*d)[i];
  } else {
    auto d = sparq::readElementsAsInt(attr);
    if (!d)
      return std::nullopt;
    unsigned w = et.getIntOrFloatBitWidth();
    out.resize(d->size());
    for (size_t i = 0; i < d->size(); ++i)
      out[i].i = wrapTo(uint64_t((*d)[i]), w);
  }
  return out;
}

struct FoldConstantElementwise : OpRewritePattern<linalg::GenericOp> {
  FoldConstantElementwise(MLIRContext *ctx, int64_t maxElements)
      : OpRewritePattern(ctx), maxElements(maxElements) {}

  LogicalResult matchAndRewrite(linalg::GenericOp op, PatternRewriter &rewriter) const override {
    if (op.getNumDpsInits() != 1 || op.getNumResults() != 1 || op.getNumDpsInputs() == 0 ||
        op.getNumReductionLoops() != 0)
      return failure();
    auto rt = dyn_cast<RankedTensorType>(op.getResult(0).getType());
    // Results of whole bytes per element (the constant's storage).
    if (!rt || !rt.hasStaticShape() || rt.getNumElements() > maxElements ||
        !isSupportedType(rt.getElementType()) || rt.getElementType().getIntOrFloatBitWidth() % 8)
      return failure();
    Block &body = op.getRegion().front();
    // The output's block argument is not read: the result depends on the inputs only.
    if (!body.getArgument(op.getNumDpsInputs()).use_empty())
      return failure();
    SmallVector<AffineMap> maps = op.getIndexingMapsArray();
    if (!maps.back().isIdentity())
      return failure();
    for (AffineMap m : ArrayRef<AffineMap>(maps).drop_back())
      if (!m.isProjectedPermutation())
        return failure();

    // The result may be at most 4x the inputs' bytes (an int8 weight converted to float32),
    // plus 64 KiB: a broadcast of a small constant to a large tensor stays a loop at run time
    // rather than growing the artifact.
    const int64_t rank = rt.getRank();
    int64_t inputBytes = 0;
    for (Value v : op.getDpsInputs())
      if (auto t = dyn_cast<RankedTensorType>(v.getType()); t && t.hasStaticShape())
        inputBytes += t.getNumElements() * ((t.getElementTypeBitWidth() + 7) / 8);
    const int64_t resultBytes = rt.getNumElements() * (rt.getElementTypeBitWidth() / 8);
    if (resultBytes > 4 * inputBytes + 64 * 1024)
      return failure();
    // Every input a constant (read below, once nothing else can stop the fold: the greedy
    // driver matches the op again after each change around it).
    for (Value operand : op.getDpsInputs())
      if (!matchPattern(operand, m_Constant()))
        return failure();

    // The body as a program over slots: the inputs' block arguments first, then the scalar
    // constants it reads and the op results in the order they appear.
    DenseMap<Value, unsigned> slotOf;
    SmallVector<Scalar> initial;
    for (unsigned i = 0; i < op.getNumDpsInputs(); ++i) {
      slotOf[body.getArgument(i)] = initial.size();
      initial.emplace_back();
    }
    auto scalarOf = [](Attribute a) -> std::optional<Scalar> {
      Scalar s;
      if (auto fa = dyn_cast<FloatAttr>(a))
        s.f = fa.getValueAsDouble();
      else if (auto ia = dyn_cast<IntegerAttr>(a))
        s.i = ia.getValue().getSExtValue();
      else
        return std::nullopt;
      return s;
    };
    struct Step {
      Operation *op;
      SmallVector<unsigned> operands;
      unsigned result;
    };
    SmallVector<Step> program;
    for (Operation &inner : body.without_terminator()) {
      if (inner.getNumResults() != 1 || inner.getNumRegions() != 0 ||
          !isSupportedType(inner.getResult(0).getType()))
        return failure();
      Attribute a;
      if (matchPattern(inner.getResult(0), m_Constant(&a))) {
        auto c = scalarOf(a);
        if (!c)
          return failure();
        slotOf[inner.getResult(0)] = initial.size();
        initial.push_back(*c);
        continue;
      }
      Step step{&inner, {}, 0};
      for (Value v : inner.getOperands()) {
        auto it = slotOf.find(v);
        if (it == slotOf.end()) {
          Attribute outside; // a scalar constant defined above the op
          std::optional<Scalar> c;
          if (!matchPattern(v, m_Constant(&outside)) || !(c = scalarOf(outside)))
            return failure();
          it = slotOf.try_emplace(v, initial.size()).first;
          initial.push_back(*c);
        }
        step.operands.push_back(it->second);
      }
      SmallVector<Scalar> probe(inner.getNumOperands());
      if (!evaluate(&inner, probe))
        return failure();
      step.result = initial.size();
      slotOf[inner.getResult(0)] = initial.size();
      initial.emplace_back();
      program.push_back(std::move(step));
    }
    auto yieldSlot = slotOf.find(body.getTerminator()->getOperand(0));
    if (yieldSlot == slotOf.end())
      return failure();

    // The inputs' elements, with their strides over the loop dims (0 where broadcast).
    SmallVector<std::vector<Scalar>> inputs;
    SmallVector<SmallVector<int64_t>> strides;
    for (auto [i, operand] : llvm::enumerate(op.getDpsInputs())) {
      auto values = readConstant(operand);
      auto type = dyn_cast<RankedTensorType>(operand.getType());
      if (!values || !type || !type.hasStaticShape() ||
          int64_t(values->size()) != type.getNumElements())
        return failure();
      SmallVector<int64_t> s(rank, 0);
      int64_t stride = 1;
      AffineMap m = maps[i];
      for (int64_t r = m.getNumResults() - 1; r >= 0; --r) {
        s[m.getDimPosition(r)] = type.getDimSize(r) == 1 ? 0 : stride;
        stride *= type.getDimSize(r);
      }
      inputs.push_back(std::move(*values));
      strides.push_back(std::move(s));
    }

    // Evaluate every element in row-major order.
    const int64_t n = rt.getNumElements();
    Type et = rt.getElementType();
    const size_t elemBytes = et.getIntOrFloatBitWidth() / 8;
    std::vector<char> bytes(n * elemBytes);
    SmallVector<int64_t> idx(rank, 0);
    SmallVector<Scalar> slots = initial;
    SmallVector<Scalar, 4> in;
    for (int64_t e = 0; e < n; ++e) {
      for (auto [i, values] : llvm::enumerate(inputs)) {
        int64_t off = 0;
        for (int64_t d = 0; d < rank; ++d)
          off += idx[d] * strides[i][d];
        slots[i] = values[off];
      }
      for (const Step &step : program) {
        in.clear();
        for (unsigned o : step.operands)
          in.push_back(slots[o]);
        slots[step.result] = *evaluate(step.op, in);
      }
      Scalar y = slots[yieldSlot->second];
      char *dst = bytes.data() + e * elemBytes;
      if (et.isF32()) {
        float v = float(y.f);
        std::memcpy(dst, &v, 4);
      } else if (et.isF64()) {
        std::memcpy(dst, &y.f, 8);
      } else {
        uint64_t v = uint64_t(y.i);
        std::memcpy(dst, &v, elemBytes); // little-endian: the low bytes
      }
      for (int64_t d = rank - 1; d >= 0; --d) {
        if (++idx[d] < rt.getDimSize(d))
          break;
        idx[d] = 0;
      }
    }
    std::string name = "folded";
    if (auto nl = dyn_cast<NameLoc>(op.getLoc()))
      name = nl.getName().str() + ".folded";
    auto folded = arith::ConstantOp::create(rewriter, op.getLoc(),
                                            sparq::makeConstantFromBytes(rt, bytes, name));
    rewriter.replaceOp(op, folded.getResult());
    return success();
  }

  int64_t maxElements;
};

} // namespace

void sparq::populateFoldConstantElementwisePatterns(RewritePatternSet &patterns,
                                                    int64_t maxElements) {
  patterns.add<FoldConstantElementwise>(patterns.getContext(), maxElements);
}
