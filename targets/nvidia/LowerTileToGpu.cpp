//===- LowerTileToGpu.cpp - The NVIDIA lowering of tile kernels -----------===//
//
// The shared GPU lowering (targets/gpu) with NVIDIA's tensor-core dots.
//
//===----------------------------------------------------------------------===//

#include "targets/nvidia/CpAsyncCopies.h"
#include "targets/nvidia/MmaSyncLowering.h"
#include "targets/nvidia/Passes.h"
#include "targets/nvidia/TensorMemoryAccess.h"

namespace prism::nvidia {
#define GEN_PASS_DEF_NVIDIALOWERTILETOGPU
#include "targets/nvidia/Passes.h.inc"
} // namespace prism::nvidia

namespace {

struct NvidiaLowerTileToGpuPass
    : prism::nvidia::impl::NvidiaLowerTileToGpuBase<NvidiaLowerTileToGpuPass> {
  using NvidiaLowerTileToGpuBase::NvidiaLowerTileToGpuBase;

  void runOnOperation() override {
    prism::nvidia::MmaSyncLowering mma(warpgroupMma);
    prism::gpu_lowering::GpuLoweringOptions options;
    options.threads = threads;
    options.warpShuffles = true;
    options.sharedMemoryLimit = sharedMemoryLimit;
    options.dynamicSharedMemoryLimit = dynamicSharedMemoryLimit;
    options.matrixCores = &mma;
    prism::nvidia::CpAsyncCopies copies(stages);
    if (stages > 1)
      options.asyncCopies = &copies;
    prism::nvidia::TensorMemoryAccess tma;
    if (tensorMemoryAccess)
      options.tensorCopies = &tma;
    if (mlir::failed(prism::gpu_lowering::lowerTileKernelsToGpu(getOperation(),
                                                                 options)))
      signalPassFailure();
  }
};

} // namespace
