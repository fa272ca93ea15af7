//===- Quant.td - sparq_quant dialect aggregator -----------*- tablegen -*-===//
#ifndef SPARQ_QUANT_TD
#define SPARQ_QUANT_TD
include "dialects/Quant/QuantDialect.td"
include "dialects/Quant/QuantAttrs.td"
include "dialects/Quant/QuantOps.td"
#endif // SPARQ_QUANT_TD
