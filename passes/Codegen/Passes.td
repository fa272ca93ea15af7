//===- passes/Codegen/Passes.td - CPU code generation passes -*- tablegen -*-===//
#ifndef SPARQ_CODEGEN_PASSES_TD
#define SPARQ_CODEGEN_PASSES_TD

include "mlir/Pass/PassBase.td"

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
    full, equal-sized tile). Micro-kernel convolutions split their images, else their output
    rows, else (one image of one row: a 1-D convolution as 2-D) their output columns in whole
    32-pixel panels of the kernel; the packed-weight GEMM is left whole (its kernel splits its
    work itself). After bufferization the forall loops become `scf.parallel` and then
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

def InlineAllocaScopesPass : Pass<"sparq-inline-alloca-scopes", "mlir::ModuleOp"> {
  let summary = "Inline memref.alloca_scope ops whose body allocates nothing on the stack";
  let description = [{
    `convert-scf-to-openmp` wraps each parallel loop body in a `memref.alloca_scope`, whose
    region must stay one block. When the body holds loops that later become branches
    (`convert-scf-to-cf`: the fill of a padded tile in a fused block, an elementwise op left as
    loops), the scope would no longer verify. A scope with no `memref.alloca` in it (outside
    nested scopes) reclaims nothing, so its body is inlined into the parent before the loops are
    lowered; scopes with allocas are left alone.
  }];
  let dependentDialects = ["mlir::memref::MemRefDialect"];
}

def InsertRuntimeChecksPass : Pass<"sparq-insert-runtime-checks", "mlir::func::FuncOp"> {
  let summary = "Check at run time what the compiled code assumes about dynamic shapes";
  let description = [{
    Asks every op of the function that implements `RuntimeVerifiableOpInterface` (linalg
    structured ops, `tensor.cast`, `tensor.dim`, `tensor.extract`, `tensor.extract_slice`, ...)
    for the checks of its dynamic sizes and indices, and inserts them as `cf.assert` before the
    op, with a one-line message that names the ONNX node (the op's `NameLoc`):

    ```mlir
    // a[N] + b[M]: the generic takes its size from a
    cf.assert %same, "node 'add_ab': dimension #0 of input/output operand #1 is incompatible with inferred dimension size"
    %y = linalg.generic ... ins(%a, %b : tensor<?xf32>, tensor<?xf32>) ...
    ```

    Ops inside the regions of linalg ops and of `scf.forall` / `scf.parallel` are skipped: the
    checks stay outside anything that later runs on worker threads, so that a failed check can
    leave the invocation on the calling thread (`sparq-lower-runtime-checks`). On static shapes
    the checks fold away. `cf.assert`s that other passes created (Gather's index checks) are
    lowered the same way.
  }];
  let dependentDialects = ["mlir::cf::ControlFlowDialect", "mlir::index::IndexDialect",
                           "mlir::scf::SCFDialect", "mlir::arith::ArithDialect"];
}

def LowerRuntimeChecksPass : Pass<"sparq-lower-runtime-checks", "mlir::ModuleOp"> {
  let summary = "Lower cf.assert to a call of the artifact's check-failure hook";
  let description = [{
    Replaces every `cf.assert %ok, "message"` by a branch to a block that calls
    `sparq_uk_check_failed(const char *message)` (runtime/kernels/Checks.cpp, linked into every
    artifact; it does not return), instead of upstream's lowering that prints the message and
    aborts the process. The hook ends the invocation: `sparq_model_invoke_v2` returns the
    message as its status (docs/artifact-abi.md). Runs after `convert-scf-to-cf`. An assert
    inside an OpenMP region would fail on a worker thread, which cannot leave the invocation;
    the pass refuses it with an error.
  }];
  let dependentDialects = ["mlir::LLVM::LLVMDialect", "mlir::cf::ControlFlowDialect"];
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

def BlockFusionPass : Pass<"sparq-block-fusion", "mlir::ModuleOp"> {
  let summary = "Compute each convolution block as one loop over tiles of output rows";
  let description = [{
    Finds convolution blocks on tensors and computes each as one `scf.forall` over tiles of its
    output rows (and images), so that the block's intermediates exist only one tile at a time and
    stay in the cache instead of going to memory and back between layers (ConvFirst, "On the
    Efficiency of Convolutional Neural Networks"; docs/codegen.md).

    A block is found from its last op backwards along the data operand of each op: up to three
    NCHW convolutions (plain or depthwise) of which at most one has a spatial kernel or a
    stride, the elementwise ops (activations, batch-norm scales) and constant paddings between
    them, each used only by the next; the broadcasts of their biases; when the last op is an
    elementwise op of two full-size operands, a residual add whose other operand is the skip
    connection, and a convolution of the block input on the skip side (a projection shortcut).
    A block needs two convolutions on its main path. A value used twice inside the chain, or an
    op that is not elementwise (a pooling, a reshape) ends the chain there.

    Upstream's tile-and-fuse (`scf::tileConsumerAndFuseProducersUsingSCF`) tiles the last op and
    pulls the others into the loop: each computes the rows its consumer's tile reads, so the
    halo rows of a k x k convolution are recomputed by neighbouring tiles. The tile height is
    the largest that keeps the block's per-tile intermediates within `scratch-kib` and gives at
    least `min-tiles` tiles per image (the tiles are the loop's parallel iterations), preferring
    one that divides the output height. The convolutions inside keep running on the
    micro-kernels (`sparq-cpu-select-ukernels` marks them afterwards). The loop carries
    `sparq.fused_block` (what was fused) and `sparq.tile_rows`; with `report`, a remark names
    each fused block and each convolution chain left alone, with the reason.

    An inverted-residual block (MobileNetV2/EfficientNet: 1x1 expand -> depthwise -> 1x1
    project, each with a constant filter and bias, clamps between them such as ReLU or ReLU6,
    zero padding, optionally adding the block input) is instead replaced by one call of the
    `sparq_uk_mbconv_f32_mt` kernel (with `inverted-residual-kernel`, the default): it computes
    the block output row by output row with the expanded rows channels-last in a small ring,
    which vectorizes all three convolutions along channels (runtime/kernels/InvertedResidual.cpp;
    the weights are packed at compile time, include/sparq/Formats/InvertedResidual.h). A filter
    that is computed in the model instead of a constant (decoded from compressed weights by the
    reference lowering of `sparq_weight.conv2d`) is packed at each call: the block's constant
    buffer (biases, clamps, constant filters) is copied into a scratch buffer and
    `sparq_uk_mbconv_pack_f32` packs the computed filters over their sections, so a compressed
    block runs on the same kernel and its artifact keeps the compressed weights. The
    kernel reads its inputs and writes its output on tensors through
    `bufferization.to_buffer`/`to_tensor`; the call carries `sparq.kernel_cost`.

    ```mlir
    %1 = linalg.conv_2d_nchw_fchw ins(%x, %w1 ...)        // 1x1, 64 -> 256 channels
    %2 = linalg.generic ... max(%1, 0)
    %p = tensor.pad %2 low[0, 0, 1, 1] high[0, 0, 1, 1]
    %3 = linalg.depthwise_conv_2d_nchw_chw ins(%p, %w2 ...)
    %5 = linalg.conv_2d_nchw_fchw ins(%4, %w3 ...)         // 1x1, 256 -> 64
    %y = linalg.generic ... %5 + %x
    // becomes
    %y = scf.forall (%r) = (0) to (56) step (8) shared_outs(%o = ...) {
      // the rows of %1 .. %5 that output rows [%r, %r + 8) need, then the add
    } {sparq.fused_block = "residual block of 3 convolutions (depthwise)", sparq.tile_rows = 8}
    ```
  }];
  let options = [
    Option<"scratchKiB", "scratch-kib", "int64_t", "1024",
           "budget for one tile's intermediates in KiB (about half an L2 cache)">,
    Option<"minTiles", "min-tiles", "int64_t", "4",
           "fewest row tiles per image (parallel iterations for the threads)">,
    Option<"report", "report", "bool", "false",
           "emit a remark for every fused block and every convolution chain left alone">,
    Option<"invertedResidualKernel", "inverted-residual-kernel", "bool", "true",
           "compute inverted-residual blocks with the one-pass kernel instead of row tiles">
  ];
  let dependentDialects = ["mlir::scf::SCFDialect", "mlir::tensor::TensorDialect",
                           "mlir::linalg::LinalgDialect", "mlir::affine::AffineDialect",
                           "mlir::arith::ArithDialect", "mlir::bufferization::BufferizationDialect",
                           "mlir::memref::MemRefDialect", "mlir::func::FuncDialect"];
}

def FuseAttentionPass : Pass<"sparq-cpu-fuse-attention", "mlir::ModuleOp"> {
  let summary = "Compute scaled dot-product attention as one kernel with an online softmax";
  let description = [{
    Finds attention blocks on tensors, as `sparq-convert-onnx-to-linalg` lowers the ONNX pattern
    `MatMul(Q, Kᵀ)`, a scale (`Mul` or `Div` by a scalar constant), an optional additive mask
    (`Add`), `Softmax` over the last axis and `MatMul(·, V)`, and replaces each with one call of
    `sparq_uk_attention_f32_mt` (runtime/kernels/Attention.cpp). The kernel streams the keys
    in blocks with a running row maximum and sum (FlashAttention's online softmax), so the
    batch x S x T score matrix, its exponentials and the probabilities are never stored: the
    block's memory is O(S·D) instead of O(S·T).

    A constant mask that is 0 on and below a diagonal (key j ≤ query i + offset, offset ≥ 0)
    and ≤ -1e9 above it is a causal mask: the kernel skips the key blocks past each query
    block instead of reading it (with such a mask the masked exponentials are exactly 0 in
    f32 unless a score exceeds 1e9 in magnitude). Any other mask, constant or computed, is
    read as a tensor of the scores' last two dims (broadcast over the batch dims, or one per
    batch).

    When Kᵀ is a transpose of K used only here, the kernel reads K's rows itself and the
    transpose (a copy of the key cache per decoding step) goes. Where a batch may have more
    than one task of query rows (S dynamic or above 128), the call passes a scratch buffer in
    which the kernel packs every key block once for all the batch's tasks.

    Needs f32 and a static head dimension D ≤ 256, the same for Q and V; batch and sequence
    sizes may be dynamic (the kernel reads them at run time). A softmax over the scores of a
    matmul that does not fit the pattern stays as it is, and with `report` a remark says why.
    Runs before elementwise fusion, at -O2 and above with block fusion on
    (`sparq-compile --block-fusion=off` disables it too).

    ```mlir
    %s = linalg.batch_matmul ins(%q, %kt ...)      // [8, S, D] x [8, D, T]
    %x = linalg.generic ... %s * 0.125, + %mask
    // softmax: linalg.reduce (max), linalg.generic (sum of exp), linalg.generic (exp / sum)
    %o = linalg.batch_matmul ins(%p, %v ...)       // [8, S, T] x [8, T, D]
    // becomes
    %buf = memref.alloc() : memref<8xSx64xf32>
    func.call @sparq_uk_attention_f32_mt(%out, ..., %q, ..., %kt, ..., %v, ..., %scale, %offset, %flags)
    %o = bufferization.to_tensor %buf restrict writable
    ```
  }];
  let options = [
    Option<"report", "report", "bool", "false",
           "emit a remark for every attention block fused and every one left alone">
  ];
  let dependentDialects = ["mlir::bufferization::BufferizationDialect",
                           "mlir::memref::MemRefDialect", "mlir::func::FuncDialect",
                           "mlir::arith::ArithDialect"];
}

def ProfileKernelsPass : Pass<"sparq-profile-kernels", "mlir::ModuleOp"> {
  let summary = "Time each kernel of the entry function (sparq-compile --profile)";
  let description = [{
    Brackets every kernel at the top level of the `sparq.entry` function with calls of
    `sparq_uk_profile_begin(id)` and `sparq_uk_profile_end(id)` (runtime/kernels/Profile.cpp) and
    records the kernel table as the module's `sparq.profile` string, which the artifact exports
    as `sparq_model_profile_v1` (include/sparq/Formats/KernelProfile.h, docs/profile.md).

    A kernel is a linalg op, an op with regions (a fused block's `scf.forall`, control flow, a
    padding), a call (a compressed-weight kernel), or a data-movement op that copies
    (insert_slice, concat, gather, scatter); constants, empty tensors, views and scalar shape
    arithmetic are not. Each table row gives the kernel's kind, its ONNX node names (from the
    importer's name locations), and its cost per call: arithmetic ops (a multiply-add counts
    two) and the least bytes it moves (every tensor read once, results written once), taken
    from the `sparq.kernel_cost` attribute that `sparq-block-fusion` and
    `sparq-cpu-compressed-ukernels` put on the kernels they build, or computed for one linalg op;
    -1 where shapes are dynamic.

    Runs on tensors after block fusion and before distribution and tiling, so that each kernel
    is still one op: what the later passes make of it stays between its two calls.

    ```mlir
    %y = linalg.matmul ins(%x, %w : ...) outs(%acc : ...) -> tensor<16x64xf32>
    // becomes
    call @sparq_uk_profile_begin(%c0_i32) : (i32) -> ()
    %y = linalg.matmul ins(%x, %w : ...) outs(%acc : ...) -> tensor<16x64xf32>
    call @sparq_uk_profile_end(%c0_i32) : (i32) -> ()
    // and the module gets sparq.profile = "sparq-profile 1\nkernels 1\n0\t32768\t...\n"
    ```
  }];
  let dependentDialects = ["mlir::func::FuncDialect", "mlir::arith::ArithDialect"];
}

def ApproximateMathPass : Pass<"sparq-approximate-math"> {
  let summary = "f32 exp, expm1, tanh and erf as inline polynomials instead of libm calls";
  let description = [{
    Rewrites `math.exp`, `math.expm1`, `math.tanh` and `math.erf` on f32 (scalars and vectors)
    into upstream MLIR's polynomial approximations (`populateMathPolynomialApproximationPatterns`):
    range reduction and a polynomial in plain arith ops, so that the loops of softmax, SiLU,
    sigmoid and GELU vectorize instead of calling libm's `expf`, `tanhf`, `erff` once per
    element. Other types and functions keep their libm calls. Runs in the CPU pipeline after
    bufferization, before the lowering to LLVM.
  }];
  let dependentDialects = ["mlir::arith::ArithDialect", "mlir::math::MathDialect",
                           "mlir::vector::VectorDialect"];
}

def ReassociateReductionsPass : Pass<"sparq-reassociate-reductions"> {
  let summary = "Let float sum and product reductions be reordered, so that they vectorize";
  let description = [{
    Sets the `reassoc` fast-math flag on the `arith.addf` or `arith.mulf` that folds an element
    into a linalg op's reduction accumulator (the op the body yields, with the accumulator's
    block argument as an operand), and on nothing else. Without it, LLVM must add the elements
    in their order, one dependent scalar add after another (about one element per add latency);
    with it, the loop vectorizer keeps vectors of partial sums and adds them up at the end.
    The result may differ from the sequential sum in the last bits (as onnxruntime's and every
    BLAS's reductions do). Runs in the CPU pipeline at -O1 and above, on the linalg ops that are
    left after bufferization (global pools, ReduceSum/Mean/L2/Prod, normalization statistics,
    unfused softmax sums); micro-kernels and vectorized tiles are not linalg ops any more.
  }];
  let dependentDialects = ["mlir::arith::ArithDialect", "mlir::linalg::LinalgDialect"];
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

    Elementwise ops whose inputs are all constants are evaluated at compile time into
    constants, with the target's arithmetic (float32 operations rounded as float32, integers
    wrapping at their width): e.g. a convolution filter stored as int8 and converted by the
    graph (Cast, Mul by a scale, Add an offset) becomes a float32 constant that the
    convolution kernel packs once at compile time, instead of being converted and packed at
    every call. Only arith ops the folder interprets (int/float conversions, add, sub, mul,
    div, neg) are folded, and only results of at most `fold-max-elements` elements and at most
    4x the bytes of their inputs (plus 64 KiB), so a broadcast of a small constant stays a loop.
  }];
  let options = [
    Option<"foldMaxElements", "fold-max-elements", "int64_t", "16777216",
           "Largest result (elements) of an elementwise op on constants folded at compile "
           "time; 0 folds none">
  ];
  let dependentDialects = ["mlir::linalg::LinalgDialect", "mlir::tensor::TensorDialect",
                           "mlir::affine::AffineDialect", "mlir::arith::ArithDialect"];
}

def SelectCompressedMicroKernelsPass
    : Pass<"sparq-cpu-compressed-ukernels", "mlir::ModuleOp"> {
  let summary = "Run compressed-weight consumers on the CPU kernels that exist for their formats";
  let description = [{
    The CPU backend's table of kernels for compressed weights, looked up by the kernel keys of a
    consumer's format list (`WeightFormatAttrInterface::getKernelKey`), for a
    `sparq_weight.linear` on an f32 activation [..., M, K] whose rows may be dynamic (M is
    passed at run time; the result keeps the input's leading dims)
    (include/sparq/Kernels/UKernels.h):

    - a single `#sparq_quant.scheme` (key `q...`: any width 1-8, group-wise, per-channel or
      per-tensor, symmetric or asymmetric): `sparq_uk_qgemm_f32_mt`; with `act-bits=8`, 2-, 4-
      and 8-bit codes in groups of a multiple of 32 use `sparq_uk_qgemm_i8_f32_mt` (activations
      quantized to int8 per group at run time, VNNI dot products); with `lut-codes` (a target
      with AVX-512), a constant 1- to 3-bit weight with float activations, one row of them
      (M = 1) and groups of a multiple of 32 (or one per row) runs on
      `sparq_uk_lutgemm_f32_mt` instead: its codes laid out here as bit planes (plane i = bit
      i of the code, its sign bit flipped when signed) with alphas `s * 2^(i-1)` and a
      per-group offset `s * ((2^B - 1) / 2 - z)` times the group's sum of activations
      (docs/packed-formats.md), which halves the time of a 2-bit GEMV;
    - `#sparq_nm.pattern` alone (fp32 kept values): `sparq_uk_nmgemm_f32_mt`;
    - `#sparq_nm.pattern` then `#sparq_quant.scheme`: `sparq_uk_nmqgemm_f32_mt`; with
      `act-bits=8` and `int8-tables`, 2:4 with 4-bit codes in groups of a multiple of 64 kept
      values (or one group per row) uses `sparq_uk_nmqgemm_i8_f32_mt` (int8 activations per
      group, gathered for the kept slots by one byte permute, vpdpbusd sums);
    - a single `#sparq_shiftadd.bcq` on a constant weight: `sparq_uk_lutgemm_f32_mt` (lookup
      tables of partial sums of activations indexed by the sign planes); with `act-bits=8` and
      `int8-tables` (a target with AVX-512 VBMI and VNNI), groups of a multiple of 32 or one
      group per row use `sparq_uk_lutgemm_i8_f32_mt` (the tables quantized to int8 per group,
      vpermb lookups, vpdpbusd sums). Both read a copy of the sign planes and scales
      interleaved by 16 rows, laid out here from the stored constants (docs/packed-formats.md);
      a binary-coded weight that is not a constant keeps the reference lowering.

    A `sparq_weight.linear` on `i8` activations (the exact integer product of an ONNX
    MatMulInteger) with a single `#sparq_quant.scheme` of 2-, 4- or 8-bit codes in groups of a
    multiple of 32 or one per row runs on `sparq_uk_qgemm_s8_f32_mt` where `int8-dot` is set (a
    target with AVX-512 VNNI: vpdpbusd on the activations as they are); otherwise its
    activations are converted to float for the kernel above.

    With `act-bits=8`, every layer that keeps float activations gets a warning that says why.
    An op marked `sparq.act_bits = 32` keeps float activations whatever `act-bits` says (an
    ONNX MatMulInteger computed exactly in float32, which int8 activations would not be).

    A `sparq_weight.conv2d` that is pointwise (1x1 kernel, unit strides, no padding) runs on the
    same kernels: its NCHW input is transposed to one row per pixel, the kernel computes
    [pixels, F], which is transposed back, and the bias is added. That is for images of fewer
    than 16 pixels (a convolution used as a fully connected layer, bound by its weight bytes);
    from 16 pixels on, a pointwise convolution with float activations keeps the reference
    lowering, whose filter, decoded at each call, runs on the dense convolution kernel that
    reads the NCHW input in place (bound by its multiply-adds, the transposes cost more than
    the decoded filter) and joins `sparq-block-fusion`'s blocks. The kernels read the packed
    operands as the formats store them (the lookup-table kernels: the interleaved copy); the
    call is built on tensors with
    `bufferization.to_buffer` / `to_tensor`. Consumers without a kernel keep the reference
    lowering of `sparq-convert-compressed-to-linalg`, which runs next.

    ```mlir
    %y = sparq_weight.linear %x [%codes, %scales] formats [#sparq_quant.scheme<bits = 4, ...>]
    // becomes
    %out = memref.alloc() : memref<1x4096xf32>
    func.call @sparq_uk_qgemm_f32_mt(%outaddr, %c4096, %xaddr, %c4096, %codesaddr, %c2048, ...)
    %y = bufferization.to_tensor %out restrict writable
    ```
  }];
  let options = [
    Option<"actBits", "act-bits", "int64_t", "0",
           "0: float activations; 8: quantize activations to int8 per weight group at run time "
           "where a kernel supports it (2-, 4- or 8-bit codes in groups of a multiple of 32; "
           "where int8-tables is set, shift-add weights in groups of a multiple of 32 and 2:4 "
           "with 4-bit codes in groups of a multiple of 64 kept values)">,
    Option<"int8Dot", "int8-dot", "bool", "false",
           "The target has AVX-512 VNNI: a linear op on int8 activations (an ONNX "
           "MatMulInteger) runs on sparq_uk_qgemm_s8_f32_mt, integer dot products (sparq-compile "
           "sets it from --cpu); otherwise its activations are converted to float">,
    Option<"int8Tables", "int8-tables", "bool", "false",
           "The target has AVX-512 VBMI and VNNI, which the int8-table shift-add kernel "
           "sparq_uk_lutgemm_i8_f32_mt and the int8 N:M kernel sparq_uk_nmqgemm_i8_f32_mt need "
           "(sparq-compile sets it from --cpu)">,
    Option<"lutCodes", "lut-codes", "bool", "false",
           "The target has AVX-512, where the lookup-table kernel has its vector path: a "
           "constant 1- to 3-bit weight with float activations and one row of them (M = 1) "
           "runs on sparq_uk_lutgemm_f32_mt as bit planes with offsets (sparq-compile sets it "
           "from --cpu)">
  ];
  let dependentDialects = ["mlir::arith::ArithDialect", "mlir::bufferization::BufferizationDialect",
                           "mlir::memref::MemRefDialect", "mlir::tensor::TensorDialect",
                           "mlir::func::FuncDialect", "mlir::linalg::LinalgDialect"];
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

    Also marked: NCHW convolutions with a constant filter (`conv2d_nchw_f32`), NCHW depthwise
    convolutions (`dwconv2d_nchw_f32`), contractions whose right-hand side is computed at run
    time (`sgemm_rt_f32`), and f32 `linalg.transpose` ops that swap the last two dims
    (`transpose_f32`: `sparq_uk_transpose_f32` moves V x V blocks through registers, where the
    loops a transpose lowers to read one side an element at a time; the unfused Kᵀ of a
    4096-key, 8-head cache, 8 MiB, went from 3.37 to 1.43 ms on one core, 75 % of the DRAM
    roofline, and to 0.76 ms on two). The lowering keeps the loops for
    a transpose whose rows are not contiguous or whose leading dims do not collapse into one.
    Sums of an f32 tensor over its trailing dims (a global average pool's H x W, ReduceSum or
    ReduceMean over the last axes) are marked `row_sums_f32`: `sparq_uk_row_sums_f32` sums each
    row with four vector accumulators, where the loops keep one (cnn_blocks' 64 x 28 x 28 pool
    13 -> 2 us); the lowering keeps the loops where the summed elements are not contiguous.

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

//===----------------------------------------------------------------------===//
// CUDA target (sparq-compile --target=cuda; docs/cuda.md)
//===----------------------------------------------------------------------===//

def GpuTensorCoresPass : Pass<"sparq-gpu-tensor-cores", "mlir::ModuleOp"> {
  let summary = "Run compressed linear layers of a CUDA model on the tensor-core kernels";
  let description = [{
    The CUDA target's kernel table (docs/cuda.md, "Compressed layers on the tensor cores"). A
    `sparq_weight.linear` on f32 activations [..., M, K] with constant packed operands, N a
    multiple of 16 and K of 128, whose formats one of the kernels of
    runtime/kernels/cuda/MmaGemm.cu reads becomes: its activations rounded to fp16 (a loop
    kernel), a call of `sparq_uk_gpu_mma` (include/sparq/Kernels/UKernels.h) with the weight
    re-laid out at compile time into the fragment-ordered panels of
    include/sparq/Formats/MmaPanels.h (new constants, uploaded once like every weight), and the
    fp32 result. The artifact holds the kernels' fatbin, built with the compiler.

    Formats -> kernels: a 2-, 3-, 4- or 8-bit quantization scheme (any signedness, symmetric or
    asymmetric) whose groups are whole multiples of 128 along K, or one per row or tensor ->
    `w2`, `w3`, `w4`, `w8` (fp16 scales and zero points); 2:4 sparsity alone -> `sp24f16` (kept
    values in fp16), or followed by a 4-bit scheme whose groups are multiples of 64 kept values
    (or one per row) -> `sp24w4` (both on the sparse tensor cores, `mma.sp`); binary-coded
    shift-add weights with q = 2 or 3 in groups of a multiple of 128 -> `bcq2`, `bcq3`. The
    other layers keep the reference lowering (loop kernels), each with a warning saying why.

    With `dense-fp16`, a dense `linalg.matmul` whose right operand is a constant f32 weight
    ([K, N], or [N, K] through its indexing maps) takes the `f16` kernel, its weight rounded to
    fp16 (an error if a weight overflows fp16); a non-zero init is added after the product.

    With `emulate` the call is `sparq_uk_gpu_mma_emulated`, which computes the same product on
    the CPU from the same packed operands (the `--cuda-host-emulation` test mode).
  }];
  let options = [
    Option<"emulate", "emulate", "bool", /*default=*/"false",
           "Call the CPU emulation of the kernels (host-emulation test mode)">,
    Option<"denseFp16", "dense-fp16", "bool", /*default=*/"false",
           "Also run dense linalg.matmul ops with a constant f32 weight on the fp16 kernel "
           "(weights and activations rounded to fp16; sparq-compile --gpu-precision=fp16)">,
  ];
  let dependentDialects = ["mlir::linalg::LinalgDialect", "mlir::memref::MemRefDialect",
                           "mlir::bufferization::BufferizationDialect",
                           "mlir::tensor::TensorDialect", "mlir::arith::ArithDialect",
                           "mlir::func::FuncDialect"];
}

def GpuMapLoopsPass : Pass<"sparq-gpu-map-loops", "mlir::func::FuncOp"> {
  let summary = "Map the parallel loops of a buffer-level function to GPU blocks and threads";
  let description = [{
    Runs after `convert-linalg-to-parallel-loops`, before `convert-parallel-loops-to-gpu`. Every
    top-level `scf.parallel` of the host code is collapsed to one dimension (its innermost
    dimension fastest, so neighbouring threads touch neighbouring elements) and tiled by
    `block-size`: the tiles become the grid, the elements of a tile the threads of a block
    (bounds checked in the block, so every block has the same size). Nested parallel loops run
    sequentially in their thread. Host operations that read or write buffers outside any
    parallel loop (a copy between strided views, a scalar store, a loop over a reduction with
    no parallel dimension) become a kernel of one thread, so that no host code touches device
    memory. A value computed from buffer contents on the host (a size read from a tensor) is
    an error naming the operation: the CUDA target does not support that yet.
  }];
  let options = [
    Option<"blockSize", "block-size", "int64_t", /*default=*/"256",
           "Threads per block">,
  ];
  let dependentDialects = ["mlir::scf::SCFDialect", "mlir::gpu::GPUDialect",
                           "mlir::arith::ArithDialect", "mlir::affine::AffineDialect"];
}

def GpuPlaceBuffersPass : Pass<"sparq-gpu-place-buffers", "mlir::ModuleOp"> {
  let summary = "Put the buffers of the host code in GPU memory";
  let description = [{
    Runs after kernel outlining, on the host functions. Buffers the host allocates become
    `gpu.alloc` / `gpu.dealloc`, contiguous copies `gpu.memcpy`; each memref argument the
    kernels read is copied to the device on entry and each returned buffer is copied back
    into a host buffer (the artifact ABI's outputs live in host memory) and its device copy
    freed. Constant buffers (`memref.get_global`, the weights) are listed in the module
    attribute `sparq.gpu.resident` with their sizes in bytes: `sparq-gpu-resident-weights`
    gives the kernels device copies of them, uploaded once. Any other host operation that
    reads or writes a buffer is an error.
  }];
  let dependentDialects = ["mlir::gpu::GPUDialect", "mlir::memref::MemRefDialect"];
}

def GpuResidentWeightsPass : Pass<"sparq-gpu-resident-weights", "mlir::ModuleOp"> {
  let summary = "Give GPU kernels device copies of constant globals, uploaded once";
  let description = [{
    Runs on the LLVM dialect, after `gpu-to-llvm` and `finalize-memref-to-llvm`. In host
    functions every `llvm.mlir.addressof` of a global listed in `sparq.gpu.resident` becomes a
    call of `sparq_uk_gpu_resident(host address, bytes, slot)`, which returns the global's
    device copy: uploaded on the first call, kept for the life of the artifact
    (runtime/kernels/GpuLaunch.cpp), and remembered in `slot`, a pointer-sized global made here
    per weight (`<name>_device`), so later calls return it without a lookup. The host copies stay
    in the artifact as they are.
  }];
  let dependentDialects = ["mlir::LLVM::LLVMDialect"];
}

#endif // SPARQ_CODEGEN_PASSES_TD
