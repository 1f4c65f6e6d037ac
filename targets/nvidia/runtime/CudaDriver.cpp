//===- CudaDriver.cpp - The CUDA driver API, loaded at run time -----------===//

#include "targets/nvidia/runtime/CudaDriver.h"

#include <dlfcn.h>

#include <initializer_list>
#include <mutex>
#include <type_traits>

namespace prism::runtime::cuda {

namespace {

template <typename F>
bool resolve(void *library, const char *name, F &slot, std::string &error) {
  slot = reinterpret_cast<F>(dlsym(library, name));
  if (!slot)
    error = std::string("libcuda.so.1 has no '") + name +
            "' (a driver older than the CUDA 11 API?)";
  return slot != nullptr;
}

const Driver *load(std::string &error) {
  void *library = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    const char *why = dlerror();
    error = std::string("cannot load the CUDA driver libcuda.so.1 (is an "
                        "NVIDIA driver installed on this machine?): ") +
            (why ? why : "unknown reason");
    return nullptr;
  }
  static Driver driver;
  bool ok = resolve(library, "cuInit", driver.cuInit, error) &&
            resolve(library, "cuDeviceGet", driver.cuDeviceGet, error) &&
            resolve(library, "cuDeviceGetAttribute", driver.cuDeviceGetAttribute, error) &&
            resolve(library, "cuDevicePrimaryCtxRetain", driver.cuDevicePrimaryCtxRetain, error) &&
            resolve(library, "cuCtxSetCurrent", driver.cuCtxSetCurrent, error) &&
            resolve(library, "cuCtxSynchronize", driver.cuCtxSynchronize, error) &&
            resolve(library, "cuModuleLoadData", driver.cuModuleLoadData, error) &&
            resolve(library, "cuModuleUnload", driver.cuModuleUnload, error) &&
            resolve(library, "cuModuleGetFunction", driver.cuModuleGetFunction, error) &&
            resolve(library, "cuFuncSetAttribute", driver.cuFuncSetAttribute, error) &&
            resolve(library, "cuLaunchKernel", driver.cuLaunchKernel, error) &&
            resolve(library, "cuMemAlloc_v2", driver.cuMemAlloc, error) &&
            resolve(library, "cuMemFree_v2", driver.cuMemFree, error) &&
            resolve(library, "cuMemcpyHtoD_v2", driver.cuMemcpyHtoD, error) &&
            resolve(library, "cuMemcpyDtoH_v2", driver.cuMemcpyDtoH, error) &&
            resolve(library, "cuGetErrorName", driver.cuGetErrorName, error) &&
            resolve(library, "cuGetErrorString", driver.cuGetErrorString, error);
  if (!ok)
    return nullptr;
  // Optional: only kernels with tensor copies need it.
  driver.cuTensorMapEncodeTiled = reinterpret_cast<decltype(driver.cuTensorMapEncodeTiled)>(
      dlsym(library, "cuTensorMapEncodeTiled"));
  // Optional: timing. The first name the driver has wins.
  auto optional = [library](auto &slot, std::initializer_list<const char *> names) {
    slot = nullptr;
    for (const char *name : names)
      if (!slot)
        slot = reinterpret_cast<std::remove_reference_t<decltype(slot)>>(dlsym(library, name));
  };
  optional(driver.cuEventCreate, {"cuEventCreate"});
  optional(driver.cuEventRecord, {"cuEventRecord"});
  optional(driver.cuEventElapsedTime, {"cuEventElapsedTime_v2", "cuEventElapsedTime"});
  optional(driver.cuEventDestroy, {"cuEventDestroy_v2", "cuEventDestroy"});
  // The legacy-stream entry points (not the _ptsz ones): the launches use
  // the legacy default stream.
  optional(driver.cuModuleLoadDataEx, {"cuModuleLoadDataEx"});
  optional(driver.cuStreamSynchronize, {"cuStreamSynchronize"});
  optional(driver.cuMemsetD32Async, {"cuMemsetD32Async"});
  optional(driver.cuDriverGetVersion, {"cuDriverGetVersion"});
  if (!driver.check(driver.cuInit(0), "cuInit", error))
    return nullptr;
  return &driver;
}

} // namespace

const Driver *Driver::get(std::string &error) {
  static std::once_flag once;
  static const Driver *driver = nullptr;
  static std::string loadError;
  std::call_once(once, [] { driver = load(loadError); });
  if (!driver)
    error = loadError;
  return driver;
}

std::string Driver::describe(CUresult result) const {
  const char *name = nullptr, *text = nullptr;
  cuGetErrorName(result, &name);
  cuGetErrorString(result, &text);
  return std::string(name ? name : "CUDA error " + std::to_string(result)) +
         ": " + (text ? text : "no description");
}

bool Driver::check(CUresult result, const std::string &what,
                   std::string &error) const {
  if (result == CUDA_SUCCESS)
    return true;
  error = what + " failed: " + describe(result);
  return false;
}

} // namespace prism::runtime::cuda
