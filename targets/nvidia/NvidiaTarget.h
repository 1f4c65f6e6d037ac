//===- NvidiaTarget.h - What other backends reuse of NVIDIA's ----*- C++ -*-===//
//
// The choices that make an NVIDIA kernel what it is, shared with the GPU
// emulator (targets/gpu-emulator), which must run exactly these kernels.
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_TARGETS_NVIDIA_NVIDIATARGET_H
#define PRISM_TARGETS_NVIDIA_NVIDIATARGET_H

#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <string>

namespace prism::nvidia {

/// Threads per block of every kernel: four warps.
constexpr int64_t kThreadsPerBlock = 128;

/// The kernelization options (tile sizes) for `chip` ("sm_90a"): the
/// tensor cores' tiles (wgmma on sm_90a, mma.sync before) for bf16/f16
/// products, smaller ones for f32 products.
std::string kernelizeOptions(llvm::StringRef chip);

/// The options of prism-nvidia-lower-tile-to-gpu for `chip` ("sm_90a"):
/// the block size, and wgmma where the chip has it (sm_90a).
std::string lowerTileToGpuOptions(llvm::StringRef chip);

} // namespace prism::nvidia

#endif // PRISM_TARGETS_NVIDIA_NVIDIATARGET_H
