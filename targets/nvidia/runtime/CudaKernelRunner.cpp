//===- CudaKernelRunner.cpp - Running NVIDIA bundles ----------------------===//
//
// The CUDA driver API (loaded with dlopen) behind the shared device runner:
// the bundle's cubin (or PTX, which the driver compiles) in the primary
// context of device 0.
//
//===----------------------------------------------------------------------===//

#include "prism/Runtime/DeviceKernelRunner.h"
#include "targets/nvidia/runtime/CudaDriver.h"

#include <cstdint>
#include <cstring>
#include <sys/stat.h>

namespace prism::runtime {
namespace {

using namespace cuda;

class CudaApi : public DeviceApi {
public:
  static std::shared_ptr<CudaApi> create(std::string &error) {
    const Driver *driver = Driver::get(error);
    if (!driver)
      return nullptr;
    auto api = std::shared_ptr<CudaApi>(new CudaApi(*driver));
    CUdevice device;
    if (!driver->check(driver->cuDeviceGet(&device, 0), "cuDeviceGet", error) ||
        !driver->check(driver->cuDevicePrimaryCtxRetain(&api->context, device),
                       "cuDevicePrimaryCtxRetain", error))
      return nullptr;
    driver->cuDeviceGetAttribute(&api->major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device);
    driver->cuDeviceGetAttribute(&api->minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device);
    driver->cuDeviceGetAttribute(&api->maxSharedPerBlock,
                                 CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN, device);
    return api;
  }
  ~CudaApi() override {
    if (module && driver.cuCtxSetCurrent(context) == CUDA_SUCCESS)
      driver.cuModuleUnload(module);
  }

  bool makeCurrent(std::string &error) override {
    return driver.check(driver.cuCtxSetCurrent(context), "cuCtxSetCurrent", error);
  }
  bool loadModule(const std::string &image, const std::string &target,
                  std::string &error) override {
    // PTX must be NUL-terminated; c_str() is. The JIT's error log (PTX)
    // goes into the message.
    char log[4096] = {};
    CUresult loaded;
    if (driver.cuModuleLoadDataEx) {
      int options[] = {CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
      void *values[] = {log, reinterpret_cast<void *>(static_cast<uintptr_t>(sizeof(log) - 1))};
      loaded = driver.cuModuleLoadDataEx(&module, image.c_str(), 2, options, values);
    } else {
      loaded = driver.cuModuleLoadData(&module, image.c_str());
    }
    if (loaded == CUDA_SUCCESS)
      return true;
    // Either may be the cause: another chip than the bundle's, or a driver
    // older than the toolkit whose ptxas made the cubin (or than the PTX
    // ISA version).
    int version = 0;
    if (driver.cuDriverGetVersion)
      driver.cuDriverGetVersion(&version);
    error = "built for " + target + "; this GPU has compute capability " +
            std::to_string(major) + "." + std::to_string(minor) +
            (version ? ", its driver CUDA " + std::to_string(version / 1000) + "." +
                           std::to_string(version % 1000 / 10)
                     : std::string()) +
            ": " + driver.describe(loaded);
    if (log[0])
      error += "; JIT log: " + std::string(log);
    return false;
  }
  void *getFunction(const std::string &name, std::string &error) override {
    CUfunction function = nullptr;
    if (!driver.check(driver.cuModuleGetFunction(&function, module, name.c_str()),
                      "finding kernel '" + name + "' in the module", error))
      return nullptr;
    return function;
  }
  bool launch(void *function, std::array<int64_t, 3> grid, int64_t threads,
              int64_t dynamicSharedBytes, void **parameters, std::string &error) override {
    auto cuFunction = static_cast<CUfunction>(function);
    // Above 48 KB a kernel must opt in to its dynamic shared memory.
    if (dynamicSharedBytes > 48 * 1024 &&
        !driver.check(driver.cuFuncSetAttribute(
                          cuFunction, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                          static_cast<int>(dynamicSharedBytes)),
                      "allowing " + std::to_string(dynamicSharedBytes) +
                          " bytes of dynamic shared memory (this GPU has " +
                          std::to_string(maxSharedPerBlock) + " per block)",
                      error))
      return false;
    return driver.check(
        driver.cuLaunchKernel(cuFunction, static_cast<unsigned>(grid[0]),
                              static_cast<unsigned>(grid[1]),
                              static_cast<unsigned>(grid[2]),
                              static_cast<unsigned>(threads), 1, 1,
                              static_cast<unsigned>(dynamicSharedBytes), nullptr,
                              parameters, nullptr),
        "cuLaunchKernel", error);
  }
  // Called with the context current (DeviceKernelRunner's entry points),
  // except release, which a buffer's last owner may call from any thread.
  void *allocate(size_t bytes, std::string &error) override {
    CUdeviceptr pointer = 0;
    if (!driver.check(driver.cuMemAlloc(&pointer, bytes),
                      "cuMemAlloc of " + std::to_string(bytes) + " bytes", error))
      return nullptr;
    return reinterpret_cast<void *>(pointer);
  }
  void release(void *pointer) override {
    if (driver.cuCtxSetCurrent(context) == CUDA_SUCCESS)
      driver.cuMemFree(reinterpret_cast<CUdeviceptr>(pointer));
  }
  bool copyToDevice(void *device, const void *host, size_t bytes,
                    std::string &error) override {
    return driver.check(driver.cuMemcpyHtoD(reinterpret_cast<CUdeviceptr>(device),
                                            host, bytes),
                        "copying an input to the GPU", error);
  }
  bool copyToHost(void *host, const void *device, size_t bytes,
                  std::string &error) override {
    return driver.check(
        driver.cuMemcpyDtoH(host, reinterpret_cast<CUdeviceptr>(device), bytes),
        "copying an output from the GPU", error);
  }
  bool synchronize(std::string &error) override {
    // The launch stream (the legacy default stream) alone: other streams
    // of the context (a framework's, a communication library's) go on.
    if (driver.cuStreamSynchronize)
      return driver.check(driver.cuStreamSynchronize(nullptr),
                          "running the kernels (cuStreamSynchronize)", error);
    return driver.check(driver.cuCtxSynchronize(),
                        "running the kernels (cuCtxSynchronize)", error);
  }
  bool fill(void *device, size_t bytes, std::string &error) override {
    if (!driver.cuMemsetD32Async) {
      error = "this CUDA driver has no cuMemsetD32Async";
      return false;
    }
    return driver.check(driver.cuMemsetD32Async(reinterpret_cast<CUdeviceptr>(device),
                                                0x5a5a5a5au, bytes / 4, nullptr),
                        "cuMemsetD32Async", error);
  }
  std::array<int64_t, 3> maxGrid() const override {
    return kGpuGridLimits;
  }
  bool encodeTensorMap(const TensorMapSpec &spec, const TensorMapGeometry &geometry,
                       void *out, std::string &error) override {
    if (!driver.cuTensorMapEncodeTiled) {
      error = "this kernel copies tiles with TMA, and the CUDA driver has no "
              "cuTensorMapEncodeTiled (a driver older than CUDA 12)";
      return false;
    }
    int type = spec.elementBytes == 1   ? CU_TENSOR_MAP_DATA_TYPE_UINT8
               : spec.elementBytes == 2 ? CU_TENSOR_MAP_DATA_TYPE_UINT16
                                        : CU_TENSOR_MAP_DATA_TYPE_UINT32;
    int swizzle = spec.swizzleBytes == 128  ? CU_TENSOR_MAP_SWIZZLE_128B
                  : spec.swizzleBytes == 64 ? CU_TENSOR_MAP_SWIZZLE_64B
                  : spec.swizzleBytes == 32 ? CU_TENSOR_MAP_SWIZZLE_32B
                                            : CU_TENSOR_MAP_SWIZZLE_NONE;
    std::vector<unsigned> box(spec.box.begin(), spec.box.end());
    std::vector<unsigned> elementStrides(box.size(), 1);
    std::vector<unsigned long long> dims(geometry.dims.begin(), geometry.dims.end());
    std::vector<unsigned long long> strides(geometry.strides.begin(), geometry.strides.end());
    // The driver requires a map's address aligned to 64 bytes (CUtensorMap
    // is alignas(128)); the launch's maps buffer comes from the heap (16),
    // so each map is encoded here and copied into it.
    alignas(128) uint8_t encoded[kTensorMapBytes] = {};
    bool ok = driver.check(
        driver.cuTensorMapEncodeTiled(encoded, type, static_cast<unsigned>(box.size()),
                                      const_cast<uint8_t *>(geometry.start), dims.data(),
                                      strides.data(), box.data(), elementStrides.data(),
                                      CU_TENSOR_MAP_INTERLEAVE_NONE, swizzle,
                                      CU_TENSOR_MAP_L2_PROMOTION_L2_256B,
                                      CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE),
        "cuTensorMapEncodeTiled", error);
    if (ok)
      std::memcpy(out, encoded, sizeof(encoded));
    return ok;
  }

  void *createEvent(std::string &error) override {
    if (!driver.cuEventCreate || !driver.cuEventRecord || !driver.cuEventElapsedTime ||
        !driver.cuEventDestroy) {
      error = "this CUDA driver lacks the event entry points (cuEventCreate, "
              "cuEventRecord, cuEventElapsedTime, cuEventDestroy)";
      return nullptr;
    }
    CUevent event = nullptr;
    if (!driver.check(driver.cuEventCreate(&event, /*CU_EVENT_DEFAULT=*/0), "cuEventCreate",
                      error))
      return nullptr;
    return event;
  }
  bool recordEvent(void *event, std::string &error) override {
    // The launches' stream: the legacy default stream (null).
    return driver.check(driver.cuEventRecord(static_cast<CUevent>(event), nullptr),
                        "cuEventRecord", error);
  }
  bool eventElapsedMilliseconds(void *start, void *end, double &milliseconds,
                                std::string &error) override {
    float ms = 0;
    if (!driver.check(driver.cuEventElapsedTime(&ms, static_cast<CUevent>(start),
                                                static_cast<CUevent>(end)),
                      "cuEventElapsedTime", error))
      return false;
    milliseconds = ms;
    return true;
  }
  void destroyEvent(void *event) override {
    if (event && driver.cuEventDestroy)
      driver.cuEventDestroy(static_cast<CUevent>(event));
  }

private:
  explicit CudaApi(const Driver &driver) : driver(driver) {}
  const Driver &driver;
  CUcontext context = nullptr;
  CUmodule module = nullptr;
  int major = 0, minor = 0, maxSharedPerBlock = 0;
};

} // namespace

void registerNvidiaRuntime() {
  registerKernelRunner(
      "nvidia", [](const std::string &directory, const Manifest &manifest,
                   std::string &error) -> std::unique_ptr<KernelRunner> {
        std::shared_ptr<CudaApi> api = CudaApi::create(error);
        if (!api)
          return nullptr;
        // The PTX beside a cubin (where it was kept) is the driver's to
        // compile when the cubin does not load (a driver older than the
        // ptxas that made it).
        std::string fallback;
        struct stat info;
        if (manifest.library != "kernels.ptx" &&
            stat((directory + "/kernels.ptx").c_str(), &info) == 0)
          fallback = "kernels.ptx";
        return DeviceKernelRunner::create(api, directory, manifest, error, fallback);
      });
}

} // namespace prism::runtime
