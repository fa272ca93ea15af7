//===- dialects/NM/NMDialect.h - sparq_nm dialect ------------------*- C++ -*-===//
#ifndef SPARQ_DIALECTS_NM_NMDIALECT_H
#define SPARQ_DIALECTS_NM_NMDIALECT_H

#include "dialects/Weight/WeightFormat.h"

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dialects/NM/NMDialect.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/NM/NMAttrs.h.inc"

#define GET_OP_CLASSES
#include "dialects/NM/NMOps.h.inc"

namespace sparq::nm::detail {
/// Adds the WeightSchemeDialectInterface (NMFormat.cpp).
void addSchemeInterface(SparqNMDialect &dialect);
} // namespace sparq::nm::detail

#endif // SPARQ_DIALECTS_NM_NMDIALECT_H
