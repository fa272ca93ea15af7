//===- passes/ONNXToLinalg/Elementwise.cpp - elementwise ONNX operators -------===//
//
// Unary, binary and variadic elementwise operators with numpy broadcasting, Cast, Where, Clip and
// the activation functions. Each becomes one linalg.generic whose body is built by a scalar
// function of the (converted) element values.
//
//===----------------------------------------------------------------------===//
#include "passes/ONNXToLinalg/ONNXToLinalg.h"

#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"

#include "mlir/Dialect/Math/IR/Math.h"

#include <cmath>

using namespace mlir;

namespace sparq::onnx {
namespace {

using ScalarFn = std::function<Value(OpBuilder &, Location, ValueRange, NodeContext &)>;

bool isFloat(Type t) { return isa<FloatType>(t); }

/// Elementwise op over all present inputs, result type from the node.
LogicalResult lowerElementwise(NodeContext &c, ScalarFn fn) {
  auto resultType = c.rankedResultType(0);
  SmallVector<Value> ins;
  for (unsigned i = 0; i < c.numInputs(); ++i) {
    if (!c.hasInput(i))
      continue;
    if (!c.inputType(i))
      return c.fail("input " + Twine(i) + " is not a ranked tensor");
    ins.push_back(c.input(i));
  }
  Value r =
      buildElementwise(c.rewriter, c.loc, ins, resultType,
                       [&](OpBuilder &b, Location l, ValueRange a) { return fn(b, l, a, c); });
  return c.replace(r);
}

/// A float-only unary op built from a single math/arith op.
template <typename OpTy>
void addFloatUnary(OnnxHandlerTable &t, StringRef name, int64_t sinceVersion) {
  t.add(name, sinceVersion, [name = name.str()](NodeContext &c) -> LogicalResult {
    if (!isFloat(c.rankedResultType(0).getElementType()))
      return c.fail("only floating-point element types are supported");
    return lowerElementwise(c, [](OpBuilder &b, Location l, ValueRange a, NodeContext &) {
      return OpTy::create(b, l, a[0]).getResult();
    });
  });
}

/// A binary arithmetic op with float / signed / unsigned variants, folded over >= 2 inputs.
template <typename FOp, typename SIOp, typename UIOp>
Value arith3(OpBuilder &b, Location l, Value x, Value y, bool isUnsigned) {
  if (isFloat(x.getType()))
    return FOp::create(b, l, x, y);
  if (isUnsigned)
    return UIOp::create(b, l, x, y);
  return SIOp::create(b, l, x, y);
}

Value zeroLike(OpBuilder &b, Location l, Value v) { return scalarConstant(b, l, v.getType(), 0); }
Value cst(OpBuilder &b, Location l, Value like, double v) {
  return scalarConstant(b, l, like.getType(), v);
}

Value sigmoid(OpBuilder &b, Location l, Value x) {
  Value one = cst(b, l, x, 1.0);
  Value e = math::ExpOp::create(b, l, arith::NegFOp::create(b, l, x));
  return arith::DivFOp::create(b, l, one, arith::AddFOp::create(b, l, one, e));
}

Value clampF(OpBuilder &b, Location l, Value x, Value lo, Value hi) {
  return arith::MinimumFOp::create(b, l, arith::MaximumFOp::create(b, l, x, lo), hi);
}

/// PRelu's scalar function: x * slope where x < 0, else x.
Value prelu(OpBuilder &b, Location l, Value x, Value s) {
  if (isFloat(x.getType())) {
    Value neg = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OLT, x, zeroLike(b, l, x));
    return arith::SelectOp::create(b, l, neg, arith::MulFOp::create(b, l, x, s), x);
  }
  Value neg = arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, x, zeroLike(b, l, x));
  return arith::SelectOp::create(b, l, neg, arith::MulIOp::create(b, l, x, s), x);
}

/// PRelu-7 and later: the slope broadcasts numpy-style.
LogicalResult lowerPRelu(NodeContext &c) {
  return lowerElementwise(c, [](OpBuilder &b, Location l, ValueRange a, NodeContext &) {
    return prelu(b, l, a[0], a[1]);
  });
}

/// PRelu-1 and -6: a 1-D slope as long as the channel dimension (1) holds one value per channel;
/// any other slope broadcasts as from PRelu-7.
LogicalResult lowerPReluPerChannel(NodeContext &c) {
  auto xType = c.inputType(0), sType = c.inputType(1);
  if (!(xType && sType && xType.getRank() > 2 && sType.getRank() == 1 &&
        sType.getDimSize(0) == xType.getDimSize(1) && sType.getDimSize(0) != 1))
    return lowerPRelu(c);
  SmallVector<int64_t> shape(xType.getRank() - 1, 1);
  shape[0] = sType.getDimSize(0);
  auto newType = RankedTensorType::get(shape, sType.getElementType());
  SmallVector<ReassociationIndices> assoc = {{}};
  for (int64_t i = 0; i < (int64_t)shape.size(); ++i)
    assoc[0].push_back(i);
  Value slope = tensor::ExpandShapeOp::create(c.rewriter, c.loc, newType, c.input(1), assoc);
  Value r = buildElementwise(
      c.rewriter, c.loc, {c.input(0), slope}, c.rankedResultType(0),
      [](OpBuilder &b, Location l, ValueRange a) { return prelu(b, l, a[0], a[1]); });
  return c.replace(r);
}

/// Clip; `boundsFromInputs`: min and max are the optional inputs 1 and 2 (Clip-11 and later), not
/// the optional attributes 'min' and 'max' (Clip-1 and -6).
LogicalResult lowerClip(NodeContext &c, bool boundsFromInputs) {
  auto resultType = c.rankedResultType(0);
  Type et = resultType.getElementType();
  bool u = c.isUnsignedInput(0);
  SmallVector<Value> ins{c.input(0)};
  int minIdx = -1, maxIdx = -1;
  std::optional<double> minAttr, maxAttr;
  if (!boundsFromInputs) {
    if (c.hasAttr("min")) minAttr = c.floatAttr("min", 0);
    if (c.hasAttr("max")) maxAttr = c.floatAttr("max", 0);
  } else {
    if (c.hasInput(1)) { minIdx = ins.size(); ins.push_back(c.input(1)); }
    if (c.hasInput(2)) { maxIdx = ins.size(); ins.push_back(c.input(2)); }
  }
  Value r = buildElementwise(
      c.rewriter, c.loc, ins, resultType, [&](OpBuilder &b, Location l, ValueRange a) -> Value {
        Value x = a[0];
        Value lo = minIdx >= 0 ? a[minIdx] : minAttr ? scalarConstant(b, l, et, *minAttr) : Value();
        Value hi = maxIdx >= 0 ? a[maxIdx] : maxAttr ? scalarConstant(b, l, et, *maxAttr) : Value();
        if (isFloat(et)) {
          if (lo) x = arith::MaximumFOp::create(b, l, x, lo);
          if (hi) x = arith::MinimumFOp::create(b, l, x, hi);
        } else if (u) {
          if (lo) x = arith::MaxUIOp::create(b, l, x, lo);
          if (hi) x = arith::MinUIOp::create(b, l, x, hi);
        } else {
          if (lo) x = arith::MaxSIOp::create(b, l, x, lo);
          if (hi) x = arith::MinSIOp::create(b, l, x, hi);
        }
        return x;
      });
  return c.replace(r);
}

} // namespace

void registerElementwiseOps(OnnxHandlerTable &t) {
  // Binary arithmetic.
  auto addBinary = [&](StringRef name, int64_t sinceVersion, auto build) {
    t.add(name, sinceVersion, [build](NodeContext &c) -> LogicalResult {
      bool u = c.isUnsignedInput(0);
      return lowerElementwise(c, [&](OpBuilder &b, Location l, ValueRange a, NodeContext &) {
        Value acc = a[0];
        for (Value v : a.drop_front())
          acc = build(b, l, acc, v, u);
        return acc;
      });
    });
  };
  addBinary("Add", 1, arith3<arith::AddFOp, arith::AddIOp, arith::AddIOp>);
  addBinary("Sub", 1, arith3<arith::SubFOp, arith::SubIOp, arith::SubIOp>);
  addBinary("Mul", 1, arith3<arith::MulFOp, arith::MulIOp, arith::MulIOp>);
  addBinary("Div", 1, arith3<arith::DivFOp, arith::DivSIOp, arith::DivUIOp>);
  addBinary("Max", 1, arith3<arith::MaximumFOp, arith::MaxSIOp, arith::MaxUIOp>);
  addBinary("Min", 1, arith3<arith::MinimumFOp, arith::MinSIOp, arith::MinUIOp>);
  addBinary("Sum", 1, arith3<arith::AddFOp, arith::AddIOp, arith::AddIOp>);
  addBinary("And", 1, arith3<arith::AndIOp, arith::AndIOp, arith::AndIOp>);
  addBinary("Or", 1, arith3<arith::OrIOp, arith::OrIOp, arith::OrIOp>);
  addBinary("Xor", 1, arith3<arith::XOrIOp, arith::XOrIOp, arith::XOrIOp>);
  // Opset 18's bitwise operators (integer types only).
  addBinary("BitwiseAnd", 18, arith3<arith::AndIOp, arith::AndIOp, arith::AndIOp>);
  addBinary("BitwiseOr", 18, arith3<arith::OrIOp, arith::OrIOp, arith::OrIOp>);
  addBinary("BitwiseXor", 18, arith3<arith::XOrIOp, arith::XOrIOp, arith::XOrIOp>);
  t.add("BitwiseNot", 18, [](NodeContext &c) -> LogicalResult {
    if (!isa<IntegerType>(c.rankedResultType(0).getElementType()))
      return c.fail("only integer element types are supported");
    return lowerElementwise(c, [](OpBuilder &b, Location l, ValueRange a, NodeContext &) -> Value {
      Value ones = arith::ConstantOp::create(
          b, l, b.getIntegerAttr(a[0].getType(), APInt::getAllOnes(
                                                     a[0].getType().getIntOrFloatBitWidth())));
      return arith::XOrIOp::create(b, l, a[0], ones);
    });
  });

  t.add("Mean", 1, [](NodeContext &c) -> LogicalResult {
    if (!isFloat(c.rankedResultType(0).getElementType()))
      return c.fail("only floating-point element types are supported");
    return lowerElementwise(c, [](OpBuilder &b, Location l, ValueRange a, NodeContext &) {
      Value acc = a[0];
      for (Value v : a.drop_front())
        acc = arith::AddFOp::create(b, l, acc, v);
      return arith::DivFOp::create(b, l, acc, cst(b, l, acc, (double)a.size())).getResult();
    });
  });

  t.add("Mod", 10, [](NodeContext &c) -> LogicalResult {
    bool fmod = c.intAttr("fmod", 0) != 0;
    bool u = c.isUnsignedInput(0);
    return lowerElementwise(c, [&](OpBuilder &b, Location l, ValueRange a, NodeContext &) -> Value {
      Value x = a[0], y = a[1];
      if (isFloat(x.getType()))
        return arith::RemFOp::create(b, l, x, y); // fmod must be 1 for floats
      if (u)
        return arith::RemUIOp::create(b, l, x, y);
      Value r = arith::RemSIOp::create(b, l, x, y);
      if (fmod)
        return r;
      // Python-style: result takes the sign of the divisor.
      Value zero = zeroLike(b, l, r);
      Value rNeg = arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, r, zero);
      Value yNeg = arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, y, zero);
      Value rNonZero = arith::CmpIOp::create(b, l, arith::CmpIPredicate::ne, r, zero);
      Value diff = arith::XOrIOp::create(b, l, rNeg, yNeg);
      Value fix = arith::AndIOp::create(b, l, diff, rNonZero);
      return arith::SelectOp::create(b, l, fix, arith::AddIOp::create(b, l, r, y), r);
    });
  });

  t.add("Pow", 1, [](NodeContext &c) -> LogicalResult {
    bool expUnsigned = c.isUnsignedInput(1);
    return lowerElementwise(c, [&](OpBuilder &b, Location l, ValueRange a, NodeContext &) -> Value {
      Value x = a[0], y = a[1];
      if (isFloat(x.getType())) {
        y = castScalar(b, l, y, x.getType(), expUnsigned, false);
        return math::PowFOp::create(b, l, x, y);
      }
      if (isFloat(y.getType())) {
        Value xf = castScalar(b, l, x, y.getType(), false, false);
        Value r = math::PowFOp::create(b, l, xf, y);
        return castScalar(b, l, r, x.getType(), false, false);
      }
      y = castScalar(b, l, y, x.getType(), expUnsigned, false);
      return math::IPowIOp::create(b, l, x, y);
    });
  });

  // Comparisons.
  auto addCompare = [&](StringRef name, int64_t sinceVersion, arith::CmpFPredicate fp,
                        arith::CmpIPredicate sp, arith::CmpIPredicate up) {
    t.add(name, sinceVersion, [=](NodeContext &c) -> LogicalResult {
      bool u = c.isUnsignedInput(0);
      return lowerElementwise(c, [&](OpBuilder &b, Location l, ValueRange a,
                                     NodeContext &) -> Value {
        if (isFloat(a[0].getType()))
          return arith::CmpFOp::create(b, l, fp, a[0], a[1]);
        return arith::CmpIOp::create(b, l, u ? up : sp, a[0], a[1]);
      });
    });
  };
  addCompare("Equal", 1, arith::CmpFPredicate::OEQ, arith::CmpIPredicate::eq,
             arith::CmpIPredicate::eq);
  addCompare("Less", 1, arith::CmpFPredicate::OLT, arith::CmpIPredicate::slt,
             arith::CmpIPredicate::ult);
  addCompare("LessOrEqual", 12, arith::CmpFPredicate::OLE, arith::CmpIPredicate::sle,
             arith::CmpIPredicate::ule);
  addCompare("Greater", 1, arith::CmpFPredicate::OGT, arith::CmpIPredicate::sgt,
             arith::CmpIPredicate::ugt);
  addCompare("GreaterOrEqual", 12, arith::CmpFPredicate::OGE, arith::CmpIPredicate::sge,
             arith::CmpIPredicate::uge);

  t.add("Not", 1, [](NodeContext &c) -> LogicalResult {
    return lowerElementwise(c, [](OpBuilder &b, Location l, ValueRange a, NodeContext &) {
      return arith::XOrIOp::create(b, l, a[0], cst(b, l, a[0], 1)).getResult();
    });
  });

  t.add("Where", 9, [](NodeContext &c) -> LogicalResult {
    return lowerElementwise(c, [](OpBuilder &b, Location l, ValueRange a, NodeContext &) {
      return arith::SelectOp::create(b, l, a[0], a[1], a[2]).getResult();
    });
  });

  // Unary float math.
  addFloatUnary<math::SqrtOp>(t, "Sqrt", 1);
  addFloatUnary<math::ExpOp>(t, "Exp", 1);
  addFloatUnary<math::LogOp>(t, "Log", 1);
  addFloatUnary<math::TanhOp>(t, "Tanh", 1);
  addFloatUnary<math::ErfOp>(t, "Erf", 9);
  addFloatUnary<math::CeilOp>(t, "Ceil", 1);
  addFloatUnary<math::FloorOp>(t, "Floor", 1);
  addFloatUnary<math::RoundEvenOp>(t, "Round", 11);
  addFloatUnary<math::SinOp>(t, "Sin", 7);
  addFloatUnary<math::CosOp>(t, "Cos", 7);
  addFloatUnary<math::TanOp>(t, "Tan", 7);
  addFloatUnary<math::AsinOp>(t, "Asin", 7);
  addFloatUnary<math::AcosOp>(t, "Acos", 7);
  addFloatUnary<math::AtanOp>(t, "Atan", 7);
  addFloatUnary<math::SinhOp>(t, "Sinh", 9);
  addFloatUnary<math::CoshOp>(t, "Cosh", 9);
  addFloatUnary<math::AsinhOp>(t, "Asinh", 9);
  addFloatUnary<math::AcoshOp>(t, "Acosh", 9);
  addFloatUnary<math::AtanhOp>(t, "Atanh", 9);

  // Float-only activations built from a scalar expression.
  auto addFloatFn = [&](StringRef name, int64_t sinceVersion,
                        std::function<Value(OpBuilder &, Location, Value, NodeContext &)> f) {
    t.add(name, sinceVersion, [f](NodeContext &c) -> LogicalResult {
      if (!c.inputType(0) || !isFloat(c.inputType(0).getElementType()))
        return c.fail("only floating-point element types are supported");
      return lowerElementwise(c, [&](OpBuilder &b, Location l, ValueRange a, NodeContext &nc) {
        return f(b, l, a[0], nc);
      });
    });
  };
  addFloatFn("Reciprocal", 1, [](OpBuilder &b, Location l, Value x, NodeContext &) -> Value {
    return arith::DivFOp::create(b, l, cst(b, l, x, 1.0), x);
  });
  addFloatFn("Sigmoid", 1, [](OpBuilder &b, Location l, Value x, NodeContext &) {
    return sigmoid(b, l, x);
  });
  addFloatFn("LeakyRelu", 1, [](OpBuilder &b, Location l, Value x, NodeContext &c) -> Value {
    Value alpha = cst(b, l, x, c.floatAttr("alpha", 0.01f));
    Value neg = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OLT, x, zeroLike(b, l, x));
    return arith::SelectOp::create(b, l, neg, arith::MulFOp::create(b, l, x, alpha), x);
  });
  addFloatFn("HardSigmoid", 1, [](OpBuilder &b, Location l, Value x, NodeContext &c) -> Value {
    Value alpha = cst(b, l, x, c.floatAttr("alpha", 0.2f));
    Value beta = cst(b, l, x, c.floatAttr("beta", 0.5f));
    Value y = arith::AddFOp::create(b, l, arith::MulFOp::create(b, l, x, alpha), beta);
    return clampF(b, l, y, cst(b, l, x, 0.0), cst(b, l, x, 1.0));
  });
  addFloatFn("HardSwish", 14, [](OpBuilder &b, Location l, Value x, NodeContext &) -> Value {
    Value y = arith::AddFOp::create(b, l, arith::MulFOp::create(b, l, x, cst(b, l, x, 1.0 / 6)),
                                    cst(b, l, x, 0.5));
    return arith::MulFOp::create(b, l, x, clampF(b, l, y, cst(b, l, x, 0.0), cst(b, l, x, 1.0)));
  });
  addFloatFn("Elu", 1, [](OpBuilder &b, Location l, Value x, NodeContext &c) -> Value {
    Value alpha = cst(b, l, x, c.floatAttr("alpha", 1.0f));
    Value em1 = math::ExpM1Op::create(b, l, x);
    Value neg = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OLT, x, zeroLike(b, l, x));
    return arith::SelectOp::create(b, l, neg, arith::MulFOp::create(b, l, alpha, em1), x);
  });
  addFloatFn("Celu", 12, [](OpBuilder &b, Location l, Value x, NodeContext &c) -> Value {
    Value alpha = cst(b, l, x, c.floatAttr("alpha", 1.0f));
    Value em1 = math::ExpM1Op::create(b, l, arith::DivFOp::create(b, l, x, alpha));
    Value neg = arith::MinimumFOp::create(b, l, zeroLike(b, l, x),
                                          arith::MulFOp::create(b, l, alpha, em1));
    return arith::AddFOp::create(b, l, arith::MaximumFOp::create(b, l, zeroLike(b, l, x), x),
                                 neg);
  });
  addFloatFn("Selu", 1, [](OpBuilder &b, Location l, Value x, NodeContext &c) -> Value {
    Value alpha = cst(b, l, x, c.floatAttr("alpha", 1.67326319217681884765625f));
    Value gamma = cst(b, l, x, c.floatAttr("gamma", 1.05070102214813232421875f));
    Value em1 = arith::SubFOp::create(b, l, math::ExpOp::create(b, l, x), cst(b, l, x, 1.0));
    Value neg = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OLE, x, zeroLike(b, l, x));
    Value y = arith::SelectOp::create(b, l, neg, arith::MulFOp::create(b, l, alpha, em1), x);
    return arith::MulFOp::create(b, l, gamma, y);
  });
  addFloatFn("ThresholdedRelu", 10, [](OpBuilder &b, Location l, Value x, NodeContext &c) -> Value {
    Value alpha = cst(b, l, x, c.floatAttr("alpha", 1.0f));
    Value gt = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT, x, alpha);
    return arith::SelectOp::create(b, l, gt, x, zeroLike(b, l, x));
  });
  addFloatFn("Softplus", 1, [](OpBuilder &b, Location l, Value x, NodeContext &) -> Value {
    return math::Log1pOp::create(b, l, math::ExpOp::create(b, l, x));
  });
  addFloatFn("Mish", 18, [](OpBuilder &b, Location l, Value x, NodeContext &) -> Value {
    Value sp = math::Log1pOp::create(b, l, math::ExpOp::create(b, l, x)); // softplus
    return arith::MulFOp::create(b, l, x, math::TanhOp::create(b, l, sp));
  });
  addFloatFn("Softsign", 1, [](OpBuilder &b, Location l, Value x, NodeContext &) -> Value {
    Value d = arith::AddFOp::create(b, l, cst(b, l, x, 1.0), math::AbsFOp::create(b, l, x));
    return arith::DivFOp::create(b, l, x, d);
  });
  addFloatFn("Gelu", 20, [](OpBuilder &b, Location l, Value x, NodeContext &c) -> Value {
    Value half = cst(b, l, x, 0.5), one = cst(b, l, x, 1.0);
    if (c.stringAttr("approximate", "none") == "tanh") {
      Value x3 = arith::MulFOp::create(b, l, x, arith::MulFOp::create(b, l, x, x));
      Value inner = arith::AddFOp::create(b, l, x,
                                          arith::MulFOp::create(b, l, cst(b, l, x, 0.044715), x3));
      inner = arith::MulFOp::create(b, l, cst(b, l, x, std::sqrt(2.0 / M_PI)), inner);
      Value th = math::TanhOp::create(b, l, inner);
      return arith::MulFOp::create(b, l, arith::MulFOp::create(b, l, half, x),
                                   arith::AddFOp::create(b, l, one, th));
    }
    Value e = math::ErfOp::create(b, l, arith::MulFOp::create(b, l, x, cst(b, l, x, M_SQRT1_2)));
    return arith::MulFOp::create(b, l, arith::MulFOp::create(b, l, half, x),
                                 arith::AddFOp::create(b, l, one, e));
  });
  addFloatFn("IsNaN", 9, [](OpBuilder &b, Location l, Value x, NodeContext &) -> Value {
    return arith::CmpFOp::create(b, l, arith::CmpFPredicate::UNO, x, x);
  });
  addFloatFn("IsInf", 10, [](OpBuilder &b, Location l, Value x, NodeContext &c) -> Value {
    Value inf = cst(b, l, x, INFINITY);
    Value ninf = cst(b, l, x, -INFINITY);
    Value isPos = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OEQ, x, inf);
    Value isNeg = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OEQ, x, ninf);
    bool pos = c.intAttr("detect_positive", 1), neg = c.intAttr("detect_negative", 1);
    if (pos && neg)
      return arith::OrIOp::create(b, l, isPos, isNeg);
    if (pos)
      return isPos;
    if (neg)
      return isNeg;
    return arith::ConstantOp::create(b, l, b.getBoolAttr(false));
  });

  // Unary ops valid for floats and integers.
  t.add("Relu", 1, [](NodeContext &c) -> LogicalResult {
    return lowerElementwise(c, [](OpBuilder &b, Location l, ValueRange a, NodeContext &) -> Value {
      if (isFloat(a[0].getType()))
        return arith::MaximumFOp::create(b, l, a[0], zeroLike(b, l, a[0]));
      return arith::MaxSIOp::create(b, l, a[0], zeroLike(b, l, a[0]));
    });
  });
  t.add("Neg", 1, [](NodeContext &c) -> LogicalResult {
    return lowerElementwise(c, [](OpBuilder &b, Location l, ValueRange a, NodeContext &) -> Value {
      if (isFloat(a[0].getType()))
        return arith::NegFOp::create(b, l, a[0]);
      return arith::SubIOp::create(b, l, zeroLike(b, l, a[0]), a[0]);
    });
  });
  t.add("Abs", 1, [](NodeContext &c) -> LogicalResult {
    bool u = c.isUnsignedInput(0);
    return lowerElementwise(c, [&](OpBuilder &b, Location l, ValueRange a, NodeContext &) -> Value {
      if (isFloat(a[0].getType()))
        return math::AbsFOp::create(b, l, a[0]);
      if (u)
        return a[0];
      return math::AbsIOp::create(b, l, a[0]);
    });
  });
  t.add("Sign", 9, [](NodeContext &c) -> LogicalResult {
    bool u = c.isUnsignedInput(0);
    return lowerElementwise(c, [&](OpBuilder &b, Location l, ValueRange a, NodeContext &) -> Value {
      Value x = a[0], zero = zeroLike(b, l, x), one = cst(b, l, x, 1), m1 = cst(b, l, x, -1);
      Value pos, neg;
      if (isFloat(x.getType())) {
        pos = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT, x, zero);
        neg = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OLT, x, zero);
      } else {
        pos = arith::CmpIOp::create(b, l, u ? arith::CmpIPredicate::ugt : arith::CmpIPredicate::sgt,
                                    x, zero);
        neg = arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, x, zero);
        if (u)
          neg = arith::ConstantOp::create(b, l, b.getBoolAttr(false));
      }
      return arith::SelectOp::create(b, l, pos, one, arith::SelectOp::create(b, l, neg, m1, zero));
    });
  });
  // A 1-D slope is one value per channel in PRelu-1 and -6; it broadcasts numpy-style from 7.
  t.add("PRelu", 1, lowerPReluPerChannel);
  t.add("PRelu", 7, lowerPRelu);

  t.add("BitShift", 11, [](NodeContext &c) -> LogicalResult {
    bool left = c.stringAttr("direction", "") == "LEFT";
    return lowerElementwise(c, [&](OpBuilder &b, Location l, ValueRange a, NodeContext &) -> Value {
      if (left)
        return arith::ShLIOp::create(b, l, a[0], a[1]);
      return arith::ShRUIOp::create(b, l, a[0], a[1]);
    });
  });

  auto identity = [](NodeContext &c) -> LogicalResult {
    if (c.input(0).getType() != c.resultType(0))
      return c.replace(tensor::CastOp::create(c.rewriter, c.loc, c.resultType(0), c.input(0))
                           .getResult());
    return c.replace(c.input(0));
  };
  t.add("Identity", 1, identity);
  t.add("Dropout", 1, [identity](NodeContext &c) -> LogicalResult {
    // Training mode drops elements at random unless the ratio is 0; sparq generates no random
    // numbers, so it computes Dropout where it is the identity: inference mode, or ratio 0.
    // Flags and ratios known only at run time are checked there.
    if (c.hasInput(2)) {
      auto training = getConstantInts(c.input(2));
      bool inference = succeeded(training) && !training->empty() && (*training)[0] == 0;
      if (!inference) {
        std::optional<double> ratio = c.hasInput(1) ? std::nullopt : std::optional<double>(0.5);
        if (auto r = getConstantFloats(c.input(1)); c.hasInput(1) && succeeded(r) && !r->empty())
          ratio = (*r)[0];
        if (ratio && *ratio != 0 && succeeded(training))
          return c.fail("training mode with ratio " + std::to_string(*ratio) +
                        " drops elements at random; sparq computes Dropout only where it is the "
                        "identity (inference mode, or ratio 0)");
        OpBuilder &b = c.rewriter;
        Value dropping = arith::ConstantOp::create(b, c.loc, b.getBoolAttr(true));
        if (failed(training))
          dropping = isNonZero(b, c.loc, scalarInput(c, 2));
        if (!ratio || *ratio != 0) {
          Value r = ratio ? scalarConstant(b, c.loc, b.getF64Type(), *ratio)
                          : scalarInput(c, 1);
          Value nonzero = isNonZero(b, c.loc, r);
          Value both = arith::AndIOp::create(b, c.loc, dropping, nonzero);
          Value ok = arith::XOrIOp::create(b, c.loc, both,
                                           arith::ConstantOp::create(b, c.loc, b.getBoolAttr(true)));
          std::string msg;
          llvm::raw_string_ostream os(msg);
          os << c.op.describe() << ": training mode with a nonzero ratio drops elements at random; "
             << "sparq computes Dropout only where it is the identity (inference mode, or ratio 0)";
          cf::AssertOp::create(b, c.loc, ok, msg);
        }
      }
    }
    if (c.numResults() > 1) {
      // The mask output is all true in inference mode.
      auto maskType = c.rankedResultType(1);
      Value one = arith::ConstantOp::create(c.rewriter, c.loc, c.rewriter.getBoolAttr(true));
      SmallVector<Value> dyn;
      for (int64_t i = 0; i < maskType.getRank(); ++i)
        if (maskType.isDynamicDim(i))
          dyn.push_back(tensor::DimOp::create(c.rewriter, c.loc, c.input(0), i));
      Value mask = createFilled(c.rewriter, c.loc, maskType, one, dyn);
      Value x = c.input(0);
      return c.replace({x, mask});
    }
    return identity(c);
  });

  t.add("Cast", 1, [](NodeContext &c) -> LogicalResult {
    if (isa<StringType>(c.onnxInputElementType(0)) ||
        isa<StringType>(c.onnxResultElementType(0)))
      return lowerStringCast(c, c.onnxResultElementType(0));
    bool srcU = c.isUnsignedInput(0);
    auto dstElem = dyn_cast<IntegerType>(c.onnxResultElementType(0));
    bool dstU = dstElem && (dstElem.isUnsigned() || dstElem.getWidth() == 1);
    Type dst = c.rankedResultType(0).getElementType();
    return lowerElementwise(c, [&](OpBuilder &b, Location l, ValueRange a, NodeContext &) {
      return castScalar(b, l, a[0], dst, srcU, dstU);
    });
  });
  t.add("CastLike", 15, [](NodeContext &c) -> LogicalResult {
    if (isa<StringType>(c.onnxInputElementType(0)) || isa<StringType>(c.onnxInputElementType(1)))
      return lowerStringCast(c, c.onnxInputElementType(1));
    bool srcU = c.isUnsignedInput(0);
    bool dstU = c.isUnsignedInput(1);
    Type dst = c.rankedResultType(0).getElementType();
    auto resultType = c.rankedResultType(0);
    Value r = buildElementwise(c.rewriter, c.loc, {c.input(0)}, resultType,
                               [&](OpBuilder &b, Location l, ValueRange a) {
                                 return castScalar(b, l, a[0], dst, srcU, dstU);
                               });
    return c.replace(r);
  });

  // The bounds are the attributes 'min' and 'max' up to Clip-6, inputs 1 and 2 from Clip-11.
  t.add("Clip", 1, [](NodeContext &c) { return lowerClip(c, /*boundsFromInputs=*/false); });
  t.add("Clip", 11, [](NodeContext &c) { return lowerClip(c, /*boundsFromInputs=*/true); });
}

} // namespace sparq::onnx
