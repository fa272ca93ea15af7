// Tests that every sparq_shiftadd op and the bcq attribute (also as a weight format) print and
// parse back unchanged.
// RUN: sparq-opt %s | sparq-opt | FileCheck %s

// CHECK-LABEL: func.func @ops
func.func @ops(%b: tensor<2x32x128xf32>, %s: tensor<2x32x2xf32>, %x: tensor<1x128xf32>)
    -> (tensor<32x128xf32>, tensor<1x32xf32>) {
  // CHECK: %[[C:.*]] = sparq_shiftadd.pack_signs %{{.*}} {config = #sparq_shiftadd.bcq<q = 2, group = 64, pow2 = false>} : tensor<2x32x128xf32> -> tensor<2x32x16xi8>
  %c = sparq_shiftadd.pack_signs %b {config = #sparq_shiftadd.bcq<q = 2, group = 64, pow2 = false>} : tensor<2x32x128xf32> -> tensor<2x32x16xi8>
  // CHECK: sparq_shiftadd.dequantize %[[C]], %{{.*}} {config = #sparq_shiftadd.bcq<q = 2, group = 64, pow2 = false>} : (tensor<2x32x16xi8>, tensor<2x32x2xf32>) -> tensor<32x128xf32>
  %w = sparq_shiftadd.dequantize %c, %s {config = #sparq_shiftadd.bcq<q = 2, group = 64, pow2 = false>} : (tensor<2x32x16xi8>, tensor<2x32x2xf32>) -> tensor<32x128xf32>
  // CHECK: sparq_weight.linear %{{.*}} [%[[C]], %{{.*}}] formats [#sparq_shiftadd.bcq<q = 2, group = 64, pow2 = true>]
  %y = sparq_weight.linear %x [%c, %s] formats [#sparq_shiftadd.bcq<q = 2, group = 64, pow2 = true>] : (tensor<1x128xf32>, tensor<2x32x16xi8>, tensor<2x32x2xf32>) -> tensor<1x32xf32>
  return %w, %y : tensor<32x128xf32>, tensor<1x32xf32>
}
