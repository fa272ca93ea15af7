/*===- runtime/tests/fake_badsig.c - fake artifacts that must fail to load -*- C -*-===//
 *
 * Built twice: as-is, its signature is malformed (a rank-2 tensor with one dimension);
 * with FAKE_OMIT_INVOKE defined, the signature is fine but sparq_model_invoke_v1 is missing.
 *
 *===----------------------------------------------------------------------===*/
#include <stdint.h>

#ifdef FAKE_OMIT_INVOKE
const char *sparq_model_signature_v1(void) {
  return "sparq-signature 1\ninputs 0\noutputs 0\n";
}
#else
const char *sparq_model_signature_v1(void) {
  return "sparq-signature 1\ninputs 1\nx float32 2 4\noutputs 0\n";
}

void sparq_model_invoke_v1(void **args) { (void)args; }
#endif
