/*===- runtime/tests/fake_add.c - fake artifact: sum = a + b ---------*- C -*-===//
 *
 * A hand-written model artifact per docs/artifact-abi.md: two float32 [2,3] inputs, their
 * elementwise sum as output (malloc'ed, contiguous). Exports the optional
 * sparq_model_set_num_threads_v1 and sparq_model_release_v1 (which frees the block and counts
 * it) and, for the tests, fake_add_num_threads(), fake_add_last_output() (the block the last
 * invocation returned) and fake_add_released() / fake_add_last_released().
 * Test hook: if a[0][0] == 12345, the returned shape is 2x4, breaking the signature.
 *
 *===----------------------------------------------------------------------===*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "fake_memref.h"

static int num_threads = 1;
static void *last_output = NULL, *last_released = NULL;
static int released = 0;

const char *sparq_model_signature_v1(void) {
  return "sparq-signature 1\n"
         "inputs 2\n"
         "a float32 2 2 3\n"
         "b float32 2 2 3\n"
         "outputs 1\n"
         "sum float32 2 2 3\n";
}

void sparq_model_set_num_threads_v1(int n) { num_threads = n; }

int fake_add_num_threads(void) { return num_threads; }

void sparq_model_release_v1(void *block) {
  last_released = block;
  ++released;
  free(block);
}

void *fake_add_last_output(void) { return last_output; }
void *fake_add_last_released(void) { return last_released; }
int fake_add_released(void) { return released; }

/* A fixed figure, so that the runtime's forwarding can be checked. */
int64_t sparq_model_peak_bytes_v1(void) { return 4242; }

/* Adds a and b; a[0][0] == -1 plays a failed run-time check (status 1 and a message). */
int32_t sparq_model_invoke_v2(void **args, char *error, int64_t error_size) {
  memref_2d_t *out = (memref_2d_t *)args[0];
  const memref_2d_t *a = (const memref_2d_t *)args[1];
  const memref_2d_t *b = (const memref_2d_t *)args[2];
  const float *pa = (const float *)a->aligned + a->offset;
  const float *pb = (const float *)b->aligned + b->offset;
  if (pa[0] == -1.0f) {
    snprintf(error, (size_t)error_size, "node 'fake_add': a check failed");
    return 1;
  }
  float *result = (float *)malloc(6 * sizeof(float));
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 3; ++j)
      result[i * 3 + j] = pa[i * a->strides[0] + j * a->strides[1]] +
                          pb[i * b->strides[0] + j * b->strides[1]];
  last_output = result;
  out->allocated = result;
  out->aligned = result;
  out->offset = 0;
  out->sizes[0] = 2;
  out->sizes[1] = pa[0] == 12345.0f ? 4 : 3;
  out->strides[0] = 3;
  out->strides[1] = 1;
  return 0;
}
