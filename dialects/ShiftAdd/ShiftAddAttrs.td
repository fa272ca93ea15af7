//===- ShiftAddAttrs.td - sparq_shiftadd attributes --------*- tablegen -*-===//
#ifndef SPARQ_SHIFTADD_ATTRS_TD
#define SPARQ_SHIFTADD_ATTRS_TD

include "dialects/ShiftAdd/ShiftAddDialect.td"
include "dialects/Weight/WeightFormatInterface.td"
include "mlir/IR/AttrTypeBase.td"

def SparqShiftAdd_BCQAttr : AttrDef<SparqShiftAdd_Dialect, "BCQ",
    [DeclareAttrInterfaceMethods<SparqWeight_WeightFormatAttrInterface>]> {
  let mnemonic = "bcq";
  let summary = "a binary-coded quantization configuration";
  let description = [{
    `q` binary planes (1-8), scale `group` size along K (> 0) and whether the scales are powers
    of two.

    ```mlir
    #sparq_shiftadd.bcq<q = 3, group = 128, pow2 = false>
    ```

    As a weight format (`WeightFormatAttrInterface`) it is an encoding: it stores the sign
    planes `[q, rows, ceil(K/8)] x i8` and scales `[q, rows, ceil(K/group)] x f32`.
    `--scheme` spells it `saQ[gG][p2]` (e.g. `sa3g128`, `sa2p2`).
  }];
  let parameters = (ins "unsigned":$q, "int64_t":$group, "bool":$pow2);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

#endif // SPARQ_SHIFTADD_ATTRS_TD
