//===- lib/Target/CPU/UKernels.cpp - link the micro-kernel bitcode --------------===//
//
// runtime/kernels is compiled to target-neutral LLVM bitcode in three variants (v16: AVX-512
// register tiles, v16vnni: the same with the int8-activation kernel on AVX-512 VNNI, v8: AVX2
// tiles) and embedded in the compiler. A model links the variant for its target CPU, only the functions it references (plus the pool's destructor), gives them the
// target's CPU and features, and internalizes them: the artifact stays self-contained and exports
// only its ABI entry points. The bitcode was optimized (-O3) when it was built; the model's
// pipeline optimizes it again for the target CPU, and there every kernel loop is marked not to be
// unrolled at run time: the kernels unroll what they mean to (register tiles), and a second,
// runtime unroll of a tile's reduction loop (on AMD Zen CPUs, whose LLVM cost model asks for it)
// spilled the accumulators (a fused block 1.25x slower than the same source built by clang).
//
//===----------------------------------------------------------------------===//
#include "lib/Target/CPU/CPUTarget.h"

#include "llvm/ADT/StringSet.h"
#include "llvm/Analysis/LoopInfo.h"
#include "llvm/Bitcode/BitcodeReader.h"
#include "llvm/IR/Dominators.h"
#include "llvm/IR/Metadata.h"
#include "llvm/IR/Module.h"
#include "llvm/Linker/Linker.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cstddef>

extern const unsigned char sparq_kernels_v16_bc[];
extern const size_t sparq_kernels_v16_bc_size;
extern const unsigned char sparq_kernels_v16vnni_bc[];
extern const size_t sparq_kernels_v16vnni_bc_size;
extern const unsigned char sparq_kernels_v8_bc[];
extern const size_t sparq_kernels_v8_bc_size;

namespace sparq {

namespace {

/// Adds llvm.loop.unroll.runtime.disable to every loop of f (keeping its other loop metadata).
void disableRuntimeUnroll(llvm::Function &f) {
  llvm::DominatorTree dt(f);
  llvm::LoopInfo loops(dt);
  llvm::LLVMContext &ctx = f.getContext();
  llvm::MDNode *disable =
      llvm::MDNode::get(ctx, llvm::MDString::get(ctx, "llvm.loop.unroll.runtime.disable"));
  for (llvm::Loop *loop : loops.getLoopsInPreorder()) {
    llvm::SmallVector<llvm::Metadata *, 4> ops{nullptr};
    if (llvm::MDNode *old = loop->getLoopID())
      for (unsigned i = 1; i < old->getNumOperands(); ++i)
        ops.push_back(old->getOperand(i));
    ops.push_back(disable);
    llvm::MDNode *id = llvm::MDNode::getDistinct(ctx, ops);
    id->replaceOperandWith(0, id);
    loop->setLoopID(id);
  }
}

} // namespace

llvm::Error linkMicroKernels(llvm::Module &module, const ResolvedCPU &target) {
  bool wide = target.vectorFloats == 16;
  llvm::StringRef bytes(reinterpret_cast<const char *>(sparq_kernels_v8_bc),
                        sparq_kernels_v8_bc_size);
  if (wide && target.avx512vnni)
    bytes = llvm::StringRef(reinterpret_cast<const char *>(sparq_kernels_v16vnni_bc),
                            sparq_kernels_v16vnni_bc_size);
  else if (wide)
    bytes = llvm::StringRef(reinterpret_cast<const char *>(sparq_kernels_v16_bc),
                            sparq_kernels_v16_bc_size);
  auto buffer = llvm::MemoryBuffer::getMemBuffer(bytes, "sparq-kernels", false);
  auto kernels = llvm::parseBitcodeFile(buffer->getMemBufferRef(), module.getContext());
  if (!kernels)
    return kernels.takeError();

  llvm::StringSet<> kernelNames;
  for (llvm::Function &f : **kernels)
    if (!f.isDeclaration())
      kernelNames.insert(f.getName());
  for (llvm::GlobalVariable &g : (*kernels)->globals())
    if (!g.isDeclaration() && !g.getName().starts_with("llvm."))
      kernelNames.insert(g.getName());
  (*kernels)->setDataLayout(module.getDataLayout());
  (*kernels)->setTargetTriple(module.getTargetTriple());
  if (llvm::Linker::linkModules(module, std::move(*kernels), llvm::Linker::LinkOnlyNeeded))
    return llvm::createStringError("linking the micro-kernel bitcode into the model failed");

  for (llvm::Function &f : module) {
    if (f.isDeclaration() || !kernelNames.contains(f.getName()))
      continue;
    f.setLinkage(llvm::GlobalValue::InternalLinkage);
    disableRuntimeUnroll(f);
    f.removeFnAttr("target-cpu");
    f.removeFnAttr("target-features");
    f.removeFnAttr("tune-cpu");
    f.addFnAttr("target-cpu", target.cpu);
    if (!target.features.empty())
      f.addFnAttr("target-features", target.features);
    if (wide) {
      // Keep 512-bit vectors whole on CPUs tuned to prefer 256-bit ones.
      f.addFnAttr("prefer-vector-width", "512");
      f.addFnAttr("min-legal-vector-width", "512");
    }
  }
  for (llvm::GlobalVariable &g : module.globals())
    if (!g.isDeclaration() && kernelNames.contains(g.getName()))
      g.setLinkage(llvm::GlobalValue::InternalLinkage);
  return llvm::Error::success();
}

} // namespace sparq
