//===- tools/sparq-run/Evict.h - flush a loaded artifact from the caches -*- C++ -*-===//
#ifndef SPARQ_TOOLS_SPARQ_RUN_EVICT_H
#define SPARQ_TOOLS_SPARQ_RUN_EVICT_H

#include <cstddef>
#include <optional>
#include <string>

namespace sparq::run {

/// Flushes every cache line of the loaded segments of the shared object loaded from `path`
/// (code and weights) from all cache levels. Returns the bytes flushed, or nullopt with `error`
/// set when the object is not loaded or the CPU has no clflush.
std::optional<size_t> evictLoadedArtifact(const std::string &path, std::string &error);

} // namespace sparq::run

#endif // SPARQ_TOOLS_SPARQ_RUN_EVICT_H
