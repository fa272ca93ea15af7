//===- QuantAttrs.td - sparq_quant attributes --------------*- tablegen -*-===//
#ifndef SPARQ_QUANT_ATTRS_TD
#define SPARQ_QUANT_ATTRS_TD

include "dialects/Quant/QuantDialect.td"
include "dialects/Weight/WeightFormatInterface.td"
include "mlir/IR/AttrTypeBase.td"

def SparqQuant_SchemeAttr : AttrDef<SparqQuant_Dialect, "Scheme",
    [DeclareAttrInterfaceMethods<SparqWeight_WeightFormatAttrInterface>]> {
  let mnemonic = "scheme";
  let summary = "a weight quantization scheme";
  let description = [{
    `bits` (1-8), signedness of the codes, symmetric or asymmetric, and the parameter granularity:
    `per_tensor`, `per_channel` or `group = G` (G > 0 consecutive values along K).

    ```mlir
    #sparq_quant.scheme<bits = 4, signed, symmetric, group = 128>
    #sparq_quant.scheme<bits = 3, unsigned, asymmetric, per_channel>
    ```

    As a weight format (`WeightFormatAttrInterface`) it is an encoding: it stores codes
    `[rows, ceil(K*bits/8)] x i8`, scales (`paramShape`) and, when asymmetric, zero points.
    `--scheme` spells it `wB[gG|pc|pt][a]` (e.g. `w4g128`, `w3pca`).
  }];
  let parameters = (ins "unsigned":$bits, "bool":$isSigned, "bool":$symmetric,
                        "int64_t":$group);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    static constexpr int64_t kPerTensor = -1;
    static constexpr int64_t kPerChannel = 0;
    bool isPerTensor() const { return getGroup() == kPerTensor; }
    bool isPerChannel() const { return getGroup() == kPerChannel; }
    /// Expected shape of scales / zero points for a `[rows, k]` weight.
    llvm::SmallVector<int64_t, 2> paramShape(int64_t rows, int64_t k) const;
    int minCode() const;
    int maxCode() const;
  }];
}

#endif // SPARQ_QUANT_ATTRS_TD
