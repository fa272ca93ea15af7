//===- passes/Passes.td - sparq passes ---------------------*- tablegen -*-===//
#ifndef SPARQ_PASSES_TD
#define SPARQ_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertONNXToLinalgPass : Pass<"sparq-convert-onnx-to-linalg", "mlir::ModuleOp"> {
  let summary = "Convert sparq_onnx nodes to linalg, tensor, arith and math";
  let description = [{
    Rewrites every `sparq_onnx.node` of the default ONNX domain into upstream dialects on tensors
    (the "model contract" form, see docs/contract.md) and turns ONNX's signed/unsigned integer
    element types into signless ones, including the function signature and constants.

    Before:
    ```mlir
    %0 = sparq_onnx.node "Relu"(%x) {attrs = {}, domain = "", name = "r", opset = 14 : i64}
           : (tensor<4xf32>) -> tensor<4xf32>
    ```
    After:
    ```mlir
    %e = tensor.empty() : tensor<4xf32>
    %0 = linalg.generic {...} ins(%x : tensor<4xf32>) outs(%e : tensor<4xf32>) {
      ^bb0(%in: f32, %out: f32):
        %z = arith.constant 0.0 : f32
        %m = arith.maximumf %in, %z : f32
        linalg.yield %m : f32
    } -> tensor<4xf32>
    ```

    An op that has no conversion, or an attribute value that is not supported, is reported with the
    op type, node name, domain and opset, and the pass fails.
  }];
  let dependentDialects = [
    "mlir::arith::ArithDialect", "mlir::linalg::LinalgDialect", "mlir::math::MathDialect",
    "mlir::tensor::TensorDialect", "mlir::scf::SCFDialect", "mlir::func::FuncDialect",
    "mlir::bufferization::BufferizationDialect"
  ];
}

def ConvertCompressedToLinalgPass
    : Pass<"sparq-convert-compressed-to-linalg", "mlir::ModuleOp"> {
  let summary = "Lower sparq_nm / sparq_quant / sparq_shiftadd ops to reference upstream IR";
  let description = [{
    The reference semantics of every compressed op, as plain linalg/tensor/arith IR on tensors:
    packed weights are unpacked (bit extraction in `linalg.generic` bodies), dequantized, and fed
    to a dense contraction or convolution. It is the correctness baseline every faster lowering
    is checked against, and lets any compressed program run on the CPU.

    ```mlir
    %y = sparq_quant.matmul %x, %p, %s {scheme = ...} : (...) -> tensor<8x32xf32>
    // becomes
    %codes = linalg.generic {...} ins() outs(...)   // code (r, k) from bytes of %p
    %w = linalg.generic {...}                       // (code - zero_point) * scale
    %y = linalg.generic {... iterator_types = ["parallel", "parallel", "reduction"]}
           ins(%x, %w) outs(%zero)                  // y[m, n] = sum_k x[m, k] * w[n, k]
    ```
  }];
  let dependentDialects = ["mlir::arith::ArithDialect", "mlir::linalg::LinalgDialect",
                           "mlir::tensor::TensorDialect", "mlir::math::MathDialect"];
}

def VerifyContractPass : Pass<"sparq-verify-contract", "mlir::ModuleOp"> {
  let summary = "Check that a module is in sparq's model contract form";
  let description = [{
    Fails, naming the offending op, when the module still contains `sparq_onnx` ops, uses element
    types that are not signless, or has more or less than one public entry function carrying the
    `sparq.entry` attribute. See docs/contract.md for the contract.
  }];
}

def LinalgTileAndVectorizePass : Pass<"sparq-linalg-tile-vectorize", "mlir::func::FuncOp"> {
  let summary = "Tile and vectorize matmul, batch matmul and convolution ops";
  let description = [{
    Tiles every `linalg` contraction and convolution on tensors with the given tile sizes (loops
    become `scf.for`), then vectorizes the tiles with `linalg::vectorize` so the inner kernels use
    vector registers instead of scalar loops. Ops that cannot be vectorized are left tiled.
  }];
  let options = [
    Option<"tileM", "tile-m", "int64_t", "8", "tile size along the M (rows/output pixels) dimension">,
    Option<"tileN", "tile-n", "int64_t", "32", "tile size along the N (output channels) dimension">,
    Option<"tileK", "tile-k", "int64_t", "16", "tile size along the reduction dimension">
  ];
  let dependentDialects = ["mlir::scf::SCFDialect", "mlir::vector::VectorDialect",
                           "mlir::tensor::TensorDialect", "mlir::linalg::LinalgDialect"];
}

def LinalgDistributePass : Pass<"sparq-linalg-distribute", "mlir::func::FuncOp"> {
  let summary = "Split large linalg ops into scf.forall chunks for multi-threading";
  let description = [{
    Tiles the outermost parallel loop of every static linalg op on tensors whose iteration space
    has at least `min-work` points into `scf.forall` chunks (at most `chunks` of them, each a
    full, equal-sized tile). After bufferization the forall loops become `scf.parallel` and then
    OpenMP parallel loops, so the artifact runs them on the threads set with
    `sparq_model_set_num_threads_v1`.

    ```mlir
    %r = linalg.matmul ins(%a, %b : tensor<64x96xf32>, tensor<96x128xf32>) outs(%c : ...)
    // becomes
    %r = scf.forall (%i) in (16) shared_outs(%o = %c) -> (tensor<64x128xf32>) {
      // linalg.matmul on rows [4*%i, 4*%i+4)
    }
    ```
  }];
  let options = [
    Option<"minWork", "min-work", "int64_t", "32768",
           "smallest iteration-space size (points) worth distributing">,
    Option<"maxChunks", "chunks", "int64_t", "8", "largest number of chunks per op">
  ];
  let dependentDialects = ["mlir::scf::SCFDialect", "mlir::tensor::TensorDialect"];
}

def LowerStridedCopiesPass : Pass<"sparq-lower-strided-copies", "mlir::func::FuncOp"> {
  let summary = "Rewrite memref.copy between non-contiguous buffers as linalg.copy";
  let description = [{
    `memref.copy` between buffers with non-identity layouts lowers to a call of `memrefCopy`
    from MLIR's C runner utilities, which artifacts must not depend on. This pass turns those
    copies into `linalg.copy`, which later becomes plain loops; contiguous copies are left alone
    (they become `llvm.memcpy`).
  }];
  let dependentDialects = ["mlir::linalg::LinalgDialect"];
}

def PrepareEntryPass : Pass<"sparq-prepare-entry", "mlir::ModuleOp"> {
  let summary = "Make the entry function's outputs fresh buffers and expose a C interface";
  let description = [{
    Marks the `sparq.entry` function with `llvm.emit_c_interface`, marks its arguments
    `bufferization.writable = false`, records the signature text of docs/artifact-abi.md as the
    module attribute `sparq.signature`, and makes every returned tensor a fresh allocation
    (`bufferization.alloc_tensor` + `linalg.copy`) when it is a constant, a function argument, a
    view (reshape, slice, cast) or returned twice, so that the artifact ABI can hand every output
    buffer to the caller.
  }];
  let dependentDialects = ["mlir::bufferization::BufferizationDialect",
                           "mlir::linalg::LinalgDialect", "mlir::tensor::TensorDialect"];
}

#endif // SPARQ_PASSES_TD
