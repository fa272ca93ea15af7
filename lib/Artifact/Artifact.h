//===- lib/Artifact/Artifact.h - the model artifact (docs/artifact-abi.md) -*- C++ -*-===//
#ifndef SPARQ_LIB_ARTIFACT_ARTIFACT_H
#define SPARQ_LIB_ARTIFACT_ARTIFACT_H

#include "lib/Artifact/WeightObject.h"

#include "llvm/Support/Error.h"
#include "llvm/Support/FileSystem.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/IR/Module.h"

#include <string>

namespace sparq {

/// Adds the ABI symbols `sparq_model_signature_v1`, `sparq_model_invoke_v2` (which unpacks its
/// `void **args`, calls `_mlir_ciface_<entryName>` under the run-time error channel and returns
/// its status), `sparq_model_release_v1` (an output
/// block back to the artifact's allocator), `sparq_model_set_num_threads_v1` and
/// `sparq_model_cpu_v1` (returning `cpuText`: the CPU name, then the features the code needs)
/// to `module`. With a `profileTable` (include/sparq/Formats/KernelProfile.h; from
/// sparq-profile-kernels), also `sparq_model_profile_v1` (the table) and
/// `sparq_model_profile_read_v1` (the kernels' timers).
llvm::Error addArtifactABI(llvm::Module &module, llvm::StringRef entryName,
                           llvm::StringRef signature, unsigned numInputs,
                           llvm::StringRef cpuText, llvm::StringRef profileTable = {});

/// Links a relocatable object into a shared object at `outputPath` with the linker driver
/// `linker` (a cc-compatible driver such as clang), together with the object files
/// `extraObjects` (the weight object).
llvm::Error linkSharedObject(llvm::StringRef objectBytes, llvm::StringRef outputPath,
                             llvm::StringRef linker, llvm::ArrayRef<std::string> extraObjects = {});

/// Writes the object of `weights` (WeightObject.h; ELF machine `machine`) to a temporary file
/// for linkSharedObject; the caller discards it after linking.
llvm::Expected<llvm::sys::fs::TempFile>
writeWeightObjectFile(llvm::ArrayRef<ExternalWeight> weights, uint16_t machine);

/// The linker driver found when sparq was configured (overridable with $SPARQ_LINKER).
std::string defaultLinker();

} // namespace sparq

#endif // SPARQ_LIB_ARTIFACT_ARTIFACT_H
