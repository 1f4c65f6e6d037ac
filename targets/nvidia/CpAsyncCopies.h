//===- CpAsyncCopies.h - Asynchronous global-to-shared copies on NVIDIA -*- C++ -*-===//
//
// cp.async (sm_80 and later) for the staged dot operands of K loops
// (targets/gpu/StageDotOperands.h): 16-byte copies that bypass L1
// (cp.async.cg), zero-filled past `validElements`, grouped with
// cp.async.commit_group and waited for with cp.async.wait_group.
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_TARGETS_NVIDIA_CPASYNCCOPIES_H
#define PRISM_TARGETS_NVIDIA_CPASYNCCOPIES_H

#include "targets/gpu/TileToGpu.h"

namespace prism::nvidia {

class CpAsyncCopies : public gpu_lowering::AsyncCopyLowering {
public:
  explicit CpAsyncCopies(int64_t stages) : stageCount(stages) {}
  int64_t stages() const override { return stageCount; }
  void copy(mlir::OpBuilder &b, mlir::Location loc, mlir::Value shared,
            mlir::Value sharedIndex, mlir::Value global, mlir::Value globalIndex,
            int64_t elements, mlir::Value validElements) const override;
  void commit(mlir::OpBuilder &b, mlir::Location loc) const override;
  void wait(mlir::OpBuilder &b, mlir::Location loc,
            int64_t pendingGroups) const override;
  /// fence.proxy.async.shared::cta: cp.async writes through the generic
  /// proxy, wgmma reads through the async proxy.
  void fenceForMatrixCores(mlir::OpBuilder &b, mlir::Location loc) const override;

private:
  int64_t stageCount;
};

} // namespace prism::nvidia

#endif // PRISM_TARGETS_NVIDIA_CPASYNCCOPIES_H
