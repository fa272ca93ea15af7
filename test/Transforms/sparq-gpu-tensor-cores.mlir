// RUN: sparq-opt %s --split-input-file --verify-diagnostics --pass-pipeline='builtin.module(sparq-gpu-tensor-cores{emulate=1},cse)' | FileCheck %s

// A 4-bit group-128 layer (N = 32, K = 256, rows of a 3-D activation with a dynamic sequence)
// becomes: the activations rounded to fp16, a call of the tensor-core product on the weight
// re-laid out as constants (one 4-bit plane of N K / 8 words, fp16 scales [2 tiles][2 chunks]
// [16 rows], no zero points: signed symmetric codes), the result expanded back.
// CHECK-LABEL: func.func @w4(
// CHECK-DAG: %[[PLANE:.*]] = arith.constant dense_resource<sparq_mma_plane{{.*}}> : tensor<1024xi32>
// CHECK-DAG: %[[SCALES:.*]] = arith.constant dense<{{.*}}> : tensor<64xi16>
// CHECK: %[[X:.*]] = tensor.collapse_shape %{{.*}} {{\[\[}}0, 1], [2]] : tensor<2x?x256xf32> into tensor<?x256xf32>
// CHECK: linalg.generic
// CHECK: arith.truncf %{{.*}} : f32 to f16
// CHECK: %[[Y:.*]] = memref.alloc(%{{.*}}) {alignment = 64 : i64} : memref<?x32xf32>
// CHECK: call @sparq_uk_gpu_mma_emulated(%{{.*}}) : (index, index, index, index, index, index, index, index, index, index, index, index, index, index) -> ()
// CHECK: bufferization.to_tensor %[[Y]]
// CHECK: tensor.expand_shape
// CHECK-NOT: sparq_weight.linear
func.func @w4(%x: tensor<2x?x256xf32>) -> tensor<2x?x32xf32> {
  %p = arith.constant dense<17> : tensor<32x128xi8>
  %s = arith.constant dense<0.5> : tensor<32x2xf32>
  %y = sparq_weight.linear %x [%p, %s] formats [#sparq_quant.scheme<bits = 4, signed, symmetric, group = 128>] : (tensor<2x?x256xf32>, tensor<32x128xi8>, tensor<32x2xf32>) -> tensor<2x?x32xf32>
  return %y : tensor<2x?x32xf32>
}

// -----

// Format codes (include/sparq/Kernels/UKernels.h): SPARQ_MMA_W8 = 1 with zero points (unsigned
// asymmetric codes), SPARQ_MMA_SP24W4 = 5 with 2:4 metadata, SPARQ_MMA_BCQ3 = 8.
// CHECK-LABEL: func.func @formats(
// (Emulated: no image, address and size 0.) Operands: y, x, three planes, scales, zeros, meta.
// CHECK: call @sparq_uk_gpu_mma_emulated(%c0, %c0, %c1, %{{.*}}, %{{.*}}, %{{.*}}, %c0, %c0, %{{.*}}, %{{[0-9]+}}, %c0, %c1, %c16, %c128)
// CHECK: call @sparq_uk_gpu_mma_emulated(%c0, %c0, %c5, %{{.*}}, %{{.*}}, %{{.*}}, %c0, %c0, %{{.*}}, %c0, %{{[0-9]+}}, %c1, %c16, %c128)
// CHECK: call @sparq_uk_gpu_mma_emulated(%c0, %c0, %c8, %{{.*}}, %{{.*}}, %{{[0-9]+}}, %{{[0-9]+}}, %{{[0-9]+}}, %{{.*}}, %c0, %c0, %c1, %c16, %c128)
func.func @formats(%x: tensor<1x128xf32>) -> (tensor<1x16xf32>, tensor<1x16xf32>, tensor<1x16xf32>) {
  %p8 = arith.constant dense<3> : tensor<16x128xi8>
  %s8 = arith.constant dense<0.25> : tensor<16x1xf32>
  %z8 = arith.constant dense<7> : tensor<16x1xi8>
  %a = sparq_weight.linear %x [%p8, %s8, %z8] formats [#sparq_quant.scheme<bits = 8, unsigned, asymmetric, per_channel>] : (tensor<1x128xf32>, tensor<16x128xi8>, tensor<16x1xf32>, tensor<16x1xi8>) -> tensor<1x16xf32>
  %idx = arith.constant dense<4> : tensor<16x16xi8>
  %c4 = arith.constant dense<5> : tensor<16x32xi8>
  %s4 = arith.constant dense<0.125> : tensor<16x1xf32>
  %b = sparq_weight.linear %x [%idx, %c4, %s4] formats [#sparq_nm.pattern<2:4>, #sparq_quant.scheme<bits = 4, signed, symmetric, per_channel>] : (tensor<1x128xf32>, tensor<16x16xi8>, tensor<16x32xi8>, tensor<16x1xf32>) -> tensor<1x16xf32>
  %signs = arith.constant dense<85> : tensor<3x16x16xi8>
  %alphas = arith.constant dense<0.5> : tensor<3x16x1xf32>
  %c = sparq_weight.linear %x [%signs, %alphas] formats [#sparq_shiftadd.bcq<q = 3, group = 128, pow2 = false>] : (tensor<1x128xf32>, tensor<3x16x16xi8>, tensor<3x16x1xf32>) -> tensor<1x16xf32>
  return %a, %b, %c : tensor<1x16xf32>, tensor<1x16xf32>, tensor<1x16xf32>
}

// -----

// Layers no kernel takes keep the reference lowering, each with a warning saying why.
// CHECK-LABEL: func.func @unsupported(
// CHECK-COUNT-4: sparq_weight.linear
// CHECK-NOT: sparq_uk_gpu_mma
func.func @unsupported(%x: tensor<1x128xf32>, %x64: tensor<1x64xf32>) -> (tensor<1x16xf32>, tensor<1x16xf32>, tensor<1x16xf32>, tensor<1x8xf32>) {
  %p = arith.constant dense<17> : tensor<16x80xi8>
  %s = arith.constant dense<0.5> : tensor<16x1xf32>
  // expected-warning @+1 {{the CUDA target runs this layer (W5pc) as a loop kernel, not on the tensor cores: the kernels take 2-, 3-, 4- and 8-bit codes}}
  %a = sparq_weight.linear %x [%p, %s] formats [#sparq_quant.scheme<bits = 5, signed, symmetric, per_channel>] : (tensor<1x128xf32>, tensor<16x80xi8>, tensor<16x1xf32>) -> tensor<1x16xf32>
  %p4 = arith.constant dense<17> : tensor<16x64xi8>
  %s4 = arith.constant dense<0.5> : tensor<16x2xf32>
  // expected-warning @+1 {{its quantization groups (64) are not whole multiples of 128 values}}
  %b = sparq_weight.linear %x [%p4, %s4] formats [#sparq_quant.scheme<bits = 4, signed, symmetric, group = 64>] : (tensor<1x128xf32>, tensor<16x64xi8>, tensor<16x2xf32>) -> tensor<1x16xf32>
  %p64 = arith.constant dense<17> : tensor<16x32xi8>
  %s64 = arith.constant dense<0.5> : tensor<16x1xf32>
  // expected-warning @+1 {{the kernels take N a multiple of 16 and K of 128 (this layer: N = 16, K = 64)}}
  %c = sparq_weight.linear %x64 [%p64, %s64] formats [#sparq_quant.scheme<bits = 4, signed, symmetric, per_channel>] : (tensor<1x64xf32>, tensor<16x32xi8>, tensor<16x1xf32>) -> tensor<1x16xf32>
  %p8 = arith.constant dense<17> : tensor<8x64xi8>
  %s8 = arith.constant dense<0.5> : tensor<8x1xf32>
  // expected-warning @+1 {{(this layer: N = 8, K = 128)}}
  %d = sparq_weight.linear %x [%p8, %s8] formats [#sparq_quant.scheme<bits = 4, signed, symmetric, per_channel>] : (tensor<1x128xf32>, tensor<8x64xi8>, tensor<8x1xf32>) -> tensor<1x8xf32>
  return %a, %b, %c, %d : tensor<1x16xf32>, tensor<1x16xf32>, tensor<1x16xf32>, tensor<1x8xf32>
}
