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

namespace sparq::weight {

/// The discardable attribute of a compressed-weight op that sets the width of its activations
/// for the kernel selection (docs/codegen.md): 8 asks for the int8-activation kernels where
/// they apply (an imported MatMulNBits with accuracy_level 4, like --act-bits 8 for one op);
/// kFloatActBits keeps float32 activations whatever --act-bits says (an integer MatMul that
/// the float kernels compute exactly, which int8 activations would not).
constexpr llvm::StringLiteral kActBitsAttrName = "sparq.act_bits";
constexpr int64_t kFloatActBits = 32;

} // namespace sparq::weight

#endif // SPARQ_DIALECTS_WEIGHT_WEIGHTDIALECT_H
