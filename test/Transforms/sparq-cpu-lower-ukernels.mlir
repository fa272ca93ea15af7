// Tests that sparq-cpu-lower-ukernels packs the weight of a marked contraction into panels at
// compile time (hand-computed below: columns padded to the panel width with zeros) and calls the
// kernel with the operands' addresses, sizes and row strides; a chunk of a weight starts at its
// first column's panel; one packed copy serves every chunk; misuse is diagnosed.
// RUN: sparq-opt %s -split-input-file --sparq-cpu-lower-ukernels=panel-width=8 --canonicalize --verify-diagnostics | FileCheck %s

// CHECK-LABEL: memref.global "private" constant @w_panels8_k2 : memref<1x2x8xf32>
// CHECK-SAME: dense<{{\[\[\[}}1.000000e+00, 2.000000e+00, 3.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00], [4.000000e+00, 5.000000e+00, 6.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00]]]>
// CHECK-SAME: {alignment = 64 : i64}
// CHECK-LABEL: func.func @gemm
// CHECK-DAG: %[[C2:.*]] = arith.constant 2 : index
// CHECK-DAG: %[[C3:.*]] = arith.constant 3 : index
// CHECK-DAG: %[[C4:.*]] = arith.constant 4 : index
// CHECK-DAG: %[[ONE:.*]] = arith.constant 1 : index
// CHECK-DAG: %[[P:.*]] = memref.get_global @w_panels8_k2
// CHECK-DAG: %[[PADDR:.*]] = memref.extract_aligned_pointer_as_index %[[P]]
// CHECK-DAG: %[[CADDR:.*]] = memref.extract_aligned_pointer_as_index %arg1
// CHECK-DAG: %[[AADDR:.*]] = memref.extract_aligned_pointer_as_index %arg0
// CHECK: call @sparq_uk_sgemm_packed_f32_mt(%[[CADDR]], %[[C3]], %[[AADDR]], %[[C2]], %[[PADDR]], %[[C4]], %[[C3]], %[[C2]], %[[ONE]])
// CHECK-NOT: linalg.matmul
memref.global "private" constant @w : memref<2x3xf32> = dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]>
func.func @gemm(%a: memref<4x2xf32>, %c: memref<4x3xf32>) {
  %w = memref.get_global @w : memref<2x3xf32>
  linalg.matmul {sparq.ukernel = "sgemm_f32"} ins(%a, %w : memref<4x2xf32>, memref<2x3xf32>) outs(%c : memref<4x3xf32>)
  return
}

// -----

// The packed weight is passed whole: a chunk of it along N is an error (the kernel splits the
// work over the threads itself, so nothing in the pipeline chunks a packed-weight GEMM).
memref.global "private" constant @wt : memref<9x2xf32> = dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0], [9.0, 10.0], [11.0, 12.0], [13.0, 14.0], [15.0, 16.0], [17.0, 18.0]]>
func.func @chunks(%a: memref<1x2xf32>, %c: memref<1x9xf32>) {
  %w = memref.get_global @wt : memref<9x2xf32>
  scf.forall (%n) = (0) to (9) step (8) {
    %size = affine.min affine_map<(d0) -> (-d0 + 9, 8)>(%n)
    %wc = memref.subview %w[%n, 0] [%size, 2] [1, 1] : memref<9x2xf32> to memref<?x2xf32, strided<[2, 1], offset: ?>>
    %cc = memref.subview %c[0, %n] [1, %size] [1, 1] : memref<1x9xf32> to memref<1x?xf32, strided<[9, 1], offset: ?>>
    // expected-error @+1 {{the weight is split along N}}
    linalg.matmul
        indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>]
        {sparq.ukernel = "sgemm_f32"}
        ins(%a, %wc : memref<1x2xf32>, memref<?x2xf32, strided<[2, 1], offset: ?>>)
        outs(%cc : memref<1x?xf32, strided<[9, 1], offset: ?>>)
  }
  return
}

// -----

// A transposed (N x K) weight: the packed form has K rows per panel, N padded to the panel width.
// CHECK-LABEL: memref.global "private" constant @wt2_panels8_t_k2 : memref<2x2x8xf32>
// CHECK-SAME: dense<{{\[\[\[}}1.000000e+00, 3.000000e+00, 5.000000e+00, 7.000000e+00, 9.000000e+00, 1.100000e+01, 1.300000e+01, 1.500000e+01], [2.000000e+00, 4.000000e+00, 6.000000e+00, 8.000000e+00, 1.000000e+01, 1.200000e+01, 1.400000e+01, 1.600000e+01]], {{\[\[}}1.700000e+01, 0.000000e+00
// CHECK-LABEL: func.func @transposed
// CHECK: call @sparq_uk_sgemm_packed_f32_mt(
memref.global "private" constant @wt2 : memref<9x2xf32> = dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0], [9.0, 10.0], [11.0, 12.0], [13.0, 14.0], [15.0, 16.0], [17.0, 18.0]]>
func.func @transposed(%a: memref<1x2xf32>, %c: memref<1x9xf32>) {
  %w = memref.get_global @wt2 : memref<9x2xf32>
  linalg.matmul
      indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>]
      {sparq.ukernel = "sgemm_f32"}
      ins(%a, %w : memref<1x2xf32>, memref<9x2xf32>) outs(%c : memref<1x9xf32>)
  return
}

// -----

func.func @not_constant(%a: memref<4x2xf32>, %w: memref<2x3xf32>, %c: memref<4x3xf32>) {
  // expected-error @+1 {{sparq-cpu-lower-ukernels: cannot call the micro-kernel: the weight is not a constant global}}
  linalg.matmul {sparq.ukernel = "sgemm_f32"} ins(%a, %w : memref<4x2xf32>, memref<2x3xf32>) outs(%c : memref<4x3xf32>)
  return
}

// -----

memref.global "private" constant @w2 : memref<16x3xf32> = dense<1.0>
func.func @split_k(%a: memref<4x8xf32>, %c: memref<4x3xf32>) {
  %w = memref.get_global @w2 : memref<16x3xf32>
  %wc = memref.subview %w[8, 0] [8, 3] [1, 1] : memref<16x3xf32> to memref<8x3xf32, strided<[3, 1], offset: 24>>
  // expected-error @+1 {{the weight is split along the reduction dimension}}
  linalg.matmul {sparq.ukernel = "sgemm_f32"} ins(%a, %wc : memref<4x8xf32>, memref<8x3xf32, strided<[3, 1], offset: 24>>) outs(%c : memref<4x3xf32>)
  return
}

// -----

// A convolution's filter (F = 3, C = 2, 1x1) is packed in tiles of tile-rows = 8 output channels
// (K = C*KH*KW steps of 8 values, channels past F zero), and the op becomes one kernel call with
// N, F, C, KH, KW, OH, OW, strides and dilations.
// CHECK-LABEL: memref.global "private" constant @f_rowtiles8 : memref<1x2x8xf32>
// CHECK-SAME: dense<{{\[\[\[}}1.000000e+00, 3.000000e+00, 5.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00], [2.000000e+00, 4.000000e+00, 6.000000e+00, 0.000000e+00
// CHECK-LABEL: func.func @conv
// CHECK: call @sparq_uk_conv2d_nchw_packed_f32(
// CHECK-SAME: %c1, %c3, %c2, %c1, %c1, %c4, %c5, %c1, %c1, %c1, %c1, %c0, %c1)
// CHECK-NOT: linalg.conv_2d_nchw_fchw
memref.global "private" constant @f : memref<3x2x1x1xf32> = dense<[[[[1.0]], [[2.0]]], [[[3.0]], [[4.0]]], [[[5.0]], [[6.0]]]]>
func.func @conv(%x: memref<1x2x4x5xf32>, %y: memref<1x3x4x5xf32>) {
  %w = memref.get_global @f : memref<3x2x1x1xf32>
  linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>, sparq.ukernel = "conv2d_nchw_f32"}
    ins(%x, %w : memref<1x2x4x5xf32>, memref<3x2x1x1xf32>) outs(%y : memref<1x3x4x5xf32>)
  return
}

// -----

// A filter computed at run time (F = 3 rows of C*KH*KW = 2*1*2 floats) is packed at each call
// into a scratch buffer of ceil(3 / 8) * 4 * 8 floats by sparq_uk_pack_filter_f32 (F, K and its
// row stride 4), which the convolution kernel reads, then freed. A filter whose rows are not
// contiguous (every other input channel) keeps its loops.
// CHECK-LABEL: func.func @conv_runtime_filter
// CHECK: %[[S:.*]] = memref.alloc() {alignment = 64 : i64} : memref<32xf32>
// CHECK: call @sparq_uk_pack_filter_f32({{.*}}, %c3, %c4, %c4)
// CHECK: call @sparq_uk_conv2d_nchw_packed_f32(
// CHECK: memref.dealloc %[[S]]
// CHECK-NOT: linalg.conv_2d_nchw_fchw
func.func @conv_runtime_filter(%x: memref<1x2x4x5xf32>, %w: memref<3x2x1x2xf32>, %y: memref<1x3x4x4xf32>) {
  linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>, sparq.ukernel = "conv2d_nchw_f32"}
    ins(%x, %w : memref<1x2x4x5xf32>, memref<3x2x1x2xf32>) outs(%y : memref<1x3x4x4xf32>)
  return
}
// CHECK-LABEL: func.func @conv_strided_filter
// CHECK-NOT: call @sparq_uk_pack_filter_f32
// CHECK: linalg.conv_2d_nchw_fchw
func.func @conv_strided_filter(%x: memref<1x2x4x5xf32>, %w: memref<3x4x1x2xf32>, %y: memref<1x3x4x4xf32>) {
  %v = memref.subview %w[0, 0, 0, 0] [3, 2, 1, 2] [1, 2, 1, 1] : memref<3x4x1x2xf32> to memref<3x2x1x2xf32, strided<[8, 4, 2, 1]>>
  linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>, sparq.ukernel = "conv2d_nchw_f32"}
    ins(%x, %v : memref<1x2x4x5xf32>, memref<3x2x1x2xf32, strided<[8, 4, 2, 1]>>) outs(%y : memref<1x3x4x4xf32>)
  return
}

// -----

// A folded bias becomes a constant global whose address the kernel gets, with SPARQ_UK_BIAS (8)
// instead of SPARQ_UK_ACCUMULATE, plus SPARQ_UK_RELU (4).
// CHECK-LABEL: memref.global "private" constant @sparq_bias : memref<3xf32> = dense<[1.000000e+00, 2.000000e+00, 3.000000e+00]> {alignment = 64 : i64}
// CHECK-LABEL: func.func @conv_bias
// CHECK: %[[B:.*]] = memref.get_global @sparq_bias
// CHECK: %[[BA:.*]] = memref.extract_aligned_pointer_as_index %[[B]]
// CHECK: call @sparq_uk_conv2d_nchw_packed_f32(
// CHECK-SAME: %[[BA]], %c12)
memref.global "private" constant @f2 : memref<3x2x1x1xf32> = dense<1.0>
func.func @conv_bias(%x: memref<1x2x4x5xf32>, %y: memref<1x3x4x5xf32>) {
  %w = memref.get_global @f2 : memref<3x2x1x1xf32>
  linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>, sparq.ukernel = "conv2d_nchw_f32",
                            sparq.ukernel.bias = dense<[1.0, 2.0, 3.0]> : tensor<3xf32>, sparq.ukernel.relu}
    ins(%x, %w : memref<1x2x4x5xf32>, memref<3x2x1x1xf32>) outs(%y : memref<1x3x4x5xf32>)
  return
}

// -----

// A marked transpose of the last two dims calls sparq_uk_transpose_f32 with the leading dims as
// one batch (2 x 3 = 6 matrices of 4 x 5; batch strides 20, rows 5 in and 4 out); one whose
// rows are not contiguous keeps its loops.
// CHECK-LABEL: func.func @transpose
// CHECK-DAG: %[[C6:.*]] = arith.constant 6 : index
// CHECK-DAG: %[[C20:.*]] = arith.constant 20 : index
// CHECK-DAG: %[[C4:.*]] = arith.constant 4 : index
// CHECK-DAG: %[[C5:.*]] = arith.constant 5 : index
// CHECK: call @sparq_uk_transpose_f32(%{{.*}}, %[[C20]], %[[C4]], %{{.*}}, %[[C20]], %[[C5]], %[[C6]], %[[C4]], %[[C5]])
// CHECK-NOT: linalg.transpose
// CHECK-LABEL: func.func @transpose_strided
// CHECK-NOT: call
// CHECK: linalg.transpose
func.func @transpose(%in: memref<2x3x4x5xf32>, %out: memref<2x3x5x4xf32>) {
  linalg.transpose ins(%in : memref<2x3x4x5xf32>) outs(%out : memref<2x3x5x4xf32>) permutation = [0, 1, 3, 2] {sparq.ukernel = "transpose_f32"}
  return
}
func.func @transpose_strided(%in: memref<4x5xf32, strided<[10, 2]>>, %out: memref<5x4xf32>) {
  linalg.transpose ins(%in : memref<4x5xf32, strided<[10, 2]>>) outs(%out : memref<5x4xf32>) permutation = [1, 0] {sparq.ukernel = "transpose_f32"}
  return
}

// -----

// NCHW -> NHWC (2 x 3 x 4 x 5, permutation [0, 2, 3, 1]) as 2 transposes of 3 x 20 matrices:
// rows C (stride 20), columns H x W collapsed (stride 1); out rows of 3 (ldo 3), batch strides
// 60. NHWC -> NCHW back: 2 transposes of 20 x 3 matrices (ldi 3, ldo 20).
// CHECK-LABEL: func.func @to_channels_last
// CHECK-DAG: %[[C2:.*]] = arith.constant 2 : index
// CHECK-DAG: %[[C3:.*]] = arith.constant 3 : index
// CHECK-DAG: %[[C20:.*]] = arith.constant 20 : index
// CHECK-DAG: %[[C60:.*]] = arith.constant 60 : index
// CHECK: call @sparq_uk_transpose_f32(%{{.*}}, %[[C60]], %[[C3]], %{{.*}}, %[[C60]], %[[C20]], %[[C2]], %[[C3]], %[[C20]])
// CHECK: call @sparq_uk_transpose_f32(%{{.*}}, %[[C60]], %[[C20]], %{{.*}}, %[[C60]], %[[C3]], %[[C2]], %[[C20]], %[[C3]])
// CHECK-NOT: linalg.transpose
func.func @to_channels_last(%in: memref<2x3x4x5xf32>, %out: memref<2x4x5x3xf32>, %back: memref<2x3x4x5xf32>) {
  linalg.transpose ins(%in : memref<2x3x4x5xf32>) outs(%out : memref<2x4x5x3xf32>) permutation = [0, 2, 3, 1] {sparq.ukernel = "transpose_f32"}
  linalg.transpose ins(%out : memref<2x4x5x3xf32>) outs(%back : memref<2x3x4x5xf32>) permutation = [0, 3, 1, 2] {sparq.ukernel = "transpose_f32"}
  return
}

// A group whose dims do not collapse (a window of a wider buffer) keeps its loops.
// CHECK-LABEL: func.func @group_not_collapsible
// CHECK-NOT: call
// CHECK: linalg.transpose
func.func @group_not_collapsible(%in: memref<2x3x4x5xf32, strided<[180, 60, 6, 1]>>, %out: memref<2x4x5x3xf32>) {
  linalg.transpose ins(%in : memref<2x3x4x5xf32, strided<[180, 60, 6, 1]>>) outs(%out : memref<2x4x5x3xf32>) permutation = [0, 2, 3, 1] {sparq.ukernel = "transpose_f32"}
  return
}

// -----

// A marked sum over the trailing dims calls sparq_uk_row_sums_f32 with the kept dims as rows
// (2 x 3 = 6 rows of 4 x 5 = 20 elements, input row stride 20, output stride 1); a sum to a
// scalar is one row (output stride 0); an input whose summed elements are not contiguous keeps
// its loops.
// CHECK-LABEL: func.func @row_sums
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG: %[[C6:.*]] = arith.constant 6 : index
// CHECK-DAG: %[[C20:.*]] = arith.constant 20 : index
// CHECK-DAG: %[[C120:.*]] = arith.constant 120 : index
// CHECK: call @sparq_uk_row_sums_f32(%{{.*}}, %[[C1]], %{{.*}}, %[[C20]], %[[C6]], %[[C20]])
// CHECK: call @sparq_uk_row_sums_f32(%{{.*}}, %[[C0]], %{{.*}}, %[[C0]], %[[C1]], %[[C120]])
// CHECK-NOT: call
// CHECK: linalg.reduce
// CHECK-NOT: sparq.ukernel
func.func @row_sums(%in: memref<2x3x4x5xf32>, %out: memref<2x3xf32>, %all: memref<f32>, %s: memref<2x3x4x5xf32, strided<[120, 40, 10, 2]>>) {
  linalg.reduce ins(%in : memref<2x3x4x5xf32>) outs(%out : memref<2x3xf32>) dimensions = [2, 3] {sparq.ukernel = "row_sums_f32"}
    (%x: f32, %acc: f32) { %r = arith.addf %x, %acc : f32
                           linalg.yield %r : f32 }
  linalg.reduce ins(%in : memref<2x3x4x5xf32>) outs(%all : memref<f32>) dimensions = [0, 1, 2, 3] {sparq.ukernel = "row_sums_f32"}
    (%x: f32, %acc: f32) { %r = arith.addf %x, %acc : f32
                           linalg.yield %r : f32 }
  linalg.reduce ins(%s : memref<2x3x4x5xf32, strided<[120, 40, 10, 2]>>) outs(%out : memref<2x3xf32>) dimensions = [2, 3] {sparq.ukernel = "row_sums_f32"}
    (%x: f32, %acc: f32) { %r = arith.addf %x, %acc : f32
                           linalg.yield %r : f32 }
  return
}
