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
  let summary = "Lower compressed-weight ops to reference upstream IR";
  let description = [{
    The reference semantics of every compressed op, as plain linalg/tensor/arith IR on tensors:
    `sparq_weight.linear` / `conv2d` / `decode` decode their format list (each format's
    `buildDecode`), and the ops of every scheme dialect are lowered by the patterns the dialect
    contributes (`WeightSchemeDialectInterface`): packed weights are unpacked (bit extraction in
    `linalg.generic` bodies), dequantized, and fed to a dense contraction or convolution. It is
    the correctness baseline every faster lowering is checked against, and lets any compressed
    program run on the CPU.

    ```mlir
    %y = sparq_weight.linear %x [%p, %s] formats [#sparq_quant.scheme<...>]
        : (...) -> tensor<8x32xf32>
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

def CompressWeightsPass : Pass<"sparq-compress-weights", "mlir::ModuleOp"> {
  let summary = "Compress the constant weights of MatMul, Gemm and Conv nodes";
  let description = [{
    Runs on imported (`sparq_onnx`) IR. For every `MatMul` / `Gemm` with a constant 2-D weight
    and every 2-D, group-1 `Conv` with a constant weight (selected by `only` / `skip` regular
    expressions over node and initializer names, and by per-layer settings of a `recipe`), it
    resolves its settings into an ordered list of weight formats, compresses the weight at compile
    time through the formats' host compressors and replaces the node with
    `sparq_weight.linear` / `sparq_weight.conv2d` over the packed constants:

    - `scheme=LIST`: comma-separated formats of any registered scheme dialect, applied in order
      (`2:4,w4g128` prunes to 2:4, then quantizes the kept values to 4 bits in groups of 128;
      `mxfp4`; `2:4,nvfp4`; the forms are listed in docs/compression.md);
    - the shorthands `sparsity=N:M`, `wbits=B` (`group`, `symmetric`) and `shiftadd=Q` (`pow2`)
      spell such a list (pruning always first);
    - `search-clip`: the quantizer searches each group's error-minimizing clipping ratio;
    - `rearrange`: for MatMul/Gemm with an encoding (quantization, shift-add, ...), permute the
      reduction channels by outlier score before compressing, keep the permutation only if it
      lowers the weight error, and fold it into the producer of the activation (the rows of a
      MatMul/Gemm producer with a constant weight, through single-input elementwise nodes) or
      else gather the activation.

    Each compressed layer's report record (errors, sizes, bits per weight, both orders of
    pruning and quantization) goes to the report sink of `createCompressWeightsPass`. Only packed
    weights remain in the IR.
  }];
  let options = [
    Option<"scheme", "scheme", "std::string", "\"\"",
           "ordered, comma-separated weight formats, e.g. 2:4,w4g128 or mxfp4">,
    Option<"sparsity", "sparsity", "std::string", "\"\"", "N:M structured sparsity, e.g. 2:4">,
    Option<"wbits", "wbits", "unsigned", "0", "weight bits 1-8 (0: no quantization)">,
    Option<"group", "group", "int64_t", "128",
           "quantization group size along K (0: per channel, -1: per tensor)">,
    Option<"symmetric", "symmetric", "bool", "true", "symmetric (signed) or asymmetric codes">,
    Option<"shiftadd", "shiftadd", "unsigned", "0", "binary planes for shift-add (0: off)">,
    Option<"pow2", "pow2", "bool", "false", "round shift-add scales to powers of two">,
    Option<"searchClip", "search-clip", "bool", "false",
           "search the error-minimizing clipping ratio per group">,
    Option<"rearrange", "rearrange", "bool", "false", "outlier channel rearrangement">,
    Option<"only", "only", "std::string", "\"\"",
           "compress only layers whose node or weight name matches this regex">,
    Option<"skip", "skip", "std::string", "\"\"",
           "leave layers whose node or weight name matches this regex dense">,
    Option<"recipe", "recipe", "std::string", "\"\"",
           "JSON file with per-layer settings (docs/compression.md)">
  ];
  let dependentDialects = ["sparq::weight::SparqWeightDialect",
                           "mlir::arith::ArithDialect", "mlir::linalg::LinalgDialect",
                           "mlir::tensor::TensorDialect"];
}

class SparqCompressionTechniquePass<string flag> : Pass<flag, "mlir::ModuleOp"> {
  let dependentDialects = ["sparq::weight::SparqWeightDialect",
                           "mlir::arith::ArithDialect", "mlir::linalg::LinalgDialect",
                           "mlir::tensor::TensorDialect"];
}

def NMPrunePass : SparqCompressionTechniquePass<"sparq-nm-prune"> {
  let summary = "N:M magnitude pruning of MatMul/Gemm/Conv weights (packed sparq_nm consumers)";
  let description = [{
    `sparq-compress-weights` restricted to N:M sparsity: every selected weight is pruned by
    magnitude along its reduction dimension and the node becomes `sparq_weight.linear` /
    `sparq_weight.conv2d` with packed values and indices. Techniques are applied to a layer once;
    to combine pruning with quantization (pruning first), use `sparq-compress-weights` with both
    `sparsity` and `wbits`.
  }];
  let options = [
    Option<"n", "n", "unsigned", "2", "kept values per group (N)">,
    Option<"m", "m", "unsigned", "4", "group size along K (M, at most 16)">,
    Option<"only", "only", "std::string", "\"\"", "regex of node / weight names to compress">,
    Option<"skip", "skip", "std::string", "\"\"", "regex of node / weight names to leave dense">
  ];
}

def QuantQuantizePass : SparqCompressionTechniquePass<"sparq-quant-quantize"> {
  let summary = "Round-to-nearest weight quantization (packed sparq_quant consumers)";
  let description = [{
    `sparq-compress-weights` restricted to uniform quantization: 1-8 bits, symmetric or
    asymmetric, per-tensor, per-channel or group-wise along K, optional clipping search and
    outlier channel rearrangement (`rearrange-channels`, folded into the activation's producer).
    The node becomes `sparq_weight.linear` / `sparq_weight.conv2d` with sub-byte packed codes.
  }];
  let options = [
    Option<"bits", "bits", "unsigned", "4", "bits per weight (1-8)">,
    Option<"group", "group", "int64_t", "128", "group size along K (0: per channel, -1: per tensor)">,
    Option<"symmetric", "symmetric", "bool", "true", "symmetric (signed) or asymmetric codes">,
    Option<"searchClip", "search-clip", "bool", "false", "search the clipping ratio per group">,
    Option<"rearrangeChannels", "rearrange-channels", "bool", "false",
           "outlier channel rearrangement (MatMul/Gemm)">,
    Option<"only", "only", "std::string", "\"\"", "regex of node / weight names to compress">,
    Option<"skip", "skip", "std::string", "\"\"", "regex of node / weight names to leave dense">
  ];
}

def ShiftAddFitPass : SparqCompressionTechniquePass<"sparq-shiftadd-fit"> {
  let summary = "Binary-coded (shift-add) reparameterization of MatMul/Gemm weights";
  let description = [{
    `sparq-compress-weights` restricted to shift-add: each selected MatMul/Gemm weight is fitted
    with `q` binary planes and group-wise scales by alternating refinement (optionally
    power-of-two scales) and the node becomes `sparq_weight.linear` over the sign planes.
  }];
  let options = [
    Option<"q", "q", "unsigned", "2", "binary planes (1-8)">,
    Option<"group", "group", "int64_t", "128", "scale group size along K">,
    Option<"pow2", "pow2", "bool", "false", "round scales to powers of two">,
    Option<"rearrangeChannels", "rearrange-channels", "bool", "false",
           "outlier channel rearrangement before fitting">,
    Option<"only", "only", "std::string", "\"\"", "regex of node / weight names to compress">,
    Option<"skip", "skip", "std::string", "\"\"", "regex of node / weight names to leave dense">
  ];
}

def QuantReorderPass : Pass<"sparq-quant-reorder", "mlir::ModuleOp"> {
  let summary = "Rewrite quantize-then-prune chains into prune-then-quantize";
  let description = [{
    Pruning and quantization do not commute and pruning first is the lower-error order. This pass
    finds `sparq_nm.prune(sparq_quant.dequantize(sparq_quant.quantize(W, s[, z]), s[, z]))` and,
    when `W` is a constant, rewrites it to
    `sparq_quant.dequantize(sparq_quant.quantize(P, s'[, z']), s'[, z'])` with
    `P = sparq_nm.prune(W)` and parameters `s'`, `z'` recomputed on the kept values only. A chain
    whose weight is not a constant cannot have its parameters recomputed and is reported.
  }];
  let dependentDialects = ["sparq::nm::SparqNMDialect", "sparq::quant::SparqQuantDialect"];
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

def LinalgFuseElementwisePass : Pass<"sparq-linalg-fuse-elementwise", "mlir::func::FuncOp"> {
  let summary = "Fuse elementwise linalg ops, never into a contraction or reduction";
  let description = [{
    Upstream's `linalg-fuse-elementwise-ops` (elementwise producer/consumer fusion, reshape
    propagation by expansion, constant folding of linalg ops) with one rule changed: a producer
    is fused into its consumer only when the consumer has no reduction loop. Fused into a
    contraction, an elementwise producer is recomputed for every point of the contraction's
    iteration space, and the contraction no longer matches a micro-kernel.

    ```mlir
    %s = linalg.generic {iterator_types = ["parallel", "parallel"]} ins(%g) ... // SiLU
    %h = linalg.generic {iterator_types = ["parallel", "parallel"]} ins(%s, %u) ... // * up
    %y = linalg.matmul ins(%h, %w_down ...)
    // becomes: SiLU and * fused into one elementwise generic; the matmul is left alone
    ```
  }];
  let dependentDialects = ["mlir::linalg::LinalgDialect", "mlir::tensor::TensorDialect",
                           "mlir::affine::AffineDialect"];
}

def SelectMicroKernelsPass : Pass<"sparq-cpu-select-ukernels", "mlir::func::FuncOp"> {
  let summary = "Mark contractions that the CPU micro-kernels run";
  let description = [{
    Marks, with the attribute `sparq.ukernel = "sgemm_f32"`, every static f32 `linalg`
    contraction on tensors whose right-hand side is a constant weight (MatMul, Gemm, a MatMul
    with a batched activation and a 2-D weight): one reduction dimension, one N dimension, any
    number of M dimensions that are outer, in the same order, in the activation and the result,
    the activation's reduction dimension innermost. `sparq-linalg-distribute` splits marked ops
    along N in whole weight panels, `sparq-linalg-tile-vectorize` leaves them alone, and
    `sparq-cpu-lower-ukernels` turns them into kernel calls after bufferization.

    ```mlir
    %y = linalg.matmul ins(%x, %w : tensor<16x4096xf32>, tensor<4096x4096xf32>) outs(%z : ...)
    // becomes
    %y = linalg.matmul {sparq.ukernel = "sgemm_f32"} ins(%x, %w : ...) outs(%z : ...)
    ```
  }];
}

def LowerMicroKernelsPass : Pass<"sparq-cpu-lower-ukernels", "mlir::ModuleOp"> {
  let summary = "Replace marked contractions on buffers with micro-kernel calls";
  let description = [{
    Runs after bufferization. For every op marked by `sparq-cpu-select-ukernels`, packs its
    constant weight at compile time into panels of `panel-width` columns
    (include/sparq/Formats/DensePanels.h) as a new 64-byte aligned `memref.global` (one per
    weight, shared by every chunk that reads it), and replaces the op with a call of
    `sparq_uk_sgemm_packed_f32` (include/sparq/Kernels/UKernels.h) on the addresses of its
    operands, starting at the panel of the chunk's first column.

    ```mlir
    linalg.matmul {sparq.ukernel = "sgemm_f32"}
        ins(%x, %wchunk : memref<16x4096xf32>, memref<4096x512xf32, strided<[4096, 1], offset: ?>>)
        outs(%ychunk : memref<16x512xf32, strided<[4096, 1], offset: ?>>)
    // becomes
    %wp = memref.get_global @w_panels : memref<128x4096x32xf32>
    func.call @sparq_uk_sgemm_packed_f32(%yaddr, %c4096, %xaddr, %c4096, %wpaddr, %c16, %c512,
                                         %c4096, %c1) : (index, ...) -> ()
    ```

    A marked op whose weight is not a constant global, whose chunk does not start on a panel
    boundary or whose buffers are not row-major with unit inner stride is an error (the selection
    and distribution passes guarantee all three).
  }];
  let options = [
    Option<"panelWidth", "panel-width", "int64_t", "32",
           "columns per packed weight panel: 32 for the AVX-512 kernels, 16 for AVX2">,
    Option<"tileRows", "tile-rows", "int64_t", "8",
           "output channels per packed filter tile: 8 for the AVX-512 kernels, 6 for AVX2">
  ];
  let dependentDialects = ["mlir::func::FuncDialect", "mlir::memref::MemRefDialect",
                           "mlir::arith::ArithDialect"];
}

#endif // SPARQ_PASSES_TD
