//===- AmdTarget.h - What other backends reuse of AMD's ----------*- C++ -*-===//
//
// The choices that make an AMD kernel what it is, shared with the GPU
// emulator (targets/gpu-emulator), which must run exactly these kernels.
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_TARGETS_AMD_AMDTARGET_H
#define PRISM_TARGETS_AMD_AMDTARGET_H

#include "llvm/ADT/StringRef.h"

#include <cstdint>

namespace prism::amd {

/// Waves of 64 (gfx9) or 32 (gfx11): 256 threads is 4 or 8 of them.
constexpr int64_t kThreadsPerBlock = 256;

/// The kernelization options of `chip` (gfx90a, gfx942, gfx1100): the
/// same tile sizes for every chip, and its compute units, which split-K
/// and split-KV fill.
std::string kernelizeOptions(llvm::StringRef chip);

/// CDNA chips have MFMA, RDNA3 has WMMA (in wave32 mode, LLVM's default
/// for gfx11): "mfma" or "wmma", the lowering's matrix-cores option.
llvm::StringRef matrixCoresOf(llvm::StringRef chip);

} // namespace prism::amd

#endif // PRISM_TARGETS_AMD_AMDTARGET_H
