// Tests that large linalg ops are split along their outermost parallel loop into at most
// `chunks` equal scf.forall chunks and that small ops are left alone.
// RUN: sparq-opt %s --pass-pipeline='builtin.module(func.func(sparq-linalg-distribute))' | FileCheck %s
// RUN: sparq-opt %s --pass-pipeline='builtin.module(func.func(sparq-linalg-distribute{chunks=4}))' | FileCheck %s --check-prefix=FOUR

// CHECK-LABEL: func.func @matmul
// CHECK: scf.forall (%[[I:.*]]) = (0) to (64) step (8)
// CHECK:   linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<8x96xf32>, tensor<96x128xf32>)
// FOUR-LABEL: func.func @matmul
// FOUR: scf.forall (%{{.*}}) = (0) to (64) step (16)
func.func @matmul(%a: tensor<64x96xf32>, %b: tensor<96x128xf32>, %init: tensor<64x128xf32>) -> tensor<64x128xf32> {
  %r = linalg.matmul ins(%a, %b : tensor<64x96xf32>, tensor<96x128xf32>) outs(%init : tensor<64x128xf32>) -> tensor<64x128xf32>
  return %r : tensor<64x128xf32>
}

// A GEMV (M = 1) is split along N, the first parallel loop with more than one iteration.
// CHECK-LABEL: func.func @gemv
// CHECK: scf.forall (%{{.*}}) = (0) to (4096) step (512)
func.func @gemv(%a: tensor<1x256xf32>, %b: tensor<256x4096xf32>, %init: tensor<1x4096xf32>) -> tensor<1x4096xf32> {
  %r = linalg.matmul ins(%a, %b : tensor<1x256xf32>, tensor<256x4096xf32>) outs(%init : tensor<1x4096xf32>) -> tensor<1x4096xf32>
  return %r : tensor<1x4096xf32>
}

// CHECK-LABEL: func.func @small
// CHECK-NOT: scf.forall
func.func @small(%a: tensor<8x8xf32>, %b: tensor<8x8xf32>, %init: tensor<8x8xf32>) -> tensor<8x8xf32> {
  %r = linalg.matmul ins(%a, %b : tensor<8x8xf32>, tensor<8x8xf32>) outs(%init : tensor<8x8xf32>) -> tensor<8x8xf32>
  return %r : tensor<8x8xf32>
}

// A packed-weight micro-kernel contraction is left whole: its kernel splits the work over the
// threads itself.
// CHECK-LABEL: func.func @ukernel
// CHECK-NOT: scf.forall
// CHECK: linalg.matmul {sparq.ukernel = "sgemm_f32"}
func.func @ukernel(%a: tensor<64x96xf32>, %init: tensor<64x300xf32>) -> tensor<64x300xf32> {
  %b = arith.constant dense<1.0> : tensor<96x300xf32>
  %r = linalg.matmul {sparq.ukernel = "sgemm_f32"} ins(%a, %b : tensor<64x96xf32>, tensor<96x300xf32>) outs(%init : tensor<64x300xf32>) -> tensor<64x300xf32>
  return %r : tensor<64x300xf32>
}

// A micro-kernel convolution of one image and one output row (a 1-D convolution as 2-D) is
// split along its output columns in whole panels of 32: 81 columns are 3 chunks of a panel
// (32 + 32 + 17); 249 columns (8 panels) are 8 chunks of one panel, or 4 of two.
// CHECK-LABEL: func.func @conv_one_row
// CHECK: scf.forall (%{{.*}}) = (0) to (81) step (32)
// CHECK:   linalg.conv_2d_nchw_fchw {{.*}}sparq.ukernel
// CHECK-LABEL: func.func @conv_one_row_wide
// CHECK: scf.forall (%{{.*}}) = (0) to (249) step (32)
// FOUR-LABEL: func.func @conv_one_row_wide
// FOUR: scf.forall (%{{.*}}) = (0) to (249) step (64)
func.func @conv_one_row(%x: tensor<1x288x1x249xf32>, %w: tensor<576x288x1x7xf32>, %init: tensor<1x576x1x81xf32>) -> tensor<1x576x1x81xf32> {
  %r = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<[1, 3]> : tensor<2xi64>, sparq.ukernel = "conv2d_nchw_f32"} ins(%x, %w : tensor<1x288x1x249xf32>, tensor<576x288x1x7xf32>) outs(%init : tensor<1x576x1x81xf32>) -> tensor<1x576x1x81xf32>
  return %r : tensor<1x576x1x81xf32>
}
func.func @conv_one_row_wide(%x: tensor<1x1x1x16000xf32>, %w: tensor<288x1x1x127xf32>, %init: tensor<1x288x1x249xf32>) -> tensor<1x288x1x249xf32> {
  %r = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<[1, 64]> : tensor<2xi64>, sparq.ukernel = "conv2d_nchw_f32"} ins(%x, %w : tensor<1x1x1x16000xf32>, tensor<288x1x1x127xf32>) outs(%init : tensor<1x288x1x249xf32>) -> tensor<1x288x1x249xf32>
  return %r : tensor<1x288x1x249xf32>
}
