//===- Passes.h - Passes of the AMD backend ---------------------*- C++ -*-===//

#ifndef PRISM_TARGETS_AMD_PASSES_H
#define PRISM_TARGETS_AMD_PASSES_H

#include "mlir/Dialect/AMDGPU/IR/AMDGPUDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"

namespace prism::amd {

#define GEN_PASS_DECL
#include "targets/amd/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "targets/amd/Passes.h.inc"

} // namespace prism::amd

namespace prism {
/// Registers the AMD backend and its passes (called through Targets.def).
void registerAmdTarget();
} // namespace prism

#endif // PRISM_TARGETS_AMD_PASSES_H
