//===- PrismDialect.cpp - The prism dialect and its generated code --------===//
//
// The op definitions generated from ODS are instantiated here, once; the
// hand-written parts of the ops live in one file per op family.
//
//===----------------------------------------------------------------------===//

#include "dialects/Prism/IR/PrismDialect.h"
#include "dialects/Prism/IR/PrismOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace prism;

#include "dialects/Prism/IR/PrismDialect.cpp.inc"
#include "dialects/Prism/IR/PrismEnums.cpp.inc"

#define GET_OP_CLASSES
#include "dialects/Prism/IR/PrismOps.cpp.inc"

void PrismDialect::initialize() { registerOps(); }

void PrismDialect::registerOps() {
  addOperations<
#define GET_OP_LIST
#include "dialects/Prism/IR/PrismOps.cpp.inc"
      >();
}
