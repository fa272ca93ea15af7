//===- lib/Artifact/WeightObject.h - weights as an object file of their own -*- C++ -*-===//
//
// Large constant weights do not go through LLVM IR: the compiler turns their globals into
// external declarations and writes their bytes straight from the MLIR blobs into a relocatable
// ELF object that is linked next to the code object. LLVM would otherwise hold each weight once
// as an IR constant and once more in the emitted object, on top of the blob it was made from.
//
//===----------------------------------------------------------------------===//
#ifndef SPARQ_LIB_ARTIFACT_WEIGHTOBJECT_H
#define SPARQ_LIB_ARTIFACT_WEIGHTOBJECT_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <string>

namespace sparq {

/// One weight of the object: its bytes (owned elsewhere, alive until the object is written),
/// defined as a hidden global data symbol aligned to `align` bytes (a power of two).
struct ExternalWeight {
  std::string symbol;
  llvm::ArrayRef<char> data;
  uint64_t align = 64;
};

/// ELF machine number for the weight object of target `triple`, or 0 where sparq does not
/// write one (the weights then stay in LLVM IR).
uint16_t weightObjectMachine(llvm::StringRef triple);

/// Writes a little-endian ELF64 relocatable object for `machine` holding `weights` in one
/// read-only allocated section, each defined as a global hidden STT_OBJECT symbol. Write errors
/// are the stream's to report (raw_fd_ostream::has_error).
llvm::Error writeWeightObject(llvm::ArrayRef<ExternalWeight> weights, uint16_t machine,
                              llvm::raw_ostream &os);

} // namespace sparq

#endif // SPARQ_LIB_ARTIFACT_WEIGHTOBJECT_H
