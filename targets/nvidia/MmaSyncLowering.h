//===- MmaSyncLowering.h - tile.dot on NVIDIA tensor cores ------*- C++ -*-===//
//
// bf16/f16 dots into f32 in whole m16n8k16 tiles run on tensor cores
// (mma.sync, sm_80 and later): each warp takes C tiles round-robin and
// accumulates them from fragments read out of the published operands; the
// C tiles return to the element-wise layout through shared memory, unless
// the accumulator stays in fragments across its K loop (then each thread
// holds, for each of its tiles, the 4 C registers of mma.sync).
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_TARGETS_NVIDIA_MMASYNCLOWERING_H
#define PRISM_TARGETS_NVIDIA_MMASYNCLOWERING_H

#include "targets/gpu/TileToGpu.h"

namespace prism::nvidia {

class MmaSyncLowering : public gpu_lowering::MatrixCoreLowering {
public:
  /// With `warpgroupMma` (sm_90a), dots that fit wgmma (WarpgroupMma.h)
  /// with an operand in a slot get their slots (and a published operand)
  /// in core matrices and run as wgmma.mma_async; their result returns to
  /// the element-wise layout through shared memory unless the accumulator
  /// stays in fragments. A kernel with 128-row dots then gets 256 threads,
  /// two warpgroups (threadsFor).
  explicit MmaSyncLowering(bool warpgroupMma = false) : warpgroupMma(warpgroupMma) {}
  bool supports(tile::DotOp dot) const override;
  int64_t threadsFor(tile::DotOp dot, int64_t threads) const override;
  bool leavesDotsInFlight() const override { return warpgroupMma; }
  llvm::SmallVector<mlir::Value> waitForMatrixCores(mlir::OpBuilder &b, mlir::Location loc,
                                                    mlir::ValueRange results) const override;
  llvm::SmallVector<mlir::Value>
  pinAccumulatorsInFlight(mlir::OpBuilder &b, mlir::Location loc,
                          mlir::ValueRange inits) const override;
  mlir::LogicalResult finishKernel(mlir::gpu::GPUFuncOp kernel) const override;
  void addLegalDialects(mlir::ConversionTarget &target) const override;
  mlir::Value emit(mlir::ConversionPatternRewriter &rewriter, tile::DotOp dot,
                   const gpu_lowering::Layout &layout,
                   const gpu_lowering::SharedOperands &operands, mlir::Value acc,
                   int64_t m, int64_t n, int64_t k,
                   int64_t resultOffset) const override;
  bool keepsAccumulatorInFragments(tile::DotOp dot,
                                   const gpu_lowering::Layout &layout) const override;
  mlir::Value emitOnFragments(mlir::ConversionPatternRewriter &rewriter,
                              tile::DotOp dot, const gpu_lowering::Layout &layout,
                              const gpu_lowering::SharedOperands &operands,
                              mlir::Value acc, int64_t m, int64_t n,
                              int64_t k) const override;
  bool takesOperandAInFragments(tile::DotOp dot, const gpu_lowering::Layout &layout,
                                gpu_lowering::SharedLayout bLayout,
                                bool bTransposed) const override;
  mlir::Value emitOnFragmentsWithOperandAInFragments(
      mlir::ConversionPatternRewriter &rewriter, tile::DotOp dot,
      const gpu_lowering::Layout &layout, mlir::Value a,
      const gpu_lowering::SharedOperands &operands, mlir::Value acc, int64_t m,
      int64_t n, int64_t k) const override;
  mlir::Value fragmentPositions(mlir::OpBuilder &b, mlir::Location loc,
                                const gpu_lowering::Layout &layout, int64_t m,
                                int64_t n) const override;
  void fenceWritesForMatrixCores(mlir::OpBuilder &b, mlir::Location loc) const override;
  bool fragmentLayoutFits(int64_t m, int64_t n,
                          const gpu_lowering::Layout &layout) const override;
  std::optional<gpu_lowering::FragmentRows>
  fragmentRows(int64_t m, const gpu_lowering::Layout &layout) const override;
  int64_t fragmentRowSlot(int64_t element, int64_t m, int64_t n) const override;
  mlir::Value fragmentRowIndices(mlir::OpBuilder &b, mlir::Location loc,
                                 const gpu_lowering::Layout &layout,
                                 int64_t m) const override;
  gpu_lowering::SharedLayout stagedLayout(tile::DotOp dot,
                                          const gpu_lowering::Layout &layout,
                                          bool aTransposed,
                                          bool bTransposed) const override;

private:
  bool warpgroupMma;
};

} // namespace prism::nvidia

#endif // PRISM_TARGETS_NVIDIA_MMASYNCLOWERING_H
