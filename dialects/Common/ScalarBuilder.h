//===- dialects/Common/ScalarBuilder.h - the scalar arith/tensor builder -*- C++ -*-===//
//
// The one scalar arith/tensor builder of sparq's lowerings: index and i32 constants and
// arithmetic (in linalg.generic bodies or around kernel calls), comparisons and selects,
// tensor.extract, sub-byte code extraction and byte assembly with the bit layout of
// include/sparq/Formats/PackedFormats.h, and a linalg.generic that produces a tensor from its
// output indices. The ONNX conversion, the scheme dialects' reference lowerings, the generic
// consumer lowering and the kernel-call lowerings build with it.
//
//===----------------------------------------------------------------------===//
#ifndef SPARQ_DIALECTS_COMMON_SCALARBUILDER_H
#define SPARQ_DIALECTS_COMMON_SCALARBUILDER_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/PatternMatch.h"

namespace sparq {

/// Builds scalar ops at `loc` with `b`: `ScalarBuilder sb{b, loc}; sb.add(sb.cIdx(1), x)`.
/// Integer ops work on index or any signless integer type; min/max/clamp are signed.
struct ScalarBuilder {
  mlir::OpBuilder &b;
  mlir::Location loc;
  mlir::Value cIdx(int64_t v);
  mlir::Value cI32(int64_t v);
  mlir::Value cF(mlir::Type t, double v);
  mlir::Value add(mlir::Value x, mlir::Value y);
  mlir::Value sub(mlir::Value x, mlir::Value y);
  mlir::Value mul(mlir::Value x, mlir::Value y);
  mlir::Value div(mlir::Value x, mlir::Value y);
  mlir::Value rem(mlir::Value x, mlir::Value y);
  mlir::Value minIdx(mlir::Value x, mlir::Value y);
  mlir::Value minS(mlir::Value x, mlir::Value y);
  mlir::Value maxS(mlir::Value x, mlir::Value y);
  mlir::Value clampS(mlir::Value x, mlir::Value lo, mlir::Value hi);
  mlir::Value cmp(mlir::arith::CmpIPredicate p, mlir::Value x, mlir::Value y);
  mlir::Value ult(mlir::Value x, mlir::Value y);
  mlir::Value eq(mlir::Value x, mlir::Value y);
  mlir::Value select(mlir::Value c, mlir::Value x, mlir::Value y);
  mlir::Value toI32(mlir::Value index);
  mlir::Value toIndex(mlir::Value i32);
  mlir::Value index(unsigned dim);
  mlir::Value extract(mlir::Value tensor, mlir::ValueRange idx);

  /// The unsigned `bits`-bit code at element position `pos` of the packed row addressed by
  /// `lead` (leading indices) in the i8 tensor `packed` whose rows have `rowBytes` bytes, as i32.
  mlir::Value code(mlir::Value packed, mlir::ValueRange lead, mlir::Value pos, unsigned bits,
                   int64_t rowBytes);

  /// Byte `j` of a packed row of `count` `bits`-bit codes (docs/packed-formats.md), as i32;
  /// `codeAt(e)` gives code e (i32, < 2^bits) for an in-range index e.
  mlir::Value packedByte(mlir::Value j, unsigned bits, int64_t count,
                         llvm::function_ref<mlir::Value(mlir::Value)> codeAt);

  /// Sign-extends a `bits`-bit code held in i32.
  mlir::Value signExtend(mlir::Value code, unsigned bits);
};

/// A linalg.generic with no inputs producing `type`, its body built from the output indices.
mlir::Value generate(mlir::OpBuilder &b, mlir::Location loc, mlir::RankedTensorType type,
                     mlir::ValueRange dynSizes, llvm::function_ref<mlir::Value(ScalarBuilder &)> fn);

/// tensor.dim of `from` for each dynamic dimension of `type`.
llvm::SmallVector<mlir::Value> dynamicSizes(mlir::OpBuilder &b, mlir::Location loc,
                                            mlir::RankedTensorType type, mlir::Value from);

/// Fails with "reference lowering needs a static <what> shape" unless `t` is static.
mlir::LogicalResult requireStatic(mlir::Operation *op, mlir::ShapedType t, llvm::StringRef what);

} // namespace sparq

#endif // SPARQ_DIALECTS_COMMON_SCALARBUILDER_H
