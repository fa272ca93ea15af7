/*===- runtime/tests/fake_badsig.c - fake artifacts that must fail to load -*- C -*-===//
 *
 * Built twice: as-is, its signature is malformed (a rank-2 tensor with one dimension);
 * with FAKE_OMIT_INVOKE defined, the signature is fine but sparq_model_invoke_v2 is missing; with
 * FAKE_V1_INVOKE also defined, the artifact exports only the version 1 entry (no status return).
 *
 *===----------------------------------------------------------------------===*/
#include <stdint.h>

#ifdef FAKE_OMIT_INVOKE
const char *sparq_model_signature_v1(void) {
  return "sparq-signature 1\ninputs 0\noutputs 0\n";
}
#ifdef FAKE_V1_INVOKE
void sparq_model_invoke_v1(void **args) { (void)args; }
#endif
#else
const char *sparq_model_signature_v1(void) {
  return "sparq-signature 1\ninputs 1\nx float32 2 4\noutputs 0\n";
}

int32_t sparq_model_invoke_v2(void **args, char *error, int64_t error_size) {
  (void)args;
  (void)error;
  (void)error_size;
  return 0;
}
#endif
