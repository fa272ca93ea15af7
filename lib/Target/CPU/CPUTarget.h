//===- lib/Target/CPU/CPUTarget.h - LLVM dialect -> native object -*- C++ -*-===//
#ifndef SPARQ_LIB_TARGET_CPU_CPUTARGET_H
#define SPARQ_LIB_TARGET_CPU_CPUTARGET_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"

#include <memory>
#include <string>

namespace sparq {

struct CPUTargetOptions {
  unsigned optLevel = 2;
  /// CPU to tune and generate for; "host" means the machine the compiler runs on.
  std::string cpu = "host";
};

/// Translates an LLVM-dialect module to LLVM IR. Reports errors on the module; null on failure.
std::unique_ptr<llvm::Module> translateToLLVMIR(mlir::ModuleOp module,
                                                llvm::LLVMContext &llvmContext);

/// Optimizes `module` with LLVM's pipeline at `optLevel` and emits a relocatable object (PIC)
/// into `objectBytes`. Returns an error message, or "" on success.
std::string emitObject(llvm::Module &module, const CPUTargetOptions &options,
                       std::string &objectBytes);

} // namespace sparq

#endif // SPARQ_LIB_TARGET_CPU_CPUTARGET_H
