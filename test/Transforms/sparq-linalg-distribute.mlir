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
