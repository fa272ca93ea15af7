/*===- runtime/tests/fake_str.c - fake artifact with string tensors -*- C -*-===//
 *
 * A hand-written model artifact per docs/artifact-abi.md with a string input and string
 * outputs, whose strings live in a per-thread arena that every call overwrites (as the
 * compiler's string arena does):
 *   input:   "words" string [2,2]
 *   outputs: "upper" string [2,2]  = the words with ASCII letters upper-cased, in a contiguous
 *                                     block of its own (which the runtime must not adopt)
 *            "t" string [2,2]      = transpose(upper), a view with strides [1,2]
 * Exports sparq_model_release_v1, which frees a block and counts it,
 * sparq_model_release_strings_v1, which poisons the calling thread's arena and counts the calls,
 * and for the tests fake_str_released(), fake_str_strings_released() and fake_str_arena() (the
 * calling thread's arena).
 *
 *===----------------------------------------------------------------------===*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fake_memref.h"

typedef struct {
  memref_2d_t upper;
  memref_2d_t t;
} results_t;

enum { ARENA_SIZE = 4096 };
static _Thread_local char arena[ARENA_SIZE];
static int released = 0;

const char *sparq_model_signature_v1(void) {
  return "sparq-signature 1\n"
         "inputs 1\n"
         "words string 2 2 2\n"
         "outputs 2\n"
         "upper string 2 2 2\n"
         "t string 2 2 2\n";
}

void sparq_model_release_v1(void *block) {
  ++released;
  free(block);
}

static int stringsReleased = 0;
void sparq_model_release_strings_v1(void) {
  ++stringsReleased;
  memset(arena, '#', sizeof arena);
}

int fake_str_released(void) { return released; }
int fake_str_strings_released(void) { return stringsReleased; }
const char *fake_str_arena(void) { return arena; }

/* Describes the 2x2 block `block` with strides `s0`, `s1`. */
static void describe(memref_2d_t *out, const char **block, int64_t s0, int64_t s1) {
  out->allocated = block;
  out->aligned = block;
  out->offset = 0;
  out->sizes[0] = 2;
  out->sizes[1] = 2;
  out->strides[0] = s0;
  out->strides[1] = s1;
}

int32_t sparq_model_invoke_v2(void **args, char *error, int64_t error_size) {
  (void)error;
  (void)error_size;
  results_t *out = (results_t *)args[0];
  const memref_2d_t *in = (const memref_2d_t *)args[1];
  const char *const *words = (const char *const *)in->aligned + in->offset;
  /* The previous call's strings are gone: poison the whole arena. */
  memset(arena, '#', sizeof arena);
  const char **upper = (const char **)malloc(4 * sizeof(const char *));
  size_t used = 0;
  for (int64_t i = 0; i < 2; ++i) {
    for (int64_t j = 0; j < 2; ++j) {
      const char *word = words[i * in->strides[0] + j * in->strides[1]];
      size_t length = strlen(word);
      if (used + length + 1 > ARENA_SIZE)
        abort();
      char *copy = arena + used;
      for (size_t k = 0; k < length; ++k)
        copy[k] = word[k] >= 'a' && word[k] <= 'z' ? (char)(word[k] - 'a' + 'A') : word[k];
      copy[length] = '\0';
      upper[i * 2 + j] = copy;
      used += length + 1;
    }
  }
  describe(&out->upper, upper, 2, 1);
  /* t: a block of its own holding the same pointers, described as its transpose. */
  const char **copy = (const char **)malloc(4 * sizeof(const char *));
  memcpy(copy, upper, 4 * sizeof(const char *));
  describe(&out->t, copy, 1, 2);
  return 0;
}
