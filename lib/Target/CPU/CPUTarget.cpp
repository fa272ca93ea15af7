//===- lib/Target/CPU/CPUTarget.cpp - LLVM dialect -> native object ------------===//
#include "lib/Target/CPU/CPUTarget.h"

#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/CodeGen.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/Triple.h"

using namespace mlir;

namespace sparq {

std::unique_ptr<llvm::Module> translateToLLVMIR(ModuleOp module, llvm::LLVMContext &llvmContext) {
  return translateModuleToLLVMIR(module, llvmContext, "sparq_model");
}

std::string emitObject(llvm::Module &module, const CPUTargetOptions &options,
                       std::string &objectBytes) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();

  llvm::Triple triple(llvm::sys::getDefaultTargetTriple());
  std::string error;
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return "no LLVM target for " + triple.str() + ": " + error;

  std::string cpu = options.cpu;
  std::string features;
  if (cpu == "host") {
    cpu = llvm::sys::getHostCPUName().str();
    llvm::StringMap<bool> hostFeatures = llvm::sys::getHostCPUFeatures();
    for (auto &f : hostFeatures)
      features += (f.second ? "+" : "-") + f.first().str() + ",";
  }
  llvm::CodeGenOptLevel cgLevel = options.optLevel == 0   ? llvm::CodeGenOptLevel::None
                                  : options.optLevel == 1 ? llvm::CodeGenOptLevel::Less
                                  : options.optLevel == 2 ? llvm::CodeGenOptLevel::Default
                                                          : llvm::CodeGenOptLevel::Aggressive;
  llvm::TargetOptions targetOptions;
  std::unique_ptr<llvm::TargetMachine> tm(target->createTargetMachine(
      triple, cpu, features, targetOptions, llvm::Reloc::PIC_, std::nullopt, cgLevel));
  if (!tm)
    return "cannot create an LLVM target machine for " + triple.str() + " (cpu " + cpu + ")";
  module.setTargetTriple(triple);
  module.setDataLayout(tm->createDataLayout());

  auto transformer = makeOptimizingTransformer(options.optLevel, /*sizeLevel=*/0, tm.get());
  if (llvm::Error err = transformer(&module)) {
    std::string msg;
    llvm::raw_string_ostream os(msg);
    os << "LLVM optimization failed: " << err;
    return msg;
  }

  llvm::SmallVector<char, 0> buffer;
  llvm::raw_svector_ostream os(buffer);
  llvm::legacy::PassManager pm;
  if (tm->addPassesToEmitFile(pm, os, nullptr, llvm::CodeGenFileType::ObjectFile))
    return "the LLVM target cannot emit object files";
  pm.run(module);
  objectBytes.assign(buffer.begin(), buffer.end());
  return "";
}

} // namespace sparq
