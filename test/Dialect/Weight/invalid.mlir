// Tests the verifiers of the generic consumers: malformed format lists and packed operands that
// do not match what the formats store.
// RUN: sparq-opt %s -split-input-file -verify-diagnostics

func.func @not_a_format(%x: tensor<8x128xf32>, %c: tensor<32x64xi8>) -> tensor<8x32xf32> {
  // expected-error @+1 {{'1 : i64' is not a weight format}}
  %y = sparq_weight.linear %x [%c] formats [1] : (tensor<8x128xf32>, tensor<32x64xi8>) -> tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}

// -----

func.func @empty(%x: tensor<8x128xf32>, %c: tensor<32x64xi8>) -> tensor<8x32xf32> {
  // expected-error @+1 {{a weight format list needs at least one format}}
  %y = sparq_weight.linear %x [%c] formats [] : (tensor<8x128xf32>, tensor<32x64xi8>) -> tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}

// -----

func.func @encoding_not_last(%x: tensor<8x128xf32>, %c: tensor<32x64xi8>) -> tensor<8x32xf32> {
  // expected-error @+1 {{W4g32 stores the values itself, so it must be the last format of the list (got 'W4g32+2:4')}}
  %y = sparq_weight.linear %x [%c] formats [#sparq_quant.scheme<bits = 4, signed, symmetric, group = 32>, #sparq_nm.pattern<2:4>] : (tensor<8x128xf32>, tensor<32x64xi8>) -> tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}

// -----

func.func @count(%x: tensor<8x128xf32>, %i: tensor<32x16xi8>, %c: tensor<32x32xi8>) -> tensor<8x32xf32> {
  // expected-error @+1 {{formats 2:4+W4g32 need 3 packed operands for a [32, 128] weight, got 2}}
  %y = sparq_weight.linear %x [%i, %c] formats [#sparq_nm.pattern<2:4>, #sparq_quant.scheme<bits = 4, signed, symmetric, group = 32>] : (tensor<8x128xf32>, tensor<32x16xi8>, tensor<32x32xi8>) -> tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}

// -----

// The codes of 2:4 + 4 bits cover the 64 kept values of each row (32 bytes), not K (64 bytes).
func.func @codes(%x: tensor<8x128xf32>, %i: tensor<32x16xi8>, %c: tensor<32x64xi8>, %s: tensor<32x2xf32>) -> tensor<8x32xf32> {
  // expected-error @+1 {{packed operand #1 (codes of 2:4+W4g32) must be 'tensor<32x32xi8>' for a [32, 128] weight, got 'tensor<32x64xi8>'}}
  %y = sparq_weight.linear %x [%i, %c, %s] formats [#sparq_nm.pattern<2:4>, #sparq_quant.scheme<bits = 4, signed, symmetric, group = 32>] : (tensor<8x128xf32>, tensor<32x16xi8>, tensor<32x64xi8>, tensor<32x2xf32>) -> tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}

// -----

func.func @trailing_values(%x: tensor<8x128xf32>, %i: tensor<32x16xi8>, %v: tensor<32x32xf32>) -> tensor<8x32xf32> {
  // expected-error @+1 {{packed operand #1 (values of 2:4) must be 'tensor<32x64xf32>' for a [32, 128] weight, got 'tensor<32x32xf32>'}}
  %y = sparq_weight.linear %x [%i, %v] formats [#sparq_nm.pattern<2:4>] : (tensor<8x128xf32>, tensor<32x16xi8>, tensor<32x32xf32>) -> tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}

// -----

func.func @input_rank(%x: tensor<128xf32>, %c: tensor<32x64xi8>, %s: tensor<32x1xf32>) -> tensor<32xf32> {
  // expected-error @+1 {{needs input [..., M, K] and result [..., M, N] of the same rank >= 2}}
  %y = sparq_weight.linear %x [%c, %s] formats [#sparq_quant.scheme<bits = 4, signed, symmetric, per_channel>] : (tensor<128xf32>, tensor<32x64xi8>, tensor<32x1xf32>) -> tensor<32xf32>
  return %y : tensor<32xf32>
}

// -----

func.func @result_dim(%x: tensor<8x128xf32>, %c: tensor<32x64xi8>, %s: tensor<32x1xf32>) -> tensor<4x32xf32> {
  // expected-error @+1 {{result dimension 0 must match the input's (8), got 4}}
  %y = sparq_weight.linear %x [%c, %s] formats [#sparq_quant.scheme<bits = 4, signed, symmetric, per_channel>] : (tensor<8x128xf32>, tensor<32x64xi8>, tensor<32x1xf32>) -> tensor<4x32xf32>
  return %y : tensor<4x32xf32>
}

// -----

func.func @conv_bias(%x: tensor<1x16x8x8xf32>, %c: tensor<32x72xi8>, %s: tensor<32x1xf32>, %b: tensor<8xf32>) -> tensor<1x32x8x8xf32> {
  // expected-error @+1 {{bias must have shape [32]}}
  %y = sparq_weight.conv2d %x [%c, %s] bias %b formats [#sparq_quant.scheme<bits = 4, signed, symmetric, per_channel>] {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>} : (tensor<1x16x8x8xf32>, tensor<32x72xi8>, tensor<32x1xf32>, tensor<8xf32>) -> tensor<1x32x8x8xf32>
  return %y : tensor<1x32x8x8xf32>
}

// -----

// K of a convolution is C * KH * KW = 144: 72 bytes of 4-bit codes.
func.func @conv_k(%x: tensor<1x16x8x8xf32>, %c: tensor<32x64xi8>, %s: tensor<32x1xf32>) -> tensor<1x32x8x8xf32> {
  // expected-error @+1 {{packed operand #0 (codes of W4pc) must be 'tensor<32x72xi8>' for a [32, 144] weight, got 'tensor<32x64xi8>'}}
  %y = sparq_weight.conv2d %x [%c, %s] formats [#sparq_quant.scheme<bits = 4, signed, symmetric, per_channel>] {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>} : (tensor<1x16x8x8xf32>, tensor<32x64xi8>, tensor<32x1xf32>) -> tensor<1x32x8x8xf32>
  return %y : tensor<1x32x8x8xf32>
}

// -----

func.func @decode_rank(%c: tensor<32x64xi8>, %s: tensor<32x1xf32>) -> tensor<4096xf32> {
  // expected-error @+1 {{result must be a static [rows, K] weight}}
  %w = sparq_weight.decode [%c, %s] formats [#sparq_quant.scheme<bits = 4, signed, symmetric, per_channel>] : (tensor<32x64xi8>, tensor<32x1xf32>) -> tensor<4096xf32>
  return %w : tensor<4096xf32>
}

// -----

// Integer activations (the exact product of a MatMulInteger) give an f32 result.
func.func @int8_input_f16_result(%x: tensor<8x128xi8>, %c: tensor<32x128xi8>, %s: tensor<32x1xf16>) -> tensor<8x32xf16> {
  // expected-error @+1 {{with an 8-bit integer input needs an f32 result}}
  %y = sparq_weight.linear %x [%c, %s] formats [#sparq_quant.scheme<bits = 8, signed, symmetric, per_channel>] : (tensor<8x128xi8>, tensor<32x128xi8>, tensor<32x1xf16>) -> tensor<8x32xf16>
  return %y : tensor<8x32xf16>
}

// -----

// Other integer activations are not linear inputs.
func.func @int32_input(%x: tensor<8x128xi32>, %c: tensor<32x128xi8>, %s: tensor<32x1xf32>) -> tensor<8x32xf32> {
  // expected-error @+1 {{operand #0 must be ranked tensor of floating-point or 8-bit signless integer values}}
  %y = sparq_weight.linear %x [%c, %s] formats [#sparq_quant.scheme<bits = 8, signed, symmetric, per_channel>] : (tensor<8x128xi32>, tensor<32x128xi8>, tensor<32x1xf32>) -> tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}
