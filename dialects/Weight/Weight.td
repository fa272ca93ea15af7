//===- Weight.td - sparq_weight dialect aggregator ---------*- tablegen -*-===//
#ifndef SPARQ_WEIGHT_TD
#define SPARQ_WEIGHT_TD
include "dialects/Weight/WeightDialect.td"
include "dialects/Weight/WeightFormatInterface.td"
include "dialects/Weight/WeightOps.td"
#endif // SPARQ_WEIGHT_TD
