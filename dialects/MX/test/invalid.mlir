// Tests that packed operands must match what MXFP4 and NVFP4 store.
// RUN: sparq-opt %s -split-input-file -verify-diagnostics

// MXFP4 has one scale per 32 values: 4 for K = 128.
func.func @mx_scales(%x: tensor<8x128xf32>, %c: tensor<32x64xi8>, %s: tensor<32x8xi8>) -> tensor<8x32xf32> {
  // expected-error @+1 {{packed operand #1 (scales of MXFP4) must be 'tensor<32x4xi8>' for a [32, 128] weight, got 'tensor<32x8xi8>'}}
  %y = sparq_weight.linear %x [%c, %s] formats [#sparq_mx.mxfp4] : (tensor<8x128xf32>, tensor<32x64xi8>, tensor<32x8xi8>) -> tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}

// -----

func.func @nv_tensor_scale(%x: tensor<8x128xf32>, %c: tensor<32x64xi8>, %s: tensor<32x8xi8>) -> tensor<8x32xf32> {
  // expected-error @+1 {{formats NVFP4 need 3 packed operands for a [32, 128] weight, got 2}}
  %y = sparq_weight.linear %x [%c, %s] formats [#sparq_mx.nvfp4] : (tensor<8x128xf32>, tensor<32x64xi8>, tensor<32x8xi8>) -> tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}

// -----

func.func @order(%x: tensor<8x128xf32>, %c: tensor<32x64xi8>, %s: tensor<32x4xi8>) -> tensor<8x32xf32> {
  // expected-error @+1 {{MXFP4 stores the values itself, so it must be the last format of the list (got 'MXFP4+2:4')}}
  %y = sparq_weight.linear %x [%c, %s] formats [#sparq_mx.mxfp4, #sparq_nm.pattern<2:4>] : (tensor<8x128xf32>, tensor<32x64xi8>, tensor<32x4xi8>) -> tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}
