//===- HardwareModel.h - The Ascend chips Prism targets, in one table -*- C++ -*-===//
//
// What the Ascend backend and its static checker know of a chip: core
// counts, on-chip buffer sizes and the alignment and shape rules of data
// movement and the cube unit. Values for the 910B are from Huawei's public
// Ascend C documentation (the per-core buffer sizes of the Atlas A2
// training series).
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_TARGETS_ASCEND_HARDWAREMODEL_H
#define PRISM_TARGETS_ASCEND_HARDWAREMODEL_H

#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <optional>

namespace prism::ascend {

struct ChipModel {
  llvm::StringRef name;
  /// AI cores (cube units) and vector cores (two AIV per AI core on 910B):
  /// vector kernels launch at most `vectorCores` blocks.
  int64_t aiCores;
  int64_t vectorCores;
  /// Per-core buffers, in bytes.
  int64_t unifiedBuffer; // UB, the vector unit's
  int64_t l1Buffer;      // L1, the cube unit's staging buffer
  int64_t l0a, l0b, l0c; // cube operands and accumulator
  /// UB addresses and whole-block DataCopy lengths are multiples of this.
  int64_t ubAlignment;
  /// Cube fractal (f16/bf16): M x N x K.
  int64_t cubeM, cubeN, cubeK;
  /// Largest repeat count of one vector instruction.
  int64_t maxVectorRepeat;
};

/// The model of `chip` ("910b"; empty means 910b), or nothing.
std::optional<ChipModel> lookupChip(llvm::StringRef chip);

} // namespace prism::ascend

#endif // PRISM_TARGETS_ASCEND_HARDWAREMODEL_H
