//===- lib/Registration/InitAll.cpp - registration of everything sparq uses ---===//
#include "sparq/InitAll.h"

#include "SchemeDialects.h" // generated: every scheme dialect (cmake/SparqScheme.cmake)
#include "dialects/ONNX/SparqONNXDialect.h"
#include "dialects/Weight/WeightDialect.h"
#include "passes/Passes.h"

#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"

void sparq::registerSparqDialects(mlir::DialectRegistry &registry) {
  registry.insert<sparq::onnx::SparqONNXDialect, sparq::weight::SparqWeightDialect,
                  SPARQ_SCHEME_DIALECT_LIST>();
}

void sparq::registerAllDialects(mlir::DialectRegistry &registry) {
  registerSparqDialects(registry);
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::registerAllToLLVMIRTranslations(registry);
}

void sparq::registerAllPasses() {
  mlir::registerAllPasses();
  registerSparqPassesAndPipelines();
}
