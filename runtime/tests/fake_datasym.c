/*===- runtime/tests/fake_datasym.c - fake artifacts whose ABI symbols are data -*- C -*-===//
 *
 * Built twice. As-is, sparq_model_signature_v1 is the signature text itself (a const char
 * array) instead of a function returning it: calling it would jump into non-executable data.
 * With FAKE_DATA_CPU defined, the signature is fine but the optional sparq_model_cpu_v1 is a
 * const char array. The runtime must refuse both at load time.
 *
 *===----------------------------------------------------------------------===*/
#include <stdint.h>

#ifdef FAKE_DATA_CPU
const char *sparq_model_signature_v1(void) {
  return "sparq-signature 1\ninputs 0\noutputs 0\n";
}

const char sparq_model_cpu_v1[] = "x86-64 sse2";
#else
const char sparq_model_signature_v1[] = "sparq-signature 1\ninputs 0\noutputs 0\n";
#endif

int32_t sparq_model_invoke_v2(void **args, char *error, int64_t error_size) {
  (void)args;
  (void)error;
  (void)error_size;
  return 0;
}
