// Tests the diagnostics of the MatMul, MatMulInteger, Gemm, Conv and ConvTranspose conversions
// (and of the shared sliding-window attribute checks).
// RUN: sparq-opt %s --sparq-convert-onnx-to-linalg --split-input-file --verify-diagnostics

// Dynamic operands convert (one generic over batch, M, N, K); a result of the wrong rank does not.
func.func @dynamic_input(%a0: tensor<4x?xf32>, %a1: tensor<?x5xf32>) -> tensor<4x5x1xf32> {
  // expected-error @+1 {{'MatMul' node (domain ai.onnx, opset 13): the result has rank 3, the matmul gives rank 2}}
  %0 = sparq_onnx.node "MatMul"(%a0, %a1) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<4x?xf32>, tensor<?x5xf32>) -> tensor<4x5x1xf32>
  return %0 : tensor<4x5x1xf32>
}

// -----

// Scalar operand.
func.func @scalar_operand(%a0: tensor<f32>, %a1: tensor<4x5xf32>) -> tensor<5xf32> {
  // expected-error @+1 {{MatMul operands must have rank >= 1}}
  %0 = sparq_onnx.node "MatMul"(%a0, %a1) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<f32>, tensor<4x5xf32>) -> tensor<5xf32>
  return %0 : tensor<5xf32>
}

// -----

// Contraction mismatch.
func.func @contraction_mismatch(%a0: tensor<2x4xf32>, %a1: tensor<3x5xf32>) -> tensor<2x5xf32> {
  // expected-error @+1 {{the contraction sizes of A (4) and B (3) differ}}
  %0 = sparq_onnx.node "MatMul"(%a0, %a1) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<2x4xf32>, tensor<3x5xf32>) -> tensor<2x5xf32>
  return %0 : tensor<2x5xf32>
}

// -----

// Batch mismatch.
func.func @batch_mismatch(%a0: tensor<2x3x4xf32>, %a1: tensor<3x4x5xf32>) -> tensor<2x3x5xf32> {
  // expected-error @+1 {{the batch dimensions of A and B do not broadcast}}
  %0 = sparq_onnx.node "MatMul"(%a0, %a1) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<2x3x4xf32>, tensor<3x4x5xf32>) -> tensor<2x3x5xf32>
  return %0 : tensor<2x3x5xf32>
}

// -----

// Bad result.
func.func @bad_result(%a0: tensor<2x3xf32>, %a1: tensor<3x4xf32>) -> tensor<2x5xf32> {
  // expected-error @+1 {{the result type does not match the broadcast matmul shape}}
  %0 = sparq_onnx.node "MatMul"(%a0, %a1) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x5xf32>
  return %0 : tensor<2x5xf32>
}

// -----

// MatMulInteger result.
func.func @matmulinteger_result(%a0: tensor<3x4xui8>, %a1: tensor<4x5xui8>) -> tensor<3x5xi64> {
  // expected-error @+1 {{the result must be int32}}
  %0 = sparq_onnx.node "MatMulInteger"(%a0, %a1) {attrs = {}, domain = "", name = "", opset = 10 : i64} : (tensor<3x4xui8>, tensor<4x5xui8>) -> tensor<3x5xi64>
  return %0 : tensor<3x5xi64>
}

// -----

// MatMulInteger 2-D zero point.
func.func @matmulinteger_2_d_zero_point(%a0: tensor<3x4xui8>, %a1: tensor<4x5xui8>, %a2: tensor<3x4xui8>) -> tensor<3x5xi32> {
  // expected-error @+1 {{a 2-D zero point of input 0 is not supported (only scalar or 1-D)}}
  %0 = sparq_onnx.node "MatMulInteger"(%a0, %a1, %a2) {attrs = {}, domain = "", name = "", opset = 10 : i64} : (tensor<3x4xui8>, tensor<4x5xui8>, tensor<3x4xui8>) -> tensor<3x5xi32>
  return %0 : tensor<3x5xi32>
}

// -----

// MatMulInteger row zero point.
func.func @matmulinteger_row_zero_point(%a0: tensor<3x4xui8>, %a1: tensor<4x5xui8>, %a2: tensor<4xui8>) -> tensor<3x5xi32> {
  // expected-error @+1 {{the zero point of input A has 4 entries, expected one per row of A}}
  %0 = sparq_onnx.node "MatMulInteger"(%a0, %a1, %a2) {attrs = {}, domain = "", name = "", opset = 10 : i64} : (tensor<3x4xui8>, tensor<4x5xui8>, tensor<4xui8>) -> tensor<3x5xi32>
  return %0 : tensor<3x5xi32>
}

// -----

// MatMulInteger column zero point.
func.func @matmulinteger_column_zero_point(%a0: tensor<3x4xui8>, %a1: tensor<4x5xui8>, %a3: tensor<4xui8>) -> tensor<3x5xi32> {
  %n2 = sparq_onnx.none
  // expected-error @+1 {{the zero point of input B has 4 entries, expected one per column of B}}
  %0 = sparq_onnx.node "MatMulInteger"(%a0, %a1, %n2, %a3) {attrs = {}, domain = "", name = "", opset = 10 : i64} : (tensor<3x4xui8>, tensor<4x5xui8>, none, tensor<4xui8>) -> tensor<3x5xi32>
  return %0 : tensor<3x5xi32>
}

// -----

// Gemm rank.
func.func @gemm_rank(%a0: tensor<1x3x4xf32>, %a1: tensor<4x5xf32>) -> tensor<3x5xf32> {
  // expected-error @+1 {{A and B must be matrices, got ranks 3 and 2}}
  %0 = sparq_onnx.node "Gemm"(%a0, %a1) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<1x3x4xf32>, tensor<4x5xf32>) -> tensor<3x5xf32>
  return %0 : tensor<3x5xf32>
}

// -----

// Gemm result.
func.func @gemm_result(%a0: tensor<3x4xf32>, %a1: tensor<4x5xf32>) -> tensor<5x3xf32> {
  // expected-error @+1 {{the result type does not match the Gemm shape}}
  %0 = sparq_onnx.node "Gemm"(%a0, %a1) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<3x4xf32>, tensor<4x5xf32>) -> tensor<5x3xf32>
  return %0 : tensor<5x3xf32>
}

// -----

// Gemm integer alpha.
func.func @gemm_integer_alpha(%a0: tensor<3x4xi32>, %a1: tensor<4x5xi32>) -> tensor<3x5xi32> {
  // expected-error @+1 {{attribute 'alpha' = 0.500000 is not supported for an integer Gemm}}
  %0 = sparq_onnx.node "Gemm"(%a0, %a1) {attrs = {alpha = 5.000000e-01 : f32}, domain = "", name = "", opset = 13 : i64} : (tensor<3x4xi32>, tensor<4x5xi32>) -> tensor<3x5xi32>
  return %0 : tensor<3x5xi32>
}

// -----

// Gemm integer beta.
func.func @gemm_integer_beta(%a0: tensor<3x4xi32>, %a1: tensor<4x5xi32>, %a2: tensor<3x5xi32>) -> tensor<3x5xi32> {
  // expected-error @+1 {{attribute 'beta' = 1.500000 is not supported for an integer Gemm}}
  %0 = sparq_onnx.node "Gemm"(%a0, %a1, %a2) {attrs = {beta = 1.500000e+00 : f32}, domain = "", name = "", opset = 13 : i64} : (tensor<3x4xi32>, tensor<4x5xi32>, tensor<3x5xi32>) -> tensor<3x5xi32>
  return %0 : tensor<3x5xi32>
}

// -----

// Gemm C.
func.func @gemm_c(%a0: tensor<3x4xf32>, %a1: tensor<4x5xf32>, %a2: tensor<3xf32>) -> tensor<3x5xf32> {
  // expected-error @+1 {{input C does not broadcast to the result shape}}
  %0 = sparq_onnx.node "Gemm"(%a0, %a1, %a2) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<3x4xf32>, tensor<4x5xf32>, tensor<3xf32>) -> tensor<3x5xf32>
  return %0 : tensor<3x5xf32>
}

// -----

// Integer Conv.
func.func @integer_conv(%a0: tensor<1x3x5x5xi32>, %a1: tensor<4x3x3x3xi32>) -> tensor<1x4x3x3xi32> {
  // expected-error @+1 {{only floating-point element types are supported}}
  %0 = sparq_onnx.node "Conv"(%a0, %a1) {attrs = {}, domain = "", name = "", opset = 11 : i64} : (tensor<1x3x5x5xi32>, tensor<4x3x3x3xi32>) -> tensor<1x4x3x3xi32>
  return %0 : tensor<1x4x3x3xi32>
}

// -----

// 4-D Conv.
func.func @conv_4d(%a0: tensor<1x3x5x5x5x5xf32>, %a1: tensor<4x3x3x3x3x3xf32>) -> tensor<1x4x3x3x3x3xf32> {
  // expected-error @+1 {{only 1-D, 2-D and 3-D convolutions are supported, got 4 spatial dimensions}}
  %0 = sparq_onnx.node "Conv"(%a0, %a1) {attrs = {}, domain = "", name = "", opset = 11 : i64} : (tensor<1x3x5x5x5x5xf32>, tensor<4x3x3x3x3x3xf32>) -> tensor<1x4x3x3x3x3xf32>
  return %0 : tensor<1x4x3x3x3x3xf32>
}

// -----

// Weight rank.
func.func @weight_rank(%a0: tensor<1x3x5x5xf32>, %a1: tensor<4x3x3xf32>) -> tensor<1x4x3x3xf32> {
  // expected-error @+1 {{the weight has rank 3, expected 4}}
  %0 = sparq_onnx.node "Conv"(%a0, %a1) {attrs = {}, domain = "", name = "", opset = 11 : i64} : (tensor<1x3x5x5xf32>, tensor<4x3x3xf32>) -> tensor<1x4x3x3xf32>
  return %0 : tensor<1x4x3x3xf32>
}

// -----

// Kernel_shape.
func.func @kernel_shape(%a0: tensor<1x3x5x5xf32>, %a1: tensor<4x3x3x3xf32>) -> tensor<1x4x3x3xf32> {
  // expected-error @+1 {{attribute 'kernel_shape' does not match the weight's spatial dimensions}}
  %0 = sparq_onnx.node "Conv"(%a0, %a1) {attrs = {kernel_shape = array<i64: 2, 2>}, domain = "", name = "", opset = 11 : i64} : (tensor<1x3x5x5xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x3x3xf32>
  return %0 : tensor<1x4x3x3xf32>
}

// -----

// Group 0.
func.func @group_0(%a0: tensor<1x3x5x5xf32>, %a1: tensor<4x3x3x3xf32>) -> tensor<1x4x3x3xf32> {
  // expected-error @+1 {{attribute 'group' = 0 must be positive}}
  %0 = sparq_onnx.node "Conv"(%a0, %a1) {attrs = {group = 0 : i64}, domain = "", name = "", opset = 11 : i64} : (tensor<1x3x5x5xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x3x3xf32>
  return %0 : tensor<1x4x3x3xf32>
}

// -----

// Bias shape.
func.func @bias_shape(%a0: tensor<1x3x5x5xf32>, %a1: tensor<4x3x3x3xf32>, %a2: tensor<3xf32>) -> tensor<1x4x3x3xf32> {
  // expected-error @+1 {{the bias must be 1-D with one entry per output channel}}
  %0 = sparq_onnx.node "Conv"(%a0, %a1, %a2) {attrs = {}, domain = "", name = "", opset = 11 : i64} : (tensor<1x3x5x5xf32>, tensor<4x3x3x3xf32>, tensor<3xf32>) -> tensor<1x4x3x3xf32>
  return %0 : tensor<1x4x3x3xf32>
}

// -----

// Group divides.
func.func @group_divides(%a0: tensor<1x4x5x5xf32>, %a1: tensor<6x2x3x3xf32>) -> tensor<1x6x3x3xf32> {
  // expected-error @+1 {{attribute 'group' = 3 does not divide 4 input channels (weight has 2 per group) and 6 output channels}}
  %0 = sparq_onnx.node "Conv"(%a0, %a1) {attrs = {group = 3 : i64}, domain = "", name = "", opset = 11 : i64} : (tensor<1x4x5x5xf32>, tensor<6x2x3x3xf32>) -> tensor<1x6x3x3xf32>
  return %0 : tensor<1x6x3x3xf32>
}

// -----

// Strides count.
func.func @strides_count(%a0: tensor<1x3x5x5xf32>, %a1: tensor<4x3x3x3xf32>) -> tensor<1x4x3x3xf32> {
  // expected-error @+1 {{attribute 'strides' has 1 entries, expected 2 for 2 spatial dimensions}}
  %0 = sparq_onnx.node "Conv"(%a0, %a1) {attrs = {strides = array<i64: 1>}, domain = "", name = "", opset = 11 : i64} : (tensor<1x3x5x5xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x3x3xf32>
  return %0 : tensor<1x4x3x3xf32>
}

// -----

// Negative pads.
func.func @negative_pads(%a0: tensor<1x3x5x5xf32>, %a1: tensor<4x3x3x3xf32>) -> tensor<1x4x3x3xf32> {
  // expected-error @+1 {{attribute 'pads' = [-1, 0, 0, 0] has entries below 0}}
  %0 = sparq_onnx.node "Conv"(%a0, %a1) {attrs = {pads = array<i64: -1, 0, 0, 0>}, domain = "", name = "", opset = 11 : i64} : (tensor<1x3x5x5xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x3x3xf32>
  return %0 : tensor<1x4x3x3xf32>
}

// -----

// Auto_pad.
func.func @auto_pad(%a0: tensor<1x3x5x5xf32>, %a1: tensor<4x3x3x3xf32>) -> tensor<1x4x3x3xf32> {
  // expected-error @+1 {{attribute 'auto_pad' = 'BOGUS' is not supported}}
  %0 = sparq_onnx.node "Conv"(%a0, %a1) {attrs = {auto_pad = "BOGUS"}, domain = "", name = "", opset = 11 : i64} : (tensor<1x3x5x5xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x3x3xf32>
  return %0 : tensor<1x4x3x3xf32>
}

// -----

// Window too large.
func.func @window_too_large(%a0: tensor<1x3x3x3xf32>, %a1: tensor<4x3x3x3xf32>) -> tensor<1x4x1x1xf32> {
  // expected-error @+1 {{the window extent 5 along spatial dimension 0 exceeds the padded input size 3}}
  %0 = sparq_onnx.node "Conv"(%a0, %a1) {attrs = {dilations = array<i64: 2, 1>}, domain = "", name = "", opset = 11 : i64} : (tensor<1x3x3x3xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x1x1xf32>
  return %0 : tensor<1x4x1x1xf32>
}

// -----

// Result size.
func.func @result_size(%a0: tensor<1x3x5x5xf32>, %a1: tensor<4x3x3x3xf32>) -> tensor<1x4x4x3xf32> {
  // expected-error @+1 {{the result size 4 along spatial dimension 0 does not match the window (expected 3)}}
  %0 = sparq_onnx.node "Conv"(%a0, %a1) {attrs = {}, domain = "", name = "", opset = 11 : i64} : (tensor<1x3x5x5xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x4x3xf32>
  return %0 : tensor<1x4x4x3xf32>
}

// -----

// ConvTranspose group.
func.func @convtranspose_group(%a0: tensor<1x4x3x3xf32>, %a1: tensor<4x3x3x3xf32>) -> tensor<1x4x5x5xf32> {
  // expected-error @+1 {{attribute 'group' = 2 does not match 4 input channels, a weight of shape [4, 3, ...] and 4 output channels}}
  %0 = sparq_onnx.node "ConvTranspose"(%a0, %a1) {attrs = {group = 2 : i64}, domain = "", name = "", opset = 11 : i64} : (tensor<1x4x3x3xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x5x5xf32>
  return %0 : tensor<1x4x5x5xf32>
}

// -----

// ConvTranspose output_padding.
func.func @convtranspose_output_padding(%a0: tensor<1x4x3x3xf32>, %a1: tensor<4x3x3x3xf32>) -> tensor<1x3x5x5xf32> {
  // expected-error @+1 {{attribute 'output_padding' has 1 entries, expected 2}}
  %0 = sparq_onnx.node "ConvTranspose"(%a0, %a1) {attrs = {output_padding = array<i64: 1>}, domain = "", name = "", opset = 11 : i64} : (tensor<1x4x3x3xf32>, tensor<4x3x3x3xf32>) -> tensor<1x3x5x5xf32>
  return %0 : tensor<1x3x5x5xf32>
}

// -----

// ConvTranspose strides.
func.func @convtranspose_strides(%a0: tensor<1x4x3x3xf32>, %a1: tensor<4x3x3x3xf32>) -> tensor<1x3x5x5xf32> {
  // expected-error @+1 {{attributes 'strides' and 'dilations' must be positive}}
  %0 = sparq_onnx.node "ConvTranspose"(%a0, %a1) {attrs = {strides = array<i64: 0, 1>}, domain = "", name = "", opset = 11 : i64} : (tensor<1x4x3x3xf32>, tensor<4x3x3x3xf32>) -> tensor<1x3x5x5xf32>
  return %0 : tensor<1x3x5x5xf32>
}

// -----

// ConvTranspose auto_pad.
func.func @convtranspose_auto_pad(%a0: tensor<1x4x3x3xf32>, %a1: tensor<4x3x3x3xf32>) -> tensor<1x3x5x5xf32> {
  // expected-error @+1 {{attribute 'auto_pad' = 'BOGUS' is not supported}}
  %0 = sparq_onnx.node "ConvTranspose"(%a0, %a1) {attrs = {auto_pad = "BOGUS"}, domain = "", name = "", opset = 11 : i64} : (tensor<1x4x3x3xf32>, tensor<4x3x3x3xf32>) -> tensor<1x3x5x5xf32>
  return %0 : tensor<1x3x5x5xf32>
}

// -----

// ConvTranspose result.
func.func @convtranspose_result(%a0: tensor<1x4x3x3xf32>, %a1: tensor<4x3x3x3xf32>) -> tensor<1x3x6x5xf32> {
  // expected-error @+1 {{the result size 6 along spatial dimension 0 does not match the attributes (expected 5)}}
  %0 = sparq_onnx.node "ConvTranspose"(%a0, %a1) {attrs = {}, domain = "", name = "", opset = 11 : i64} : (tensor<1x4x3x3xf32>, tensor<4x3x3x3xf32>) -> tensor<1x3x6x5xf32>
  return %0 : tensor<1x3x6x5xf32>
}
