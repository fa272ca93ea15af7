//===- passes/ONNXToLinalg/ComMicrosoftDomain.cpp - onnxruntime contrib operators -===//
//
// Operators of onnxruntime's `com.microsoft` domain. MatMulNBits (a MatMul whose weight is
// block-quantized to 2-8 bits) becomes `sparq_weight.linear` with a `#sparq_quant.scheme` whose
// packed constants are rebuilt from the node's initializers at compile time: the codes are copied
// byte for byte (both layouts are a little-endian bit stream along K), scales and zero points
// move into the scheme's [N, ceil(K/G)] tensors, and the weight is never expanded to floats. The
// code generator then runs the layer on the same quantized-weight kernels as a weight sparq
// compressed itself (docs/compression.md, "Pre-quantized onnxruntime models").
//
//===----------------------------------------------------------------------===//
#include "passes/ONNXToLinalg/ONNXToLinalg.h"

#include "dialects/Common/ConstantData.h"
#include "dialects/Quant/QuantDialect.h"
#include "dialects/Weight/WeightDialect.h"
#include "sparq/Formats/PackedFormats.h"

#include "mlir/IR/DialectResourceBlobManager.h"

#include <cmath>
#include <cstring>
#include <sstream>

using namespace mlir;
namespace fmt = sparq::formats;

namespace sparq::onnx {
namespace {

/// The domain of onnxruntime's contrib operators.
constexpr llvm::StringLiteral kMicrosoftDomain = "com.microsoft";

/// `t` as MLIR prints it, for messages.
std::string str(Type t) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << t;
  return s;
}

/// The raw little-endian bytes of a constant input, without converting elements (a packed
/// weight of 8 MiB stays 8 MiB). Reads the converted operand, else the original one.
std::optional<std::vector<char>> constantBytes(const NodeContext &c, unsigned i) {
  if (auto bytes = constantBytesOf(c.input(i)))
    return bytes;
  return constantBytesOf(c.op.getInputs()[i]);
}

/// The zero points of a MatMulNBits node as values per [n, block], or nullopt when the node
/// gives none (the default 2^(bits-1) applies). Fails with a diagnostic.
FailureOr<std::optional<std::vector<int64_t>>> readZeroPoints(NodeContext &c, int64_t n,
                                                              int64_t blocks, unsigned bits) {
  if (!c.hasInput(3))
    return std::optional<std::vector<int64_t>>();
  RankedTensorType t = c.inputType(3);
  if (!t || !t.hasStaticShape())
    return c.fail("zero_points must have a static shape");
  std::vector<int64_t> zps(n * blocks);
  if (isa<IntegerType>(t.getElementType())) {
    // Packed like B: per row ceil(blocks * bits / 8) bytes, one bit stream.
    int64_t rowBytes = fmt::packedRowBytes(blocks, bits);
    bool shapeOk = t.getElementTypeBitWidth() == 8 && c.isUnsignedInput(3) &&
                   t.getNumElements() == n * rowBytes &&
                   (t.getRank() == 1 || (t.getRank() == 2 && t.getDimSize(0) == n));
    if (!shapeOk)
      return c.fail("packed zero_points must be uint8 of shape [" + Twine(n) + ", " +
                    Twine(rowBytes) + "] (or its " + Twine(n * rowBytes) +
                    " elements flattened), got " + str(c.op.getInputs()[3].getType()));
    auto bytes = constantBytes(c, 3);
    if (!bytes)
      return c.fail("zero_points must be a constant (an initializer)");
    for (int64_t r = 0; r < n; ++r)
      for (int64_t b = 0; b < blocks; ++b)
        zps[r * blocks + b] =
            fmt::codeAt(reinterpret_cast<const uint8_t *>(bytes->data()) + r * rowBytes, b, bits);
    return std::optional<std::vector<int64_t>>(std::move(zps));
  }
  if (!t.getElementType().isF32())
    return c.fail("zero_points must be uint8 (packed) or float32, got " +
                  str(t.getElementType()));
  if (t.getNumElements() != n * blocks ||
      !(t.getRank() == 1 || (t.getRank() == 2 && t.getDimSize(0) == n)))
    return c.fail("float zero_points must have shape [" + Twine(n) + ", " + Twine(blocks) +
                  "] or [" + Twine(n * blocks) + "], got " + str(t));
  auto values = getConstantFloats(c.input(3));
  if (failed(values))
    return c.fail("zero_points must be a constant (an initializer)");
  // sparq's asymmetric scheme stores integer zero points (docs/packed-formats.md); a fractional
  // one would change every dequantized value.
  for (int64_t i = 0; i < n * blocks; ++i) {
    double z = (*values)[i];
    if (z != std::floor(z) || z < 0 || z > 255) {
      std::ostringstream value;
      value << z;
      return c.fail("float zero point " + value.str() + " (row " + Twine(i / blocks) + ", block " +
                    Twine(i % blocks) +
                    ") is not an integer in [0, 255]; sparq stores integer zero points");
    }
    zps[i] = (int64_t)z;
  }
  return std::optional<std::vector<int64_t>>(std::move(zps));
}

/// MatMulNBits-1: Y = A · dequant(B)^T (+ bias), dequant(B)[n, k] = (code - zp) * scale per
/// block of `block_size` values along K.
LogicalResult lowerMatMulNBits(NodeContext &c) {
  MLIRContext *ctx = c.rewriter.getContext();
  int64_t k = c.intAttr("K", 0), n = c.intAttr("N", 0), bits = c.intAttr("bits", 4),
          block = c.intAttr("block_size", 0), accuracy = c.intAttr("accuracy_level", 0);
  if (k <= 0 || n <= 0)
    return c.fail("attributes K and N must be positive, got K = " + Twine(k) + ", N = " + Twine(n));
  if (bits < 2 || bits > 8)
    return c.fail("bits = " + Twine(bits) + " is not in [2, 8]");
  if (block < 16 || !llvm::isPowerOf2_64(block))
    return c.fail("block_size = " + Twine(block) + " must be a power of 2 >= 16");
  if (accuracy < 0 || accuracy > 4)
    return c.fail("accuracy_level = " + Twine(accuracy) + " is not in [0, 4]");
  if (c.numInputs() < 3 || c.numInputs() > 6)
    return c.fail("expects 3 to 6 inputs (A, B, scales, zero_points, g_idx, bias), got " +
                  Twine(c.numInputs()));
  if (c.intAttr("weight_prepacked", 0) != 0)
    return c.fail("B prepacked into a runtime-specific layout (weight_prepacked) is not "
                  "supported");

  // A [..., K] -> Y [..., N], float32 and static (the quantized-weight kernels need the sizes).
  RankedTensorType at = c.inputType(0), yt = c.rankedResultType(0);
  if (!at || !yt || !at.getElementType().isF32() || !yt.getElementType().isF32())
    return c.fail("A and Y must be float32 tensors (float16/bfloat16 models are not supported)");
  if (failed(requireStaticShape(c, at, "input A")) ||
      failed(requireStaticShape(c, yt, "the result")))
    return failure();
  if (at.getRank() < 1 || at.getDimSize(at.getRank() - 1) != k)
    return c.fail("the last dimension of A must be K = " + Twine(k) + ", A is " +
                  str(at));
  SmallVector<int64_t> yShape(at.getShape());
  yShape.back() = n;
  if (yt.getShape() != ArrayRef<int64_t>(yShape))
    return c.fail("the result must have shape " + joinInts(yShape) + " (A's with N), got " +
                  str(yt));

  // B [N, k_blocks, blob_size] uint8.
  const int64_t blocks = (k + block - 1) / block, blob = block * bits / 8;
  RankedTensorType bt = c.inputType(1);
  if (!bt || !c.isUnsignedInput(1) || bt.getElementTypeBitWidth() != 8 ||
      bt.getShape() != ArrayRef<int64_t>{n, blocks, blob})
    return c.fail("B must be uint8 of shape [" + Twine(n) + ", " + Twine(blocks) + ", " +
                  Twine(blob) + "] (N, ceil(K / block_size), block_size * bits / 8), got " +
                  str(c.op.getInputs()[1].getType()));
  auto bBytes = constantBytes(c, 1);
  if (!bBytes)
    return c.fail("B must be a constant (an initializer); a run-time weight cannot be "
                  "repacked at compile time");

  // scales [N, k_blocks] or [N * k_blocks].
  RankedTensorType st = c.inputType(2);
  if (!st || !st.getElementType().isF32() || !st.hasStaticShape() ||
      st.getNumElements() != n * blocks ||
      !(st.getRank() == 1 || (st.getRank() == 2 && st.getDimSize(0) == n)))
    return c.fail("scales must be float32 of shape [" + Twine(n) + ", " + Twine(blocks) + "] or [" +
                  Twine(n * blocks) + "], got " +
                  (st ? str(st) : std::string("an unranked or absent value")));
  auto scales = getConstantFloats(c.input(2));
  if (failed(scales))
    return c.fail("scales must be a constant (an initializer)");

  auto zps = readZeroPoints(c, n, blocks, bits);
  if (failed(zps))
    return failure();

  // g_idx: sparq's groups are consecutive runs along K, so only the trivial k / block_size.
  if (c.hasInput(4)) {
    auto gIdx = getConstantInts(c.input(4));
    if (failed(gIdx) || (int64_t)gIdx->size() != k)
      return c.fail("g_idx must be a constant int32 tensor of " + Twine(k) + " elements");
    for (int64_t i = 0; i < k; ++i)
      if ((*gIdx)[i] != i / block)
        return c.fail("g_idx[" + Twine(i) + "] = " + Twine((*gIdx)[i]) + " is not " +
                      Twine(i / block) + " (k / block_size): act-order (permuted) groups are " +
                      "not supported");
  }
  if (c.hasInput(5)) {
    RankedTensorType bias = c.inputType(5);
    if (!bias || !bias.getElementType().isF32() || bias.getShape() != ArrayRef<int64_t>{n})
      return c.fail("bias must be float32 of shape [" + Twine(n) + "]");
  }

  // Zero points all at the default 2^(bits-1) make the weight symmetric: signed codes
  // code - 2^(bits-1) (the code with its top bit flipped) and no zero-point tensor to store
  // or read.
  const int64_t mid = int64_t(1) << (bits - 1);
  bool symmetric = !*zps || llvm::all_of(**zps, [&](int64_t z) { return z == mid; });
  auto scheme = quant::SchemeAttr::get(ctx, bits, /*isSigned=*/symmetric, symmetric, block);

  // Codes: each block of B is `blob` whole bytes of the same little-endian bit stream sparq
  // uses, so a row of B is already sparq's row of ceil(K * bits / 8) bytes, followed by the
  // padding codes of a partial last block, which are dropped.
  const int64_t rowBytes = fmt::packedRowBytes(k, bits), srcRow = blocks * blob;
  std::vector<uint8_t> mask(rowBytes, 0); // bits kept in each byte, top bits flipped
  std::vector<uint8_t> flip(rowBytes, 0);
  for (int64_t i = 0; i < k * bits; ++i)
    mask[i / 8] |= uint8_t(1u << (i % 8));
  if (symmetric)
    for (int64_t i = 0; i < k; ++i) {
      int64_t top = i * bits + bits - 1;
      flip[top / 8] |= uint8_t(1u << (top % 8));
    }
  std::vector<char> codes(n * rowBytes);
  const auto *src = reinterpret_cast<const uint8_t *>(bBytes->data());
  for (int64_t r = 0; r < n; ++r)
    for (int64_t j = 0; j < rowBytes; ++j)
      codes[r * rowBytes + j] = char((src[r * srcRow + j] & mask[j]) ^ flip[j]);

  std::vector<float> scaleValues(scales->begin(), scales->end());
  std::vector<uint8_t> zpValues; // unsigned zero points, stored as i8 bit patterns
  if (!symmetric)
    for (int64_t z : **zps)
      zpValues.push_back(uint8_t(z));
  // Named after the node, located at B's initializer (messages about the layer name it).
  Location wLoc = c.loc;
  if (Operation *def = c.op.getInputs()[1].getDefiningOp())
    wLoc = def->getLoc();

  weight::LinearOp linear;
  Value y = emitPackedLinear(c, c.input(0), yt, scheme, n, k, codes, scaleValues, zpValues, wLoc,
                             c.op.getName(), &linear);
  // accuracy_level 4 allows int8 activations (quantized per block, as onnxruntime does).
  if (accuracy == 4)
    linear->setAttr(weight::kActBitsAttrName, c.rewriter.getI64IntegerAttr(8));
  if (c.hasInput(5))
    y = buildElementwise(c.rewriter, c.loc, {y, c.input(5)}, yt,
                         [](OpBuilder &b, Location l, ValueRange a) -> Value {
                           return arith::AddFOp::create(b, l, a[0], a[1]);
                         });
  return c.replace(y);
}

} // namespace

void registerComMicrosoftOps(OnnxHandlerTable &t) {
  t.add(kMicrosoftDomain, "MatMulNBits", 1, lowerMatMulNBits);
}

} // namespace sparq::onnx
