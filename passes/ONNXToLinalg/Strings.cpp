//===- passes/ONNXToLinalg/Strings.cpp - string tensors -----------------------===//
//
// StringNormalizer and the Casts to and from string. A `!sparq_onnx.string` element converts to
// an i64 holding the address of a NUL-terminated string (docs/strings.md), so the operators
// that only move elements (Identity, Reshape, Gather, Concat ...) need nothing here; the ones
// that look into strings call the run-time kernels of runtime/kernels/Strings.cpp per element.
// Strings the model makes come from the invoking thread's arena, whose address is read once per
// operator (`sparq_uk_str_arena`) and passed to each call.
//
//===----------------------------------------------------------------------===//
#include "passes/ONNXToLinalg/ONNXToLinalg.h"

#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/SymbolTable.h"

using namespace mlir;

namespace sparq::onnx {
namespace {

/// Calls the kernel `name` (declared in the module on first use) with `args`.
Value callKernel(NodeContext &c, OpBuilder &b, Location l, StringRef name, Type result,
                 ValueRange args) {
  auto module = c.op->getParentOfType<ModuleOp>();
  auto type = b.getFunctionType(args.getTypes(), result ? TypeRange{result} : TypeRange{});
  if (!SymbolTable::lookupSymbolIn(module, name)) {
    OpBuilder::InsertionGuard guard(c.rewriter);
    c.rewriter.setInsertionPointToStart(module.getBody());
    auto fn = func::FuncOp::create(c.rewriter, module.getLoc(), name, type);
    fn.setPrivate();
  }
  auto call = func::CallOp::create(b, l, name, result ? TypeRange{result} : TypeRange{}, args);
  return result ? call.getResult(0) : Value();
}

Value arenaOf(NodeContext &c) {
  return callKernel(c, c.rewriter, c.loc, "sparq_uk_str_arena", c.rewriter.getI64Type(), {});
}

bool isString(Type t) { return isa<StringType>(t); }

/// The address of a constant byte block holding `entries`, each NUL-terminated, ended by an
/// empty entry (sparq_uk_str_in_list's list).
Value stringListAddress(NodeContext &c, ArrayRef<std::string> entries) {
  OpBuilder &b = c.rewriter;
  std::string bytes;
  for (const std::string &e : entries)
    bytes += e + '\0';
  bytes += '\0';
  auto module = c.op->getParentOfType<ModuleOp>();
  auto type = MemRefType::get({int64_t(bytes.size())}, b.getI8Type());
  auto data = DenseElementsAttr::get(
      RankedTensorType::get(type.getShape(), b.getI8Type()),
      ArrayRef<char>(bytes.data(), bytes.size()));
  std::string name;
  {
    OpBuilder::InsertionGuard guard(c.rewriter);
    c.rewriter.setInsertionPointToStart(module.getBody());
    auto global = memref::GlobalOp::create(c.rewriter, c.loc, "sparq_strings",
                                           c.rewriter.getStringAttr("private"), type, data,
                                           /*constant=*/true, /*alignment=*/nullptr);
    SymbolTable(module).insert(global); // renames it unique
    name = global.getSymName().str();
  }
  Value ref = memref::GetGlobalOp::create(b, c.loc, type, name);
  Value ptr = memref::ExtractAlignedPointerAsIndexOp::create(b, c.loc, ref);
  return arith::IndexCastOp::create(b, c.loc, b.getI64Type(), ptr);
}

/// The string text of scalar `v` (ONNX element type `src`).
Value toText(NodeContext &c, OpBuilder &b, Location l, Value arena, Value v, Type src) {
  Type i64 = b.getI64Type();
  if (src.isF32())
    return callKernel(c, b, l, "sparq_uk_str_from_f32", i64, {arena, v});
  if (isa<FloatType>(src)) {
    Value d = castScalar(b, l, v, b.getF64Type(), false, false);
    return callKernel(c, b, l, "sparq_uk_str_from_f64", i64, {arena, d});
  }
  auto it = cast<IntegerType>(src);
  bool isUnsigned = it.isUnsigned() || it.getWidth() == 1;
  Value w = castScalar(b, l, v, i64, isUnsigned, false);
  Value u = arith::ConstantOp::create(b, l, b.getI32IntegerAttr(isUnsigned ? 1 : 0));
  return callKernel(c, b, l, "sparq_uk_str_from_i64", i64, {arena, w, u});
}

/// Scalar `s` (a string) read as ONNX element type `dst`, converted to `dstConverted`.
Value fromText(NodeContext &c, OpBuilder &b, Location l, Value s, Type dst, Type dstConverted) {
  if (dst.isF32())
    return callKernel(c, b, l, "sparq_uk_str_to_f32", b.getF32Type(), {s});
  if (isa<FloatType>(dst)) {
    Value d = callKernel(c, b, l, "sparq_uk_str_to_f64", b.getF64Type(), {s});
    return castScalar(b, l, d, dstConverted, false, false);
  }
  auto it = cast<IntegerType>(dst);
  Value v = callKernel(c, b, l, "sparq_uk_str_to_i64", b.getI64Type(), {s});
  if (it.getWidth() == 1) // "0" is false, any other number true
    return arith::CmpIOp::create(b, l, arith::CmpIPredicate::ne, v,
                                 arith::ConstantOp::create(b, l, b.getI64IntegerAttr(0)));
  return castScalar(b, l, v, dstConverted, false, it.isUnsigned());
}

} // namespace

LogicalResult lowerStringCast(NodeContext &c, Type dst) {
  Type src = c.onnxInputElementType(0);
  if (isString(src) && isString(dst))
    return c.replace(c.input(0));
  auto resultType = c.rankedResultType(0);
  if (!resultType || !c.inputType(0))
    return c.fail("casts to and from string need ranked tensors");
  if ((!isString(src) && !src.isIntOrFloat()) || (!isString(dst) && !dst.isIntOrFloat()))
    return c.fail("a cast between string and this element type is not supported");
  Value arena = isString(dst) ? arenaOf(c) : Value();
  Type dstConverted = resultType.getElementType();
  Value r = buildElementwise(c.rewriter, c.loc, {c.input(0)}, resultType,
                             [&](OpBuilder &b, Location l, ValueRange a) {
                               return isString(dst) ? toText(c, b, l, arena, a[0], src)
                                                    : fromText(c, b, l, a[0], dst, dstConverted);
                             });
  return c.replace(r);
}

namespace {

/// StringNormalizer: the strings of a [C] or [1, C] input that are not stopwords, in order,
/// with their case changed; one empty string when none remains. The count is data-dependent:
/// a static result length is checked at run time.
LogicalResult lowerStringNormalizer(NodeContext &c) {
  if (failed(requireRanked(c, 0, "input X")))
    return failure();
  OpBuilder &b = c.rewriter;
  Location l = c.loc;
  ScalarBuilder sb{b, l};
  auto in = c.inputType(0);
  auto rt = c.rankedResultType(0);
  int64_t rank = in.getRank();
  if (rank != 1 && !(rank == 2 && in.getDimSize(0) == 1))
    return c.fail("input X must be [C] or [1, C], got " + joinInts(in.getShape()));
  if (!rt || rt.getRank() != rank)
    return c.fail("the result must have the rank of input X");
  std::string action = c.stringAttr("case_change_action", "NONE");
  int32_t actionCode = action == "NONE" ? 0 : action == "LOWER" ? 1 : action == "UPPER" ? 2 : -1;
  if (actionCode < 0)
    return c.fail("attribute 'case_change_action' = '" + action +
                  "' is not one of LOWER, UPPER, NONE");
  std::string locale = c.stringAttr("locale", "");
  if (!locale.empty() && locale != "en_US" && locale != "en_US.UTF-8" && locale != "C")
    return c.fail("attribute 'locale' = '" + locale +
                  "' is not supported (case changes and case-insensitive matching are ASCII: "
                  "locales en_US and C)");
  SmallVector<std::string> stopwords;
  if (auto list = dyn_cast_or_null<ArrayAttr>(c.attr("stopwords")))
    for (Attribute a : list)
      if (auto s = dyn_cast<StringAttr>(a)) {
        if (s.getValue().contains('\0'))
          return c.fail("a stopword contains a NUL byte");
        if (!s.getValue().empty())
          stopwords.push_back(s.getValue().str());
      }
  Type i64 = b.getI64Type(), i32 = b.getI32Type();
  Value arena = arenaOf(c);
  Value list = stopwords.empty() ? Value() : stringListAddress(c, stopwords);
  Value caseSensitive = arith::ConstantOp::create(
      b, l, b.getI32IntegerAttr(c.intAttr("is_case_sensitive", 0) != 0 ? 1 : 0));
  Value x = c.input(0);
  Value count = dimValue(b, l, x, rank - 1);
  auto element = [&](OpBuilder &nb, Location nl, Value i) -> Value {
    SmallVector<Value> idx;
    if (rank == 2)
      idx.push_back(ScalarBuilder{nb, nl}.cIdx(0));
    idx.push_back(i);
    return tensor::ExtractOp::create(nb, nl, x, idx);
  };
  auto kept = [&](OpBuilder &nb, Location nl, Value s) -> Value {
    if (stopwords.empty())
      return arith::ConstantOp::create(nb, nl, nb.getBoolAttr(true));
    Value hit = callKernel(c, nb, nl, "sparq_uk_str_in_list", i32, {s, list, caseSensitive});
    return arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::eq, hit,
                                 arith::ConstantOp::create(nb, nl, nb.getI32IntegerAttr(0)));
  };
  Value zero = sb.cIdx(0), one = sb.cIdx(1);
  // Pass 1: how many remain.
  auto countLoop = scf::ForOp::create(
      b, l, zero, count, one, ValueRange{zero},
      [&](OpBuilder &nb, Location nl, Value i, ValueRange iter) {
        Value keep = kept(nb, nl, element(nb, nl, i));
        Value inc = arith::SelectOp::create(nb, nl, keep, ScalarBuilder{nb, nl}.cIdx(1),
                                            ScalarBuilder{nb, nl}.cIdx(0));
        scf::YieldOp::create(nb, nl, ValueRange{ScalarBuilder{nb, nl}.add(iter[0], inc)});
      });
  Value length = arith::MaxUIOp::create(b, l, countLoop.getResult(0), one);
  SmallVector<Value> dynSizes;
  if (rt.isDynamicDim(rank - 1)) {
    dynSizes.push_back(length);
  } else {
    int64_t declared = rt.getDimSize(rank - 1);
    cf::AssertOp::create(b, l, sb.eq(length, sb.cIdx(declared)),
                         c.op.describe() + ": the strings that remain after removing stopwords "
                                           "do not match the result length " +
                             std::to_string(declared) + " of the model's declared type");
  }
  if (rank == 2 && rt.isDynamicDim(0))
    dynSizes.insert(dynSizes.begin(), one);
  Value empty = callKernel(c, b, l, "sparq_uk_str_empty", i64, {});
  Value init = createFilled(b, l, rt, empty, dynSizes);
  Value action32 = arith::ConstantOp::create(b, l, b.getI32IntegerAttr(actionCode));
  // Pass 2: write them.
  auto fillLoop = scf::ForOp::create(
      b, l, zero, count, one, ValueRange{init, zero},
      [&](OpBuilder &nb, Location nl, Value i, ValueRange iter) {
        Value s = element(nb, nl, i);
        auto ifOp = scf::IfOp::create(
            nb, nl, kept(nb, nl, s),
            [&](OpBuilder &tb, Location tl) {
              Value t = callKernel(c, tb, tl, "sparq_uk_str_case", i64, {arena, s, action32});
              SmallVector<Value> idx;
              if (rank == 2)
                idx.push_back(ScalarBuilder{tb, tl}.cIdx(0));
              idx.push_back(iter[1]);
              Value out = tensor::InsertOp::create(tb, tl, t, iter[0], idx);
              Value next = ScalarBuilder{tb, tl}.add(iter[1], ScalarBuilder{tb, tl}.cIdx(1));
              scf::YieldOp::create(tb, tl, ValueRange{out, next});
            },
            [&](OpBuilder &eb, Location el) {
              scf::YieldOp::create(eb, el, ValueRange{iter[0], iter[1]});
            });
        scf::YieldOp::create(nb, nl, ifOp.getResults());
      });
  return c.replace(fillLoop.getResult(0));
}

} // namespace

void registerStringOps(OnnxHandlerTable &t) { t.add("StringNormalizer", 10, lowerStringNormalizer); }

} // namespace sparq::onnx
