//===- lib/Import/ONNX/ContribSchemas.cpp - onnxruntime contrib operator schemas ---===//
//
// The schemas are as permissive as onnxruntime's on types and attributes: the conversion
// (passes/ONNXToLinalg/ComMicrosoftDomain.cpp) reports the forms sparq does not run with a
// message naming the node, so the schema only has to give the result its type.
//
//===----------------------------------------------------------------------===//
#include "lib/Import/ONNX/ContribSchemas.h"

#include <onnx/defs/schema.h>
#include <onnx/defs/shape_inference.h>

#include <mutex>

namespace sparq {
namespace {

constexpr const char *kMicrosoftDomain = "com.microsoft";

/// MatMulNBits-1: Y[..., N] = A[..., K] · dequant(B)^T (+ bias).
::onnx::OpSchema matMulNBitsSchema() {
  using ::onnx::AttributeProto;
  using ::onnx::OpSchema;
  OpSchema s;
  s.SetName("MatMulNBits")
      .SetDomain(kMicrosoftDomain)
      .SinceVersion(1)
      .SetDoc("MatMul with a weight block-quantized to 2-8 bits along K (onnxruntime contrib).")
      .Attr("K", "input feature dimension", AttributeProto::INT)
      .Attr("N", "output feature dimension", AttributeProto::INT)
      .Attr("bits", "bits per weight code (2-8)", AttributeProto::INT, static_cast<int64_t>(4))
      .Attr("block_size", "codes per block along K (a power of 2, >= 16)", AttributeProto::INT)
      .Attr("accuracy_level", "minimum accuracy of A (0 unset ... 4 int8)", AttributeProto::INT,
            static_cast<int64_t>(0))
      .Attr("weight_prepacked", "B is in a runtime-specific layout", AttributeProto::INT,
            static_cast<int64_t>(0))
      .Input(0, "A", "activations [..., K]", "T1")
      .Input(1, "B", "packed codes [N, k_blocks, blob_size]", "T2")
      .Input(2, "scales", "per-block scales", "T1")
      .Input(3, "zero_points", "per-block zero points (packed uint8 or unpacked float)", "T3",
             OpSchema::Optional)
      .Input(4, "g_idx", "group of each k (deprecated)", "T4", OpSchema::Optional)
      .Input(5, "bias", "[N]", "T1", OpSchema::Optional)
      .Output(0, "Y", "[..., N]", "T1")
      .TypeConstraint("T1", {"tensor(float)", "tensor(float16)", "tensor(bfloat16)"},
                      "float activations, scales and result")
      .TypeConstraint("T2", {"tensor(uint8)", "tensor(int32)"}, "packed codes")
      .TypeConstraint("T3",
                      {"tensor(uint8)", "tensor(int32)", "tensor(float)", "tensor(float16)",
                       "tensor(bfloat16)"},
                      "zero points")
      .TypeConstraint("T4", {"tensor(int32)"}, "group indices")
      .TypeAndShapeInferenceFunction([](::onnx::InferenceContext &ctx) {
        ::onnx::propagateElemTypeFromInputToOutput(ctx, 0, 0);
        if (!::onnx::hasInputShape(ctx, 0))
          return;
        const auto *n = ctx.getAttribute("N");
        const auto &a = ::onnx::getInputShape(ctx, 0);
        if (!n || a.dim_size() == 0)
          return;
        ::onnx::TensorShapeProto y = a;
        y.mutable_dim(y.dim_size() - 1)->clear_dim_param();
        y.mutable_dim(y.dim_size() - 1)->set_dim_value(n->i());
        ::onnx::updateOutputShape(ctx, 0, y);
      });
  return s;
}

} // namespace

void registerContribSchemas() {
  static std::once_flag once;
  std::call_once(once, [] {
    auto &ranges = ::onnx::OpSchemaRegistry::DomainToVersionRange::Instance();
    if (!ranges.Map().count(kMicrosoftDomain))
      ranges.AddDomainToVersion(kMicrosoftDomain, 1, 1);
    if (!::onnx::OpSchemaRegistry::Schema("MatMulNBits", 1, kMicrosoftDomain))
      ::onnx::RegisterSchema(matMulNBitsSchema());
  });
}

} // namespace sparq
