//===- ShiftAddAttrs.td - sparq_shiftadd attributes --------*- tablegen -*-===//
#ifndef SPARQ_SHIFTADD_ATTRS_TD
#define SPARQ_SHIFTADD_ATTRS_TD

include "dialects/ShiftAdd/ShiftAddDialect.td"
include "mlir/IR/AttrTypeBase.td"

def SparqShiftAdd_BCQAttr : AttrDef<SparqShiftAdd_Dialect, "BCQ"> {
  let mnemonic = "bcq";
  let summary = "a binary-coded quantization configuration";
  let description = [{
    `q` binary planes (1-8), scale `group` size along K (> 0) and whether the scales are powers
    of two.

    ```mlir
    #sparq_shiftadd.bcq<q = 3, group = 128, pow2 = false>
    ```
  }];
  let parameters = (ins "unsigned":$q, "int64_t":$group, "bool":$pow2);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

#endif // SPARQ_SHIFTADD_ATTRS_TD
