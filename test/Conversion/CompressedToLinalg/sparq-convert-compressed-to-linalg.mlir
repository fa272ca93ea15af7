// Tests the shape of the reference lowering: packed weights are decoded in linalg.generic bodies
// from the bytes they live in, dequantized, and contracted densely; no compressed op remains.
// RUN: sparq-opt %s --sparq-convert-compressed-to-linalg --split-input-file | FileCheck %s

// CHECK-LABEL: func.func @quant_matmul
// CHECK-NOT: sparq_
// Unpack: two bytes read per code, shifted and masked to 4 bits, sign-extended.
// CHECK: linalg.generic
// CHECK:   tensor.extract %{{.*}} : tensor<32x64xi8>
// CHECK:   arith.shrui
// CHECK:   arith.andi %{{.*}}, %c15_i32
// Dequantize: code * scale of the element's group (column / 64).
// CHECK: linalg.generic
// CHECK:   arith.divui %{{.*}}, %c64
// CHECK:   arith.mulf
// Contraction y[m, n] = sum_k x[m, k] * w[n, k].
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}, #{{.*}}], iterator_types = ["parallel", "parallel", "reduction"]}
func.func @quant_matmul(%x: tensor<8x128xf32>, %p: tensor<32x64xi8>, %s: tensor<32x2xf32>) -> tensor<8x32xf32> {
  %y = sparq_weight.linear %x [%p, %s] formats [#sparq_quant.scheme<bits = 4, signed, symmetric, group = 64>] : (tensor<8x128xf32>, tensor<32x64xi8>, tensor<32x2xf32>) -> tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}

// -----

// CHECK-LABEL: func.func @nm_conv
// CHECK-NOT: sparq_
// CHECK: tensor.expand_shape %{{.*}} {{\[\[}}0], [1, 2, 3]] output_shape [3, 4, 3, 3] : tensor<3x36xf32> into tensor<3x4x3x3xf32>
// CHECK: tensor.pad
// CHECK: linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>}
func.func @nm_conv(%x: tensor<1x4x7x7xf32>, %v: tensor<3x9xf32>, %i: tensor<3x3xi8>) -> tensor<1x3x4x4xf32> {
  %y = sparq_weight.conv2d %x [%i, %v] formats [#sparq_nm.pattern<1:4>] {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>} : (tensor<1x4x7x7xf32>, tensor<3x3xi8>, tensor<3x9xf32>) -> tensor<1x3x4x4xf32>
  return %y : tensor<1x3x4x4xf32>
}

// -----

// CHECK-LABEL: func.func @lut
// CHECK-NOT: sparq_
// Two planes: two sign bits per weight, each selecting +scale or -scale.
// CHECK: linalg.generic
// CHECK-COUNT-2: arith.negf
// CHECK: iterator_types = ["parallel", "parallel", "reduction"]
func.func @lut(%x: tensor<1x16xf32>, %c: tensor<2x4x2xi8>, %s: tensor<2x4x2xf32>) -> tensor<1x4xf32> {
  %y = sparq_weight.linear %x [%c, %s] formats [#sparq_shiftadd.bcq<q = 2, group = 8, pow2 = false>] : (tensor<1x16xf32>, tensor<2x4x2xi8>, tensor<2x4x2xf32>) -> tensor<1x4xf32>
  return %y : tensor<1x4xf32>
}
