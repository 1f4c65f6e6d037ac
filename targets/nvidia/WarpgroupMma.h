//===- WarpgroupMma.h - tile.dot as wgmma.mma_async on sm_90a ----*- C++ -*-===//
//
// Hopper's warpgroup MMA: the 128 threads of a warpgroup issue
// wgmma.mma_async m64nNk16 together; A and B are read from shared memory
// by the tensor cores themselves, through 64-bit matrix descriptors, and
// D stays in registers: warp w holds rows 16w .. 16w + 15, each lane the
// same 4 registers per 8 columns as mma.sync's C (so the fragment layout
// of a 64-row tile is the one MmaSyncLowering gives a column of warps). A
// 128-row tile takes two warpgroups (256 threads): warpgroup g multiplies
// A's rows 64 g .. 64 g + 63 by the same B, and its warps hold those rows
// (the column of 8 warps, again mma.sync's layout).
//
// Operands are in shared memory (staged, pinned or published; see
// StageDotOperands.h): A K-major as [M, K] rows; B K-major as [N, K]
// rows (x @ w^T with w [N, K], PyTorch's Linear; attention's Q K^T) or
// MN-major as [K, N] rows (P V in attention; the instruction transposes
// it); each either in core matrices without swizzling (cp.async fills,
// published tiles) or in swizzled rows (TMA fills). K-major without
// swizzling, the descriptor of the K step at k0 starts at core matrix
// k0 / 8 of row group 0; core matrices adjacent in K are 128 bytes apart
// (the leading-dimension byte offset), row groups 16 K bytes apart (the
// stride-dimension byte offset). Swizzled by S bytes, it starts at byte
// 2 k0 of row 0 (in block 2 k0 / S), row groups are 8 S bytes apart, and
// the swizzle mode is in the descriptor: the tensor cores undo the XOR
// that the copies applied. MN-major, the step starts at row k0; core
// matrices (8 K rows x 8 N elements) adjacent in N are 128 bytes apart
// (stride offset), in K a row group apart (leading offset); swizzled, the
// atoms of S / 2 columns are a block apart (leading) and 8 K rows 8 S
// bytes (stride), as in the PTX ISA's canonical layouts.
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_TARGETS_NVIDIA_WARPGROUPMMA_H
#define PRISM_TARGETS_NVIDIA_WARPGROUPMMA_H

#include "targets/gpu/TileToGpu.h"

namespace prism::nvidia {

/// Whether `dot` (operands stored as given) runs as wgmma, one warpgroup
/// per 64 rows: a 64-row f32 tile with 128 threads or a 128-row one with
/// 256, of 8 to 256 columns (a multiple of 8), K a multiple of 16, 16-bit
/// operands with A [M, K] and B either way.
bool fitsWarpgroupMma(tile::DotOp dot, int64_t threads, bool aTransposed,
                      bool bTransposed);

/// The `inFlight` of emitWarpgroupMma that leaves the wait to
/// placeWarpgroupMmaWaits: no wait after the commit, the result's
/// defining op marked with kWaitAtFirstUseAttrName.
inline constexpr int64_t kWaitAtFirstUse = -1;
inline constexpr llvm::StringLiteral kWaitAtFirstUseAttrName = "prism.wgmma_wait_at_first_use";

/// acc + A B through wgmma.mma_async (fence, the K steps, commit, wait
/// until at most `inFlight` groups run): `acc` and the result in the
/// fragment layout described above. With `inFlight` > 0 the result's
/// registers are not to be read before a later wait (as a K loop's
/// accumulator passed to the next step's wgmma); with kWaitAtFirstUse,
/// placeWarpgroupMmaWaits adds that wait.
mlir::Value emitWarpgroupMma(mlir::ConversionPatternRewriter &rewriter,
                             tile::DotOp dot,
                             const gpu_lowering::SharedOperands &operands,
                             mlir::Value acc, int64_t m, int64_t n, int64_t k,
                             int64_t inFlight = 0);

/// acc + A B through wgmma.mma_async with A from registers (the PTX
/// instruction's register-A form, which MLIR's NVVM op does not offer, as
/// inline PTX): `aSteps[s]` are this thread's 4 A registers (32-bit words,
/// 2 elements each) of K step s, in mma.sync's A layout over the 16 rows
/// of its warp; B in shared memory as `operands` says. Its wait is left
/// to placeWarpgroupMmaWaits (kWaitAtFirstUse).
mlir::Value emitWarpgroupMmaWithRegisterA(
    mlir::ConversionPatternRewriter &rewriter, tile::DotOp dot,
    llvm::ArrayRef<llvm::SmallVector<mlir::Value>> aSteps,
    const gpu_lowering::SharedOperands &operands, mlir::Value acc, int64_t n,
    int64_t k);

/// The waits of the wgmmas emitted with kWaitAtFirstUse, once the kernel
/// is lowered: each goes down from its commit to just before the first op
/// of its block that reads the result, or that might write memory or
/// synchronize (anything but pure or reading ops and other wgmma groups),
/// as `wgmma.wait_group N` with N the groups committed in between (every
/// group but the N newest is done: this one is), the result's registers
/// tied through it as in waitForWarpgroupMma, and every later use reading
/// them from the wait. Products whose results are read later thus run
/// while the code between does: attention's P V of one key block during
/// the softmax of the next (FlashAttention 3's overlap within a
/// warpgroup), its Q K^T during the issue of P V. Waits that land before
/// the same op are one wait. A wait moved past vector arithmetic sits in
/// a block of its own (a branch whose both arms wait), which keeps ptxas
/// from scheduling it back up into that arithmetic.
mlir::LogicalResult placeWarpgroupMmaWaits(mlir::gpu::GPUFuncOp kernel);

/// FlashAttention 3's ping-pong in the loops marked with
/// kWarpgroupPingPongAttrName (two consumer warpgroups, once the waits are
/// placed): warpgroup g waits at barrier 2 + g before it issues a step's
/// products and lets the other go (bar.arrive 3 - g) once they are issued,
/// so that one's products run while the other computes on its results;
/// warpgroup 1 lets warpgroup 0 go first, and warpgroup 0 takes the last
/// arrival after the loop, so that every arrival is waited for.
mlir::LogicalResult alternateWarpgroups(mlir::gpu::GPUFuncOp kernel);

/// The inline PTX of a wait that leaves `inFlight` groups running.
std::string warpgroupMmaWaitPtx(int64_t inFlight);

/// wgmma.wait_group 0 with `accumulators` (f32 vectors that wgmmas in
/// flight accumulate into) tied to it as inline PTX operands ("+f"), and
/// those values as the wait gives them back: LLVM does not know that the
/// registers of a wgmma are written until the wait, and would otherwise
/// move their reads (the epilogue's conversions) before it, which ptxas
/// then guards by serializing every wgmma of the kernel.
llvm::SmallVector<mlir::Value> waitForWarpgroupMma(mlir::OpBuilder &b, mlir::Location loc,
                                                   mlir::ValueRange accumulators);

/// `accumulators` (the initial values of a K loop's accumulators) through
/// an empty inline PTX statement that ties them ("+f"), as CUTLASS's
/// warpgroup_fence_operand: values that are not constants are not
/// rematerialized where the loop is skipped, so the accumulators keep one
/// set of registers from here to waitForWarpgroupMma, and no other
/// instruction writes them while a wgmma may be in flight (which ptxas
/// would guard by serializing every wgmma).
llvm::SmallVector<mlir::Value> pinWarpgroupMmaAccumulators(mlir::OpBuilder &b,
                                                           mlir::Location loc,
                                                           mlir::ValueRange accumulators);

/// The inline PTX text of waitForWarpgroupMma (also what the GPU emulator
/// accepts, with any count of groups in flight from 0 to 7).
inline constexpr llvm::StringLiteral kWarpgroupMmaWaitAllPtx = "wgmma.wait_group.sync.aligned 0;";

/// `fence.proxy.async.shared::cta`: this thread's ordinary (generic proxy)
/// writes to shared memory, before the wgmma reads that follow (async
/// proxy); issued before the barrier that publishes them.
void fenceSharedMemoryForAsyncProxy(mlir::OpBuilder &b, mlir::Location loc);

/// The matrix descriptor of an operand starting at byte `address` of
/// shared memory, with the given leading- and stride-dimension byte
/// offsets and swizzle span (0: none).
mlir::Value matrixDescriptor(mlir::OpBuilder &b, mlir::Location loc,
                             mlir::Value address, int64_t leadingBytes,
                             int64_t strideBytes, int64_t swizzleBytes);

} // namespace prism::nvidia

#endif // PRISM_TARGETS_NVIDIA_WARPGROUPMMA_H
