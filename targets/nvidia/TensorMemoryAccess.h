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
  /// mbarrier.arrive (release, CTA scope).
  void arrive(mlir::OpBuilder &b, mlir::Location loc, mlir::Value barrier) const override;
  /// bar.warp.sync of every lane.
  void syncWarp(mlir::OpBuilder &b, mlir::Location loc) const override;
  /// bar.sync id, threads (a named barrier).
  void syncThreads(mlir::OpBuilder &b, mlir::Location loc, int64_t id,
                   int64_t threads) const override;
  /// setmaxnreg.inc / .dec.sync.aligned.u32.
  void setRegisters(mlir::OpBuilder &b, mlir::Location loc, int64_t count,
                    bool increase) const override;
  /// 64K on sm_90a.
  int64_t registersPerMultiprocessor() const override { return 65536; }
};

} // namespace prism::nvidia

#endif // PRISM_TARGETS_NVIDIA_TENSORMEMORYACCESS_H
