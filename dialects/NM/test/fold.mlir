// Tests the sparq_nm constant folders against hand-computed values, and unpack(pack(x)) -> x.
// RUN: sparq-opt %s --canonicalize --split-input-file | FileCheck %s

// Row [0, 3, -5, 1 | 2, 0, 0, -7] pruned 2:4 keeps {3, -5} and {2, -7}; packed values
// [3, -5, 2, -7], indices 1,2,0,3 in 2 bits = 0xC9 = -55 as i8.
// CHECK-LABEL: func.func @prune_pack
// CHECK-DAG: arith.constant dense<{{\[}}[0.000000e+00, 3.000000e+00, -5.000000e+00, 0.000000e+00, 2.000000e+00, 0.000000e+00, 0.000000e+00, -7.000000e+00]]>
// CHECK-DAG: arith.constant dense<{{\[}}[3.000000e+00, -5.000000e+00, 2.000000e+00, -7.000000e+00]]>
// CHECK-DAG: arith.constant dense<-55> : tensor<1x1xi8>
// CHECK-NOT: sparq_nm
func.func @prune_pack() -> (tensor<1x8xf32>, tensor<1x4xf32>, tensor<1x1xi8>) {
  %w = arith.constant dense<[[0.0, 3.0, -5.0, 1.0, 2.0, 0.0, 0.0, -7.0]]> : tensor<1x8xf32>
  %p = sparq_nm.prune %w {pattern = #sparq_nm.pattern<2:4>} : tensor<1x8xf32>
  %v, %i = sparq_nm.pack %p {pattern = #sparq_nm.pattern<2:4>} : tensor<1x8xf32> -> tensor<1x4xf32>, tensor<1x1xi8>
  return %p, %v, %i : tensor<1x8xf32>, tensor<1x4xf32>, tensor<1x1xi8>
}

// -----

// CHECK-LABEL: func.func @unpack_const
// CHECK: arith.constant dense<{{\[}}[0.000000e+00, 3.000000e+00, -5.000000e+00, 0.000000e+00, 2.000000e+00, 0.000000e+00, 0.000000e+00, -7.000000e+00]]>
func.func @unpack_const() -> tensor<1x8xf32> {
  %v = arith.constant dense<[[3.0, -5.0, 2.0, -7.0]]> : tensor<1x4xf32>
  %i = arith.constant dense<-55> : tensor<1x1xi8>
  %d = sparq_nm.unpack %v, %i {pattern = #sparq_nm.pattern<2:4>} : tensor<1x4xf32>, tensor<1x1xi8> -> tensor<1x8xf32>
  return %d : tensor<1x8xf32>
}

// -----

// CHECK-LABEL: func.func @unpack_of_pack
// CHECK-SAME: (%[[W:.*]]: tensor<4x16xf32>)
// CHECK-NEXT: return %[[W]]
func.func @unpack_of_pack(%w: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %v, %i = sparq_nm.pack %w {pattern = #sparq_nm.pattern<1:8>} : tensor<4x16xf32> -> tensor<4x2xf32>, tensor<4x1xi8>
  %d = sparq_nm.unpack %v, %i {pattern = #sparq_nm.pattern<1:8>} : tensor<4x2xf32>, tensor<4x1xi8> -> tensor<4x16xf32>
  return %d : tensor<4x16xf32>
}
