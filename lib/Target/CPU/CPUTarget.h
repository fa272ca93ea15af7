//===- lib/Target/CPU/CPUTarget.h - LLVM dialect -> native object -*- C++ -*-===//
#ifndef SPARQ_LIB_TARGET_CPU_CPUTARGET_H
#define SPARQ_LIB_TARGET_CPU_CPUTARGET_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/Error.h"

#include <memory>
#include <string>

namespace sparq {

/// A CPU name resolved to what code generation needs.
struct ResolvedCPU {
  std::string triple;
  std::string cpu;      ///< LLVM CPU name
  std::string features; ///< LLVM feature string ("+avx2,+fma,...")
  /// Floats per vector register of the micro-kernel variant for this CPU (16: AVX-512, 8: AVX2
  /// and older), which fixes the panel width of packed weights (2 x vectorFloats).
  unsigned vectorFloats = 8;
  /// AVX-512 VNNI (vpdpbusd): selects the kernel variant whose int8-activation kernel uses it.
  bool avx512vnni = false;
  /// AVX-512 VBMI (vpermb) and VNNI: the int8-table shift-add kernel (sparq_uk_lutgemm_i8_f32).
  bool avx512vbmiVnni = false;
  /// Fused multiply-add (FMA3): sparq-approximate-math's polynomials are chains of them.
  bool fma = false;

  /// "CPU FEATURE ..." with the enabled ISA extensions the runtime checks before loading an
  /// artifact (docs/artifact-abi.md, sparq_model_cpu_v1).
  std::string runtimeDescription;
};

/// Resolves `cpu` ("host"/"native" or an LLVM CPU name such as x86-64-v3 or sapphirerapids).
llvm::Expected<ResolvedCPU> resolveCPU(llvm::StringRef cpu);

/// Translates an LLVM-dialect module to LLVM IR. Reports errors on the module; null on failure.
std::unique_ptr<llvm::Module> translateToLLVMIR(mlir::ModuleOp module,
                                                llvm::LLVMContext &llvmContext);

/// Links the micro-kernels and thread pool (runtime/kernels, embedded as bitcode) that `module`
/// references, compiled for `target`, and makes them private to the module.
llvm::Error linkMicroKernels(llvm::Module &module, const ResolvedCPU &target);

/// Links the micro-kernels, optimizes `module` with LLVM's pipeline at `optLevel` and emits a
/// relocatable object (PIC): its bytes (the buffer LLVM wrote, not a copy: with weights the
/// object is as large as they are).
llvm::Expected<llvm::SmallVector<char, 0>> emitObject(llvm::Module &module,
                                                      const ResolvedCPU &resolved,
                                                      unsigned optLevel);

} // namespace sparq

#endif // SPARQ_LIB_TARGET_CPU_CPUTARGET_H
