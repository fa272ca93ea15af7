//===- NM.td - sparq_nm dialect aggregator -----------------*- tablegen -*-===//
#ifndef SPARQ_NM_TD
#define SPARQ_NM_TD
include "dialects/NM/NMDialect.td"
include "dialects/NM/NMAttrs.td"
include "dialects/NM/NMOps.td"
#endif // SPARQ_NM_TD
