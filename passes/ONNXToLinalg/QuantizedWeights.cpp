//===- passes/ONNXToLinalg/QuantizedWeights.cpp - pre-quantized ONNX weights ---===//
//
// Weights that arrive quantized in the ONNX file run from their codes: a MatMul whose B is a
// DequantizeLinear of an integer initializer (the QDQ form of onnxruntime's quantization tools:
// int8/uint8/int4/uint4, per tensor, per output column, or in blocks along K as in opset 21)
// becomes `sparq_weight.linear` with a `#sparq_quant.scheme`, like com.microsoft.MatMulNBits
// (ComMicrosoftDomain.cpp). The codes are repacked at compile time into sparq's rows of the
// transposed weight and never expanded to floats; the code generator then picks the same
// quantized-weight kernels as for a weight sparq compressed itself.
//
//===----------------------------------------------------------------------===//
#include "passes/ONNXToLinalg/ONNXToLinalg.h"

#include "dialects/Common/ConstantData.h"
#include "dialects/Quant/QuantDialect.h"
#include "dialects/Weight/WeightDialect.h"
#include "sparq/Formats/PackedFormats.h"

#include "mlir/IR/DialectResourceBlobManager.h"

#include <cstdlib>
#include <cstring>
#include <functional>

using namespace mlir;
namespace fmt = sparq::formats;

namespace sparq::onnx {

std::optional<std::vector<char>> constantBytesOf(Value v) {
  auto cst = v.getDefiningOp<arith::ConstantOp>();
  if (!cst)
    return std::nullopt;
  auto type = cast<ShapedType>(cst.getType());
  size_t bytes = type.getNumElements() * ((type.getElementTypeBitWidth() + 7) / 8);
  if (auto dense = dyn_cast<DenseElementsAttr>(cst.getValue())) {
    if (type.getElementTypeBitWidth() == 1)
      return std::nullopt; // bit-packed storage
    ArrayRef<char> raw = dense.getRawData();
    if (!dense.isSplat())
      return std::vector<char>(raw.begin(), raw.end());
    std::vector<char> out(bytes);
    for (size_t at = 0; at < bytes && !raw.empty(); at += raw.size())
      std::memcpy(out.data() + at, raw.data(), std::min(raw.size(), bytes - at));
    return out;
  }
  if (auto res = dyn_cast<DenseResourceElementsAttr>(cst.getValue()))
    if (AsmResourceBlob *blob = res.getRawHandle().getBlob())
      if (blob->getData().size() >= bytes)
        return std::vector<char>(blob->getData().begin(), blob->getData().begin() + bytes);
  return std::nullopt;
}

/// The packed constants of a one-scheme weight [n, k] (codes, scales, zero points for
/// asymmetric schemes), named `name`.codes ... and located at `wLoc`.
static SmallVector<Value> packedConstants(NodeContext &c, quant::SchemeAttr scheme, int64_t n,
                                          int64_t k, ArrayRef<char> codes,
                                          ArrayRef<float> scales, ArrayRef<uint8_t> zeroPoints,
                                          Location wLoc, StringRef name) {
  SmallVector<Type> types;
  SmallVector<std::string> names;
  weight::getPackedOperands(ArrayAttr::get(c.rewriter.getContext(), {scheme}), n, k,
                            c.rewriter.getF32Type(), types, names);
  auto constant = [&](unsigned i, ArrayRef<char> bytes) -> Value {
    return arith::ConstantOp::create(
        c.rewriter, wLoc,
        makeConstantFromBytes(cast<RankedTensorType>(types[i]), bytes,
                              (name + "." + names[i]).str()));
  };
  SmallVector<Value> packed = {
      constant(0, codes),
      constant(1, ArrayRef<char>(reinterpret_cast<const char *>(scales.data()),
                                 scales.size() * sizeof(float)))};
  if (!scheme.getSymmetric())
    packed.push_back(constant(2, ArrayRef<char>(reinterpret_cast<const char *>(zeroPoints.data()),
                                                zeroPoints.size())));
  return packed;
}

Value emitPackedLinear(NodeContext &c, Value x, RankedTensorType yt, quant::SchemeAttr scheme,
                       int64_t n, int64_t k, ArrayRef<char> codes, ArrayRef<float> scales,
                       ArrayRef<uint8_t> zeroPoints, Location wLoc, StringRef name,
                       weight::LinearOp *linearOut) {
  Type f32 = c.rewriter.getF32Type();
  ArrayAttr formats = ArrayAttr::get(c.rewriter.getContext(), {scheme});
  SmallVector<Value> packed =
      packedConstants(c, scheme, n, k, codes, scales, zeroPoints, wLoc, name);
  // The linear op takes [..., M, K]: a vector x is one row. Its result has x's leading dims;
  // where the node's result type knows more (a declared output shape over a dynamic input), a
  // tensor.cast, which the run-time checks verify, gives it that type.
  auto xt = cast<RankedTensorType>(x.getType());
  bool vector = xt.getRank() == 1;
  SmallVector<int64_t> dims(xt.getShape());
  dims.back() = n;
  if (vector) {
    x = reshapeStatic(c.rewriter, c.loc, x, {1, k});
    dims = {1, n};
  }
  auto linear = weight::LinearOp::create(c.rewriter, c.loc, RankedTensorType::get(dims, f32), x,
                                         packed, formats);
  if (linearOut)
    *linearOut = linear;
  if (vector)
    return reshapeStatic(c.rewriter, c.loc, linear.getResult(), {n});
  Value y = linear.getResult();
  auto want = RankedTensorType::get(yt.getShape(), f32);
  return y.getType() == want ? y : tensor::CastOp::create(c.rewriter, c.loc, want, y).getResult();
}

namespace {

/// An integer attribute of another node, or `dflt`.
int64_t nodeIntAttr(NodeOp node, StringRef name, int64_t dflt) {
  if (auto a = dyn_cast_or_null<IntegerAttr>(node.getOnnxAttr(name)))
    return a.getInt();
  return dflt;
}

bool isPresent(Value v) { return v && !v.getDefiningOp<NoneOp>(); }

} // namespace

namespace {

/// A DequantizeLinear'd integer initializer repacked as sparq's quantized rows.
struct DequantizedWeight {
  quant::SchemeAttr scheme;
  std::vector<char> codes;
  std::vector<float> scales;
  std::vector<uint8_t> zeroPoints; // asymmetric schemes only
  Location loc;
  std::string name;
};

/// An integer weight as ONNX stores it: `rows` rows of `k` codes of `bits` bits (8 or 4, two
/// per byte for 4), element (r, kk) at index r * rowStride + kk * kStride of `bytes`, with
/// ONNX's scales and zero points and where each element finds them.
struct IntegerWeight {
  ArrayRef<char> bytes;
  unsigned bits;
  bool signedCodes;
  int64_t rows, k, rowStride, kStride;
  ArrayRef<double> scales;
  ArrayRef<int64_t> zeroPoints; // one per scale
  int64_t group; // sparq's: quant::SchemeAttr::kPerTensor / kPerChannel / a size along k
  /// The index into `scales` and `zeroPoints` of row r and group g.
  std::function<size_t(int64_t r, int64_t g)> paramIndex;

  /// The value of element `index` (sign-extended for signed codes).
  int64_t value(int64_t index) const {
    uint8_t byte = uint8_t(bytes[index]);
    if (!signedCodes)
      return bits == 8 ? byte : (byte & 0xf);
    return bits == 8 ? int64_t(int8_t(byte)) : int64_t(int8_t(uint8_t(byte << 4)) >> 4);
  }
};

/// `w` repacked as sparq's quantized rows: symmetric signed codes when every zero point is the
/// middle of the range (0 for int, 2^(bits-1) for uint), else unsigned codes with zero points.
DequantizedWeight packIntegerWeight(MLIRContext *ctx, const IntegerWeight &w, Location loc,
                                    StringRef name) {
  const unsigned bits = w.bits;
  const int64_t mid = int64_t(1) << (bits - 1);
  const int64_t symmetricZero = w.signedCodes ? 0 : mid;
  bool symmetric = llvm::all_of(w.zeroPoints, [&](int64_t z) { return z == symmetricZero; });
  DequantizedWeight out{quant::SchemeAttr::get(ctx, bits, /*isSigned=*/symmetric, symmetric,
                                               w.group),
                        {}, {}, {}, loc, name.str()};
  const int64_t rowBytes = fmt::packedRowBytes(w.k, bits);
  out.codes.resize(w.rows * rowBytes);
  std::vector<uint8_t> rowCodes(w.k);
  for (int64_t r = 0; r < w.rows; ++r) {
    for (int64_t kk = 0; kk < w.k; ++kk) {
      int64_t v = w.value(r * w.rowStride + kk * w.kStride);
      int64_t code = symmetric ? v - symmetricZero : (w.signedCodes ? v + mid : v);
      rowCodes[kk] = fmt::encode(int(code), bits);
    }
    fmt::packCodes(rowCodes.data(), w.k, bits,
                   reinterpret_cast<uint8_t *>(out.codes.data()) + r * rowBytes);
  }
  const int64_t groups = w.group > 0 ? (w.k + w.group - 1) / w.group : 1;
  const int64_t paramRows = w.group == quant::SchemeAttr::kPerTensor ? 1 : w.rows;
  for (int64_t r = 0; r < paramRows; ++r)
    for (int64_t g = 0; g < groups; ++g) {
      out.scales.push_back(float(w.scales[w.paramIndex(r, g)]));
      if (!symmetric) {
        int64_t z = w.zeroPoints[w.paramIndex(r, g)];
        out.zeroPoints.push_back(uint8_t(w.signedCodes ? z + mid : z));
      }
    }
  return out;
}

/// Reads `dq` = DequantizeLinear(W, scale[, zero_point]) with a constant int8/uint8/int4/uint4 W
/// as `rows` rows of `k` codes, element (r, kk) of W at index r * rowStride + kk * kStride. The
/// scale may be one for the tensor, one per row along W's axis `rowAxis`, or (opset 21) one per
/// block of `block_size` along W's axis `kAxis` and row (when the row and k axes are W's two
/// dims). nullopt when `dq` is not of such a form.
std::optional<DequantizedWeight> readDequantizedWeight(NodeContext &c, NodeOp dq, int64_t rows,
                                                       int64_t k, int64_t rowStride,
                                                       int64_t kStride, int64_t rowAxis,
                                                       int64_t kAxis) {
  if (!dq || dq.getOpType() != "DequantizeLinear" || !dq.getDomain().empty() ||
      dq.getInputs().size() < 2)
    return std::nullopt;
  Value w = dq.getInputs()[0], scaleV = dq.getInputs()[1];
  Value zpV = dq.getInputs().size() > 2 ? dq.getInputs()[2] : Value();
  auto wt = dyn_cast<RankedTensorType>(w.getType());
  auto et = wt ? dyn_cast<IntegerType>(wt.getElementType()) : IntegerType();
  if (!et || !wt.hasStaticShape() || wt.getNumElements() != rows * k ||
      (et.getWidth() != 8 && et.getWidth() != 4))
    return std::nullopt;
  auto wBytes = constantBytesOf(w);
  auto scales = getConstantFloats(scaleV);
  if (!wBytes || failed(scales))
    return std::nullopt;
  SmallVector<int64_t> zps;
  if (isPresent(zpV)) {
    auto z = getConstantInts(zpV);
    if (failed(z) || z->size() != scales->size())
      return std::nullopt;
    zps = std::move(*z);
  } else {
    zps.assign(scales->size(), 0); // ONNX's default zero point
  }

  // Where each element finds its scale: one for the tensor, one per row, or one per block of
  // `block_size` along k and row.
  auto scaleType = cast<RankedTensorType>(scaleV.getType());
  int64_t axis = nodeIntAttr(dq, "axis", 1);
  if (axis < 0)
    axis += wt.getRank();
  int64_t block = nodeIntAttr(dq, "block_size", 0);
  int64_t group;
  if (scales->size() == 1) {
    group = quant::SchemeAttr::kPerTensor;
  } else if (block == 0 && axis == rowAxis && scaleType.getRank() == 1 &&
             scales->size() == size_t(rows)) {
    group = quant::SchemeAttr::kPerChannel;
  } else if (block > 0 && axis == kAxis && wt.getRank() == 2 && scaleType.getRank() == 2 &&
             scaleType.getDimSize(kAxis) == (k + block - 1) / block &&
             scaleType.getDimSize(rowAxis) == rows) {
    group = block;
  } else {
    return std::nullopt; // e.g. a scale per k (not sparq's layout)
  }
  const int64_t groups = group > 0 ? (k + group - 1) / group : 1;
  IntegerWeight iw{*wBytes, et.getWidth(), !et.isUnsigned(), rows, k, rowStride, kStride,
                   *scales, zps, group,
                   [&](int64_t r, int64_t g) -> size_t {
                     if (group == quant::SchemeAttr::kPerTensor)
                       return 0;
                     if (group == quant::SchemeAttr::kPerChannel)
                       return r;
                     return rowAxis == 1 ? g * rows + r : r * groups + g;
                   }};
  // Named after the DequantizeLinear node (or the consumer), located at the weight.
  Location loc = c.loc;
  if (Operation *def = w.getDefiningOp())
    loc = def->getLoc();
  return packIntegerWeight(c.rewriter.getContext(), iw, loc,
                           dq.getName().empty() ? c.op.getName() : dq.getName());
}

/// A [..., M, K] x [K, N] -> [..., M, N] product the linear op's kernels take: K and N static,
/// the same rank, at most one leading dim dynamic (rows read at run time; the kernels' call
/// flattens the leading dims, and a collapse of two dynamic dims does not survive
/// bufferization's canonicalizations); a vector A [K] static.
bool hasStaticRowLength(RankedTensorType at, RankedTensorType yt) {
  if (at.getRank() < 1 || yt.getRank() != at.getRank() || at.isDynamicDim(at.getRank() - 1) ||
      yt.isDynamicDim(yt.getRank() - 1))
    return false;
  return at.getRank() >= 2 ? at.getNumDynamicDims() <= 1 : at.hasStaticShape();
}

/// The DequantizeLinear node producing input `i`, if any.
NodeOp dequantizeOf(NodeContext &c, unsigned i) {
  auto dq = c.op.getInputs()[i].getDefiningOp<NodeOp>();
  return dq && dq.getOpType() == "DequantizeLinear" ? dq : NodeOp();
}

} // namespace

FailureOr<Value> emitDequantizedWeightMatMul(NodeContext &c) {
  // B = DequantizeLinear(W [K, N]); A [..., K] float32 with a static K (its rows may be
  // dynamic: the quantized-weight kernels take M at run time). Otherwise the DequantizeLinear
  // runs as an elementwise op and the MatMul as any other.
  NodeOp dq = dequantizeOf(c, 1);
  auto wt = dq ? dyn_cast<RankedTensorType>(dq.getInputs()[0].getType()) : RankedTensorType();
  RankedTensorType at = c.inputType(0), yt = c.rankedResultType(0);
  if (!wt || wt.getRank() != 2 || !wt.hasStaticShape() || !at || !yt ||
      !hasStaticRowLength(at, yt) || !at.getElementType().isF32() ||
      !yt.getElementType().isF32() || at.getDimSize(at.getRank() - 1) != wt.getDimSize(0))
    return Value();
  const int64_t k = wt.getDimSize(0), n = wt.getDimSize(1);
  // Rows of sparq's weight are W's columns: element (n, k) at k * N + n.
  auto w = readDequantizedWeight(c, dq, n, k, /*rowStride=*/1, /*kStride=*/n, /*rowAxis=*/1,
                                 /*kAxis=*/0);
  if (!w)
    return Value();
  return emitPackedLinear(c, c.input(0), yt, w->scheme, n, k, w->codes, w->scales,
                          w->zeroPoints, w->loc, w->name);
}

FailureOr<Value> emitConstantWeightMatMulInteger(NodeContext &c) {
  // MatMulInteger(A [..., K], B [K, N], a_zero_point, b_zero_point) with a constant 8-bit B and
  // a constant zero point of B (one, or one per column), K static (rows may be dynamic): a
  // `sparq_weight.linear` on int8 activations A8 (u8 A shifted by -128, s8 A as it is) against
  // B's codes with scale 1 and zb as zero point, whose float result sum_k A8 * (b - zb) the CPU
  // backend computes with integer dot products; then, per row, the shift and A's zero point:
  //   sum_k (a - za)(b - zb) = sum_k A8 (b - zb) + (shift - za) * S[n],  S[n] = sum_k (b - zb).
  // Every partial sum is an integer that float32 holds exactly while its magnitude stays below
  // 2^24; as |A8| <= 128 < 255, that holds when 255 * max over columns of sum_k |b - zb| <=
  // 2^24, checked here on the constant. Otherwise null: the integer loop nest.
  RankedTensorType at = c.inputType(0), bt = c.inputType(1), yt = c.rankedResultType(0);
  if (!at || !bt || !yt || !hasStaticRowLength(at, yt) || bt.getRank() != 2 ||
      !bt.hasStaticShape() || !at.getElementType().isInteger(8) ||
      !bt.getElementType().isInteger(8) || !yt.getElementType().isInteger(32) ||
      at.getDimSize(at.getRank() - 1) != bt.getDimSize(0))
    return Value();
  const int64_t k = bt.getDimSize(0), n = bt.getDimSize(1);
  auto bBytes = constantBytesOf(c.input(1));
  if (!bBytes)
    return Value();
  const bool bUnsigned = c.isUnsignedInput(1);
  SmallVector<int64_t> zps(1, 0);
  if (c.hasInput(3)) {
    auto z = getConstantInts(c.input(3));
    if (failed(z) || (z->size() != 1 && z->size() != size_t(n)))
      return Value(); // the integer lowering names a zero point of the wrong size
    zps = std::move(*z);
    if (bUnsigned)
      for (int64_t &v : zps)
        v &= 0xff;
  }
  SmallVector<double> scales(zps.size(), 1.0);
  IntegerWeight w{*bBytes, 8, !bUnsigned, n, k, /*rowStride=*/1, /*kStride=*/n, scales, zps,
                  zps.size() == 1 ? quant::SchemeAttr::kPerTensor
                                  : quant::SchemeAttr::kPerChannel,
                  [&](int64_t r, int64_t) -> size_t { return zps.size() == 1 ? 0 : r; }};
  int64_t worst = 0; // max over columns of sum_k |b - zb|
  SmallVector<int32_t> colSums(n, 0);
  for (int64_t col = 0; col < n; ++col) {
    int64_t sum = 0, abs = 0, z = zps[w.paramIndex(col, 0)];
    for (int64_t kk = 0; kk < k; ++kk) {
      const int64_t v = w.value(kk * n + col) - z;
      sum += v;
      abs += std::abs(v);
    }
    colSums[col] = int32_t(sum);
    worst = std::max(worst, abs);
  }
  if (255 * worst > (int64_t(1) << 24))
    return Value();

  OpBuilder &b = c.rewriter;
  Location loc = c.loc;
  // A's zero point: a scalar, or one per row as [M, 1].
  auto za = zeroPointOperand(c, 0, 2, /*rowZeroPoint=*/true);
  if (failed(za))
    return failure();
  const bool aUnsigned = c.isUnsignedInput(0);
  Value a8 = c.input(0);
  if (aUnsigned)
    a8 = buildElementwise(b, loc, {a8}, at, [&](OpBuilder &nb, Location nl, ValueRange v) {
      Value bit = arith::ConstantOp::create(nb, nl, nb.getIntegerAttr(v[0].getType(), 0x80));
      return arith::XOrIOp::create(nb, nl, v[0], bit).getResult();
    });
  Location wLoc = c.loc;
  if (Operation *def = c.input(1).getDefiningOp())
    wLoc = def->getLoc();
  DequantizedWeight packed = packIntegerWeight(b.getContext(), w, wLoc, c.op.getName());
  weight::LinearOp linear;
  Value y = emitPackedLinear(c, a8, RankedTensorType::get(yt.getShape(), b.getF32Type()),
                             packed.scheme, n, k, packed.codes, packed.scales, packed.zeroPoints,
                             packed.loc, packed.name, &linear);
  // No --act-bits quantization: the activations are the model's integers already.
  linear->setAttr(weight::kActBitsAttrName, b.getI64IntegerAttr(weight::kFloatActBits));
  auto i32 = b.getI32Type();
  Value sums = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(RankedTensorType::get({n}, i32), ArrayRef<int32_t>(colSums)));
  SmallVector<Value> ins = {y, sums};
  if (*za)
    ins.push_back(*za);
  return buildElementwise(b, loc, ins, yt, [&](OpBuilder &nb, Location nl, ValueRange v) -> Value {
    // (shift - za) * S[n], in int32 like the product (exact: |result| < 2^24).
    Value corr = arith::ConstantOp::create(nb, nl, nb.getI32IntegerAttr(aUnsigned ? 128 : 0));
    if (v.size() > 2)
      corr = arith::SubIOp::create(nb, nl, corr,
                                   castScalar(nb, nl, v[2], i32, aUnsigned, false));
    Value dot = arith::FPToSIOp::create(nb, nl, i32, v[0]);
    return arith::AddIOp::create(nb, nl, dot, arith::MulIOp::create(nb, nl, corr, v[1]))
        .getResult();
  });
}

FailureOr<Value> emitDequantizedWeightConv(NodeContext &c, ArrayRef<int64_t> strides,
                                           ArrayRef<int64_t> dilations,
                                           ArrayRef<int64_t> padLo, ArrayRef<int64_t> padHi) {
  // W = DequantizeLinear(W [F, C, KH, KW]) of a 2-D, ungrouped Conv over a static float32
  // input: the rows are W's output channels, k its (c, kh, kw) in ONNX order.
  NodeOp dq = dequantizeOf(c, 1);
  auto wt = dq ? dyn_cast<RankedTensorType>(dq.getInputs()[0].getType()) : RankedTensorType();
  RankedTensorType xt = c.inputType(0), yt = c.rankedResultType(0);
  if (!wt || wt.getRank() != 4 || !wt.hasStaticShape() || !xt || !yt || xt.getRank() != 4 ||
      !xt.hasStaticShape() || !yt.hasStaticShape() || !xt.getElementType().isF32() ||
      !yt.getElementType().isF32() || c.intAttr("group", 1) != 1 ||
      (c.hasInput(2) && (!c.inputType(2) || !c.inputType(2).getElementType().isF32())))
    return Value();
  const int64_t f = wt.getDimSize(0), k = wt.getDimSize(1) * wt.getDimSize(2) * wt.getDimSize(3);
  auto w = readDequantizedWeight(c, dq, f, k, /*rowStride=*/k, /*kStride=*/1, /*rowAxis=*/0,
                                 /*kAxis=*/1);
  if (!w || w->scheme.getGroup() > 0)
    return Value(); // blocks along C only: not along sparq's flattened (c, kh, kw)
  ArrayAttr formats = ArrayAttr::get(c.rewriter.getContext(), {w->scheme});
  SmallVector<Value> packed = packedConstants(c, w->scheme, f, k, w->codes, w->scales,
                                              w->zeroPoints, w->loc, w->name);
  SmallVector<int64_t> pads(padLo);
  pads.append(padHi.begin(), padHi.end());
  OpBuilder &b = c.rewriter;
  return weight::Conv2DOp::create(
             b, c.loc, yt, c.input(0), packed, c.hasInput(2) ? c.input(2) : Value(), formats,
             b.getDenseI64ArrayAttr({wt.getDimSize(2), wt.getDimSize(3)}),
             b.getDenseI64ArrayAttr(strides), b.getDenseI64ArrayAttr(dilations),
             b.getDenseI64ArrayAttr(pads))
      .getResult();
}

} // namespace sparq::onnx
