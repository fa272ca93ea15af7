//===- test/fuzz/PbFuzzer.cpp - libFuzzer target: the TensorProto (.pb) reader ===//
//
// Feeds arbitrary bytes to sparq_tensor_decode_pb (the bytes sparq_tensor_read_pb reads from a
// file). A clean error is the expected outcome; a tensor that decodes must be consistent and
// survive sparq_tensor_write_pb and sparq_tensor_read_pb unchanged, name included. See
// docs/fuzzing.md.
//
//===----------------------------------------------------------------------===//
#include "FuzzUtil.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  sparq::fuzz::fuzzTensorFormat(data, size, sparq_tensor_decode_pb, sparq_tensor_write_pb,
                                sparq_tensor_read_pb, /*keepsName=*/true);
  return 0;
}
