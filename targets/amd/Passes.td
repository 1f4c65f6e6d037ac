//===- Passes.td - Passes of the AMD backend ---------------*- tablegen -*-===//

#ifndef PRISM_TARGETS_AMD_PASSES_TD
#define PRISM_TARGETS_AMD_PASSES_TD

include "mlir/Pass/PassBase.td"

def AmdLowerTileToGpu : Pass<"prism-amd-lower-tile-to-gpu", "mlir::ModuleOp"> {
  let summary = "Lower tile kernels to GPU kernels for AMD GPUs";
  let description = [{
    The shared GPU lowering (targets/gpu: one block per program, tiles
    spread element-wise, shared-memory exchanges, tree reductions) with
    AMD's block size, followed by the math legalization ROCDL needs without
    ROCm's device libraries: `tanh`, `erf`, `sin`, `cos`, `exp2`, `log2` and
    friends become polynomial approximations and `rsqrt` becomes
    `1 / sqrt`, so that only LLVM intrinsics remain (no `__ocml_*` calls).
    Dots are FMA loops over K: MFMA (gfx90a, gfx942) and WMMA (gfx1100) are
    not used yet.
  }];
  let options = [
    Option<"threads", "threads", "int64_t", "256", "Threads per block">,
    Option<"sharedMemoryLimit", "shared-memory-limit", "int64_t", "65536",
           "Bytes of LDS a block may use">,
  ];
  let dependentDialects = ["mlir::gpu::GPUDialect",
                           "mlir::vector::VectorDialect",
                           "mlir::memref::MemRefDialect",
                           "mlir::arith::ArithDialect",
                           "mlir::math::MathDialect",
                           "mlir::scf::SCFDialect"];
}

#endif // PRISM_TARGETS_AMD_PASSES_TD
