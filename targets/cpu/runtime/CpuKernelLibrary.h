//===- CpuKernelLibrary.h - Load and launch compiled CPU kernels -*- C++ -*-===//
//
// Part of the runtime: depends on the C++ standard library and libdl only,
// never on LLVM or MLIR, so that a compiled bundle runs where no compiler is
// installed.
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_TARGETS_CPU_RUNTIME_CPUKERNELLIBRARY_H
#define PRISM_TARGETS_CPU_RUNTIME_CPUKERNELLIBRARY_H

#include "prism/Runtime/Bundle.h"

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace prism::runtime {

/// The packed entry point every CPU kernel exports (see the
/// prism-cpu-pack-kernel-arguments pass).
using CpuKernelEntry = void (*)(void **args, int64_t pidX, int64_t pidY,
                                int64_t pidZ, int64_t numX, int64_t numY,
                                int64_t numZ);

/// The arguments of one kernel launch, in the kernel's order, expanded the
/// way the lowered kernel takes them (a memref is allocated pointer, aligned
/// pointer, offset, sizes, strides). Owns the storage `pointers()` points to.
class KernelArguments {
public:
  void addBuffer(const StridedBuffer &buffer);
  void addIndex(int64_t value);
  void addF32(float value);
  void addPointer(void *pointer);
  /// Pointers to each expanded argument, for CpuKernelEntry's `args`.
  void **pointers();

private:
  std::vector<std::unique_ptr<int64_t>> slots; // 8-byte slots, stable addresses
  std::vector<void *> argumentPointers;
};

/// A shared library of compiled kernels, loaded with dlopen.
class CpuKernelLibrary {
public:
  /// Loads `path`; on failure returns nullptr and sets `error`.
  static std::unique_ptr<CpuKernelLibrary> load(const std::string &path,
                                                std::string &error);
  ~CpuKernelLibrary();
  CpuKernelLibrary(const CpuKernelLibrary &) = delete;
  CpuKernelLibrary &operator=(const CpuKernelLibrary &) = delete;

  /// The entry point of kernel `name`, or nullptr (and `error`).
  CpuKernelEntry lookup(const std::string &name, std::string &error) const;

private:
  explicit CpuKernelLibrary(void *handle) : handle(handle) {}
  void *handle;
};

/// Runs `entry` once for every program instance of `grid` (x, y, z), spread
/// over `numThreads` threads (0: all hardware threads). Program instances
/// are independent by construction of the tile kernels, so the order is
/// free.
void launchGrid(CpuKernelEntry entry, KernelArguments &arguments,
                std::array<int64_t, 3> grid, unsigned numThreads = 0);

/// Registers the CPU runtime (KernelRunner for bundles of target "cpu").
void registerCpuRuntime();

} // namespace prism::runtime

#endif // PRISM_TARGETS_CPU_RUNTIME_CPUKERNELLIBRARY_H
