//===- GpuEmulatorRuntime.cpp - Running GPU kernels on host threads -------===//
//
// The runtime of "nvidia-emulated" bundles: each kernel is a CPU function
// (prism-emulate-gpu-kernels-on-cpu) run once per GPU thread, every thread
// of a block a host thread, the blocks of the grid one after another. The
// thread context (EmulatorAbi.h) provides what the hardware would:
//
// - block barriers, which also catch what hardware leaves undefined:
//   threads meeting at different barriers, and barriers some threads of
//   the block never reach (they returned, or wait elsewhere): both are
//   reported with the block and the barrier, instead of hanging;
// - mma.sync m16n8k16 (bf16/f16 into f32) as PTX defines it: the 32 lanes
//   of a warp meet, the warp's A, B and C are assembled from the lanes'
//   registers in the documented fragment layout, and each lane gets its
//   part of D;
// - shared memory filled with 0xFF bytes (NaN as floats) before each
//   block, so a kernel reading shared memory it never wrote gets NaN in
//   its outputs rather than a lucky zero.
//
// Buffers are host memory (usesHostMemory), so bundles run on host arrays.
//
//===----------------------------------------------------------------------===//

#include "targets/gpu-emulator/runtime/GpuEmulator.h"
#include "targets/gpu-emulator/EmulatorAbi.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <condition_variable>
#include <csetjmp>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace prism::runtime {
namespace {

using gpu_emulator::kMmaM16N8K16Bf16;
using gpu_emulator::kMmaM16N8K16F16;
using gpu_emulator::kMmaM16N8K16Words;
using gpu_emulator::ThreadContext;

constexpr int64_t kWarpSize = 32;

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

using LaneWords = std::array<uint32_t, kMmaM16N8K16Words>;

/// D = A B + C for one warp, m16n8k16, A row-major and B column-major, in
/// the register layout of the PTX ISA (lane = 4 g + q): A register r holds
/// row g + 8 (r % 2), columns 2q + 8 (r / 2) and the next; B register r
/// holds rows 2q + 8 r and the next, column g; C/D element r is row
/// g + 8 (r / 2), column 2q + r % 2. Two 16-bit elements share a word, the
/// first in the low half.
void mmaM16N8K16(std::array<LaneWords, kWarpSize> &lanes, bool bf16) {
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

/// The rendezvous of one thread block's threads, under one lock. Every
/// wait first checks that it can end: when every thread of the block is
/// waiting or has returned, nothing will release the waiters, and the
/// block fails with a description instead of hanging.
class BlockState {
public:
  BlockState(int64_t threads, std::array<int64_t, 3> grid, uint8_t *workspace,
             int64_t workspaceBytes)
      : threads(threads), grid(grid), workspace(workspace),
        workspaceBytes(workspaceBytes), warps((threads + kWarpSize - 1) / kWarpSize) {
    std::memset(workspace, 0xff, workspaceBytes);
  }

  /// gpu.barrier number `site`; false when the block failed.
  bool barrier(int64_t site) {
    std::unique_lock<std::mutex> lock(mutex);
    if (failed)
      return false;
    if (barrierArrived > 0 && site != barrierSite) {
      fail("threads meet at different barriers (#" + std::to_string(barrierSite) +
           " and #" + std::to_string(site) + ")");
      return false;
    }
    barrierSite = site;
    if (++barrierArrived == threads) {
      waiting -= barrierArrived - 1;
      barrierArrived = 0;
      ++barrierGeneration;
      ready.notify_all();
      return true;
    }
    int64_t generation = barrierGeneration;
    return wait(lock, [&] { return barrierGeneration != generation; });
  }

  /// A warp-wide matrix instruction; false when the block failed.
  bool matrix(int64_t thread, uint32_t *words, int64_t instruction) {
    if (instruction != kMmaM16N8K16Bf16 && instruction != kMmaM16N8K16F16) {
      std::unique_lock<std::mutex> lock(mutex);
      fail("unknown matrix instruction " + std::to_string(instruction));
      return false;
    }
    std::unique_lock<std::mutex> lock(mutex);
    if (failed)
      return false;
    Warp &warp = warps[thread / kWarpSize];
    int64_t lane = thread % kWarpSize;
    if (warp.arrived > 0 && warp.instruction != instruction) {
      fail("the lanes of warp " + std::to_string(thread / kWarpSize) +
           " issue different matrix instructions");
      return false;
    }
    warp.instruction = instruction;
    std::memcpy(warp.lanes[lane].data(), words, 10 * sizeof(uint32_t));
    int64_t generation = warp.generation;
    if (++warp.arrived == kWarpSize) {
      mmaM16N8K16(warp.lanes, instruction == kMmaM16N8K16Bf16);
      waiting -= kWarpSize - 1;
      warp.arrived = 0;
      ++warp.generation;
      ready.notify_all();
    } else if (!wait(lock, [&] { return warp.generation != generation; })) {
      return false;
    }
    std::memcpy(words + 10, warp.lanes[lane].data() + 10, 4 * sizeof(uint32_t));
    return true;
  }

  /// This thread returned from the kernel for the current block; waits
  /// for the others, then readies the next block. False when it failed.
  bool endBlock() {
    std::unique_lock<std::mutex> lock(mutex);
    if (failed)
      return false;
    if (++finished == threads) {
      finished = 0;
      ++blockGeneration;
      std::memset(workspace, 0xff, workspaceBytes);
      ready.notify_all();
      return true;
    }
    if (waiting > 0 && waiting + finished == threads) {
      fail(describeStuck());
      return false;
    }
    int64_t generation = blockGeneration;
    ready.wait(lock, [&] { return failed || blockGeneration != generation; });
    return !failed;
  }

  const std::string &error() const { return message; }

private:
  struct Warp {
    int64_t arrived = 0, generation = 0, instruction = -1;
    std::array<LaneWords, kWarpSize> lanes{};
  };

  template <typename Done>
  bool wait(std::unique_lock<std::mutex> &lock, Done done) {
    ++waiting;
    if (waiting + finished == threads) {
      fail(describeStuck());
      return false;
    }
    ready.wait(lock, [&] { return failed || done(); });
    return !failed;
  }

  std::string describeStuck() const {
    std::string text = "deadlock: ";
    if (barrierArrived > 0)
      text += std::to_string(barrierArrived) + " of " + std::to_string(threads) +
              " threads wait at barrier #" + std::to_string(barrierSite) + ", ";
    for (size_t w = 0; w < warps.size(); ++w)
      if (warps[w].arrived > 0)
        text += std::to_string(warps[w].arrived) + " of 32 lanes of warp " +
                std::to_string(w) + " wait in mma.sync, ";
    return text + std::to_string(finished) + " returned";
  }

  /// Blocks run in order x, then y, then z: the one running is the
  /// number of blocks that ended.
  void fail(const std::string &what) {
    int64_t x = blockGeneration % grid[0], y = blockGeneration / grid[0] % grid[1],
            z = blockGeneration / (grid[0] * grid[1]);
    if (!failed)
      message = "block (" + std::to_string(x) + ", " + std::to_string(y) + ", " +
                std::to_string(z) + "): " + what;
    failed = true;
    ready.notify_all();
  }

  std::mutex mutex;
  std::condition_variable ready;
  const int64_t threads;
  const std::array<int64_t, 3> grid;
  uint8_t *workspace;
  int64_t workspaceBytes;
  bool failed = false;
  std::string message;
  int64_t waiting = 0, finished = 0, blockGeneration = 0;
  int64_t barrierArrived = 0, barrierGeneration = 0, barrierSite = -1;
  std::vector<Warp> warps;
};

/// One emulated thread: the context the kernel sees, first, then where
/// to return to when its block fails (the kernel's frames are compiled
/// code without destructors; the callbacks leave no C++ objects behind).
struct EmulatedThread {
  ThreadContext context;
  BlockState *block;
  std::jmp_buf abort;
};
static_assert(offsetof(EmulatedThread, context) == 0);

void barrierCallback(ThreadContext *self, int64_t site) {
  auto *thread = reinterpret_cast<EmulatedThread *>(self);
  if (!thread->block->barrier(site))
    std::longjmp(thread->abort, 1);
}

void matrixCallback(ThreadContext *self, void *fragments, int64_t instruction) {
  auto *thread = reinterpret_cast<EmulatedThread *>(self);
  if (!thread->block->matrix(self->threadId, static_cast<uint32_t *>(fragments),
                             instruction))
    std::longjmp(thread->abort, 1);
}

/// Runs thread `threadId` of every block of `grid`, in order.
void runThread(CpuKernelEntry entry, const std::vector<StridedBuffer> &buffers,
               const StridedBuffer &workspace, BlockState &block,
               std::array<int64_t, 3> grid, int64_t threadId) {
  EmulatedThread thread;
  thread.context.threadId = threadId;
  thread.context.barrier = barrierCallback;
  thread.context.matrix = matrixCallback;
  thread.block = &block;
  KernelArguments arguments;
  for (const StridedBuffer &buffer : buffers)
    arguments.addBuffer(buffer);
  arguments.addBuffer(workspace);
  arguments.addPointer(&thread.context);
  void **pointers = arguments.pointers();
  for (int64_t z = 0; z < grid[2]; ++z)
    for (int64_t y = 0; y < grid[1]; ++y)
      for (int64_t x = 0; x < grid[0]; ++x) {
        if (setjmp(thread.abort) == 0)
          entry(pointers, x, y, z, grid[0], grid[1], grid[2]);
        if (!block.endBlock())
          return;
      }
}

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
    CpuKernelEntry entry = library->lookup(kernel, error);
    if (!entry)
      return false;
    if (!emulateKernel(entry, buffers, grid, config->second.threads,
                       config->second.sharedBytes, error)) {
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

bool emulateKernel(CpuKernelEntry entry, const std::vector<StridedBuffer> &buffers,
                   std::array<int64_t, 3> grid, int64_t threads,
                   int64_t sharedBytes, std::string &error) {
  if (threads <= 0 || grid[0] <= 0 || grid[1] <= 0 || grid[2] <= 0) {
    error = "an empty block or grid";
    return false;
  }
  int64_t bytes = std::max<int64_t>(sharedBytes, 1);
  std::unique_ptr<uint8_t, decltype(&std::free)> memory(
      static_cast<uint8_t *>(std::aligned_alloc(64, (bytes + 63) / 64 * 64)),
      &std::free);
  if (!memory) {
    error = "out of memory for the emulated shared memory";
    return false;
  }
  StridedBuffer workspace = StridedBuffer::contiguous(memory.get(), {bytes});
  BlockState block(threads, grid, memory.get(), bytes);
  std::vector<std::thread> workers;
  workers.reserve(threads);
  for (int64_t t = 0; t < threads; ++t)
    workers.emplace_back(runThread, entry, std::cref(buffers), std::cref(workspace),
                         std::ref(block), grid, t);
  for (std::thread &worker : workers)
    worker.join();
  error = block.error();
  return error.empty();
}

void registerGpuEmulatorRuntime() {
  registerKernelRunner(
      "nvidia-emulated",
      [](const std::string &directory, const Manifest &manifest,
         std::string &error) -> std::unique_ptr<KernelRunner> {
        std::unique_ptr<CpuKernelLibrary> library =
            CpuKernelLibrary::load(directory + "/" + manifest.library, error);
        if (!library)
          return nullptr;
        return std::make_unique<GpuEmulatorRunner>(std::move(library), manifest.kernels);
      });
}

} // namespace prism::runtime
