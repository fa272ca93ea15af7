//===- NMAttrs.td - sparq_nm attributes --------------------*- tablegen -*-===//
#ifndef SPARQ_NM_ATTRS_TD
#define SPARQ_NM_ATTRS_TD

include "dialects/NM/NMDialect.td"
include "dialects/Weight/WeightFormatInterface.td"
include "mlir/IR/AttrTypeBase.td"

def SparqNM_PatternAttr : AttrDef<SparqNM_Dialect, "Pattern",
    [DeclareAttrInterfaceMethods<SparqWeight_WeightFormatAttrInterface, ["expandHost"]>]> {
  let mnemonic = "pattern";
  let summary = "an N:M sparsity pattern";
  let description = [{
    At most `n` non-zeros in every group of `m` consecutive values along the reduction dimension;
    `1 <= n < m <= 16`. Written `#sparq_nm.pattern<2:4>`.

    As a weight format (`WeightFormatAttrInterface`) it is a transform: it stores the index
    metadata `[rows, nmIndexRowBytes(K)] x i8` and hands the kept values
    `[rows, ceil(K/M)*N]` to the next format of the list (or stores them as f32 when it is
    last). `--scheme` spells it `N:M` (e.g. `2:4`).
  }];
  let parameters = (ins "unsigned":$n, "unsigned":$m);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Number of kept values per row of `k` reduction elements (the padded row).
    int64_t keptPerRow(int64_t k) const;
    /// Bytes of index metadata per row of `k` reduction elements.
    int64_t indexRowBytes(int64_t k) const;
  }];
}

#endif // SPARQ_NM_ATTRS_TD
