// Tests the one-technique compression passes: each rewrites the weight-bearing nodes into the
// consumer op of its packed form, and their options reach the compressor.
// RUN: sparq-opt %s --sparq-nm-prune="n=1 m=4" | FileCheck %s --check-prefix=NM
// RUN: sparq-opt %s --sparq-quant-quantize="bits=3 group=8 symmetric=0" | FileCheck %s --check-prefix=Q
// RUN: sparq-opt %s --sparq-shiftadd-fit="q=3 group=8 pow2=1" | FileCheck %s --check-prefix=SA
// RUN: sparq-opt %s --sparq-quant-quantize="bits=4 only=fc2" | FileCheck %s --check-prefix=ONLY
// RUN: not sparq-opt %s --sparq-nm-prune="n=4 m=4" 2>&1 | FileCheck %s --check-prefix=BAD

// NM: sparq_weight.linear {{.*}} formats [#sparq_nm.pattern<1:4>] : (tensor<2x16xf32>, tensor<4x1xi8>, tensor<4x4xf32>) -> tensor<2x4xf32>
// Q: sparq_weight.linear {{.*}} formats [#sparq_quant.scheme<bits = 3, unsigned, asymmetric, group = 8>] : (tensor<2x16xf32>, tensor<4x6xi8>, tensor<4x2xf32>, tensor<4x2xi8>) -> tensor<2x4xf32>
// SA: sparq_weight.linear {{.*}} formats [#sparq_shiftadd.bcq<q = 3, group = 8, pow2 = true>] : (tensor<2x16xf32>, tensor<3x4x2xi8>, tensor<3x4x2xf32>) -> tensor<2x4xf32>
// ONLY: sparq_onnx.node "MatMul"
// ONLY-NOT: sparq_weight.linear
// BAD: invalid compression settings: sparsity '4:4' is not N:M with 1 <= N < M <= 16

func.func @main_graph(%x: tensor<2x16xf32>) -> tensor<2x4xf32> attributes {sparq.entry} {
  %w = arith.constant dense<[[0.1, -0.2, 0.3, -0.4], [0.5, -0.6, 0.7, -0.8], [0.9, -1.0, 1.1, -1.2], [1.3, -1.4, 1.5, -1.6],
                             [0.1, 0.2, 0.3, 0.4], [0.5, 0.6, 0.7, 0.8], [0.9, 1.0, 1.1, 1.2], [1.3, 1.4, 1.5, 1.6],
                             [-0.1, -0.2, -0.3, -0.4], [-0.5, -0.6, -0.7, -0.8], [-0.9, -1.0, -1.1, -1.2], [-1.3, -1.4, -1.5, -1.6],
                             [0.2, 0.1, 0.4, 0.3], [0.6, 0.5, 0.8, 0.7], [1.0, 0.9, 1.2, 1.1], [1.4, 1.3, 1.6, 1.5]]> : tensor<16x4xf32> loc("W1")
  %y = sparq_onnx.node "MatMul"(%x, %w) {attrs = {}, domain = "", name = "fc1", opset = 13 : i64} : (tensor<2x16xf32>, tensor<16x4xf32>) -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}
