/*===- runtime/tests/fake_strided.c - fake artifact with strided outputs -*- C -*-===//
 *
 * A hand-written model artifact per docs/artifact-abi.md whose outputs are views with
 * non-trivial layouts, so the runtime must honour offset and strides when copying out:
 *   input:   "m" int32 [2,3]
 *   outputs: "t" int32 [3,2]   = transpose(m), a view with strides [1,3]
 *            "rev" int32 [3]   = m[1][::-1], a view with offset 5 and stride -1
 *            "total" int64 []  = sum of m (rank 0)
 * Every buffer's `aligned` pointer is 16 bytes past `allocated`, so freeing the wrong
 * pointer would abort.
 *
 *===----------------------------------------------------------------------===*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fake_memref.h"

typedef struct {
  memref_2d_t t;
  memref_1d_t rev;
  memref_0d_t total;
} results_t;

const char *sparq_model_signature_v1(void) {
  return "sparq-signature 1\n"
         "inputs 1\n"
         "m int32 2 2 3\n"
         "outputs 3\n"
         "t int32 2 3 2\n"
         "rev int32 1 3\n"
         "total int64 0\n";
}

/* Allocates `bytes` behind a 16-byte pad; returns the allocation, sets *aligned. */
static void *alloc_padded(size_t bytes, void **aligned) {
  char *base = (char *)malloc(16 + bytes);
  memset(base, 0xab, 16);
  *aligned = base + 16;
  return base;
}

int32_t sparq_model_invoke_v2(void **args, char *error, int64_t error_size) {
  (void)error;
  (void)error_size;
  results_t *out = (results_t *)args[0];
  const memref_2d_t *m = (const memref_2d_t *)args[1];
  const int32_t *pm = (const int32_t *)m->aligned + m->offset;
  void *aligned;

  /* t: a copy of m, described as its transpose. */
  out->t.allocated = alloc_padded(6 * sizeof(int32_t), &aligned);
  memcpy(aligned, pm, 6 * sizeof(int32_t));
  out->t.aligned = aligned;
  out->t.offset = 0;
  out->t.sizes[0] = 3;
  out->t.sizes[1] = 2;
  out->t.strides[0] = 1;
  out->t.strides[1] = 3;

  /* rev: another copy of m; row 1 read backwards from its last element. */
  out->rev.allocated = alloc_padded(6 * sizeof(int32_t), &aligned);
  memcpy(aligned, pm, 6 * sizeof(int32_t));
  out->rev.aligned = aligned;
  out->rev.offset = 5;
  out->rev.sizes[0] = 3;
  out->rev.strides[0] = -1;

  /* total: a scalar. */
  out->total.allocated = alloc_padded(sizeof(int64_t), &aligned);
  int64_t sum = 0;
  for (int i = 0; i < 6; ++i)
    sum += pm[i];
  memcpy(aligned, &sum, sizeof(sum));
  out->total.aligned = aligned;
  out->total.offset = 0;
  return 0;
}
