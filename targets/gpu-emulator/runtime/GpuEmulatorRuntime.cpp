//===- GpuEmulatorRuntime.cpp - Running GPU kernels on the CPU ------------===//
//
// The runtime of "nvidia-emulated" bundles: each kernel is a CPU function
// (prism-emulate-gpu-kernels-on-cpu) run once per GPU thread. The threads
// of a block are fibers (ucontext) on one host thread, which runs each
// until it waits at a barrier or a warp instruction and then the next, so
// a barrier costs a context switch per thread, not a wake-up of an OS
// thread; blocks are independent and spread over the host's cores. Each
// pass over a block's fibers takes them in a new pseudo-random order
// (seeded by the block, and by PRISM_EMULATOR_SEED when set), so that a
// kernel whose correctness depends on an order the hardware does not
// promise (a warp's lanes before another warp, a producer after its
// consumers) is not saved by the emulator's. The
// thread context (EmulatorAbi.h) provides what the hardware would:
//
// - block barriers (bar.sync 0, and named barriers of some of the threads),
//   which also catch what hardware leaves undefined:
//   threads meeting at different barriers, and barriers some threads of
//   the block never reach (they returned, or wait elsewhere): both are
//   reported with the block and the barrier, instead of hanging;
// - mma.sync m16n8k16 (bf16/f16 into f32) as PTX defines it: the 32 lanes
//   of a warp meet, the warp's A, B and C are assembled from the lanes'
//   registers in the documented fragment layout, and each lane gets its
//   part of D;
// - warp shuffles (shfl.sync.bfly, gpu.shuffle xor): the 32 lanes meet
//   like a warp instruction and each gets its partner's value;
// - cp.async copies queued per thread in groups: the source is read when
//   the copy is issued and shared memory written only when a wait_group
//   requires it (the latest moment PTX allows), so a kernel that reads a
//   slot before waiting for its copies reads stale data; copies outside
//   shared memory or misaligned are reported;
// - wgmma.mma_async m64nNk16 for a warpgroup, its operands read from
//   shared memory through the matrix descriptors (K-major, without
//   swizzling or swizzled by 32, 64 or 128 bytes), as the PTX ISA
//   describes them, or A from the lanes' registers; the product is
//   computed at once, but the shared memory it read stays in use until
//   wgmma.wait_group has retired its group on every lane, and a cp.async
//   or tensor copy issued into it earlier (a stage refilled while the
//   tensor cores may still read it) is reported;
// - TMA (cp.async.bulk.tensor) and mbarriers: tensor maps in the
//   emulator's own format (EmulatedTensorMap, built by the runner where
//   the CUDA driver would build its own), boxes read when the copy is
//   issued and written to shared memory (swizzled, zero past the tensor)
//   only when a thread waits on the barrier's phase, which completes when
//   its arrivals and bytes are all in; barriers used before init, bytes
//   beyond what a phase expects, copies through maps the host could not
//   build are reported;
// - shared memory filled with 0xFF bytes (NaN as floats) before each
//   block, so a kernel reading shared memory it never wrote gets NaN in
//   its outputs rather than a lucky zero.
//
// Buffers are host memory (usesHostMemory), so bundles run on host arrays.
//
//===----------------------------------------------------------------------===//

#include "targets/gpu-emulator/runtime/GpuEmulator.h"
#include "targets/gpu-emulator/EmulatorAbi.h"

#include "prism/Runtime/DeviceKernelRunner.h"
#include "prism/Runtime/TensorMaps.h"

#include <sys/mman.h>
#include <ucontext.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <deque>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace prism::runtime {
namespace {

using gpu_emulator::kAsyncCommit;
using gpu_emulator::kAsyncCopy;
using gpu_emulator::kAsyncWait;
using gpu_emulator::kMmaM16N8K16Bf16;
using gpu_emulator::kMmaM16N8K16F16;
using gpu_emulator::kFragmentWords;
using gpu_emulator::kLdmatrix;
using gpu_emulator::kShuffleXor;
using gpu_emulator::kWgmmaCommitGroup;
using gpu_emulator::kVectorAccess;
using gpu_emulator::kWarpSync;
using gpu_emulator::kWgmmaWaitGroup;
using gpu_emulator::kMfma16x16x16Bf16;
using gpu_emulator::kMfma16x16x16F16;
using gpu_emulator::kMmaM16N8K16Words;
using gpu_emulator::kWmma16x16x16Bf16;
using gpu_emulator::kWgmma;
using gpu_emulator::kWgmmaTransposedB;
using gpu_emulator::kWgmmaRegisterA;
using gpu_emulator::kWgmmaRegisterATransposedB;
using gpu_emulator::kWgmmaMaxN;
using gpu_emulator::kWmma16x16x16F16;
using gpu_emulator::ThreadContext;
using gpu_emulator::kBarrierArrive;
using gpu_emulator::kBarrierArriveExpectBytes;
using gpu_emulator::kBarrierInit;
using gpu_emulator::kBarrierInval;
using gpu_emulator::kBarrierWait;
using gpu_emulator::kMapAcquire;
using gpu_emulator::kTensorCopy;

/// The emulator's tensor map (what cuTensorMapEncodeTiled makes for a
/// GPU), in a kTensorMapBytes slot of the kernel's maps buffer.
struct EmulatedTensorMap {
  uint64_t magic;
  const uint8_t *start;
  int32_t rank, elementBytes, swizzleBytes, reserved;
  uint64_t dims[5];
  uint64_t strides[4]; // bytes, of dimensions 1 ..
  uint32_t box[5];
};
static_assert(sizeof(EmulatedTensorMap) <= kTensorMapBytes);
constexpr uint64_t kTensorMapMagic = 0x505249534d544d41ull; // "PRISMTMA"

/// The shared address `address` with a swizzle of `span` bytes (32, 64,
/// 128; 0: none): the 16-byte chunk index XOR the 128-byte row index.
uintptr_t swizzled(uintptr_t address, int64_t span) {
  if (span == 0)
    return address;
  return address ^ (((address >> 7) & static_cast<uintptr_t>(span / 16 - 1)) << 4);
}

/// Lanes of an NVIDIA warp and of an AMD wave32; AMD's wave64 has 64, an
/// NVIDIA warpgroup 128.
constexpr int64_t kWarpSize = 32;
constexpr int64_t kMaxLanes = 128;
/// Stack of each emulated thread; a guard page below it turns an overflow
/// into a fault instead of a silent overwrite.
constexpr size_t kFiberStackBytes = 1 << 20;
constexpr size_t kGuardBytes = 1 << 16;

float bf16ToFloat(uint32_t bits) {
  uint32_t word = (bits & 0xffffu) << 16;
  float value;
  std::memcpy(&value, &word, sizeof(value));
  return value;
}

float f16ToFloat(uint32_t bits) {
  uint32_t sign = (bits >> 15) & 1, exponent = (bits >> 10) & 0x1f,
           mantissa = bits & 0x3ff;
  float magnitude;
  if (exponent == 0)
    magnitude = std::ldexp(static_cast<float>(mantissa), -24);
  else if (exponent == 31)
    magnitude = mantissa ? std::numeric_limits<float>::quiet_NaN()
                         : std::numeric_limits<float>::infinity();
  else
    magnitude = std::ldexp(static_cast<float>(mantissa | 0x400), static_cast<int>(exponent) - 25);
  return sign ? -magnitude : magnitude;
}

float wordToFloat(uint32_t word) {
  float value;
  std::memcpy(&value, &word, sizeof(value));
  return value;
}

uint32_t floatToWord(float value) {
  uint32_t word;
  std::memcpy(&word, &value, sizeof(word));
  return word;
}

using LaneWords = std::array<uint32_t, kFragmentWords>;

/// D = A B + C for one warp, m16n8k16, A row-major and B column-major, in
/// the register layout of the PTX ISA (lane = 4 g + q): A register r holds
/// row g + 8 (r % 2), columns 2q + 8 (r / 2) and the next; B register r
/// holds rows 2q + 8 r and the next, column g; C/D element r is row
/// g + 8 (r / 2), column 2q + r % 2. Two 16-bit elements share a word, the
/// first in the low half.
void mmaM16N8K16(LaneWords *lanes, bool bf16) {
  auto element = [&](uint32_t bits) { return bf16 ? bf16ToFloat(bits) : f16ToFloat(bits); };
  float a[16][16], b[16][8], c[16][8];
  for (int64_t lane = 0; lane < kWarpSize; ++lane) {
    const LaneWords &w = lanes[lane];
    int64_t g = lane / 4, q = lane % 4;
    for (int64_t r = 0; r < 4; ++r) {
      int64_t row = g + 8 * (r % 2), column = 2 * q + 8 * (r / 2);
      a[row][column] = element(w[r]);
      a[row][column + 1] = element(w[r] >> 16);
    }
    for (int64_t r = 0; r < 2; ++r) {
      int64_t k = 2 * q + 8 * r;
      b[k][g] = element(w[4 + r]);
      b[k + 1][g] = element(w[4 + r] >> 16);
    }
    for (int64_t r = 0; r < 4; ++r)
      c[g + 8 * (r / 2)][2 * q + r % 2] = wordToFloat(w[6 + r]);
  }
  for (int64_t lane = 0; lane < kWarpSize; ++lane) {
    int64_t g = lane / 4, q = lane % 4;
    for (int64_t r = 0; r < 4; ++r) {
      int64_t row = g + 8 * (r / 2), column = 2 * q + r % 2;
      float sum = c[row][column];
      for (int64_t k = 0; k < 16; ++k)
        sum += a[row][k] * b[k][column];
      lanes[lane][10 + r] = floatToWord(sum);
    }
  }
}

/// ldmatrix.m8n8.x{1,2,4}[.trans].b16 for one warp: lanes 8i .. 8i + 7
/// give the row addresses of matrix i (for x1 and x2 the other lanes'
/// addresses are not used). Register i of lane l holds, of matrix i, row
/// l / 4 at columns 2 (l % 4) and the next; transposed, column l / 4 at
/// rows 2 (l % 4) and the next. Words 0-1 of a lane: its address; words 2..
/// its registers.
void ldmatrix(LaneWords *lanes, int64_t matrices, bool transposed) {
  auto row = [&](int64_t matrix, int64_t r) {
    uint64_t address;
    std::memcpy(&address, lanes[8 * matrix + r].data(), sizeof(address));
    return reinterpret_cast<const uint16_t *>(address);
  };
  std::array<std::array<uint32_t, 4>, kWarpSize> loaded{};
  for (int64_t lane = 0; lane < kWarpSize; ++lane)
    for (int64_t i = 0; i < matrices; ++i) {
      int64_t g = lane / 4, c = 2 * (lane % 4);
      uint32_t first, second;
      if (!transposed) {
        first = row(i, g)[c];
        second = row(i, g)[c + 1];
      } else {
        first = row(i, c)[g];
        second = row(i, c + 1)[g];
      }
      loaded[lane][i] = first | second << 16;
    }
  for (int64_t lane = 0; lane < kWarpSize; ++lane)
    for (int64_t i = 0; i < matrices; ++i)
      lanes[lane][2 + i] = loaded[lane][i];
}

/// Element `e` of a lane's 16-bit operand run starting at word `first`.
float halfAt(const LaneWords &w, int64_t first, int64_t e, bool bf16) {
  uint32_t bits = w[first + e / 2] >> (16 * (e % 2));
  return bf16 ? bf16ToFloat(bits) : f16ToFloat(bits);
}

/// AMD MFMA 16x16x16 (one block, wave64), in the lane layout of AMD's
/// CDNA3 ISA guide as the AMD lowering uses it: lane l holds A row l % 16
/// at K 4 (l / 16) .. + 3 (words 0-1), B column l % 16 at the same K
/// (words 2-3), and C/D rows 4 (l / 16) .. + 3 at column l % 16 (words
/// 4-7 in, 8-11 out).
void mfma16x16x16(LaneWords *lanes, bool bf16) {
  float a[16][16], b[16][16], c[16][16];
  for (int64_t lane = 0; lane < 64; ++lane) {
    int64_t i = lane % 16, k0 = 4 * (lane / 16);
    for (int64_t j = 0; j < 4; ++j) {
      a[i][k0 + j] = halfAt(lanes[lane], 0, j, bf16);
      b[k0 + j][i] = halfAt(lanes[lane], 2, j, bf16);
      c[k0 + j][i] = wordToFloat(lanes[lane][4 + j]);
    }
  }
  for (int64_t lane = 0; lane < 64; ++lane) {
    int64_t column = lane % 16;
    for (int64_t e = 0; e < 4; ++e) {
      int64_t row = 4 * (lane / 16) + e;
      float sum = c[row][column];
      for (int64_t k = 0; k < 16; ++k)
        sum += a[row][k] * b[k][column];
      lanes[lane][8 + e] = floatToWord(sum);
    }
  }
}

/// AMD WMMA 16x16x16 (wave32, RDNA3 ISA guide): lane l holds A row l % 16
/// at all 16 K (words 0-7), B column l % 16 (words 8-15), and C/D element
/// e at row 2 e + l / 16, column l % 16 (words 16-23 in, 24-31 out). Lanes
/// 16-31 must repeat the operands of lanes 0-15; returns false if not.
bool wmma16x16x16(LaneWords *lanes, bool bf16) {
  for (int64_t lane = 0; lane < 16; ++lane)
    for (int64_t w = 0; w < 16; ++w)
      if (lanes[lane][w] != lanes[lane + 16][w])
        return false;
  float a[16][16], b[16][16], c[16][16];
  for (int64_t lane = 0; lane < 32; ++lane) {
    int64_t i = lane % 16;
    for (int64_t k = 0; k < 16; ++k) {
      a[i][k] = halfAt(lanes[lane], 0, k, bf16);
      b[k][i] = halfAt(lanes[lane], 8, k, bf16);
    }
    for (int64_t e = 0; e < 8; ++e)
      c[2 * e + lane / 16][i] = wordToFloat(lanes[lane][16 + e]);
  }
  for (int64_t lane = 0; lane < 32; ++lane) {
    int64_t column = lane % 16;
    for (int64_t e = 0; e < 8; ++e) {
      int64_t row = 2 * e + lane / 16;
      float sum = c[row][column];
      for (int64_t k = 0; k < 16; ++k)
        sum += a[row][k] * b[k][column];
      lanes[lane][24 + e] = floatToWord(sum);
    }
  }
  return true;
}

/// The 16-byte chunks of a block's shared memory that something reads, as
/// a bit set.
class SharedChunks {
public:
  explicit SharedChunks(int64_t bytes = 0) : bits((bytes / 16 + 64) / 64, 0) {}
  void insert(int64_t offset) { bits[offset / 16 / 64] |= uint64_t(1) << (offset / 16 % 64); }
  /// Whether any byte of [offset, offset + bytes) is in a chunk of the set.
  bool overlaps(int64_t offset, int64_t bytes) const {
    for (int64_t chunk = offset / 16; chunk <= (offset + bytes - 1) / 16; ++chunk)
      if (chunk / 64 < static_cast<int64_t>(bits.size()) &&
          (bits[chunk / 64] >> (chunk % 64) & 1))
        return true;
    return false;
  }

private:
  std::vector<uint64_t> bits;
};

/// D = A B + D for a warpgroup, wgmma.mma_async m64nNk16 with A [64, 16]
/// K-major and B [N, 16] K-major or (`bMnMajor`) [16, N] MN-major in
/// shared memory. K-major without swizzling, element (r, k) of an operand
/// is at its descriptor's start + (r / 8) * SBO + (k / 8) * LBO + (r % 8)
/// * 16 + (k % 8) * 2 bytes; swizzled by S bytes (layout 1, 2, 3: 128, 64,
/// 32), at start + (r / 8) * SBO + (r % 8) * S + 2 k, with the swizzle
/// applied to that shared address. MN-major (the PTX ISA's canonical
/// layouts), element (k, c) of B is at start + (c / 8) * SBO + (k / 8) *
/// LBO + (k % 8) * 16 + (c % 8) * 2 without swizzling; swizzled, at start
/// + (c / (S / 2)) * LBO + (k / 8) * SBO + (k % 8) * S + 2 (c % (S / 2)),
/// then swizzled. The descriptors
/// hold bits 4-17 of shared-memory addresses; `shared` is where the
/// block's shared memory starts (host memory here, 1024-byte aligned, so
/// that its address bits are those of the shared window) and
/// `sharedBytes` its size. D is spread as mma.sync's C over the 4 warps'
/// 16 rows each (lane = 4 g + q: register 4 j + i is row 16 w + g + 8 (i /
/// 2), column 8 j + 2 q + i % 2). With `registerA`, A is in the lanes'
/// first 4 words as mma.sync's A over each warp's 16 rows (word j of lane
/// 4 g + q: row 16 w + g + 8 (j % 2), columns 8 (j / 2) + 2 q and the next,
/// the lower one in the low half) and B's descriptor follows. Adds the
/// shared memory it reads to `reads`. Returns "" or what is wrong with the
/// descriptors.
std::string wgmma(LaneWords *lanes, int64_t n, bool bf16, bool bMnMajor, bool registerA,
                  const uint8_t *shared, int64_t sharedBytes, SharedChunks &reads) {
  auto element = [&](uint16_t bits) { return bf16 ? bf16ToFloat(bits) : f16ToFloat(bits); };
  struct Operand {
    const uint8_t *start;
    int64_t leading, stride, swizzle;
  };
  auto decode = [&](uint64_t descriptor, Operand &operand) -> std::string {
    if (((descriptor >> 49) & 7) != 0)
      return "the GPU emulator runs wgmma with a zero base offset only";
    uint64_t low = (descriptor & 0x3FFF) << 4;
    auto base = reinterpret_cast<uintptr_t>(shared);
    uintptr_t address = (base & ~uintptr_t(0x3FFFF)) | low;
    if (address < base)
      address += 0x40000;
    operand.start = reinterpret_cast<const uint8_t *>(address);
    operand.leading = static_cast<int64_t>((descriptor >> 16) & 0x3FFF) << 4;
    operand.stride = static_cast<int64_t>((descriptor >> 32) & 0x3FFF) << 4;
    const int64_t spans[4] = {0, 128, 64, 32};
    operand.swizzle = spans[descriptor >> 62];
    return "";
  };
  // Element (row, k) of a K-major operand, or (k, column = row) of an
  // MN-major one.
  auto read = [&](const Operand &operand, bool mnMajor, int64_t row, int64_t k,
                  std::string &error) -> float {
    const uint8_t *at;
    int64_t s = operand.swizzle;
    if (s == 0) {
      at = mnMajor ? operand.start + (row / 8) * operand.stride +
                         (k / 8) * operand.leading + (k % 8) * 16 + (row % 8) * 2
                   : operand.start + (row / 8) * operand.stride +
                         (k / 8) * operand.leading + (row % 8) * 16 + (k % 8) * 2;
    } else {
      uintptr_t logical =
          reinterpret_cast<uintptr_t>(operand.start) +
          (mnMajor ? (row / (s / 2)) * operand.leading + (k / 8) * operand.stride +
                         (k % 8) * s + (row % (s / 2)) * 2
                   : (row / 8) * operand.stride + (row % 8) * s + k * 2);
      at = reinterpret_cast<const uint8_t *>(swizzled(logical, s));
    }
    if (at < shared || at + 2 > shared + sharedBytes) {
      error = "a wgmma descriptor reads outside shared memory";
      return 0.0f;
    }
    reads.insert(at - shared);
    uint16_t bits;
    std::memcpy(&bits, at, sizeof(bits));
    return element(bits);
  };
  // All lanes give the same descriptors (warpgroup-uniform operands).
  int64_t first = registerA ? 1 : 0, count = registerA ? 1 : 2;
  uint64_t descriptors[2];
  std::memcpy(descriptors + first, lanes[0].data() + 4 * first, count * sizeof(uint64_t));
  for (int64_t lane = 1; lane < 128; ++lane)
    if (std::memcmp(descriptors + first, lanes[lane].data() + 4 * first,
                    count * sizeof(uint64_t)) != 0)
      return "the lanes of a warpgroup give wgmma different descriptors";
  Operand a, b;
  std::string error = registerA ? "" : decode(descriptors[0], a);
  if (error.empty())
    error = decode(descriptors[1], b);
  if (!error.empty())
    return error;
  std::vector<float> av(64 * 16), bv(kWgmmaMaxN * 16);
  if (registerA) {
    for (int64_t thread = 0; thread < 128; ++thread) {
      int64_t warp = thread / 32, g = thread % 32 / 4, q = thread % 4;
      for (int64_t j = 0; j < 4; ++j) {
        uint32_t word = lanes[thread][j];
        int64_t row = 16 * warp + g + 8 * (j % 2), column = 8 * (j / 2) + 2 * q;
        av[row * 16 + column] = element(static_cast<uint16_t>(word & 0xFFFF));
        av[row * 16 + column + 1] = element(static_cast<uint16_t>(word >> 16));
      }
    }
  } else {
    for (int64_t r = 0; r < 64; ++r)
      for (int64_t k = 0; k < 16 && error.empty(); ++k)
        av[r * 16 + k] = read(a, false, r, k, error);
  }
  for (int64_t c = 0; c < n; ++c)
    for (int64_t k = 0; k < 16 && error.empty(); ++k)
      bv[c * 16 + k] = read(b, bMnMajor, c, k, error);
  if (!error.empty())
    return error;
  for (int64_t thread = 0; thread < 128; ++thread) {
    LaneWords &w = lanes[thread];
    int64_t warp = thread / 32, lane = thread % 32, g = lane / 4, q = lane % 4;
    int64_t d = registerA ? 6 : 4; // the first word of D
    for (int64_t j = 0; j < n / 8; ++j)
      for (int64_t i = 0; i < 4; ++i) {
        int64_t row = 16 * warp + g + 8 * (i / 2), column = 8 * j + 2 * q + i % 2;
        float sum = wordToFloat(w[d + 4 * j + i]);
        for (int64_t k = 0; k < 16; ++k)
          sum += av[row * 16 + k] * bv[column * 16 + k];
        w[d + n / 2 + 4 * j + i] = floatToWord(sum);
      }
  }
  return "";
}

/// Runs the blocks given to it, one at a time, each with `threads`
/// fibers. Rendezvous need no locks: one host thread runs all the fibers
/// of a block. A block fails when a pass over its fibers finds none that
/// can run while some have not returned (a deadlock), or on a mismatched
/// barrier or instruction; its fibers are then abandoned (their frames are
/// the kernel's compiled code and these callbacks, which own nothing).
class BlockRunner {
public:
  BlockRunner(CpuKernelEntry entry, const std::vector<StridedBuffer> &buffers,
              int64_t threads, int64_t sharedBytes, std::array<int64_t, 3> grid)
      : entry(entry), threads(threads), grid(grid), fibers(threads), schedule(threads),
        warps((threads + kWarpSize - 1) / kWarpSize), warpgroups((threads + 127) / 128) {
    workspaceBytes = std::max<int64_t>(sharedBytes, 1);
    for (int64_t t = 0; t < threads; ++t)
      schedule[t] = t;
    if (const char *text = std::getenv("PRISM_EMULATOR_SEED"))
      seed = std::strtoull(text, nullptr, 10);
    // 1024-byte aligned like a GPU's shared window, so that swizzles (which
    // use address bits) see the same bits.
    workspace.reset(static_cast<uint8_t *>(
        std::aligned_alloc(1024, (workspaceBytes + 1023) / 1024 * 1024)));
    StridedBuffer shared = StridedBuffer::contiguous(workspace.get(), {workspaceBytes});
    size_t mapped = threads * (kFiberStackBytes + kGuardBytes);
    void *memory = mmap(nullptr, mapped, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (memory != MAP_FAILED) {
      stacks = {static_cast<uint8_t *>(memory), mapped};
      for (int64_t t = 0; t < threads; ++t)
        guarded &= mprotect(stacks.first + t * (kFiberStackBytes + kGuardBytes),
                            kGuardBytes, PROT_NONE) == 0;
    }
    for (int64_t t = 0; t < threads; ++t) {
      Fiber &f = fibers[t];
      f.thread.context.threadId = t;
      f.thread.context.barrier = barrierCallback;
      f.thread.context.matrix = matrixCallback;
      f.thread.context.asyncCopy = asyncCopyCallback;
      f.thread.context.tensorCopy = tensorCopyCallback;
      f.thread.runner = this;
      for (const StridedBuffer &buffer : buffers)
        f.arguments.addBuffer(buffer);
      f.arguments.addBuffer(shared);
      f.arguments.addPointer(&f.thread.context);
    }
  }

  ~BlockRunner() {
    if (stacks.first)
      munmap(stacks.first, stacks.second);
  }

  /// Whether the memory is there and every stack has its guard page (a
  /// failed mprotect, e.g. at the limit of memory mappings, would leave a
  /// stack overflow silent).
  bool ready() const { return workspace && stacks.first && guarded; }

  /// Runs block `linear` (x fastest); returns "" or what went wrong.
  std::string run(int64_t linear) {
    block = {linear % grid[0], linear / grid[0] % grid[1], linear / (grid[0] * grid[1])};
    std::memset(workspace.get(), 0xff, workspaceBytes);
    failure.clear();
    finished = 0;
    barriers.fill(NamedBarrier{});
    mbarriers.clear();
    openWgmmaGroups.assign(warpgroups.size(), OpenWgmmaGroup{});
    wgmmaGroupsInFlight.clear();
    for (std::vector<Warp> *groups : {&warps, &warpgroups})
      for (Warp &w : *groups)
        w.arrived = 0, w.instruction = -1, w.lanes = kWarpSize;
    for (int64_t t = 0; t < threads; ++t) {
      Fiber &f = fibers[t];
      f.state = Fiber::Ready;
      f.openCopies.clear();
      f.copyGroups.clear();
      f.wgmmaGroups.clear();
      f.waitingFor = 0;
      f.atBarrier = -1;
      f.acquiredMaps.clear();
      getcontext(&f.context);
      f.context.uc_stack.ss_sp = stacks.first + t * (kFiberStackBytes + kGuardBytes) + kGuardBytes;
      f.context.uc_stack.ss_size = kFiberStackBytes;
      f.context.uc_link = &scheduler;
      makecontext(&f.context, trampoline, 0);
    }
    std::mt19937_64 order(seed ^ (static_cast<uint64_t>(linear) * 0x9e3779b97f4a7c15ull));
    while (failure.empty() && finished < threads) {
      bool ran = false;
      std::shuffle(schedule.begin(), schedule.end(), order);
      for (int64_t t : schedule) {
        if (!failure.empty())
          break;
        if (fibers[t].state != Fiber::Ready)
          continue;
        ran = true;
        current = t;
        active = this;
        swapcontext(&scheduler, &fibers[t].context);
      }
      if (!ran && failure.empty() && finished < threads)
        fail(describeStuck());
    }
    // A wgmma whose group no wait_group retired: its registers were read
    // (or dropped) while the tensor cores may still write them.
    if (failure.empty() && !wgmmaGroupsInFlight.empty())
      fail("the block returned with a wgmma group that wgmma.wait_group never retired");
    // Arrivals (bar.arrive) that no wait used: the kernel's arrivals and
    // waits do not pair up.
    for (size_t id = 0; id < barriers.size() && failure.empty(); ++id)
      if (barriers[id].arrived > 0)
        fail("the block returned with " + std::to_string(barriers[id].arrived) + " of " +
             std::to_string(barriers[id].expected) + " arrivals at barrier " +
             std::to_string(id) + " that no thread waited for");
    return failure;
  }

private:
  struct EmulatedThread {
    ThreadContext context; // first: the kernel's context pointer is this
    BlockRunner *runner;
  };
  /// A cp.async in flight: the source bytes as they were when it was
  /// issued, written to shared memory when a wait lands it.
  struct PendingCopy {
    uint8_t *shared;
    std::array<uint8_t, 16> data;
    int64_t bytes, sourceBytes;
  };
  /// A tensor copy in flight: its 16-byte chunks as read when issued, at
  /// their (swizzled) shared addresses.
  struct PendingBox {
    std::vector<std::pair<uint8_t *, std::array<uint8_t, 16>>> chunks;
    int64_t bytes = 0;
  };
  /// An mbarrier: arrivals still expected in the current phase, bytes
  /// expected and not yet landed, the phase, and the copies to land.
  struct Mbarrier {
    int64_t arrivals = 0, pendingArrivals = 0, pendingBytes = 0, phase = 0;
    std::vector<PendingBox> copies;
  };
  /// A warpgroup's wgmma group: the shared memory its wgmmas read, in use
  /// until the wait_group of each of its lanes retires it.
  struct WgmmaGroup {
    SharedChunks reads;
    int64_t lanesInFlight = 128;
  };
  /// Per warpgroup: the group its wgmmas go into (open until each lane
  /// commits it) and how many lanes committed it.
  struct OpenWgmmaGroup {
    std::shared_ptr<WgmmaGroup> group;
    int64_t committed = 0;
  };
  struct Fiber {
    enum State { Ready, Waiting, Done } state = Ready;
    bool inWarpInstruction = false;
    int64_t atBarrier = -1; // the named barrier (0 to 15) this fiber waits at
    std::set<uintptr_t> acquiredMaps; // tensor maps this thread acquired
    uintptr_t waitingFor = 0; // the mbarrier this fiber waits on
    std::vector<PendingCopy> openCopies;
    std::deque<std::vector<PendingCopy>> copyGroups;
    std::deque<std::shared_ptr<WgmmaGroup>> wgmmaGroups; // committed, in flight
    ucontext_t context;
    EmulatedThread thread;
    KernelArguments arguments;
  };
  struct Warp {
    int64_t arrived = 0, instruction = -1, lanes = kWarpSize;
    std::array<LaneWords, kMaxLanes> words{};
    std::array<uint32_t *, kMaxLanes> results{};
  };

  static BlockRunner *runnerOf(ThreadContext *self) {
    return reinterpret_cast<EmulatedThread *>(self)->runner;
  }

  static void trampoline() {
    BlockRunner *self = active;
    Fiber &f = self->fibers[self->current];
    self->entry(f.arguments.pointers(), self->block[0], self->block[1], self->block[2],
                self->grid[0], self->grid[1], self->grid[2]);
    f.state = Fiber::Done;
    ++self->finished;
    // Returning resumes uc_link: the scheduler.
  }

  /// Suspends the running fiber until the scheduler resumes it.
  void suspend(int64_t thread) {
    fibers[thread].state = Fiber::Waiting;
    swapcontext(&fibers[thread].context, &scheduler);
  }

  static void barrierCallback(ThreadContext *self, int64_t site, int64_t id,
                              int64_t count, int64_t arriveOnly) {
    runnerOf(self)->barrier(self->threadId, site, id, count, arriveOnly != 0);
  }

  static void matrixCallback(ThreadContext *self, void *fragments, int64_t instruction) {
    runnerOf(self)->matrix(self->threadId, static_cast<uint32_t *>(fragments),
                           instruction);
  }

  static void asyncCopyCallback(ThreadContext *self, int64_t operation, void *shared,
                                const void *global, int64_t bytes, int64_t sourceBytes) {
    runnerOf(self)->asyncCopy(self->threadId, operation, static_cast<uint8_t *>(shared),
                              static_cast<const uint8_t *>(global), bytes, sourceBytes);
  }

  static void tensorCopyCallback(ThreadContext *self, int64_t operation, int64_t barrier,
                                 int64_t shared, int64_t map, int64_t value, int64_t c0,
                                 int64_t c1, int64_t c2, int64_t c3, int64_t c4) {
    runnerOf(self)->tensorCopy(self->threadId, operation, static_cast<uintptr_t>(barrier),
                               static_cast<uintptr_t>(shared),
                               reinterpret_cast<const EmulatedTensorMap *>(map), value,
                               {c0, c1, c2, c3, c4});
  }

  /// Fails the block (from thread `thread`, which never resumes).
  void failFrom(int64_t thread, const std::string &what) {
    fail("thread " + std::to_string(thread) + ": " + what);
    suspend(thread);
  }

  bool inShared(uintptr_t address, int64_t bytes) const {
    auto begin = reinterpret_cast<uintptr_t>(workspace.get());
    return address >= begin && address + bytes <= begin + workspaceBytes;
  }

  void wakeWaitersOf(uintptr_t barrier) {
    for (Fiber &f : fibers)
      if (f.state == Fiber::Waiting && f.waitingFor == barrier)
        f.state = Fiber::Ready;
  }

  void tensorCopy(int64_t thread, int64_t operation, uintptr_t barrierAddress,
                  uintptr_t shared, const EmulatedTensorMap *map, int64_t value,
                  std::array<int64_t, 5> coordinates) {
    if (operation == kMapAcquire) {
      fibers[thread].acquiredMaps.insert(reinterpret_cast<uintptr_t>(map));
      return;
    }
    if (!inShared(barrierAddress, 8) || barrierAddress % 8 != 0)
      failFrom(thread, "an mbarrier outside shared memory or not 8-byte aligned");
    auto known = mbarriers.find(barrierAddress);
    if (operation == kBarrierInit) {
      if (known != mbarriers.end())
        failFrom(thread, "mbarrier.init on an mbarrier that is in use (not invalidated)");
      if (value < 1 || value >= (1 << 20))
        failFrom(thread, "mbarrier.init with " + std::to_string(value) + " arrivals");
      Mbarrier &b = mbarriers[barrierAddress];
      b.arrivals = b.pendingArrivals = value;
      return;
    }
    if (known == mbarriers.end())
      failFrom(thread, "an mbarrier operation on memory that is not an initialized mbarrier");
    Mbarrier &b = known->second;
    if (operation == kBarrierInval) {
      if (!b.copies.empty() || b.pendingBytes != 0)
        failFrom(thread, "mbarrier.inval with tensor copies still in flight");
      mbarriers.erase(known);
    } else if (operation == kBarrierArriveExpectBytes || operation == kBarrierArrive) {
      if (operation == kBarrierArriveExpectBytes)
        b.pendingBytes += value;
      if (--b.pendingArrivals < 0)
        failFrom(thread, "more arrivals on an mbarrier than its phase expects");
      // A phase of plain arrivals, with no bytes or copies pending,
      // completes with its last one (one with copies when a wait lands
      // them).
      if (operation == kBarrierArrive && b.pendingArrivals == 0 && b.pendingBytes == 0 &&
          b.copies.empty()) {
        ++b.phase;
        b.pendingArrivals = b.arrivals;
      }
      wakeWaitersOf(barrierAddress);
    } else if (operation == kTensorCopy) {
      // The CUDA programming guide's condition for a map the host wrote:
      // the thread that copies through it acquires it first.
      if (!fibers[thread].acquiredMaps.count(reinterpret_cast<uintptr_t>(map)))
        failFrom(thread, "a tensor copy through a map this thread did not acquire "
                         "(fence.proxy.tensormap::generic.acquire)");
      b.copies.push_back(readBox(thread, shared, map, coordinates));
      for (const auto &chunk : b.copies.back().chunks)
        checkNotReadByWgmmaInFlight(thread, chunk.first, 16, "a tensor copy");
      wakeWaitersOf(barrierAddress);
    } else if (operation == kBarrierWait) {
      // Parity p is done once the current phase's parity is not p.
      for (;;) {
        Mbarrier &current = mbarriers.at(barrierAddress);
        if ((current.phase & 1) != (value & 1))
          return;
        if (current.pendingArrivals == 0) {
          for (const PendingBox &box : current.copies) {
            for (const auto &[at, bytes] : box.chunks)
              std::memcpy(at, bytes.data(), bytes.size());
            current.pendingBytes -= box.bytes;
          }
          current.copies.clear();
          if (current.pendingBytes < 0)
            failFrom(thread, "tensor copies brought more bytes than their mbarrier's phase "
                             "expects");
          if (current.pendingBytes == 0) {
            ++current.phase;
            current.pendingArrivals = current.arrivals;
            wakeWaitersOf(barrierAddress);
            continue;
          }
        }
        // Arrivals or copies to come (a deadlock if none ever does).
        fibers[thread].waitingFor = barrierAddress;
        suspend(thread);
        fibers[thread].waitingFor = 0;
        if (mbarriers.find(barrierAddress) == mbarriers.end())
          failFrom(thread, "an mbarrier invalidated while a thread waits on it");
      }
    } else {
      failFrom(thread, "unknown tensor copy operation " + std::to_string(operation));
    }
  }

  /// The box at `coordinates` of the tensor `map` describes, as the copy
  /// to `shared` will write it: rows of box[0] elements one after the
  /// other, swizzled, zeros where the box is past the tensor.
  PendingBox readBox(int64_t thread, uintptr_t shared, const EmulatedTensorMap *map,
                     const std::array<int64_t, 5> &coordinates) {
    if (!map || map->magic != kTensorMapMagic)
      failFrom(thread, "a tensor copy through a map the host did not build (a zero map: "
                       "the kernel should have copied this tensor by other means)");
    int64_t eb = map->elementBytes, rowBytes = map->box[0] * eb, rows = 1;
    for (int32_t d = 1; d < map->rank; ++d)
      rows *= map->box[d];
    if (rowBytes % 16 != 0 || (map->swizzleBytes && rowBytes != map->swizzleBytes))
      failFrom(thread, "a tensor copy whose box rows (" + std::to_string(rowBytes) +
                           " bytes) do not fit its swizzle (" +
                           std::to_string(map->swizzleBytes) + " bytes)");
    if (shared % 128 != 0 || !inShared(shared, rows * rowBytes))
      failFrom(thread, "a tensor copy to shared memory outside the block's or not 128-byte "
                       "aligned");
    PendingBox box;
    box.bytes = rows * rowBytes;
    for (int64_t row = 0; row < rows; ++row) {
      // The row's coordinates in dimensions 1 ..; inside the tensor?
      int64_t rest = row, offset = 0;
      bool inside = true;
      for (int32_t d = 1; d < map->rank; ++d) {
        int64_t at = static_cast<int32_t>(coordinates[d]) + rest % map->box[d];
        rest /= map->box[d];
        inside = inside && at >= 0 && static_cast<uint64_t>(at) < map->dims[d];
        offset += at * static_cast<int64_t>(map->strides[d - 1]);
      }
      for (int64_t chunk = 0; chunk < rowBytes / 16; ++chunk) {
        std::array<uint8_t, 16> bytes{};
        for (int64_t e = 0; e < 16 / eb; ++e) {
          int64_t column = static_cast<int32_t>(coordinates[0]) + chunk * (16 / eb) + e;
          if (inside && column >= 0 && static_cast<uint64_t>(column) < map->dims[0])
            std::memcpy(bytes.data() + e * eb, map->start + offset + column * eb, eb);
        }
        uintptr_t logical = shared + row * rowBytes + chunk * 16;
        box.chunks.emplace_back(
            reinterpret_cast<uint8_t *>(swizzled(logical, map->swizzleBytes)), bytes);
      }
    }
    return box;
  }

  void asyncCopy(int64_t thread, int64_t operation, uint8_t *shared,
                 const uint8_t *global, int64_t bytes, int64_t sourceBytes) {
    Fiber &f = fibers[thread];
    if (operation == kAsyncCopy) {
      uint8_t *begin = workspace.get();
      if ((bytes != 4 && bytes != 8 && bytes != 16) || sourceBytes < 0 ||
          sourceBytes > bytes) {
        fail("cp.async of " + std::to_string(bytes) + " bytes reading " +
             std::to_string(sourceBytes));
        suspend(thread);
      }
      if (shared < begin || shared + bytes > begin + workspaceBytes) {
        fail("thread " + std::to_string(thread) + ": cp.async to outside shared memory");
        suspend(thread);
      }
      if ((shared - begin) % bytes != 0 ||
          (sourceBytes > 0 && reinterpret_cast<uintptr_t>(global) % bytes != 0)) {
        fail("thread " + std::to_string(thread) + ": cp.async of " +
             std::to_string(bytes) + " bytes with a misaligned address");
        suspend(thread);
      }
      checkNotReadByWgmmaInFlight(thread, shared, bytes, "cp.async");
      PendingCopy copy{shared, {}, bytes, sourceBytes};
      std::memcpy(copy.data.data(), global, sourceBytes);
      f.openCopies.push_back(copy);
    } else if (operation == kAsyncCommit) {
      f.copyGroups.push_back(std::move(f.openCopies));
      f.openCopies.clear();
    } else if (operation == kAsyncWait) {
      while (static_cast<int64_t>(f.copyGroups.size()) > bytes) {
        for (const PendingCopy &c : f.copyGroups.front()) {
          std::memcpy(c.shared, c.data.data(), c.sourceBytes);
          std::memset(c.shared + c.sourceBytes, 0, c.bytes - c.sourceBytes);
        }
        f.copyGroups.pop_front();
      }
    } else {
      fail("unknown asynchronous copy operation " + std::to_string(operation));
      suspend(thread);
    }
  }

  /// wgmma.commit_group: the lane's wgmmas since its last commit (its
  /// warpgroup's open group) are committed; the group closes once every
  /// lane committed it. wgmma.wait_group N: the lane's committed groups
  /// but the N newest are retired; a group retired by all 128 lanes no
  /// longer holds its shared memory.
  void wgmmaGroupOperation(int64_t thread, int64_t instruction) {
    Fiber &f = fibers[thread];
    if (thread / 128 >= static_cast<int64_t>(openWgmmaGroups.size()) ||
        (thread / 128 + 1) * 128 > threads)
      failFrom(thread, "wgmma.commit_group or wait_group outside a whole warpgroup");
    if (instruction == kWgmmaCommitGroup) {
      OpenWgmmaGroup &open = openWgmmaGroups[thread / 128];
      if (!open.group) {
        open.group = std::make_shared<WgmmaGroup>(); // an empty group
        wgmmaGroupsInFlight.push_back(open.group);
      }
      f.wgmmaGroups.push_back(open.group);
      if (++open.committed == 128)
        open = OpenWgmmaGroup{};
      return;
    }
    int64_t pending = instruction - kWgmmaWaitGroup;
    while (static_cast<int64_t>(f.wgmmaGroups.size()) > pending) {
      if (--f.wgmmaGroups.front()->lanesInFlight == 0)
        wgmmaGroupsInFlight.erase(std::find(wgmmaGroupsInFlight.begin(),
                                            wgmmaGroupsInFlight.end(),
                                            f.wgmmaGroups.front()));
      f.wgmmaGroups.pop_front();
    }
  }

  /// Fails when [at, at + bytes) of shared memory is read by a wgmma whose
  /// group some lane has not retired: a copy issued there now may land
  /// before the tensor cores read it.
  void checkNotReadByWgmmaInFlight(int64_t thread, const uint8_t *at, int64_t bytes,
                                   const char *what) {
    int64_t offset = at - workspace.get();
    for (const std::shared_ptr<WgmmaGroup> &group : wgmmaGroupsInFlight)
      if (group->reads.overlaps(offset, bytes))
        failFrom(thread, std::string(what) + " writes shared memory (byte " +
                             std::to_string(offset) +
                             ") that a wgmma in flight reads: no wgmma.wait_group retired "
                             "it before the copy was issued");
  }

  /// Barrier `id` (0 to 15) of `count` threads (0: the whole block): the
  /// threads that wait there must all name the same site, and all its
  /// threads the same count; `arriveOnly` counts the thread in without
  /// waiting (bar.arrive, from any site).
  void barrier(int64_t thread, int64_t site, int64_t id, int64_t count, bool arriveOnly) {
    int64_t expected = count ? count : threads;
    if (id < 0 || id >= static_cast<int64_t>(barriers.size()) || expected > threads ||
        expected % kWarpSize != 0) {
      fail("thread " + std::to_string(thread) + ": barrier " + std::to_string(id) + " of " +
           std::to_string(expected) + " threads in a block of " + std::to_string(threads));
      suspend(thread); // never resumed
    }
    NamedBarrier &named = barriers[id];
    if ((named.arrived > 0 && expected != named.expected) ||
        (!arriveOnly && named.waiting > 0 && site != named.site)) {
      fail("threads meet at different barriers (#" + std::to_string(named.site) + " and #" +
           std::to_string(site) + (id ? ", named barrier " + std::to_string(id) : "") + ")");
      suspend(thread); // never resumed
    }
    named.expected = expected;
    if (!arriveOnly)
      named.site = site;
    if (++named.arrived == expected) {
      named.arrived = 0;
      named.waiting = 0;
      for (Fiber &f : fibers)
        if (f.state == Fiber::Waiting && f.atBarrier == id) {
          f.atBarrier = -1;
          f.state = Fiber::Ready;
        }
      return;
    }
    if (arriveOnly)
      return;
    ++named.waiting;
    fibers[thread].atBarrier = id;
    suspend(thread);
  }

  void matrix(int64_t thread, uint32_t *words, int64_t instruction) {
    if (instruction >= kVectorAccess && instruction <= kVectorAccess + 4) {
      uint64_t address = 0;
      std::memcpy(&address, words, sizeof(address));
      uint64_t alignment = uint64_t{1} << (instruction - kVectorAccess);
      if (address % alignment != 0) {
        std::ostringstream message;
        message << "a vector access at address 0x" << std::hex << address << std::dec
                << " is not aligned to its " << alignment
                << " bytes (a GPU faults: misaligned address)";
        failFrom(thread, message.str());
      }
      return;
    }
    if (instruction == kWgmmaCommitGroup ||
        (instruction >= kWgmmaWaitGroup && instruction < kWgmmaWaitGroup + 8)) {
      wgmmaGroupOperation(thread, instruction);
      return;
    }
    // Words in and out, and the lanes that meet, per instruction.
    int64_t in = 0, out = 0, lanes = kWarpSize;
    int64_t ldmatrixCode = instruction - kLdmatrix;
    // wgmma: 2 (N / 8 - 1) + f16 from either base (-1: not wgmma).
    int64_t wgmmaCode = -1;
    bool registerA = false, bMnMajor = false;
    for (int64_t base :
         {kWgmma, kWgmmaTransposedB, kWgmmaRegisterA, kWgmmaRegisterATransposedB})
      if (instruction >= base && instruction < base + 2 * (kWgmmaMaxN / 8)) {
        wgmmaCode = instruction - base;
        registerA = base == kWgmmaRegisterA || base == kWgmmaRegisterATransposedB;
        bMnMajor = base == kWgmmaTransposedB || base == kWgmmaRegisterATransposedB;
      }
    if (instruction == kMmaM16N8K16Bf16 || instruction == kMmaM16N8K16F16) {
      in = 10, out = 4;
    } else if (instruction == kWarpSync) {
      in = 0, out = 0; // the lanes meet, nothing else
    } else if (gpu_emulator::isShuffleXor(instruction)) {
      in = 1, out = 1;
    } else if (ldmatrixCode >= 0 && ldmatrixCode < 8 && ldmatrixCode / 2 != 2) {
      in = 2, out = ldmatrixCode / 2 + 1;
    } else if (instruction == kMfma16x16x16Bf16 || instruction == kMfma16x16x16F16) {
      in = 8, out = 4, lanes = 64;
    } else if (instruction == kWmma16x16x16Bf16 || instruction == kWmma16x16x16F16) {
      in = 24, out = 8;
    } else if (wgmmaCode >= 0) {
      int64_t n = (wgmmaCode / 2 + 1) * 8;
      in = (registerA ? 6 : 4) + n / 2, out = n / 2, lanes = 128;
    } else {
      fail("unknown matrix instruction " + std::to_string(instruction));
      suspend(thread);
    }
    int64_t first = thread / lanes * lanes;
    if (first + lanes > threads) {
      fail("a block of " + std::to_string(threads) + " threads has no whole group of " +
           std::to_string(lanes) + " lanes for a matrix instruction");
      suspend(thread);
    }
    // Warpgroup instructions meet apart from warp instructions.
    Warp &warp = (lanes == 128 ? warpgroups : warps)[thread / lanes];
    int64_t lane = thread - first;
    if (warp.arrived > 0 && warp.instruction != instruction) {
      fail("the lanes of warp " + std::to_string(thread / lanes) +
           " issue different matrix instructions");
      suspend(thread);
    }
    warp.instruction = instruction;
    warp.lanes = lanes;
    std::memcpy(warp.words[lane].data(), words, in * sizeof(uint32_t));
    warp.results[lane] = words;
    fibers[thread].inWarpInstruction = true;
    if (++warp.arrived < lanes) {
      suspend(thread);
      return;
    }
    LaneWords *w = warp.words.data();
    bool bf16 = instruction == kMmaM16N8K16Bf16 || instruction == kMfma16x16x16Bf16 ||
                instruction == kWmma16x16x16Bf16;
    if (instruction == kWarpSync) {
    } else if (instruction <= kMmaM16N8K16F16) {
      mmaM16N8K16(w, bf16);
    } else if (gpu_emulator::isShuffleXor(instruction)) {
      for (int64_t l = 0; l < kWarpSize; ++l)
        w[l][1] = w[l ^ (instruction - kShuffleXor)][0];
    } else if (wgmmaCode >= 0) {
      OpenWgmmaGroup &open = openWgmmaGroups[thread / 128];
      if (!open.group) {
        open.group = std::make_shared<WgmmaGroup>();
        open.group->reads = SharedChunks(workspaceBytes);
        wgmmaGroupsInFlight.push_back(open.group);
      }
      std::string error = wgmma(w, (wgmmaCode / 2 + 1) * 8, wgmmaCode % 2 == 0, bMnMajor,
                                registerA, workspace.get(), workspaceBytes, open.group->reads);
      if (!error.empty()) {
        fail(error);
        suspend(thread);
      }
    } else if (instruction >= kLdmatrix) {
      ldmatrix(w, ldmatrixCode / 2 + 1, ldmatrixCode % 2);
    } else if (instruction <= kMfma16x16x16F16) {
      mfma16x16x16(w, bf16);
    } else if (!wmma16x16x16(w, bf16)) {
      fail("lanes 16-31 of wave " + std::to_string(thread / lanes) +
           " give WMMA other operands than lanes 0-15");
      suspend(thread);
    }
    for (int64_t l = 0; l < lanes; ++l) {
      std::memcpy(warp.results[l] + in, warp.words[l].data() + in, out * sizeof(uint32_t));
      warp.results[l] = nullptr;
      Fiber &f = fibers[first + l];
      f.inWarpInstruction = false;
      if (f.state == Fiber::Waiting)
        f.state = Fiber::Ready;
    }
    warp.arrived = 0;
  }

  std::string describeStuck() const {
    std::string text = "deadlock: ";
    for (size_t id = 0; id < barriers.size(); ++id)
      if (barriers[id].arrived > 0)
        text += std::to_string(barriers[id].arrived) + " of " +
                std::to_string(barriers[id].expected) + " threads wait at barrier #" +
                std::to_string(barriers[id].site) +
                (id ? " (named barrier " + std::to_string(id) + ")" : std::string()) + ", ";
    for (size_t w = 0; w < warpgroups.size(); ++w)
      if (warpgroups[w].arrived > 0)
        text += std::to_string(warpgroups[w].arrived) + " of 128 lanes of warpgroup " +
                std::to_string(w) + " wait in a warpgroup instruction, ";
    for (size_t w = 0; w < warps.size(); ++w)
      if (warps[w].arrived > 0)
        text += std::to_string(warps[w].arrived) + " of " +
                std::to_string(warps[w].lanes) + " lanes of warp " +
                std::to_string(w) + " wait in a warp instruction, ";
    int64_t onMbarriers = 0;
    for (const Fiber &f : fibers)
      onMbarriers += f.waitingFor != 0;
    if (onMbarriers)
      text += std::to_string(onMbarriers) + " threads wait on mbarriers whose phase never "
              "completes, ";
    return text + std::to_string(finished) + " returned";
  }

  void fail(const std::string &what) {
    if (failure.empty())
      failure = "block (" + std::to_string(block[0]) + ", " + std::to_string(block[1]) +
                ", " + std::to_string(block[2]) + "): " + what;
  }

  static thread_local BlockRunner *active;

  CpuKernelEntry entry;
  const int64_t threads;
  const std::array<int64_t, 3> grid;
  std::array<int64_t, 3> block{0, 0, 0};
  std::vector<Fiber> fibers;
  /// The order of the next pass over the fibers, and its generator's seed.
  std::vector<int64_t> schedule;
  uint64_t seed = 0;
  std::vector<Warp> warps, warpgroups;
  std::unique_ptr<uint8_t, decltype(&std::free)> workspace{nullptr, &std::free};
  int64_t workspaceBytes = 0;
  std::pair<uint8_t *, size_t> stacks{nullptr, 0};
  bool guarded = true;
  ucontext_t scheduler;
  int64_t current = 0, finished = 0;
  /// The block's 16 barriers (bar.sync 0 to 15): threads waiting, at
  /// which site, for how many.
  struct NamedBarrier {
    int64_t arrived = 0, waiting = 0, site = -1, expected = 0;
  };
  std::array<NamedBarrier, 16> barriers{};
  std::map<uintptr_t, Mbarrier> mbarriers;
  std::vector<OpenWgmmaGroup> openWgmmaGroups; // per warpgroup
  std::vector<std::shared_ptr<WgmmaGroup>> wgmmaGroupsInFlight;
  std::string failure;
};

thread_local BlockRunner *BlockRunner::active = nullptr;

class GpuEmulatorRunner : public KernelRunner {
public:
  GpuEmulatorRunner(std::unique_ptr<CpuKernelLibrary> library,
                    std::map<std::string, KernelConfig> configs)
      : library(std::move(library)), configs(std::move(configs)) {}

  bool launch(const std::string &kernel, const std::vector<StridedBuffer> &buffers,
              std::array<int64_t, 3> grid, std::string &error) override {
    auto config = configs.find(kernel);
    if (config == configs.end()) {
      error = "the manifest has no launch configuration for kernel '" + kernel + "'";
      return false;
    }
    // A launch a GPU would refuse (CUDA's and HIP's grid limits) is
    // refused here too.
    if (!gridFits(kernel, grid, kGpuGridLimits, error))
      return false;
    CpuKernelEntry entry = library->lookup(kernel, error);
    if (!entry)
      return false;
    // Tensor maps (TensorMaps.h), in the emulator's format.
    std::vector<uint8_t> maps;
    std::vector<StridedBuffer> withMaps;
    const std::vector<TensorMapSpec> &specs = config->second.tensorMaps;
    if (!specs.empty()) {
      int64_t kernelBytes;
      std::string refused; // the emulator's encoder refuses nothing it is given
      if (!buildTensorMaps(specs, buffers, encodeEmulatedTensorMap, maps, kernelBytes,
                           refused, error)) {
        error = "kernel '" + kernel + "': " + error;
        return false;
      }
      withMaps = buffers;
      withMaps.push_back(StridedBuffer::contiguous(maps.data(), {kernelBytes}));
    }
    if (!emulateKernel(entry, specs.empty() ? buffers : withMaps, grid,
                       config->second.threads, config->second.sharedBytes, error)) {
      error = "kernel '" + kernel + "' under the GPU emulator, " + error;
      return false;
    }
    return true;
  }

private:
  std::unique_ptr<CpuKernelLibrary> library;
  std::map<std::string, KernelConfig> configs;
};

} // namespace

bool encodeEmulatedTensorMap(const TensorMapSpec &spec, const TensorMapGeometry &geometry,
                             void *out, std::string &error) {
  EmulatedTensorMap map{};
  map.magic = kTensorMapMagic;
  map.start = geometry.start;
  map.rank = static_cast<int32_t>(geometry.dims.size());
  map.elementBytes = static_cast<int32_t>(spec.elementBytes);
  map.swizzleBytes = static_cast<int32_t>(spec.swizzleBytes);
  if (map.rank > 5 || spec.box.size() != geometry.dims.size()) {
    error = "a tensor map of rank " + std::to_string(map.rank);
    return false;
  }
  for (int32_t d = 0; d < map.rank; ++d) {
    map.dims[d] = geometry.dims[d];
    map.box[d] = static_cast<uint32_t>(spec.box[d]);
    if (d > 0)
      map.strides[d - 1] = geometry.strides[d - 1];
  }
  std::memcpy(out, &map, sizeof(map));
  return true;
}

bool emulateKernel(CpuKernelEntry entry, const std::vector<StridedBuffer> &buffers,
                   std::array<int64_t, 3> grid, int64_t threads,
                   int64_t sharedBytes, std::string &error) {
  if (threads <= 0 || grid[0] <= 0 || grid[1] <= 0 || grid[2] <= 0) {
    error = "an empty block or grid";
    return false;
  }
  int64_t blocks = grid[0] * grid[1] * grid[2];
  int64_t workers = std::min<int64_t>(
      blocks, std::max<unsigned>(1, std::thread::hardware_concurrency()));
  std::atomic<int64_t> next{0};
  std::mutex mutex;
  int64_t failedBlock = blocks;
  std::string failure;
  auto work = [&] {
    BlockRunner runner(entry, buffers, threads, sharedBytes, grid);
    if (!runner.ready()) {
      std::lock_guard<std::mutex> lock(mutex);
      if (failure.empty())
        failure = "cannot map the emulated threads' stacks (with guard pages) or "
                  "shared memory";
      failedBlock = -1;
      return;
    }
    for (int64_t b = next++; b < blocks; b = next++) {
      {
        std::lock_guard<std::mutex> lock(mutex);
        if (b > failedBlock)
          return;
      }
      std::string message = runner.run(b);
      if (!message.empty()) {
        // The first failing block in grid order, whatever the timing.
        std::lock_guard<std::mutex> lock(mutex);
        if (b < failedBlock && failedBlock >= 0) {
          failedBlock = b;
          failure = message;
        }
        return;
      }
    }
  };
  std::vector<std::thread> pool;
  for (int64_t w = 1; w < workers; ++w)
    pool.emplace_back(work);
  work();
  for (std::thread &t : pool)
    t.join();
  error = failure;
  return error.empty();
}

void registerGpuEmulatorRuntime() {
  for (const char *backend : {"nvidia-emulated", "amd-emulated"})
    registerKernelRunner(
        backend, [](const std::string &directory, const Manifest &manifest,
                    std::string &error) -> std::unique_ptr<KernelRunner> {
          std::unique_ptr<CpuKernelLibrary> library =
              CpuKernelLibrary::load(directory + "/" + manifest.library, error);
          if (!library)
            return nullptr;
          return std::make_unique<GpuEmulatorRunner>(std::move(library),
                                                     manifest.kernels);
        });
}

} // namespace prism::runtime
