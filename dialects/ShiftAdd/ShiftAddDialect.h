//===- dialects/ShiftAdd/ShiftAddDialect.h - sparq_shiftadd dialect -*- C++ -*-===//
#ifndef SPARQ_DIALECTS_SHIFTADD_SHIFTADDDIALECT_H
#define SPARQ_DIALECTS_SHIFTADD_SHIFTADDDIALECT_H

#include "dialects/Weight/WeightFormat.h"

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dialects/ShiftAdd/ShiftAddDialect.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/ShiftAdd/ShiftAddAttrs.h.inc"

#define GET_OP_CLASSES
#include "dialects/ShiftAdd/ShiftAddOps.h.inc"

namespace sparq::shiftadd::detail {
/// Adds the WeightSchemeDialectInterface (ShiftAddFormat.cpp).
void addSchemeInterface(SparqShiftAddDialect &dialect);
} // namespace sparq::shiftadd::detail

#endif // SPARQ_DIALECTS_SHIFTADD_SHIFTADDDIALECT_H
