//===- Passes.h - Passes of the CPU backend ---------------------*- C++ -*-===//

#ifndef PRISM_TARGETS_CPU_PASSES_H
#define PRISM_TARGETS_CPU_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"

namespace prism::cpu {

#define GEN_PASS_DECL
#include "targets/cpu/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "targets/cpu/Passes.h.inc"

/// The number of trailing grid arguments a lowered kernel takes:
/// program id x, y, z, then number of programs x, y, z.
constexpr unsigned kNumGridArguments = 6;

/// The prefix of the packed entry point of every CPU kernel.
constexpr llvm::StringLiteral kKernelEntryPrefix = "prism_kernel_";

/// The CPU backend's pipeline after its tile lowering: vector/scf kernels
/// (with the prism.cpu_kernel signature) to the LLVM dialect and the packed
/// entry points. Other targets that compile kernels for the host (the GPU
/// emulator) reuse it.
llvm::StringRef hostLoweringPipeline();

} // namespace prism::cpu

namespace prism {
/// Registers the CPU backend and its passes (called through Targets.def).
void registerCpuTarget();
} // namespace prism

#endif // PRISM_TARGETS_CPU_PASSES_H
