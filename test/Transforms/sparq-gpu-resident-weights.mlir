// RUN: sparq-opt %s --sparq-gpu-resident-weights | FileCheck %s

// Host code reads the device copy of a listed global (uploaded once by the runtime, its address
// then kept in a slot of its own: one per weight, shared by every use); other globals (a check
// message) keep their host address. The list is consumed.
// CHECK-NOT: sparq.gpu.resident
// CHECK: llvm.func @sparq_uk_gpu_resident(!llvm.ptr, i64, !llvm.ptr) -> !llvm.ptr
// CHECK-LABEL: llvm.func @entry
// CHECK: %[[W:.*]] = llvm.mlir.addressof @w : !llvm.ptr
// CHECK: %[[BYTES:.*]] = llvm.mlir.constant(16 : i64) : i64
// CHECK: %[[SLOT:.*]] = llvm.mlir.addressof @w_device : !llvm.ptr
// CHECK: %[[DEV:.*]] = llvm.call @sparq_uk_gpu_resident(%[[W]], %[[BYTES]], %[[SLOT]])
// CHECK: %[[MSG:.*]] = llvm.mlir.addressof @msg
// CHECK: llvm.getelementptr %[[DEV]][0, 1]
// CHECK-LABEL: llvm.func @second
// CHECK: llvm.mlir.addressof @w_device : !llvm.ptr
// CHECK: llvm.mlir.global internal @w_device() {{.*}} : !llvm.ptr {
// CHECK: llvm.mlir.zero : !llvm.ptr
// CHECK-NOT: llvm.mlir.global internal
module attributes {sparq.gpu.resident = {w = 16 : i64}} {
  llvm.mlir.global private constant @w(dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>) : !llvm.array<4 x f32>
  llvm.mlir.global private constant @msg("x\00") : !llvm.array<2 x i8>
  llvm.func @entry() -> !llvm.ptr {
    %w = llvm.mlir.addressof @w : !llvm.ptr
    %m = llvm.mlir.addressof @msg : !llvm.ptr
    %p = llvm.getelementptr %w[0, 1] : (!llvm.ptr) -> !llvm.ptr, !llvm.array<4 x f32>
    llvm.return %m : !llvm.ptr
  }
  llvm.func @second() -> !llvm.ptr {
    %w = llvm.mlir.addressof @w : !llvm.ptr
    llvm.return %w : !llvm.ptr
  }
}
