//===- PrismDialect.h - The prism graph-level dialect -----------*- C++ -*-===//

#ifndef PRISM_DIALECTS_PRISM_IR_PRISMDIALECT_H
#define PRISM_DIALECTS_PRISM_IR_PRISMDIALECT_H

#include "mlir/IR/Dialect.h"

#include "dialects/Prism/IR/PrismDialect.h.inc"

#endif // PRISM_DIALECTS_PRISM_IR_PRISMDIALECT_H
