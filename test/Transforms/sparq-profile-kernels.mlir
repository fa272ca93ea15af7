// RUN: sparq-opt %s --sparq-profile-kernels | FileCheck %s
// RUN: sparq-opt %s --sparq-profile-kernels --mlir-print-debuginfo | FileCheck %s --check-prefix=NAMES

// Each kernel at the top level of the entry function gets a timer call before and after it; the
// constants, the empty tensor and the return do not. The kernel table's costs, computed by hand:
//   fill: 0 flops; the f32 scalar (4 bytes) and the 16x32 result written (2048)
//   matmul: 2 * 16 * 32 * 64 = 65536 flops; 16x64 + 64x32 inputs (4096 + 8192), the 16x32
//           accumulator read and written (2 * 2048)
//   relu: one max per element, 512 flops; 2048 bytes read, 2048 written
//   exp of a dynamic shape: unknown (-1)
//   the block with a recorded sparq.kernel_cost: taken as recorded

#id = affine_map<(d0, d1) -> (d0, d1)>
func.func @main(%a: tensor<16x64xf32>, %b: tensor<64x32xf32>, %d: tensor<?x8xf32>)
    -> (tensor<16x32xf32>, tensor<?x8xf32>, tensor<4xf32>) attributes {sparq.entry} {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<16x32xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<16x32xf32>) -> tensor<16x32xf32> loc("mm")
  %m = linalg.matmul ins(%a, %b : tensor<16x64xf32>, tensor<64x32xf32>)
                     outs(%f : tensor<16x32xf32>) -> tensor<16x32xf32> loc("mm")
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%m : tensor<16x32xf32>) outs(%e : tensor<16x32xf32>) {
  ^bb0(%in: f32, %out: f32):
    %v = arith.maximumf %in, %zero : f32
    linalg.yield %v : f32
  } -> tensor<16x32xf32> loc(fused["relu", "extra"])
  %c0 = arith.constant 0 : index
  %n = tensor.dim %d, %c0 : tensor<?x8xf32>
  %de = tensor.empty(%n) : tensor<?x8xf32>
  %x = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%d : tensor<?x8xf32>) outs(%de : tensor<?x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %v = math.exp %in : f32
    linalg.yield %v : f32
  } -> tensor<?x8xf32> loc("dyn")
  %c4 = arith.constant 4 : index
  %blk = scf.forall (%i) in (%c4) shared_outs(%o = %a) -> (tensor<16x64xf32>) {
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %o into %o[0, 0] [16, 64] [1, 1]
          : tensor<16x64xf32> into tensor<16x64xf32>
    }
  } {sparq.fused_block = "test block", sparq.kernel_cost = array<i64: 1000, 200>} loc("blk")
  %s = tensor.extract_slice %blk[0, 0] [1, 4] [1, 1] : tensor<16x64xf32> to tensor<4xf32>
  return %r, %x, %s : tensor<16x32xf32>, tensor<?x8xf32>, tensor<4xf32>
}

// CHECK: module attributes {sparq.profile = "sparq-profile 1\0Akernels 5\0A0\090\092052\09fill\09mm\0A1\0965536\0916384\09matmul\09mm\0A2\09512\094096\09elementwise\09relu+extra\0A3\09-1\09-1\09elementwise\09dyn\0A4\091000\09200\09fused block\09test block: blk\0A"}
// CHECK-DAG: func.func private @sparq_uk_profile_begin(i32)
// CHECK-DAG: func.func private @sparq_uk_profile_end(i32)
// CHECK-LABEL: func.func @main
// CHECK: %[[K0:.*]] = arith.constant 0 : i32
// CHECK: call @sparq_uk_profile_begin(%[[K0]])
// CHECK-NEXT: linalg.fill
// CHECK-NEXT: call @sparq_uk_profile_end(%[[K0]])
// CHECK: %[[K1:.*]] = arith.constant 1 : i32
// CHECK: call @sparq_uk_profile_begin(%[[K1]])
// CHECK-NEXT: linalg.matmul
// CHECK-NEXT: call @sparq_uk_profile_end(%[[K1]])
// CHECK: call @sparq_uk_profile_begin
// CHECK-NEXT: linalg.generic
// CHECK: call @sparq_uk_profile_end
// CHECK: tensor.dim
// CHECK-NOT: call @sparq_uk_profile
// CHECK: tensor.empty
// CHECK: call @sparq_uk_profile_begin
// CHECK-NEXT: linalg.generic
// CHECK: call @sparq_uk_profile_end
// CHECK: call @sparq_uk_profile_begin
// CHECK-NEXT: scf.forall
// CHECK: call @sparq_uk_profile_end
// CHECK-NEXT: tensor.extract_slice
// CHECK-NEXT: return

// The calls keep the kernel's location.
// NAMES: call @sparq_uk_profile_begin({{.*}}) : (i32) -> () loc(#[[MM:loc[0-9]*]])
// NAMES: #[[MM]] = loc("mm")
