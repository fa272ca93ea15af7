// Tests that every sparq_nm op and the pattern attribute (also as a weight format, alone and
// followed by quantization) print and parse back unchanged.
// RUN: sparq-opt %s | sparq-opt | FileCheck %s

// CHECK-LABEL: func.func @ops
func.func @ops(%w: tensor<64x128xf32>, %x: tensor<2x8x128xf32>, %img: tensor<1x16x8x8xf32>,
               %cv: tensor<32x36xf32>, %ci: tensor<32x9xi8>, %codes: tensor<32x32xi8>,
               %qi: tensor<32x16xi8>, %qs: tensor<32x2xf32>, %x2: tensor<8x128xf32>)
    -> (tensor<64x128xf32>, tensor<2x8x64xf32>, tensor<1x32x8x8xf32>, tensor<8x32xf32>) {
  // CHECK: %[[P:.*]] = sparq_nm.prune %{{.*}} {pattern = #sparq_nm.pattern<2:4>} : tensor<64x128xf32>
  %p = sparq_nm.prune %w {pattern = #sparq_nm.pattern<2:4>} : tensor<64x128xf32>
  // CHECK: %[[V:.*]], %[[I:.*]] = sparq_nm.pack %[[P]] {pattern = #sparq_nm.pattern<2:4>} : tensor<64x128xf32> -> tensor<64x64xf32>, tensor<64x16xi8>
  %v, %i = sparq_nm.pack %p {pattern = #sparq_nm.pattern<2:4>} : tensor<64x128xf32> -> tensor<64x64xf32>, tensor<64x16xi8>
  // CHECK: sparq_nm.unpack %[[V]], %[[I]] {pattern = #sparq_nm.pattern<2:4>} : tensor<64x64xf32>, tensor<64x16xi8> -> tensor<64x128xf32>
  %u = sparq_nm.unpack %v, %i {pattern = #sparq_nm.pattern<2:4>} : tensor<64x64xf32>, tensor<64x16xi8> -> tensor<64x128xf32>
  // CHECK: sparq_weight.linear %{{.*}} [%[[I]], %[[V]]] formats [#sparq_nm.pattern<2:4>] : (tensor<2x8x128xf32>, tensor<64x16xi8>, tensor<64x64xf32>) -> tensor<2x8x64xf32>
  %y = sparq_weight.linear %x [%i, %v] formats [#sparq_nm.pattern<2:4>] : (tensor<2x8x128xf32>, tensor<64x16xi8>, tensor<64x64xf32>) -> tensor<2x8x64xf32>
  // 1:4 of K = 16*3*3 = 144: 36 kept values, 36 2-bit indices = 9 bytes per filter.
  // CHECK: sparq_weight.conv2d %{{.*}} formats [#sparq_nm.pattern<1:4>] {dilations = array<i64: 1, 1>, kernel = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>}
  %c = sparq_weight.conv2d %img [%ci, %cv] formats [#sparq_nm.pattern<1:4>] {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>} : (tensor<1x16x8x8xf32>, tensor<32x9xi8>, tensor<32x36xf32>) -> tensor<1x32x8x8xf32>
  // 2:4 + 4-bit: 64 kept values per row -> 32 code bytes, 2 scale groups of 32 kept values.
  // CHECK: sparq_weight.linear %{{.*}} formats [#sparq_nm.pattern<2:4>, #sparq_quant.scheme<bits = 4, signed, symmetric, group = 32>]
  %q = sparq_weight.linear %x2 [%qi, %codes, %qs] formats [#sparq_nm.pattern<2:4>, #sparq_quant.scheme<bits = 4, signed, symmetric, group = 32>] : (tensor<8x128xf32>, tensor<32x16xi8>, tensor<32x32xi8>, tensor<32x2xf32>) -> tensor<8x32xf32>
  return %u, %y, %c, %q : tensor<64x128xf32>, tensor<2x8x64xf32>, tensor<1x32x8x8xf32>, tensor<8x32xf32>
}

// CHECK-LABEL: func.func @patterns
func.func @patterns(%w: tensor<4x48xf32>) -> (tensor<4x48xf32>, tensor<4x48xf32>, tensor<4x48xf32>) {
  // CHECK: #sparq_nm.pattern<1:16>
  %a = sparq_nm.prune %w {pattern = #sparq_nm.pattern<1:16>} : tensor<4x48xf32>
  // CHECK: #sparq_nm.pattern<4:8>
  %b = sparq_nm.prune %w {pattern = #sparq_nm.pattern<4:8>} : tensor<4x48xf32>
  // CHECK: #sparq_nm.pattern<15:16>
  %c = sparq_nm.prune %w {pattern = #sparq_nm.pattern<15:16>} : tensor<4x48xf32>
  return %a, %b, %c : tensor<4x48xf32>, tensor<4x48xf32>, tensor<4x48xf32>
}

// CHECK-LABEL: func.func @quantized_conv
// 2:4 over K = 16*3*3 = 144: 72 kept values -> 36 bytes of 4-bit codes, 18 bytes of 2-bit indices.
// CHECK: sparq_weight.conv2d %{{.*}} [%{{.*}}, %{{.*}}, %{{.*}}] bias %{{.*}} formats [#sparq_nm.pattern<2:4>, #sparq_quant.scheme<bits = 4, signed, symmetric, per_channel>] {dilations = array<i64: 1, 1>, kernel = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>}
func.func @quantized_conv(%x: tensor<1x16x8x8xf32>, %c: tensor<32x36xi8>, %i: tensor<32x18xi8>, %s: tensor<32x1xf32>, %b: tensor<32xf32>) -> tensor<1x32x8x8xf32> {
  %y = sparq_weight.conv2d %x [%i, %c, %s] bias %b formats [#sparq_nm.pattern<2:4>, #sparq_quant.scheme<bits = 4, signed, symmetric, per_channel>] {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>} : (tensor<1x16x8x8xf32>, tensor<32x18xi8>, tensor<32x36xi8>, tensor<32x1xf32>, tensor<32xf32>) -> tensor<1x32x8x8xf32>
  return %y : tensor<1x32x8x8xf32>
}
