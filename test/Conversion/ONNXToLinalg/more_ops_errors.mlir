// Tests the diagnostics of the TopK, ConvInteger / QLinear*, ReverseSequence, MaxUnpool, LRN and
// Det conversions.
// RUN: sparq-opt %s --sparq-convert-onnx-to-linalg --split-input-file --verify-diagnostics

func.func @topk_k_mismatch(%x: tensor<3x4xf32>) -> (tensor<3x2xf32>, tensor<3x2xi64>) {
  %k = arith.constant dense<[3]> : tensor<1xi64>
  // expected-error @+1 {{k = 3 does not match the result's size 2 along axis 1}}
  %0:2 = sparq_onnx.node "TopK"(%x, %k) {attrs = {}, domain = "", name = "", opset = 11 : i64} : (tensor<3x4xf32>, tensor<1xi64>) -> (tensor<3x2xf32>, tensor<3x2xi64>)
  return %0#0, %0#1 : tensor<3x2xf32>, tensor<3x2xi64>
}

// -----

func.func @topk_dynamic(%x: tensor<?x4xf32>, %k: tensor<1xi64>) -> (tensor<?x2xf32>, tensor<?x2xi64>) {
  // expected-error @+1 {{the input must have a static shape}}
  %0:2 = sparq_onnx.node "TopK"(%x, %k) {attrs = {}, domain = "", name = "", opset = 11 : i64} : (tensor<?x4xf32>, tensor<1xi64>) -> (tensor<?x2xf32>, tensor<?x2xi64>)
  return %0#0, %0#1 : tensor<?x2xf32>, tensor<?x2xi64>
}

// -----

func.func @qlinearmatmul_2d_scale(%a: tensor<2x4xui8>, %as: tensor<2x2xf32>, %az: tensor<ui8>, %b: tensor<4x3xui8>, %bs: tensor<f32>, %bz: tensor<ui8>, %ys: tensor<f32>, %yz: tensor<ui8>) -> tensor<2x3xui8> {
  // expected-error @+1 {{a_scale has shape [2, 2], expected a single element or 2 elements}}
  %0 = sparq_onnx.node "QLinearMatMul"(%a, %as, %az, %b, %bs, %bz, %ys, %yz) {attrs = {}, domain = "", name = "", opset = 10 : i64} : (tensor<2x4xui8>, tensor<2x2xf32>, tensor<ui8>, tensor<4x3xui8>, tensor<f32>, tensor<ui8>, tensor<f32>, tensor<ui8>) -> tensor<2x3xui8>
  return %0 : tensor<2x3xui8>
}

// -----

func.func @convinteger_group(%x: tensor<1x3x5x5xui8>, %w: tensor<2x3x3x3xui8>) -> tensor<1x2x3x3xi32> {
  // expected-error @+1 {{attribute 'group' = 2 does not divide 3 input channels}}
  %0 = sparq_onnx.node "ConvInteger"(%x, %w) {attrs = {group = 2 : i64}, domain = "", name = "", opset = 10 : i64} : (tensor<1x3x5x5xui8>, tensor<2x3x3x3xui8>) -> tensor<1x2x3x3xi32>
  return %0 : tensor<1x2x3x3xi32>
}

// -----

func.func @reverse_sequence_axes(%x: tensor<4x3xf32>, %l: tensor<4xi64>) -> tensor<4x3xf32> {
  // expected-error @+1 {{attribute 'batch_axis' = 2 must be 0 or 1}}
  %0 = sparq_onnx.node "ReverseSequence"(%x, %l) {attrs = {batch_axis = 2 : i64, time_axis = 1 : i64}, domain = "", name = "", opset = 10 : i64} : (tensor<4x3xf32>, tensor<4xi64>) -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// -----

func.func @maxunpool_shape(%x: tensor<1x1x2x2xf32>, %i: tensor<1x1x2x2xi64>) -> tensor<1x1x5x5xf32> {
  // expected-error @+1 {{the result size 5 along spatial dimension 0 differs from the size 4 the attributes give}}
  %0 = sparq_onnx.node "MaxUnpool"(%x, %i) {attrs = {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>}, domain = "", name = "", opset = 11 : i64} : (tensor<1x1x2x2xf32>, tensor<1x1x2x2xi64>) -> tensor<1x1x5x5xf32>
  return %0 : tensor<1x1x5x5xf32>
}

// -----

func.func @lrn_size(%x: tensor<1x5x2x2xf32>) -> tensor<1x5x2x2xf32> {
  // expected-error @+1 {{attribute 'size' = 0 must be positive}}
  %0 = sparq_onnx.node "LRN"(%x) {attrs = {size = 0 : i64}, domain = "", name = "", opset = 13 : i64} : (tensor<1x5x2x2xf32>) -> tensor<1x5x2x2xf32>
  return %0 : tensor<1x5x2x2xf32>
}

// -----

func.func @det_not_square(%x: tensor<2x3xf32>) -> tensor<f32> {
  // expected-error @+1 {{the input must be a batch of square matrices, got shape [2, 3]}}
  %0 = sparq_onnx.node "Det"(%x) {attrs = {}, domain = "", name = "", opset = 11 : i64} : (tensor<2x3xf32>) -> tensor<f32>
  return %0 : tensor<f32>
}
