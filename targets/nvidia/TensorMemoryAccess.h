//===- TensorMemoryAccess.h - TMA copies and mbarriers on sm_90a -*- C++ -*-===//
//
// Hopper's tensor memory accelerator for the staged dot operands of K loops
// (targets/gpu/StageDotOperands.h): cp.async.bulk.tensor copies a whole
// tile of a global tensor, described by a tensor map the host built with
// cuTensorMapEncodeTiled (in global memory, one kTensorMapBytes entry per
// map), into shared memory in a swizzled layout, and completes on an
// mbarrier whose phase waits for the copied bytes (mbarrier.init,
// mbarrier.arrive.expect_tx, mbarrier.try_wait.parity, mbarrier.inval).
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_TARGETS_NVIDIA_TENSORMEMORYACCESS_H
#define PRISM_TARGETS_NVIDIA_TENSORMEMORYACCESS_H

#include "targets/gpu/TileToGpu.h"

namespace prism::nvidia {

class TensorMemoryAccess : public gpu_lowering::TensorCopyLowering {
public:
  void initBarrier(mlir::OpBuilder &b, mlir::Location loc, mlir::Value barrier,
                   int64_t arrivals) const override;
  void invalidateBarrier(mlir::OpBuilder &b, mlir::Location loc,
                         mlir::Value barrier) const override;
  void arriveExpectingBytes(mlir::OpBuilder &b, mlir::Location loc, mlir::Value barrier,
                            int64_t bytes) const override;
  void copyBox(mlir::OpBuilder &b, mlir::Location loc, mlir::Value shared, mlir::Value map,
               mlir::ArrayRef<mlir::Value> coordinates, mlir::Value barrier) const override;
  void waitBarrier(mlir::OpBuilder &b, mlir::Location loc, mlir::Value barrier,
                   mlir::Value parity) const override;
  /// fence.proxy.async.shared::cta: ordinary shared-memory accesses (and
  /// mbarrier.init) before the copies of the async proxy.
  void fenceBeforeCopies(mlir::OpBuilder &b, mlir::Location loc) const override;
  /// fence.proxy.tensormap::generic.acquire.sys on the map's 128 bytes: the
  /// CUDA programming guide's condition for a tensor map that the host
  /// copied to global memory (the buffer may have held another map).
  void acquireMap(mlir::OpBuilder &b, mlir::Location loc, mlir::Value map) const override;
};

} // namespace prism::nvidia

#endif // PRISM_TARGETS_NVIDIA_TENSORMEMORYACCESS_H
