//===- MX.td - sparq_mx dialect: 4-bit floating-point weights -*- tablegen -*-===//
#ifndef SPARQ_MX_TD
#define SPARQ_MX_TD

include "dialects/Weight/WeightFormatInterface.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/OpBase.td"

def SparqMX_Dialect : Dialect {
  let name = "sparq_mx";
  let summary = "4-bit floating-point (FP4 E2M1) weights with block scales: MXFP4 and NVFP4";
  let description = [{
    Weight formats whose elements are FP4 E2M1 numbers (0, ±0.5, ±1, ±1.5, ±2, ±3, ±4, ±6)
    sharing a scale per block of consecutive values along K: `#sparq_mx.mxfp4` (OCP
    Microscaling: 32 values per E8M0 power-of-two scale, 4.25 bits per weight) and
    `#sparq_mx.nvfp4` (16 values per FP8 E4M3 scale times one fp32 scale per tensor, 4.5 bits
    per weight). Both are encodings of `WeightFormatAttrInterface`, so they compose with N:M
    sparsity (`--scheme 2:4,nvfp4` quantizes the kept values). The layouts and numerics are
    defined once in dialects/MX/MXFormats.h.

    The compressors follow the published recipes: MXFP4's scale is
    2^(floor(log2(amax)) - 2) (OCP Microscaling Formats (MX) Specification v1.0, 2023; Rouhani
    et al., "Microscaling Data Formats for Deep Learning", arXiv:2310.10537), or twice that when
    it encodes the block with a lower squared error, since values above 6x the spec's scale
    saturate; NVFP4's tensor scale is amax / (448 x 6) so every block scale amax_b / 6 fits FP8
    E4M3 (NVIDIA, "Introducing NVFP4 for Efficient and Accurate Low-Precision Inference", 2025).
    Elements round to the nearest E2M1 value, ties to even. The compression report gives each
    layer's bits per weight and relative weight error.
  }];
  let cppNamespace = "::sparq::mx";
  let useDefaultAttributePrinterParser = 1;
}

class SparqMX_FormatAttr<string name, string mnemonicName>
    : AttrDef<SparqMX_Dialect, name,
              [DeclareAttrInterfaceMethods<SparqWeight_WeightFormatAttrInterface>]> {
  let mnemonic = mnemonicName;
}

def SparqMX_MXFP4Attr : SparqMX_FormatAttr<"MXFP4", "mxfp4"> {
  let summary = "OCP MXFP4: E2M1 elements, one E8M0 scale per 32 values";
  let description = [{
    Stores, for a `[rows, K]` weight, codes `[rows, ceil(K/2)] x i8` (two E2M1 codes per byte,
    element 2i in the low nibble) and scales `[rows, ceil(K/32)] x i8` (E8M0 bytes: 2^(e-127)).
    Decode: `w = e2m1(code) * 2^(scale - 127)`. `--scheme` spells it `mxfp4`.
  }];
}

def SparqMX_NVFP4Attr : SparqMX_FormatAttr<"NVFP4", "nvfp4"> {
  let summary = "NVFP4: E2M1 elements, one FP8 E4M3 scale per 16 values, one fp32 tensor scale";
  let description = [{
    Stores codes `[rows, ceil(K/2)] x i8` (as MXFP4), block scales `[rows, ceil(K/16)] x i8`
    (FP8 E4M3FN bytes) and the tensor scale `[1] x f32`. Decode:
    `w = e2m1(code) * e4m3(scale) * tensor_scale`. `--scheme` spells it `nvfp4`.
  }];
}

#endif // SPARQ_MX_TD
