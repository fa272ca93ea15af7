//===- ShiftAdd.td - sparq_shiftadd dialect aggregator -----*- tablegen -*-===//
#ifndef SPARQ_SHIFTADD_TD
#define SPARQ_SHIFTADD_TD
include "dialects/ShiftAdd/ShiftAddDialect.td"
include "dialects/ShiftAdd/ShiftAddAttrs.td"
include "dialects/ShiftAdd/ShiftAddOps.td"
#endif // SPARQ_SHIFTADD_TD
