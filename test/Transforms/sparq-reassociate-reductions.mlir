// Tests that sparq-reassociate-reductions marks exactly the float add or multiply that folds an
// element into a reduction accumulator as reassociable, and leaves every other op alone.
// RUN: sparq-opt %s --sparq-reassociate-reductions | FileCheck %s

// A global average pool's sum (linalg.reduce over H and W).
// CHECK-LABEL: func.func @pool_sum
// CHECK: linalg.reduce
// CHECK: arith.addf %{{.*}}, %{{.*}} fastmath<reassoc> : f32
func.func @pool_sum(%x: memref<1x64x28x28xf32>, %acc: memref<1x64xf32>) {
  linalg.reduce ins(%x : memref<1x64x28x28xf32>) outs(%acc : memref<1x64xf32>) dimensions = [2, 3]
    (%in: f32, %init: f32) {
      %s = arith.addf %in, %init : f32
      linalg.yield %s : f32
    }
  return
}

// A sum of squares: the square is not a combiner (only the add that reads the accumulator is
// marked); existing flags are kept.
// CHECK-LABEL: func.func @sum_of_squares
// CHECK: arith.mulf %{{.*}}, %{{.*}} : f32
// CHECK-NEXT: arith.addf %{{.*}}, %{{.*}} fastmath<reassoc,contract> : f32
func.func @sum_of_squares(%x: memref<16x1024xf32>, %acc: memref<16xf32>) {
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<16x1024xf32>) outs(%acc : memref<16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %sq = arith.mulf %in, %in : f32
    %s = arith.addf %sq, %out fastmath<contract> : f32
    linalg.yield %s : f32
  }
  return
}

// A product reduction.
// CHECK-LABEL: func.func @product
// CHECK: arith.mulf %{{.*}}, %{{.*}} fastmath<reassoc> : f32
func.func @product(%x: memref<8x32xf32>, %acc: memref<8xf32>) {
  linalg.reduce ins(%x : memref<8x32xf32>) outs(%acc : memref<8xf32>) dimensions = [1]
    (%in: f32, %init: f32) {
      %p = arith.mulf %in, %init : f32
      linalg.yield %p : f32
    }
  return
}

// Left alone: an elementwise add (no reduction loop), a max reduction (exact in any order), and
// a reduction whose yielded value does not read the accumulator directly (add then scale).
// CHECK-LABEL: func.func @left_alone
// CHECK-NOT: reassoc
// CHECK: return
func.func @left_alone(%x: memref<8x32xf32>, %y: memref<8x32xf32>, %acc: memref<8xf32>) {
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%x : memref<8x32xf32>) outs(%y : memref<8x32xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s = arith.addf %in, %out : f32
    linalg.yield %s : f32
  }
  linalg.reduce ins(%x : memref<8x32xf32>) outs(%acc : memref<8xf32>) dimensions = [1]
    (%in: f32, %init: f32) {
      %m = arith.maximumf %in, %init : f32
      linalg.yield %m : f32
    }
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<8x32xf32>) outs(%acc : memref<8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s = arith.addf %in, %out : f32
    %h = arith.mulf %s, %s : f32
    linalg.yield %h : f32
  }
  return
}
