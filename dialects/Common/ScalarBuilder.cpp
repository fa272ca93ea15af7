//===- dialects/Common/ScalarBuilder.cpp - the scalar arith/tensor builder ------===//
#include "dialects/Common/ScalarBuilder.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;

namespace sparq {

Value ScalarBuilder::cIdx(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
Value ScalarBuilder::cI32(int64_t v) { return arith::ConstantIntOp::create(b, loc, b.getI32Type(), v); }
Value ScalarBuilder::cF(Type t, double v) { return arith::ConstantOp::create(b, loc, b.getFloatAttr(t, v)); }
Value ScalarBuilder::add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
Value ScalarBuilder::sub(Value x, Value y) { return arith::SubIOp::create(b, loc, x, y); }
Value ScalarBuilder::mul(Value x, Value y) { return arith::MulIOp::create(b, loc, x, y); }
Value ScalarBuilder::div(Value x, Value y) { return arith::DivUIOp::create(b, loc, x, y); }
Value ScalarBuilder::rem(Value x, Value y) { return arith::RemUIOp::create(b, loc, x, y); }
Value ScalarBuilder::minIdx(Value x, Value y) { return arith::MinUIOp::create(b, loc, x, y); }
Value ScalarBuilder::minS(Value x, Value y) { return arith::MinSIOp::create(b, loc, x, y); }
Value ScalarBuilder::maxS(Value x, Value y) { return arith::MaxSIOp::create(b, loc, x, y); }
Value ScalarBuilder::clampS(Value x, Value lo, Value hi) { return minS(maxS(x, lo), hi); }
Value ScalarBuilder::cmp(arith::CmpIPredicate p, Value x, Value y) {
  return arith::CmpIOp::create(b, loc, p, x, y);
}
Value ScalarBuilder::ult(Value x, Value y) {
  return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, x, y);
}
Value ScalarBuilder::eq(Value x, Value y) {
  return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, x, y);
}
Value ScalarBuilder::select(Value c, Value x, Value y) { return arith::SelectOp::create(b, loc, c, x, y); }
Value ScalarBuilder::toI32(Value index) {
  return arith::IndexCastOp::create(b, loc, b.getI32Type(), index);
}
Value ScalarBuilder::toIndex(Value i32) {
  return arith::IndexCastUIOp::create(b, loc, b.getIndexType(), i32);
}
Value ScalarBuilder::index(unsigned dim) { return linalg::IndexOp::create(b, loc, dim); }
Value ScalarBuilder::extract(Value tensor, ValueRange idx) {
  return tensor::ExtractOp::create(b, loc, tensor, idx);
}

Value ScalarBuilder::code(Value packed, ValueRange lead, Value pos, unsigned bits, int64_t rowBytes) {
  Value bit = mul(pos, cIdx(bits));
  Value lo = div(bit, cIdx(8));
  Value hi = minIdx(add(lo, cIdx(1)), cIdx(rowBytes - 1));
  auto byteAt = [&](Value i) {
    SmallVector<Value> idx(lead.begin(), lead.end());
    idx.push_back(i);
    return arith::ExtUIOp::create(b, loc, b.getI32Type(), extract(packed, idx)).getResult();
  };
  Value word =
      arith::OrIOp::create(b, loc, byteAt(lo), arith::ShLIOp::create(b, loc, byteAt(hi), cI32(8)));
  Value shifted = arith::ShRUIOp::create(b, loc, word, toI32(rem(bit, cIdx(8))));
  return arith::AndIOp::create(b, loc, shifted, cI32((1 << bits) - 1));
}

Value ScalarBuilder::packedByte(Value j, unsigned bits, int64_t count, function_ref<Value(Value)> codeAt) {
  // Byte j holds bits [8j, 8j+8): codes floor(8j/bits) .. floor((8j+7)/bits).
  Value first = div(mul(j, cIdx(8)), cIdx(bits));
  Value byte = cI32(0);
  for (unsigned t = 0; t < 8 / bits + 2; ++t) {
    Value e = add(first, cIdx(t));
    Value valid = ult(e, cIdx(count));
    Value eC = minIdx(e, cIdx(count - 1));
    Value code = codeAt(eC);
    // Bit offset of code e relative to the start of byte j (may be negative).
    Value off = sub(toI32(mul(eC, cIdx(bits))), toI32(mul(j, cIdx(8))));
    Value neg = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, off, cI32(0));
    Value left = arith::ShLIOp::create(b, loc, code, select(neg, cI32(0), off));
    Value right = arith::ShRUIOp::create(b, loc, code, select(neg, sub(cI32(0), off), cI32(0)));
    Value part = select(neg, right, left);
    // Codes starting at or after the next byte contribute nothing.
    Value inByte = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, off, cI32(8));
    part = select(arith::AndIOp::create(b, loc, valid, inByte), part, cI32(0));
    byte = arith::OrIOp::create(b, loc, byte, part);
  }
  return byte;
}

Value ScalarBuilder::signExtend(Value code, unsigned bits) {
  Value isNeg =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::uge, code, cI32(1 << (bits - 1)));
  return select(isNeg, sub(code, cI32(1 << bits)), code);
}

Value generate(OpBuilder &b, Location loc, RankedTensorType type, ValueRange dynSizes,
               function_ref<Value(ScalarBuilder &)> fn) {
  Value init = tensor::EmptyOp::create(b, loc, type.getShape(), type.getElementType(), dynSizes);
  SmallVector<AffineMap> maps = {b.getMultiDimIdentityMap(type.getRank())};
  SmallVector<utils::IteratorType> iters(type.getRank(), utils::IteratorType::parallel);
  auto op = linalg::GenericOp::create(b, loc, type, ValueRange{}, ValueRange{init}, maps, iters,
                                      [&](OpBuilder &nb, Location nl, ValueRange) {
                                        ScalarBuilder body{nb, nl};
                                        linalg::YieldOp::create(nb, nl, fn(body));
                                      });
  return op.getResult(0);
}

SmallVector<Value> dynamicSizes(OpBuilder &b, Location loc, RankedTensorType type, Value from) {
  SmallVector<Value> sizes;
  for (int64_t i = 0; i < type.getRank(); ++i)
    if (type.isDynamicDim(i))
      sizes.push_back(tensor::DimOp::create(b, loc, from, i));
  return sizes;
}

LogicalResult requireStatic(Operation *op, ShapedType t, StringRef what) {
  if (t.hasStaticShape())
    return success();
  return op->emitOpError() << "reference lowering needs a static " << what << " shape, got "
                           << t;
}

} // namespace sparq
