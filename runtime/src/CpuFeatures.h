//===- runtime/src/CpuFeatures.h - what the running CPU supports ----*- C++ -*-===//
#ifndef SPARQ_RUNTIME_SRC_CPUFEATURES_H
#define SPARQ_RUNTIME_SRC_CPUFEATURES_H

#include <string>
#include <vector>

namespace sparq::runtime {

/// Whether the running CPU (and the OS, for register state) supports the x86 feature `name`
/// (LLVM's spelling: "avx2", "fma", "avx512f", ...): 1 yes, 0 no, -1 a name this runtime does not
/// know. Features listed in $SPARQ_CPU_DISABLE (comma-separated) count as absent, so a machine
/// can be made to look older (tests, reproducing a deployment target).
int cpuHasFeature(const std::string &name);

/// The features of `required` (LLVM spellings) the running CPU lacks; unknown names are skipped.
std::vector<std::string> missingCpuFeatures(const std::vector<std::string> &required);

} // namespace sparq::runtime

#endif // SPARQ_RUNTIME_SRC_CPUFEATURES_H
