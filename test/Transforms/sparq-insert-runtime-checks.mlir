// Tests sparq-insert-runtime-checks: a generic over dynamic operands gets upstream's size checks
// with messages naming the ONNX node of its location; ops inside a linalg body (a Gather's
// tensor.extract) and inside an scf.forall get none, since those run on worker threads; on
// static shapes the checks fold away.
// RUN: sparq-opt %s --pass-pipeline='builtin.module(func.func(sparq-insert-runtime-checks),canonicalize)' -split-input-file | FileCheck %s

#map = affine_map<(d0) -> (d0)>
// CHECK-LABEL: func.func @add_dynamic
// CHECK: cf.assert %{{.*}}, "node 'add_ab': dimension #0 of input/output operand #1 is incompatible with inferred dimension size"
// CHECK: linalg.generic
func.func @add_dynamic(%a: tensor<?xf32>, %b: tensor<?xf32>) -> tensor<?xf32> {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %a, %c0 : tensor<?xf32>
  %e = tensor.empty(%n) : tensor<?xf32>
  %r = linalg.generic {indexing_maps = [#map, #map, #map], iterator_types = ["parallel"]}
      ins(%a, %b : tensor<?xf32>, tensor<?xf32>) outs(%e : tensor<?xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %s = arith.addf %x, %y : f32
    linalg.yield %s : f32
  } -> tensor<?xf32> loc("add_ab"("model.onnx":0:0))
  return %r : tensor<?xf32>
}

// -----

#map = affine_map<(d0) -> (d0)>
// CHECK-LABEL: func.func @add_static
// CHECK-NOT: cf.assert
func.func @add_static(%a: tensor<8xf32>, %b: tensor<8xf32>) -> tensor<8xf32> {
  %e = tensor.empty() : tensor<8xf32>
  %r = linalg.generic {indexing_maps = [#map, #map, #map], iterator_types = ["parallel"]}
      ins(%a, %b : tensor<8xf32>, tensor<8xf32>) outs(%e : tensor<8xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %s = arith.addf %x, %y : f32
    linalg.yield %s : f32
  } -> tensor<8xf32>
  return %r : tensor<8xf32>
}

// -----

// The extract in the body and the ops in the forall stay unchecked.
#map = affine_map<(d0) -> (d0)>
// CHECK-LABEL: func.func @nested
// CHECK: linalg.generic
// CHECK-NOT: cf.assert
// CHECK: tensor.extract
// CHECK: scf.forall
// CHECK-NOT: cf.assert
// CHECK: return
func.func @nested(%d: tensor<?xf32>, %i: tensor<4xindex>, %t: tensor<?xf32>) -> (tensor<4xf32>, tensor<?xf32>) {
  %e = tensor.empty() : tensor<4xf32>
  %r = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel"]}
      ins(%i : tensor<4xindex>) outs(%e : tensor<4xf32>) {
  ^bb0(%k: index, %o: f32):
    %v = tensor.extract %d[%k] : tensor<?xf32>
    linalg.yield %v : f32
  } -> tensor<4xf32>
  %f = scf.forall (%j) in (4) shared_outs(%o = %t) -> (tensor<?xf32>) {
    %s = tensor.extract_slice %o[%j] [1] [1] : tensor<?xf32> to tensor<1xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %s into %o[%j] [1] [1] : tensor<1xf32> into tensor<?xf32>
    }
  }
  return %r, %f : tensor<4xf32>, tensor<?xf32>
}
