// Tests that contractions and 2-D convolutions are tiled with full static tiles (sizes shrink to
// divisors) and vectorized, so no scalar matmul/conv loop nest remains.
// RUN: sparq-opt %s --pass-pipeline='builtin.module(func.func(sparq-linalg-tile-vectorize))' | FileCheck %s
// RUN: sparq-opt %s --pass-pipeline='builtin.module(func.func(sparq-linalg-tile-vectorize{tile-m=4 tile-n=16 tile-k=8}))' | FileCheck %s --check-prefix=SMALL

// CHECK-LABEL: func.func @matmul
// CHECK-DAG: %[[C128:.*]] = arith.constant 128 : index
// CHECK-DAG: %[[C32:.*]] = arith.constant 32 : index
// CHECK-DAG: %[[C96:.*]] = arith.constant 96 : index
// CHECK-DAG: %[[C16:.*]] = arith.constant 16 : index
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c8
// CHECK:   scf.for %{{.*}} = %{{.*}} to %[[C128]] step %[[C32]]
// CHECK:     scf.for %{{.*}} = %{{.*}} to %[[C96]] step %[[C16]]
// CHECK:       vector.contract {{.*}} : vector<8x32x16xf32>, vector<8x32x16xf32> into vector<8x32xf32>
// CHECK-NOT: linalg.matmul
// SMALL-LABEL: func.func @matmul
// SMALL: vector.contract {{.*}} into vector<4x16xf32>
func.func @matmul(%a: tensor<64x96xf32>, %b: tensor<96x128xf32>, %init: tensor<64x128xf32>) -> tensor<64x128xf32> {
  %r = linalg.matmul ins(%a, %b : tensor<64x96xf32>, tensor<96x128xf32>) outs(%init : tensor<64x128xf32>) -> tensor<64x128xf32>
  return %r : tensor<64x128xf32>
}

// 14 output columns: the width tile shrinks from 8 to 7 (a divisor of 14).
// CHECK-LABEL: func.func @conv
// CHECK: scf.for
// CHECK: vector.contract {{.*}} : vector<1x7x8xf32>, vector<8x16xf32> into vector<1x7x16xf32>
// CHECK-NOT: linalg.conv_2d_nchw_fchw
func.func @conv(%x: tensor<1x8x16x16xf32>, %w: tensor<16x8x3x3xf32>, %init: tensor<1x16x14x14xf32>) -> tensor<1x16x14x14xf32> {
  %r = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %w : tensor<1x8x16x16xf32>, tensor<16x8x3x3xf32>) outs(%init : tensor<1x16x14x14xf32>) -> tensor<1x16x14x14xf32>
  return %r : tensor<1x16x14x14xf32>
}

// Boolean ops stay scalar: vectors of i1 are bit-packed in memory, i1 tensors are not.
// CHECK-LABEL: func.func @bool_fill
// CHECK: linalg.fill
// CHECK-NOT: vector.transfer_write
func.func @bool_fill(%init: tensor<3x4x5xi1>) -> tensor<3x4x5xi1> {
  %t = arith.constant true
  %r = linalg.fill ins(%t : i1) outs(%init : tensor<3x4x5xi1>) -> tensor<3x4x5xi1>
  return %r : tensor<3x4x5xi1>
}

// Whole untiled tensors are not turned into one huge vector (which would need a stack
// temporary of the same size once lowered): a 4x13x48x38 fill stays a linalg.fill.
// CHECK-LABEL: func.func @big_fill
// CHECK: linalg.fill
// CHECK-NOT: vector.transfer_write
func.func @big_fill(%init: tensor<4x13x48x38xf32>) -> tensor<4x13x48x38xf32> {
  %z = arith.constant 0.0 : f32
  %r = linalg.fill ins(%z : f32) outs(%init : tensor<4x13x48x38xf32>) -> tensor<4x13x48x38xf32>
  return %r : tensor<4x13x48x38xf32>
}

// A filter wider than 4 taps loops over its taps, each iteration a vectorized one-tap tile (the
// 1-D vectorizer would unroll all 7 taps for every output column); 3 taps stay unrolled.
// CHECK-LABEL: func.func @wide_conv1d
// CHECK: scf.for %{{.*}} = %{{.*}} to %c7 step %c1
// CHECK: vector.contract {{.*}} : vector<1x16x8xf32>, vector<16x32xf32> into vector<1x32x8xf32>
// CHECK-NOT: linalg.conv_1d_ncw_fcw
func.func @wide_conv1d(%x: tensor<1x16x70xf32>, %w: tensor<32x16x7xf32>, %init: tensor<1x32x64xf32>) -> tensor<1x32x64xf32> {
  %r = linalg.conv_1d_ncw_fcw {dilations = dense<1> : tensor<1xi64>, strides = dense<1> : tensor<1xi64>} ins(%x, %w : tensor<1x16x70xf32>, tensor<32x16x7xf32>) outs(%init : tensor<1x32x64xf32>) -> tensor<1x32x64xf32>
  return %r : tensor<1x32x64xf32>
}
// CHECK-LABEL: func.func @narrow_conv1d
// CHECK-NOT: to %c3 step %c1
// CHECK: vector.contract
// CHECK-NOT: linalg.conv_1d_ncw_fcw
func.func @narrow_conv1d(%x: tensor<1x16x66xf32>, %w: tensor<32x16x3xf32>, %init: tensor<1x32x64xf32>) -> tensor<1x32x64xf32> {
  %r = linalg.conv_1d_ncw_fcw {dilations = dense<1> : tensor<1xi64>, strides = dense<1> : tensor<1xi64>} ins(%x, %w : tensor<1x16x66xf32>, tensor<32x16x3xf32>) outs(%init : tensor<1x32x64xf32>) -> tensor<1x32x64xf32>
  return %r : tensor<1x32x64xf32>
}

// Integer contractions are tiled but not vectorized: their loops go to LLVM's loop vectorizer.
// CHECK-LABEL: func.func @int_matmul
// CHECK: linalg.matmul {{.*}} tensor<8x16xi8>, tensor<16x32xi8>
// CHECK-NOT: vector.contract
func.func @int_matmul(%a: tensor<64x96xi8>, %b: tensor<96x128xi8>, %init: tensor<64x128xi32>) -> tensor<64x128xi32> {
  %r = linalg.matmul ins(%a, %b : tensor<64x96xi8>, tensor<96x128xi8>) outs(%init : tensor<64x128xi32>) -> tensor<64x128xi32>
  return %r : tensor<64x128xi32>
}

// A dynamic row count is tiled too, the last tile partial (affine.min): the tiles keep static
// N and K and a dynamic M, and stay loops.
// CHECK-LABEL: func.func @int_matmul_dynamic_rows
// CHECK: scf.for
// CHECK: affine.min
// CHECK: linalg.matmul {{.*}} tensor<?x16xi8>, tensor<16x32xi8>) outs({{.*}} : tensor<?x32xi32>)
// CHECK-NOT: vector.contract
func.func @int_matmul_dynamic_rows(%a: tensor<?x96xi8>, %b: tensor<96x128xi8>, %init: tensor<?x128xi32>) -> tensor<?x128xi32> {
  %r = linalg.matmul ins(%a, %b : tensor<?x96xi8>, tensor<96x128xi8>) outs(%init : tensor<?x128xi32>) -> tensor<?x128xi32>
  return %r : tensor<?x128xi32>
}
