// Tests sparq-block-fusion: an inverted residual block (1x1, ReLU, pad, depthwise 3x3, 1x1, add)
// and a bottleneck with a projection shortcut become one scf.forall over row tiles holding every
// op of the block; a chain whose intermediate is used twice, a chain with a pooling in the
// middle and two spatial convolutions in a row are left alone, each with a remark that says why.
// RUN: sparq-opt %s --pass-pipeline='builtin.module(sparq-block-fusion{report=1 inverted-residual-kernel=0},canonicalize,cse)' -split-input-file -verify-diagnostics | FileCheck %s
// RUN: sparq-opt %s --pass-pipeline='builtin.module(sparq-block-fusion{scratch-kib=4096 min-tiles=2 inverted-residual-kernel=0},canonicalize,cse)' -split-input-file | FileCheck %s --check-prefix=BIG
// With the kernel (the default), both blocks become one sparq_uk_mbconv_f32_mt call on their
// packed weights: the inverted residual's 528 floats (16 of clamps, 4x16 expand, 16 bias, 9x16
// depthwise, 16 bias, 16x16 project, 16 bias), flags 64 (the input added); the bottleneck's
// full 3x3 convolution and its stride-2 projection shortcut with flags 128 | 256.
// RUN: sparq-opt %s --pass-pipeline='builtin.module(sparq-block-fusion,canonicalize,cse)' -split-input-file | FileCheck %s --check-prefix=KERNEL
// KERNEL: func.func private @sparq_uk_mbconv_f32_mt(index, index, index, index, index, index, index, index, index, index, index, index, index, index, index, index, index, index, index, index, index, index, index, index, index, index, index)
// KERNEL-LABEL: func.func @inverted_residual
// KERNEL-DAG: %[[F64:.*]] = arith.constant 64 : index
// KERNEL-DAG: arith.constant dense_resource<{{.*}}> : tensor<528xf32>
// KERNEL: call @sparq_uk_mbconv_f32_mt({{.*}}, %[[F64]]) {sparq.fused_block = "inverted residual block of 3 convolutions with the input added (one kernel)"
// KERNEL-NOT: linalg.conv_2d_nchw_fchw
// KERNEL-NOT: linalg.depthwise
// KERNEL: return
// KERNEL-LABEL: func.func @projection
// KERNEL-DAG: %[[F384:.*]] = arith.constant 384 : index
// KERNEL: call @sparq_uk_mbconv_f32_mt({{.*}}, %[[F384]]) {sparq.fused_block = "bottleneck block of 3 convolutions with a projection shortcut (one kernel)"
// KERNEL-NOT: linalg.conv_2d_nchw_fchw
// KERNEL: return
// With the kernel and the report on, a block the kernel does not take says why in its remark.
// RUN: sparq-opt %s --pass-pipeline='builtin.module(sparq-block-fusion{report=1})' -split-input-file -o /dev/null 2>&1 | FileCheck %s --check-prefix=SKIP
// RUN: not sparq-opt %s --pass-pipeline='builtin.module(sparq-block-fusion{min-tiles=0})' -split-input-file 2>&1 | FileCheck %s --check-prefix=BAD
// BAD: sparq-block-fusion: scratch-kib and min-tiles must be at least 1, got 1024 and 0

#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>

// CHECK-LABEL: func.func @inverted_residual
// CHECK: scf.forall (%[[R:.*]]) = (0) to (14) step (2)
// CHECK: tensor.extract_slice %arg0[0, 0, %{{.*}}, 0] [1, 4, %{{.*}}, 10]
// CHECK: linalg.conv_2d_nchw_fchw
// CHECK: linalg.generic
// CHECK: tensor.pad
// CHECK: linalg.depthwise_conv_2d_nchw_chw
// CHECK-SAME: tensor<1x16x2x10xf32>
// CHECK: linalg.conv_2d_nchw_fchw
// CHECK: arith.addf
// CHECK: tensor.parallel_insert_slice
// CHECK: sparq.fused_block = "residual block of 3 convolutions (depthwise)", sparq.kernel_cost = array<i64: {{[0-9]+}}, {{[0-9]+}}>, sparq.tile_rows = 2
// CHECK-NOT: linalg.conv_2d
// CHECK: return
// BIG-LABEL: func.func @inverted_residual
// BIG: scf.forall (%{{.*}}) = (0) to (14) step (7)
func.func @inverted_residual(%x: tensor<1x4x14x10xf32>) -> tensor<1x4x14x10xf32> {
  %w1 = arith.constant dense<0.5> : tensor<16x4x1x1xf32>
  %w2 = arith.constant dense<0.25> : tensor<16x3x3xf32>
  %w3 = arith.constant dense<0.125> : tensor<4x16x1x1xf32>
  %b1 = arith.constant dense<0.1> : tensor<16xf32>
  %zero = arith.constant 0.0 : f32
  %e16 = tensor.empty() : tensor<1x16x14x10xf32>
  %e4 = tensor.empty() : tensor<1x4x14x10xf32>
  %init1 = linalg.broadcast ins(%b1 : tensor<16xf32>) outs(%e16 : tensor<1x16x14x10xf32>) dimensions = [0, 2, 3]
  %c1 = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%x, %w1 : tensor<1x4x14x10xf32>, tensor<16x4x1x1xf32>) outs(%init1 : tensor<1x16x14x10xf32>) -> tensor<1x16x14x10xf32>
  %r1 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%c1 : tensor<1x16x14x10xf32>) outs(%e16 : tensor<1x16x14x10xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<1x16x14x10xf32>
  %p = tensor.pad %r1 low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %zero : f32
  } : tensor<1x16x14x10xf32> to tensor<1x16x16x12xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e16 : tensor<1x16x14x10xf32>) -> tensor<1x16x14x10xf32>
  %c2 = linalg.depthwise_conv_2d_nchw_chw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%p, %w2 : tensor<1x16x16x12xf32>, tensor<16x3x3xf32>) outs(%f2 : tensor<1x16x14x10xf32>) -> tensor<1x16x14x10xf32>
  %f3 = linalg.fill ins(%zero : f32) outs(%e4 : tensor<1x4x14x10xf32>) -> tensor<1x4x14x10xf32>
  %c3 = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%c2, %w3 : tensor<1x16x14x10xf32>, tensor<4x16x1x1xf32>) outs(%f3 : tensor<1x4x14x10xf32>) -> tensor<1x4x14x10xf32>
  // expected-remark @+1 {{sparq-block-fusion: fused residual block of 3 convolutions (depthwise) (9 ops) over tiles of 2 output rows}}
  %y = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%c3, %x : tensor<1x4x14x10xf32>, tensor<1x4x14x10xf32>) outs(%e4 : tensor<1x4x14x10xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %s = arith.addf %a, %b : f32
    linalg.yield %s : f32
  } -> tensor<1x4x14x10xf32>
  return %y : tensor<1x4x14x10xf32>
}

// -----

#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>

// CHECK-LABEL: func.func @projection
// CHECK: scf.forall
// CHECK-COUNT-3: linalg.conv_2d_nchw_fchw
// CHECK: arith.addf
// CHECK: sparq.fused_block = "residual block with projection of 3 convolutions"
// CHECK-NOT: linalg.conv_2d
// CHECK: return
func.func @projection(%x: tensor<1x4x9x9xf32>) -> tensor<1x8x5x5xf32> {
  %w1 = arith.constant dense<0.5> : tensor<4x4x1x1xf32>
  %w2 = arith.constant dense<0.25> : tensor<4x4x3x3xf32>
  %w3 = arith.constant dense<0.125> : tensor<8x4x1x1xf32>
  %ws = arith.constant dense<0.75> : tensor<8x4x1x1xf32>
  %zero = arith.constant 0.0 : f32
  %e4 = tensor.empty() : tensor<1x4x9x9xf32>
  %e4s = tensor.empty() : tensor<1x4x5x5xf32>
  %e8 = tensor.empty() : tensor<1x8x5x5xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e4 : tensor<1x4x9x9xf32>) -> tensor<1x4x9x9xf32>
  %c1 = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%x, %w1 : tensor<1x4x9x9xf32>, tensor<4x4x1x1xf32>) outs(%f1 : tensor<1x4x9x9xf32>) -> tensor<1x4x9x9xf32>
  %p = tensor.pad %c1 low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %zero : f32
  } : tensor<1x4x9x9xf32> to tensor<1x4x11x11xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e4s : tensor<1x4x5x5xf32>) -> tensor<1x4x5x5xf32>
  %c2 = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>}
      ins(%p, %w2 : tensor<1x4x11x11xf32>, tensor<4x4x3x3xf32>) outs(%f2 : tensor<1x4x5x5xf32>) -> tensor<1x4x5x5xf32>
  %f3 = linalg.fill ins(%zero : f32) outs(%e8 : tensor<1x8x5x5xf32>) -> tensor<1x8x5x5xf32>
  %c3 = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%c2, %w3 : tensor<1x4x5x5xf32>, tensor<8x4x1x1xf32>) outs(%f3 : tensor<1x8x5x5xf32>) -> tensor<1x8x5x5xf32>
  %fs = linalg.fill ins(%zero : f32) outs(%e8 : tensor<1x8x5x5xf32>) -> tensor<1x8x5x5xf32>
  %s = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>}
      ins(%x, %ws : tensor<1x4x9x9xf32>, tensor<8x4x1x1xf32>) outs(%fs : tensor<1x8x5x5xf32>) -> tensor<1x8x5x5xf32>
  // expected-remark @+1 {{sparq-block-fusion: fused residual block with projection of 3 convolutions}}
  %y = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%c3, %s : tensor<1x8x5x5xf32>, tensor<1x8x5x5xf32>) outs(%e8 : tensor<1x8x5x5xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %t = arith.addf %a, %b : f32
    %r = arith.maximumf %t, %zero : f32
    linalg.yield %r : f32
  } -> tensor<1x8x5x5xf32>
  return %y : tensor<1x8x5x5xf32>
}

// -----

// An intermediate also returned: the chain ends there, and one convolution is left.
// CHECK-LABEL: func.func @used_twice
// CHECK-NOT: scf.forall
// CHECK: return
func.func @used_twice(%x: tensor<1x4x8x8xf32>) -> (tensor<1x4x8x8xf32>, tensor<1x4x8x8xf32>) {
  %w = arith.constant dense<0.5> : tensor<4x4x1x1xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x4x8x8xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  // expected-remark @+1 {{sparq-block-fusion: not fused: 1 convolution(s) on its main path; a block needs two (the chain stops at the function's input)}}
  %c1 = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%x, %w : tensor<1x4x8x8xf32>, tensor<4x4x1x1xf32>) outs(%f : tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  // expected-remark @+1 {{sparq-block-fusion: not fused: 1 convolution(s) on its main path; a block needs two (the chain stops at a value used more than once)}}
  %c2 = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%c1, %w : tensor<1x4x8x8xf32>, tensor<4x4x1x1xf32>) outs(%f2 : tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  return %c2, %c1 : tensor<1x4x8x8xf32>, tensor<1x4x8x8xf32>
}

// -----

// A pooling between two convolutions ends the chain (it is not elementwise).
// CHECK-LABEL: func.func @pool_in_the_middle
// CHECK-NOT: scf.forall
// CHECK: return
func.func @pool_in_the_middle(%x: tensor<1x4x8x8xf32>) -> tensor<1x4x4x4xf32> {
  %w = arith.constant dense<0.5> : tensor<4x4x1x1xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x4x8x8xf32>
  %e2 = tensor.empty() : tensor<1x4x4x4xf32>
  %win = tensor.empty() : tensor<2x2xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  // expected-remark @+1 {{sparq-block-fusion: not fused: 1 convolution(s) on its main path; a block needs two (the chain stops at the function's input)}}
  %c1 = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%x, %w : tensor<1x4x8x8xf32>, tensor<4x4x1x1xf32>) outs(%f : tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  %fp = linalg.fill ins(%zero : f32) outs(%e2 : tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  %pool = linalg.pooling_nchw_max {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>}
      ins(%c1, %win : tensor<1x4x8x8xf32>, tensor<2x2xf32>) outs(%fp : tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  // expected-remark @+1 {{sparq-block-fusion: not fused: 1 convolution(s) on its main path; a block needs two (the chain stops at 'linalg.pooling_nchw_max', which is not a convolution}}
  %c2 = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%pool, %w : tensor<1x4x4x4xf32>, tensor<4x4x1x1xf32>) outs(%f2 : tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  return %c2 : tensor<1x4x4x4xf32>
}

// -----

// Two 3x3 convolutions in a row (a basic ResNet block): only one spatial convolution per block,
// so the second starts a chain of its own, one convolution long.
// CHECK-LABEL: func.func @two_spatial
// CHECK-NOT: scf.forall
// CHECK: return
func.func @two_spatial(%x: tensor<1x4x8x8xf32>) -> tensor<1x4x4x4xf32> {
  %w = arith.constant dense<0.5> : tensor<4x4x3x3xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x4x6x6xf32>
  %e2 = tensor.empty() : tensor<1x4x4x4xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4x6x6xf32>) -> tensor<1x4x6x6xf32>
  // expected-remark @+1 {{sparq-block-fusion: not fused: 1 convolution(s) on its main path; a block needs two (the chain stops at the function's input)}}
  %c1 = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%x, %w : tensor<1x4x8x8xf32>, tensor<4x4x3x3xf32>) outs(%f : tensor<1x4x6x6xf32>) -> tensor<1x4x6x6xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  // expected-remark @+1 {{sparq-block-fusion: not fused: 1 convolution(s) on its main path; a block needs two (the chain stops at a second convolution with a spatial kernel or a stride)}}
  %c2 = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%c1, %w : tensor<1x4x6x6xf32>, tensor<4x4x3x3xf32>) outs(%f2 : tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  return %c2 : tensor<1x4x4x4xf32>
}

// -----

#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>

// A 9x9 depthwise middle: wider than the one-pass kernel's 7x7, so even with the kernel enabled
// the block becomes row tiles, and the report says why.
// CHECK-LABEL: func.func @wide_middle
// CHECK: sparq.fused_block = "residual block of 3 convolutions (depthwise)"
// KERNEL-LABEL: func.func @wide_middle
// KERNEL-NOT: call @sparq_uk_mbconv
// KERNEL: sparq.fused_block = "residual block of 3 convolutions (depthwise)"
// SKIP: sparq-block-fusion: fused residual block of 3 convolutions (depthwise) (8 ops) over tiles of {{[0-9]+}} output rows, {{[0-9]+}} bytes of intermediates per tile (not one kernel: its middle filter is larger than 7x7)
func.func @wide_middle(%x: tensor<1x4x14x14xf32>) -> tensor<1x4x14x14xf32> {
  %w1 = arith.constant dense<0.5> : tensor<16x4x1x1xf32>
  %w2 = arith.constant dense<0.25> : tensor<16x9x9xf32>
  %w3 = arith.constant dense<0.125> : tensor<4x16x1x1xf32>
  %zero = arith.constant 0.0 : f32
  %e16 = tensor.empty() : tensor<1x16x14x14xf32>
  %e4 = tensor.empty() : tensor<1x4x14x14xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e16 : tensor<1x16x14x14xf32>) -> tensor<1x16x14x14xf32>
  %c1 = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%x, %w1 : tensor<1x4x14x14xf32>, tensor<16x4x1x1xf32>) outs(%f1 : tensor<1x16x14x14xf32>) -> tensor<1x16x14x14xf32>
  %p = tensor.pad %c1 low[0, 0, 4, 4] high[0, 0, 4, 4] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %zero : f32
  } : tensor<1x16x14x14xf32> to tensor<1x16x22x22xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e16 : tensor<1x16x14x14xf32>) -> tensor<1x16x14x14xf32>
  %c2 = linalg.depthwise_conv_2d_nchw_chw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%p, %w2 : tensor<1x16x22x22xf32>, tensor<16x9x9xf32>) outs(%f2 : tensor<1x16x14x14xf32>) -> tensor<1x16x14x14xf32>
  %f3 = linalg.fill ins(%zero : f32) outs(%e4 : tensor<1x4x14x14xf32>) -> tensor<1x4x14x14xf32>
  %c3 = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%c2, %w3 : tensor<1x16x14x14xf32>, tensor<4x16x1x1xf32>) outs(%f3 : tensor<1x4x14x14xf32>) -> tensor<1x4x14x14xf32>
  // expected-remark @+1 {{sparq-block-fusion: fused residual block of 3 convolutions (depthwise)}}
  %y = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%c3, %x : tensor<1x4x14x14xf32>, tensor<1x4x14x14xf32>) outs(%e4 : tensor<1x4x14x14xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %s = arith.addf %a, %b : f32
    linalg.yield %s : f32
  } -> tensor<1x4x14x14xf32>
  return %y : tensor<1x4x14x14xf32>
}

// -----

// The inverted residual above with two computed filters (the expand filter an argument, the
// project filter decoded from int8 codes in the function, as the reference lowering of a
// compressed convolution does): with the kernel, the constant buffer (clamps, biases, the
// constant depthwise filter) is copied into a 528-float scratch at each call, where
// sparq_uk_mbconv_pack_f32 packs the two computed filters (address 0 for the constant one and
// for the absent shortcut), and the kernel reads that scratch.
// KERNEL-LABEL: func.func @decoded_filters
// KERNEL-DAG: %[[C0:.*]] = arith.constant 0 : index
// KERNEL-DAG: %[[CONST:.*]] = arith.constant dense_resource<{{.*}}> : tensor<528xf32>
// KERNEL: %[[BUF:.*]] = memref.alloc() {alignment = 64 : i64} : memref<528xf32>
// KERNEL: call @sparq_uk_mbconv_pack_f32(%{{.*}}, %{{.*}}, %{{.*}}, %[[C0]], %{{.*}}, %[[C0]], %{{.*}})
// KERNEL: call @sparq_uk_mbconv_f32_mt({{.*}}) {sparq.fused_block = "inverted residual block of 3 convolutions with the input added (one kernel; filters decoded from compressed weights, packed at each call)"
// KERNEL-NOT: linalg.conv_2d_nchw_fchw
// KERNEL: return
// CHECK-LABEL: func.func @decoded_filters
// CHECK: scf.forall
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
func.func @decoded_filters(%x: tensor<1x4x14x10xf32>, %w1: tensor<16x4x1x1xf32>) -> tensor<1x4x14x10xf32> {
  %w2 = arith.constant dense<0.25> : tensor<16x3x3xf32>
  %codes = arith.constant dense<3> : tensor<4x16x1x1xi8>
  %b1 = arith.constant dense<0.1> : tensor<16xf32>
  %zero = arith.constant 0.0 : f32
  %scale = arith.constant 0.125 : f32
  %ew = tensor.empty() : tensor<4x16x1x1xf32>
  %w3 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%codes : tensor<4x16x1x1xi8>) outs(%ew : tensor<4x16x1x1xf32>) {
  ^bb0(%c: i8, %out: f32):
    %f = arith.sitofp %c : i8 to f32
    %v = arith.mulf %f, %scale : f32
    linalg.yield %v : f32
  } -> tensor<4x16x1x1xf32>
  %e16 = tensor.empty() : tensor<1x16x14x10xf32>
  %e4 = tensor.empty() : tensor<1x4x14x10xf32>
  %init1 = linalg.broadcast ins(%b1 : tensor<16xf32>) outs(%e16 : tensor<1x16x14x10xf32>) dimensions = [0, 2, 3]
  %c1 = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%x, %w1 : tensor<1x4x14x10xf32>, tensor<16x4x1x1xf32>) outs(%init1 : tensor<1x16x14x10xf32>) -> tensor<1x16x14x10xf32>
  %r1 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%c1 : tensor<1x16x14x10xf32>) outs(%e16 : tensor<1x16x14x10xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<1x16x14x10xf32>
  %p = tensor.pad %r1 low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %zero : f32
  } : tensor<1x16x14x10xf32> to tensor<1x16x16x12xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e16 : tensor<1x16x14x10xf32>) -> tensor<1x16x14x10xf32>
  %c2 = linalg.depthwise_conv_2d_nchw_chw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%p, %w2 : tensor<1x16x16x12xf32>, tensor<16x3x3xf32>) outs(%f2 : tensor<1x16x14x10xf32>) -> tensor<1x16x14x10xf32>
  %f3 = linalg.fill ins(%zero : f32) outs(%e4 : tensor<1x4x14x10xf32>) -> tensor<1x4x14x10xf32>
  %c3 = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%c2, %w3 : tensor<1x16x14x10xf32>, tensor<4x16x1x1xf32>) outs(%f3 : tensor<1x4x14x10xf32>) -> tensor<1x4x14x10xf32>
  // expected-remark @+1 {{sparq-block-fusion: fused residual block of 3 convolutions (depthwise) (9 ops) over tiles of 2 output rows}}
  %y = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%c3, %x : tensor<1x4x14x10xf32>, tensor<1x4x14x10xf32>) outs(%e4 : tensor<1x4x14x10xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %s = arith.addf %a, %b : f32
    linalg.yield %s : f32
  } -> tensor<1x4x14x10xf32>
  return %y : tensor<1x4x14x10xf32>
}
