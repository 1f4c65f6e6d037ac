//===- AscendEmulationRuntime.cpp - Run Ascend bundles under emulation -----===//
//
// An Ascend bundle carries kernels_emulated.so: its Ascend C kernels
// compiled against Prism's CPU model of the API. Each launch passes the
// arguments' base pointers and a tiling block (the grid, then each
// argument's offset, sizes and strides, as int64) to the kernel's
// emulation entry, which runs one block per vector core the chip has
// (at most one per program, at most the chip's cores of the kernel's
// kind: the entry caps it). Running on an NPU through CANN is not
// implemented.
//
//===----------------------------------------------------------------------===//

#include "prism/Runtime/Bundle.h"

#include <dlfcn.h>

#include <map>
#include <mutex>

namespace prism::runtime {
namespace {

using EmulatedEntry = int (*)(uint8_t **, int64_t *, int64_t, char *, unsigned long);

/// Whether the compiler's model knows the chip (targets/ascend).
bool knownChip(const std::string &target) {
  return target == "ascend" || target == "ascend:910b";
}

class AscendEmulationRunner : public KernelRunner {
public:
  explicit AscendEmulationRunner(void *handle) : handle(handle) {}
  ~AscendEmulationRunner() override { dlclose(handle); }

  bool launch(const std::string &kernel, const std::vector<StridedBuffer> &arguments,
              std::array<int64_t, 3> grid, std::string &error) override {
    EmulatedEntry entry;
    {
      std::lock_guard<std::mutex> lock(mutex);
      auto it = entries.find(kernel);
      if (it == entries.end()) {
        std::string symbol = "prism_ascend_launch_" + kernel;
        entry = reinterpret_cast<EmulatedEntry>(dlsym(handle, symbol.c_str()));
        if (!entry) {
          error = "kernel '" + kernel + "' (symbol " + symbol +
                  ") is not in the emulated Ascend library";
          return false;
        }
        entries.emplace(kernel, entry);
      } else {
        entry = it->second;
      }
    }
    int64_t programs = grid[0] * grid[1] * grid[2];
    if (programs <= 0)
      return true;
    std::vector<uint8_t *> pointers;
    std::vector<int64_t> tiling(grid.begin(), grid.end());
    for (const StridedBuffer &buffer : arguments) {
      pointers.push_back(static_cast<uint8_t *>(buffer.data));
      tiling.push_back(buffer.offset);
      tiling.insert(tiling.end(), buffer.sizes.begin(), buffer.sizes.end());
      tiling.insert(tiling.end(), buffer.strides.begin(), buffer.strides.end());
    }
    char message[1024] = {0};
    // The entry caps the blocks at the chip's cores of the kernel's kind.
    if (entry(pointers.data(), tiling.data(), programs, message, sizeof(message)) != 0) {
      error = "Ascend emulation of kernel '" + kernel + "': " + message;
      return false;
    }
    return true;
  }

private:
  void *handle;
  std::mutex mutex;
  std::map<std::string, EmulatedEntry> entries;
};

} // namespace

void registerAscendRuntime() {
  registerKernelRunner(
      "ascend", [](const std::string &directory, const Manifest &manifest,
                   std::string &error) -> std::unique_ptr<KernelRunner> {
        if (!knownChip(manifest.target)) {
          error = "unknown Ascend chip in target '" + manifest.target + "'";
          return nullptr;
        }
        std::string path = directory + "/" + manifest.library;
        void *handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (!handle) {
          const char *message = dlerror();
          error = "cannot load the emulated Ascend kernels '" + path +
                  "': " + (message ? message : "unknown error");
          return nullptr;
        }
        return std::make_unique<AscendEmulationRunner>(handle);
      });
}

} // namespace prism::runtime
