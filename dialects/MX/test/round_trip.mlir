// Tests that the MXFP4 and NVFP4 formats print and parse back, alone and after N:M sparsity.
// RUN: sparq-opt %s | sparq-opt | FileCheck %s

// CHECK-LABEL: func.func @formats
func.func @formats(%x: tensor<8x128xf32>, %c: tensor<32x64xi8>, %s32: tensor<32x4xi8>,
                   %s16: tensor<32x8xi8>, %g: tensor<1xf32>, %i: tensor<32x16xi8>,
                   %ck: tensor<32x32xi8>, %sk: tensor<32x4xi8>)
    -> (tensor<8x32xf32>, tensor<8x32xf32>, tensor<8x32xf32>) {
  // CHECK: sparq_weight.linear %{{.*}} formats [#sparq_mx.mxfp4] : (tensor<8x128xf32>, tensor<32x64xi8>, tensor<32x4xi8>) -> tensor<8x32xf32>
  %a = sparq_weight.linear %x [%c, %s32] formats [#sparq_mx.mxfp4] : (tensor<8x128xf32>, tensor<32x64xi8>, tensor<32x4xi8>) -> tensor<8x32xf32>
  // CHECK: sparq_weight.linear %{{.*}} formats [#sparq_mx.nvfp4] : (tensor<8x128xf32>, tensor<32x64xi8>, tensor<32x8xi8>, tensor<1xf32>) -> tensor<8x32xf32>
  %b = sparq_weight.linear %x [%c, %s16, %g] formats [#sparq_mx.nvfp4] : (tensor<8x128xf32>, tensor<32x64xi8>, tensor<32x8xi8>, tensor<1xf32>) -> tensor<8x32xf32>
  // 2:4 keeps 64 of 128 values per row: 32 code bytes, 4 blocks of 16.
  // CHECK: sparq_weight.linear %{{.*}} formats [#sparq_nm.pattern<2:4>, #sparq_mx.nvfp4]
  %n = sparq_weight.linear %x [%i, %ck, %sk, %g] formats [#sparq_nm.pattern<2:4>, #sparq_mx.nvfp4] : (tensor<8x128xf32>, tensor<32x16xi8>, tensor<32x32xi8>, tensor<32x4xi8>, tensor<1xf32>) -> tensor<8x32xf32>
  return %a, %b, %n : tensor<8x32xf32>, tensor<8x32xf32>, tensor<8x32xf32>
}
