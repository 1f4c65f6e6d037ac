//===- DeviceKernelRunner.h - Running bundles on a GPU API ------*- C++ -*-===//
//
// What every GPU runtime (the CUDA driver, HIP) shares: a caching pool of
// device memory, the kernel lookup cache, the memref calling convention of
// the GPU lowerings (each buffer is allocated, aligned, offset, sizes...,
// strides...), the launch configurations of the manifest and the grid
// limits. A vendor provides a DeviceApi over its library (opened with
// dlopen, never linked).
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_RUNTIME_DEVICEKERNELRUNNER_H
#define PRISM_RUNTIME_DEVICEKERNELRUNNER_H

#include "prism/Runtime/Bundle.h"
#include "prism/Runtime/TensorMaps.h"

#include <array>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

namespace prism::runtime {

/// The largest grid of CUDA and HIP devices, per axis (x, y, z).
constexpr std::array<int64_t, 3> kGpuGridLimits = {2147483647, 65535, 65535};

/// Whether `grid` fits `limit` on every axis; if not, `error` says which
/// grid `kernel` needed.
bool gridFits(const std::string &kernel, std::array<int64_t, 3> grid,
              std::array<int64_t, 3> limit, std::string &error);

/// One GPU API, on the device the runtime uses. Every call reports a
/// failure with a message naming the API's error.
class DeviceApi {
public:
  virtual ~DeviceApi();
  /// Makes the API's device/context current on the calling thread.
  virtual bool makeCurrent(std::string &error) = 0;
  /// Loads a code object (cubin, PTX, HSACO); `target` is for messages.
  virtual bool loadModule(const std::string &image, const std::string &target,
                          std::string &error) = 0;
  virtual void *getFunction(const std::string &name, std::string &error) = 0;
  /// Launches `function` with `dynamicSharedBytes` of dynamic shared
  /// memory (0: only its static shared memory).
  virtual bool launch(void *function, std::array<int64_t, 3> grid, int64_t threads,
                      int64_t dynamicSharedBytes, void **parameters,
                      std::string &error) = 0;
  virtual void *allocate(size_t bytes, std::string &error) = 0;
  virtual void release(void *pointer) = 0;
  virtual bool copyToDevice(void *device, const void *host, size_t bytes,
                            std::string &error) = 0;
  virtual bool copyToHost(void *host, const void *device, size_t bytes,
                          std::string &error) = 0;
  virtual bool synchronize(std::string &error) = 0;
  /// The largest grid, per axis.
  virtual std::array<int64_t, 3> maxGrid() const = 0;
  /// Writes the device's tensor map (kTensorMapBytes) for copies of
  /// `spec.box` from `geometry` (TensorMaps.h); APIs without a tensor-copy
  /// engine refuse.
  virtual bool encodeTensorMap(const TensorMapSpec &spec, const TensorMapGeometry &geometry,
                               void *out, std::string &error) {
    error = "this device API has no tensor maps (TMA)";
    return false;
  }
  /// A timing event (null and `error` when the API has none).
  virtual void *createEvent(std::string &error) {
    error = "this device API has no timing events";
    return nullptr;
  }
  /// Records `event` on the stream the launches use.
  virtual bool recordEvent(void *event, std::string &error) {
    error = "this device API has no timing events";
    return false;
  }
  /// Milliseconds between two recorded events that have completed.
  virtual bool eventElapsedMilliseconds(void *start, void *end, double &milliseconds,
                                        std::string &error) {
    error = "this device API has no timing events";
    return false;
  }
  virtual void destroyEvent(void *event) {}
  /// Queues a write of `bytes` (a multiple of 4) of `device` memory on the
  /// stream the launches use, and returns without waiting for it.
  virtual bool fill(void *device, size_t bytes, std::string &error) {
    error = "this device API cannot fill memory on its launch stream";
    return false;
  }
};

class DeviceKernelRunner : public KernelRunner {
public:
  /// Reads the bundle's binary and loads it through `api`; where it does
  /// not load and `fallbackLibrary` (a file of the bundle directory) is
  /// given, that one, with a warning on stderr.
  static std::unique_ptr<KernelRunner> create(std::shared_ptr<DeviceApi> api,
                                              const std::string &directory,
                                              const Manifest &manifest,
                                              std::string &error,
                                              const std::string &fallbackLibrary = "");

  bool launch(const std::string &kernel,
              const std::vector<StridedBuffer> &arguments,
              std::array<int64_t, 3> grid, std::string &error) override;
  bool usesHostMemory() const override { return false; }
  std::shared_ptr<void> allocate(size_t bytes, std::string &error) override;
  bool copyToDevice(void *device, const void *host, size_t bytes,
                    std::string &error) override;
  bool copyToHost(void *host, const void *device, size_t bytes,
                  std::string &error) override;
  bool synchronize(std::string &error) override;
  /// Builds and uploads the launch's tensor maps; `prepared` holds their
  /// device copy (a PreparedMaps) for launchPrepared.
  bool prepareLaunch(const std::string &kernel, const std::vector<StridedBuffer> &arguments,
                     std::shared_ptr<void> &prepared, std::string &error) override;
  bool launchPrepared(const std::string &kernel, const std::vector<StridedBuffer> &arguments,
                      std::array<int64_t, 3> grid, const std::shared_ptr<void> &prepared,
                      std::string &error) override;
  /// Events on the launch stream: the device's own timeline.
  std::unique_ptr<TimeMark> createTimeMark(std::string &error) override;
  bool recordTime(TimeMark &mark, std::string &error) override;
  bool elapsedMilliseconds(const TimeMark &start, const TimeMark &end,
                           double &milliseconds, std::string &error) override;
  const char *timeSource() const override { return "device events"; }
  /// A fill of a scratch buffer of `bytes` (kept for the next runs).
  bool flushCaches(int64_t bytes, std::string &error) override;

private:
  DeviceKernelRunner(std::shared_ptr<DeviceApi> api, const Manifest &manifest);

  struct Pool; // device memory reused by size
  std::shared_ptr<DeviceApi> api;
  std::map<std::string, KernelConfig> configs;
  std::shared_ptr<Pool> pool;
  std::mutex mutex;
  std::map<std::string, void *> functions;
  /// PRISM_SYNC_LAUNCHES=1 in the environment: every launch is waited for,
  /// so that a kernel's fault is reported with its name (a debugging aid:
  /// the launches no longer overlap the host's work).
  bool synchronizeEachLaunch = false;
  std::mutex flushMutex; // timed runs on several threads
  std::shared_ptr<void> flushBuffer; // flushCaches's scratch
  size_t flushBufferBytes = 0;
  /// The device copies of the tensor maps of recent launches, by content:
  /// a launch's maps stay alive while a kernel may still read them (the
  /// set is cleared, after a synchronize, when it grows large).
  std::mutex tensorMapsMutex;
  std::map<std::vector<uint8_t>, std::shared_ptr<void>> tensorMaps;
  static constexpr size_t kKeptTensorMaps = 256;
  /// Kernels whose tensor maps the driver refused (said once on stderr;
  /// those launches copy by cp.async).
  std::set<std::string> refusedTensorMaps;
  /// A launch's tensor maps on the device and the bytes the kernel takes.
  struct PreparedMaps {
    std::shared_ptr<void> device;
    int64_t kernelBytes = 0;
  };
  /// The device copy of `kernel`'s tensor maps for these arguments (from
  /// the kept ones, or built and uploaded) and the bytes the kernel takes;
  /// tensorMapsMutex held.
  bool deviceTensorMaps(const std::string &kernel, const std::vector<TensorMapSpec> &specs,
                        const std::vector<StridedBuffer> &arguments,
                        std::shared_ptr<void> &device, int64_t &kernelBytes,
                        std::string &error);
};

} // namespace prism::runtime

#endif // PRISM_RUNTIME_DEVICEKERNELRUNNER_H
