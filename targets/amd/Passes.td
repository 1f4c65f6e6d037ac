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
    bf16/f16 dots into f32 in whole 16x16x16 tiles run on the matrix cores
    chosen by `matrix-cores`: `mfma` (CDNA: gfx90a, gfx942; waves of 64),
    `wmma` (RDNA3: gfx1100; waves of 32) or `none`; other dots are FMA
    loops over K.
  }];
  let options = [
    Option<"threads", "threads", "int64_t", "256", "Threads per block">,
    Option<"sharedMemoryLimit", "shared-memory-limit", "int64_t", "65536",
           "Bytes of LDS a block may use">,
    Option<"matrixCores", "matrix-cores", "std::string", "\"none\"",
           "Matrix-core instructions for dots: mfma, wmma or none">,
  ];
  let dependentDialects = ["mlir::gpu::GPUDialect",
                           "mlir::amdgpu::AMDGPUDialect",
                           "mlir::vector::VectorDialect",
                           "mlir::memref::MemRefDialect",
                           "mlir::arith::ArithDialect",
                           "mlir::math::MathDialect",
                           "mlir::scf::SCFDialect"];
}

#endif // PRISM_TARGETS_AMD_PASSES_TD
