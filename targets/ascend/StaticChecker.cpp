//===- StaticChecker.cpp - Ascend kernels must fit the chip ----------------===//
//
// Rejects, naming the buffer and the bytes, a kernel whose UB buffers
// (times their queue depth) do not fit the chip's unified buffer, or whose
// buffers are not 32-byte aligned, before any vendor compiler sees it. The
// launch never asks for more blocks than the chip has vector cores (the
// runtime caps it; programs are strided over blocks).
//
//===----------------------------------------------------------------------===//

#include "targets/ascend/AscendKernel.h"

#include <algorithm>

using namespace mlir;

namespace prism::ascend {

LogicalResult checkAscendKernel(const AscendKernel &kernel, const ChipModel &chip,
                                func::FuncOp forDiagnostics) {
  for (const AscendBuffer &b : kernel.buffers) {
    if (b.bytes % chip.ubAlignment)
      return forDiagnostics.emitError("Ascend kernel '")
             << kernel.name << "': buffer " << b.name << " (" << b.holds << ") is "
             << b.bytes << " bytes, not a multiple of the " << chip.ubAlignment
             << "-byte UB alignment";
    if (b.depth < 1 || b.depth > 2)
      return forDiagnostics.emitError("Ascend kernel '")
             << kernel.name << "': queue " << b.name << " has " << b.depth
             << " buffers (1 or 2 supported)";
  }
  // The cube unit's buffers: L1, L0A, L0B, L0C.
  for (auto [memory, capacity] :
       {std::pair<llvm::StringRef, int64_t>{"L1", chip.l1Buffer},
        {"L0A", chip.l0a}, {"L0B", chip.l0b}, {"L0C", chip.l0c}}) {
    int64_t used = kernel.bytesIn(memory);
    if (used > capacity)
      return forDiagnostics.emitError("Ascend kernel '")
             << kernel.name << "' needs " << used << " bytes of " << memory
             << " but the " << chip.name << " has " << capacity << " per core";
  }
  int64_t total = kernel.unifiedBufferBytes() + kernel.reservedBytes;
  if (total > chip.unifiedBuffer) {
    auto largest = std::max_element(
        kernel.buffers.begin(), kernel.buffers.end(),
        [](const AscendBuffer &a, const AscendBuffer &b) {
          return a.bytes * a.depth < b.bytes * b.depth;
        });
    return forDiagnostics.emitError("Ascend kernel '")
           << kernel.name << "' needs " << total << " bytes of UB ("
           << kernel.reservedBytes << " kept free for the API's temporaries) but the "
           << chip.name << " has " << chip.unifiedBuffer << " per core ("
           << kernel.buffers.size() << " buffers; the largest, " << largest->name
           << " (" << largest->position << ", " << largest->holds << "), takes "
           << largest->depth << " x " << largest->bytes << " bytes)";
  }
  return success();
}

} // namespace prism::ascend
