//===- HardwareModel.cpp - The Ascend chip table ---------------------------===//

#include "targets/ascend/HardwareModel.h"

namespace prism::ascend {

std::optional<ChipModel> lookupChip(llvm::StringRef chip) {
  static const ChipModel k910B = {
      /*name=*/"910b",
      /*aiCores=*/24,
      /*vectorCores=*/48,
      /*unifiedBuffer=*/192 * 1024,
      /*l1Buffer=*/512 * 1024,
      /*l0a=*/64 * 1024,
      /*l0b=*/64 * 1024,
      /*l0c=*/128 * 1024,
      /*ubAlignment=*/32,
      /*cubeM=*/16,
      /*cubeN=*/16,
      /*cubeK=*/16,
      /*maxVectorRepeat=*/255,
  };
  if (chip.empty() || chip == "910b")
    return k910B;
  return std::nullopt;
}

} // namespace prism::ascend
