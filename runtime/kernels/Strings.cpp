//===- runtime/kernels/Strings.cpp - string elements of ONNX string tensors ---===//
//
// A string element in compiled code is an int64 holding the address of a NUL-terminated byte
// string (docs/strings.md). Input strings belong to the caller; the strings a model makes (case
// changes, numbers formatted as text) are allocated from the invoking thread's string arena,
// which sparq_uk_invoke_checked empties at the start of each invocation and the runtime empties
// (sparq_model_release_strings_v1) once it has copied the string outputs. The compiled code
// reads the arena's address once per operator on the invoking thread and passes it to every
// call, so the calls may run on pool threads (the arena is locked).
//
//===----------------------------------------------------------------------===//
#include "sparq/Kernels/UKernels.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

namespace {

/// A chain of malloc'ed strings, each block prefixed by the link to the previous one.
struct StringArena {
  void *last = nullptr;
  volatile int lock = 0;
};

thread_local StringArena threadArena;

/// A fresh block for a string of `length` bytes plus its NUL, owned by `arena`; null when
/// memory is exhausted.
char *arenaAlloc(StringArena *arena, size_t length) {
  void *block = malloc(sizeof(void *) + length + 1);
  if (!block)
    return nullptr;
  while (__atomic_test_and_set(&arena->lock, __ATOMIC_ACQUIRE))
    ;
  *static_cast<void **>(block) = arena->last;
  arena->last = block;
  __atomic_clear(&arena->lock, __ATOMIC_RELEASE);
  return static_cast<char *>(block) + sizeof(void *);
}

char *copyString(int64_t arena, const char *text, size_t length) {
  char *s = arenaAlloc(reinterpret_cast<StringArena *>(arena), length);
  if (!s) {
    // Possibly on a pool thread, where a run-time check cannot end the invocation.
    fprintf(stderr, "sparq: out of memory for a string of %zu bytes\n", length);
    abort();
  }
  memcpy(s, text, length);
  s[length] = '\0';
  return s;
}

int64_t address(const char *s) { return static_cast<int64_t>(reinterpret_cast<intptr_t>(s)); }
const char *text(int64_t s) {
  const char *p = reinterpret_cast<const char *>(static_cast<intptr_t>(s));
  return p ? p : "";
}

char foldAscii(char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; }

bool equalStrings(const char *a, const char *b, bool caseSensitive) {
  if (caseSensitive)
    return strcmp(a, b) == 0;
  for (; *a && *b; ++a, ++b)
    if (foldAscii(*a) != foldAscii(*b))
      return false;
  return *a == *b;
}

/// numpy's text of a float: the fewest significant digits that read back as the same value, in
/// positional form ("100.0", "0.039187793") when 1e-4 <= |v| < 10^positionalDigits (8 for
/// float32, 16 for float64, as numpy), else scientific ("1e-05", "1.2345679e+08"); "NaN",
/// "INF", "-INF" as ONNX spells them.
int64_t formatFloat(int64_t arena, double v, bool single, int maxDigits, int positionalDigits) {
  if (isnan(v))
    return address(copyString(arena, "NaN", 3));
  if (isinf(v))
    return v < 0 ? address(copyString(arena, "-INF", 4)) : address(copyString(arena, "INF", 3));
  char sci[40];
  for (int digits = 1; digits <= maxDigits; ++digits) {
    snprintf(sci, sizeof sci, "%.*e", digits - 1, v);
    if (single ? strtof(sci, nullptr) == float(v) : strtod(sci, nullptr) == v)
      break;
  }
  // sci = [-]D[.DDD]e(+|-)XX: the significant digits and the decimal exponent.
  const char *p = sci;
  bool negative = *p == '-';
  if (negative)
    ++p;
  char digits[24];
  int count = 0;
  for (; *p && *p != 'e'; ++p)
    if (*p != '.' && count < 23)
      digits[count++] = *p;
  while (count > 1 && digits[count - 1] == '0') // "1.0e+02" -> "1e+02"
    --count;
  int exponent = *p == 'e' ? atoi(p + 1) : 0;
  char out[64];
  int n = 0;
  if (negative)
    out[n++] = '-';
  double magnitude = fabs(v);
  bool positional = magnitude == 0 || (magnitude >= 1e-4 && exponent < positionalDigits);
  if (!positional) {
    out[n++] = digits[0];
    if (count > 1) {
      out[n++] = '.';
      for (int i = 1; i < count; ++i)
        out[n++] = digits[i];
    }
    n += snprintf(out + n, sizeof out - n, "e%c%02d", exponent < 0 ? '-' : '+',
                  exponent < 0 ? -exponent : exponent);
  } else if (exponent >= 0) {
    for (int i = 0; i <= exponent; ++i)
      out[n++] = i < count ? digits[i] : '0';
    out[n++] = '.';
    if (count > exponent + 1)
      for (int i = exponent + 1; i < count; ++i)
        out[n++] = digits[i];
    else
      out[n++] = '0';
  } else {
    out[n++] = '0';
    out[n++] = '.';
    for (int i = 0; i < -exponent - 1; ++i)
      out[n++] = '0';
    for (int i = 0; i < count; ++i)
      out[n++] = digits[i];
  }
  out[n] = '\0';
  return address(copyString(arena, out, size_t(n)));
}

} // namespace

extern "C" {

int64_t sparq_uk_str_arena(void) { return address(reinterpret_cast<const char *>(&threadArena)); }

void sparq_uk_str_arena_reset(void) {
  void *block = threadArena.last;
  threadArena.last = nullptr;
  while (block) {
    void *previous = *static_cast<void **>(block);
    free(block);
    block = previous;
  }
}

int64_t sparq_uk_str_empty(void) { return address(""); }

int32_t sparq_uk_str_in_list(int64_t s, int64_t list, int32_t caseSensitive) {
  // `list`: NUL-terminated entries, ended by an empty one.
  for (const char *entry = text(list); *entry; entry += strlen(entry) + 1)
    if (equalStrings(text(s), entry, caseSensitive != 0))
      return 1;
  return 0;
}

int64_t sparq_uk_str_case(int64_t arena, int64_t s, int32_t action) {
  if (action == 0)
    return s;
  const char *in = text(s);
  size_t length = strlen(in);
  char *out = copyString(arena, in, length);
  for (size_t i = 0; i < length; ++i) {
    char c = out[i];
    if (action == 1 && c >= 'A' && c <= 'Z')
      out[i] = char(c - 'A' + 'a');
    else if (action == 2 && c >= 'a' && c <= 'z')
      out[i] = char(c - 'a' + 'A');
  }
  return address(out);
}

int64_t sparq_uk_str_from_f32(int64_t arena, float v) { return formatFloat(arena, v, true, 9, 8); }
int64_t sparq_uk_str_from_f64(int64_t arena, double v) {
  return formatFloat(arena, v, false, 17, 16);
}

int64_t sparq_uk_str_from_i64(int64_t arena, int64_t v, int32_t isUnsigned) {
  char buf[24];
  int n = isUnsigned ? snprintf(buf, sizeof buf, "%llu", (unsigned long long)v)
                     : snprintf(buf, sizeof buf, "%lld", (long long)v);
  return address(copyString(arena, buf, size_t(n)));
}

// Text to numbers: what strtof/strtod/strtoll read from the start of the string ("NaN", "INF",
// "-inf", "1e-5", leading white space); text that is not a number reads as NaN for floats and 0
// for integers (a check cannot stop the invocation here: the calls may run on pool threads).
float sparq_uk_str_to_f32(int64_t s) {
  char *end = nullptr;
  float v = strtof(text(s), &end);
  return end == text(s) ? NAN : v;
}

double sparq_uk_str_to_f64(int64_t s) {
  char *end = nullptr;
  double v = strtod(text(s), &end);
  return end == text(s) ? NAN : v;
}

int64_t sparq_uk_str_to_i64(int64_t s) { return strtoll(text(s), nullptr, 10); }

} // extern "C"
