// A program embedding sparq's dialects and passes from an installed tree: it parses IR using
// sparq_quant, runs sparq's reference lowering through a pass pipeline string, and checks that no
// compressed op is left. It also calls the runtime C API.
#include "sparq/InitAll.h"
#include "sparq/Runtime/sparq_runtime.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/raw_ostream.h"

static const char *kModule = R"mlir(
func.func @f(%x: tensor<2x16xf32>, %p: tensor<4x8xi8>, %s: tensor<4x1xf32>) -> tensor<2x4xf32> {
  %y = sparq_weight.linear %x [%p, %s]
      formats [#sparq_quant.scheme<bits = 4, signed, symmetric, per_channel>]
      : (tensor<2x16xf32>, tensor<4x8xi8>, tensor<4x1xf32>) -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}
)mlir";

int main() {
  mlir::DialectRegistry registry;
  sparq::registerAllDialects(registry);
  sparq::registerSparqPassesAndPipelines();
  mlir::MLIRContext context(registry);
  auto module = mlir::parseSourceString<mlir::ModuleOp>(kModule, &context);
  if (!module) {
    llvm::errs() << "consumer: parse failed\n";
    return 1;
  }
  mlir::PassManager pm(&context);
  if (mlir::failed(mlir::parsePassPipeline("sparq-convert-compressed-to-linalg", pm)) ||
      mlir::failed(pm.run(*module))) {
    llvm::errs() << "consumer: pipeline failed\n";
    return 1;
  }
  int sparqOps = 0, generics = 0;
  module->walk([&](mlir::Operation *op) {
    if (op->getDialect() && op->getDialect()->getNamespace().starts_with("sparq_"))
      ++sparqOps;
    if (op->getName().getStringRef() == "linalg.generic")
      ++generics;
  });
  llvm::outs() << "consumer: " << sparqOps << " sparq ops, " << generics << " linalg.generic, "
               << "runtime element type 1 is " << sparq_element_type_name(SPARQ_ELEMENT_TYPE_FLOAT32)
               << "\n";
  return sparqOps == 0 && generics >= 3 ? 0 : 1;
}
