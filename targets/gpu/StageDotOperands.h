//===- StageDotOperands.h - Multi-stage operand pipelines for K loops -*- C++ -*-===//
//
// A K loop whose dots read tiles loaded in the loop (a matmul's A and B)
// otherwise loads them into registers at every step and publishes them to
// shared memory between two barriers before the dot can read them. Staged
// instead, each operand has `stages` slots in shared memory that the
// vendor's asynchronous copies (cp.async) fill straight from global memory,
// `stages - 1` iterations ahead:
//
//   barrier; fill slots 0 .. S-2 (iterations 0 .. S-2), a group each
//   for i:  wait until the group of iteration i landed; barrier
//           fill slot (i + S - 1) % S (iteration i + S - 1), commit
//           dots read slot i % S
//   wait for all groups
//
// One barrier per K step; the copies of the next S - 1 steps are in flight
// while the tensor cores work. Slot rows are padded by 16 bytes, so that
// the 8 row addresses of an ldmatrix fall in different bank groups; or the
// slots hold core matrices, when the matrix cores read shared memory
// themselves (MatrixCoreLowering::stagedLayout: wgmma). A copy
// moves 16 bytes (8 elements of a row); copies past the buffer's bounds are
// zero-filled without reading, and a buffer that is not 16-byte aligned
// (its base, offset, row stride or the tile's first column) is filled by
// ordinary loads and stores instead, so every layout stays correct.
//
// With a tensor-copy engine (NVIDIA's TMA on sm_90a), a loop whose dots the
// matrix cores read from shared memory themselves, with every staged tile
// a box of a kernel argument, is filled by tensor copies instead: thread 0
// arrives on the slot's mbarrier expecting the stage's bytes and copies
// each tile in one instruction (swizzled rows, SharedLayout::SwizzledRows);
// every thread waits on the barrier's phase before the step's barrier. The
// host builds the tensor maps (kTensorMapBytes); where it cannot (an
// unaligned buffer), the kernel fills the same swizzled slots by cp.async
// or loads and stores, chosen at run time by the same test.
//
// Warp-specialized (PipelineChoices::warpSpecialize, tensor copies only):
// one more warp, the producer, issues every tensor copy into a slot its
// consumers (the layout's threads) released on the stage's second
// mbarrier, so that the consumers' K loop has no block barrier; see
// LoopStaging::specializeLoop.
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_TARGETS_GPU_STAGEDOTOPERANDS_H
#define PRISM_TARGETS_GPU_STAGEDOTOPERANDS_H

#include "targets/gpu/TileToGpu.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"

#include <optional>

namespace prism::gpu_lowering {

/// Marks the cast that gives a dot a staged operand: `%x =
/// builtin.unrealized_conversion_cast %slot : memref<...> to tensor<...>`
/// with {row_length, transposed} under this name.
constexpr llvm::StringLiteral kStagedOperandAttrName = "prism.staged_operand";

/// On the scf.if that splits a warp-specialized kernel: the consumers'
/// threads (those below it run its then region; the producer warp its
/// else region).
constexpr llvm::StringLiteral kConsumerThreadsAttrName = "prism.consumer_threads";

/// A dot operand read from its slot in shared memory.
struct StagedOperand {
  mlir::Value view;
  int64_t rowLength;
  bool transposed;
  SharedLayout layout;
  int64_t swizzleBytes; // SharedLayout::SwizzledRows
};

/// The slot of a staged dot operand, or nothing for other operands.
std::optional<StagedOperand> stagedOperand(mlir::Value operand);

struct Staging {
  /// Bytes of shared memory the slots need (from offset 0 of the workspace).
  int64_t bytes = 0;
  /// Depth of the deepest pipeline (1: none).
  int64_t stages = 1;
  /// The tensor maps the kernel takes ({argument, box, swizzle_bytes}, see
  /// kTensorMapBytes); empty without tensor copies.
  llvm::SmallVector<mlir::Attribute> tensorMaps;
  /// Threads the block has besides the layout's (a warp-specialized loop's
  /// producer warp), after them.
  int64_t producerThreads = 0;
};

/// Stages the operands of the K loops of `kernel` that qualify: every dot
/// of the loop body has its accumulator in fragments, runs on matrix cores
/// and reads tiles of 16-bit elements loaded in the loop (directly or
/// through a transpose) from rank-2 buffers with unit innermost stride,
/// and nothing else in the loop exchanges through shared memory or writes
/// memory. A loop gets as many stages as `copies` asks for and
/// `sharedMemoryLimit` holds, and none below two. With `tensorCopies`, the
/// loops that qualify (see above) use them, and the kernel gets its tensor
/// maps argument.
///
/// The kernel's own choices (tile.pipeline_stages, tile.dots_in_flight on
/// the tile kernel, from prism-kernelize's options) replace the target's:
/// `stages` (0: the copies' stages, one more for dots left in flight) and
/// `dotsInFlight` (-1: whenever the loop allows it and the extra stage
/// fits; 0: never; 1: whenever the loop allows it, within `stages`), and
/// `warpSpecialize` (tile.warp_specialize; 1: the first loop that can be,
/// LoopStaging::canSpecializeWarps, is; 2: and its two consumer
/// warpgroups take turns at the matrix cores, kWarpgroupPingPongAttrName).
struct PipelineChoices {
  int64_t stages = 0;
  int64_t dotsInFlight = -1;
  int64_t warpSpecialize = 0;
};
Staging stageDotOperands(mlir::gpu::GPUFuncOp kernel, const Layout &layout,
                         const MatrixCoreLowering &matrixCores,
                         const AsyncCopyLowering &copies,
                         const TensorCopyLowering *tensorCopies,
                         int64_t sharedMemoryLimit, PipelineChoices choices = {});

/// After the conversion of a kernel whose loop was warp-specialized: the
/// barriers of its consumers (block barriers in the region of the
/// kConsumerThreadsAttrName split, including the exchanges the conversion
/// made) become barrier 1 of the consumers' threads, which the producer
/// warp does not reach.
void finishWarpSpecialization(mlir::gpu::GPUFuncOp kernel,
                              const TensorCopyLowering &tensorCopies);

} // namespace prism::gpu_lowering

#endif // PRISM_TARGETS_GPU_STAGEDOTOPERANDS_H
