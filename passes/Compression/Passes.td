//===- passes/Compression/Passes.td - compression passes ---*- tablegen -*-===//
#ifndef SPARQ_COMPRESSION_PASSES_TD
#define SPARQ_COMPRESSION_PASSES_TD

include "mlir/Pass/PassBase.td"

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
      else gather the activation;
    - `method`: `rtn` (data-free, the default), or with calibration statistics (given to
      `createCompressWeightsPass` by `sparq-compile --calibration`) `gptq` (quantization with
      second-order error compensation), `wanda` (N:M pruning by |w|·‖x‖) or `sparsegpt` (N:M
      pruning with compensation, and GPTQ for a quantization of the dense weight). With
      statistics, every layer is also compressed round-to-nearest, the layer output errors of
      both are reported, and the method's result is kept only if its output error is lower.

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
    Option<"method", "method", "std::string", "\"rtn\"",
           "rtn, or (with calibration statistics) gptq, wanda, sparsegpt or awq">,
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

#endif // SPARQ_COMPRESSION_PASSES_TD
