//===- tools/sparq-run/Evict.cpp - flush a loaded artifact from the caches ----------===//
//
// `sparq-run --bench N --cold`: before each timed run, every line of the artifact's loaded
// segments (its code and, above all, its weights) is flushed from all cache levels with clflush,
// so the run reads its weights from DRAM, as a model whose weights exceed the last-level cache
// does (docs/bench.md). Activations and buffers stay where the previous run left them.
//
//===----------------------------------------------------------------------===//
#include "tools/sparq-run/Evict.h"

#include <cstdint>
#include <cstdlib>
#include <link.h>

#if defined(__x86_64__) || defined(__i386__)
#include <emmintrin.h>
#define SPARQ_HAVE_CLFLUSH 1
#else
#define SPARQ_HAVE_CLFLUSH 0
#endif

namespace sparq::run {
namespace {

struct Search {
  std::string wanted; // realpath of the artifact
  size_t bytes = 0;
  bool found = false;
};

int flushObject(struct dl_phdr_info *info, size_t, void *data) {
  auto &search = *static_cast<Search *>(data);
  if (!info->dlpi_name || !info->dlpi_name[0])
    return 0;
  char *real = realpath(info->dlpi_name, nullptr);
  bool match = real && search.wanted == real;
  std::free(real);
  if (!match)
    return 0;
  search.found = true;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr) &ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD || !(ph.p_flags & PF_R))
      continue;
    auto begin = reinterpret_cast<uintptr_t>(info->dlpi_addr + ph.p_vaddr) & ~uintptr_t(63);
    auto end = reinterpret_cast<uintptr_t>(info->dlpi_addr + ph.p_vaddr + ph.p_memsz);
#if SPARQ_HAVE_CLFLUSH
    for (uintptr_t p = begin; p < end; p += 64)
      _mm_clflush(reinterpret_cast<const void *>(p));
#endif
    search.bytes += end - begin;
  }
  return 1;
}

} // namespace

std::optional<size_t> evictLoadedArtifact(const std::string &path, std::string &error) {
#if !SPARQ_HAVE_CLFLUSH
  error = "--cold needs an x86 CPU (clflush)";
  return std::nullopt;
#else
  Search search;
  char *real = realpath(path.c_str(), nullptr);
  if (!real) {
    error = "cannot resolve '" + path + "'";
    return std::nullopt;
  }
  search.wanted = real;
  std::free(real);
  dl_iterate_phdr(flushObject, &search);
  if (!search.found) {
    error = "'" + path + "' is not among the loaded objects";
    return std::nullopt;
  }
  _mm_mfence();
  return search.bytes;
#endif
}

} // namespace sparq::run
