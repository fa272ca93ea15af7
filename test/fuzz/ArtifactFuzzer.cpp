//===- test/fuzz/ArtifactFuzzer.cpp - libFuzzer target: the artifact validator ===//
//
// Writes arbitrary bytes to a per-process memory file and runs checkArtifactFile
// (runtime/src/ArtifactCheck.h) on it: everything sparq_model_load checks before dlopen. The
// bytes are never dlopen'ed. A clean "cannot load artifact" error is the expected outcome.
// See docs/fuzzing.md.
//
//===----------------------------------------------------------------------===//
#include "ArtifactCheck.h"
#include "FuzzUtil.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const std::string subject = "cannot load artifact 'fuzz.so'";
  sparq::fuzz::ScratchFile &file = sparq::fuzz::ScratchFile::get();
  file.write(data, size);
  sparq::fuzz::checkStatus(sparq::runtime::checkArtifactFile(file.path(), subject),
                           subject + ": ");
  return 0;
}
