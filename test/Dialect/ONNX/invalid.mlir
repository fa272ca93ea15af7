// Tests every sparq_onnx verifier message.
// RUN: sparq-opt %s --split-input-file --verify-diagnostics

func.func @empty_op_type(%x: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{'sparq_onnx.node' op requires a non-empty op_type}}
  %0 = sparq_onnx.node ""(%x) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<2xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @bad_opset(%x: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{'sparq_onnx.node' op requires a positive opset version, got 0}}
  %0 = sparq_onnx.node "Relu"(%x) {attrs = {}, domain = "", name = "", opset = 0 : i64} : (tensor<2xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @unnamed_subgraph(%c: tensor<i1>, %x: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{'sparq_onnx.node' op has 1 regions but 0 subgraph names}}
  %0 = sparq_onnx.node "If"(%c) ({
    sparq_onnx.yield %x : tensor<2xf32>
  }) {attrs = {}, domain = "", name = "", opset = 16 : i64} : (tensor<i1>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @yield_outside(%x: tensor<2xf32>) {
  // expected-error @+1 {{'sparq_onnx.yield' op expects parent op 'sparq_onnx.node'}}
  sparq_onnx.yield %x : tensor<2xf32>
}
