//===- Passes.h - Passes of the NVIDIA backend ------------------*- C++ -*-===//

#ifndef PRISM_TARGETS_NVIDIA_PASSES_H
#define PRISM_TARGETS_NVIDIA_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"

namespace prism::nvidia {

#define GEN_PASS_DECL
#include "targets/nvidia/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "targets/nvidia/Passes.h.inc"

} // namespace prism::nvidia

namespace prism {
/// Registers the NVIDIA backend and its passes (called through Targets.def).
void registerNvidiaTarget();
} // namespace prism

#endif // PRISM_TARGETS_NVIDIA_PASSES_H
