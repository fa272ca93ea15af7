//===- passes/Codegen/MmaImage.cpp - the tensor-core kernels' fatbin -------------===//
//
// The fatbin nvcc built from runtime/kernels/cuda/MmaGemm.cu, assembled into the compiler
// (`.incbin`, no copy through a generated source file) so that sparq-gpu-tensor-cores can embed
// it into the CUDA artifacts whose layers call those kernels. A build without nvcc has none.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#ifdef SPARQ_MMA_FATBIN_PATH
__asm__(".section .rodata.sparq_mma_image,\"a\",@progbits\n"
        ".balign 16\n"
        ".hidden sparq_mma_image_begin\n"
        ".globl sparq_mma_image_begin\n"
        "sparq_mma_image_begin:\n"
        ".incbin \"" SPARQ_MMA_FATBIN_PATH "\"\n"
        ".hidden sparq_mma_image_end\n"
        ".globl sparq_mma_image_end\n"
        "sparq_mma_image_end:\n"
        ".previous\n");
extern "C" const char sparq_mma_image_begin[];
extern "C" const char sparq_mma_image_end[];

llvm::StringRef sparq::cudaMmaImage() {
  return llvm::StringRef(sparq_mma_image_begin,
                         static_cast<size_t>(sparq_mma_image_end - sparq_mma_image_begin));
}
#else
llvm::StringRef sparq::cudaMmaImage() { return {}; }
#endif
