//===- Passes.td - Passes of the GPU emulator --------------*- tablegen -*-===//

#ifndef PRISM_TARGETS_GPU_EMULATOR_PASSES_TD
#define PRISM_TARGETS_GPU_EMULATOR_PASSES_TD

include "mlir/Pass/PassBase.td"

def EmulateGpuKernelsOnCpu : Pass<"prism-emulate-gpu-kernels-on-cpu", "mlir::ModuleOp"> {
  let summary = "Turn lowered GPU kernels into host functions run thread by thread";
  let description = [{
    Every `gpu.func` kernel of the module's `gpu.module`s (as a GPU
    backend's tile lowering leaves them, before NVVM or ROCDL) becomes a
    `func.func` with the CPU backend's kernel signature: its buffers, the
    shared-memory workspace (the workgroup attribution, now host memory),
    a pointer to the thread's context (EmulatorAbi.h) and the six grid
    arguments. `gpu.thread_id x` is read from the context, `gpu.block_id`
    and `gpu.grid_dim` are the grid arguments, `gpu.barrier` calls the
    context's barrier (numbered by site, so that threads meeting at
    different barriers are caught), and `nvvm.mma.sync` (m16n8k16, bf16 or
    f16 into f32) hands this lane's registers to the context's matrix
    function, which computes the warp's product as PTX defines it;
    `nvgpu.ldmatrix` likewise hands it this lane's row address. Any
    other GPU operation is an error naming it. The emulator's runtime runs
    each thread of a block as a host thread.
  }];
  let dependentDialects = ["mlir::func::FuncDialect",
                           "mlir::memref::MemRefDialect",
                           "mlir::LLVM::LLVMDialect",
                           "mlir::arith::ArithDialect",
                           "mlir::vector::VectorDialect"];
}

#endif // PRISM_TARGETS_GPU_EMULATOR_PASSES_TD
