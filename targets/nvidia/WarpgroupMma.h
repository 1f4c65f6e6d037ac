//===- WarpgroupMma.h - tile.dot as wgmma.mma_async on sm_90a ----*- C++ -*-===//
//
// Hopper's warpgroup MMA: the 128 threads of a block (one warpgroup) issue
// wgmma.mma_async m64nNk16 together; A and B are read from shared memory
// by the tensor cores themselves, through 64-bit matrix descriptors, and
// D stays in registers: warp w holds rows 16w .. 16w + 15, each lane the
// same 4 registers per 8 columns as mma.sync's C (so the fragment layout
// of a 64-row tile is the one MmaSyncLowering gives a column of warps).
//
// Operands must be staged (StageDotOperands.h) in core matrices without
// swizzling, both K-major: A as [64, K] rows, B as [N, K] rows (a
// transposed B: x @ w^T with w [N, K], PyTorch's Linear). The descriptor
// of the K step at k0 starts at core matrix k0 / 8 of row group 0; core
// matrices adjacent in K are 128 bytes apart (the leading-dimension byte
// offset), row groups 16 K bytes apart (the stride-dimension byte offset).
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_TARGETS_NVIDIA_WARPGROUPMMA_H
#define PRISM_TARGETS_NVIDIA_WARPGROUPMMA_H

#include "targets/gpu/TileToGpu.h"

namespace prism::nvidia {

/// Whether `dot` (operands stored as given) runs as one warpgroup's wgmma:
/// 128 threads, a 64-row f32 tile of 8 to 256 columns (a multiple of 8),
/// K a multiple of 16, 16-bit operands with A [M, K] and B [N, K].
bool fitsWarpgroupMma(tile::DotOp dot, int64_t threads, bool aTransposed,
                      bool bTransposed);

/// acc + A B through wgmma.mma_async (fence, the K steps, commit, wait):
/// `acc` and the result in the fragment layout described above.
mlir::Value emitWarpgroupMma(mlir::ConversionPatternRewriter &rewriter,
                             tile::DotOp dot,
                             const gpu_lowering::SharedOperands &operands,
                             mlir::Value acc, int64_t m, int64_t n, int64_t k);

/// The matrix descriptor (no swizzling) of a K-major operand in core
/// matrices starting at byte `address` of shared memory, with rows of
/// `rowLength` 16-bit elements.
mlir::Value matrixDescriptor(mlir::OpBuilder &b, mlir::Location loc,
                             mlir::Value address, int64_t rowLength);

} // namespace prism::nvidia

#endif // PRISM_TARGETS_NVIDIA_WARPGROUPMMA_H
