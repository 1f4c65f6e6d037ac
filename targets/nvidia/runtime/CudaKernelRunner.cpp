//===- CudaKernelRunner.cpp - Running NVIDIA bundles ----------------------===//
//
// Loads the bundle's cubin (or PTX, which the driver compiles) into the
// primary context of device 0, keeps device memory in a caching pool, and
// launches kernels with the memref calling convention of the NVVM lowering:
// each buffer is (allocated, aligned, offset, sizes..., strides...).
//
//===----------------------------------------------------------------------===//

#include "prism/Runtime/Bundle.h"
#include "targets/nvidia/runtime/CudaDriver.h"

#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

namespace prism::runtime {
namespace {

using namespace cuda;

/// Device memory reused by size, like the host BufferPool.
class DevicePool : public std::enable_shared_from_this<DevicePool> {
public:
  explicit DevicePool(const Driver &driver) : driver(driver) {}
  ~DevicePool() {
    for (auto &[bytes, pointer] : free)
      driver.cuMemFree(pointer);
  }

  std::shared_ptr<void> acquire(size_t bytes, std::string &error) {
    size_t rounded = std::max<size_t>(256, (bytes + 255) / 256 * 256);
    CUdeviceptr pointer = 0;
    {
      std::lock_guard<std::mutex> lock(mutex);
      auto it = free.find(rounded);
      if (it != free.end()) {
        pointer = it->second;
        free.erase(it);
      }
    }
    if (!pointer &&
        !driver.check(driver.cuMemAlloc(&pointer, rounded),
                      "cuMemAlloc of " + std::to_string(rounded) + " bytes",
                      error))
      return nullptr;
    std::weak_ptr<DevicePool> self = weak_from_this();
    const Driver *d = &driver;
    return std::shared_ptr<void>(
        reinterpret_cast<void *>(pointer), [self, d, rounded](void *p) {
          auto device = reinterpret_cast<CUdeviceptr>(p);
          if (auto pool = self.lock()) {
            std::lock_guard<std::mutex> lock(pool->mutex);
            pool->free.emplace(rounded, device);
          } else {
            d->cuMemFree(device);
          }
        });
  }

private:
  const Driver &driver;
  std::mutex mutex;
  std::multimap<size_t, CUdeviceptr> free;
};

class CudaKernelRunner : public KernelRunner {
public:
  static std::unique_ptr<KernelRunner> create(const std::string &directory,
                                              const Manifest &manifest,
                                              std::string &error) {
    const Driver *driver = Driver::get(error);
    if (!driver)
      return nullptr;
    CUdevice device;
    CUcontext context;
    if (!driver->check(driver->cuDeviceGet(&device, 0), "cuDeviceGet", error) ||
        !driver->check(driver->cuDevicePrimaryCtxRetain(&context, device),
                       "cuDevicePrimaryCtxRetain", error) ||
        !driver->check(driver->cuCtxSetCurrent(context), "cuCtxSetCurrent", error))
      return nullptr;
    int major = 0, minor = 0;
    driver->cuDeviceGetAttribute(&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device);
    driver->cuDeviceGetAttribute(&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device);

    std::string path = directory + "/" + manifest.library;
    std::ifstream file(path, std::ios::binary);
    if (!file) {
      error = "cannot read " + path;
      return nullptr;
    }
    std::stringstream contents;
    contents << file.rdbuf();
    std::string image = contents.str(); // PTX must be NUL-terminated
    CUmodule module;
    CUresult loaded = driver->cuModuleLoadData(&module, image.c_str());
    if (loaded != CUDA_SUCCESS) {
      error = "cannot load " + path + " (built for " + manifest.target +
              ") on this GPU (compute capability " + std::to_string(major) +
              "." + std::to_string(minor) + "): " + driver->describe(loaded);
      return nullptr;
    }
    return std::unique_ptr<KernelRunner>(
        new CudaKernelRunner(*driver, context, module, manifest));
  }

  ~CudaKernelRunner() override {
    pool.reset();
    driver.cuModuleUnload(module);
  }

  bool launch(const std::string &kernel,
              const std::vector<StridedBuffer> &arguments,
              std::array<int64_t, 3> grid, std::string &error) override {
    auto config = configs.find(kernel);
    if (config == configs.end()) {
      error = "the manifest has no launch configuration for kernel '" + kernel + "'";
      return false;
    }
    // The runtime may be called from any host thread.
    if (!driver.check(driver.cuCtxSetCurrent(context), "cuCtxSetCurrent", error))
      return false;
    CUfunction function = lookup(kernel, error);
    if (!function)
      return false;
    if (grid[0] > 2147483647 || grid[1] > 65535 || grid[2] > 65535) {
      error = "kernel '" + kernel + "' needs a grid of " +
              std::to_string(grid[0]) + " x " + std::to_string(grid[1]) +
              " x " + std::to_string(grid[2]) +
              " blocks, beyond CUDA's limits (2^31-1 x 65535 x 65535)";
      return false;
    }
    // 8-byte slots with stable addresses, then a pointer to each.
    std::vector<uint64_t> slots;
    for (const StridedBuffer &b : arguments) {
      uint64_t pointer = reinterpret_cast<uint64_t>(b.data);
      slots.push_back(pointer); // allocated
      slots.push_back(pointer); // aligned
      slots.push_back(static_cast<uint64_t>(b.offset));
      for (int64_t size : b.sizes)
        slots.push_back(static_cast<uint64_t>(size));
      for (int64_t stride : b.strides)
        slots.push_back(static_cast<uint64_t>(stride));
    }
    std::vector<void *> parameters;
    for (uint64_t &slot : slots)
      parameters.push_back(&slot);
    return driver.check(
        driver.cuLaunchKernel(function, static_cast<unsigned>(grid[0]),
                              static_cast<unsigned>(grid[1]),
                              static_cast<unsigned>(grid[2]),
                              static_cast<unsigned>(config->second.threads), 1,
                              1, 0, nullptr, parameters.data(), nullptr),
        "launching kernel '" + kernel + "'", error);
  }

  bool usesHostMemory() const override { return false; }

  std::shared_ptr<void> allocate(size_t bytes, std::string &error) override {
    return pool->acquire(bytes, error);
  }
  bool copyToDevice(void *device, const void *host, size_t bytes,
                    std::string &error) override {
    return bytes == 0 ||
           driver.check(driver.cuMemcpyHtoD(reinterpret_cast<CUdeviceptr>(device),
                                            host, bytes),
                        "copying an input to the GPU", error);
  }
  bool copyToHost(void *host, const void *device, size_t bytes,
                  std::string &error) override {
    return bytes == 0 ||
           driver.check(driver.cuMemcpyDtoH(host,
                                            reinterpret_cast<CUdeviceptr>(device),
                                            bytes),
                        "copying an output from the GPU", error);
  }
  bool synchronize(std::string &error) override {
    return driver.check(driver.cuCtxSynchronize(),
                        "running the kernels (cuCtxSynchronize)", error);
  }

private:
  CudaKernelRunner(const Driver &driver, CUcontext context, CUmodule module,
                   const Manifest &manifest)
      : driver(driver), context(context), module(module),
        configs(manifest.kernels),
        pool(std::make_shared<DevicePool>(driver)) {}

  CUfunction lookup(const std::string &kernel, std::string &error) {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = functions.find(kernel);
    if (it != functions.end())
      return it->second;
    CUfunction function = nullptr;
    if (!driver.check(driver.cuModuleGetFunction(&function, module, kernel.c_str()),
                      "finding kernel '" + kernel + "' in the module", error))
      return nullptr;
    functions[kernel] = function;
    return function;
  }

  const Driver &driver;
  CUcontext context;
  CUmodule module;
  std::map<std::string, KernelConfig> configs;
  std::shared_ptr<DevicePool> pool;
  std::mutex mutex;
  std::map<std::string, CUfunction> functions;
};

} // namespace

void registerNvidiaRuntime() {
  registerKernelRunner("nvidia", CudaKernelRunner::create);
}

} // namespace prism::runtime
