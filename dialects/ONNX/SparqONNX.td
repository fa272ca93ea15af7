//===- SparqONNX.td - sparq_onnx dialect aggregator --------*- tablegen -*-===//
#ifndef SPARQ_ONNX_TD
#define SPARQ_ONNX_TD
include "dialects/ONNX/SparqONNXDialect.td"
include "dialects/ONNX/SparqONNXOps.td"
#endif // SPARQ_ONNX_TD
