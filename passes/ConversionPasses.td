//===- passes/ConversionPasses.td - conversions and the contract -*- tablegen -*-===//
#ifndef SPARQ_CONVERSION_PASSES_TD
#define SPARQ_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertONNXToLinalgPass : Pass<"sparq-convert-onnx-to-linalg", "mlir::ModuleOp"> {
  let summary = "Convert sparq_onnx nodes to linalg, tensor, arith and math";
  let description = [{
    Rewrites every `sparq_onnx.node` of the default ONNX domain (and the onnxruntime
    `com.microsoft` operators it knows, e.g. MatMulNBits into `sparq_weight.linear` over packed
    constants) into upstream dialects on tensors
    (the "model contract" form, see docs/contract.md) and turns ONNX's signed/unsigned integer
    element types into signless ones, including the function signature and constants.

    Before:
    ```mlir
    %0 = sparq_onnx.node "Relu"(%x) {attrs = {}, domain = "", name = "r", opset = 14 : i64}
           : (tensor<4xf32>) -> tensor<4xf32>
    ```
    After:
    ```mlir
    %e = tensor.empty() : tensor<4xf32>
    %0 = linalg.generic {...} ins(%x : tensor<4xf32>) outs(%e : tensor<4xf32>) {
      ^bb0(%in: f32, %out: f32):
        %z = arith.constant 0.0 : f32
        %m = arith.maximumf %in, %z : f32
        linalg.yield %m : f32
    } -> tensor<4xf32>
    ```

    An op that has no conversion, or an attribute value that is not supported, is reported with the
    op type, node name, domain and opset, and the pass fails.
  }];
  let dependentDialects = [
    "mlir::arith::ArithDialect", "mlir::linalg::LinalgDialect", "mlir::math::MathDialect",
    "mlir::tensor::TensorDialect", "mlir::scf::SCFDialect", "mlir::func::FuncDialect",
    "mlir::bufferization::BufferizationDialect", "sparq::weight::SparqWeightDialect",
    "sparq::quant::SparqQuantDialect"
  ];
}

def ConvertCompressedToLinalgPass
    : Pass<"sparq-convert-compressed-to-linalg", "mlir::ModuleOp"> {
  let summary = "Lower compressed-weight ops to reference upstream IR";
  let description = [{
    The reference semantics of every compressed op, as plain linalg/tensor/arith IR on tensors:
    `sparq_weight.linear` / `conv2d` / `decode` decode their format list (each format's
    `buildDecode`), and the ops of every scheme dialect are lowered by the patterns the dialect
    contributes (`WeightSchemeDialectInterface`): packed weights are unpacked (bit extraction in
    `linalg.generic` bodies), dequantized, and fed to a dense contraction or convolution. It is
    the correctness baseline every faster lowering is checked against, and lets any compressed
    program run on the CPU.

    ```mlir
    %y = sparq_weight.linear %x [%p, %s] formats [#sparq_quant.scheme<...>]
        : (...) -> tensor<8x32xf32>
    // becomes
    %codes = linalg.generic {...} ins() outs(...)   // code (r, k) from bytes of %p
    %w = linalg.generic {...}                       // (code - zero_point) * scale
    %y = linalg.generic {... iterator_types = ["parallel", "parallel", "reduction"]}
           ins(%x, %w) outs(%zero)                  // y[m, n] = sum_k x[m, k] * w[n, k]
    ```
  }];
  let dependentDialects = ["mlir::arith::ArithDialect", "mlir::linalg::LinalgDialect",
                           "mlir::tensor::TensorDialect", "mlir::math::MathDialect"];
}

def VerifyContractPass : Pass<"sparq-verify-contract", "mlir::ModuleOp"> {
  let summary = "Check that a module is in sparq's model contract form";
  let description = [{
    Fails, naming the offending op, when the module still contains `sparq_onnx` ops, uses element
    types that are not signless, or has more or less than one public entry function carrying the
    `sparq.entry` attribute. See docs/contract.md for the contract.
  }];
}

#endif // SPARQ_CONVERSION_PASSES_TD
