/*===- runtime/tests/fake_dyn.c - fake artifact with dynamic dims ------*- C -*-===//
 *
 * A hand-written model artifact per docs/artifact-abi.md with a dynamic batch dimension and
 * escaped names:
 *   inputs:  "in put" float32 [?,4], "k" int64 scalar
 *   outputs: "y" float32 [?,4] = x * k,  "row sums" int64 [?] = number of x[i][j] > 0 per row
 * It does not export sparq_model_set_num_threads_v1.
 *
 *===----------------------------------------------------------------------===*/
#include <stdint.h>
#include <stdlib.h>

#include "fake_memref.h"

/* The results area holds a rank-2 then a rank-1 descriptor, back to back. */
typedef struct {
  memref_2d_t y;
  memref_1d_t row_sums;
} results_t;

const char *sparq_model_signature_v1(void) {
  return "sparq-signature 1\n"
         "inputs 2\n"
         "in%20put float32 2 -1 4\n"
         "k int64 0\n"
         "outputs 2\n"
         "y float32 2 -1 4\n"
         "row%20sums int64 1 -1\n";
}

int32_t sparq_model_invoke_v2(void **args, char *error, int64_t error_size) {
  (void)error;
  (void)error_size;
  results_t *out = (results_t *)args[0];
  const memref_2d_t *x = (const memref_2d_t *)args[1];
  const memref_0d_t *k = (const memref_0d_t *)args[2];
  int64_t rows = x->sizes[0];
  const float *px = (const float *)x->aligned + x->offset;
  float kv = (float)*((const int64_t *)k->aligned + k->offset);
  float *y = (float *)malloc((size_t)(rows * 4) * sizeof(float) + 1);
  int64_t *sums = (int64_t *)malloc((size_t)rows * sizeof(int64_t) + 1);
  for (int64_t i = 0; i < rows; ++i) {
    sums[i] = 0;
    for (int64_t j = 0; j < 4; ++j) {
      float v = px[i * x->strides[0] + j * x->strides[1]];
      y[i * 4 + j] = v * kv;
      sums[i] += v > 0.0f;
    }
  }
  out->y.allocated = out->y.aligned = y;
  out->y.offset = 0;
  out->y.sizes[0] = rows;
  out->y.sizes[1] = 4;
  out->y.strides[0] = 4;
  out->y.strides[1] = 1;
  out->row_sums.allocated = out->row_sums.aligned = sums;
  out->row_sums.offset = 0;
  out->row_sums.sizes[0] = rows;
  out->row_sums.strides[0] = 1;
  return 0;
}
