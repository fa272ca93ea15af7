//===- tools/sparq-run/Roofline.h - this machine's roofline ------------*- C++ -*-===//
#ifndef SPARQ_TOOLS_SPARQ_RUN_ROOFLINE_H
#define SPARQ_TOOLS_SPARQ_RUN_ROOFLINE_H

#include <string>

namespace sparq::run {

inline constexpr char kRooflineMagic[] = "sparq-roofline 1";

/// Peak float32 FMA rate and read bandwidths of this machine with `threads` threads.
struct Roofline {
  std::string cpu; ///< /proc/cpuinfo's model name
  int threads = 0;
  std::string isa; ///< the vectors the peak was measured with
  double peakGflops = 0;
  double dramGBs = 0;  ///< 2 GiB buffer
  double cacheGBs = 0; ///< 16 MiB buffer
};

/// The cache file for `threads`: $XDG_CACHE_HOME (or ~/.cache)/sparq/roofline-T-threads.txt.
std::string defaultRooflinePath(int threads);

/// Measures the roofline (a few seconds: the DRAM figure reads 2 GiB).
Roofline measureRoofline(int threads);

/// The cache file's text:
///   sparq-roofline 1 / cpu NAME / threads T / isa ISA / peak_gflops X / dram_gbs X / cache_gbs X
std::string formatRoofline(const Roofline &roofline);

/// Reads the file at `path` if it is a roofline of this CPU for `threads` threads.
bool loadRoofline(const std::string &path, int threads, Roofline &out);

} // namespace sparq::run

#endif // SPARQ_TOOLS_SPARQ_RUN_ROOFLINE_H
