/*===- runtime/tests/CApiSmoke.c - the C API used from C -------------*- C -*-===//
 *
 * Compiled as C (C99, -pedantic) so that the header stays pure C, and called from
 * ModelTest.cpp: loads fake_add, runs it and checks the sum with a loop.
 *
 *===----------------------------------------------------------------------===*/
#include "sparq/Runtime/sparq_runtime.h"

#include <stddef.h>

/* Returns 0 on success, or the line number of the first failed check. */
int sparq_rt_c_smoke(const char *artifact) {
  sparq_model_t *model = NULL;
  sparq_session_t *session = NULL;
  sparq_tensor_t *a = NULL, *b = NULL;
  const sparq_tensor_t *sum = NULL;
  float va[6] = {1, 2, 3, 4, 5, 6}, vb[6] = {6, 5, 4, 3, 2, 1};
  int64_t dims[2] = {2, 3};
  const float *out;
  size_t i;
  int failed = 0;
  sparq_status_t status = sparq_model_load(artifact, &model);
  if (status) { sparq_status_free(status); return __LINE__; }
  status = sparq_session_create(model, &session);
  if (!status) status = sparq_tensor_create(SPARQ_ELEMENT_TYPE_FLOAT32, 2, dims, va, &a);
  if (!status) status = sparq_tensor_wrap(SPARQ_ELEMENT_TYPE_FLOAT32, 2, dims, vb, sizeof(vb), &b);
  if (!status) status = sparq_session_bind_input(session, 0, a);
  if (!status) status = sparq_session_bind_input_by_name(session, "b", b);
  if (!status) status = sparq_session_run(session);
  if (!status) status = sparq_session_output(session, 0, &sum);
  if (status) {
    failed = __LINE__;
    sparq_status_free(status);
  } else {
    out = (const float *)sparq_tensor_data(sum);
    for (i = 0; i < 6; ++i)
      if (out[i] != va[i] + vb[i])
        failed = __LINE__;
  }
  sparq_tensor_destroy(a);
  sparq_tensor_destroy(b);
  sparq_session_destroy(session);
  sparq_model_destroy(model);
  return failed;
}
