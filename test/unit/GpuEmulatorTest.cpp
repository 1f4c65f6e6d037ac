//===- GpuEmulatorTest.cpp - The GPU emulator's runtime -------------------===//
//
// Kernels written here in C++ against the emulator's ABI (what
// prism-emulate-gpu-kernels-on-cpu makes of a gpu.func): the arguments are
// the expanded buffers, then the shared-memory workspace, then a pointer
// to the thread's context. They check what the compiled kernels rely on
// (barriers order shared memory, shared memory starts as NaN, the mma.sync
// fragment layout of the PTX ISA) and that broken kernels are reported
// instead of hanging.
//
//===----------------------------------------------------------------------===//

#include "targets/gpu-emulator/EmulatorAbi.h"
#include "targets/gpu-emulator/runtime/GpuEmulator.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

using namespace prism::runtime;
using prism::gpu_emulator::ThreadContext;

namespace {

/// Arguments of a kernel with one 1-D buffer: buffer (5 slots), workspace
/// (5 slots), context.
struct OneBuffer {
  float *data;
  uint8_t *workspace;
  ThreadContext *context;
};

OneBuffer unpack(void **args) {
  OneBuffer view;
  std::memcpy(&view.data, args[1], sizeof(void *));
  std::memcpy(&view.workspace, args[6], sizeof(void *));
  std::memcpy(&view.context, args[10], sizeof(void *));
  return view;
}

// Each thread writes its id to shared memory, waits, and reads its
// neighbour's: the barrier orders them.
void neighbourKernel(void **args, int64_t pid, int64_t, int64_t, int64_t, int64_t,
                     int64_t) {
  OneBuffer k = unpack(args);
  int64_t t = k.context->threadId;
  auto *shared = reinterpret_cast<float *>(k.workspace);
  shared[t] = static_cast<float>(t + 1000 * pid);
  k.context->barrier(k.context, 0, 0, 0, 0);
  k.data[pid * 128 + t] = shared[(t + 1) % 128];
}

TEST(GpuEmulator, BarriersOrderSharedMemory) {
  std::vector<float> out(3 * 128, -1.0f);
  std::vector<StridedBuffer> buffers = {StridedBuffer::contiguous(out.data(), {3 * 128})};
  std::string error;
  ASSERT_TRUE(emulateKernel(neighbourKernel, buffers, {3, 1, 1}, 128, 512, error)) << error;
  for (int64_t pid = 0; pid < 3; ++pid)
    for (int64_t t = 0; t < 128; ++t)
      ASSERT_EQ(out[pid * 128 + t], static_cast<float>((t + 1) % 128 + 1000 * pid));
}

// Shared memory a block never wrote reads as NaN, in every block (the
// second block must not see the first one's values).
void uninitializedKernel(void **args, int64_t pid, int64_t, int64_t, int64_t,
                         int64_t, int64_t) {
  OneBuffer k = unpack(args);
  auto *shared = reinterpret_cast<float *>(k.workspace);
  int64_t t = k.context->threadId;
  k.data[pid * 32 + t] = shared[t];
  k.context->barrier(k.context, 0, 0, 0, 0);
  shared[t] = 1.0f;
}

TEST(GpuEmulator, SharedMemoryStartsAsNaN) {
  std::vector<float> out(64, 0.0f);
  std::vector<StridedBuffer> buffers = {StridedBuffer::contiguous(out.data(), {64})};
  std::string error;
  ASSERT_TRUE(emulateKernel(uninitializedKernel, buffers, {2, 1, 1}, 32, 128, error)) << error;
  for (float v : out)
    EXPECT_TRUE(std::isnan(v));
}

// Half of block 1 returns before a barrier the other half waits at.
void divergentKernel(void **args, int64_t pid, int64_t, int64_t, int64_t, int64_t,
                     int64_t) {
  OneBuffer k = unpack(args);
  if (pid == 1 && k.context->threadId >= 64)
    return;
  k.context->barrier(k.context, 0, 0, 0, 0);
}

TEST(GpuEmulator, DivergentBarrierIsReportedNotHung) {
  std::vector<float> out(1);
  std::vector<StridedBuffer> buffers = {StridedBuffer::contiguous(out.data(), {1})};
  std::string error;
  EXPECT_FALSE(emulateKernel(divergentKernel, buffers, {2, 1, 1}, 128, 16, error));
  EXPECT_EQ(error, "block (1, 0, 0): deadlock: 64 of 128 threads wait at barrier "
                   "#0, 64 returned")
      << error;
}

void mismatchedKernel(void **args, int64_t, int64_t, int64_t, int64_t, int64_t,
                      int64_t) {
  OneBuffer k = unpack(args);
  k.context->barrier(k.context, k.context->threadId % 2, 0, 0, 0);
}

TEST(GpuEmulator, DifferentBarriersAreReported) {
  std::vector<float> out(1);
  std::vector<StridedBuffer> buffers = {StridedBuffer::contiguous(out.data(), {1})};
  std::string error;
  EXPECT_FALSE(emulateKernel(mismatchedKernel, buffers, {1, 1, 1}, 64, 16, error));
  EXPECT_NE(error.find("threads meet at different barriers"), std::string::npos) << error;
}

// Warp specialization's named barrier: the first 128 threads meet at
// barrier 1 (bar.sync 1, 128) while the last warp returns at once.
void namedBarrierKernel(void **args, int64_t, int64_t, int64_t, int64_t, int64_t,
                        int64_t) {
  OneBuffer k = unpack(args);
  int64_t t = k.context->threadId;
  if (t >= 128)
    return;
  auto *shared = reinterpret_cast<float *>(k.workspace);
  shared[t] = static_cast<float>(t);
  k.context->barrier(k.context, 0, 1, 128, 0);
  k.data[t] = shared[(t + 1) % 128];
}

TEST(GpuEmulator, NamedBarriersCountTheirThreadsOnly) {
  std::vector<float> out(128, -1.0f);
  std::vector<StridedBuffer> buffers = {StridedBuffer::contiguous(out.data(), {128})};
  std::string error;
  ASSERT_TRUE(emulateKernel(namedBarrierKernel, buffers, {2, 1, 1}, 160, 512, error)) << error;
  for (int64_t t = 0; t < 128; ++t)
    EXPECT_EQ(out[t], static_cast<float>((t + 1) % 128)) << t;
}

// Two warps meet at barrier 1, one counting 64 threads, the other 96.
void namedBarrierCountsDifferKernel(void **args, int64_t, int64_t, int64_t, int64_t,
                                    int64_t, int64_t) {
  OneBuffer k = unpack(args);
  k.context->barrier(k.context, 3, 1, k.context->threadId < 32 ? 64 : 96, 0);
}

TEST(GpuEmulator, NamedBarriersOfDifferentCountsAreReported) {
  std::vector<float> out(1);
  std::vector<StridedBuffer> buffers = {StridedBuffer::contiguous(out.data(), {1})};
  std::string error;
  EXPECT_FALSE(
      emulateKernel(namedBarrierCountsDifferKernel, buffers, {1, 1, 1}, 96, 16, error));
  EXPECT_NE(error.find("threads meet at different barriers (#3 and #3, named barrier 1)"),
            std::string::npos)
      << error;
}

// FlashAttention 3's ping-pong on named barriers: warpgroup 1 lets
// warpgroup 0 go first (bar.arrive 2); each waits at its own barrier,
// writes its turn into a log and lets the other go. data[0] = 1: warpgroup
// 1 also arrives once more at the end, which nothing waits for.
void pingPongKernel(void **args, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t) {
  OneBuffer k = unpack(args);
  int64_t t = k.context->threadId, g = t / 128;
  auto *next = reinterpret_cast<int32_t *>(k.workspace);
  if (t == 0)
    *next = 0;
  k.context->barrier(k.context, 0, 0, 0, 0);
  if (g == 1)
    k.context->barrier(k.context, 1, 2, 256, 1);
  for (int64_t step = 0; step < 3; ++step) {
    k.context->barrier(k.context, 2 + g, 2 + g, 256, 0);
    if (t % 128 == 0)
      k.data[1 + (*next)++] = static_cast<float>(10 * step + g);
    k.context->barrier(k.context, 4 + g, 3 - g, 256, 1);
  }
  if (g == 0)
    k.context->barrier(k.context, 6, 2, 256, 0);
  if (g == 1 && k.data[0] == 1.0f)
    k.context->barrier(k.context, 7, 2, 256, 1);
}

TEST(GpuEmulator, NamedBarrierArrivalsAlternateWarpgroups) {
  std::vector<float> out(7, -1.0f);
  out[0] = 0.0f;
  std::vector<StridedBuffer> buffers = {StridedBuffer::contiguous(out.data(), {7})};
  std::string error;
  ASSERT_TRUE(emulateKernel(pingPongKernel, buffers, {1, 1, 1}, 256, 64, error)) << error;
  std::vector<float> turns(out.begin() + 1, out.end());
  EXPECT_EQ(turns, (std::vector<float>{0, 1, 10, 11, 20, 21}));
  out[0] = 1.0f;
  EXPECT_FALSE(emulateKernel(pingPongKernel, buffers, {1, 1, 1}, 256, 64, error));
  EXPECT_EQ(error, "block (0, 0, 0): the block returned with 128 of 256 arrivals at barrier "
                   "2 that no thread waited for")
      << error;
}

/// A tensor-copy operation on the barrier at byte `offset` of the
/// workspace (no copy, map or coordinates).
void onBarrier(const OneBuffer &k, int64_t operation, int64_t offset, int64_t value) {
  k.context->tensorCopy(k.context, operation,
                        static_cast<int64_t>(reinterpret_cast<uintptr_t>(k.workspace + offset)),
                        0, 0, value, 0, 0, 0, 0, 0);
}

// A warp-specialized pipeline of 2 slots over 8 iterations, with plain
// mbarrier arrivals: the producer (thread 32) waits until a slot is empty
// (phase i / 2 - 1 of its empty barrier; the phase before the first for
// i < 2), writes i into it and arrives on its full barrier; the consumer
// warp waits for the full barrier's phase i / 2, reads the slot, meets at
// a warp barrier and lane 0 releases the slot. data[0] = 1: the producer
// skips its waits, so the full barriers run phases ahead of the
// consumers, who wait for a phase that has passed: reported, not hung.
void handshakeKernel(void **args, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t) {
  OneBuffer k = unpack(args);
  using namespace prism::gpu_emulator;
  int64_t t = k.context->threadId;
  auto *slots = reinterpret_cast<float *>(k.workspace + 64);
  auto full = [](int64_t s) { return 8 * s; };
  auto empty = [](int64_t s) { return 16 + 8 * s; };
  bool overrun = k.data[0] == 1.0f;
  if (t == 0)
    for (int64_t s = 0; s < 2; ++s) {
      onBarrier(k, kBarrierInit, full(s), 1);
      onBarrier(k, kBarrierInit, empty(s), 1);
    }
  k.context->barrier(k.context, 0, 0, 0, 0);
  if (t == 32) {
    for (int64_t i = 0; i < 8; ++i) {
      if (!overrun)
        onBarrier(k, kBarrierWait, empty(i % 2), (i / 2 + 1) % 2);
      slots[i % 2] = static_cast<float>(i);
      onBarrier(k, kBarrierArrive, full(i % 2), 0);
    }
  } else if (t < 32) {
    for (int64_t i = 0; i < 8; ++i) {
      onBarrier(k, kBarrierWait, full(i % 2), (i / 2) % 2);
      float value = slots[i % 2];
      uint32_t none[1] = {};
      k.context->matrix(k.context, none, kWarpSync);
      if (t == 0) {
        k.data[1 + i] = value;
        onBarrier(k, kBarrierArrive, empty(i % 2), 0);
      }
    }
  }
}

TEST(GpuEmulator, PlainArrivalsHandSlotsBetweenProducerAndConsumers) {
  std::vector<float> out(9, -1.0f);
  out[0] = 0.0f;
  std::vector<StridedBuffer> buffers = {StridedBuffer::contiguous(out.data(), {9})};
  std::string error;
  ASSERT_TRUE(emulateKernel(handshakeKernel, buffers, {1, 1, 1}, 64, 128, error)) << error;
  for (int64_t i = 0; i < 8; ++i)
    EXPECT_EQ(out[1 + i], static_cast<float>(i)) << i;
  out[0] = 1.0f;
  EXPECT_FALSE(emulateKernel(handshakeKernel, buffers, {1, 1, 1}, 64, 128, error));
  EXPECT_NE(error.find("threads wait on mbarriers whose phase never completes"),
            std::string::npos)
      << error;
}

uint32_t bf16Bits(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  return bits >> 16; // the test's values are exact in bf16
}

/// Element (i, j) of the test's A (16x16), B (16x8) and C (16x8): small
/// integers, exact in bf16 and in the f32 sums.
float aAt(int64_t i, int64_t j) { return static_cast<float>((i * 3 + j * 5) % 7 - 3); }
float bAt(int64_t i, int64_t j) { return static_cast<float>((i * 2 + j * 7) % 5 - 2); }
float cAt(int64_t i, int64_t j) { return static_cast<float>(i - j); }

// One warp: each lane packs its registers in the PTX ISA's m16n8k16 layout
// and stores its part of D at (row, column).
void mmaKernel(void **args, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t) {
  OneBuffer k = unpack(args);
  int64_t lane = k.context->threadId, g = lane / 4, q = lane % 4;
  uint32_t words[prism::gpu_emulator::kMmaM16N8K16Words] = {};
  for (int64_t r = 0; r < 4; ++r) {
    int64_t row = g + 8 * (r % 2), column = 2 * q + 8 * (r / 2);
    words[r] = bf16Bits(aAt(row, column)) | bf16Bits(aAt(row, column + 1)) << 16;
  }
  for (int64_t r = 0; r < 2; ++r) {
    int64_t row = 2 * q + 8 * r;
    words[4 + r] = bf16Bits(bAt(row, g)) | bf16Bits(bAt(row + 1, g)) << 16;
  }
  for (int64_t r = 0; r < 4; ++r) {
    float c = cAt(g + 8 * (r / 2), 2 * q + r % 2);
    std::memcpy(&words[6 + r], &c, sizeof(float));
  }
  k.context->matrix(k.context, words, prism::gpu_emulator::kMmaM16N8K16Bf16);
  for (int64_t r = 0; r < 4; ++r)
    std::memcpy(&k.data[(g + 8 * (r / 2)) * 8 + 2 * q + r % 2], &words[10 + r],
                sizeof(float));
}

TEST(GpuEmulator, MmaSyncFollowsThePtxFragmentLayout) {
  std::vector<float> d(16 * 8, std::nanf(""));
  std::vector<StridedBuffer> buffers = {StridedBuffer::contiguous(d.data(), {128})};
  std::string error;
  ASSERT_TRUE(emulateKernel(mmaKernel, buffers, {1, 1, 1}, 32, 16, error)) << error;
  for (int64_t i = 0; i < 16; ++i)
    for (int64_t j = 0; j < 8; ++j) {
      float expected = cAt(i, j);
      for (int64_t kk = 0; kk < 16; ++kk)
        expected += aAt(i, kk) * bAt(kk, j);
      EXPECT_EQ(d[i * 8 + j], expected) << "D(" << i << ", " << j << ")";
    }
}

// ldmatrix.x4 and .x2.trans over a 16x16 matrix of 16-bit values v(i, j)
// = 100 i + j in shared memory: lane l gives row l % 8 of matrix l / 8.
uint16_t value(int64_t i, int64_t j) { return static_cast<uint16_t>(100 * i + j); }

void ldmatrixKernel(void **args, int64_t, int64_t, int64_t, int64_t, int64_t,
                    int64_t) {
  OneBuffer k = unpack(args);
  int64_t lane = k.context->threadId;
  auto *shared = reinterpret_cast<uint16_t *>(k.workspace);
  if (lane == 0)
    for (int64_t i = 0; i < 16; ++i)
      for (int64_t j = 0; j < 16; ++j)
        shared[i * 16 + j] = value(i, j);
  k.context->barrier(k.context, 0, 0, 0, 0);
  // Matrix m of x4: rows 8 (m % 2), columns 8 (m / 2) (the mma A order).
  int64_t m = lane / 8, r = lane % 8;
  uint32_t words[prism::gpu_emulator::kFragmentWords] = {};
  uint64_t address = reinterpret_cast<uint64_t>(&shared[(8 * (m % 2) + r) * 16 + 8 * (m / 2)]);
  std::memcpy(words, &address, sizeof(address));
  k.context->matrix(k.context, words, prism::gpu_emulator::ldmatrixInstruction(4, false));
  auto *out = reinterpret_cast<uint32_t *>(k.data);
  for (int64_t i = 0; i < 4; ++i)
    out[lane * 6 + i] = words[2 + i];
  // x2 .trans: matrix m (lanes 0-15) = rows 8 m .. 8 m + 7, columns 0-7.
  address = reinterpret_cast<uint64_t>(&shared[(8 * ((lane / 8) % 2) + r) * 16]);
  std::memcpy(words, &address, sizeof(address));
  k.context->matrix(k.context, words, prism::gpu_emulator::ldmatrixInstruction(2, true));
  for (int64_t i = 0; i < 2; ++i)
    out[lane * 6 + 4 + i] = words[2 + i];
}

TEST(GpuEmulator, LdmatrixFollowsThePtxLayout) {
  std::vector<float> out(32 * 6, 0.0f);
  std::vector<StridedBuffer> buffers = {StridedBuffer::contiguous(out.data(), {32 * 6})};
  std::string error;
  ASSERT_TRUE(emulateKernel(ldmatrixKernel, buffers, {1, 1, 1}, 32, 512, error)) << error;
  auto *words = reinterpret_cast<const uint32_t *>(out.data());
  for (int64_t lane = 0; lane < 32; ++lane) {
    int64_t g = lane / 4, c = 2 * (lane % 4);
    for (int64_t i = 0; i < 4; ++i) { // register i: matrix i, row g, columns c, c + 1
      int64_t row = 8 * (i % 2) + g, column = 8 * (i / 2) + c;
      EXPECT_EQ(words[lane * 6 + i], value(row, column) | uint32_t(value(row, column + 1)) << 16)
          << "lane " << lane << " register " << i;
    }
    for (int64_t i = 0; i < 2; ++i) { // transposed: rows c, c + 1 at column g
      EXPECT_EQ(words[lane * 6 + 4 + i],
                value(8 * i + c, g) | uint32_t(value(8 * i + c + 1, g)) << 16)
          << "lane " << lane << " transposed register " << i;
    }
  }
}

// Lanes 0-15 issue mma.sync, lanes 16-31 return: reported.
void partialWarpKernel(void **args, int64_t, int64_t, int64_t, int64_t, int64_t,
                       int64_t) {
  OneBuffer k = unpack(args);
  if (k.context->threadId >= 16)
    return;
  uint32_t words[prism::gpu_emulator::kMmaM16N8K16Words] = {};
  k.context->matrix(k.context, words, prism::gpu_emulator::kMmaM16N8K16F16);
}

TEST(GpuEmulator, PartialWarpIsReported) {
  std::vector<float> out(1);
  std::vector<StridedBuffer> buffers = {StridedBuffer::contiguous(out.data(), {1})};
  std::string error;
  EXPECT_FALSE(emulateKernel(partialWarpKernel, buffers, {1, 1, 1}, 32, 16, error));
  EXPECT_EQ(error, "block (0, 0, 0): deadlock: 16 of 32 lanes of warp 0 wait in "
                   "a warp instruction, 16 returned")
      << error;
}

// Before a vector access with an alignment (16-byte ld.v4 / st.v4) a
// compiled kernel passes its address: thread 3's is 4 bytes past a 16-byte
// boundary, which a GPU faults on and a CPU would read without complaint.
void vectorAccessKernel(void **args, int64_t, int64_t, int64_t, int64_t, int64_t,
                        int64_t) {
  OneBuffer k = unpack(args);
  int64_t t = k.context->threadId;
  alignas(16) uint32_t words[prism::gpu_emulator::kFragmentWords] = {};
  uint64_t address = 0x1000 + 16 * t + (t == 3 ? 4 : 0);
  std::memcpy(words, &address, sizeof(address));
  k.context->matrix(k.context, words, prism::gpu_emulator::kVectorAccess + 4);
  k.data[t] = 1.0f;
}

TEST(GpuEmulator, MisalignedVectorAccessIsReported) {
  std::vector<float> out(32);
  std::vector<StridedBuffer> buffers = {StridedBuffer::contiguous(out.data(), {32})};
  std::string error;
  EXPECT_FALSE(emulateKernel(vectorAccessKernel, buffers, {1, 1, 1}, 32, 16, error));
  EXPECT_EQ(error, "block (0, 0, 0): thread 3: a vector access at address 0x1034 is not "
                   "aligned to its 16 bytes (a GPU faults: misaligned address)")
      << error;
  // The access, and what follows it, did not happen (the other threads
  // may or may not have run: the emulator takes them in no fixed order).
  EXPECT_EQ(out[3], 0.0f);
}

// cp.async: each thread copies 16 bytes of the buffer (4 floats, the last
// thread's copy reading only 8 bytes) into shared memory, commits, and
// records what it sees before and after waiting, then reads its
// neighbour's copy after a barrier.
using prism::gpu_emulator::kAsyncCommit;
using prism::gpu_emulator::kAsyncCopy;
using prism::gpu_emulator::kAsyncWait;

void asyncCopyKernel(void **args, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t) {
  OneBuffer k = unpack(args);
  int64_t t = k.context->threadId;
  auto *shared = reinterpret_cast<float *>(k.workspace);
  float *source = k.data + 4 * t;
  k.context->asyncCopy(k.context, kAsyncCopy, shared + 4 * t, source, 16, t == 31 ? 8 : 16);
  k.context->asyncCopy(k.context, kAsyncCommit, nullptr, nullptr, 0, 0);
  float before = shared[4 * t]; // not landed yet: the NaN shared memory starts as
  k.context->asyncCopy(k.context, kAsyncWait, nullptr, nullptr, 0, 0);
  float after = shared[4 * t];
  k.context->barrier(k.context, 0, 0, 0, 0);
  int64_t next = (t + 1) % 32;
  k.data[128 + 4 * t] = before;
  k.data[128 + 4 * t + 1] = after;
  k.data[128 + 4 * t + 2] = shared[4 * next + 2];
  k.data[128 + 4 * t + 3] = shared[4 * next + 3];
}

TEST(GpuEmulator, AsyncCopiesLandAtTheirWait) {
  std::vector<float> data(256);
  for (int64_t i = 0; i < 128; ++i)
    data[i] = static_cast<float>(i);
  std::vector<StridedBuffer> buffers = {StridedBuffer::contiguous(data.data(), {256})};
  std::string error;
  ASSERT_TRUE(emulateKernel(asyncCopyKernel, buffers, {1, 1, 1}, 32, 512, error)) << error;
  for (int64_t t = 0; t < 32; ++t) {
    int64_t next = (t + 1) % 32;
    EXPECT_TRUE(std::isnan(data[128 + 4 * t])) << t;
    EXPECT_EQ(data[128 + 4 * t + 1], static_cast<float>(4 * t));
    // The last thread's copy read 8 bytes: the rest is zero-filled.
    EXPECT_EQ(data[128 + 4 * t + 2], next == 31 ? 0.0f : static_cast<float>(4 * next + 2));
    EXPECT_EQ(data[128 + 4 * t + 3], next == 31 ? 0.0f : static_cast<float>(4 * next + 3));
  }
}

// A wait that lets one group stay in flight lands only the older ones.
void asyncGroupsKernel(void **args, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t) {
  OneBuffer k = unpack(args);
  auto *shared = reinterpret_cast<float *>(k.workspace);
  for (int64_t g = 0; g < 3; ++g) {
    k.context->asyncCopy(k.context, kAsyncCopy, shared + 4 * g, k.data + 4 * g, 16, 16);
    k.context->asyncCopy(k.context, kAsyncCommit, nullptr, nullptr, 0, 0);
  }
  k.context->asyncCopy(k.context, kAsyncWait, nullptr, nullptr, 1, 0);
  for (int64_t i = 0; i < 12; ++i)
    k.data[16 + i] = shared[i];
}

TEST(GpuEmulator, AsyncCopyWaitLeavesTheNewestGroups) {
  std::vector<float> data(28);
  for (int64_t i = 0; i < 12; ++i)
    data[i] = static_cast<float>(i + 1);
  std::vector<StridedBuffer> buffers = {StridedBuffer::contiguous(data.data(), {28})};
  std::string error;
  ASSERT_TRUE(emulateKernel(asyncGroupsKernel, buffers, {1, 1, 1}, 1, 64, error)) << error;
  for (int64_t i = 0; i < 8; ++i)
    EXPECT_EQ(data[16 + i], static_cast<float>(i + 1));
  for (int64_t i = 8; i < 12; ++i)
    EXPECT_TRUE(std::isnan(data[16 + i])) << i;
}

// Copies outside shared memory or misaligned are reported.
void misalignedCopyKernel(void **args, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t) {
  OneBuffer k = unpack(args);
  k.context->asyncCopy(k.context, kAsyncCopy, k.workspace + 8, k.data, 16, 16);
}

void outsideCopyKernel(void **args, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t) {
  OneBuffer k = unpack(args);
  k.context->asyncCopy(k.context, kAsyncCopy, k.workspace + 64, k.data, 16, 16);
}

TEST(GpuEmulator, BadAsyncCopiesAreReported) {
  alignas(16) float data[4] = {1, 2, 3, 4};
  std::vector<StridedBuffer> buffers = {StridedBuffer::contiguous(data, {4})};
  std::string error;
  EXPECT_FALSE(emulateKernel(misalignedCopyKernel, buffers, {1, 1, 1}, 1, 64, error));
  EXPECT_EQ(error, "block (0, 0, 0): thread 0: cp.async of 16 bytes with a misaligned "
                   "address")
      << error;
  EXPECT_FALSE(emulateKernel(outsideCopyKernel, buffers, {1, 1, 1}, 1, 64, error));
  EXPECT_EQ(error, "block (0, 0, 0): thread 0: cp.async to outside shared memory") << error;
}

// wgmma.mma_async m64n16k16 (bf16): shared memory holds A [64, 16] and
// B [16, 16] (as [N, K]) in K-major core matrices, row groups 256 bytes
// apart, K-adjacent core matrices 128 (data[0] == 0), or in rows of 32
// bytes swizzled by 32 bytes (data[0] == 1: the 16-byte chunk at shared
// offset o moves to o XOR bit 7 of o shifted to bit 4), or with a base
// offset the emulator does not run (data[0] == 2); every thread gives the
// descriptors and its 8 accumulator registers (all 1.0) and stores the
// new ones.
float aValue(int64_t r, int64_t k) { return static_cast<float>((r * 3 + k) % 7) - 3.0f; }
float bValue(int64_t c, int64_t k) { return static_cast<float>((c * 5 + k * 2) % 9) - 4.0f; }

// data[0]: the mode. 0: A and B K-major in core matrices; 1: both K-major
// swizzled by 32 bytes; 2: a non-zero base offset (reported); 3: B
// MN-major ([16 K, 16 N]) in core matrices (8 K rows x 8 N elements each,
// 128 bytes apart along N, a K row group 256 bytes); 4: B MN-major
// swizzled by 32 bytes (K rows of 32 bytes, 8 K rows 256 bytes apart); 5:
// the same with N = 32, two 16-column atoms a block (16 K rows x 32 bytes)
// apart, the descriptor's leading offset; 6: A from registers (each warp
// its 16 rows in mma.sync's A layout: register j of lane 4 g + q holds row
// g + 8 (j % 2), columns 8 (j / 2) + 2 q and the next), B as in mode 0;
// 7 and 8: mode 0, then the wgmma's group is committed, waited for with
// one group left in flight (7) or none (8), and after a barrier thread 0
// copies 16 bytes (cp.async) over A: reported in mode 7 (the tensor cores
// may still read them), not in mode 8; 9: committed and never waited for
// (reported when the block returns).
// The layouts are written out here from the PTX ISA's canonical layouts,
// independently of the emulator's decoding.
void wgmmaKernel(void **args, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t) {
  OneBuffer k = unpack(args);
  int64_t t = k.context->threadId;
  int64_t mode = static_cast<int64_t>(k.data[0]);
  int64_t n = mode == 5 ? 32 : 16;
  auto swizzle32 = [](int64_t logical) { return logical ^ (((logical >> 7) & 1) << 4); };
  auto kMajor = [&](int64_t row, int64_t kk) -> int64_t {
    if (mode == 1)
      return swizzle32((row / 8) * 256 + (row % 8) * 32 + kk * 2);
    return (row / 8) * 256 + (kk / 8) * 128 + (row % 8) * 16 + (kk % 8) * 2;
  };
  auto offsetB = [&](int64_t column, int64_t kk) -> int64_t {
    if (mode == 3)
      return (column / 8) * 128 + (kk / 8) * 256 + (kk % 8) * 16 + (column % 8) * 2;
    if (mode == 4 || mode == 5)
      return swizzle32((column / 16) * 512 + (kk / 8) * 256 + (kk % 8) * 32 +
                       (column % 16) * 2);
    return kMajor(column, kk);
  };
  if (t == 0) {
    for (int64_t r = 0; r < 64; ++r)
      for (int64_t kk = 0; kk < 16; ++kk) {
        auto bits = static_cast<uint16_t>(bf16Bits(aValue(r, kk)));
        std::memcpy(k.workspace + kMajor(r, kk), &bits, 2);
      }
    for (int64_t c = 0; c < n; ++c)
      for (int64_t kk = 0; kk < 16; ++kk) {
        auto bits = static_cast<uint16_t>(bf16Bits(bValue(c, kk)));
        std::memcpy(k.workspace + 2048 + offsetB(c, kk), &bits, 2);
      }
  }
  k.context->barrier(k.context, 0, 0, 0, 0);
  auto descriptor = [&](uint64_t byteOffset, uint64_t leading, uint64_t stride,
                        uint64_t layout) {
    uint64_t address = reinterpret_cast<uintptr_t>(k.workspace) + byteOffset;
    return ((address & 0x3FFFF) >> 4) | ((leading >> 4) << 16) | ((stride >> 4) << 32) |
           (layout << 62) | (mode == 2 ? uint64_t(1) << 49 : 0);
  };
  uint64_t descriptorA = descriptor(0, mode == 1 ? 16 : 128, 256, mode == 1 ? 3 : 0);
  uint64_t descriptorB =
      mode == 3   ? descriptor(2048, 256, 128, 0)
      : mode == 4 || mode == 5 ? descriptor(2048, 16 * 32, 256, 3)
                  : descriptor(2048, mode == 1 ? 16 : 128, 256, mode == 1 ? 3 : 0);
  uint32_t words[prism::gpu_emulator::kFragmentWords] = {};
  bool registerA = mode == 6;
  if (registerA) {
    int64_t warp = t / 32, g = t % 32 / 4, q = t % 4;
    for (int64_t j = 0; j < 4; ++j) {
      int64_t row = 16 * warp + g + 8 * (j % 2), column = 8 * (j / 2) + 2 * q;
      words[j] = bf16Bits(aValue(row, column)) | bf16Bits(aValue(row, column + 1)) << 16;
    }
    std::memcpy(&words[4], &descriptorB, sizeof(descriptorB));
  } else {
    uint64_t descriptors[2] = {descriptorA, descriptorB};
    std::memcpy(words, descriptors, sizeof(descriptors));
  }
  int64_t d = registerA ? 6 : 4;
  for (int64_t i = 0; i < n / 2; ++i) {
    float one = 1.0f;
    std::memcpy(&words[d + i], &one, 4);
  }
  k.context->matrix(k.context, words,
                    prism::gpu_emulator::wgmmaInstruction(n, false, mode >= 3 && mode <= 5,
                                                          registerA));
  for (int64_t i = 0; i < n / 2; ++i)
    std::memcpy(&k.data[8 + 16 * t + i], &words[d + n / 2 + i], 4);
  if (mode == 9) { // committed, not waited for
    k.context->matrix(k.context, words, prism::gpu_emulator::kWgmmaCommitGroup);
  } else if (mode < 7) { // committed and waited for
    k.context->matrix(k.context, words, prism::gpu_emulator::kWgmmaCommitGroup);
    k.context->matrix(k.context, words, prism::gpu_emulator::kWgmmaWaitGroup);
  }
  if (mode == 7 || mode == 8) {
    using namespace prism::gpu_emulator;
    k.context->matrix(k.context, words, kWgmmaCommitGroup);
    k.context->matrix(k.context, words, kWgmmaWaitGroup + (mode == 7 ? 1 : 0));
    // Every lane's wait retires the group: the emulator frees its shared
    // memory once all have (so does the pipeline, which refills after a
    // barrier).
    k.context->barrier(k.context, 1, 0, 0, 0);
    if (t == 0) {
      k.context->asyncCopy(k.context, kAsyncCopy, k.workspace, k.data, 16, 16);
      k.context->asyncCopy(k.context, kAsyncCommit, nullptr, nullptr, 0, 0);
      k.context->asyncCopy(k.context, kAsyncWait, nullptr, nullptr, 0, 0);
    }
  }
}

TEST(GpuEmulator, WgmmaReadsCoreMatricesThroughDescriptors) {
  std::vector<float> data(8 + 16 * 128, 0.0f);
  std::vector<StridedBuffer> buffers = {StridedBuffer::contiguous(data.data(), {8 + 16 * 128})};
  std::string error;
  for (float mode : {0.0f, 1.0f, 3.0f, 4.0f, 5.0f, 6.0f}) {
    data[0] = mode;
    ASSERT_TRUE(emulateKernel(wgmmaKernel, buffers, {1, 1, 1}, 128, 4096, error)) << error;
    int64_t n = mode == 5.0f ? 32 : 16;
    for (int64_t t = 0; t < 128; ++t) {
      int64_t warp = t / 32, g = t % 32 / 4, q = t % 4;
      for (int64_t j = 0; j < n / 8; ++j)
        for (int64_t i = 0; i < 4; ++i) {
          int64_t row = 16 * warp + g + 8 * (i / 2), column = 8 * j + 2 * q + i % 2;
          float expected = 1.0f;
          for (int64_t kk = 0; kk < 16; ++kk)
            expected += aValue(row, kk) * bValue(column, kk);
          ASSERT_EQ(data[8 + 16 * t + 4 * j + i], expected)
              << "mode " << mode << ": " << t << " " << j << " " << i;
        }
    }
  }
  data[0] = 2.0f;
  EXPECT_FALSE(emulateKernel(wgmmaKernel, buffers, {1, 1, 1}, 128, 4096, error));
  EXPECT_EQ(error, "block (0, 0, 0): the GPU emulator runs wgmma with a zero base offset only")
      << error;
}

TEST(GpuEmulator, CopiesOverOperandsOfWgmmaInFlightAreReported) {
  std::vector<float> data(8 + 16 * 128, 0.0f);
  std::vector<StridedBuffer> buffers = {StridedBuffer::contiguous(data.data(), {8 + 16 * 128})};
  std::string error;
  data[0] = 8.0f; // waited for: the copy may overwrite A
  EXPECT_TRUE(emulateKernel(wgmmaKernel, buffers, {1, 1, 1}, 128, 4096, error)) << error;
  data[0] = 9.0f; // committed, never waited for: reported
  EXPECT_FALSE(emulateKernel(wgmmaKernel, buffers, {1, 1, 1}, 128, 4096, error));
  EXPECT_EQ(error, "block (0, 0, 0): the block returned with a wgmma group that "
                   "wgmma.wait_group never retired")
      << error;
  data[0] = 7.0f; // one group in flight: reported
  EXPECT_FALSE(emulateKernel(wgmmaKernel, buffers, {1, 1, 1}, 128, 4096, error));
  EXPECT_EQ(error, "block (0, 0, 0): thread 0: cp.async writes shared memory (byte 0) that a "
                   "wgmma in flight reads: no wgmma.wait_group retired it before the copy "
                   "was issued")
      << error;
}

// TMA and mbarriers. The tensor: 20 rows of 16 16-bit elements (value
// 100 r + c + 1), boxes of 8 rows by 16 columns swizzled by 32 bytes.
// Buffers: out (32-bit words), the maps; then the workspace and context.
struct TmaArguments {
  uint32_t *out;
  const uint8_t *maps;
  uint8_t *workspace;
  ThreadContext *context;
};

TmaArguments unpackTma(void **args) {
  TmaArguments view;
  std::memcpy(&view.out, args[1], sizeof(void *));
  std::memcpy(&view.maps, args[6], sizeof(void *));
  std::memcpy(&view.workspace, args[11], sizeof(void *));
  std::memcpy(&view.context, args[15], sizeof(void *));
  return view;
}

void tensorCopy(const TmaArguments &k, int64_t operation, int64_t barrier, int64_t shared,
                int64_t value, int64_t c0 = 0, int64_t c1 = 0) {
  k.context->tensorCopy(k.context, operation, reinterpret_cast<int64_t>(k.workspace + barrier),
                        reinterpret_cast<int64_t>(k.workspace + shared),
                        reinterpret_cast<int64_t>(k.maps), value, c0, c1, 0, 0, 0);
}

// out[0]: the mode (0: two phases; 1: a phase expecting more bytes than
// its copy brings; 2: init twice). Phase 0 copies rows 16..23 (20..23
// past the tensor) to offset 0; phase 1 the box at column 8 of rows 0..7
// (columns 16..23 past it) to offset 256. Thread 0 reads shared memory
// right after its copy (stale: no thread has waited), thread 2 after
// each wait.
void tmaKernel(void **args, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t) {
  using namespace prism::gpu_emulator;
  TmaArguments k = unpackTma(args);
  int64_t t = k.context->threadId, mode = k.out[0];
  constexpr int64_t barrier = 1024;
  if (t == 0) {
    tensorCopy(k, kBarrierInit, barrier, 0, 1);
    if (mode == 2)
      tensorCopy(k, kBarrierInit, barrier, 0, 1);
  }
  k.context->barrier(k.context, 0, 0, 0, 0);
  if (t == 0) {
    if (mode != 3)
      tensorCopy(k, kMapAcquire, barrier, 0, 0);
    tensorCopy(k, kBarrierArriveExpectBytes, barrier, 0, mode == 1 ? 512 : 256);
    tensorCopy(k, kTensorCopy, barrier, 0, 0, 0, 16);
    // Issued, not waited for.
    std::memcpy(&k.out[1], k.workspace, 4);
  }
  tensorCopy(k, kBarrierWait, barrier, 0, 0);
  if (t == 2)
    std::memcpy(&k.out[2], k.workspace, 512);
  k.context->barrier(k.context, 1, 0, 0, 0);
  if (t == 0) {
    tensorCopy(k, kBarrierArriveExpectBytes, barrier, 0, 256);
    tensorCopy(k, kTensorCopy, barrier, 256, 0, 8, 0);
  }
  tensorCopy(k, kBarrierWait, barrier, 0, 1);
  // Parity 1 again: that phase is done, no wait (parity 0 would wait for
  // phase 2).
  tensorCopy(k, kBarrierWait, barrier, 0, 1);
  if (t == 2)
    std::memcpy(&k.out[2], k.workspace, 512);
  k.context->barrier(k.context, 2, 0, 0, 0);
  if (t == 0)
    tensorCopy(k, kBarrierInval, barrier, 0, 0);
}

TEST(GpuEmulator, TensorCopiesLandWhenTheirBarrierIsWaitedOn) {
  std::vector<uint16_t> tensor(20 * 16);
  for (int64_t r = 0; r < 20; ++r)
    for (int64_t c = 0; c < 16; ++c)
      tensor[r * 16 + c] = static_cast<uint16_t>(100 * r + c + 1);
  TensorMapSpec spec{0, 2, {16, 8}, 32};
  std::vector<uint8_t> maps;
  int64_t kernelBytes;
  std::string refused, error;
  ASSERT_TRUE(buildTensorMaps({spec}, {StridedBuffer::contiguous(tensor.data(), {20, 16})},
                              encodeEmulatedTensorMap, maps, kernelBytes, refused, error))
      << error;
  EXPECT_TRUE(refused.empty()) << refused;
  std::vector<uint32_t> out(2 + 128, 0);
  std::vector<StridedBuffer> buffers = {
      StridedBuffer::contiguous(out.data(), {static_cast<int64_t>(out.size())}),
      StridedBuffer::contiguous(maps.data(), {static_cast<int64_t>(maps.size())})};
  ASSERT_TRUE(emulateKernel(tmaKernel, buffers, {1, 1, 1}, 32, 2048, error)) << error;
  EXPECT_EQ(out[1], 0xFFFFFFFFu); // not landed before the wait
  std::vector<uint8_t> shared(512);
  std::memcpy(shared.data(), &out[2], 512);
  // Element (r, c) of a box written at `base`: row r at base + 32 r, the
  // 16-byte chunk moved by bit 7 of its offset.
  auto at = [&](int64_t base, int64_t r, int64_t c) {
    int64_t logical = base + 32 * r + 2 * c;
    int64_t offset = logical ^ (((logical >> 7) & 1) << 4);
    uint16_t value;
    std::memcpy(&value, shared.data() + offset, 2);
    return value;
  };
  for (int64_t r = 0; r < 8; ++r)
    for (int64_t c = 0; c < 16; ++c) {
      EXPECT_EQ(at(0, r, c), 16 + r < 20 ? 100 * (16 + r) + c + 1 : 0) << r << " " << c;
      EXPECT_EQ(at(256, r, c), 8 + c < 16 ? 100 * r + 8 + c + 1 : 0) << r << " " << c;
    }

  out[0] = 1;
  EXPECT_FALSE(emulateKernel(tmaKernel, buffers, {1, 1, 1}, 32, 2048, error));
  EXPECT_NE(error.find("threads wait on mbarriers whose phase never completes"),
            std::string::npos)
      << error;
  out[0] = 2;
  EXPECT_FALSE(emulateKernel(tmaKernel, buffers, {1, 1, 1}, 32, 2048, error));
  EXPECT_EQ(error, "block (0, 0, 0): thread 0: mbarrier.init on an mbarrier that is in use "
                   "(not invalidated)")
      << error;
  // A copy by a thread that did not acquire the map.
  out[0] = 3;
  EXPECT_FALSE(emulateKernel(tmaKernel, buffers, {1, 1, 1}, 32, 2048, error));
  EXPECT_EQ(error, "block (0, 0, 0): thread 0: a tensor copy through a map this thread did "
                   "not acquire (fence.proxy.tensormap::generic.acquire)")
      << error;
  // A zero map (a tensor the host could not describe).
  out[0] = 0;
  std::fill(maps.begin(), maps.end(), 0);
  EXPECT_FALSE(emulateKernel(tmaKernel, buffers, {1, 1, 1}, 32, 2048, error));
  EXPECT_NE(error.find("a tensor copy through a map the host did not build"),
            std::string::npos)
      << error;
}

} // namespace
