//===- passes/ONNXToLinalg/Training.cpp - optimizer steps of ai.onnx.preview.training -===//
//
// Adagrad, Adam and Momentum (standard and Nesterov): one optimizer step over n tensors. Inputs
// are the learning rate R and step count T (scalars, read at run time), then n of each of X
// (weights), G (gradients) and the optimizer's state tensors; outputs are the n new X, then the
// n new state tensors of each kind. The scalar factors of the step (decayed or bias-corrected
// rates) are computed once in f64; each output is one elementwise generic over the group's
// tensors. Formulas: the operators' definitions in the ONNX specification.
//
//===----------------------------------------------------------------------===//
#include "passes/ONNXToLinalg/ONNXToLinalg.h"

#include "mlir/Dialect/Math/IR/Math.h"

using namespace mlir;

namespace sparq::onnx {
namespace {

enum class Optimizer { Adagrad, Adam, Momentum };

/// Elementwise float arithmetic on values of one type.
struct F {
  OpBuilder &b;
  Location l;
  Value add(Value x, Value y) { return arith::AddFOp::create(b, l, x, y); }
  Value sub(Value x, Value y) { return arith::SubFOp::create(b, l, x, y); }
  Value mul(Value x, Value y) { return arith::MulFOp::create(b, l, x, y); }
  Value div(Value x, Value y) { return arith::DivFOp::create(b, l, x, y); }
  Value sqrt(Value x) { return math::SqrtOp::create(b, l, x); }
  Value c(Type t, double v) { return arith::ConstantOp::create(b, l, b.getFloatAttr(t, v)); }
  /// `v` converted to the float type `t`.
  Value to(Value v, Type t) {
    Type from = v.getType();
    if (from == t)
      return v;
    if (isa<IntegerType>(from))
      return arith::SIToFPOp::create(b, l, t, v);
    if (from.getIntOrFloatBitWidth() < t.getIntOrFloatBitWidth())
      return arith::ExtFOp::create(b, l, t, v);
    return arith::TruncFOp::create(b, l, t, v);
  }
};

LogicalResult lowerOptimizer(NodeContext &c, Optimizer kind) {
  unsigned perTensor = kind == Optimizer::Adam ? 4 : 3; // X, G and the state tensors
  unsigned outPerTensor = perTensor - 1;
  if (c.numInputs() < 2 + perTensor || (c.numInputs() - 2) % perTensor != 0)
    return c.fail("expects R, T and " + Twine(perTensor) + " inputs per optimized tensor, got " +
                  Twine(c.numInputs()) + " inputs");
  unsigned n = (c.numInputs() - 2) / perTensor;
  if (c.numResults() != outPerTensor * n)
    return c.fail("expects " + Twine(outPerTensor * n) + " outputs for " + Twine(n) +
                  " tensors, got " + Twine(c.numResults()));
  for (unsigned i = 0; i < c.numInputs(); ++i)
    if (failed(requireRanked(c, i, "input " + std::to_string(i))))
      return failure();
  if (!isa<FloatType>(c.inputType(0).getElementType()) ||
      !isa<IntegerType>(c.inputType(1).getElementType()))
    return c.fail("R must be a float and T an integer scalar");
  std::string mode = c.stringAttr("mode", "standard");
  if (kind == Optimizer::Momentum && mode != "standard" && mode != "nesterov")
    return c.fail("attribute 'mode' = '" + mode + "' is not 'standard' or 'nesterov'");

  OpBuilder &b = c.rewriter;
  Location l = c.loc;
  F f{b, l};
  Type f64 = b.getF64Type();
  double norm = c.floatAttr("norm_coefficient", 0.0f);
  double eps = c.floatAttr("epsilon", 1e-6f);
  Value r = f.to(scalarInput(c, 0), f64);
  Value tInt = scalarInput(c, 1);
  Value t = f.to(tInt, f64);
  Value tPositive = arith::CmpIOp::create(b, l, arith::CmpIPredicate::sgt, tInt,
                                          arith::ConstantOp::create(b, l, b.getIntegerAttr(tInt.getType(), 0)));
  // The step's scalar factors, in f64.
  double alpha = 0, beta = 0;
  Value rate = r, momentumScale;
  switch (kind) {
  case Optimizer::Adagrad: // R / (1 + T * decay_factor)
    rate = f.div(r, f.add(f.c(f64, 1.0), f.mul(t, f.c(f64, c.floatAttr("decay_factor", 0.0f)))));
    break;
  case Optimizer::Adam: { // R * sqrt(1 - beta^T) / (1 - alpha^T) once T > 0
    alpha = c.floatAttr("alpha", 0.9f);
    beta = c.floatAttr("beta", 0.999f);
    Value betaT = math::PowFOp::create(b, l, f.c(f64, beta), t);
    Value alphaT = math::PowFOp::create(b, l, f.c(f64, alpha), t);
    Value adjusted = f.div(f.mul(r, f.sqrt(f.sub(f.c(f64, 1.0), betaT))),
                           f.sub(f.c(f64, 1.0), alphaT));
    rate = arith::SelectOp::create(b, l, tPositive, adjusted, r);
    break;
  }
  case Optimizer::Momentum: // the gradient's weight: beta once T > 0, 1 at the first step
    alpha = c.floatAttr("alpha", 0.0f);
    beta = c.floatAttr("beta", 0.0f);
    momentumScale = arith::SelectOp::create(b, l, tPositive, f.c(f64, beta), f.c(f64, 1.0));
    break;
  }
  double normPost = c.floatAttr("norm_coefficient_post", 0.0f);

  SmallVector<Value> results(c.numResults());
  for (unsigned i = 0; i < n; ++i) {
    SmallVector<Value> group;
    for (unsigned k = 0; k < perTensor; ++k)
      group.push_back(c.input(2 + k * n + i));
    auto xt = c.inputType(2 + i);
    Type et = xt.getElementType();
    if (!isa<FloatType>(et))
      return c.fail("input " + Twine(2 + i) + " (X) must be a float tensor");
    for (unsigned k = 1; k < perTensor; ++k)
      if (c.inputType(2 + k * n + i) != xt)
        return c.fail("input " + Twine(2 + k * n + i) + " must have the type of X (input " +
                      Twine(2 + i) + ")");
    for (unsigned o = 0; o < outPerTensor; ++o)
      if (c.rankedResultType(o * n + i) != xt)
        return c.fail("output " + Twine(o * n + i) + " must have the type of X (input " +
                      Twine(2 + i) + ")");
    Value rateE = f.to(rate, et);
    Value momentumE = momentumScale ? f.to(momentumScale, et) : Value();
    // Output o of tensor i: o = 0 the new X, then the new state tensors in input order.
    for (unsigned o = 0; o < outPerTensor; ++o) {
      results[o * n + i] = buildElementwise(
          b, l, group, xt, [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
            F g{nb, nl};
            Value x = a[0];
            Value grad = g.add(g.mul(g.c(et, norm), x), a[1]); // regularized gradient
            switch (kind) {
            case Optimizer::Adagrad: {
              Value h = g.add(a[2], g.mul(grad, grad));
              if (o == 1)
                return h;
              return g.sub(x, g.div(g.mul(rateE, grad), g.add(g.sqrt(h), g.c(et, eps))));
            }
            case Optimizer::Adam: {
              Value v = g.add(g.mul(g.c(et, alpha), a[2]), g.mul(g.c(et, 1.0 - alpha), grad));
              Value h = g.add(g.mul(g.c(et, beta), a[3]),
                              g.mul(g.c(et, 1.0 - beta), g.mul(grad, grad)));
              if (o == 1)
                return v;
              if (o == 2)
                return h;
              Value xNew = g.sub(x, g.mul(rateE, g.div(v, g.add(g.sqrt(h), g.c(et, eps)))));
              return g.mul(g.c(et, 1.0 - normPost), xNew);
            }
            case Optimizer::Momentum: {
              Value v = g.add(g.mul(g.c(et, alpha), a[2]), g.mul(momentumE, grad));
              if (o == 1)
                return v;
              Value step = mode == "nesterov" ? g.add(grad, g.mul(g.c(et, alpha), v)) : v;
              return g.sub(x, g.mul(rateE, step));
            }
            }
            llvm_unreachable("optimizer kind");
          });
    }
  }
  return c.replace(results);
}

} // namespace

void registerTrainingOps(OnnxHandlerTable &t) {
  constexpr StringRef kDomain = "ai.onnx.preview.training";
  t.add(kDomain, "Adagrad", 1, [](NodeContext &c) { return lowerOptimizer(c, Optimizer::Adagrad); });
  t.add(kDomain, "Adam", 1, [](NodeContext &c) { return lowerOptimizer(c, Optimizer::Adam); });
  t.add(kDomain, "Momentum", 1,
        [](NodeContext &c) { return lowerOptimizer(c, Optimizer::Momentum); });
}

} // namespace sparq::onnx
