// Tests that a stock mlir-opt (not sparq-opt) loads sparq as a plugin: it parses and prints the
// sparq dialects and runs sparq passes and named pipelines through --pass-pipeline.
// The plugin is instrumented in a sanitized build, and a stock mlir-opt cannot load it.
// UNSUPPORTED: sanitized
// RUN: mlir-opt --load-dialect-plugin=%sparq_plugin --load-pass-plugin=%sparq_plugin %s | FileCheck %s --check-prefix=ROUNDTRIP
// RUN: mlir-opt --load-dialect-plugin=%sparq_plugin --load-pass-plugin=%sparq_plugin %s --pass-pipeline='builtin.module(sparq-convert-compressed-to-linalg)' | FileCheck %s --check-prefix=LOWER
// RUN: mlir-opt --load-dialect-plugin=%sparq_plugin --load-pass-plugin=%sparq_plugin %s --pass-pipeline='builtin.module(sparq-contract-pipeline)' | FileCheck %s --check-prefix=PIPELINE

// ROUNDTRIP: sparq_onnx.node "Relu"
// ROUNDTRIP: sparq_weight.linear %{{.*}} formats [#sparq_quant.scheme<bits = 4, signed, symmetric, group = 64>]
// LOWER-NOT: sparq_weight
// LOWER-NOT: sparq_quant
// LOWER: iterator_types = ["parallel", "parallel", "reduction"]
// PIPELINE-NOT: sparq_onnx
// PIPELINE: arith.maximumf
func.func @main_graph(%x: tensor<8x128xf32>, %p: tensor<32x64xi8>, %s: tensor<32x2xf32>) -> tensor<8x32xf32> attributes {sparq.entry} {
  %r = sparq_onnx.node "Relu"(%x) {attrs = {}, domain = "", name = "", opset = 14 : i64} : (tensor<8x128xf32>) -> tensor<8x128xf32>
  %y = sparq_weight.linear %r [%p, %s] formats [#sparq_quant.scheme<bits = 4, signed, symmetric, group = 64>] : (tensor<8x128xf32>, tensor<32x64xi8>, tensor<32x2xf32>) -> tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}
