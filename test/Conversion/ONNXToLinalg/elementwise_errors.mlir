// Tests the diagnostics of the elementwise conversions and of unsupported operators.
// RUN: sparq-opt %s --sparq-convert-onnx-to-linalg --split-input-file --verify-diagnostics

func.func @int_sqrt(%x: tensor<4xi32>) -> tensor<4xi32> {
  // expected-error @+1 {{'Sqrt' node 's' (domain ai.onnx, opset 13): only floating-point element types are supported}}
  %0 = sparq_onnx.node "Sqrt"(%x) {attrs = {}, domain = "", name = "s", opset = 13 : i64} : (tensor<4xi32>) -> tensor<4xi32>
  return %0 : tensor<4xi32>
}

// -----

// Training mode with a constant nonzero ratio drops elements at random: refused when compiling
// (with a ratio or a flag known only at run time, the check runs there: runtime_checks.test).
func.func @dropout_training(%x: tensor<4xf32>) -> tensor<4xf32> {
  %rt = arith.constant dense<5.000000e-01> : tensor<f32>
  %t = arith.constant dense<true> : tensor<i1>
  // expected-error @+1 {{'Dropout' node (domain ai.onnx, opset 13): training mode with ratio 0.500000 drops elements at random; sparq computes Dropout only where it is the identity (inference mode, or ratio 0)}}
  %0 = sparq_onnx.node "Dropout"(%x, %rt, %t) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<4xf32>, tensor<f32>, tensor<i1>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @unknown(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{unsupported ONNX operator: 'Frobnicate' node 'f1' (domain ai.onnx, opset 13)}}
  %0 = sparq_onnx.node "Frobnicate"(%x) {attrs = {}, domain = "", name = "f1", opset = 13 : i64} : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @other_domain(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{unsupported ONNX operator: 'Relu' node (domain com.example, opset 1)}}
  %0 = sparq_onnx.node "Relu"(%x) {attrs = {}, domain = "com.example", name = "", opset = 1 : i64} : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @unranked(%x: tensor<4xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{'Relu' node (domain ai.onnx, opset 13): result type 'tensor<*xf32>' is not a ranked tensor}}
  %0 = sparq_onnx.node "Relu"(%x) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<4xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @trilu_before_14(%x: tensor<3x3xf32>) -> tensor<3x3xf32> {
  // expected-error @+1 {{unsupported ONNX operator: 'Trilu' node 't' (domain ai.onnx, opset 9): converted from opset 14 on}}
  %0 = sparq_onnx.node "Trilu"(%x) {attrs = {}, domain = "", name = "t", opset = 9 : i64} : (tensor<3x3xf32>) -> tensor<3x3xf32>
  return %0 : tensor<3x3xf32>
}
