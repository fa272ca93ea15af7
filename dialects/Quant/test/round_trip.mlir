// Tests that every sparq_quant op and scheme spelling prints and parses back unchanged, also as
// a weight format of the generic consumers.
// RUN: sparq-opt %s | sparq-opt | FileCheck %s

// CHECK-LABEL: func.func @ops
func.func @ops(%w: tensor<32x128xf32>, %s: tensor<32x2xf32>, %zs: tensor<32x1xi8>, %x: tensor<8x128xf32>,
               %img: tensor<1x16x8x8xf32>, %cw: tensor<32x72xi8>, %cs: tensor<32x1xf32>, %b: tensor<32xf32>)
    -> (tensor<32x128xf32>, tensor<8x32xf32>, tensor<1x32x8x8xf32>, tensor<32x128xi8>) {
  // CHECK: %[[Q:.*]] = sparq_quant.quantize %{{.*}}, %{{.*}} {scheme = #sparq_quant.scheme<bits = 4, signed, symmetric, group = 64>} : (tensor<32x128xf32>, tensor<32x2xf32>) -> tensor<32x128xi8>
  %q = sparq_quant.quantize %w, %s {scheme = #sparq_quant.scheme<bits = 4, signed, symmetric, group = 64>} : (tensor<32x128xf32>, tensor<32x2xf32>) -> tensor<32x128xi8>
  // CHECK: sparq_quant.dequantize %[[Q]], %{{.*}} {scheme = #sparq_quant.scheme<bits = 4, signed, symmetric, group = 64>}
  %d = sparq_quant.dequantize %q, %s {scheme = #sparq_quant.scheme<bits = 4, signed, symmetric, group = 64>} : (tensor<32x128xi8>, tensor<32x2xf32>) -> tensor<32x128xf32>
  // CHECK: %[[P:.*]] = sparq_quant.pack %[[Q]] {scheme = #sparq_quant.scheme<bits = 4, signed, symmetric, group = 64>} : tensor<32x128xi8> -> tensor<32x64xi8>
  %p = sparq_quant.pack %q {scheme = #sparq_quant.scheme<bits = 4, signed, symmetric, group = 64>} : tensor<32x128xi8> -> tensor<32x64xi8>
  // CHECK: sparq_weight.linear %{{.*}} [%[[P]], %{{.*}}] formats [#sparq_quant.scheme<bits = 4, signed, symmetric, group = 64>]
  %y = sparq_weight.linear %x [%p, %s] formats [#sparq_quant.scheme<bits = 4, signed, symmetric, group = 64>] : (tensor<8x128xf32>, tensor<32x64xi8>, tensor<32x2xf32>) -> tensor<8x32xf32>
  // CHECK: sparq_weight.conv2d %{{.*}} [%{{.*}}, %{{.*}}, %{{.*}}] bias %{{.*}} formats [#sparq_quant.scheme<bits = 4, unsigned, asymmetric, per_channel>] {dilations = array<i64: 1, 1>, kernel = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>}
  %c = sparq_weight.conv2d %img [%cw, %cs, %zs] bias %b formats [#sparq_quant.scheme<bits = 4, unsigned, asymmetric, per_channel>] {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>} : (tensor<1x16x8x8xf32>, tensor<32x72xi8>, tensor<32x1xf32>, tensor<32x1xi8>, tensor<32xf32>) -> tensor<1x32x8x8xf32>
  // CHECK: sparq_quant.unpack %{{.*}} {scheme = #sparq_quant.scheme<bits = 3, unsigned, asymmetric, per_tensor>} : tensor<32x48xi8> -> tensor<32x128xi8>
  %p3 = sparq_quant.pack %q {scheme = #sparq_quant.scheme<bits = 3, unsigned, asymmetric, per_tensor>} : tensor<32x128xi8> -> tensor<32x48xi8>
  %u = sparq_quant.unpack %p3 {scheme = #sparq_quant.scheme<bits = 3, unsigned, asymmetric, per_tensor>} : tensor<32x48xi8> -> tensor<32x128xi8>
  return %d, %y, %c, %u : tensor<32x128xf32>, tensor<8x32xf32>, tensor<1x32x8x8xf32>, tensor<32x128xi8>
}
