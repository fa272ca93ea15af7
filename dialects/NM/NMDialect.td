//===- NMDialect.td - sparq_nm dialect definition ----------*- tablegen -*-===//
#ifndef SPARQ_NM_DIALECT_TD
#define SPARQ_NM_DIALECT_TD

include "mlir/IR/OpBase.td"

def SparqNM_Dialect : Dialect {
  let name = "sparq_nm";
  let summary = "N:M structured sparsity of weights";
  let description = [{
    N:M structured sparsity along the reduction dimension K of a weight: in every group of M
    consecutive values along K at most N are non-zero (N < M <= 16). Weights are handled in the
    canonical `[rows, K]` layout (one row per output channel, K innermost). The packed form is
    two tensors, laid out as docs/packed-formats.md and include/sparq/Formats/PackedFormats.h
    define: `values : tensor<rows x (ceil(K/M)*N) x T>` (the kept values) and
    `indices : tensor<rows x nmIndexRowBytes(K,N,M) x i8>` (each kept value's position in its
    group, ceil(log2 M) bits each).

    `sparq_nm.prune` makes a dense weight N:M-valid, `sparq_nm.pack`/`unpack` convert between the
    dense and packed forms, and `sparq_nm.matmul`, `sparq_nm.conv2d` and
    `sparq_nm.quantized_matmul` consume packed weights. The last one composes sparsity with
    quantization in the only order the packed form can express: prune first, then quantize the
    kept values (group-wise along the kept dimension).
  }];
  let cppNamespace = "::sparq::nm";
  let useDefaultAttributePrinterParser = 1;
  let hasConstantMaterializer = 1;
  let dependentDialects = ["mlir::arith::ArithDialect"];
}

class SparqNM_Op<string mnemonic, list<Trait> traits = []>
    : Op<SparqNM_Dialect, mnemonic, traits>;

#endif // SPARQ_NM_DIALECT_TD
