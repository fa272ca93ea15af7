// Tests the diagnostics of the pooling and normalization conversions (MaxPool, AveragePool,
// GlobalAveragePool, GlobalMaxPool, BatchNormalization, InstanceNormalization, LayerNormalization,
// LpNormalization).
// RUN: sparq-opt %s --sparq-convert-onnx-to-linalg --split-input-file --verify-diagnostics

// Dynamic pool input: MaxPool's Indices output needs static shapes.
func.func @dynamic_pool_input(%a0: tensor<1x1x?x4xf32>) -> (tensor<1x1x?x2xf32>, tensor<1x1x?x2xi64>) {
  // expected-error @+1 {{'MaxPool' node (domain ai.onnx, opset 12): the Indices output needs static shapes (pin input shapes with --input-shape)}}
  %0:2 = sparq_onnx.node "MaxPool"(%a0) {attrs = {kernel_shape = array<i64: 3, 3>}, domain = "", name = "", opset = 12 : i64} : (tensor<1x1x?x4xf32>) -> (tensor<1x1x?x2xf32>, tensor<1x1x?x2xi64>)
  return %0#0, %0#1 : tensor<1x1x?x2xf32>, tensor<1x1x?x2xi64>
}

// -----

// Complex MaxPool.
func.func @complex_MaxPool(%a0: tensor<1x1x4x4xcomplex<f32>>) -> tensor<1x1x2x2xcomplex<f32>> {
  // expected-error @+1 {{only floating-point and integer element types are supported}}
  %0 = sparq_onnx.node "MaxPool"(%a0) {attrs = {kernel_shape = array<i64: 3, 3>}, domain = "", name = "", opset = 12 : i64} : (tensor<1x1x4x4xcomplex<f32>>) -> tensor<1x1x2x2xcomplex<f32>>
  return %0 : tensor<1x1x2x2xcomplex<f32>>
}

// -----

// Integer AveragePool.
func.func @integer_AveragePool(%a0: tensor<1x1x4x4xi32>) -> tensor<1x1x2x2xi32> {
  // expected-error @+1 {{only floating-point element types are supported}}
  %0 = sparq_onnx.node "AveragePool"(%a0) {attrs = {kernel_shape = array<i64: 3, 3>}, domain = "", name = "", opset = 11 : i64} : (tensor<1x1x4x4xi32>) -> tensor<1x1x2x2xi32>
  return %0 : tensor<1x1x2x2xi32>
}

// -----

// Pool without spatial dims.
func.func @pool_without_spatial_dims(%a0: tensor<1x4xf32>) -> tensor<1x4xf32> {
  // expected-error @+1 {{only 1-D, 2-D and 3-D pooling is supported, got 0 spatial dimensions}}
  %0 = sparq_onnx.node "MaxPool"(%a0) {attrs = {kernel_shape = array<i64>}, domain = "", name = "", opset = 12 : i64} : (tensor<1x4xf32>) -> tensor<1x4xf32>
  return %0 : tensor<1x4xf32>
}

// -----

// Missing kernel_shape.
func.func @missing_kernel_shape(%a0: tensor<1x1x4x4xf32>) -> tensor<1x1x2x2xf32> {
  // expected-error @+1 {{attribute 'kernel_shape' is required}}
  %0 = sparq_onnx.node "MaxPool"(%a0) {attrs = {}, domain = "", name = "", opset = 12 : i64} : (tensor<1x1x4x4xf32>) -> tensor<1x1x2x2xf32>
  return %0 : tensor<1x1x2x2xf32>
}

// -----

// Ceil_mode.
func.func @ceil_mode(%a0: tensor<1x1x4x4xf32>) -> tensor<1x1x2x2xf32> {
  // expected-error @+1 {{attribute 'ceil_mode' = 2 is not supported}}
  %0 = sparq_onnx.node "MaxPool"(%a0) {attrs = {kernel_shape = array<i64: 3, 3>, ceil_mode = 2 : i64}, domain = "", name = "", opset = 12 : i64} : (tensor<1x1x4x4xf32>) -> tensor<1x1x2x2xf32>
  return %0 : tensor<1x1x2x2xf32>
}

// -----

// Storage_order.
func.func @storage_order(%a0: tensor<1x1x4x4xf32>) -> tensor<1x1x2x2xf32> {
  // expected-error @+1 {{attribute 'storage_order' = 2 is not supported}}
  %0 = sparq_onnx.node "MaxPool"(%a0) {attrs = {kernel_shape = array<i64: 3, 3>, storage_order = 2 : i64}, domain = "", name = "", opset = 12 : i64} : (tensor<1x1x4x4xf32>) -> tensor<1x1x2x2xf32>
  return %0 : tensor<1x1x2x2xf32>
}

// -----

// Indices type.
func.func @indices_type(%a0: tensor<1x1x4x4xf32>) -> (tensor<1x1x2x2xf32>, tensor<1x1x2x2xi32>) {
  // expected-error @+1 {{the Indices output must be an int64 tensor}}
  %0:2 = sparq_onnx.node "MaxPool"(%a0) {attrs = {kernel_shape = array<i64: 3, 3>}, domain = "", name = "", opset = 12 : i64} : (tensor<1x1x4x4xf32>) -> (tensor<1x1x2x2xf32>, tensor<1x1x2x2xi32>)
  return %0#0, %0#1 : tensor<1x1x2x2xf32>, tensor<1x1x2x2xi32>
}

// -----

// Ceil_mode result size.
func.func @ceil_mode_result_size(%a0: tensor<1x1x4x4xf32>) -> tensor<1x1x3x2xf32> {
  // expected-error @+1 {{the result size 3 along spatial dimension 0 does not match the window (expected 2)}}
  %0 = sparq_onnx.node "AveragePool"(%a0) {attrs = {kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>, ceil_mode = 1 : i64}, domain = "", name = "", opset = 11 : i64} : (tensor<1x1x4x4xf32>) -> tensor<1x1x3x2xf32>
  return %0 : tensor<1x1x3x2xf32>
}

// -----

// Integer GlobalMaxPool.
func.func @integer_GlobalMaxPool(%a0: tensor<1x2x4x4xi32>) -> tensor<1x2x1x1xi32> {
  // expected-error @+1 {{only floating-point element types are supported}}
  %0 = sparq_onnx.node "GlobalMaxPool"(%a0) {attrs = {}, domain = "", name = "", opset = 1 : i64} : (tensor<1x2x4x4xi32>) -> tensor<1x2x1x1xi32>
  return %0 : tensor<1x2x1x1xi32>
}

// -----

// GlobalAveragePool without spatial dims.
func.func @globalAveragePool_without_spatial_dims(%a0: tensor<1x2xf32>) -> tensor<1x2xf32> {
  // expected-error @+1 {{the input must have at least one spatial dimension}}
  %0 = sparq_onnx.node "GlobalAveragePool"(%a0) {attrs = {}, domain = "", name = "", opset = 1 : i64} : (tensor<1x2xf32>) -> tensor<1x2xf32>
  return %0 : tensor<1x2xf32>
}

// -----

// BatchNormalization is_test.
func.func @batchNormalization_is_test(%a0: tensor<2x3x4xf32>, %a1: tensor<3xf32>, %a2: tensor<3xf32>, %a3: tensor<3xf32>, %a4: tensor<3xf32>) -> tensor<2x3x4xf32> {
  // expected-error @+1 {{attribute 'is_test' = 0 (training) is not supported (inference only)}}
  %0 = sparq_onnx.node "BatchNormalization"(%a0, %a1, %a2, %a3, %a4) {attrs = {}, domain = "", name = "", opset = 6 : i64} : (tensor<2x3x4xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<2x3x4xf32>
  return %0 : tensor<2x3x4xf32>
}

// -----

// BatchNormalization statistics output.
func.func @batchNormalization_statistics_output(%a0: tensor<2x3x4xf32>, %a1: tensor<3xf32>, %a2: tensor<3xf32>, %a3: tensor<3xf32>, %a4: tensor<3xf32>) -> (tensor<2x3x4xf32>, tensor<3xf32>) {
  // expected-error @+1 {{output 1 (a training statistic) is not supported (inference only)}}
  %0:2 = sparq_onnx.node "BatchNormalization"(%a0, %a1, %a2, %a3, %a4) {attrs = {}, domain = "", name = "", opset = 9 : i64} : (tensor<2x3x4xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> (tensor<2x3x4xf32>, tensor<3xf32>)
  return %0#0, %0#1 : tensor<2x3x4xf32>, tensor<3xf32>
}

// -----

// Integer BatchNormalization.
func.func @integer_BatchNormalization(%a0: tensor<2x3x4xi32>, %a1: tensor<3xi32>, %a2: tensor<3xi32>, %a3: tensor<3xi32>, %a4: tensor<3xi32>) -> tensor<2x3x4xi32> {
  // expected-error @+1 {{only floating-point element types are supported}}
  %0 = sparq_onnx.node "BatchNormalization"(%a0, %a1, %a2, %a3, %a4) {attrs = {}, domain = "", name = "", opset = 15 : i64} : (tensor<2x3x4xi32>, tensor<3xi32>, tensor<3xi32>, tensor<3xi32>, tensor<3xi32>) -> tensor<2x3x4xi32>
  return %0 : tensor<2x3x4xi32>
}

// -----

// BatchNormalization rank 1.
func.func @batchNormalization_rank_1(%a0: tensor<3xf32>, %a1: tensor<3xf32>, %a2: tensor<3xf32>, %a3: tensor<3xf32>, %a4: tensor<3xf32>) -> tensor<3xf32> {
  // expected-error @+1 {{the input must have rank >= 2}}
  %0 = sparq_onnx.node "BatchNormalization"(%a0, %a1, %a2, %a3, %a4) {attrs = {}, domain = "", name = "", opset = 15 : i64} : (tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

// BatchNormalization parameter shape.
func.func @batchNormalization_parameter_shape(%a0: tensor<2x3x4xf32>, %a1: tensor<3xf32>, %a2: tensor<3xf32>, %a3: tensor<3xf32>, %a4: tensor<4xf32>) -> tensor<2x3x4xf32> {
  // expected-error @+1 {{input 4 (scale, B, mean, var) must have the shape [3]}}
  %0 = sparq_onnx.node "BatchNormalization"(%a0, %a1, %a2, %a3, %a4) {attrs = {}, domain = "", name = "", opset = 15 : i64} : (tensor<2x3x4xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<4xf32>) -> tensor<2x3x4xf32>
  return %0 : tensor<2x3x4xf32>
}

// -----

// InstanceNormalization parameter shape.
func.func @instanceNormalization_parameter_shape(%a0: tensor<2x3x4xf32>, %a1: tensor<3xf32>, %a2: tensor<2xf32>) -> tensor<2x3x4xf32> {
  // expected-error @+1 {{input 2 (scale, B) must have the shape [3]}}
  %0 = sparq_onnx.node "InstanceNormalization"(%a0, %a1, %a2) {attrs = {}, domain = "", name = "", opset = 6 : i64} : (tensor<2x3x4xf32>, tensor<3xf32>, tensor<2xf32>) -> tensor<2x3x4xf32>
  return %0 : tensor<2x3x4xf32>
}

// -----

// InstanceNormalization without spatial dims.
func.func @instanceNormalization_without_spatial_dims(%a0: tensor<2x3xf32>, %a1: tensor<3xf32>, %a2: tensor<3xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{the input must have at least one spatial dimension}}
  %0 = sparq_onnx.node "InstanceNormalization"(%a0, %a1, %a2) {attrs = {}, domain = "", name = "", opset = 6 : i64} : (tensor<2x3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// Integer InstanceNormalization.
func.func @integer_InstanceNormalization(%a0: tensor<2x3x4xi32>, %a1: tensor<3xi32>, %a2: tensor<3xi32>) -> tensor<2x3x4xi32> {
  // expected-error @+1 {{only floating-point element types are supported}}
  %0 = sparq_onnx.node "InstanceNormalization"(%a0, %a1, %a2) {attrs = {}, domain = "", name = "", opset = 6 : i64} : (tensor<2x3x4xi32>, tensor<3xi32>, tensor<3xi32>) -> tensor<2x3x4xi32>
  return %0 : tensor<2x3x4xi32>
}

// -----

// LayerNormalization axis.
func.func @layerNormalization_axis(%a0: tensor<2x3x4xf32>, %a1: tensor<4xf32>) -> tensor<2x3x4xf32> {
  // expected-error @+1 {{attribute 'axis' = 3 is out of range for rank 3}}
  %0 = sparq_onnx.node "LayerNormalization"(%a0, %a1) {attrs = {axis = 3 : i64}, domain = "", name = "", opset = 17 : i64} : (tensor<2x3x4xf32>, tensor<4xf32>) -> tensor<2x3x4xf32>
  return %0 : tensor<2x3x4xf32>
}

// -----

// LayerNormalization stash_type.
func.func @layerNormalization_stash_type(%a0: tensor<2x3x4xf32>, %a1: tensor<4xf32>) -> tensor<2x3x4xf32> {
  // expected-error @+1 {{attribute 'stash_type' = 7 is not supported}}
  %0 = sparq_onnx.node "LayerNormalization"(%a0, %a1) {attrs = {stash_type = 7 : i64}, domain = "", name = "", opset = 17 : i64} : (tensor<2x3x4xf32>, tensor<4xf32>) -> tensor<2x3x4xf32>
  return %0 : tensor<2x3x4xf32>
}

// -----

// LayerNormalization scale shape.
func.func @layerNormalization_scale_shape(%a0: tensor<2x3x4xf32>, %a1: tensor<3x4xf32>) -> tensor<2x3x4xf32> {
  // expected-error @+1 {{Scale does not broadcast to the normalized dimensions}}
  %0 = sparq_onnx.node "LayerNormalization"(%a0, %a1) {attrs = {}, domain = "", name = "", opset = 17 : i64} : (tensor<2x3x4xf32>, tensor<3x4xf32>) -> tensor<2x3x4xf32>
  return %0 : tensor<2x3x4xf32>
}

// -----

// LayerNormalization without scale.
func.func @layerNormalization_without_scale(%a0: tensor<2x3x4xf32>) -> tensor<2x3x4xf32> {
  %n1 = sparq_onnx.none
  // expected-error @+1 {{input Scale is required}}
  %0 = sparq_onnx.node "LayerNormalization"(%a0, %n1) {attrs = {}, domain = "", name = "", opset = 17 : i64} : (tensor<2x3x4xf32>, none) -> tensor<2x3x4xf32>
  return %0 : tensor<2x3x4xf32>
}

// -----

// LayerNormalization mean type.
func.func @layerNormalization_mean_type(%a0: tensor<2x3x4xf16>, %a1: tensor<4xf16>) -> (tensor<2x3x4xf16>, tensor<2x3x1xf16>) {
  // expected-error @+1 {{output 1 does not have the type of the statistics (the stash_type element type, reduced dims kept with size 1)}}
  %0:2 = sparq_onnx.node "LayerNormalization"(%a0, %a1) {attrs = {}, domain = "", name = "", opset = 17 : i64} : (tensor<2x3x4xf16>, tensor<4xf16>) -> (tensor<2x3x4xf16>, tensor<2x3x1xf16>)
  return %0#0, %0#1 : tensor<2x3x4xf16>, tensor<2x3x1xf16>
}

// -----

// Integer LayerNormalization.
func.func @integer_LayerNormalization(%a0: tensor<2x3x4xi32>, %a1: tensor<4xi32>) -> tensor<2x3x4xi32> {
  // expected-error @+1 {{only floating-point element types are supported}}
  %0 = sparq_onnx.node "LayerNormalization"(%a0, %a1) {attrs = {}, domain = "", name = "", opset = 17 : i64} : (tensor<2x3x4xi32>, tensor<4xi32>) -> tensor<2x3x4xi32>
  return %0 : tensor<2x3x4xi32>
}

// -----

// LpNormalization axis.
func.func @lpNormalization_axis(%a0: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{attribute 'axis' = -3 is out of range for rank 2}}
  %0 = sparq_onnx.node "LpNormalization"(%a0) {attrs = {axis = -3 : i64}, domain = "", name = "", opset = 1 : i64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// LpNormalization p.
func.func @lpNormalization_p(%a0: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{attribute 'p' = 3 is not supported (only 1 and 2)}}
  %0 = sparq_onnx.node "LpNormalization"(%a0) {attrs = {p = 3 : i64}, domain = "", name = "", opset = 1 : i64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// Integer LpNormalization.
func.func @integer_LpNormalization(%a0: tensor<2x3xi32>) -> tensor<2x3xi32> {
  // expected-error @+1 {{only floating-point element types are supported}}
  %0 = sparq_onnx.node "LpNormalization"(%a0) {attrs = {}, domain = "", name = "", opset = 1 : i64} : (tensor<2x3xi32>) -> tensor<2x3xi32>
  return %0 : tensor<2x3xi32>
}
