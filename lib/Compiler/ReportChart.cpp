//===- lib/Compiler/ReportChart.cpp - compression report picture -----------===//
#include "sparq/Compiler/ReportChart.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cmath>

using namespace llvm;

namespace sparq {

namespace {

/// Text with the XML special characters escaped.
std::string escape(StringRef s) {
  std::string out;
  for (char c : s) {
    switch (c) {
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '&':
      out += "&amp;";
      break;
    case '"':
      out += "&quot;";
      break;
    default:
      out += c;
    }
  }
  return out;
}

/// A "nice" axis maximum at or above v (1, 2 or 5 times a power of ten).
double niceMax(double v) {
  if (!(v > 0))
    return 1;
  double p = std::pow(10.0, std::floor(std::log10(v)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * p >= v)
      return m * p;
  return 10 * p;
}

} // namespace

void writeReportChart(const std::vector<LayerReport> &report, raw_ostream &os) {
  bool calibrated = !report.empty() && report.front().outputError >= 0;
  // Layout: layer names, then the bits panel, then the error panel; one row per layer.
  const int nameW = 230, panelW = 300, gap = 40, rowH = 18, top = 70, left = 10;
  const int bitsX = left + nameW, errX = bitsX + panelW + gap;
  int height = top + rowH * (int)report.size() + 40, width = errX + panelW + 20;
  double maxBits = 0, maxErr = 0, before = 0, after = 0;
  for (const LayerReport &r : report) {
    maxBits = std::max(maxBits, r.bitsPerWeight);
    maxErr = std::max({maxErr, calibrated ? r.outputError : r.weightError, r.outputErrorRTN});
    before += r.bytesBefore;
    after += r.bytesAfter;
  }
  maxBits = std::max(8.0, 4 * std::ceil(maxBits / 4)); // ticks at whole bits
  maxErr = niceMax(maxErr);
  std::string errName = calibrated ? "layer output error on the calibration data"
                                   : "relative weight error";
  os << formatv("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" "
                "viewBox=\"0 0 {0} {1}\" font-family=\"sans-serif\" font-size=\"11\">\n",
                width, height);
  os << formatv("<rect width=\"{0}\" height=\"{1}\" fill=\"white\"/>\n", width, height);
  os << formatv("<text x=\"{0}\" y=\"18\" font-size=\"14\" font-weight=\"bold\">sparq compression "
                "report: {1} layers, {2} bits per weight</text>\n",
                left, report.size(), format("%.3f", before > 0 ? after * 8 / (before / 4) : 0.0));
  os << formatv("<text x=\"{0}\" y=\"44\">bits per weight (indices and scales counted)</text>\n",
                bitsX);
  os << formatv("<text x=\"{0}\" y=\"44\">{1}</text>\n", errX, errName);
  if (calibrated)
    os << formatv("<rect x=\"{0}\" y=\"50\" width=\"10\" height=\"8\" fill=\"#d95f02\"/>"
                  "<text x=\"{1}\" y=\"58\">method</text>"
                  "<rect x=\"{2}\" y=\"50\" width=\"10\" height=\"8\" fill=\"#bbbbbb\"/>"
                  "<text x=\"{3}\" y=\"58\">round-to-nearest</text>\n",
                  errX, errX + 14, errX + 70, errX + 84);
  // Axes with ticks at 0, 1/4, ... of the maximum.
  auto axis = [&](int x0, double max, const char *fmt) {
    int y1 = top + rowH * (int)report.size();
    for (int t = 0; t <= 4; ++t) {
      int x = x0 + panelW * t / 4;
      os << formatv("<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"#dddddd\"/>"
                    "<text x=\"{0}\" y=\"{3}\" text-anchor=\"middle\">{4}</text>\n",
                    x, top - 4, y1, y1 + 14, format(fmt, max * t / 4));
    }
  };
  axis(bitsX, maxBits, "%g");
  axis(errX, maxErr, "%.3g");
  for (size_t i = 0; i < report.size(); ++i) {
    const LayerReport &r = report[i];
    int y = top + rowH * (int)i;
    double err = calibrated ? r.outputError : r.weightError;
    std::string what = formatv("{0}: {1} {2}x{3}, {4} bits/w, {5}", r.name, r.scheme, r.rows, r.k,
                               format("%.3f", r.bitsPerWeight),
                               calibrated ? formatv("{0} output error {1} (round-to-nearest {2})",
                                                    r.method, format("%.4f", r.outputError),
                                                    format("%.4f", r.outputErrorRTN))
                                                .str()
                                          : formatv("weight error {0}", format("%.4f", r.weightError))
                                                .str());
    os << formatv("<g><title>{0}</title>\n", escape(what));
    os << formatv("<text x=\"{0}\" y=\"{1}\">{2}</text>\n", left, y + 13,
                  escape(r.name.size() > 34 ? r.name.substr(0, 33) + "…" : r.name));
    os << formatv("<rect x=\"{0}\" y=\"{1}\" width=\"{2}\" height=\"{3}\" fill=\"#1b9e77\"/>"
                  "<text x=\"{4}\" y=\"{5}\">{6} {7}</text>\n",
                  bitsX, y + 3, format("%.1f", panelW * r.bitsPerWeight / maxBits), rowH - 6,
                  bitsX + panelW * r.bitsPerWeight / maxBits + 3, y + 13,
                  format("%.2f", r.bitsPerWeight), escape(r.scheme));
    if (calibrated)
      os << formatv("<rect x=\"{0}\" y=\"{1}\" width=\"{2}\" height=\"{3}\" fill=\"#bbbbbb\"/>\n",
                    errX, y + 2, format("%.1f", panelW * r.outputErrorRTN / maxErr), rowH - 4);
    os << formatv("<rect x=\"{0}\" y=\"{1}\" width=\"{2}\" height=\"{3}\" fill=\"#d95f02\"/>"
                  "</g>\n",
                  errX, y + 5, format("%.1f", panelW * err / maxErr), rowH - 10);
  }
  os << "</svg>\n";
}

} // namespace sparq
