//===- dialects/MX/MXDialect.h - sparq_mx dialect ------------------*- C++ -*-===//
#ifndef SPARQ_DIALECTS_MX_MXDIALECT_H
#define SPARQ_DIALECTS_MX_MXDIALECT_H

#include "dialects/Weight/WeightFormat.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Dialect.h"

#include "dialects/MX/MXDialect.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/MX/MXAttrs.h.inc"

#endif // SPARQ_DIALECTS_MX_MXDIALECT_H
