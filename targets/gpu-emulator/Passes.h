//===- Passes.h - Passes of the GPU emulator --------------------*- C++ -*-===//

#ifndef PRISM_TARGETS_GPU_EMULATOR_PASSES_H
#define PRISM_TARGETS_GPU_EMULATOR_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"

namespace prism::gpu_emulator {

#define GEN_PASS_DECL
#include "targets/gpu-emulator/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "targets/gpu-emulator/Passes.h.inc"

} // namespace prism::gpu_emulator

namespace prism {
/// Registers the emulated GPU targets and their passes (through
/// Targets.def).
void registerGpuEmulatorTarget();
} // namespace prism

#endif // PRISM_TARGETS_GPU_EMULATOR_PASSES_H
