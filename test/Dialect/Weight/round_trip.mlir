// Tests that the generic compressed-weight consumers print and parse back unchanged with format
// lists of one and two formats from different scheme dialects.
// RUN: sparq-opt %s | sparq-opt | FileCheck %s

// CHECK-LABEL: func.func @consumers
func.func @consumers(%x: tensor<2x8x128xf32>, %i: tensor<32x16xi8>, %c: tensor<32x32xi8>,
                     %s: tensor<32x2xf32>, %z: tensor<32x2xi8>, %bc: tensor<3x32x16xi8>,
                     %bs: tensor<3x32x1xf32>)
    -> (tensor<2x8x32xf32>, tensor<32x128xf32>, tensor<2x8x32xf32>) {
  // CHECK: sparq_weight.linear %{{.*}} [%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}] formats [#sparq_nm.pattern<2:4>, #sparq_quant.scheme<bits = 4, unsigned, asymmetric, group = 32>] : (tensor<2x8x128xf32>, tensor<32x16xi8>, tensor<32x32xi8>, tensor<32x2xf32>, tensor<32x2xi8>) -> tensor<2x8x32xf32>
  %y = sparq_weight.linear %x [%i, %c, %s, %z] formats [#sparq_nm.pattern<2:4>, #sparq_quant.scheme<bits = 4, unsigned, asymmetric, group = 32>] : (tensor<2x8x128xf32>, tensor<32x16xi8>, tensor<32x32xi8>, tensor<32x2xf32>, tensor<32x2xi8>) -> tensor<2x8x32xf32>
  // CHECK: sparq_weight.decode [%{{.*}}, %{{.*}}] formats [#sparq_shiftadd.bcq<q = 3, group = 128, pow2 = false>] : (tensor<3x32x16xi8>, tensor<3x32x1xf32>) -> tensor<32x128xf32>
  %w = sparq_weight.decode [%bc, %bs] formats [#sparq_shiftadd.bcq<q = 3, group = 128, pow2 = false>] : (tensor<3x32x16xi8>, tensor<3x32x1xf32>) -> tensor<32x128xf32>
  // Sparsity, then shift-add on the 64 kept values of each row: 8 bytes per sign plane.
  // CHECK: sparq_weight.linear %{{.*}} formats [#sparq_nm.pattern<2:4>, #sparq_shiftadd.bcq<q = 1, group = 64, pow2 = false>]
  %bc1 = tensor.extract_slice %bc[0, 0, 0] [1, 32, 8] [1, 1, 1] : tensor<3x32x16xi8> to tensor<1x32x8xi8>
  %bs1 = tensor.extract_slice %bs[0, 0, 0] [1, 32, 1] [1, 1, 1] : tensor<3x32x1xf32> to tensor<1x32x1xf32>
  %y2 = sparq_weight.linear %x [%i, %bc1, %bs1] formats [#sparq_nm.pattern<2:4>, #sparq_shiftadd.bcq<q = 1, group = 64, pow2 = false>] : (tensor<2x8x128xf32>, tensor<32x16xi8>, tensor<1x32x8xi8>, tensor<1x32x1xf32>) -> tensor<2x8x32xf32>
  return %y, %w, %y2 : tensor<2x8x32xf32>, tensor<32x128xf32>, tensor<2x8x32xf32>
}

// Integer activations (the exact product of a MatMulInteger).
// CHECK-LABEL: func.func @int8_input
// CHECK: sparq_weight.linear %{{.*}} [%{{.*}}, %{{.*}}, %{{.*}}] formats [#sparq_quant.scheme<bits = 8, unsigned, asymmetric, per_tensor>] : (tensor<3x64xi8>, tensor<16x64xi8>, tensor<1x1xf32>, tensor<1x1xi8>) -> tensor<3x16xf32>
func.func @int8_input(%x: tensor<3x64xi8>, %c: tensor<16x64xi8>, %s: tensor<1x1xf32>, %z: tensor<1x1xi8>) -> tensor<3x16xf32> {
  %y = sparq_weight.linear %x [%c, %s, %z] formats [#sparq_quant.scheme<bits = 8, unsigned, asymmetric, per_tensor>] : (tensor<3x64xi8>, tensor<16x64xi8>, tensor<1x1xf32>, tensor<1x1xi8>) -> tensor<3x16xf32>
  return %y : tensor<3x16xf32>
}
