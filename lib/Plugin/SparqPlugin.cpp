//===- lib/Plugin/SparqPlugin.cpp - sparq as a plugin of a stock mlir-opt ------===//
//
//   mlir-opt --load-dialect-plugin=libSparqPlugin.so --load-pass-plugin=libSparqPlugin.so \
//            --pass-pipeline='builtin.module(sparq-convert-compressed-to-linalg)' in.mlir
//
// The plugin links the same libMLIR.so as the host tool, so it shares its registries.
//
//===----------------------------------------------------------------------===//
#include "sparq/InitAll.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/Plugins/DialectPlugin.h"
#include "mlir/Tools/Plugins/PassPlugin.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/Support/Compiler.h"

extern "C" LLVM_ATTRIBUTE_WEAK mlir::DialectPluginLibraryInfo mlirGetDialectPluginInfo() {
  return {MLIR_PLUGIN_API_VERSION, "SparqDialects", LLVM_VERSION_STRING,
          [](mlir::DialectRegistry *registry) { sparq::registerSparqDialects(*registry); }};
}

extern "C" LLVM_ATTRIBUTE_WEAK mlir::PassPluginLibraryInfo mlirGetPassPluginInfo() {
  return {MLIR_PLUGIN_API_VERSION, "SparqPasses", LLVM_VERSION_STRING,
          []() { sparq::registerSparqPassesAndPipelines(); }};
}
