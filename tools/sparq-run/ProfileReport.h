//===- tools/sparq-run/ProfileReport.h - sparq-run --profile output --------*- C++ -*-===//
#ifndef SPARQ_TOOLS_SPARQ_RUN_PROFILEREPORT_H
#define SPARQ_TOOLS_SPARQ_RUN_PROFILEREPORT_H

#include "tools/sparq-run/Roofline.h"

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace sparq::run {

/// One kernel's averages over the profiled runs.
struct KernelTime {
  std::string kind, name;
  int64_t flops = -1, bytes = -1; ///< per call; -1 unknown
  double callsPerRun = 0;
  double secondsPerRun = 0;
};

/// The profile of one artifact.
struct ProfileResult {
  std::string model;
  long runs = 0;
  double medianRunSeconds = 0; ///< whole sparq_session_run, timed by sparq-run
  std::vector<KernelTime> kernels;
};

/// The table on the terminal: per kernel its time, share, rates, intensity and fraction of the
/// roofline.
void printProfile(std::FILE *out, const ProfileResult &result, const Roofline &roofline);

/// JSON of the profile (and the baseline's, if any) with the machine's roofline.
std::string profileJson(const ProfileResult &result, const ProfileResult *baseline,
                        const Roofline &roofline);

/// An SVG picture: the roofline with one point per kernel, and the waterline (each kernel's
/// time against the least time the roofline allows), the baseline's beside it.
std::string profileSvg(const ProfileResult &result, const ProfileResult *baseline,
                       const Roofline &roofline);

} // namespace sparq::run

#endif // SPARQ_TOOLS_SPARQ_RUN_PROFILEREPORT_H
