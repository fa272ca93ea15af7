//===- runtime/kernels/Alloc.cpp - the artifact's buffer allocator ---------------===//
//
// Compiled models allocate their buffers through `_mlir_memref_to_llvm_alloc` and release them
// through `_mlir_memref_to_llvm_free` (finalize-memref-to-llvm with use-generic-functions). Every
// block comes from malloc, so an output buffer handed to the caller may be released with free()
// as the artifact ABI promises. What changes is release: a block the model frees itself (an
// intermediate) is kept in a cache and handed out again to the next request of about its size,
// so from the second invocation on a model's intermediates reuse warm memory: no mmap/munmap
// round trip and no page faults per call (glibc serves large blocks with mmap and returns them to
// the kernel on free). The cache grows to hold every block of an invocation (a transformer
// encoder frees hundreds), sorted by size for a best-fit lookup by binary search. It also counts
// the bytes of blocks in use since the current invocation began and their peak
// (sparq_model_peak_bytes_v1: intermediates and outputs; concurrent invocations of one artifact
// share the counters). Blocks are keyed by malloc_usable_size (glibc), so no header is needed
// and every pointer the model returns is a plain malloc pointer. The cache holds at most
// kMaxBlocks blocks and kMaxBytes bytes; it is emptied when the artifact is unloaded.
//
// An invocation that may end early (a failed run-time check, runtime/kernels/Checks.cpp) is
// guarded: between sparq_uk_memory_guard_begin and _end the blocks its calling thread allocates
// are listed (and unlisted when freed, from any thread), and `_end(1)` frees those still live, so
// a failed invocation leaks nothing.
//
//===----------------------------------------------------------------------===//
#include <pthread.h>
#include <stdint.h>
#include <malloc.h>
#include <stdlib.h>

namespace {

/// Bounds of the cache: large enough for every block of an invocation. With 64 blocks, Moonshine
/// tiny's encoder (which frees ~300 per invocation) faulted ~940 fresh pages per run
/// (docs/codegen.md, "Buffers").
constexpr int64_t kMaxBlocks = int64_t(1) << 16;
constexpr uint64_t kMaxBytes = uint64_t(4) << 30;

struct Block {
  void *ptr;
  uint64_t size;
};

struct Cache {
  pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
  Block *blocks = nullptr; // sorted by size
  int64_t count = 0, capacity = 0;
  uint64_t bytes = 0;
};

Cache cache;

/// Index of the first cached block of at least `size` bytes. Needs cache.lock.
int64_t lowerBound(uint64_t size) {
  int64_t lo = 0, hi = cache.count;
  while (lo < hi) {
    int64_t mid = lo + (hi - lo) / 2;
    if (cache.blocks[mid].size < size)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

/// Caches a block of `size` bytes; false when the cache is full. Needs cache.lock.
bool cacheBlock(void *ptr, uint64_t size) {
  if (cache.count == kMaxBlocks || cache.bytes + size > kMaxBytes)
    return false;
  if (cache.count == cache.capacity) {
    int64_t capacity = cache.capacity ? 2 * cache.capacity : 64;
    void *grown = realloc(cache.blocks, size_t(capacity) * sizeof(Block));
    if (!grown)
      return false;
    cache.blocks = static_cast<Block *>(grown);
    cache.capacity = capacity;
  }
  int64_t i = lowerBound(size);
  __builtin_memmove(cache.blocks + i + 1, cache.blocks + i,
                    size_t(cache.count - i) * sizeof(Block));
  cache.blocks[i] = {ptr, size};
  ++cache.count;
  cache.bytes += size;
  return true;
}

/// Bytes of the blocks handed out since the current invocation began, and their peak.
int64_t liveBytes = 0;
int64_t peakBytes = 0;

void count(int64_t delta) {
  int64_t now = __atomic_add_fetch(&liveBytes, delta, __ATOMIC_RELAXED);
  int64_t peak = __atomic_load_n(&peakBytes, __ATOMIC_RELAXED);
  while (now > peak &&
         !__atomic_compare_exchange_n(&peakBytes, &peak, now, true, __ATOMIC_RELAXED,
                                      __ATOMIC_RELAXED)) {
  }
}

/// The blocks a guarded invocation's calling thread allocated and has not freed yet. Guards of
/// concurrent invocations are chained in `guards` (under cache.lock), since a block may be freed
/// on another thread than the one that allocated it.
struct Guard {
  void **blocks;
  int64_t count, capacity;
  bool complete; // false once a block could not be listed (out of memory)
  Guard *next;
};

Guard *guards = nullptr;              // guarded by cache.lock
thread_local Guard threadGuard;       // this thread's invocation, when `guarded`
thread_local bool guarded = false;

/// Lists `ptr` in this thread's guard. Needs cache.lock.
void listBlock(void *ptr) {
  Guard &g = threadGuard;
  if (g.count == g.capacity) {
    int64_t capacity = g.capacity ? 2 * g.capacity : 64;
    void **grown = static_cast<void **>(realloc(g.blocks, size_t(capacity) * sizeof(void *)));
    if (!grown) {
      g.complete = false;
      return;
    }
    g.blocks = grown;
    g.capacity = capacity;
  }
  g.blocks[g.count++] = ptr;
}

/// Removes `ptr` from whichever guard lists it. Needs cache.lock.
void unlistBlock(void *ptr) {
  for (Guard *g = guards; g; g = g->next)
    for (int64_t i = g->count; i-- > 0;)
      if (g->blocks[i] == ptr) {
        g->blocks[i] = g->blocks[--g->count];
        return;
      }
}

__attribute__((destructor)) void releaseCache() {
  pthread_mutex_lock(&cache.lock);
  for (int64_t i = 0; i < cache.count; ++i)
    free(cache.blocks[i].ptr);
  free(cache.blocks);
  cache.blocks = nullptr;
  cache.count = cache.capacity = 0;
  cache.bytes = 0;
  pthread_mutex_unlock(&cache.lock);
}

} // namespace

extern "C" {

void _mlir_memref_to_llvm_free(void *ptr);

void sparq_uk_memory_begin(void) {
  __atomic_store_n(&liveBytes, 0, __ATOMIC_RELAXED);
  __atomic_store_n(&peakBytes, 0, __ATOMIC_RELAXED);
}

int64_t sparq_uk_memory_peak(void) { return __atomic_load_n(&peakBytes, __ATOMIC_RELAXED); }

void *_mlir_memref_to_llvm_alloc(uint64_t size) {
  // A cached block fits if it is at least `size` and wastes at most an eighth of it.
  pthread_mutex_lock(&cache.lock);
  const int64_t best = lowerBound(size);
  if (best < cache.count && cache.blocks[best].size - size <= size / 8) {
    Block block = cache.blocks[best];
    __builtin_memmove(cache.blocks + best, cache.blocks + best + 1,
                      size_t(cache.count - best - 1) * sizeof(Block));
    --cache.count;
    cache.bytes -= block.size;
    if (guarded)
      listBlock(block.ptr);
    pthread_mutex_unlock(&cache.lock);
    count(int64_t(block.size));
    return block.ptr;
  }
  pthread_mutex_unlock(&cache.lock);
  void *ptr = malloc(size);
  if (ptr) {
    count(int64_t(malloc_usable_size(ptr)));
    if (guarded) {
      pthread_mutex_lock(&cache.lock);
      listBlock(ptr);
      pthread_mutex_unlock(&cache.lock);
    }
  }
  return ptr;
}

void sparq_uk_memory_guard_begin(void) {
  pthread_mutex_lock(&cache.lock);
  Guard &g = threadGuard;
  g.count = 0;
  g.complete = true;
  g.next = guards;
  guards = &g;
  guarded = true;
  pthread_mutex_unlock(&cache.lock);
}

int32_t sparq_uk_memory_guard_end(int32_t release) {
  pthread_mutex_lock(&cache.lock);
  Guard &g = threadGuard;
  for (Guard **link = &guards; *link; link = &(*link)->next)
    if (*link == &g) {
      *link = g.next;
      break;
    }
  guarded = false;
  int64_t live = g.count;
  g.count = 0;
  pthread_mutex_unlock(&cache.lock);
  if (release)
    for (int64_t i = 0; i < live; ++i)
      _mlir_memref_to_llvm_free(g.blocks[i]);
  // The list goes with the invocation: a thread that exits later leaves nothing behind.
  free(g.blocks);
  g.blocks = nullptr;
  g.capacity = 0;
  return g.complete ? 1 : 0;
}

int64_t sparq_uk_memory_live(void) { return __atomic_load_n(&liveBytes, __ATOMIC_RELAXED); }

void _mlir_memref_to_llvm_free(void *ptr) {
  if (!ptr)
    return;
  uint64_t size = malloc_usable_size(ptr);
  count(-int64_t(size));
  pthread_mutex_lock(&cache.lock);
  if (guards)
    unlistBlock(ptr);
  if (cacheBlock(ptr, size)) {
    pthread_mutex_unlock(&cache.lock);
    return;
  }
  pthread_mutex_unlock(&cache.lock);
  free(ptr);
}

} // extern "C"
