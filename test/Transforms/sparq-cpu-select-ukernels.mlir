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

// Not marked: an integer matmul and a dynamic N (the kernels take only M at run time).
// CHECK-LABEL: func.func @not_marked
// CHECK-NOT: sparq.ukernel
// CHECK: return
func.func @not_marked(%ai: tensor<4x8xi32>, %initi: tensor<4x8xi32>,
                      %da: tensor<4x64xf32>, %db: tensor<64x?xf32>, %dinit: tensor<4x?xf32>)
    -> (tensor<4x8xi32>, tensor<4x?xf32>) {
  %wi = arith.constant dense<1> : tensor<8x8xi32>
  %r1 = linalg.matmul ins(%ai, %wi : tensor<4x8xi32>, tensor<8x8xi32>) outs(%initi : tensor<4x8xi32>) -> tensor<4x8xi32>
  %r3 = linalg.matmul ins(%da, %db : tensor<4x64xf32>, tensor<64x?xf32>) outs(%dinit : tensor<4x?xf32>) -> tensor<4x?xf32>
  return %r1, %r3 : tensor<4x8xi32>, tensor<4x?xf32>
}

// Dynamic rows (a symbolic batch) in front of a constant weight: marked, M is read at run time.
// CHECK-LABEL: func.func @dynamic_rows
// CHECK: linalg.matmul {sparq.ukernel = "sgemm_f32"}
func.func @dynamic_rows(%da: tensor<?x64xf32>, %dinit: tensor<?x48xf32>) -> tensor<?x48xf32> {
  %w = arith.constant dense<1.0> : tensor<64x48xf32>
  %r = linalg.matmul ins(%da, %w : tensor<?x64xf32>, tensor<64x48xf32>) outs(%dinit : tensor<?x48xf32>) -> tensor<?x48xf32>
  return %r : tensor<?x48xf32>
}

// An NCHW convolution with a static f32 filter is marked for the convolution kernel, a constant
// one (packed at compile time) and one computed at run time (packed at each call).
// CHECK-LABEL: func.func @conv
// CHECK: linalg.conv_2d_nchw_fchw {{{.*}}sparq.ukernel = "conv2d_nchw_f32"
// CHECK: linalg.conv_2d_nchw_fchw {{{.*}}sparq.ukernel = "conv2d_nchw_f32"
// CHECK: return
func.func @conv(%x: tensor<1x2x6x6xf32>, %init: tensor<1x3x4x4xf32>, %wdyn: tensor<3x2x3x3xf32>) -> (tensor<1x3x4x4xf32>, tensor<1x3x4x4xf32>) {
  %w = arith.constant dense<1.0> : tensor<3x2x3x3xf32>
  %r = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
         ins(%x, %w : tensor<1x2x6x6xf32>, tensor<3x2x3x3xf32>) outs(%init : tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32>
  %r2 = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
         ins(%x, %wdyn : tensor<1x2x6x6xf32>, tensor<3x2x3x3xf32>) outs(%init : tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32>
  return %r, %r2 : tensor<1x3x4x4xf32>, tensor<1x3x4x4xf32>
}

// Epilogues: a residual add of a value available before the kernel op folds into the
// accumulator the kernel starts from (one pass over bias + residual), and a ReLU on the result
// into the kernel's store (sparq.ukernel.relu).
// CHECK-LABEL: func.func @epilogues
// CHECK-SAME: (%[[X:.*]]: tensor<1x2x6x6xf32>, %[[R:.*]]: tensor<1x3x4x4xf32>)
// CHECK: %[[B:.*]] = arith.constant dense<{{.*}}> : tensor<3xf32>
// CHECK: %[[INIT:.*]] = linalg.generic {{.*}} ins(%[[B]], %[[R]] : tensor<3xf32>, tensor<1x3x4x4xf32>)
// CHECK: arith.addf
// CHECK: %[[Y:.*]] = linalg.conv_2d_nchw_fchw {{.*}}sparq.ukernel = "conv2d_nchw_f32", sparq.ukernel.relu{{.*}} outs(%[[INIT]] :
// CHECK-NOT: linalg.generic
// CHECK-NOT: linalg.broadcast
// CHECK: return %[[Y]]
func.func @epilogues(%x: tensor<1x2x6x6xf32>, %res: tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32> {
  %w = arith.constant dense<1.0> : tensor<3x2x3x3xf32>
  %b = arith.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x3x4x4xf32>
  %init = linalg.broadcast ins(%b : tensor<3xf32>) outs(%e : tensor<1x3x4x4xf32>) dimensions = [0, 2, 3]
  %c = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
         ins(%x, %w : tensor<1x2x6x6xf32>, tensor<3x2x3x3xf32>) outs(%init : tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32>
  %s = linalg.generic {indexing_maps = [affine_map<(a, b, c, d) -> (a, b, c, d)>, affine_map<(a, b, c, d) -> (a, b, c, d)>, affine_map<(a, b, c, d) -> (a, b, c, d)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
         ins(%c, %res : tensor<1x3x4x4xf32>, tensor<1x3x4x4xf32>) outs(%e : tensor<1x3x4x4xf32>) {
  ^bb0(%in: f32, %r: f32, %out: f32):
    %v = arith.addf %in, %r : f32
    linalg.yield %v : f32
  } -> tensor<1x3x4x4xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(a, b, c, d) -> (a, b, c, d)>, affine_map<(a, b, c, d) -> (a, b, c, d)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
         ins(%s : tensor<1x3x4x4xf32>) outs(%e : tensor<1x3x4x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %v = arith.maximumf %in, %zero : f32
    linalg.yield %v : f32
  } -> tensor<1x3x4x4xf32>
  return %y : tensor<1x3x4x4xf32>
}

// Not folded: a ReLU whose input has a second use, a max against a non-zero constant, and an
// add of a value computed after the kernel op.
// CHECK-LABEL: func.func @no_epilogues
// CHECK-NOT: sparq.ukernel.relu
// CHECK: linalg.matmul {sparq.ukernel = "sgemm_f32"} ins(%{{.*}}, %{{.*}} : tensor<4x8xf32>, tensor<8x5xf32>) outs(%arg1 : tensor<4x5xf32>)
// CHECK: arith.maximumf
// CHECK: linalg.matmul {sparq.ukernel = "sgemm_f32"}
// CHECK: arith.maximumf
// CHECK: linalg.matmul {sparq.ukernel = "sgemm_f32"} ins(%{{.*}}, %{{.*}} : tensor<4x8xf32>, tensor<8x5xf32>) outs(%arg1 : tensor<4x5xf32>)
// CHECK: arith.addf
func.func @no_epilogues(%a: tensor<4x8xf32>, %init: tensor<4x5xf32>) -> (tensor<4x5xf32>, tensor<4x5xf32>, tensor<4x5xf32>, tensor<4x5xf32>) {
  %w = arith.constant dense<1.0> : tensor<8x5xf32>
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %e = tensor.empty() : tensor<4x5xf32>
  %m0 = linalg.matmul ins(%a, %w : tensor<4x8xf32>, tensor<8x5xf32>) outs(%init : tensor<4x5xf32>) -> tensor<4x5xf32>
  %r0 = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]}
         ins(%m0 : tensor<4x5xf32>) outs(%e : tensor<4x5xf32>) {
  ^bb0(%in: f32, %out: f32):
    %v = arith.maximumf %in, %zero : f32
    linalg.yield %v : f32
  } -> tensor<4x5xf32>
  %m1 = linalg.matmul ins(%a, %w : tensor<4x8xf32>, tensor<8x5xf32>) outs(%init : tensor<4x5xf32>) -> tensor<4x5xf32>
  %r1 = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]}
         ins(%m1 : tensor<4x5xf32>) outs(%e : tensor<4x5xf32>) {
  ^bb0(%in: f32, %out: f32):
    %v = arith.maximumf %in, %one : f32
    linalg.yield %v : f32
  } -> tensor<4x5xf32>
  %m2 = linalg.matmul ins(%a, %w : tensor<4x8xf32>, tensor<8x5xf32>) outs(%init : tensor<4x5xf32>) -> tensor<4x5xf32>
  %later = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]}
         ins(%init : tensor<4x5xf32>) outs(%e : tensor<4x5xf32>) {
  ^bb0(%in: f32, %out: f32):
    %v = arith.mulf %in, %in : f32
    linalg.yield %v : f32
  } -> tensor<4x5xf32>
  %s2 = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]}
         ins(%m2, %later : tensor<4x5xf32>, tensor<4x5xf32>) outs(%e : tensor<4x5xf32>) {
  ^bb0(%in: f32, %l: f32, %out: f32):
    %v = arith.addf %in, %l : f32
    linalg.yield %v : f32
  } -> tensor<4x5xf32>
  return %m0, %r0, %r1, %s2 : tensor<4x5xf32>, tensor<4x5xf32>, tensor<4x5xf32>, tensor<4x5xf32>
}

// A constant per-channel bias that initializes a convolution's accumulator folds into the kernel
// (sparq.ukernel.bias; the init becomes an empty tensor), together with a ReLU.
// CHECK-LABEL: func.func @conv_bias
// CHECK-NOT: linalg.broadcast
// CHECK: tensor.empty() : tensor<1x3x4x4xf32>
// CHECK: %[[E:.*]] = tensor.empty() : tensor<1x3x4x4xf32>
// CHECK: linalg.conv_2d_nchw_fchw {{.*}}sparq.ukernel = "conv2d_nchw_f32", sparq.ukernel.bias = dense<[1.000000e+00, 2.000000e+00, 3.000000e+00]> : tensor<3xf32>, sparq.ukernel.relu{{.*}} outs(%[[E]] :
// CHECK-NOT: linalg.generic
func.func @conv_bias(%x: tensor<1x2x6x6xf32>) -> tensor<1x3x4x4xf32> {
  %w = arith.constant dense<1.0> : tensor<3x2x3x3xf32>
  %b = arith.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x3x4x4xf32>
  %init = linalg.broadcast ins(%b : tensor<3xf32>) outs(%e : tensor<1x3x4x4xf32>) dimensions = [0, 2, 3]
  %c = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
         ins(%x, %w : tensor<1x2x6x6xf32>, tensor<3x2x3x3xf32>) outs(%init : tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(a, b, c, d) -> (a, b, c, d)>, affine_map<(a, b, c, d) -> (a, b, c, d)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
         ins(%c : tensor<1x3x4x4xf32>) outs(%e : tensor<1x3x4x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %v = arith.maximumf %in, %zero : f32
    linalg.yield %v : f32
  } -> tensor<1x3x4x4xf32>
  return %y : tensor<1x3x4x4xf32>
}

// Transposes of the last two dims (f32) are marked for sparq_uk_transpose_f32; other
// permutations and other element types are not. Swaps of two trailing groups of dims (NCHW ->
// NHWC and back) are marked too; a swap of two middle dims is not.
// CHECK-LABEL: func.func @group_transposes
// CHECK: permutation = [0, 2, 3, 1]  {sparq.ukernel = "transpose_f32"}
// CHECK: permutation = [0, 3, 1, 2]  {sparq.ukernel = "transpose_f32"}
// CHECK: permutation = [0, 2, 1, 3]
// CHECK-NOT: sparq.ukernel
// CHECK: return
func.func @group_transposes(%a: tensor<2x3x4x5xf32>) -> (tensor<2x4x5x3xf32>, tensor<2x5x3x4xf32>, tensor<2x4x3x5xf32>) {
  %e0 = tensor.empty() : tensor<2x4x5x3xf32>
  %t0 = linalg.transpose ins(%a : tensor<2x3x4x5xf32>) outs(%e0 : tensor<2x4x5x3xf32>) permutation = [0, 2, 3, 1]
  %e1 = tensor.empty() : tensor<2x5x3x4xf32>
  %t1 = linalg.transpose ins(%a : tensor<2x3x4x5xf32>) outs(%e1 : tensor<2x5x3x4xf32>) permutation = [0, 3, 1, 2]
  %e2 = tensor.empty() : tensor<2x4x3x5xf32>
  %t2 = linalg.transpose ins(%a : tensor<2x3x4x5xf32>) outs(%e2 : tensor<2x4x3x5xf32>) permutation = [0, 2, 1, 3]
  return %t0, %t1, %t2 : tensor<2x4x5x3xf32>, tensor<2x5x3x4xf32>, tensor<2x4x3x5xf32>
}

// CHECK-LABEL: func.func @transposes
// CHECK: linalg.transpose ins(%{{.*}} : tensor<2x4x5xf32>) outs(%{{.*}} : tensor<2x5x4xf32>) permutation = [0, 2, 1]  {sparq.ukernel = "transpose_f32"}
// CHECK: linalg.transpose ins(%{{.*}} : tensor<2x4x5xf32>) outs(%{{.*}} : tensor<4x2x5xf32>) permutation = [1, 0, 2]
// CHECK-NOT: sparq.ukernel
// CHECK: linalg.transpose ins(%{{.*}} : tensor<4x5xi32>)
// CHECK-NOT: sparq.ukernel
// CHECK: return
func.func @transposes(%a: tensor<2x4x5xf32>, %b: tensor<4x5xi32>) -> (tensor<2x5x4xf32>, tensor<4x2x5xf32>, tensor<5x4xi32>) {
  %e0 = tensor.empty() : tensor<2x5x4xf32>
  %t0 = linalg.transpose ins(%a : tensor<2x4x5xf32>) outs(%e0 : tensor<2x5x4xf32>) permutation = [0, 2, 1]
  %e1 = tensor.empty() : tensor<4x2x5xf32>
  %t1 = linalg.transpose ins(%a : tensor<2x4x5xf32>) outs(%e1 : tensor<4x2x5xf32>) permutation = [1, 0, 2]
  %e2 = tensor.empty() : tensor<5x4xi32>
  %t2 = linalg.transpose ins(%b : tensor<4x5xi32>) outs(%e2 : tensor<5x4xi32>) permutation = [1, 0]
  return %t0, %t1, %t2 : tensor<2x5x4xf32>, tensor<4x2x5xf32>, tensor<5x4xi32>
}

// Sums over trailing dims (a global average pool's H x W, a ReduceSum over the last axis, a
// whole tensor) are marked for sparq_uk_row_sums_f32, as linalg.reduce or as linalg.generic;
// a sum over a middle dim, a max, a sum of squares and an f64 sum are not.
// CHECK-LABEL: func.func @row_sums
// CHECK: linalg.reduce {{.*}} dimensions = [2, 3]  {sparq.ukernel = "row_sums_f32"}
// CHECK: linalg.generic {{.*}} attrs = {sparq.ukernel = "row_sums_f32"}
// CHECK: linalg.reduce {{.*}} dimensions = [0, 1]  {sparq.ukernel = "row_sums_f32"}
// CHECK-NOT: sparq.ukernel
// CHECK: return
func.func @row_sums(%a: tensor<2x3x4x5xf32>, %b: tensor<6x7xf64>) -> (tensor<2x3xf32>, tensor<2x3x4xf32>, tensor<f32>, tensor<2x4x5xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<6xf64>) {
  %z = arith.constant 0.0 : f32
  %e0 = tensor.empty() : tensor<2x3xf32>
  %f0 = linalg.fill ins(%z : f32) outs(%e0 : tensor<2x3xf32>) -> tensor<2x3xf32>
  %r0 = linalg.reduce ins(%a : tensor<2x3x4x5xf32>) outs(%f0 : tensor<2x3xf32>) dimensions = [2, 3]
    (%x: f32, %acc: f32) { %s = arith.addf %x, %acc : f32
                           linalg.yield %s : f32 }
  %e1 = tensor.empty() : tensor<2x3x4xf32>
  %f1 = linalg.fill ins(%z : f32) outs(%e1 : tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  %r1 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%a : tensor<2x3x4x5xf32>) outs(%f1 : tensor<2x3x4xf32>) {
    ^bb0(%x: f32, %acc: f32):
      %s = arith.addf %acc, %x : f32
      linalg.yield %s : f32
  } -> tensor<2x3x4xf32>
  %e2 = tensor.empty() : tensor<f32>
  %f2 = linalg.fill ins(%z : f32) outs(%e2 : tensor<f32>) -> tensor<f32>
  %v = tensor.collapse_shape %a [[0, 1], [2, 3]] : tensor<2x3x4x5xf32> into tensor<6x20xf32>
  %r2 = linalg.reduce ins(%v : tensor<6x20xf32>) outs(%f2 : tensor<f32>) dimensions = [0, 1]
    (%x: f32, %acc: f32) { %s = arith.addf %x, %acc : f32
                           linalg.yield %s : f32 }
  %e3 = tensor.empty() : tensor<2x4x5xf32>
  %f3 = linalg.fill ins(%z : f32) outs(%e3 : tensor<2x4x5xf32>) -> tensor<2x4x5xf32>
  %r3 = linalg.reduce ins(%a : tensor<2x3x4x5xf32>) outs(%f3 : tensor<2x4x5xf32>) dimensions = [1]
    (%x: f32, %acc: f32) { %s = arith.addf %x, %acc : f32
                           linalg.yield %s : f32 }
  %r4 = linalg.reduce ins(%a : tensor<2x3x4x5xf32>) outs(%f0 : tensor<2x3xf32>) dimensions = [2, 3]
    (%x: f32, %acc: f32) { %s = arith.maximumf %x, %acc : f32
                           linalg.yield %s : f32 }
  %r5 = linalg.reduce ins(%a : tensor<2x3x4x5xf32>) outs(%f0 : tensor<2x3xf32>) dimensions = [2, 3]
    (%x: f32, %acc: f32) { %q = arith.mulf %x, %x : f32
                           %s = arith.addf %q, %acc : f32
                           linalg.yield %s : f32 }
  %zd = arith.constant 0.0 : f64
  %e6 = tensor.empty() : tensor<6xf64>
  %f6 = linalg.fill ins(%zd : f64) outs(%e6 : tensor<6xf64>) -> tensor<6xf64>
  %r6 = linalg.reduce ins(%b : tensor<6x7xf64>) outs(%f6 : tensor<6xf64>) dimensions = [1]
    (%x: f64, %acc: f64) { %s = arith.addf %x, %acc : f64
                           linalg.yield %s : f64 }
  return %r0, %r1, %r2, %r3, %r4, %r5, %r6 : tensor<2x3xf32>, tensor<2x3x4xf32>, tensor<f32>, tensor<2x4x5xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<6xf64>
}
