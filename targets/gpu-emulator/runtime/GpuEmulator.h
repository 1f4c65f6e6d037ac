//===- GpuEmulator.h - Running GPU kernels on host threads ------*- C++ -*-===//
//
// The runtime of "nvidia-emulated" bundles (GpuEmulatorRuntime.cpp says
// how). Part of the runtime: no LLVM, no MLIR.
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_TARGETS_GPU_EMULATOR_RUNTIME_GPUEMULATOR_H
#define PRISM_TARGETS_GPU_EMULATOR_RUNTIME_GPUEMULATOR_H

#include "targets/cpu/runtime/CpuKernelLibrary.h"

#include "prism/Runtime/TensorMaps.h"

#include <array>
#include <string>
#include <vector>

namespace prism::runtime {

/// Runs an emulated GPU kernel (the packed entry point of a kernel
/// compiled by prism-emulate-gpu-kernels-on-cpu) over `grid`, with
/// `threads` host threads per block and `sharedBytes` of shared memory.
/// Returns false with `error` set when a block deadlocks (a barrier or warp
/// instruction some threads never reach), when threads meet at different
/// barriers, or on an unknown matrix instruction.
bool emulateKernel(CpuKernelEntry entry, const std::vector<StridedBuffer> &buffers,
                   std::array<int64_t, 3> grid, int64_t threads,
                   int64_t sharedBytes, std::string &error);

/// Writes the emulator's tensor map (what cuTensorMapEncodeTiled makes
/// for a GPU; TensorMaps.h) for copies of `spec.box` from `geometry`.
bool encodeEmulatedTensorMap(const TensorMapSpec &spec, const TensorMapGeometry &geometry,
                             void *out, std::string &error);

/// Registers the runner of "nvidia-emulated" bundles.
void registerGpuEmulatorRuntime();

} // namespace prism::runtime

#endif // PRISM_TARGETS_GPU_EMULATOR_RUNTIME_GPUEMULATOR_H
