//===- lib/Import/ONNX/ContribSchemas.h - onnxruntime contrib operator schemas -*- C++ -*-===//
//
// Schemas of the onnxruntime `com.microsoft` operators sparq converts, registered into ONNX's
// schema registry so that the model check verifies their inputs and attributes, ONNX's shape
// inference types their results (and everything downstream of them), and the importer accepts
// them like any other operator. onnxruntime registers its contrib schemas the same way.
//
//===----------------------------------------------------------------------===//
#ifndef SPARQ_LIB_IMPORT_ONNX_CONTRIBSCHEMAS_H
#define SPARQ_LIB_IMPORT_ONNX_CONTRIBSCHEMAS_H

namespace sparq {

/// Registers the com.microsoft domain (opset 1) and the schemas of the contrib operators sparq
/// converts (MatMulNBits). Idempotent and thread-safe; call before checking or inferring a model.
void registerContribSchemas();

} // namespace sparq

#endif // SPARQ_LIB_IMPORT_ONNX_CONTRIBSCHEMAS_H
