//===- AscendKernel.h - A tile kernel as an Ascend C vector kernel -*- C++ -*-===//
//
// The Ascend backend's intermediate form between a tile kernel and Ascend C
// source: the kernel's buffers with their placement (UB, through VECIN /
// VECOUT queues of a depth, or VECCALC scratch), its copy-in / compute /
// copy-out body as Ascend C statements over those buffers, and its launch
// shape (blocks over the vector cores, programs strided over the blocks).
// The static checker reads the buffers; the source printer reads all of it.
//
// This is a C++ structure, not an MLIR dialect (docs/design.md says why).
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_TARGETS_ASCEND_ASCENDKERNEL_H
#define PRISM_TARGETS_ASCEND_ASCENDKERNEL_H

#include "targets/ascend/HardwareModel.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Support/LLVM.h"

#include <string>
#include <vector>

namespace prism::ascend {

/// One on-chip buffer of a kernel.
struct AscendBuffer {
  std::string name;     // member name in the kernel class
  std::string position; // VECIN, VECOUT (TQue) or VECCALC (TBuf): UB;
                        // A1, B1 (TQue): L1; A2: L0A; B2: L0B; CO1: L0C
  int64_t bytes = 0;    // one buffer (a multiple of the UB alignment)
  int64_t depth = 1;    // buffers (a queue's: 2, double buffering)
  std::string holds;    // the tile it holds, e.g. "256xf32"
  bool isQueue() const { return position != "VECCALC"; }
  /// The on-chip memory of the position.
  llvm::StringRef memory() const {
    if (position == "A1" || position == "B1")
      return "L1";
    if (position == "A2")
      return "L0A";
    if (position == "B2")
      return "L0B";
    if (position == "CO1")
      return "L0C";
    return "UB";
  }
};

/// A global-memory argument: a strided memref of the tile kernel.
struct AscendArgument {
  std::string elementType; // Ascend C type: float, half, bfloat16_t, int32_t...
  unsigned rank = 0;
};

struct AscendKernel {
  std::string name;
  std::vector<AscendArgument> arguments;
  std::vector<AscendBuffer> buffers;
  /// Statements of one program instance (Ascend C, inside Program()).
  std::string body;
  /// Which stages the body has, in order (copy_in, compute, copy_out).
  std::vector<std::string> stages;
  /// UB left unallocated for the API's own temporaries (Select, the math
  /// library).
  int64_t reservedBytes = 0;
  /// A cube kernel (Mmad on the AI cores' cube units: L1/L0 buffers);
  /// otherwise a vector kernel (the vector cores, UB).
  bool onCube = false;

  /// Bytes of the buffers placed in `memory` (UB, L1, L0A, L0B, L0C), times
  /// their count.
  int64_t bytesIn(llvm::StringRef memory) const;
  /// Blocks the kernel may be launched with on `chip`.
  int64_t maxBlocks(const ChipModel &chip) const {
    return onCube ? chip.aiCores : chip.vectorCores;
  }

  /// UB bytes of every buffer times its depth.
  int64_t unifiedBufferBytes() const;
};

/// Builds the Ascend form of a tile kernel, or reports (on the function)
/// what the backend cannot express yet and fails.
mlir::FailureOr<AscendKernel> buildAscendKernel(mlir::func::FuncOp tileKernel,
                                                const ChipModel &chip);

/// The static checker: every buffer times its depth fits the chip's UB and
/// is aligned; reports the buffer and the bytes otherwise.
mlir::LogicalResult checkAscendKernel(const AscendKernel &kernel,
                                      const ChipModel &chip,
                                      mlir::func::FuncOp forDiagnostics);

/// The kernel's plan in text (buffers, placement, depth, bytes, stages).
std::string printAscendPlan(const AscendKernel &kernel, const ChipModel &chip);

/// Ascend C source of the kernels (one translation unit, including
/// kernel_operator.h), the CANN host launch stub, and the entry points the
/// CPU emulation is driven through.
std::string printAscendCSource(llvm::ArrayRef<AscendKernel> kernels,
                               const ChipModel &chip);
std::string printCannHostStub(llvm::ArrayRef<AscendKernel> kernels);
std::string printEmulationEntries(llvm::ArrayRef<AscendKernel> kernels,
                                  const ChipModel &chip);

/// Registers `prism-ascend-plan` (prism-opt).
void registerAscendPlanPass();

} // namespace prism::ascend

namespace prism {
/// Registers the Ascend backend with the target registry.
void registerAscendTarget();
} // namespace prism

#endif // PRISM_TARGETS_ASCEND_ASCENDKERNEL_H
