//===- CpuKernelLibrary.cpp - Load and launch compiled CPU kernels --------===//

#include "targets/cpu/runtime/CpuKernelLibrary.h"

#include <dlfcn.h>

#include <atomic>
#include <map>
#include <mutex>
#include <cstring>
#include <thread>

namespace prism::runtime {

void KernelArguments::addPointer(void *pointer) {
  auto slot = std::make_unique<int64_t>(0);
  std::memcpy(slot.get(), &pointer, sizeof(pointer));
  slots.push_back(std::move(slot));
}

void KernelArguments::addBuffer(const StridedBuffer &buffer) {
  addPointer(buffer.data); // allocated
  addPointer(buffer.data); // aligned
  addIndex(buffer.offset);
  for (int64_t size : buffer.sizes)
    addIndex(size);
  for (int64_t stride : buffer.strides)
    addIndex(stride);
}

void KernelArguments::addIndex(int64_t value) {
  slots.push_back(std::make_unique<int64_t>(value));
}

void KernelArguments::addF32(float value) {
  auto slot = std::make_unique<int64_t>(0);
  std::memcpy(slot.get(), &value, sizeof(value));
  slots.push_back(std::move(slot));
}

void **KernelArguments::pointers() {
  argumentPointers.clear();
  for (auto &slot : slots)
    argumentPointers.push_back(slot.get());
  return argumentPointers.data();
}

std::unique_ptr<CpuKernelLibrary> CpuKernelLibrary::load(const std::string &path,
                                                         std::string &error) {
  void *handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char *message = dlerror();
    error = "cannot load kernel library '" + path +
            "': " + (message ? message : "unknown error");
    return nullptr;
  }
  return std::unique_ptr<CpuKernelLibrary>(new CpuKernelLibrary(handle));
}

CpuKernelLibrary::~CpuKernelLibrary() { dlclose(handle); }

CpuKernelEntry CpuKernelLibrary::lookup(const std::string &name,
                                        std::string &error) const {
  std::string symbol = "prism_kernel_" + name;
  void *address = dlsym(handle, symbol.c_str());
  if (!address)
    error = "kernel '" + name + "' (symbol " + symbol +
            ") is not in the kernel library";
  return reinterpret_cast<CpuKernelEntry>(address);
}

void launchGrid(CpuKernelEntry entry, KernelArguments &arguments,
                std::array<int64_t, 3> grid, unsigned numThreads) {
  int64_t total = grid[0] * grid[1] * grid[2];
  if (total <= 0)
    return;
  void **args = arguments.pointers();
  auto run = [&](int64_t linear) {
    int64_t x = linear % grid[0];
    int64_t y = (linear / grid[0]) % grid[1];
    int64_t z = linear / (grid[0] * grid[1]);
    entry(args, x, y, z, grid[0], grid[1], grid[2]);
  };
  if (numThreads == 0)
    numThreads = std::max(1u, std::thread::hardware_concurrency());
  int64_t workers = std::min<int64_t>(numThreads, total);
  // Kernels write large outputs with non-temporal stores, which x86 orders
  // weakly: each thread fences them before the launch is over (and before
  // another thread or the next launch reads them).
  if (workers == 1) {
    for (int64_t i = 0; i < total; ++i)
      run(i);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    return;
  }
  std::atomic<int64_t> next{0};
  auto work = [&] {
    for (int64_t i = next.fetch_add(1); i < total; i = next.fetch_add(1))
      run(i);
    std::atomic_thread_fence(std::memory_order_seq_cst);
  };
  std::vector<std::thread> threads;
  for (int64_t t = 1; t < workers; ++t)
    threads.emplace_back(work);
  work();
  for (std::thread &thread : threads)
    thread.join();
}

namespace {

/// Runs the kernels of a CPU bundle: its shared library, dlopen'ed once.
class CpuKernelRunner : public KernelRunner {
public:
  explicit CpuKernelRunner(std::unique_ptr<CpuKernelLibrary> library)
      : library(std::move(library)) {}

  bool launch(const std::string &kernel,
              const std::vector<StridedBuffer> &arguments,
              std::array<int64_t, 3> grid, std::string &error) override {
    CpuKernelEntry entry;
    {
      std::lock_guard<std::mutex> lock(mutex);
      auto it = entries.find(kernel);
      if (it == entries.end()) {
        entry = library->lookup(kernel, error);
        if (!entry)
          return false;
        entries.emplace(kernel, entry);
      } else {
        entry = it->second;
      }
    }
    KernelArguments args;
    for (const StridedBuffer &buffer : arguments)
      args.addBuffer(buffer);
    launchGrid(entry, args, grid);
    return true;
  }

private:
  std::unique_ptr<CpuKernelLibrary> library;
  std::mutex mutex;
  std::map<std::string, CpuKernelEntry> entries;
};

} // namespace

void registerCpuRuntime() {
  registerKernelRunner(
      "cpu", [](const std::string &directory, const Manifest &manifest,
                std::string &error) -> std::unique_ptr<KernelRunner> {
        std::unique_ptr<CpuKernelLibrary> library =
            CpuKernelLibrary::load(directory + "/" + manifest.library, error);
        if (!library)
          return nullptr;
        return std::make_unique<CpuKernelRunner>(std::move(library));
      });
}

} // namespace prism::runtime
