//===- passes/ONNXToLinalg/Recurrent.cpp - RNN, GRU, LSTM ------------------------------===//
//
// The recurrent operators as one scf.for over the sequence per direction, carrying the hidden
// (and cell) state and the stacked outputs as tensors. The input projection X·W^T (+ biases)
// is one matmul over all time steps before the loop; each step does one matmul of the state with
// R^T and elementwise generics for the cell. The IR does not grow with the sequence length.
//
//===----------------------------------------------------------------------===//
#include "passes/ONNXToLinalg/ONNXToLinalg.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "llvm/ADT/StringSwitch.h"

using namespace mlir;

namespace sparq::onnx {
namespace {

enum class Cell { RNN, GRU, LSTM };

/// A scalar activation function of the ONNX recurrent operators, with its alpha/beta.
struct Activation {
  std::string name;
  double alpha = 0, beta = 0;

  Value apply(OpBuilder &b, Location l, Value x) const {
    Type t = x.getType();
    auto cst = [&](double v) { return scalarConstant(b, l, t, v); };
    auto sigmoid = [&](Value v) {
      Value e = math::ExpOp::create(b, l, arith::NegFOp::create(b, l, v));
      return arith::DivFOp::create(b, l, cst(1), arith::AddFOp::create(b, l, cst(1), e));
    };
    auto mul = [&](Value a, double s) { return arith::MulFOp::create(b, l, a, cst(s)); };
    auto add = [&](Value a, double s) { return arith::AddFOp::create(b, l, a, cst(s)); };
    auto clamp01 = [&](Value v) {
      return arith::MinimumFOp::create(b, l, arith::MaximumFOp::create(b, l, v, cst(0)), cst(1));
    };
    if (name == "sigmoid")
      return sigmoid(x);
    if (name == "tanh")
      return math::TanhOp::create(b, l, x);
    if (name == "relu")
      return arith::MaximumFOp::create(b, l, x, cst(0));
    if (name == "affine")
      return add(mul(x, alpha), beta);
    if (name == "leakyrelu")
      return arith::SelectOp::create(
          b, l, arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGE, x, cst(0)), x,
          mul(x, alpha));
    if (name == "thresholdedrelu")
      return arith::SelectOp::create(
          b, l, arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT, x, cst(alpha)), x, cst(0));
    if (name == "scaledtanh")
      return mul(math::TanhOp::create(b, l, mul(x, beta)), alpha);
    if (name == "hardsigmoid")
      return clamp01(add(mul(x, alpha), beta));
    if (name == "elu")
      return arith::SelectOp::create(
          b, l, arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGE, x, cst(0)), x,
          mul(arith::SubFOp::create(b, l, math::ExpOp::create(b, l, x), cst(1)), alpha));
    if (name == "softsign")
      return arith::DivFOp::create(b, l, x, add(math::AbsFOp::create(b, l, x), 1));
    assert(name == "softplus" && "checked by readActivations");
    return math::Log1pOp::create(b, l, math::ExpOp::create(b, l, x));
  }
};

/// The `activations` (with `activation_alpha`/`activation_beta`) of a node: `perDirection`
/// functions per direction, defaults `defaults`.
FailureOr<SmallVector<Activation>> readActivations(NodeContext &c, unsigned directions,
                                                   ArrayRef<StringRef> defaults) {
  SmallVector<std::string> names;
  if (auto arr = dyn_cast_or_null<ArrayAttr>(c.attr("activations"))) {
    for (Attribute a : arr)
      if (auto s = dyn_cast<StringAttr>(a))
        names.push_back(s.getValue().lower());
  } else {
    for (unsigned d = 0; d < directions; ++d)
      for (StringRef n : defaults)
        names.push_back(n.lower());
  }
  if (names.size() != directions * defaults.size())
    return c.fail("attribute 'activations' has " + Twine(names.size()) + " entries; " +
                  Twine(directions * defaults.size()) + " expected");
  SmallVector<float> alphas = c.floatsAttr("activation_alpha"),
                     betas = c.floatsAttr("activation_beta");
  size_t ai = 0, bi = 0;
  SmallVector<Activation> result;
  for (const std::string &n : names) {
    // Defaults are those of the ONNX operators of the same name.
    auto [takesAlpha, alpha, takesBeta, beta] =
        llvm::StringSwitch<std::tuple<bool, double, bool, double>>(n)
            .Case("affine", {true, 1.0, true, 0.0})
            .Case("leakyrelu", {true, 0.01, false, 0.0})
            .Case("thresholdedrelu", {true, 1.0, false, 0.0})
            .Case("scaledtanh", {true, 1.0, true, 1.0})
            .Case("hardsigmoid", {true, 0.2, true, 0.5})
            .Case("elu", {true, 1.0, false, 0.0})
            .Default({false, 0.0, false, 0.0});
    if (!llvm::is_contained({"sigmoid", "tanh", "relu", "affine", "leakyrelu", "thresholdedrelu",
                             "scaledtanh", "hardsigmoid", "elu", "softsign", "softplus"},
                            n))
      return c.fail("activation function '" + n + "' is not supported");
    Activation act{n, alpha, beta};
    if (takesAlpha && ai < alphas.size())
      act.alpha = alphas[ai++];
    if (takesBeta && bi < betas.size())
      act.beta = betas[bi++];
    result.push_back(act);
  }
  return result;
}

class RecurrentLowering {
public:
  RecurrentLowering(NodeContext &c, Cell cell) : c(c), b(c.rewriter), loc(c.loc), cell(cell) {}

  LogicalResult run();

private:
  using OFR = OpFoldResult;
  OFR idx(int64_t v) { return b.getIndexAttr(v); }
  RankedTensorType tensorOf(ArrayRef<int64_t> shape) { return RankedTensorType::get(shape, et); }

  /// The static size of `s`, or ShapedType::kDynamic.
  static int64_t staticOf(OFR s) { return getConstantIntValue(s).value_or(ShapedType::kDynamic); }
  /// A tensor.empty (or one filled with `fill`) of the sizes `sizes`, static or not.
  Value empty(ArrayRef<OFR> sizes, std::optional<double> fill = std::nullopt) {
    SmallVector<int64_t> shape;
    SmallVector<Value> dyn;
    for (OFR s : sizes) {
      shape.push_back(staticOf(s));
      if (ShapedType::isDynamic(shape.back()))
        dyn.push_back(cast<Value>(s));
    }
    if (fill)
      return createFilled(b, loc, tensorOf(shape), scalarConstant(b, loc, et, *fill), dyn);
    return createEmpty(b, loc, tensorOf(shape), dyn);
  }
  SmallVector<OFR> sizesOf(Value v) {
    SmallVector<OFR> sizes;
    for (int64_t d = 0; d < cast<RankedTensorType>(v.getType()).getRank(); ++d)
      sizes.push_back(dimOf(b, loc, v, d));
    return sizes;
  }

  /// `v[i]` along dim 0 (rank-reduced), or a column block [.., off:off+len] of a 2-D tensor.
  Value row(Value v, OFR i) {
    auto t = cast<RankedTensorType>(v.getType());
    SmallVector<OFR> offs(t.getRank(), idx(0)), sizes = sizesOf(v), strides(t.getRank(), idx(1));
    offs[0] = i;
    sizes[0] = idx(1);
    return tensor::ExtractSliceOp::create(b, loc, tensorOf(t.getShape().drop_front()), v, offs,
                                          sizes, strides);
  }
  Value columns(Value v, int64_t off, int64_t len) {
    auto t = cast<RankedTensorType>(v.getType());
    return tensor::ExtractSliceOp::create(
        b, loc, tensorOf({t.getDimSize(0), len}), v, ArrayRef<OFR>{idx(0), idx(off)},
        ArrayRef<OFR>{dimOf(b, loc, v, 0), idx(len)}, ArrayRef<OFR>{idx(1), idx(1)});
  }
  Value slice1D(Value v, int64_t off, int64_t len) {
    return tensor::ExtractSliceOp::create(b, loc, tensorOf({len}), v, ArrayRef<OFR>{idx(off)},
                                          ArrayRef<OFR>{idx(len)}, ArrayRef<OFR>{idx(1)});
  }
  /// `v` with its dimensions permuted by `perm`.
  Value transpose(Value v, ArrayRef<int64_t> perm) {
    SmallVector<OFR> sizes = sizesOf(v), permuted;
    for (int64_t p : perm)
      permuted.push_back(sizes[p]);
    return linalg::TransposeOp::create(b, loc, v, empty(permuted), perm).getResult()[0];
  }
  Value matmul(Value x, Value w) {
    Value init = empty({dimOf(b, loc, x, 0), dimOf(b, loc, w, 1)}, 0.0);
    return linalg::MatmulOp::create(b, loc, TypeRange{init.getType()}, ValueRange{x, w},
                                    ValueRange{init})
        .getResult(0);
  }
  Value ew(ValueRange ins, ArrayRef<int64_t> shape, ScalarBodyFn body) {
    return buildElementwise(b, loc, ins, tensorOf(shape), body);
  }
  /// Clamps a gate's pre-activation to [-clip, clip] when the node has `clip`.
  Value clipped(OpBuilder &nb, Location l, Value v) {
    if (!clip)
      return v;
    v = arith::MaximumFOp::create(nb, l, v, scalarConstant(nb, l, et, -*clip));
    return arith::MinimumFOp::create(nb, l, v, scalarConstant(nb, l, et, *clip));
  }

  /// Sets `in` (X and the states of layout 1 transposed to layout 0), x, B, sOfr and bOfr: every
  /// size an input must have is checked, statically or (dynamic sizes) at run time, and given
  /// to its type.
  LogicalResult readInputs(int64_t layout, unsigned nd);

  /// One direction: returns Y [S, B, H], last H and (LSTM) last C.
  SmallVector<Value> direction(unsigned d, bool reverse);

  NodeContext &c;
  OpBuilder &b;
  Location loc;
  Cell cell;
  Type et;
  int64_t B = 0, H = 0, gates = 1; // B may be dynamic
  OFR sOfr, bOfr;                   // the sequence and batch sizes
  std::optional<double> clip;
  bool inputForget = false, linearBeforeReset = false;
  SmallVector<Activation> acts;
  Value x; // [S, B, I]
  /// The inputs X, W, R, B, sequence_lens, initial_h, initial_c, P with the sizes the operator
  /// gives them (layout 0); null where absent.
  Value in[8];
};

SmallVector<Value> RecurrentLowering::direction(unsigned d, bool reverse) {
  unsigned nActs = cell == Cell::LSTM ? 3 : cell == Cell::GRU ? 2 : 1;
  ArrayRef<Activation> f(acts.data() + d * nActs, nActs);
  int64_t G = gates * H;
  Value wT = transpose(row(in[1], idx(d)), {1, 0}); // [I, G]
  Value rT = transpose(row(in[2], idx(d)), {1, 0}); // [H, G]
  // Input projection of all steps plus the biases that simply add: [S*B, G], step t's rows
  // [t*B, (t+1)*B).
  Value xs = tensor::CollapseShapeOp::create(
      b, loc, x, SmallVector<ReassociationIndices>{{0, 1}, {2}});
  Value xw = matmul(xs, wT);
  Value rbh; // GRU with linear_before_reset: R's bias of the h gate stays inside r * (...)
  if (in[3]) {
    Value bias = row(in[3], idx(d)); // [2G]: Wb then Rb
    Value wb = slice1D(bias, 0, G), rb = slice1D(bias, G, G);
    Value sum;
    if (cell == Cell::GRU && linearBeforeReset) {
      rbh = slice1D(rb, 2 * H, H);
      Value zeroH = createFilled(b, loc, tensorOf({H}), scalarConstant(b, loc, et, 0));
      Value rbZr = tensor::InsertSliceOp::create(b, loc, zeroH, rb, ArrayRef<OFR>{idx(2 * H)},
                                                 ArrayRef<OFR>{idx(H)}, ArrayRef<OFR>{idx(1)});
      sum = ew({wb, rbZr}, {G}, [](OpBuilder &nb, Location l, ValueRange a) -> Value {
        return arith::AddFOp::create(nb, l, a[0], a[1]);
      });
    } else {
      sum = ew({wb, rb}, {G}, [](OpBuilder &nb, Location l, ValueRange a) -> Value {
        return arith::AddFOp::create(nb, l, a[0], a[1]);
      });
    }
    int64_t rows = cast<RankedTensorType>(xw.getType()).getDimSize(0);
    xw = ew({xw, sum}, {rows, G}, [](OpBuilder &nb, Location l, ValueRange a) -> Value {
      return arith::AddFOp::create(nb, l, a[0], a[1]);
    });
  }
  Value rhT = cell == Cell::GRU ? columns(rT, 2 * H, H) : Value(); // [H, H]
  Value peep = in[7] ? row(in[7], idx(d)) : Value(); // [3H]
  auto initial = [&](unsigned i) {
    if (in[i])
      return row(in[i], idx(d));
    return empty({bOfr, idx(H)}, 0.0);
  };
  Value h0 = initial(5), c0 = cell == Cell::LSTM ? initial(6) : Value();
  Value lens; // [B, 1] i32/i64 sequence lengths
  if (in[4])
    lens = tensor::ExpandShapeOp::create(
        b, loc, RankedTensorType::get({B, 1}, c.inputType(4).getElementType()), in[4],
        SmallVector<ReassociationIndices>{{0, 1}}, ArrayRef<OFR>{bOfr, idx(1)});
  Value y0 = empty({sOfr, bOfr, idx(H)}, 0.0);

  SmallVector<Value> inits{h0, y0};
  if (c0)
    inits.push_back(c0);
  Value lb = arith::ConstantIndexOp::create(b, loc, 0),
        ub = getValueOrCreateConstantIndexOp(b, loc, sOfr),
        one = arith::ConstantIndexOp::create(b, loc, 1);
  auto loop = scf::ForOp::create(
      b, loc, lb, ub, one, inits, [&](OpBuilder &lb2, Location l, Value iv, ValueRange state) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(lb2.getInsertionBlock(), lb2.getInsertionPoint());
        Value t = reverse ? arith::SubIOp::create(b, l, arith::SubIOp::create(b, l, ub, one), iv)
                              .getResult()
                          : iv;
        Value hPrev = state[0], yAcc = state[1], cPrev = c0 ? state[2] : Value();
        // Step t's rows of the projection, [t*B, (t+1)*B) (xw stays 2-D: an expand_shape into
        // [S, B, G] with S and B both dynamic does not lower).
        Value xt = tensor::ExtractSliceOp::create(
            b, l, tensorOf({B, G}), xw,
            ArrayRef<OFR>{ScalarBuilder{b, l}.mul(t, getValueOrCreateConstantIndexOp(b, l, bOfr)),
                          idx(0)},
            ArrayRef<OFR>{bOfr, idx(G)}, ArrayRef<OFR>{idx(1), idx(1)}); // [B, G]
        Value hr = matmul(hPrev, rT);       // [B, G]
        auto gate = [&](Value v, int k) { return columns(v, k * H, H); };
        // The step is taken for batch entries with t < sequence_lens (all when absent).
        Value tI = lens ? arith::IndexCastOp::create(
                              b, l, cast<RankedTensorType>(lens.getType()).getElementType(), t)
                              .getResult()
                        : Value();
        auto hold = [&](OpBuilder &nb, Location l2, Value lenV, Value fresh, Value old) -> Value {
          Value valid = arith::CmpIOp::create(nb, l2, arith::CmpIPredicate::slt, tI, lenV);
          return arith::SelectOp::create(nb, l2, valid, fresh, old);
        };
        Value hNew, cNew;
        if (cell == Cell::RNN) {
          SmallVector<Value> ins{xt, hr, hPrev};
          if (lens)
            ins.push_back(lens);
          hNew = ew(ins, {B, H}, [&](OpBuilder &nb, Location l2, ValueRange a) -> Value {
            Value v = f[0].apply(nb, l2, clipped(nb, l2, arith::AddFOp::create(nb, l2, a[0], a[1])));
            return lens ? hold(nb, l2, a[3], v, a[2]) : v;
          });
        } else if (cell == Cell::GRU) {
          // Gates z, r, h.
          Value rGate = ew({gate(xt, 1), gate(hr, 1)}, {B, H},
                           [&](OpBuilder &nb, Location l2, ValueRange a) -> Value {
                             return f[0].apply(
                                 nb, l2, clipped(nb, l2, arith::AddFOp::create(nb, l2, a[0], a[1])));
                           });
          Value hPart; // the state's contribution to the h gate
          if (linearBeforeReset) {
            SmallVector<Value> ins{gate(hr, 2), rGate};
            if (rbh)
              ins.push_back(rbh);
            hPart = ew(ins, {B, H}, [&](OpBuilder &nb, Location l2, ValueRange a) -> Value {
              Value v = a.size() > 2 ? arith::AddFOp::create(nb, l2, a[0], a[2]).getResult() : a[0];
              return arith::MulFOp::create(nb, l2, a[1], v);
            });
          } else {
            Value rh = ew({rGate, hPrev}, {B, H}, [](OpBuilder &nb, Location l2, ValueRange a) -> Value {
              return arith::MulFOp::create(nb, l2, a[0], a[1]);
            });
            hPart = matmul(rh, rhT);
          }
          SmallVector<Value> ins{gate(xt, 0), gate(hr, 0), gate(xt, 2), hPart, hPrev};
          if (lens)
            ins.push_back(lens);
          hNew = ew(ins, {B, H}, [&](OpBuilder &nb, Location l2, ValueRange a) -> Value {
            Value z = f[0].apply(nb, l2, clipped(nb, l2, arith::AddFOp::create(nb, l2, a[0], a[1])));
            Value ht = f[1].apply(nb, l2, clipped(nb, l2, arith::AddFOp::create(nb, l2, a[2], a[3])));
            Value oneV = scalarConstant(nb, l2, et, 1);
            Value v = arith::AddFOp::create(
                nb, l2, arith::MulFOp::create(nb, l2, arith::SubFOp::create(nb, l2, oneV, z), ht),
                arith::MulFOp::create(nb, l2, z, a[4]));
            return lens ? hold(nb, l2, a[5], v, a[4]) : v;
          });
        } else {
          // Gates i, o, f, c; peepholes i, o, f.
          SmallVector<Value> ins;
          for (int k = 0; k < 4; ++k) {
            ins.push_back(gate(xt, k));
            ins.push_back(gate(hr, k));
          }
          ins.push_back(cPrev); // 8
          int peepAt = -1, lensAt = -1;
          if (peep) {
            peepAt = ins.size();
            for (int k = 0; k < 3; ++k)
              ins.push_back(slice1D(peep, k * H, H));
          }
          if (lens) {
            lensAt = ins.size();
            ins.push_back(lens);
          }
          // Both results from one body: the cell state (which = 0) or the hidden state (1).
          auto cellBody = [&, peepAt, lensAt](int which) {
            return [&, which, peepAt, lensAt](OpBuilder &nb, Location l2, ValueRange a) -> Value {
              auto pre = [&](int k) { return arith::AddFOp::create(nb, l2, a[2 * k], a[2 * k + 1]).getResult(); };
              auto withPeep = [&](Value v, int k, Value cc) -> Value {
                if (peepAt < 0)
                  return v;
                return arith::AddFOp::create(nb, l2, v, arith::MulFOp::create(nb, l2, a[peepAt + k], cc));
              };
              Value cp = a[8];
              Value ig = f[0].apply(nb, l2, clipped(nb, l2, withPeep(pre(0), 0, cp)));
              Value fg = inputForget ? arith::SubFOp::create(nb, l2, scalarConstant(nb, l2, et, 1), ig).getResult()
                                     : f[0].apply(nb, l2, clipped(nb, l2, withPeep(pre(2), 2, cp)));
              Value cg = f[1].apply(nb, l2, clipped(nb, l2, pre(3)));
              Value cn = arith::AddFOp::create(nb, l2, arith::MulFOp::create(nb, l2, fg, cp),
                                               arith::MulFOp::create(nb, l2, ig, cg));
              if (which == 0)
                return lensAt >= 0 ? hold(nb, l2, a[lensAt], cn, cp) : cn;
              Value og = f[0].apply(nb, l2, clipped(nb, l2, withPeep(pre(1), 1, cn)));
              Value hn = arith::MulFOp::create(nb, l2, og, f[2].apply(nb, l2, cn));
              return hn;
            };
          };
          cNew = ew(ins, {B, H}, cellBody(0));
          hNew = ew(ins, {B, H}, cellBody(1));
          if (lens)
            hNew = ew({hNew, hPrev, lens}, {B, H}, [&](OpBuilder &nb, Location l2, ValueRange a) -> Value {
              return hold(nb, l2, a[2], a[0], a[1]);
            });
        }
        // Y[t] = the new state, zero past a batch entry's sequence length.
        Value yt = hNew;
        if (lens)
          yt = ew({hNew, lens}, {B, H}, [&](OpBuilder &nb, Location l2, ValueRange a) -> Value {
            return hold(nb, l2, a[1], a[0], scalarConstant(nb, l2, et, 0));
          });
        Value yNext = tensor::InsertSliceOp::create(
            b, l, yt, yAcc, ArrayRef<OFR>{t, idx(0), idx(0)}, ArrayRef<OFR>{idx(1), bOfr, idx(H)},
            ArrayRef<OFR>{idx(1), idx(1), idx(1)});
        // The new state is copied into the carried one: bufferization needs each yielded value
        // to be the loop argument's own buffer (the reads of the old state come first).
        auto inPlace = [&](Value fresh, Value carried) {
          return linalg::CopyOp::create(b, l, fresh, carried).getResult(0);
        };
        SmallVector<Value> next{inPlace(hNew, hPrev), yNext};
        if (cNew)
          next.push_back(inPlace(cNew, cPrev));
        scf::YieldOp::create(b, l, next);
      });
  SmallVector<Value> out{loop.getResult(1), loop.getResult(0)};
  if (c0)
    out.push_back(loop.getResult(2));
  return out;
}

LogicalResult RecurrentLowering::readInputs(int64_t layout, unsigned nd) {
  // The shape each input must have; kB and kI stand for the batch and input sizes, which may be
  // dynamic and are the same across inputs (S only occurs in X).
  constexpr int64_t kB = -2, kI = -3, kS = -4;
  int64_t G = gates * H;
  SmallVector<int64_t> want[8] = {{kS, kB, kI}, {nd, G, kI}, {nd, G, H}, {nd, 2 * G}, {kB},
                                  {nd, kB, H},  {nd, kB, H}, {nd, 3 * H}};
  const char *names[] = {"X", "W", "R", "B", "sequence_lens", "initial_h", "initial_c", "P"};
  unsigned used = cell == Cell::LSTM ? 8 : 6;
  for (unsigned i = 0; i < used && i < c.numInputs(); ++i) {
    if (!c.hasInput(i))
      continue;
    if (failed(requireRanked(c, i, "input " + std::to_string(i) + " ('" + names[i] + "')")))
      return failure();
    Value v = c.input(i);
    if (cast<RankedTensorType>(v.getType()).getRank() != (int64_t)want[i].size())
      return c.fail("input " + Twine(i) + " ('" + names[i] + "') must have rank " +
                    Twine(want[i].size()));
    // Batch-first X and states (layout 1) are read as [S, B, I] and [nd, B, H].
    if (layout == 1 && (i == 0 || i == 5 || i == 6))
      v = transpose(v, {1, 0, 2});
    in[i] = v;
  }
  if (!in[1] || !in[2])
    return c.fail("inputs W and R are required");
  // B and I: the first static size among the inputs that hold them; static sizes must agree.
  int64_t sym[2] = {ShapedType::kDynamic, ShapedType::kDynamic}; // B, I
  auto describe = [&](unsigned i, unsigned d) {
    return "dimension " + std::to_string(d) + " of input " + std::to_string(i) + " ('" +
           names[i] + "')" + (layout == 1 && (i == 0 || i == 5 || i == 6) ? " (layout 0)" : "");
  };
  for (unsigned i = 0; i < 8; ++i) {
    if (!in[i])
      continue;
    auto t = cast<RankedTensorType>(in[i].getType());
    for (unsigned d = 0; d < want[i].size(); ++d) {
      int64_t w = want[i][d], got = t.getDimSize(d);
      if (w == kS || ShapedType::isDynamic(got))
        continue;
      int64_t *known = w == kB ? &sym[0] : w == kI ? &sym[1] : &w;
      if (ShapedType::isDynamic(*known))
        *known = got;
      else if (*known != got)
        return c.fail(describe(i, d) + " is " + Twine(got) + ", expected " + Twine(*known) +
                      (w >= 0 ? " (hidden_size " + Twine(H) + ", " + Twine(nd) +
                                    " direction(s))"
                              : Twine(w == kB ? " (the batch size)" : " (the input size)")));
    }
  }
  B = sym[0];
  int64_t I = sym[1];
  // Dynamic sizes are checked at run time against the static one, or else X's.
  bOfr = ShapedType::isDynamic(B) ? dimOf(b, loc, in[0], 1) : idx(B);
  OFR iOfr = ShapedType::isDynamic(I) ? dimOf(b, loc, in[0], 2) : idx(I);
  ScalarBuilder sb{b, loc};
  auto expected = [&](int64_t w) -> std::string {
    int64_t size = w == kB ? B : w == kI ? I : w;
    const char *what = w == kB ? "batch size" : "input size";
    if (w >= 0)
      return std::to_string(w);
    return ShapedType::isDynamic(size) ? std::string("the ") + what + " of X"
                                       : std::to_string(size) + " (the " + what + ")";
  };
  for (unsigned i = 0; i < 8; ++i) {
    if (!in[i])
      continue;
    auto t = cast<RankedTensorType>(in[i].getType());
    SmallVector<int64_t> shape(t.getShape());
    for (unsigned d = 0; d < want[i].size(); ++d) {
      int64_t w = want[i][d];
      OFR expect = w == kB ? bOfr : w == kI ? iOfr : idx(w);
      // X's own B and I are the references where no input gives them statically.
      if (w == kS || !t.isDynamicDim(d) || (i == 0 && ShapedType::isDynamic(staticOf(expect))))
        continue;
      shape[d] = staticOf(expect);
      cf::AssertOp::create(
          b, loc, sb.eq(dimValue(b, loc, in[i], d), getValueOrCreateConstantIndexOp(b, loc, expect)),
          c.op.describe() + ": " + describe(i, d) + " is not " + expected(w));
    }
    in[i] = castTo(b, loc, in[i], RankedTensorType::get(shape, t.getElementType()));
  }
  x = in[0];
  sOfr = dimOf(b, loc, x, 0);
  return success();
}

LogicalResult RecurrentLowering::run() {
  if (failed(requireRanked(c, 0, "input 0 ('X')")))
    return failure();
  et = c.inputType(0).getElementType();
  if (!isa<FloatType>(et))
    return c.fail("only floating-point inputs are supported");
  gates = cell == Cell::LSTM ? 4 : cell == Cell::GRU ? 3 : 1;
  H = c.intAttr("hidden_size", 0);
  std::string dir = c.stringAttr("direction", "forward");
  if (dir != "forward" && dir != "reverse" && dir != "bidirectional")
    return c.fail("attribute 'direction' = '" + dir + "' is not one of forward, reverse, "
                  "bidirectional");
  unsigned nd = dir == "bidirectional" ? 2 : 1;
  int64_t layout = c.intAttr("layout", 0);
  if (layout != 0 && layout != 1)
    return c.fail("attribute 'layout' = " + Twine(layout) + " is not 0 or 1");
  if (c.hasAttr("clip"))
    clip = c.floatAttr("clip", 0);
  inputForget = c.intAttr("input_forget", 0) != 0;
  linearBeforeReset = c.intAttr("linear_before_reset", 0) != 0;
  SmallVector<StringRef> defaults =
      cell == Cell::LSTM ? SmallVector<StringRef>{"Sigmoid", "Tanh", "Tanh"}
      : cell == Cell::GRU ? SmallVector<StringRef>{"Sigmoid", "Tanh"}
                          : SmallVector<StringRef>{"Tanh"};
  auto a = readActivations(c, nd, defaults);
  if (failed(a))
    return failure();
  acts = *a;

  if (H <= 0)
    return c.fail("attribute 'hidden_size' must be positive");
  // Every size may be dynamic at the ONNX level; hidden_size and the direction fix all but the
  // sequence, batch and input sizes, which are read at run time where no input fixes them.
  if (failed(readInputs(layout, nd)))
    return failure();
  if (c.numInputs() > 4 && c.hasInput(4) && nd == 2)
    return c.fail("sequence_lens with direction 'bidirectional' is not supported");
  if (c.numInputs() > 4 && c.hasInput(4) && dir == "reverse")
    return c.fail("sequence_lens with direction 'reverse' is not supported");

  SmallVector<SmallVector<Value>> perDir;
  for (unsigned d = 0; d < nd; ++d)
    perDir.push_back(direction(d, dir == "reverse" || d == 1));

  // Y [S, nd, B, H], Y_h / Y_c [nd, B, H] (then the batch-first layout if asked).
  auto stack = [&](unsigned which, ArrayRef<OFR> shape, unsigned axis) {
    Value out = empty(shape);
    for (unsigned d = 0; d < nd; ++d) {
      SmallVector<OFR> offs(shape.size(), idx(0)), sizes(shape), strides(shape.size(), idx(1));
      offs[axis] = idx(d);
      sizes[axis] = idx(1);
      out = tensor::InsertSliceOp::create(b, loc, perDir[d][which], out, offs, sizes, strides);
    }
    return out;
  };
  OFR ndOfr = idx(nd), hOfr = idx(H);
  SmallVector<Value> results{stack(0, {sOfr, ndOfr, bOfr, hOfr}, 1),
                             stack(1, {ndOfr, bOfr, hOfr}, 0)};
  if (cell == Cell::LSTM)
    results.push_back(stack(2, {ndOfr, bOfr, hOfr}, 0));
  if (layout == 1) {
    results[0] = transpose(results[0], {2, 0, 1, 3});
    for (size_t i = 1; i < results.size(); ++i)
      results[i] = transpose(results[i], {1, 0, 2});
  }
  SmallVector<Value> replaced;
  for (unsigned i = 0; i < c.numResults(); ++i)
    replaced.push_back(isa<NoneType>(c.resultType(i)) ? Value()
                                                      : castTo(b, loc, results[i], c.resultType(i)));
  return c.replace(replaced);
}

} // namespace

void registerRecurrentOps(OnnxHandlerTable &t) {
  // Y is often not wanted when Y_h is (an empty first output name).
  for (StringRef op : {"RNN", "GRU", "LSTM"})
    t.acceptAbsentOutputs(op);
  t.add("RNN", 7, [](NodeContext &c) { return RecurrentLowering(c, Cell::RNN).run(); });
  t.add("GRU", 7, [](NodeContext &c) { return RecurrentLowering(c, Cell::GRU).run(); });
  t.add("LSTM", 7, [](NodeContext &c) { return RecurrentLowering(c, Cell::LSTM).run(); });
}

} // namespace sparq::onnx
