//===- test/fuzz/NpyFuzzer.cpp - libFuzzer target: the .npy reader ----------===//
//
// Feeds arbitrary bytes to sparq_tensor_decode_npy (the bytes sparq_tensor_read_npy reads from
// a file). A clean error is the expected outcome; a tensor that decodes must be consistent and
// survive sparq_tensor_write_npy and sparq_tensor_read_npy unchanged. See docs/fuzzing.md.
//
//===----------------------------------------------------------------------===//
#include "FuzzUtil.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  sparq::fuzz::fuzzTensorFormat(data, size, sparq_tensor_decode_npy, sparq_tensor_write_npy,
                                sparq_tensor_read_npy, /*keepsName=*/false);
  return 0;
}
