//===- QuantDialect.td - sparq_quant dialect definition ----*- tablegen -*-===//
#ifndef SPARQ_QUANT_DIALECT_TD
#define SPARQ_QUANT_DIALECT_TD

include "mlir/IR/OpBase.td"

def SparqQuant_Dialect : Dialect {
  let name = "sparq_quant";
  let summary = "arbitrary-bit (1-8) weight quantization with sub-byte packed storage";
  let description = [{
    Uniform weight quantization with 1 to 8 bits, signed or unsigned codes, symmetric (no zero
    point) or asymmetric, and per-tensor, per-channel or group-wise parameters (groups of
    consecutive values along the reduction dimension K). Weights use the canonical `[rows, K]`
    layout. Scales and zero points are separate tensors of shape `[1, 1]` (per-tensor),
    `[rows, 1]` (per-channel) or `[rows, ceil(K/group)]` (group-wise), so a 4096x4096 weight with
    group 128 needs two 4096x32 tensors, not a type listing every scale. Integer codes are held
    unpacked in `i8` tensors (`sparq_quant.quantize`/`dequantize`) or packed `bits` per code in
    bytes (`sparq_quant.pack`/`unpack`, layout in docs/packed-formats.md).

    Dequantization: `w = (code - zero_point) * scale` (zero_point = 0 when symmetric).
  }];
  let cppNamespace = "::sparq::quant";
  let useDefaultAttributePrinterParser = 1;
  let hasConstantMaterializer = 1;
  let dependentDialects = ["mlir::arith::ArithDialect"];
}

class SparqQuant_Op<string mnemonic, list<Trait> traits = []>
    : Op<SparqQuant_Dialect, mnemonic, traits>;

#endif // SPARQ_QUANT_DIALECT_TD
