//===- Passes.td - Passes of the NVIDIA backend ------------*- tablegen -*-===//

#ifndef PRISM_TARGETS_NVIDIA_PASSES_TD
#define PRISM_TARGETS_NVIDIA_PASSES_TD

include "mlir/Pass/PassBase.td"

def NvidiaLowerTileToGpu : Pass<"prism-nvidia-lower-tile-to-gpu", "mlir::ModuleOp"> {
  let summary = "Lower tile kernels to GPU kernels, one thread block per program";
  let description = [{
    Every `tile.kernel` function becomes a `gpu.func` kernel in a
    `gpu.module @prism_kernels`; one program instance is one thread block of
    `threads` threads (`tile.program_id` is `gpu.block_id`).

    Layout: a tile of N elements is spread over the block element-wise in
    row-major order: thread t holds elements t, t + T, t + 2T, ... as a
    vector of ceil(N / T) values. This layout is the same for every shape of
    the same size, so `reshape` and `expand_dims` move no data, elementwise
    ops are local, and global loads and stores are coalesced (consecutive
    threads touch consecutive elements of a contiguous row). Ops that change
    which thread needs which element (`broadcast`, `transpose`, `reduce`,
    `dot`) exchange the tile through shared memory: the block writes it,
    synchronizes, and each thread computes its own results from it (a
    reduction loops over the reduced axis, a dot over K). The shared-memory
    workspace is one workgroup buffer sized by the largest exchange of the
    kernel; a kernel that needs more than the static limit is rejected.

    Loads, stores and gathers are `vector.gather` / `vector.scatter` on a
    flat view of the buffer with the bounds in the mask; `tile.load`'s
    padding is the pass-through value.

    `dot` of bf16 or f16 tiles into f32, in whole m16n8k16 tiles, runs on
    tensor cores: each warp takes C tiles round-robin and accumulates them
    with `mma.sync` from fragments read out of shared memory; the result
    goes back through shared memory to the element-wise layout, or, for an
    accumulator a K loop carries, stays in the mma registers across the
    loop. Operand fragments come from shared memory with `ldmatrix`
    (`.trans` for operands stored with K outermost). Other dots are FMA
    loops over K. The operands of K-loop dots that are loaded in the loop
    (a matmul's A and B) are staged instead: `stages` slots in shared
    memory per operand, filled by `cp.async` `stages - 1` iterations ahead,
    one barrier per K step. With `warpgroup-mma` (sm_90a), staged dots of a
    64-row tile with K-major operands run as `wgmma.mma_async` on operands
    the tensor cores read from shared memory; with `tensor-memory-access`
    too, their tiles are copied by TMA (`cp.async.bulk.tensor`, one
    instruction per tile, tensor maps built by the host) into 32/64/128-byte
    swizzled slots, completing on an mbarrier per stage; buffers the host
    cannot describe (unaligned) fall back to cp.async into the same slots.
  }];
  let options = [
    Option<"threads", "threads", "int64_t", "128", "Threads per block">,
    Option<"sharedMemoryLimit", "shared-memory-limit", "int64_t", "49152",
           "Bytes of static shared memory a block may use">,
    Option<"dynamicSharedMemoryLimit", "dynamic-shared-memory-limit", "int64_t", "0",
           "Bytes of dynamic shared memory a block may use above the static "
           "limit (0: none)">,
    Option<"stages", "stages", "int64_t", "3",
           "Depth of the cp.async pipeline of K-loop dot operands (1: none)">,
    Option<"warpgroupMma", "warpgroup-mma", "bool", "false",
           "Staged dots that fit one warpgroup run as wgmma.mma_async (sm_90a)">,
    Option<"tensorMemoryAccess", "tensor-memory-access", "bool", "false",
           "wgmma operands are staged by TMA copies on mbarriers (sm_90a)">,
  ];
  let dependentDialects = ["mlir::gpu::GPUDialect",
                           "mlir::NVVM::NVVMDialect",
                           "mlir::nvgpu::NVGPUDialect",
                           "mlir::LLVM::LLVMDialect",
                           "mlir::vector::VectorDialect",
                           "mlir::memref::MemRefDialect",
                           "mlir::arith::ArithDialect",
                           "mlir::scf::SCFDialect"];
}

def NvidiaApproximateExp2 : Pass<"prism-nvidia-approximate-exp2", "mlir::ModuleOp"> {
  let summary = "f32 exp2 in GPU kernels as ex2.approx.ftz.f32 (one MUFU.EX2)";
  let description = [{
    libdevice's `exp2f` is `ex2.approx.f32`, which keeps subnormal results
    at the cost of three more instructions around `MUFU.EX2`. The kernels'
    `exp2` is attention's softmax in base 2, whose subnormal weights are
    zeros to any attention: `ex2.approx.ftz.f32` is one instruction with
    the same relative error (2^-22). Scalars and 1-D vectors of f32 inside
    `gpu.func`s; other types keep libdevice.
  }];
  let dependentDialects = ["mlir::LLVM::LLVMDialect", "mlir::vector::VectorDialect",
                           "mlir::arith::ArithDialect"];
}

#endif // PRISM_TARGETS_NVIDIA_PASSES_TD
