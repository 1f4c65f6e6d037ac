//===- HipRuntime.cpp - Running AMD bundles through HIP -------------------===//
//
// HIP (libamdhip64, opened with dlopen: no ROCm is needed to build) behind
// the shared device runner: the bundle's HSACO on device 0. The function
// declarations follow HIP's C API; building needs no ROCm headers.
//
// Nothing here has run on AMD hardware in this project: the path is
// exercised only up to "no HIP runtime on this machine".
//
//===----------------------------------------------------------------------===//

#include "prism/Runtime/DeviceKernelRunner.h"

#include <dlfcn.h>

#include <mutex>

namespace prism::runtime {
namespace {

using hipError_t = int;
using hipModule_t = struct ihipModule_t *;
using hipFunction_t = struct ihipModuleSymbol_t *;
using hipStream_t = struct ihipStream_t *;
using hipEvent_t = struct ihipEvent_t *;
constexpr hipError_t hipSuccess = 0;

struct Hip {
  hipError_t (*hipInit)(unsigned);
  hipError_t (*hipSetDevice)(int);
  hipError_t (*hipModuleLoadData)(hipModule_t *, const void *);
  hipError_t (*hipModuleUnload)(hipModule_t);
  hipError_t (*hipModuleGetFunction)(hipFunction_t *, hipModule_t, const char *);
  hipError_t (*hipModuleLaunchKernel)(hipFunction_t, unsigned, unsigned, unsigned,
                                      unsigned, unsigned, unsigned, unsigned,
                                      hipStream_t, void **, void **);
  hipError_t (*hipMalloc)(void **, size_t);
  hipError_t (*hipFree)(void *);
  hipError_t (*hipMemcpyHtoD)(void *, const void *, size_t);
  hipError_t (*hipMemcpyDtoH)(void *, void *, size_t);
  hipError_t (*hipDeviceSynchronize)();
  // Timing events: optional, so that a runtime lacking them still runs
  // kernels (untimed).
  hipError_t (*hipEventCreate)(hipEvent_t *);
  hipError_t (*hipEventRecord)(hipEvent_t, hipStream_t);
  hipError_t (*hipEventElapsedTime)(float *, hipEvent_t, hipEvent_t);
  hipError_t (*hipEventDestroy)(hipEvent_t);
  const char *(*hipGetErrorName)(hipError_t);
  const char *(*hipGetErrorString)(hipError_t);

  bool check(hipError_t result, const std::string &what, std::string &error) const {
    if (result == hipSuccess)
      return true;
    const char *name = hipGetErrorName(result), *text = hipGetErrorString(result);
    error = what + " failed: " + (name ? name : "hip error " + std::to_string(result)) +
            ": " + (text ? text : "no description");
    return false;
  }

  static const Hip *get(std::string &error) {
    static std::once_flag once;
    static const Hip *hip = nullptr;
    static std::string loadError;
    std::call_once(once, [] { hip = load(loadError); });
    if (!hip)
      error = loadError;
    return hip;
  }

private:
  template <typename F>
  static bool resolve(void *library, const char *name, F &slot, std::string &error) {
    slot = reinterpret_cast<F>(dlsym(library, name));
    if (!slot)
      error = std::string("the HIP runtime has no '") + name + "'";
    return slot != nullptr;
  }

  static const Hip *load(std::string &error) {
    void *library = nullptr;
    for (const char *name : {"libamdhip64.so", "libamdhip64.so.6", "libamdhip64.so.5"})
      if ((library = dlopen(name, RTLD_NOW | RTLD_LOCAL)))
        break;
    if (!library) {
      const char *why = dlerror();
      error = std::string("cannot load the HIP runtime libamdhip64.so (is ROCm "
                          "installed on this machine?): ") +
              (why ? why : "unknown reason");
      return nullptr;
    }
    static Hip hip;
    bool ok = resolve(library, "hipInit", hip.hipInit, error) &&
              resolve(library, "hipSetDevice", hip.hipSetDevice, error) &&
              resolve(library, "hipModuleLoadData", hip.hipModuleLoadData, error) &&
              resolve(library, "hipModuleUnload", hip.hipModuleUnload, error) &&
              resolve(library, "hipModuleGetFunction", hip.hipModuleGetFunction, error) &&
              resolve(library, "hipModuleLaunchKernel", hip.hipModuleLaunchKernel, error) &&
              resolve(library, "hipMalloc", hip.hipMalloc, error) &&
              resolve(library, "hipFree", hip.hipFree, error) &&
              resolve(library, "hipMemcpyHtoD", hip.hipMemcpyHtoD, error) &&
              resolve(library, "hipMemcpyDtoH", hip.hipMemcpyDtoH, error) &&
              resolve(library, "hipDeviceSynchronize", hip.hipDeviceSynchronize, error) &&
              resolve(library, "hipGetErrorName", hip.hipGetErrorName, error) &&
              resolve(library, "hipGetErrorString", hip.hipGetErrorString, error);
    if (!ok)
      return nullptr;
    hip.hipEventCreate = reinterpret_cast<decltype(hip.hipEventCreate)>(
        dlsym(library, "hipEventCreate"));
    hip.hipEventRecord = reinterpret_cast<decltype(hip.hipEventRecord)>(
        dlsym(library, "hipEventRecord"));
    hip.hipEventElapsedTime = reinterpret_cast<decltype(hip.hipEventElapsedTime)>(
        dlsym(library, "hipEventElapsedTime"));
    hip.hipEventDestroy = reinterpret_cast<decltype(hip.hipEventDestroy)>(
        dlsym(library, "hipEventDestroy"));
    if (!hip.check(hip.hipInit(0), "hipInit", error))
      return nullptr;
    return &hip;
  }
};

class HipApi : public DeviceApi {
public:
  explicit HipApi(const Hip &hip) : hip(hip) {}
  ~HipApi() override {
    if (module)
      hip.hipModuleUnload(module);
  }
  bool makeCurrent(std::string &error) override {
    return hip.check(hip.hipSetDevice(0), "hipSetDevice", error);
  }
  bool loadModule(const std::string &image, const std::string &target,
                  std::string &error) override {
    if (hip.check(hip.hipModuleLoadData(&module, image.data()),
                  "hipModuleLoadData", error))
      return true;
    error = "built for " + target + ": " + error;
    return false;
  }
  void *getFunction(const std::string &name, std::string &error) override {
    hipFunction_t function = nullptr;
    if (!hip.check(hip.hipModuleGetFunction(&function, module, name.c_str()),
                   "finding kernel '" + name + "' in the module", error))
      return nullptr;
    return function;
  }
  bool launch(void *function, std::array<int64_t, 3> grid, int64_t threads,
              int64_t dynamicSharedBytes, void **parameters, std::string &error) override {
    return hip.check(hip.hipModuleLaunchKernel(
                         static_cast<hipFunction_t>(function),
                         static_cast<unsigned>(grid[0]), static_cast<unsigned>(grid[1]),
                         static_cast<unsigned>(grid[2]), static_cast<unsigned>(threads),
                         1, 1, static_cast<unsigned>(dynamicSharedBytes), nullptr,
                         parameters, nullptr),
                     "hipModuleLaunchKernel", error);
  }
  void *createEvent(std::string &error) override {
    if (!hip.hipEventCreate || !hip.hipEventRecord || !hip.hipEventElapsedTime ||
        !hip.hipEventDestroy) {
      error = "this HIP runtime lacks the event entry points (hipEventCreate, "
              "hipEventRecord, hipEventElapsedTime, hipEventDestroy)";
      return nullptr;
    }
    hipEvent_t event = nullptr;
    if (!hip.check(hip.hipEventCreate(&event), "hipEventCreate", error))
      return nullptr;
    return event;
  }
  bool recordEvent(void *event, std::string &error) override {
    // The launches' stream: the default stream (null).
    return hip.check(hip.hipEventRecord(static_cast<hipEvent_t>(event), nullptr),
                     "hipEventRecord", error);
  }
  bool eventElapsedMilliseconds(void *start, void *end, double &milliseconds,
                                std::string &error) override {
    float ms = 0;
    if (!hip.check(hip.hipEventElapsedTime(&ms, static_cast<hipEvent_t>(start),
                                           static_cast<hipEvent_t>(end)),
                   "hipEventElapsedTime", error))
      return false;
    milliseconds = ms;
    return true;
  }
  void destroyEvent(void *event) override {
    if (event && hip.hipEventDestroy)
      hip.hipEventDestroy(static_cast<hipEvent_t>(event));
  }
  void *allocate(size_t bytes, std::string &error) override {
    void *pointer = nullptr;
    if (!hip.check(hip.hipMalloc(&pointer, bytes),
                   "hipMalloc of " + std::to_string(bytes) + " bytes", error))
      return nullptr;
    return pointer;
  }
  void release(void *pointer) override { hip.hipFree(pointer); }
  bool copyToDevice(void *device, const void *host, size_t bytes,
                    std::string &error) override {
    return hip.check(hip.hipMemcpyHtoD(device, host, bytes),
                     "copying an input to the GPU", error);
  }
  bool copyToHost(void *host, const void *device, size_t bytes,
                  std::string &error) override {
    return hip.check(hip.hipMemcpyDtoH(host, const_cast<void *>(device), bytes),
                     "copying an output from the GPU", error);
  }
  bool synchronize(std::string &error) override {
    return hip.check(hip.hipDeviceSynchronize(), "running the kernels", error);
  }
  /// HIP counts a grid's x in work-items, at most 2^32 - 1: with blocks
  /// of up to 1024 threads, 4194303 blocks (an element-wise kernel of
  /// 1024-element blocks reaches it at 2^32 elements).
  std::array<int64_t, 3> maxGrid() const override {
    return {int64_t{0xffffffff} / 1024, kGpuGridLimits[1], kGpuGridLimits[2]};
  }

private:
  const Hip &hip;
  hipModule_t module = nullptr;
};

} // namespace

void registerAmdRuntime() {
  registerKernelRunner(
      "amd", [](const std::string &directory, const Manifest &manifest,
                std::string &error) -> std::unique_ptr<KernelRunner> {
        const Hip *hip = Hip::get(error);
        if (!hip)
          return nullptr;
        return DeviceKernelRunner::create(std::make_shared<HipApi>(*hip),
                                          directory, manifest, error);
      });
}

} // namespace prism::runtime
