// Tests that sparq-verify-contract accepts contract IR and names each violation.
// RUN: sparq-opt %s --split-input-file --sparq-verify-contract --verify-diagnostics | FileCheck %s

// CHECK-LABEL: func.func @main_graph
func.func @main_graph(%x: tensor<4xf32>) -> tensor<4xf32> attributes {sparq.entry} {
  return %x : tensor<4xf32>
}

// -----

func.func @main_graph(%x: tensor<4xf32>) -> tensor<4xf32> attributes {sparq.entry} {
  // expected-error @+1 {{model contract violated: 'sparq_onnx.node' remains after conversion to upstream dialects}}
  %0 = sparq_onnx.node "Relu"(%x) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @main_graph(%x: tensor<4xf32>) -> tensor<4xui8> attributes {sparq.entry} {
  // expected-error @+1 {{model contract violated: result type 'tensor<4xui8>' is not signless}}
  %0 = arith.constant dense<1> : tensor<4xui8>
  return %0 : tensor<4xui8>
}

// -----

// expected-error @+1 {{model contract violated: expected exactly one function with the 'sparq.entry' attribute, found 0}}
module {
  func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
    return %x : tensor<4xf32>
  }
}
