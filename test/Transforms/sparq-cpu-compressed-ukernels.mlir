// Tests the CPU kernel table for compressed weights: a single group-quantized format becomes a
// call of the quantized kernel on the packed operands as stored (sizes, strides, bits, group and
// zero points from the scheme), batched activations are flattened to rows (dynamic rows read at
// run time); N:M alone and N:M
// then quantization call the sparse kernels; shift-add calls the lookup-table kernel; lists
// without a kernel (N:M then shift-add) keep the reference lowering; act-bits=8 picks the
// int8-activation kernel where it applies.
// RUN: sparq-opt %s --pass-pipeline='builtin.module(sparq-cpu-compressed-ukernels,cse)' | FileCheck %s
// RUN: sparq-opt %s --pass-pipeline='builtin.module(sparq-cpu-compressed-ukernels{act-bits=8},cse)' | FileCheck %s --check-prefix=I8
// RUN: not sparq-opt %s --pass-pipeline='builtin.module(sparq-cpu-compressed-ukernels{act-bits=4})' 2>&1 | FileCheck %s --check-prefix=BAD
// BAD: act-bits must be 0 (float activations) or 8, got 4
// I8-LABEL: func.func @group
// I8: call @sparq_uk_qgemm_i8_f32_mt
// I8-LABEL: func.func @batched_per_tensor
// I8: call @sparq_uk_qgemm_f32_mt

// CHECK-DAG: func.func private @sparq_uk_qgemm_f32_mt(index, index, index, index, index, index, index, index, index, index, index, index, index, index, index)
// CHECK-DAG: func.func private @sparq_uk_nmgemm_f32_mt(index, index, index, index, index, index, index, index, index, index, index, index, index, index)
// CHECK-DAG: func.func private @sparq_uk_lutgemm_f32_mt(index, index, index, index, index, index, index, index, index, index, index, index, index)
// CHECK-DAG: func.func private @sparq_uk_nmqgemm_f32_mt(index, index, index, index, index, index, index, index, index, index, index, index, index, index, index, index, index, index, index)

// CHECK-LABEL: func.func @group
// CHECK-DAG: bufferization.to_buffer %{{.*}} read_only : tensor<8x128xf32> to memref<8x128xf32>
// CHECK-DAG: %[[OUT:.*]] = memref.alloc() {alignment = 64 : i64} : memref<8x32xf32>
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[C4:.*]] = arith.constant 4 : index
// CHECK-DAG: %[[C2:.*]] = arith.constant 2 : index
// CHECK-DAG: %[[C8:.*]] = arith.constant 8 : index
// CHECK-DAG: %[[C32:.*]] = arith.constant 32 : index
// CHECK-DAG: %[[C64:.*]] = arith.constant 64 : index
// CHECK-DAG: %[[C128:.*]] = arith.constant 128 : index
// C[8 x 32] = A[8 x 128] W^T: codes rows of 64 bytes, 2 groups of 64 per row, 4 bits.
// CHECK: call @sparq_uk_qgemm_f32_mt(%{{.*}}, %[[C32]], %{{.*}}, %[[C128]], %{{.*}}, %[[C64]], %{{.*}}, %[[C0]], %[[C2]], %[[C4]], %[[C64]], %[[C8]], %[[C32]], %[[C128]], %[[C0]])
// CHECK: bufferization.to_tensor %[[OUT]] restrict writable : memref<8x32xf32> to tensor<8x32xf32>
func.func @group(%x: tensor<8x128xf32>, %p: tensor<32x64xi8>, %s: tensor<32x2xf32>) -> tensor<8x32xf32> {
  %y = sparq_weight.linear %x [%p, %s] formats [#sparq_quant.scheme<bits = 4, signed, symmetric, group = 64>] : (tensor<8x128xf32>, tensor<32x64xi8>, tensor<32x2xf32>) -> tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}

// Per-tensor asymmetric 3-bit codes, batched activation: scale stride 0, group = K, the zero
// points' address is passed, rows = 2 x 3.
// CHECK-LABEL: func.func @batched_per_tensor
// CHECK: tensor.collapse_shape %{{.*}} {{\[\[}}0, 1], [2]] : tensor<2x3x40xf32> into tensor<6x40xf32>
// CHECK: %[[ZP:.*]] = bufferization.to_buffer %{{.*}} read_only : tensor<1x1xi8> to memref<1x1xi8>
// CHECK: memref.extract_aligned_pointer_as_index %[[ZP]]
// CHECK: call @sparq_uk_qgemm_f32_mt
// CHECK: tensor.expand_shape %{{.*}} {{\[\[}}0, 1], [2]] output_shape [2, 3, 5] : tensor<6x5xf32> into tensor<2x3x5xf32>
func.func @batched_per_tensor(%x: tensor<2x3x40xf32>, %p: tensor<5x15xi8>, %s: tensor<1x1xf32>, %z: tensor<1x1xi8>) -> tensor<2x3x5xf32> {
  %y = sparq_weight.linear %x [%p, %s, %z] formats [#sparq_quant.scheme<bits = 3, unsigned, asymmetric, per_tensor>] : (tensor<2x3x40xf32>, tensor<5x15xi8>, tensor<1x1xf32>, tensor<1x1xi8>) -> tensor<2x3x5xf32>
  return %y : tensor<2x3x5xf32>
}

// Dynamic rows (a sequence length read at run time): M = 2 x dim 1 of the input, passed to the
// kernel; the result keeps the input's leading dims. Two dynamic leading dims keep the
// reference lowering.
// CHECK-LABEL: func.func @dynamic_rows
// CHECK: %[[X:.*]] = tensor.collapse_shape %{{.*}} {{\[\[}}0, 1], [2]] : tensor<2x?x40xf32> into tensor<?x40xf32>
// CHECK: %[[M:.*]] = tensor.dim %[[X]], %{{.*}} : tensor<?x40xf32>
// CHECK: %[[OUT:.*]] = memref.alloc(%[[M]]) {alignment = 64 : i64} : memref<?x5xf32>
// CHECK: call @sparq_uk_qgemm_f32_mt({{.*}}, %[[M]], %{{.*}}, %{{.*}}, %{{.*}})
// CHECK: %[[D1:.*]] = tensor.dim %{{.*}}, %{{.*}} : tensor<2x?x40xf32>
// CHECK: tensor.expand_shape %{{.*}} {{\[\[}}0, 1], [2]] output_shape [2, %[[D1]], 5] : tensor<?x5xf32> into tensor<2x?x5xf32>
// CHECK-LABEL: func.func @two_dynamic_dims
// CHECK-NOT: call @sparq_uk_qgemm_f32_mt
// CHECK: sparq_weight.linear
func.func @dynamic_rows(%x: tensor<2x?x40xf32>, %p: tensor<5x40xi8>, %s: tensor<5x1xf32>) -> tensor<2x?x5xf32> {
  %y = sparq_weight.linear %x [%p, %s] formats [#sparq_quant.scheme<bits = 8, signed, symmetric, per_channel>] : (tensor<2x?x40xf32>, tensor<5x40xi8>, tensor<5x1xf32>) -> tensor<2x?x5xf32>
  return %y : tensor<2x?x5xf32>
}
func.func @two_dynamic_dims(%x: tensor<?x?x40xf32>, %p: tensor<5x40xi8>, %s: tensor<5x1xf32>) -> tensor<?x?x5xf32> {
  %y = sparq_weight.linear %x [%p, %s] formats [#sparq_quant.scheme<bits = 8, signed, symmetric, per_channel>] : (tensor<?x?x40xf32>, tensor<5x40xi8>, tensor<5x1xf32>) -> tensor<?x?x5xf32>
  return %y : tensor<?x?x5xf32>
}

// 2:4 of K = 128: 16 index bytes and 64 kept values per row.
// CHECK-LABEL: func.func @nm
// CHECK-DAG: %[[C16:.*]] = arith.constant 16 : index
// CHECK-DAG: %[[C64:.*]] = arith.constant 64 : index
// CHECK-DAG: %[[C2:.*]] = arith.constant 2 : index
// CHECK-DAG: %[[C4:.*]] = arith.constant 4 : index
// CHECK: call @sparq_uk_nmgemm_f32_mt(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[C16]], %{{.*}}, %[[C64]], %[[C2]], %[[C4]],
func.func @nm(%x: tensor<8x128xf32>, %i: tensor<32x16xi8>, %v: tensor<32x64xf32>) -> tensor<8x32xf32> {
  %y = sparq_weight.linear %x [%i, %v] formats [#sparq_nm.pattern<2:4>] : (tensor<8x128xf32>, tensor<32x16xi8>, tensor<32x64xf32>) -> tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}

// 2:4 then 4 bits in groups of 32 kept values: 32 code bytes, 2 scales per row.
// CHECK-LABEL: func.func @nm_quant
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[C2:.*]] = arith.constant 2 : index
// CHECK-DAG: %[[C4:.*]] = arith.constant 4 : index
// CHECK-DAG: %[[C16:.*]] = arith.constant 16 : index
// CHECK-DAG: %[[C32:.*]] = arith.constant 32 : index
// CHECK: call @sparq_uk_nmqgemm_f32_mt(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[C16]], %{{.*}}, %[[C32]], %{{.*}}, %[[C0]], %[[C2]], %[[C4]], %[[C32]], %[[C2]], %[[C4]],
func.func @nm_quant(%x: tensor<8x128xf32>, %i: tensor<32x16xi8>, %c: tensor<32x32xi8>, %s: tensor<32x2xf32>) -> tensor<8x32xf32> {
  %y = sparq_weight.linear %x [%i, %c, %s] formats [#sparq_nm.pattern<2:4>, #sparq_quant.scheme<bits = 4, signed, symmetric, group = 32>] : (tensor<8x128xf32>, tensor<32x16xi8>, tensor<32x32xi8>, tensor<32x2xf32>) -> tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}

// A binary-coded weight that is not a constant keeps the reference lowering (the lookup-table
// kernels read a layout the compiler makes from constant planes, @shiftadd_const).
// CHECK-LABEL: func.func @shiftadd
// CHECK: sparq_weight.linear
// CHECK-NOT: call
func.func @shiftadd(%x: tensor<8x128xf32>, %c: tensor<2x32x16xi8>, %s: tensor<2x32x2xf32>) -> tensor<8x32xf32> {
  %y = sparq_weight.linear %x [%c, %s] formats [#sparq_shiftadd.bcq<q = 2, group = 64, pow2 = false>] : (tensor<8x128xf32>, tensor<2x32x16xi8>, tensor<2x32x2xf32>) -> tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}

// CHECK-LABEL: func.func @no_kernel
// CHECK: sparq_weight.linear
// CHECK-NOT: call
func.func @no_kernel(%x: tensor<8x128xf32>, %i: tensor<32x16xi8>, %c: tensor<1x32x8xi8>, %s: tensor<1x32x1xf32>) -> tensor<8x32xf32> {
  %y = sparq_weight.linear %x [%i, %c, %s] formats [#sparq_nm.pattern<2:4>, #sparq_shiftadd.bcq<q = 1, group = 64, pow2 = false>] : (tensor<8x128xf32>, tensor<32x16xi8>, tensor<1x32x8xi8>, tensor<1x32x1xf32>) -> tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}

// A constant binary-coded weight is interleaved by 16 rows at compile time
// (docs/packed-formats.md) and runs on the fp32-table kernel, or with act-bits=8 on a target
// with AVX-512 VBMI and VNNI (int8-tables) on the int8-table kernel. Two rows of K = 40 (5
// bytes, two dwords), one group: dword 0 holds bytes 0-3 of row 0 then of row 1, dword 1 byte 4
// of each, zeros elsewhere (rows 2-15 pad).
// RUN: sparq-opt %s --pass-pipeline='builtin.module(sparq-cpu-compressed-ukernels{act-bits=8 int8-tables=true},cse)' | FileCheck %s --check-prefix=LUT8
// LUT8-LABEL: func.func @shiftadd(
// LUT8-NOT: call
// LUT8-LABEL: func.func @shiftadd_const
// LUT8-DAG: arith.constant dense<"0x01020304060708090000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000050000000A0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"> : tensor<1x1x2x64xi8>
// LUT8-DAG: arith.constant dense<{{\[\[\[\[}}5.000000e-01, 2.500000e-01, 0.000000e+00, {{.*}}]]]]> : tensor<1x1x1x16xf32>
// LUT8: call @sparq_uk_lutgemm_i8_f32_mt
// I8-LABEL: func.func @shiftadd_const
// I8: call @sparq_uk_lutgemm_f32_mt
// CHECK-LABEL: func.func @shiftadd_const
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG: %[[C40:.*]] = arith.constant 40 : index
// CHECK-DAG: arith.constant dense<"0x01020304060708090000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000050000000A0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"> : tensor<1x1x2x64xi8>
// CHECK: call @sparq_uk_lutgemm_f32_mt(%{{.*}}, %{{.*}}, %{{.*}}, %[[C40]], %{{.*}}, %{{.*}}, %[[C0]], %[[C1]], %[[C40]],
func.func @shiftadd_const(%x: tensor<3x40xf32>) -> tensor<3x2xf32> {
  %c = arith.constant dense<[[[1, 2, 3, 4, 5], [6, 7, 8, 9, 10]]]> : tensor<1x2x5xi8>
  %s = arith.constant dense<[[[0.5], [0.25]]]> : tensor<1x2x1xf32>
  %y = sparq_weight.linear %x [%c, %s] formats [#sparq_shiftadd.bcq<q = 1, group = 40, pow2 = false>] : (tensor<3x40xf32>, tensor<1x2x5xi8>, tensor<1x2x1xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}
