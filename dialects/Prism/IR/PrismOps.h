//===- PrismOps.h - Operations of the prism dialect -------------*- C++ -*-===//

#ifndef PRISM_DIALECTS_PRISM_IR_PRISMOPS_H
#define PRISM_DIALECTS_PRISM_IR_PRISMOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dialects/Prism/IR/PrismDialect.h"
#include "dialects/Prism/IR/PrismEnums.h.inc"
#include "dialects/Prism/IR/PrismTypeInference.h"

#define GET_OP_CLASSES
#include "dialects/Prism/IR/PrismOps.h.inc"

#endif // PRISM_DIALECTS_PRISM_IR_PRISMOPS_H
