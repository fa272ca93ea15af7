//===- runtime/tests/ChecksTest.cpp - the artifact's run-time error channel -*- C++ -*-===//
//
// sparq_uk_invoke_checked and sparq_uk_check_failed (runtime/kernels/Checks.cpp) with the
// allocator's guard (runtime/kernels/Alloc.cpp), called the way an artifact calls them: the
// body allocates through _mlir_memref_to_llvm_alloc like compiled code, and a failed check
// must return the message and leave no block of the invocation allocated (the allocator's
// live-byte count back at zero, never below it, which a double free would cause).
//
//===----------------------------------------------------------------------===//
#include "sparq/Kernels/UKernels.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <thread>
#include <vector>

extern "C" {
void *_mlir_memref_to_llvm_alloc(uint64_t size);
void _mlir_memref_to_llvm_free(void *ptr);
}

namespace {

struct Script {
  std::vector<uint64_t> allocate;   // sizes, allocated in order
  int freeFirst = 0;                // this many of them freed again, in the body's thread
  bool freeOneOnOtherThread = false; // the last one freed by another thread
  const char *fail = nullptr;       // the message of a failing check, after the allocations
  std::vector<void *> kept;         // what stays allocated ("outputs")
};

// Like compiled code, the body holds nothing with a destructor when a check fails: the jump
// back skips destructors (a std::vector here would leak its storage).
void body(void **args) {
  Script &s = *static_cast<Script *>(args[0]);
  void *blocks[16];
  size_t count = s.allocate.size();
  if (count > 16)
    abort();
  for (size_t i = 0; i < count; ++i) {
    blocks[i] = _mlir_memref_to_llvm_alloc(s.allocate[i]);
    if (!blocks[i])
      abort();
    std::memset(blocks[i], 1, s.allocate[i]);
  }
  for (int i = 0; i < s.freeFirst; ++i)
    _mlir_memref_to_llvm_free(blocks[i]);
  if (s.freeOneOnOtherThread) {
    void *last = blocks[--count];
    std::thread([last] { _mlir_memref_to_llvm_free(last); }).join();
  }
  if (s.fail)
    sparq_uk_check_failed(s.fail);
  s.kept.assign(blocks + s.freeFirst, blocks + count);
}

int32_t run(Script &s, std::string *message = nullptr, int64_t errorSize = 256) {
  std::vector<char> error(size_t(std::max<int64_t>(errorSize, 1)), 'x');
  void *args[1] = {&s};
  int32_t rc = sparq_uk_invoke_checked(&body, args, error.data(), errorSize);
  if (message)
    *message = errorSize > 0 ? std::string(error.data()) : std::string();
  return rc;
}

TEST(RunTimeChecks, PassingInvocationKeepsItsOutputs) {
  sparq_uk_memory_begin();
  Script s;
  s.allocate = {1000, 70000, 5 << 20};
  s.freeFirst = 1;
  std::string msg;
  EXPECT_EQ(run(s, &msg), 0);
  EXPECT_EQ(msg, "");
  ASSERT_EQ(s.kept.size(), 2u);
  EXPECT_GE(sparq_uk_memory_live(), int64_t(70000 + (5 << 20)));
  for (void *p : s.kept)
    _mlir_memref_to_llvm_free(p);
  EXPECT_EQ(sparq_uk_memory_live(), 0);
}

TEST(RunTimeChecks, FailedCheckReturnsItsMessageAndFreesTheInvocationsBlocks) {
  for (int round = 0; round < 3; ++round) { // the allocator's cache is warm from round 1 on
    sparq_uk_memory_begin();
    Script s;
    s.allocate = {64, 4096, 1 << 20, 3 << 20, 100};
    s.freeFirst = 2;
    s.fail = "node 'add': dimension #0 of input/output operand #1 is incompatible";
    std::string msg;
    EXPECT_EQ(run(s, &msg), 1);
    EXPECT_EQ(msg, s.fail);
    EXPECT_TRUE(s.kept.empty());
    EXPECT_EQ(sparq_uk_memory_live(), 0) << "round " << round;
  }
}

TEST(RunTimeChecks, BlockFreedOnAnotherThreadIsNotFreedTwice) {
  sparq_uk_memory_begin();
  Script s;
  s.allocate = {256, 8192, 1 << 16};
  s.freeOneOnOtherThread = true;
  s.fail = "check";
  EXPECT_EQ(run(s), 1);
  EXPECT_EQ(sparq_uk_memory_live(), 0);
}

TEST(RunTimeChecks, MessageIsTruncatedToTheBuffer) {
  Script s;
  s.fail = "node 'a_long_name': index out of range";
  std::string msg;
  EXPECT_EQ(run(s, &msg, 5), 1);
  EXPECT_EQ(msg, "node");
  EXPECT_EQ(run(s, nullptr, 0), 1); // no buffer at all
}

TEST(RunTimeChecks, InvocationsAfterAFailureAndOnOtherThreadsAreIndependent) {
  sparq_uk_memory_begin();
  Script failing, passing;
  failing.allocate = {1 << 20, 2 << 20};
  failing.fail = "boom";
  passing.allocate = {4 << 20, 512};
  std::vector<int32_t> rc(2, -1);
  for (int round = 0; round < 20; ++round) {
    passing.kept.clear();
    std::thread t1([&] { rc[0] = run(failing); });
    std::thread t2([&] { rc[1] = run(passing); });
    t1.join();
    t2.join();
    EXPECT_EQ(rc[0], 1);
    EXPECT_EQ(rc[1], 0);
    ASSERT_EQ(passing.kept.size(), 2u);
    // The passing invocation's blocks were not taken by the failing one's cleanup.
    for (void *p : passing.kept) {
      EXPECT_EQ(static_cast<unsigned char *>(p)[0], 1);
      _mlir_memref_to_llvm_free(p);
    }
    EXPECT_EQ(sparq_uk_memory_live(), 0) << "round " << round;
  }
  // And the calling thread can still run and fail.
  Script again;
  again.allocate = {128};
  EXPECT_EQ(run(again), 0);
  _mlir_memref_to_llvm_free(again.kept[0]);
}

} // namespace

namespace {
thread_local int cleanups = 0;
void countCleanup() { ++cleanups; }
} // namespace

TEST(RunTimeChecks, FailedInvocationCallsTheRegisteredCleanupOnlyOnItsThread) {
  // What CUDA artifacts register to free their device buffers (GpuLaunch.cpp).
  sparq_uk_on_invocation_failure(&countCleanup);
  cleanups = 0;
  Script ok, bad;
  bad.fail = "check";
  EXPECT_EQ(run(ok), 0);
  EXPECT_EQ(cleanups, 0);
  EXPECT_EQ(run(bad), 1);
  EXPECT_EQ(cleanups, 1);
  int other = -1;
  std::thread([&] {
    Script s;
    s.fail = "check";
    run(s);
    other = cleanups; // this thread registered nothing
  }).join();
  EXPECT_EQ(other, 0);
  EXPECT_EQ(cleanups, 1);
  sparq_uk_on_invocation_failure(nullptr);
  EXPECT_EQ(run(bad), 1);
  EXPECT_EQ(cleanups, 1);
}
