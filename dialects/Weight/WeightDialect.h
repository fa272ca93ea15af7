//===- dialects/Weight/WeightDialect.h - sparq_weight dialect ------*- C++ -*-===//
#ifndef SPARQ_DIALECTS_WEIGHT_WEIGHTDIALECT_H
#define SPARQ_DIALECTS_WEIGHT_WEIGHTDIALECT_H

#include "dialects/Weight/WeightFormat.h"

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dialects/Weight/WeightDialect.h.inc"

#define GET_OP_CLASSES
#include "dialects/Weight/WeightOps.h.inc"

#endif // SPARQ_DIALECTS_WEIGHT_WEIGHTDIALECT_H
