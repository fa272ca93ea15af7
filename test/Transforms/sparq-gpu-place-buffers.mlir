// RUN: sparq-opt %s --split-input-file --verify-diagnostics --pass-pipeline='builtin.module(func.func(sparq-gpu-map-loops,convert-parallel-loops-to-gpu),gpu-kernel-outlining,sparq-gpu-place-buffers)' | FileCheck %s

// The argument the kernel reads is copied to the device on entry, host buffers become device
// buffers, the contiguous copy a driver copy, the weight a resident global (with its bytes),
// and the result is copied back into a host buffer; every device buffer is freed.
// CHECK: module attributes {gpu.container_module, sparq.gpu.resident = {w = 16 : i64}}
// CHECK-LABEL: func.func @entry(
// CHECK-SAME: %[[X:.*]]: memref<4xf32>
// CHECK: %[[DX:.*]] = gpu.alloc () : memref<4xf32>
// CHECK: gpu.memcpy %[[DX]], %[[X]]
// CHECK: %[[T:.*]] = gpu.alloc () : memref<4xf32>
// CHECK: %[[W:.*]] = memref.get_global @w
// CHECK: gpu.launch_func @entry_kernel::@entry_kernel {{.*}} args({{.*}}%[[DX]] : memref<4xf32>, %[[W]] : memref<4xf32>, %[[T]] : memref<4xf32>
// CHECK: %[[Y:.*]] = gpu.alloc () : memref<4xf32>
// CHECK: gpu.memcpy %[[Y]], %[[T]]
// CHECK: gpu.dealloc %[[T]]
// CHECK: %[[H:.*]] = memref.alloc() : memref<4xf32>
// CHECK: gpu.memcpy %[[H]], %[[Y]]
// CHECK: gpu.dealloc %[[Y]]
// CHECK: gpu.dealloc %[[DX]]
// CHECK: return %[[H]]
memref.global "private" constant @w : memref<4xf32> = dense<[1.0, 2.0, 3.0, 4.0]>
func.func @entry(%x: memref<4xf32>) -> memref<4xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %t = memref.alloc() : memref<4xf32>
  %w = memref.get_global @w : memref<4xf32>
  scf.parallel (%i) = (%c0) to (%c4) step (%c1) {
    %a = memref.load %x[%i] : memref<4xf32>
    %b = memref.load %w[%i] : memref<4xf32>
    %p = arith.mulf %a, %b : f32
    memref.store %p, %t[%i] : memref<4xf32>
    scf.reduce
  }
  %y = memref.alloc() : memref<4xf32>
  memref.copy %t, %y : memref<4xf32> to memref<4xf32>
  memref.dealloc %t : memref<4xf32>
  return %y : memref<4xf32>
}

// -----

// Dynamic sizes follow the argument; an argument used only for its sizes stays on the host.
// CHECK-LABEL: func.func @dynamic(
// CHECK-SAME: %[[X:[^:]*]]: memref<?xf32>, %[[S:[^:]*]]: memref<?xf32>
// CHECK: %[[N:.*]] = memref.dim %[[X]], %c0
// CHECK: %[[DX:.*]] = gpu.alloc (%[[N]]) : memref<?xf32>
// CHECK: gpu.memcpy %[[DX]], %[[X]]
// CHECK-NOT: gpu.memcpy {{.*}}, %[[S]]
// CHECK: return
func.func @dynamic(%x: memref<?xf32>, %s: memref<?xf32>) -> memref<?xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %s, %c0 : memref<?xf32>
  %y = memref.alloc(%n) : memref<?xf32>
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    %a = memref.load %x[%i] : memref<?xf32>
    memref.store %a, %y[%i] : memref<?xf32>
    scf.reduce
  }
  return %y : memref<?xf32>
}

// -----

// A scalar the host reads: the one-thread kernel's buffer is on the device, the host copies it
// into a stack slot made on entry and reads that.
// CHECK-LABEL: func.func @host_read(
// CHECK: %[[SLOT:.*]] = memref.alloca() : memref<f32>
// CHECK: %[[S:.*]] = gpu.alloc () : memref<f32>
// CHECK: gpu.launch_func
// CHECK: gpu.memcpy %[[SLOT]], %[[S]]
// CHECK: %[[V:.*]] = memref.load %[[SLOT]][]
// CHECK: gpu.dealloc %[[S]]
// CHECK: return %[[V]]
func.func @host_read(%x: memref<4xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  %v = memref.load %x[%c0] : memref<4xf32>
  return %v : f32
}

// -----

// Mutable globals cannot be uploaded once.
memref.global "private" @state : memref<4xf32> = dense<0.0>
func.func @mutable() {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %cst = arith.constant 1.0 : f32
  // expected-error @+1 {{the CUDA target cannot place the mutable global 'state' in device memory}}
  %g = memref.get_global @state : memref<4xf32>
  scf.parallel (%i) = (%c0) to (%c4) step (%c1) {
    memref.store %cst, %g[%i] : memref<4xf32>
    scf.reduce
  }
  return
}

// -----

// The tensor-core product (sparq-gpu-tensor-cores) is a host call on device buffers: its output
// is a device allocation, the packed weight a resident global, and the kernels' fatbin, which
// only the host reads, is not uploaded.
// CHECK: module attributes {sparq.gpu.resident = {planes = 8 : i64}}
// CHECK-LABEL: func.func @tensor_cores(
// CHECK: %[[Y:.*]] = gpu.alloc () : memref<1x16xf32>
// CHECK: memref.get_global @image
// CHECK: memref.get_global @planes
// CHECK: call @sparq_uk_gpu_mma(
memref.global "private" constant @image : memref<4xi8> = dense<[1, 2, 3, 4]> {sparq.gpu.host_only}
memref.global "private" constant @planes : memref<2xi32> = dense<[5, 6]>
func.func private @sparq_uk_gpu_mma(index, index, index, index, index, index, index, index, index, index, index, index, index, index)
func.func @tensor_cores(%x: memref<1x128xf16>) -> memref<1x16xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  %c16 = arith.constant 16 : index
  %c128 = arith.constant 128 : index
  %y = memref.alloc() : memref<1x16xf32>
  %img = memref.get_global @image : memref<4xi8>
  %p = memref.get_global @planes : memref<2xi32>
  %ai = memref.extract_aligned_pointer_as_index %img : memref<4xi8> -> index
  %ap = memref.extract_aligned_pointer_as_index %p : memref<2xi32> -> index
  %ay = memref.extract_aligned_pointer_as_index %y : memref<1x16xf32> -> index
  %ax = memref.extract_aligned_pointer_as_index %x : memref<1x128xf16> -> index
  func.call @sparq_uk_gpu_mma(%ai, %c4, %c2, %ay, %ax, %ap, %c0, %c0, %ap, %c0, %c0, %c1, %c16, %c128) : (index, index, index, index, index, index, index, index, index, index, index, index, index, index) -> ()
  return %y : memref<1x16xf32>
}
