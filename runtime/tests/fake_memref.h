/*===- runtime/tests/fake_memref.h - memref descriptors for the fake artifacts -*- C -*-===//
 *
 * The descriptors of docs/artifact-abi.md (MLIR's memref ABI) of rank 0, 1 and 2, as the
 * hand-written fake_*.c artifacts read their inputs and write their results.
 *
 *===----------------------------------------------------------------------===*/
#ifndef SPARQ_RUNTIME_TESTS_FAKE_MEMREF_H
#define SPARQ_RUNTIME_TESTS_FAKE_MEMREF_H

#include <stdint.h>

typedef struct {
  void *allocated;
  void *aligned;
  int64_t offset;
} memref_0d_t;

typedef struct {
  void *allocated;
  void *aligned;
  int64_t offset;
  int64_t sizes[1];
  int64_t strides[1];
} memref_1d_t;

typedef struct {
  void *allocated;
  void *aligned;
  int64_t offset;
  int64_t sizes[2];
  int64_t strides[2];
} memref_2d_t;

#endif /* SPARQ_RUNTIME_TESTS_FAKE_MEMREF_H */
