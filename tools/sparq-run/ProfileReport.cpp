//===- tools/sparq-run/ProfileReport.cpp - sparq-run --profile output ------------------===//
//
// Turns the kernel timers of a profiled artifact into the waterline profile (docs/profile.md):
// for each kernel its achieved GFLOP/s and GB/s, its arithmetic intensity, and the fraction of
// the roofline it reaches, that is the least time the machine's peak FMA rate and DRAM
// bandwidth allow for its flops and bytes divided by the time it took. The gap between the two
// times is the kernel's efficiency gap; the waterline picture stacks them kernel by kernel.
//
//===----------------------------------------------------------------------===//
#include "tools/sparq-run/ProfileReport.h"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace sparq::run {
namespace {

/// Derived figures of one kernel; NaN where its cost is unknown.
struct Rates {
  double gflops = NAN, gbs = NAN, intensity = NAN;
  double floorSeconds = NAN; ///< per run: max(flops / peak, bytes / DRAM bandwidth)
  double fraction = NAN;     ///< floorSeconds / measured seconds
};

Rates ratesOf(const KernelTime &k, const Roofline &roofline) {
  Rates r;
  if (k.flops < 0 || k.bytes < 0 || k.callsPerRun <= 0)
    return r;
  double flops = double(k.flops) * k.callsPerRun, bytes = double(k.bytes) * k.callsPerRun;
  // Under a microsecond per run is below what the timers resolve (an in-place insert, a fill
  // folded away): no rates.
  bool timed = k.secondsPerRun >= 1e-6;
  if (timed) {
    r.gflops = flops / k.secondsPerRun * 1e-9;
    r.gbs = bytes / k.secondsPerRun * 1e-9;
  }
  if (bytes > 0)
    r.intensity = flops / bytes;
  r.floorSeconds = std::max(flops / (roofline.peakGflops * 1e9), bytes / (roofline.dramGBs * 1e9));
  if (timed)
    r.fraction = r.floorSeconds / k.secondsPerRun;
  return r;
}

double kernelSeconds(const ProfileResult &result) {
  double total = 0;
  for (const KernelTime &k : result.kernels)
    total += k.secondsPerRun;
  return total;
}

std::string number(double v, const char *format) {
  if (std::isnan(v))
    return "-";
  char text[64];
  std::snprintf(text, sizeof text, format, v);
  return text;
}

std::string jsonString(const std::string &s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += char(c);
    } else if (c < 0x20) {
      char esc[8];
      std::snprintf(esc, sizeof esc, "\\u%04x", c);
      out += esc;
    } else {
      out += char(c);
    }
  }
  return out + "\"";
}

std::string jsonNumber(double v) { return std::isnan(v) ? "null" : number(v, "%.6g"); }

std::string xmlText(const std::string &s) {
  std::string out;
  for (char c : s) {
    switch (c) {
    case '<': out += "&lt;"; break;
    case '>': out += "&gt;"; break;
    case '&': out += "&amp;"; break;
    case '"': out += "&quot;"; break;
    default: out += c;
    }
  }
  return out;
}

/// The file name of a path (the pictures label artifacts by it).
std::string baseName(const std::string &path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string shorten(const std::string &s, size_t n) {
  return s.size() <= n ? s : s.substr(0, n - 3) + "...";
}

void jsonProfile(std::ostringstream &os, const ProfileResult &result, const Roofline &roofline) {
  double kernels = kernelSeconds(result);
  os << "{\"model\": " << jsonString(result.model) << ", \"runs\": " << result.runs
     << ", \"median_run_ms\": " << jsonNumber(result.medianRunSeconds * 1e3)
     << ", \"kernels_ms\": " << jsonNumber(kernels * 1e3)
     << ", \"outside_kernels_ms\": "
     << jsonNumber(std::max(0.0, result.medianRunSeconds - kernels) * 1e3) << ",\n   \"kernels\": [";
  for (size_t i = 0; i < result.kernels.size(); ++i) {
    const KernelTime &k = result.kernels[i];
    Rates r = ratesOf(k, roofline);
    os << (i ? ",\n    " : "\n    ") << "{\"id\": " << i << ", \"kind\": " << jsonString(k.kind)
       << ", \"name\": " << jsonString(k.name) << ", \"calls_per_run\": "
       << jsonNumber(k.callsPerRun) << ", \"ms_per_run\": " << jsonNumber(k.secondsPerRun * 1e3)
       << ", \"flops\": " << k.flops << ", \"bytes\": " << k.bytes
       << ", \"gflops\": " << jsonNumber(r.gflops) << ", \"gbs\": " << jsonNumber(r.gbs)
       << ", \"intensity\": " << jsonNumber(r.intensity)
       << ", \"roofline_ms\": " << jsonNumber(r.floorSeconds * 1e3)
       << ", \"roofline_fraction\": " << jsonNumber(r.fraction) << "}";
  }
  os << "]}";
}

/// Log-scale axis from `lo` to `hi` onto pixels [p0, p1].
struct LogAxis {
  double lo, hi, p0, p1;
  double operator()(double v) const {
    v = std::clamp(v, lo, hi);
    return p0 + (std::log10(v) - std::log10(lo)) / (std::log10(hi) - std::log10(lo)) * (p1 - p0);
  }
};

const char *const kMainColour = "#1f77b4";
const char *const kBaselineColour = "#ff7f0e";

void svgRoofline(std::ostringstream &os, const ProfileResult &result,
                 const ProfileResult *baseline, const Roofline &roofline, double top) {
  const double left = 70, width = 820, height = 380;
  LogAxis x{1.0 / 64, 1024, left, left + width};
  double yHi = std::pow(10, std::ceil(std::log10(roofline.peakGflops * 1.5)));
  LogAxis y{yHi / 1e5, yHi, top + height, top};
  os << "<text x='" << left << "' y='" << top - 12
     << "' font-size='15' font-weight='bold'>Roofline: achieved GFLOP/s against arithmetic "
        "intensity</text>\n";
  os << "<rect x='" << left << "' y='" << top << "' width='" << width << "' height='" << height
     << "' fill='none' stroke='#888'/>\n";
  for (double v = x.lo; v <= x.hi * 1.001; v *= 4) {
    os << "<line x1='" << x(v) << "' y1='" << top << "' x2='" << x(v) << "' y2='" << top + height
       << "' stroke='#eee'/><text x='" << x(v) << "' y='" << top + height + 16
       << "' font-size='11' text-anchor='middle'>" << number(v, "%g") << "</text>\n";
  }
  for (double v = y.lo; v <= y.hi * 1.001; v *= 10) {
    os << "<line x1='" << left << "' y1='" << y(v) << "' x2='" << left + width << "' y2='" << y(v)
       << "' stroke='#eee'/><text x='" << left - 6 << "' y='" << y(v) + 4
       << "' font-size='11' text-anchor='end'>" << number(v, "%g") << "</text>\n";
  }
  os << "<text x='" << left + width / 2 << "' y='" << top + height + 34
     << "' font-size='12' text-anchor='middle'>arithmetic intensity (flop/byte)</text>\n"
     << "<text x='18' y='" << top + height / 2 << "' font-size='12' transform='rotate(-90 18 "
     << top + height / 2 << ")' text-anchor='middle'>GFLOP/s</text>\n";
  // The roofs: min(peak, intensity x bandwidth), DRAM solid, cache dashed.
  auto roof = [&](double bandwidth, const char *dash, const std::string &label, double at,
                  double dy) {
    std::ostringstream path;
    double ridge = roofline.peakGflops / bandwidth;
    path << "M" << x(x.lo) << "," << y(x.lo * bandwidth) << " L" << x(std::min(ridge, x.hi))
         << "," << y(std::min(ridge, x.hi) * bandwidth);
    if (ridge < x.hi)
      path << " L" << x(x.hi) << "," << y(roofline.peakGflops);
    os << "<path d='" << path.str() << "' fill='none' stroke='#333' stroke-width='1.5'" << dash
       << "/>\n<text x='" << x(at) << "' y='" << y(at * bandwidth) + dy
       << "' font-size='11'>" << xmlText(label) << "</text>\n";
  };
  roof(roofline.dramGBs, "", "DRAM " + number(roofline.dramGBs, "%.1f") + " GB/s", 1.0 / 32,
       -8);
  roof(roofline.cacheGBs, " stroke-dasharray='5,4'",
       "cache (16 MiB) " + number(roofline.cacheGBs, "%.1f") + " GB/s", 0.5, 18);
  os << "<text x='" << left + width - 6 << "' y='" << y(roofline.peakGflops) - 6
     << "' font-size='11' text-anchor='end'>peak FMA " << number(roofline.peakGflops, "%.1f")
     << " GFLOP/s (" << roofline.threads << " threads, " << xmlText(roofline.isa) << ")</text>\n";
  auto points = [&](const ProfileResult &r, const char *colour, bool square) {
    for (size_t i = 0; i < r.kernels.size(); ++i) {
      Rates rates = ratesOf(r.kernels[i], roofline);
      if (std::isnan(rates.intensity) || std::isnan(rates.gflops) || rates.gflops <= 0)
        continue;
      double px = x(rates.intensity), py = y(rates.gflops);
      if (square)
        os << "<rect x='" << px - 4 << "' y='" << py - 4
           << "' width='8' height='8' fill='" << colour << "' fill-opacity='0.75'>";
      else
        os << "<circle cx='" << px << "' cy='" << py << "' r='5' fill='" << colour
           << "' fill-opacity='0.75'>";
      os << "<title>" << xmlText(baseName(r.model) + " #" + std::to_string(i) + " " + r.kernels[i].kind +
                                 ": " + r.kernels[i].name)
         << "</title>" << (square ? "</rect>" : "</circle>") << "<text x='" << px + 6
         << "' y='" << py - 4 << "' font-size='10' fill='" << colour << "'>" << i << "</text>\n";
    }
  };
  if (baseline)
    points(*baseline, kBaselineColour, true);
  points(result, kMainColour, false);
  double ly = top + 16;
  auto legend = [&](const ProfileResult &r, const char *colour) {
    os << "<rect x='" << left + 10 << "' y='" << ly - 9 << "' width='10' height='10' fill='"
       << colour << "'/><text x='" << left + 26 << "' y='" << ly
       << "' font-size='11'>" << xmlText(baseName(r.model)) << "</text>\n";
    ly += 16;
  };
  legend(result, kMainColour);
  if (baseline)
    legend(*baseline, kBaselineColour);
}

/// Bars of each kernel's time per run: the roofline's least time dark, the gap light.
double svgWaterline(std::ostringstream &os, const ProfileResult &r, const Roofline &roofline,
                    const char *colour, double top, double maxSeconds) {
  const double left = 300, width = 430, row = 18;
  double total = kernelSeconds(r), floorTotal = 0;
  os << "<text x='10' y='" << top << "' font-size='13' font-weight='bold'>"
     << xmlText(baseName(r.model)) << ": " << number(r.medianRunSeconds * 1e3, "%.3f")
     << " ms per run (median of " << r.runs << "), kernels " << number(total * 1e3, "%.3f")
     << " ms</text>\n";
  double y = top + 10;
  for (size_t i = 0; i < r.kernels.size(); ++i) {
    const KernelTime &k = r.kernels[i];
    Rates rates = ratesOf(k, roofline);
    double w = k.secondsPerRun / maxSeconds * width;
    double fw = std::isnan(rates.floorSeconds)
                    ? 0
                    : std::min(rates.floorSeconds, k.secondsPerRun) / maxSeconds * width;
    if (!std::isnan(rates.floorSeconds))
      floorTotal += std::min(rates.floorSeconds, k.secondsPerRun);
    os << "<text x='10' y='" << y + 13 << "' font-size='11'>#" << i << " "
       << xmlText(shorten(k.kind + ": " + k.name, 44)) << "<title>" << xmlText(k.name)
       << "</title></text>"
       << "<rect x='" << left << "' y='" << y + 2 << "' width='" << std::max(w, 0.5)
       << "' height='" << row - 4 << "' fill='" << colour << "' fill-opacity='0.3'/>"
       << "<rect x='" << left << "' y='" << y + 2 << "' width='" << fw << "' height='" << row - 4
       << "' fill='" << colour << "'/>"
       << "<text x='" << left + std::max(w, 0.5) + 6 << "' y='" << y + 13
       << "' font-size='11'>" << number(k.secondsPerRun * 1e3, "%.3f") << " ms"
       << (std::isnan(rates.fraction)
               ? std::string(k.flops < 0 || k.bytes < 0 ? " (cost unknown)" : "")
               : ", " + number(rates.fraction * 100, "%.0f") + "% of roofline")
       << "</text>\n";
    y += row;
  }
  double outside = std::max(0.0, r.medianRunSeconds - total);
  os << "<text x='10' y='" << y + 13 << "' font-size='11'>outside kernels (buffers, outputs)"
     << "</text><rect x='" << left << "' y='" << y + 2 << "' width='"
     << std::max(outside / maxSeconds * width, 0.5) << "' height='" << row - 4
     << "' fill='#999' fill-opacity='0.5'/><text x='"
     << left + std::max(outside / maxSeconds * width, 0.5) + 6 << "' y='" << y + 13
     << "' font-size='11'>" << number(outside * 1e3, "%.3f") << " ms</text>\n";
  y += row;
  os << "<text x='10' y='" << y + 14 << "' font-size='11'>roofline least time of all kernels "
     << number(floorTotal * 1e3, "%.3f") << " ms of " << number(total * 1e3, "%.3f")
     << " ms (dark: least time at the roofline; light: the efficiency gap)</text>\n";
  return y + 40;
}

} // namespace

void printProfile(std::FILE *out, const ProfileResult &result, const Roofline &roofline) {
  double kernels = kernelSeconds(result);
  std::fprintf(out,
               "profile of %s: %ld runs, median run %.3f ms; kernels %.3f ms per run, outside "
               "kernels %.3f ms\n",
               result.model.c_str(), result.runs, result.medianRunSeconds * 1e3, kernels * 1e3,
               std::max(0.0, result.medianRunSeconds - kernels) * 1e3);
  std::fprintf(out, "%4s  %-18s %6s %9s %6s %9s %8s %8s %9s  %s\n", "#", "kind", "calls",
               "ms/run", "%", "GFLOP/s", "GB/s", "flop/B", "roofline", "name");
  for (size_t i = 0; i < result.kernels.size(); ++i) {
    const KernelTime &k = result.kernels[i];
    Rates r = ratesOf(k, roofline);
    std::fprintf(out, "%4zu  %-18s %6s %9.3f %6.1f %9s %8s %8s %9s  %s\n", i,
                 shorten(k.kind, 18).c_str(), number(k.callsPerRun, "%.3g").c_str(),
                 k.secondsPerRun * 1e3, kernels > 0 ? k.secondsPerRun / kernels * 100 : 0.0,
                 number(r.gflops, "%.2f").c_str(), number(r.gbs, "%.2f").c_str(),
                 number(r.intensity, "%.2f").c_str(),
                 (number(r.fraction * 100, "%.1f") + (std::isnan(r.fraction) ? "" : "%")).c_str(),
                 k.name.c_str());
  }
}

std::string profileJson(const ProfileResult &result, const ProfileResult *baseline,
                        const Roofline &roofline) {
  std::ostringstream os;
  os << "{\"machine\": {\"cpu\": " << jsonString(roofline.cpu)
     << ", \"threads\": " << roofline.threads << ", \"isa\": " << jsonString(roofline.isa)
     << ", \"peak_gflops\": " << jsonNumber(roofline.peakGflops)
     << ", \"dram_gbs\": " << jsonNumber(roofline.dramGBs)
     << ", \"cache_gbs\": " << jsonNumber(roofline.cacheGBs) << "},\n \"profile\": ";
  jsonProfile(os, result, roofline);
  if (baseline) {
    os << ",\n \"baseline\": ";
    jsonProfile(os, *baseline, roofline);
  }
  os << "}\n";
  return os.str();
}

std::string profileSvg(const ProfileResult &result, const ProfileResult *baseline,
                       const Roofline &roofline) {
  double maxSeconds = 1e-12;
  for (const ProfileResult *r : {&result, baseline})
    if (r)
      for (const KernelTime &k : r->kernels)
        maxSeconds = std::max({maxSeconds, k.secondsPerRun,
                               r->medianRunSeconds - kernelSeconds(*r)});
  std::ostringstream body;
  svgRoofline(body, result, baseline, roofline, 40);
  double y = 40 + 380 + 70;
  body << "<text x='10' y='" << y
       << "' font-size='15' font-weight='bold'>Waterline: time per kernel against the roofline's "
          "least time</text>\n";
  y = svgWaterline(body, result, roofline, kMainColour, y + 24, maxSeconds);
  if (baseline)
    y = svgWaterline(body, *baseline, roofline, kBaselineColour, y + 10, maxSeconds);
  std::ostringstream os;
  os << "<svg xmlns='http://www.w3.org/2000/svg' width='960' height='" << int(y + 10)
     << "' font-family='sans-serif'>\n<rect width='100%' height='100%' fill='white'/>\n"
     << body.str() << "</svg>\n";
  return os.str();
}

} // namespace sparq::run
