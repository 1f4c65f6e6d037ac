//===- DeviceKernelRunner.cpp - Running bundles on a GPU API --------------===//

#include "prism/Runtime/DeviceKernelRunner.h"

#include <cstdio>
#include <cstdlib>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace prism::runtime {

bool gridFits(const std::string &kernel, std::array<int64_t, 3> grid,
              std::array<int64_t, 3> limit, std::string &error) {
  if (grid[0] <= limit[0] && grid[1] <= limit[1] && grid[2] <= limit[2])
    return true;
  error = "kernel '" + kernel + "' needs a grid of " + std::to_string(grid[0]) + " x " +
          std::to_string(grid[1]) + " x " + std::to_string(grid[2]) +
          " blocks, beyond the device's limits (" + std::to_string(limit[0]) + " x " +
          std::to_string(limit[1]) + " x " + std::to_string(limit[2]) + ")";
  return false;
}

DeviceApi::~DeviceApi() = default;

struct DeviceKernelRunner::Pool : std::enable_shared_from_this<Pool> {
  explicit Pool(std::shared_ptr<DeviceApi> api) : api(std::move(api)) {}
  ~Pool() {
    for (auto &[bytes, pointer] : free)
      api->release(pointer);
  }

  std::shared_ptr<void> acquire(size_t bytes, std::string &error) {
    size_t rounded = std::max<size_t>(256, (bytes + 255) / 256 * 256);
    void *pointer = nullptr;
    {
      std::lock_guard<std::mutex> lock(mutex);
      auto it = free.find(rounded);
      if (it != free.end()) {
        pointer = it->second;
        free.erase(it);
      }
    }
    if (!pointer && !(pointer = api->allocate(rounded, error)))
      return nullptr;
    std::weak_ptr<Pool> self = weak_from_this();
    std::shared_ptr<DeviceApi> owner = api;
    return std::shared_ptr<void>(pointer, [self, owner, rounded](void *p) {
      if (auto pool = self.lock()) {
        std::lock_guard<std::mutex> lock(pool->mutex);
        pool->free.emplace(rounded, p);
      } else {
        owner->release(p);
      }
    });
  }

  std::shared_ptr<DeviceApi> api;
  std::mutex mutex;
  std::multimap<size_t, void *> free;
};

DeviceKernelRunner::DeviceKernelRunner(std::shared_ptr<DeviceApi> api,
                                       const Manifest &manifest)
    : api(api), configs(manifest.kernels), pool(std::make_shared<Pool>(api)) {
  const char *sync = std::getenv("PRISM_SYNC_LAUNCHES");
  synchronizeEachLaunch = sync && *sync && std::string(sync) != "0";
}

namespace {
bool loadLibrary(DeviceApi &api, const std::string &path, const std::string &target,
                 std::string &error) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    error = "cannot read " + path;
    return false;
  }
  std::stringstream contents;
  contents << file.rdbuf();
  if (!api.makeCurrent(error) || !api.loadModule(contents.str(), target, error)) {
    error = "cannot load " + path + ": " + error;
    return false;
  }
  return true;
}
} // namespace

std::unique_ptr<KernelRunner>
DeviceKernelRunner::create(std::shared_ptr<DeviceApi> api,
                           const std::string &directory, const Manifest &manifest,
                           std::string &error, const std::string &fallbackLibrary) {
  if (!loadLibrary(*api, directory + "/" + manifest.library, manifest.target, error)) {
    std::string fallbackError;
    if (fallbackLibrary.empty() ||
        !loadLibrary(*api, directory + "/" + fallbackLibrary, manifest.target, fallbackError)) {
      if (!fallbackLibrary.empty())
        error += "; and its fallback: " + fallbackError;
      return nullptr;
    }
    std::fprintf(stderr, "prism: warning: %s; running %s instead\n", error.c_str(),
                 fallbackLibrary.c_str());
    error.clear();
  }
  return std::unique_ptr<KernelRunner>(new DeviceKernelRunner(api, manifest));
}

bool DeviceKernelRunner::launch(const std::string &kernel,
                                const std::vector<StridedBuffer> &arguments,
                                std::array<int64_t, 3> grid, std::string &error) {
  return launchPrepared(kernel, arguments, grid, nullptr, error);
}

bool DeviceKernelRunner::launchPrepared(const std::string &kernel,
                                        const std::vector<StridedBuffer> &arguments,
                                        std::array<int64_t, 3> grid,
                                        const std::shared_ptr<void> &prepared,
                                        std::string &error) {
  auto config = configs.find(kernel);
  if (config == configs.end()) {
    error = "the manifest has no launch configuration for kernel '" + kernel + "'";
    return false;
  }
  if (!gridFits(kernel, grid, api->maxGrid(), error))
    return false;
  // The runtime may be called from any host thread.
  if (!api->makeCurrent(error))
    return false;
  void *function;
  {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = functions.find(kernel);
    if (it != functions.end()) {
      function = it->second;
    } else {
      function = api->getFunction(kernel, error);
      if (!function)
        return false;
      functions[kernel] = function;
    }
  }
  // The tensor maps (TensorMaps.h): one more buffer argument, in device
  // memory that stays as long as a launch may read it.
  std::vector<StridedBuffer> withMaps;
  const std::vector<TensorMapSpec> &specs = config->second.tensorMaps;
  // Held through the launch: a concurrent launch that clears the kept maps
  // then synchronizes after this kernel is queued.
  std::unique_lock<std::mutex> mapsLock(tensorMapsMutex, std::defer_lock);
  if (!specs.empty()) {
    // Prepared: uploaded before the run's first launch, and held by the
    // run (whatever became of the kept maps since).
    PreparedMaps maps;
    if (prepared) {
      maps = *static_cast<const PreparedMaps *>(prepared.get());
    } else {
      mapsLock.lock();
      if (!deviceTensorMaps(kernel, specs, arguments, maps.device, maps.kernelBytes, error))
        return false;
    }
    withMaps = arguments;
    withMaps.push_back(StridedBuffer::contiguous(maps.device.get(), {maps.kernelBytes}));
  }
  // 8-byte slots with stable addresses, then a pointer to each.
  std::vector<uint64_t> slots;
  for (const StridedBuffer &b : specs.empty() ? arguments : withMaps) {
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
  int64_t dynamicShared = config->second.dynamicShared ? config->second.sharedBytes : 0;
  if (!api->launch(function, grid, config->second.threads, dynamicShared,
                   parameters.data(), error)) {
    error = "launching kernel '" + kernel + "': " + error;
    return false;
  }
  if (synchronizeEachLaunch && !api->synchronize(error)) {
    error = "kernel '" + kernel + "' (PRISM_SYNC_LAUNCHES: waited for after its launch): " +
            error;
    return false;
  }
  return true;
}

bool DeviceKernelRunner::deviceTensorMaps(const std::string &kernel,
                                          const std::vector<TensorMapSpec> &specs,
                                          const std::vector<StridedBuffer> &arguments,
                                          std::shared_ptr<void> &device, int64_t &kernelBytes,
                                          std::string &error) {
  std::vector<uint8_t> maps;
  auto encode = [&](const TensorMapSpec &spec, const TensorMapGeometry &geometry, void *out,
                    std::string &problem) {
    return api->encodeTensorMap(spec, geometry, out, problem);
  };
  std::string refused;
  if (!buildTensorMaps(specs, arguments, encode, maps, kernelBytes, refused, error)) {
    error = "kernel '" + kernel + "': " + error;
    return false;
  }
  if (!refused.empty() && refusedTensorMaps.insert(kernel).second)
    std::fprintf(stderr, "prism: warning: kernel '%s': %s\n", kernel.c_str(), refused.c_str());
  auto known = tensorMaps.find(maps);
  if (known != tensorMaps.end()) {
    device = known->second;
    return true;
  }
  if (tensorMaps.size() >= kKeptTensorMaps) {
    // Launches before this one may still read theirs.
    if (!api->synchronize(error))
      return false;
    tensorMaps.clear();
  }
  device = pool->acquire(maps.size(), error);
  if (!device || !api->copyToDevice(device.get(), maps.data(), maps.size(), error))
    return false;
  tensorMaps.emplace(maps, device);
  return true;
}

bool DeviceKernelRunner::prepareLaunch(const std::string &kernel,
                                       const std::vector<StridedBuffer> &arguments,
                                       std::shared_ptr<void> &prepared, std::string &error) {
  prepared.reset();
  auto config = configs.find(kernel);
  if (config == configs.end() || config->second.tensorMaps.empty())
    return true; // launch() reports a missing configuration
  if (!api->makeCurrent(error))
    return false;
  auto maps = std::make_shared<PreparedMaps>();
  {
    std::lock_guard<std::mutex> lock(tensorMapsMutex);
    if (!deviceTensorMaps(kernel, config->second.tensorMaps, arguments, maps->device,
                          maps->kernelBytes, error))
      return false;
  }
  prepared = std::move(maps);
  return true;
}

// Every entry point makes the device current first: the runtime may be
// called from any host thread, and a thread's first call may be any of
// them (an allocation, from Bundle::run).
std::shared_ptr<void> DeviceKernelRunner::allocate(size_t bytes, std::string &error) {
  if (!api->makeCurrent(error))
    return nullptr;
  return pool->acquire(bytes, error);
}

bool DeviceKernelRunner::copyToDevice(void *device, const void *host, size_t bytes,
                                      std::string &error) {
  return bytes == 0 ||
         (api->makeCurrent(error) && api->copyToDevice(device, host, bytes, error));
}

bool DeviceKernelRunner::copyToHost(void *host, const void *device, size_t bytes,
                                    std::string &error) {
  return bytes == 0 ||
         (api->makeCurrent(error) && api->copyToHost(host, device, bytes, error));
}

bool DeviceKernelRunner::synchronize(std::string &error) {
  return api->makeCurrent(error) && api->synchronize(error);
}

bool DeviceKernelRunner::flushCaches(int64_t bytes, std::string &error) {
  size_t rounded = static_cast<size_t>(bytes + 3) / 4 * 4;
  if (!api->makeCurrent(error))
    return false;
  std::lock_guard<std::mutex> lock(flushMutex);
  if (flushBufferBytes < rounded) {
    flushBuffer = pool->acquire(rounded, error);
    flushBufferBytes = flushBuffer ? rounded : 0;
    if (!flushBuffer)
      return false;
  }
  return api->fill(flushBuffer.get(), rounded, error);
}

namespace {
/// An event of the device API, destroyed with the mark.
struct EventMark : TimeMark {
  EventMark(std::shared_ptr<DeviceApi> api, void *event) : api(std::move(api)), event(event) {}
  ~EventMark() override { api->destroyEvent(event); }
  std::shared_ptr<DeviceApi> api;
  void *event;
};
} // namespace

std::unique_ptr<TimeMark> DeviceKernelRunner::createTimeMark(std::string &error) {
  if (!api->makeCurrent(error))
    return nullptr;
  void *event = api->createEvent(error);
  if (!event)
    return nullptr;
  return std::make_unique<EventMark>(api, event);
}

bool DeviceKernelRunner::recordTime(TimeMark &mark, std::string &error) {
  auto *event = dynamic_cast<EventMark *>(&mark);
  if (!event || event->api != api) {
    error = "this time mark is not this runtime's";
    return false;
  }
  // The calling thread's context is the launches' (set by createTimeMark
  // and by every launch).
  return api->recordEvent(event->event, error);
}

bool DeviceKernelRunner::elapsedMilliseconds(const TimeMark &start, const TimeMark &end,
                                             double &milliseconds, std::string &error) {
  auto *from = dynamic_cast<const EventMark *>(&start);
  auto *to = dynamic_cast<const EventMark *>(&end);
  if (!from || !to || from->api != api || to->api != api) {
    error = "these time marks are not this runtime's";
    return false;
  }
  return api->eventElapsedMilliseconds(from->event, to->event, milliseconds, error);
}

} // namespace prism::runtime
