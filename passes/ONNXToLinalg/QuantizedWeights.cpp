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

#include <cstring>

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

Value emitPackedLinear(NodeContext &c, Value x, RankedTensorType yt, quant::SchemeAttr scheme,
                       int64_t n, int64_t k, ArrayRef<char> codes, ArrayRef<float> scales,
                       ArrayRef<uint8_t> zeroPoints, Location wLoc, StringRef name,
                       weight::LinearOp *linearOut) {
  MLIRContext *ctx = c.rewriter.getContext();
  ArrayAttr formats = ArrayAttr::get(ctx, {scheme});
  Type f32 = c.rewriter.getF32Type();
  SmallVector<Type> types;
  SmallVector<std::string> names;
  weight::getPackedOperands(formats, n, k, f32, types, names);
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
  // The linear op takes [..., M, K]: a vector x is one row.
  bool vector = cast<RankedTensorType>(x.getType()).getRank() == 1;
  RankedTensorType linearType = yt;
  if (vector) {
    x = reshapeStatic(c.rewriter, c.loc, x, {1, k});
    linearType = RankedTensorType::get({1, n}, f32);
  }
  auto linear = weight::LinearOp::create(c.rewriter, c.loc, linearType, x, packed, formats);
  if (linearOut)
    *linearOut = linear;
  return vector ? reshapeStatic(c.rewriter, c.loc, linear.getResult(), {n}) : linear.getResult();
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

FailureOr<Value> emitDequantizedWeightMatMul(NodeContext &c) {
  // B = DequantizeLinear(W, scale[, zero_point]) with W a constant [K, N] integer tensor.
  auto dq = c.op.getInputs()[1].getDefiningOp<NodeOp>();
  if (!dq || dq.getOpType() != "DequantizeLinear" || !dq.getDomain().empty() ||
      dq.getInputs().size() < 2)
    return Value();
  Value w = dq.getInputs()[0], scaleV = dq.getInputs()[1];
  Value zpV = dq.getInputs().size() > 2 ? dq.getInputs()[2] : Value();
  auto wt = dyn_cast<RankedTensorType>(w.getType());
  auto et = wt ? dyn_cast<IntegerType>(wt.getElementType()) : IntegerType();
  if (!et || wt.getRank() != 2 || !wt.hasStaticShape() ||
      (et.getWidth() != 8 && et.getWidth() != 4))
    return Value();
  const int64_t k = wt.getDimSize(0), n = wt.getDimSize(1);
  const unsigned bits = et.getWidth();
  const bool signedCodes = !et.isUnsigned();
  // A [..., K] float32 and static (the quantized-weight kernels take static sizes); else the
  // DequantizeLinear runs as an elementwise op and the MatMul as any other.
  RankedTensorType at = c.inputType(0), yt = c.rankedResultType(0);
  if (!at || !yt || !at.hasStaticShape() || !yt.hasStaticShape() ||
      !at.getElementType().isF32() || !yt.getElementType().isF32() || at.getRank() < 1 ||
      at.getDimSize(at.getRank() - 1) != k)
    return Value();
  auto wBytes = constantBytesOf(w);
  auto scales = getConstantFloats(scaleV);
  if (!wBytes || failed(scales))
    return Value();
  SmallVector<int64_t> zps;
  if (isPresent(zpV)) {
    auto z = getConstantInts(zpV);
    if (failed(z) || z->size() != scales->size())
      return Value();
    zps = std::move(*z);
  } else {
    zps.assign(scales->size(), 0); // ONNX's default zero point
  }

  // Where each (k, n) finds its scale: one for the tensor, per column of W (axis 1), or per
  // block of `block_size` rows along K (axis 0, opset 21).
  auto scaleType = cast<RankedTensorType>(scaleV.getType());
  int64_t axis = nodeIntAttr(dq, "axis", 1);
  if (axis < 0)
    axis += 2;
  int64_t block = nodeIntAttr(dq, "block_size", 0);
  int64_t group; // sparq's: quant::SchemeAttr::kPerTensor / kPerChannel / a size along K
  if (scales->size() == 1) {
    group = quant::SchemeAttr::kPerTensor;
  } else if (block == 0 && axis == 1 && scaleType.getRank() == 1 && scales->size() == size_t(n)) {
    group = quant::SchemeAttr::kPerChannel;
  } else if (block > 0 && axis == 0 && scaleType.getRank() == 2 &&
             scaleType.getDimSize(0) == (k + block - 1) / block && scaleType.getDimSize(1) == n) {
    group = block;
  } else {
    return Value(); // per row of W (axis 0 without blocks): not sparq's layout
  }
  const int64_t groups = group > 0 ? (k + group - 1) / group : 1;
  // The index into ONNX's scale and zero point of output column `row` and group `g`.
  auto paramIndex = [&](int64_t row, int64_t g) -> size_t {
    if (group == quant::SchemeAttr::kPerTensor)
      return 0;
    return group == quant::SchemeAttr::kPerChannel ? row : g * n + row;
  };

  // The codes as sparq stores them: symmetric signed codes when every zero point is the middle
  // of the range (0 for int, 2^(bits-1) for uint), else unsigned codes with zero points.
  const int64_t mid = int64_t(1) << (bits - 1);
  const int64_t symmetricZero = signedCodes ? 0 : mid;
  bool symmetric = llvm::all_of(zps, [&](int64_t z) { return z == symmetricZero; });
  auto value = [&](int64_t kk, int64_t nn) -> int64_t {
    uint8_t byte = uint8_t((*wBytes)[kk * n + nn]);
    if (!signedCodes)
      return bits == 8 ? byte : (byte & 0xf);
    return bits == 8 ? int64_t(int8_t(byte)) : int64_t(int8_t(uint8_t(byte << 4)) >> 4);
  };
  auto scheme = quant::SchemeAttr::get(c.rewriter.getContext(), bits, /*isSigned=*/symmetric,
                                       symmetric, group);
  const int64_t rows = group == quant::SchemeAttr::kPerTensor ? 1 : n;
  const int64_t rowBytes = fmt::packedRowBytes(k, bits);
  std::vector<char> codes(n * rowBytes);
  std::vector<uint8_t> rowCodes(k);
  for (int64_t r = 0; r < n; ++r) {
    for (int64_t kk = 0; kk < k; ++kk) {
      int64_t v = value(kk, r);
      int64_t code = symmetric ? v - symmetricZero : (signedCodes ? v + mid : v);
      rowCodes[kk] = fmt::encode(int(code), bits);
    }
    fmt::packCodes(rowCodes.data(), k, bits, reinterpret_cast<uint8_t *>(codes.data()) + r * rowBytes);
  }
  std::vector<float> scaleValues(rows * groups);
  std::vector<uint8_t> zpValues(symmetric ? 0 : rows * groups);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t g = 0; g < groups; ++g) {
      scaleValues[r * groups + g] = float((*scales)[paramIndex(r, g)]);
      if (!symmetric) {
        int64_t z = zps[paramIndex(r, g)];
        zpValues[r * groups + g] = uint8_t(signedCodes ? z + mid : z);
      }
    }

  // Named after the DequantizeLinear node (or its weight), located at the weight.
  std::string name = dq.getName().str();
  Location wLoc = c.loc;
  if (Operation *def = w.getDefiningOp())
    wLoc = def->getLoc();
  if (name.empty())
    name = c.op.getName().str();
  return emitPackedLinear(c, c.input(0), yt, scheme, n, k, codes, scaleValues, zpValues, wLoc,
                          name);
}

} // namespace sparq::onnx
