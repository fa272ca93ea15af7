//===- NMOps.td - sparq_nm operations ----------------------*- tablegen -*-===//
#ifndef SPARQ_NM_OPS_TD
#define SPARQ_NM_OPS_TD

include "dialects/NM/NMAttrs.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def SparqNM_PruneOp : SparqNM_Op<"prune", [Pure, SameOperandsAndResultType]> {
  let summary = "magnitude N:M pruning of a dense weight";
  let description = [{
    Keeps, in every group of M consecutive values of each row along K, the N values of largest
    magnitude (ties to the lower position) and zeroes the others. The result is dense and
    N:M-valid. A constant operand folds.

    ```mlir
    %p = sparq_nm.prune %w {pattern = #sparq_nm.pattern<2:4>} : tensor<64x128xf32>
    ```
  }];
  let arguments = (ins RankedTensorOf<[AnyFloat]>:$input, SparqNM_PatternAttr:$pattern);
  let results = (outs RankedTensorOf<[AnyFloat]>:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def SparqNM_PackOp : SparqNM_Op<"pack", [Pure]> {
  let summary = "dense N:M-valid weight to packed values + index metadata";
  let description = [{
    Packs a `[rows, K]` weight whose rows are N:M-valid into kept values and index metadata (see
    the dialect description). A constant operand folds; a constant that is not N:M-valid is
    reported.

    ```mlir
    %v, %i = sparq_nm.pack %p {pattern = #sparq_nm.pattern<2:4>}
        : tensor<64x128xf32> -> tensor<64x64xf32>, tensor<64x16xi8>
    ```
  }];
  let arguments = (ins RankedTensorOf<[AnyFloat]>:$input, SparqNM_PatternAttr:$pattern);
  let results = (outs RankedTensorOf<[AnyFloat]>:$values, RankedTensorOf<[I8]>:$indices);
  let assemblyFormat = [{
    $input attr-dict `:` type($input) `->` type($values) `,` type($indices)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

def SparqNM_UnpackOp : SparqNM_Op<"unpack", [Pure]> {
  let summary = "packed N:M values + index metadata to a dense weight";
  let description = [{
    The inverse of `sparq_nm.pack`: scatters the kept values of each row back to their positions,
    zeros elsewhere. K is the last dimension of the result. `unpack(pack(x))` folds to `x`.

    ```mlir
    %d = sparq_nm.unpack %v, %i {pattern = #sparq_nm.pattern<2:4>}
        : tensor<64x64xf32>, tensor<64x16xi8> -> tensor<64x128xf32>
    ```
  }];
  let arguments = (ins RankedTensorOf<[AnyFloat]>:$values, RankedTensorOf<[I8]>:$indices,
                       SparqNM_PatternAttr:$pattern);
  let results = (outs RankedTensorOf<[AnyFloat]>:$result);
  let assemblyFormat = [{
    $values `,` $indices attr-dict `:` type($values) `,` type($indices) `->` type($result)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

#endif // SPARQ_NM_OPS_TD
