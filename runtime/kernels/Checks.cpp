//===- runtime/kernels/Checks.cpp - the run-time error channel of an artifact ----===//
//
// Compiled models check at run time what their code assumes about dynamic sizes and indices
// (sparq-insert-runtime-checks, Gather's index checks). A failed check calls
// sparq_uk_check_failed, which ends the invocation: sparq_uk_invoke_checked, the body of the ABI
// entry sparq_model_invoke_v2, set a jump point before calling the model, returns to it with
// status 1 and the check's message, and frees the buffers the invocation had allocated
// (runtime/kernels/Alloc.cpp). The compiler keeps every check outside parallel regions
// (sparq-lower-runtime-checks refuses others), so a check fails on the invoking thread, between
// kernels, where the state to undo is the allocator's and, for CUDA artifacts, the device
// buffers (released by the function GpuLaunch.cpp registers with sparq_uk_on_invocation_failure).
//
//===----------------------------------------------------------------------===//
#include "sparq/Kernels/UKernels.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>

namespace {

/// The invocation running on this thread: where a failed check returns to, and its message.
thread_local jmp_buf *jumpPoint = nullptr;
thread_local const char *failedMessage = nullptr;
/// What else a failed invocation on this thread releases (sparq_uk_on_invocation_failure).
thread_local void (*failureCleanup)(void) = nullptr;

} // namespace

extern "C" {

int32_t sparq_uk_invoke_checked(void (*body)(void **), void **args, char *error,
                                int64_t errorSize) {
  if (error && errorSize > 0)
    error[0] = '\0';
  jmp_buf here;
  failedMessage = nullptr;
  // The previous invocation's strings: its outputs have been copied by now (docs/strings.md).
  sparq_uk_str_arena_reset();
  sparq_uk_memory_guard_begin();
  if (setjmp(here) == 0) {
    jumpPoint = &here;
    body(args);
    jumpPoint = nullptr;
    sparq_uk_memory_guard_end(0);
    return 0;
  }
  jumpPoint = nullptr;
  if (void (*cleanup)(void) = failureCleanup)
    cleanup();
  sparq_uk_memory_guard_end(1);
  if (error && errorSize > 0)
    snprintf(error, size_t(errorSize), "%s",
             failedMessage ? failedMessage : "a run-time check failed");
  return 1;
}

void sparq_uk_on_invocation_failure(void (*cleanup)(void)) { failureCleanup = cleanup; }

void sparq_uk_check_failed(const char *message) {
  if (jmp_buf *target = jumpPoint) {
    failedMessage = message;
    longjmp(*target, 1);
  }
  // Not reachable from compiled models (checks run on the invoking thread, inside an
  // invocation); a clear last word rather than undefined behaviour.
  fprintf(stderr, "sparq model: run-time check failed outside an invocation: %s\n", message);
  abort();
}

} // extern "C"
