//===- ShiftAddDialect.td - sparq_shiftadd dialect ---------*- tablegen -*-===//
#ifndef SPARQ_SHIFTADD_DIALECT_TD
#define SPARQ_SHIFTADD_DIALECT_TD

include "mlir/IR/OpBase.td"

def SparqShiftAdd_Dialect : Dialect {
  let name = "sparq_shiftadd";
  let summary = "binary-coded (shift-and-add) weight reparameterization";
  let description = [{
    ShiftAddLLM-style reparameterization: a `[rows, K]` weight is approximated by q binary
    matrices, `W ~= sum_{i<q} alpha_i (.) B_i` with `B_i` in {-1, +1} and `alpha_i` group-wise
    scales along K (`[q, rows, ceil(K/group)]`), optionally restricted to powers of two so that the
    multiplications become shifts. The sign planes are packed one bit per weight
    (`[q, rows, ceil(K/8)]` bytes, docs/packed-formats.md), and the matmul is computed by table
    lookups and adds: for every chunk of 8 activations a 256-entry table of their signed partial
    sums is built once and indexed by each row's code byte.
  }];
  let cppNamespace = "::sparq::shiftadd";
  let useDefaultAttributePrinterParser = 1;
  let hasConstantMaterializer = 1;
  let dependentDialects = ["mlir::arith::ArithDialect"];
}

class SparqShiftAdd_Op<string mnemonic, list<Trait> traits = []>
    : Op<SparqShiftAdd_Dialect, mnemonic, traits>;

#endif // SPARQ_SHIFTADD_DIALECT_TD
