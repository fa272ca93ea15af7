// Tests which contractions sparq-cpu-select-ukernels marks for the micro-kernels: f32, static,
// constant right-hand side (K x N or N x K), M dimensions outer in activation and result.
// RUN: sparq-opt %s --pass-pipeline='builtin.module(func.func(sparq-cpu-select-ukernels))' | FileCheck %s

// CHECK-LABEL: func.func @matmul_const
// CHECK: linalg.matmul {sparq.ukernel = "sgemm_f32"}
func.func @matmul_const(%a: tensor<4x64xf32>, %init: tensor<4x48xf32>) -> tensor<4x48xf32> {
  %w = arith.constant dense<1.0> : tensor<64x48xf32>
  %r = linalg.matmul ins(%a, %w : tensor<4x64xf32>, tensor<64x48xf32>) outs(%init : tensor<4x48xf32>) -> tensor<4x48xf32>
  return %r : tensor<4x48xf32>
}

// Gemm with transB: the weight is indexed (n, k).
// CHECK-LABEL: func.func @matmul_transposed
// CHECK: linalg.matmul indexing_maps = [{{.*}}] {sparq.ukernel = "sgemm_f32"}
func.func @matmul_transposed(%a: tensor<5x70xf32>, %init: tensor<5x37xf32>) -> tensor<5x37xf32> {
  %w = arith.constant dense<1.0> : tensor<37x70xf32>
  %r = linalg.matmul indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>]
         ins(%a, %w : tensor<5x70xf32>, tensor<37x70xf32>) outs(%init : tensor<5x37xf32>) -> tensor<5x37xf32>
  return %r : tensor<5x37xf32>
}

// A batched activation against a 2-D weight: two M dimensions.
// CHECK-LABEL: func.func @batched_activation
// CHECK: linalg.generic
// CHECK-SAME: attrs = {sparq.ukernel = "sgemm_f32"}
func.func @batched_activation(%a: tensor<2x3x8xf32>, %init: tensor<2x3x5xf32>) -> tensor<2x3x5xf32> {
  %w = arith.constant dense<1.0> : tensor<8x5xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(b, m, n, k) -> (b, m, k)>, affine_map<(b, m, n, k) -> (k, n)>, affine_map<(b, m, n, k) -> (b, m, n)>],
                       iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
         ins(%a, %w : tensor<2x3x8xf32>, tensor<8x5xf32>) outs(%init : tensor<2x3x5xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<2x3x5xf32>
  return %r : tensor<2x3x5xf32>
}

// A right-hand side computed at run time (here an argument), also batched (batch_matmul), is
// marked for the kernel that packs it on the fly.
// CHECK-LABEL: func.func @runtime_rhs
// CHECK: linalg.matmul {sparq.ukernel = "sgemm_rt_f32"}
// CHECK: linalg.batch_matmul {sparq.ukernel = "sgemm_rt_f32"}
func.func @runtime_rhs(%a: tensor<4x64xf32>, %b: tensor<64x48xf32>, %init: tensor<4x48xf32>,
                       %ba: tensor<2x4x8xf32>, %bb: tensor<2x8x5xf32>, %binit: tensor<2x4x5xf32>)
    -> (tensor<4x48xf32>, tensor<2x4x5xf32>) {
  %r0 = linalg.matmul ins(%a, %b : tensor<4x64xf32>, tensor<64x48xf32>) outs(%init : tensor<4x48xf32>) -> tensor<4x48xf32>
  %r1 = linalg.batch_matmul ins(%ba, %bb : tensor<2x4x8xf32>, tensor<2x8x5xf32>) outs(%binit : tensor<2x4x5xf32>) -> tensor<2x4x5xf32>
  return %r0, %r1 : tensor<4x48xf32>, tensor<2x4x5xf32>
}

// Not marked: an integer matmul and a dynamic shape.
// CHECK-LABEL: func.func @not_marked
// CHECK-NOT: sparq.ukernel
// CHECK: return
func.func @not_marked(%ai: tensor<4x8xi32>, %initi: tensor<4x8xi32>,
                      %da: tensor<?x64xf32>, %dinit: tensor<?x48xf32>)
    -> (tensor<4x8xi32>, tensor<?x48xf32>) {
  %wi = arith.constant dense<1> : tensor<8x8xi32>
  %r1 = linalg.matmul ins(%ai, %wi : tensor<4x8xi32>, tensor<8x8xi32>) outs(%initi : tensor<4x8xi32>) -> tensor<4x8xi32>
  %w = arith.constant dense<1.0> : tensor<64x48xf32>
  %r3 = linalg.matmul ins(%da, %w : tensor<?x64xf32>, tensor<64x48xf32>) outs(%dinit : tensor<?x48xf32>) -> tensor<?x48xf32>
  return %r1, %r3 : tensor<4x8xi32>, tensor<?x48xf32>
}

// An NCHW convolution with a constant f32 filter is marked for the convolution kernel; one with
// a filter computed at run time is not.
// CHECK-LABEL: func.func @conv
// CHECK: linalg.conv_2d_nchw_fchw {{{.*}}sparq.ukernel = "conv2d_nchw_f32"
// CHECK: linalg.conv_2d_nchw_fchw
// CHECK-NOT: sparq.ukernel
// CHECK: return
func.func @conv(%x: tensor<1x2x6x6xf32>, %init: tensor<1x3x4x4xf32>, %wdyn: tensor<3x2x3x3xf32>) -> (tensor<1x3x4x4xf32>, tensor<1x3x4x4xf32>) {
  %w = arith.constant dense<1.0> : tensor<3x2x3x3xf32>
  %r = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
         ins(%x, %w : tensor<1x2x6x6xf32>, tensor<3x2x3x3xf32>) outs(%init : tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32>
  %r2 = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
         ins(%x, %wdyn : tensor<1x2x6x6xf32>, tensor<3x2x3x3xf32>) outs(%init : tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32>
  return %r, %r2 : tensor<1x3x4x4xf32>, tensor<1x3x4x4xf32>
}
