//===- dialects/Quant/QuantDialect.h - sparq_quant dialect ---------*- C++ -*-===//
#ifndef SPARQ_DIALECTS_QUANT_QUANTDIALECT_H
#define SPARQ_DIALECTS_QUANT_QUANTDIALECT_H

#include "dialects/Common/ShapeCheck.h"
#include "dialects/Weight/WeightFormat.h"

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dialects/Quant/QuantDialect.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/Quant/QuantAttrs.h.inc"

#define GET_OP_CLASSES
#include "dialects/Quant/QuantOps.h.inc"

namespace sparq::quant::detail {
/// Adds the WeightSchemeDialectInterface (QuantFormat.cpp).
void addSchemeInterface(SparqQuantDialect &dialect);
} // namespace sparq::quant::detail

#endif // SPARQ_DIALECTS_QUANT_QUANTDIALECT_H
