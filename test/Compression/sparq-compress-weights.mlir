// Tests the IR sparq-compress-weights produces for each scheme on imported IR: the ONNX node is
// replaced by the generic consumer over the format list, with packed constants; shorthand
// options and --scheme lists spell the same lists.
// RUN: sparq-opt %s --sparq-compress-weights="sparsity=2:4 wbits=4 group=8" | FileCheck %s --check-prefix=NMQ
// RUN: sparq-opt %s --sparq-compress-weights="wbits=3 group=0 symmetric=0" | FileCheck %s --check-prefix=Q
// RUN: sparq-opt %s --sparq-compress-weights="shiftadd=2 group=8" | FileCheck %s --check-prefix=SA
// RUN: sparq-opt %s --sparq-compress-weights="sparsity=1:4 only=^fc2$" | FileCheck %s --check-prefix=ONLY
// RUN: sparq-opt %s --sparq-compress-weights="wbits=4 skip=W2" | FileCheck %s --check-prefix=SKIP
// RUN: sparq-opt %s --sparq-compress-weights="scheme=2:4,W4g8" | FileCheck %s --check-prefix=NMQ
// RUN: sparq-opt %s --sparq-compress-weights="scheme=1:4,sa2g4" | FileCheck %s --check-prefix=NMSA

// NMQ-LABEL: func.func @main_graph
// K = 16 for fc1: 8 kept values per row -> 4 bytes of 4-bit codes, 1 scale group of 8, and
// 8 two-bit indices = 2 bytes per row.
// NMQ: sparq_weight.linear %{{.*}} [%{{.*}}, %{{.*}}, %{{.*}}] formats [#sparq_nm.pattern<2:4>, #sparq_quant.scheme<bits = 4, signed, symmetric, group = 8>] : (tensor<2x16xf32>, tensor<4x2xi8>, tensor<4x4xi8>, tensor<4x1xf32>) -> tensor<2x4xf32>
// Gemm fc2 keeps its bias as an ONNX Add.
// NMQ: sparq_weight.linear
// NMQ: sparq_onnx.node "Add"
// NMQ-NOT: sparq_onnx.node "MatMul"
// NMQ-NOT: sparq_onnx.node "Gemm"

// Q: sparq_weight.linear %{{.*}} formats [#sparq_quant.scheme<bits = 3, unsigned, asymmetric, per_channel>] : (tensor<2x16xf32>, tensor<4x6xi8>, tensor<4x1xf32>, tensor<4x1xi8>) -> tensor<2x4xf32>

// SA: sparq_weight.linear %{{.*}} formats [#sparq_shiftadd.bcq<q = 2, group = 8, pow2 = false>] : (tensor<2x16xf32>, tensor<2x4x2xi8>, tensor<2x4x2xf32>) -> tensor<2x4xf32>

// Shift-add of the kept values: 4 of 16 per row, one plane byte each, one scale group of 4.
// NMSA: sparq_weight.linear %{{.*}} formats [#sparq_nm.pattern<1:4>, #sparq_shiftadd.bcq<q = 2, group = 4, pow2 = false>] : (tensor<2x16xf32>, tensor<4x1xi8>, tensor<2x4x1xi8>, tensor<2x4x1xf32>) -> tensor<2x4xf32>

// ONLY: sparq_onnx.node "MatMul"
// ONLY: sparq_weight.linear {{.*}} formats [#sparq_nm.pattern<1:4>] {{.*}} -> tensor<2x3xf32>

// SKIP: sparq_weight.linear
// SKIP: sparq_onnx.node "Gemm"

func.func @main_graph(%x: tensor<2x16xf32> {sparq.name = "x", sparq.dtype = "float32"}) -> tensor<2x3xf32> attributes {sparq.entry} {
  %w1 = arith.constant dense<[[0.1, -0.2, 0.3, -0.4], [0.5, -0.6, 0.7, -0.8], [0.9, -1.0, 1.1, -1.2], [1.3, -1.4, 1.5, -1.6],
                              [0.1, 0.2, 0.3, 0.4], [0.5, 0.6, 0.7, 0.8], [0.9, 1.0, 1.1, 1.2], [1.3, 1.4, 1.5, 1.6],
                              [-0.1, -0.2, -0.3, -0.4], [-0.5, -0.6, -0.7, -0.8], [-0.9, -1.0, -1.1, -1.2], [-1.3, -1.4, -1.5, -1.6],
                              [0.2, 0.1, 0.4, 0.3], [0.6, 0.5, 0.8, 0.7], [1.0, 0.9, 1.2, 1.1], [1.4, 1.3, 1.6, 1.5]]> : tensor<16x4xf32> loc("W1")
  %w2 = arith.constant dense<[[1.0, -2.0, 3.0, -4.0], [0.5, 0.25, -0.125, 2.0], [-1.5, 1.0, 0.75, -0.5]]> : tensor<3x4xf32> loc("W2")
  %b2 = arith.constant dense<[0.1, 0.2, 0.3]> : tensor<3xf32>
  %h = sparq_onnx.node "MatMul"(%x, %w1) {attrs = {}, domain = "", name = "fc1", opset = 13 : i64} : (tensor<2x16xf32>, tensor<16x4xf32>) -> tensor<2x4xf32>
  %y = sparq_onnx.node "Gemm"(%h, %w2, %b2) {attrs = {transB = 1 : i64}, domain = "", name = "fc2", opset = 13 : i64} : (tensor<2x4xf32>, tensor<3x4xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}
