//===- include/sparq/Compiler/ReportChart.h - compression report picture -*- C++ -*-===//
//
// The compression report as a picture: an SVG bar chart with one row per layer, its bits per
// weight (everything counted) and its error (the layer output error on the calibration data
// beside round-to-nearest's when calibrated, else the weight error). Written by sparq itself,
// so no plotting package is needed (sparq-compile --report-chart).
//
//===----------------------------------------------------------------------===//
#ifndef SPARQ_COMPILER_REPORTCHART_H
#define SPARQ_COMPILER_REPORTCHART_H

#include "sparq/Compression/Options.h"

#include "llvm/Support/raw_ostream.h"

#include <vector>

namespace sparq {

/// Writes the report as a standalone SVG document. Every bar carries a <title> with the layer's
/// figures (shown as a tooltip by browsers).
void writeReportChart(const std::vector<LayerReport> &report, llvm::raw_ostream &os);

} // namespace sparq

#endif // SPARQ_COMPILER_REPORTCHART_H
