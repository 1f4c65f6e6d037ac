//===- Passes.h - Target-independent Prism passes ---------------*- C++ -*-===//

#ifndef PRISM_PASSES_PASSES_H
#define PRISM_PASSES_PASSES_H

#include "dialects/Tile/IR/TileDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Pass/Pass.h"

namespace prism {

#define GEN_PASS_DECL
#include "passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

/// The passes of `prism-optimize`, in order, nested on functions.
void buildOptimizationPipeline(mlir::OpPassManager &pm);

/// The name of the launch-plan attribute kernelization puts on a function.
constexpr llvm::StringLiteral kPlanAttrName = "prism.plan";

} // namespace prism

#endif // PRISM_PASSES_PASSES_H
