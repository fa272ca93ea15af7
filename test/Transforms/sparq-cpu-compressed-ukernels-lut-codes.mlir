// sparq-cpu-compressed-ukernels with lut-codes (an AVX-512 target): a constant 1- to 3-bit
// weight with one row of float activations runs on the lookup-table kernel as bit planes with
// per-group offsets, laid out at compile time (docs/packed-formats.md). Hand-computed: 2-bit
// signed codes, one group per row, K = 8. Row 0 holds the values -2 -1 0 1 -2 -1 0 1 (codes 2 3
// 0 1 ..., bytes 0x4E 0x4E), row 1 zeros. With the sign bit flipped, f = value + 2: row 0
// 0 1 2 3 0 1 2 3 -> plane 0 (bit 0) 0b10101010 = 0xAA, plane 1 (bit 1) 0b11001100 = 0xCC; row
// 1 f = 2 -> plane 0 0x00, plane 1 0xFF. Scales 0.5 and 0.25, shared by the planes (flag
// SPARQ_UK_PLANE_SCALES = 512: alphas s/2 for plane 0 and s for plane 1), offsets
// s * (3/2 - 2) = -s/2. Two rows of activations, 4-bit codes or no lut-codes:
// the dequantizing kernel.
// RUN: sparq-opt %s --pass-pipeline='builtin.module(sparq-cpu-compressed-ukernels{lut-codes=true},cse)' | FileCheck %s
// RUN: sparq-opt %s --pass-pipeline='builtin.module(sparq-cpu-compressed-ukernels,cse)' | FileCheck %s --check-prefix=OFF

// CHECK-LABEL: func.func @w2_one_row
// CHECK-DAG: %[[C2:.*]] = arith.constant 2 : index
// CHECK-DAG: %[[C8:.*]] = arith.constant 8 : index
// CHECK-DAG: %[[PLANE_SCALES:.*]] = arith.constant 512 : index
// CHECK-DAG: arith.constant dense<"0xAA000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000CC000000FF0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"> : tensor<2x1x1x64xi8>
// CHECK-DAG: arith.constant dense<{{\[\[\[\[}}5.000000e-01, 2.500000e-01, 0.000000e+00, {{.*}}]]]]> : tensor<1x1x1x16xf32>
// CHECK-DAG: arith.constant dense<{{\[\[\[}}-2.500000e-01, -1.250000e-01, 0.000000e+00, {{.*}}]]]> : tensor<1x1x16xf32>
// CHECK: call @sparq_uk_lutgemm_f32_mt(%{{.*}}, %[[C2]], %{{.*}}, %[[C8]], %{{.*}}, %{{.*}}, %{{.*}}, %[[C2]], %[[C8]], %{{.*}}, %[[C2]], %[[C8]], %[[PLANE_SCALES]])
// OFF-LABEL: func.func @w2_one_row
// OFF: call @sparq_uk_qgemm_f32_mt
func.func @w2_one_row(%x: tensor<1x8xf32>) -> tensor<1x2xf32> {
  %p = arith.constant dense<[[78, 78], [0, 0]]> : tensor<2x2xi8>
  %s = arith.constant dense<[[0.5], [0.25]]> : tensor<2x1xf32>
  %y = sparq_weight.linear %x [%p, %s] formats [#sparq_quant.scheme<bits = 2, signed, symmetric, per_channel>] : (tensor<1x8xf32>, tensor<2x2xi8>, tensor<2x1xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// CHECK-LABEL: func.func @w2_two_rows
// CHECK: call @sparq_uk_qgemm_f32_mt
func.func @w2_two_rows(%x: tensor<2x8xf32>) -> tensor<2x2xf32> {
  %p = arith.constant dense<[[78, 78], [0, 0]]> : tensor<2x2xi8>
  %s = arith.constant dense<[[0.5], [0.25]]> : tensor<2x1xf32>
  %y = sparq_weight.linear %x [%p, %s] formats [#sparq_quant.scheme<bits = 2, signed, symmetric, per_channel>] : (tensor<2x8xf32>, tensor<2x2xi8>, tensor<2x1xf32>) -> tensor<2x2xf32>
  return %y : tensor<2x2xf32>
}

// CHECK-LABEL: func.func @w4_one_row
// CHECK: call @sparq_uk_qgemm_f32_mt
func.func @w4_one_row(%x: tensor<1x8xf32>) -> tensor<1x2xf32> {
  %p = arith.constant dense<[[1, 2, 3, 4], [5, 6, 7, 8]]> : tensor<2x4xi8>
  %s = arith.constant dense<[[0.5], [0.25]]> : tensor<2x1xf32>
  %y = sparq_weight.linear %x [%p, %s] formats [#sparq_quant.scheme<bits = 4, signed, symmetric, per_channel>] : (tensor<1x8xf32>, tensor<2x4xi8>, tensor<2x1xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}
