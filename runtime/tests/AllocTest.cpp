//===- runtime/tests/AllocTest.cpp - the artifact's block cache -------*- C++ -*-===//
//
// The buffer allocator of compiled models (runtime/kernels/Alloc.cpp), called as an artifact
// calls it: blocks the model frees are kept and handed out again to requests of about their size,
// so that a second invocation reuses the first one's memory (no fresh pages per run). The cache
// is process-wide, so the tests use sizes no other test of this binary allocates.
//
//===----------------------------------------------------------------------===//
#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <vector>

extern "C" {
void *_mlir_memref_to_llvm_alloc(uint64_t size);
void _mlir_memref_to_llvm_free(void *ptr);
}

namespace {

// A model that frees hundreds of blocks per invocation (a transformer encoder frees ~300) gets
// every one of them back in the next invocation, whatever the order of the requests.
TEST(BlockCache, EveryBlockOfAnInvocationIsReused) {
  constexpr int kBlocks = 400;
  auto sizeOf = [](int i) { return uint64_t(50000 + 64 * i); };
  std::set<void *> first;
  std::vector<void *> blocks;
  for (int i = 0; i < kBlocks; ++i) {
    void *p = _mlir_memref_to_llvm_alloc(sizeOf(i));
    ASSERT_NE(p, nullptr);
    static_cast<char *>(p)[sizeOf(i) - 1] = 1; // the whole block is usable
    first.insert(p);
    blocks.push_back(p);
  }
  for (void *p : blocks)
    _mlir_memref_to_llvm_free(p);
  blocks.clear();
  int reused = 0;
  for (int i = kBlocks - 1; i >= 0; --i) {
    void *p = _mlir_memref_to_llvm_alloc(sizeOf(i));
    ASSERT_NE(p, nullptr);
    static_cast<char *>(p)[sizeOf(i) - 1] = 2;
    reused += first.count(p) ? 1 : 0;
    blocks.push_back(p);
  }
  EXPECT_EQ(reused, kBlocks);
  for (void *p : blocks)
    _mlir_memref_to_llvm_free(p);
}

// A cached block is handed out only to a request it exceeds by at most an eighth of the request,
// and the smallest fitting one is chosen.
TEST(BlockCache, BestFitWithinAnEighth) {
  void *big = _mlir_memref_to_llvm_alloc(3 << 20);
  void *mid = _mlir_memref_to_llvm_alloc((3 << 20) - (200 << 10));
  ASSERT_NE(big, nullptr);
  ASSERT_NE(mid, nullptr);
  _mlir_memref_to_llvm_free(big);
  _mlir_memref_to_llvm_free(mid);
  // 2.5 MiB: `mid` (2.80 MiB) wastes less than an eighth and is smaller than `big`.
  void *a = _mlir_memref_to_llvm_alloc(5 << 19);
  EXPECT_EQ(a, mid);
  // 1 MiB: `big` would waste two thirds; a new block.
  void *b = _mlir_memref_to_llvm_alloc(1 << 20);
  EXPECT_NE(b, big);
  void *c = _mlir_memref_to_llvm_alloc(3 << 20);
  EXPECT_EQ(c, big);
  for (void *p : {a, b, c})
    _mlir_memref_to_llvm_free(p);
}

} // namespace
