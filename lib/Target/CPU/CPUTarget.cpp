//===- lib/Target/CPU/CPUTarget.cpp - LLVM dialect -> native object ------------===//
#include "lib/Target/CPU/CPUTarget.h"

#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/MC/MCSubtargetInfo.h"
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

llvm::Expected<ResolvedCPU> resolveCPU(llvm::StringRef cpuName) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  ResolvedCPU r;
  llvm::Triple triple(llvm::sys::getDefaultTargetTriple());
  r.triple = triple.str();
  std::string error;
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return llvm::createStringError("no LLVM target for " + triple.str() + ": " + error);
  if (cpuName == "host" || cpuName == "native") {
    r.cpu = llvm::sys::getHostCPUName().str();
    for (auto &f : llvm::sys::getHostCPUFeatures())
      r.features += (f.second ? "+" : "-") + f.first().str() + ",";
    if (!r.features.empty())
      r.features.pop_back();
  } else {
    r.cpu = cpuName.str();
  }
  // Check the name on a generic subtarget first: creating one for an unknown CPU prints a
  // warning of LLVM's own.
  std::unique_ptr<llvm::MCSubtargetInfo> generic(target->createMCSubtargetInfo(triple, "", ""));
  std::unique_ptr<llvm::MCSubtargetInfo> sti;
  if (generic && generic->isCPUStringValid(r.cpu))
    sti.reset(target->createMCSubtargetInfo(triple, r.cpu, r.features));
  if (!sti)
    return llvm::createStringError("unknown CPU '" + cpuName.str() + "' for " + triple.str() +
                                   " (try native, x86-64-v2, x86-64-v3, x86-64-v4 or an LLVM "
                                   "CPU name such as skylake-avx512)");
  r.vectorFloats = sti->checkFeatures("+avx512f") ? 16 : 8;
  r.avx512vnni = r.vectorFloats == 16 && sti->checkFeatures("+avx512vnni");
  r.avx512vbmiVnni = r.avx512vnni && sti->checkFeatures("+avx512vbmi");
  r.fma = sti->checkFeatures("+fma");
  // The extensions that change which instructions code may use (the runtime's table in
  // runtime/src/CpuFeatures.cpp knows the same names).
  static const char *const kChecked[] = {
      "sse3",       "ssse3",      "fma",      "sse4.1",   "sse4.2",     "popcnt",   "avx",
      "f16c",       "bmi",        "avx2",     "bmi2",     "avx512f",    "avx512dq", "avx512ifma",
      "avx512cd",   "avx512bw",   "avx512vl", "avx512vbmi", "avx512vnni", "avx512fp16",
      "avxvnni",    "avx512bf16", "amx-bf16", "amx-tile", "amx-int8"};
  r.runtimeDescription = r.cpu;
  for (const char *f : kChecked)
    if (sti->checkFeatures(std::string("+") + f))
      r.runtimeDescription += std::string(" ") + f;
  return r;
}

llvm::Expected<llvm::SmallVector<char, 0>> emitObject(llvm::Module &module,
                                                      const ResolvedCPU &resolved,
                                                      unsigned optLevel) {
  llvm::Triple triple(resolved.triple);
  std::string error;
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return llvm::createStringError("no LLVM target for " + triple.str() + ": " + error);
  const std::string &cpu = resolved.cpu, &features = resolved.features;
  llvm::CodeGenOptLevel cgLevel = optLevel == 0   ? llvm::CodeGenOptLevel::None
                                  : optLevel == 1 ? llvm::CodeGenOptLevel::Less
                                  : optLevel == 2 ? llvm::CodeGenOptLevel::Default
                                                  : llvm::CodeGenOptLevel::Aggressive;
  llvm::TargetOptions targetOptions;
  std::unique_ptr<llvm::TargetMachine> tm(target->createTargetMachine(
      triple, cpu, features, targetOptions, llvm::Reloc::PIC_, std::nullopt, cgLevel));
  if (!tm)
    return llvm::createStringError("cannot create an LLVM target machine for " + triple.str() +
                                   " (cpu " + cpu + ")");
  module.setTargetTriple(triple);
  module.setDataLayout(tm->createDataLayout());
  if (llvm::Error err = linkMicroKernels(module, resolved))
    return std::move(err);

  auto transformer = makeOptimizingTransformer(optLevel, /*sizeLevel=*/0, tm.get());
  if (llvm::Error err = transformer(&module)) {
    std::string msg;
    llvm::raw_string_ostream os(msg);
    os << "LLVM optimization failed: " << err;
    return llvm::createStringError(msg);
  }

  llvm::SmallVector<char, 0> buffer;
  llvm::raw_svector_ostream os(buffer);
  llvm::legacy::PassManager pm;
  if (tm->addPassesToEmitFile(pm, os, nullptr, llvm::CodeGenFileType::ObjectFile))
    return llvm::createStringError("the LLVM target cannot emit object files");
  pm.run(module);
  return buffer;
}

} // namespace sparq
