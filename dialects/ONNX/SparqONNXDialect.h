//===- dialects/ONNX/SparqONNXDialect.h - sparq_onnx dialect -----*- C++ -*-===//
#ifndef SPARQ_DIALECTS_ONNX_SPARQONNXDIALECT_H
#define SPARQ_DIALECTS_ONNX_SPARQONNXDIALECT_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dialects/ONNX/SparqONNXDialect.h.inc"

#define GET_TYPEDEF_CLASSES
#include "dialects/ONNX/SparqONNXTypes.h.inc"

#define GET_OP_CLASSES
#include "dialects/ONNX/SparqONNXOps.h.inc"

#endif // SPARQ_DIALECTS_ONNX_SPARQONNXDIALECT_H
