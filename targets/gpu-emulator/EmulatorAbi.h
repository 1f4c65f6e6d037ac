//===- EmulatorAbi.h - What an emulated GPU kernel calls ---------*- C++ -*-===//
//
// The contract between GPU kernels compiled for the CPU
// (prism-emulate-gpu-kernels-on-cpu) and the emulator's runtime, which runs
// every thread of a block as a host thread. A kernel takes one extra
// pointer argument, its thread's context; everything a GPU provides in
// hardware (the thread index, block barriers, warp-wide matrix
// instructions) is read from or called through it, so the compiled kernels
// need no symbols from the process that loads them. Header only: both the
// compiler and the runtime include it, neither links the other.
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_TARGETS_GPU_EMULATOR_EMULATORABI_H
#define PRISM_TARGETS_GPU_EMULATOR_EMULATORABI_H

#include <cstdint>

namespace prism::gpu_emulator {

struct ThreadContext;

/// A block barrier: `id` 0 to 15 (gpu.barrier is 0), for `threads`
/// threads (0: every thread of the block; a named barrier of a warp
/// specialized kernel counts the threads that use it), which the thread
/// waits at (bar.sync) or, with `arriveOnly`, only counts itself in and
/// goes on (bar.arrive). `site` numbers the barrier in its kernel, so that
/// threads waiting at different barriers are reported.
using BarrierFunction = void (*)(ThreadContext *self, int64_t site, int64_t id,
                                 int64_t threads, int64_t arriveOnly);

/// A warp-wide matrix instruction. `fragments` holds this lane's operand
/// registers, in the order the instruction lists them, followed by room
/// for its result registers (see MatrixInstruction).
using MatrixFunction = void (*)(ThreadContext *self, void *fragments,
                                int64_t instruction);

/// An asynchronous copy operation (cp.async) of this thread: a copy of
/// `bytes` bytes from `global` to `shared` (bytes from `sourceBytes` on are
/// zeros, not read) into the open group; closing the open group (commit);
/// or waiting until at most `bytes` committed groups are in flight (wait).
/// The emulator lands a group's copies only when a wait requires it, the
/// latest moment the PTX ISA allows, so a read that does not wait reads
/// what was there before.
using AsyncCopyFunction = void (*)(ThreadContext *self, int64_t operation,
                                   void *shared, const void *global,
                                   int64_t bytes, int64_t sourceBytes);

enum AsyncCopyOperation : int64_t {
  kAsyncCopy = 0,
  kAsyncCommit = 1,
  kAsyncWait = 2,
};

/// A tensor copy or mbarrier operation (NVIDIA's TMA) of this thread, on
/// the mbarrier at shared address `barrier`: init (with `value` arrivals),
/// inval, arrive expecting `value` more bytes, a copy of a box at
/// `coordinates` (innermost first, up to 5) of the tensor that the map at
/// `map` describes to `shared`, a wait for the phase of parity `value`, or
/// a plain arrival (mbarrier.arrive, one of the phase's expected ones); or
/// (no barrier) this thread's acquire of the map at `map`
/// (fence.proxy.tensormap::generic.acquire), without which its copies
/// through the map, written by the host before the launch, are reported.
/// The emulator lands a phase's copies when a wait needs them, so a read
/// that does not wait reads what was there before.
using TensorCopyFunction = void (*)(ThreadContext *self, int64_t operation,
                                    int64_t barrier, int64_t shared, int64_t map,
                                    int64_t value, int64_t c0, int64_t c1, int64_t c2,
                                    int64_t c3, int64_t c4);

enum TensorCopyOperation : int64_t {
  kBarrierInit = 0,
  kBarrierInval = 1,
  kBarrierArriveExpectBytes = 2,
  kTensorCopy = 3,
  kBarrierWait = 4,
  kBarrierArrive = 5,
  kMapAcquire = 6,
};

/// The head of every thread's context; the runtime's own state follows.
struct ThreadContext {
  int64_t threadId;
  BarrierFunction barrier;
  MatrixFunction matrix;
  AsyncCopyFunction asyncCopy;
  TensorCopyFunction tensorCopy;
};

constexpr int64_t kThreadIdOffset = 0;
constexpr int64_t kBarrierOffset = 8;
constexpr int64_t kMatrixOffset = 16;
constexpr int64_t kAsyncCopyOffset = 24;
constexpr int64_t kTensorCopyOffset = 32;

/// The matrix instructions the emulator knows, and their fragments (32-bit
/// words):
/// - NVIDIA mma.sync.aligned.m16n8k16.row.col.f32.{bf16,f16}: A in 4 words
///   (2 elements each), B in 2, C in 4 f32, then D in 4 f32;
/// - NVIDIA ldmatrix.sync.aligned.m8n8.x{1,2,4}[.trans].b16: this lane's
///   row address (a host pointer, 2 words), then the loaded registers;
/// - AMD MFMA 16x16x16 {bf16,f16} -> f32 (waves of 64): A in 2 words (4
///   elements), B in 2, C in 4 f32, then D in 4 f32;
/// - AMD WMMA 16x16x16 {bf16,f16} -> f32 (waves of 32): A in 8 words (16
///   elements), B in 8, C in 8 f32, then D in 8 f32;
/// - NVIDIA wgmma.mma_async m64nNk16 {bf16,f16} -> f32 for the 128 lanes
///   of a warpgroup, A K-major and B K-major or MN-major (transposed) in
///   shared memory (no swizzle, or swizzled by 32, 64 or 128 bytes):
///   the two 64-bit matrix descriptors (4 words), D in N / 2 f32, then
///   the new D in N / 2 f32;
/// - the same with A from registers (the register-A form, inline PTX):
///   this lane's 4 A registers (mma.sync's A layout over its warp's 16
///   rows), B's descriptor (2 words), D in N / 2 f32, then the new D;
/// - NVIDIA shfl.sync.bfly.b32 over a whole warp (gpu.shuffle xor, width
///   32): this lane's 32-bit value, then the value of lane (lane XOR
///   offset);
/// - NVIDIA wgmma.commit_group and wgmma.wait_group N of this lane (no
///   fragments, no meeting): the emulated wgmma completes when the
///   warpgroup issues it, but the shared memory it read counts as in use
///   until every lane's wait_group has retired its group, and a copy
///   issued into it before then (a slot refilled too early) is reported;
/// - a vector access (vector.load / vector.store with an alignment: a
///   16-byte ld.v4 / st.v4 and the like) about to be made by this lane
///   (no meeting): its address (2 words); the emulator reports one that
///   is not a multiple of the alignment, where a GPU faults with a
///   misaligned address (a CPU would not notice);
/// - NVIDIA bar.warp.sync with every lane (no fragments): the warp's 32
///   lanes meet.
enum MatrixInstruction : int64_t {
  kMmaM16N8K16Bf16 = 0,
  kMmaM16N8K16F16 = 1,
  kMfma16x16x16Bf16 = 2,
  kMfma16x16x16F16 = 3,
  kWmma16x16x16Bf16 = 4,
  kWmma16x16x16F16 = 5,
  /// + 2 * (matrices - 1) + (transposed ? 1 : 0), matrices 1, 2 or 4.
  kLdmatrix = 16,
  /// + the lane offset, 1 to 31.
  kShuffleXor = 32,
  /// + 2 * (N / 8 - 1) + (f16 ? 1 : 0), N 8 to 256; B K-major.
  kWgmma = 64,
  /// The same with B MN-major.
  kWgmmaTransposedB = 128,
  /// The same two with A from registers.
  kWgmmaRegisterA = 192,
  kWgmmaRegisterATransposedB = 256,
  kWgmmaCommitGroup = 320,
  /// + N, the groups left in flight (0 to 7).
  kWgmmaWaitGroup = 328,
  /// + log2 of the alignment in bytes (0 to 4).
  kVectorAccess = 336,
  kWarpSync = 344,
};

constexpr int64_t kMmaM16N8K16Words = 4 + 2 + 4 + 4;
constexpr int64_t kMfmaWords = 2 + 2 + 4 + 4;
constexpr int64_t kWmmaWords = 8 + 8 + 8 + 8;
constexpr int64_t kWgmmaMaxN = 256;
constexpr int64_t kWgmmaWords = 6 + kWgmmaMaxN / 2 + kWgmmaMaxN / 2;
/// Words of the fragment buffer: the largest instruction's.
constexpr int64_t kFragmentWords = kWgmmaWords;

constexpr int64_t ldmatrixInstruction(int64_t matrices, bool transposed) {
  return kLdmatrix + 2 * (matrices - 1) + (transposed ? 1 : 0);
}

constexpr int64_t shuffleXorInstruction(int64_t offset) { return kShuffleXor + offset; }

constexpr bool isShuffleXor(int64_t instruction) {
  return instruction > kShuffleXor && instruction < kShuffleXor + 32;
}

constexpr int64_t wgmmaInstruction(int64_t n, bool f16, bool bMnMajor,
                                   bool registerA = false) {
  int64_t base = registerA ? (bMnMajor ? kWgmmaRegisterATransposedB : kWgmmaRegisterA)
                           : (bMnMajor ? kWgmmaTransposedB : kWgmma);
  return base + 2 * (n / 8 - 1) + (f16 ? 1 : 0);
}

} // namespace prism::gpu_emulator

#endif // PRISM_TARGETS_GPU_EMULATOR_EMULATORABI_H
